//! `landfall serve` settings: flags > `LANDFALL_*` environment > TOML file > defaults.
//!
//! clap resolves flags and environment variables together (a flag wins); whatever neither sets is
//! taken from the TOML file named by `--config`/`LANDFALL_CONFIG`, then from the defaults below.
//! `config/landfall.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default listen address (kept off the ports of common databases and brokers).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default bundle size limit: 256 MiB.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 256 << 20;

/// Flags of `landfall serve` (each also readable from its `LANDFALL_*` variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "LANDFALL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where the SQLite database and blobs live [default: ./landfall-data].
    #[arg(long, env = "LANDFALL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML settings file (see config/landfall.example.toml).
    #[arg(long, env = "LANDFALL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Public base URL devices download from, e.g. https://updates.example.cn (default: from the Host header).
    #[arg(long, env = "LANDFALL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest bundle zip accepted, in bytes [default: 268435456].
    #[arg(long, env = "LANDFALL_MAX_BUNDLE_BYTES")]
    pub max_bundle_bytes: Option<u64>,
}

/// The TOML file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    pub max_bundle_bytes: Option<u64>,
}

/// Resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Without a trailing slash.
    pub public_url: Option<String>,
    pub max_bundle_bytes: u64,
}

/// Settings that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is invalid: {1}")]
    Parse(PathBuf, String),
    #[error(
        "public URL {0:?} must start with http:// or https:// (e.g. https://updates.example.cn)"
    )]
    PublicUrl(String),
}

impl Settings {
    /// Resolve flags/env over the optional TOML file over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, SettingsError> {
        let file = match &args.config {
            Some(path) => Self::read_file(path)?,
            None => FileSettings::default(),
        };
        let public_url = args.public_url.clone().or(file.public_url);
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(SettingsError::PublicUrl(u.clone()));
            }
        }
        Ok(Self {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address")),
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("landfall-data")),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            max_bundle_bytes: args
                .max_bundle_bytes
                .or(file.max_bundle_bytes)
                .unwrap_or(DEFAULT_MAX_BUNDLE_BYTES),
        })
    }

    fn read_file(path: &Path) -> Result<FileSettings, SettingsError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| SettingsError::Read(path.to_owned(), e))?;
        toml::from_str(&text).map_err(|e| SettingsError::Parse(path.to_owned(), e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = Settings::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("landfall-data"));
        assert_eq!(s.public_url, None);
    }

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landfall.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/lf\"\npublic_url = \"https://u.example.cn/\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            listen: Some("0.0.0.0:7000".parse().unwrap()),
            ..Default::default()
        };
        let s = Settings::resolve(&args).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(s.data_dir, PathBuf::from("/srv/lf"));
        assert_eq!(s.public_url.as_deref(), Some("https://u.example.cn"));
    }

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../../../config/landfall.example.toml");
        let parsed: FileSettings = toml::from_str(text).unwrap();
        assert!(parsed.listen.is_some());
    }

    #[test]
    fn bad_files_and_urls_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listn = 1").unwrap();
        let args = ServeArgs {
            config: Some(path),
            ..Default::default()
        };
        assert!(matches!(
            Settings::resolve(&args),
            Err(SettingsError::Parse(..))
        ));
        let args = ServeArgs {
            config: Some(dir.path().join("missing.toml")),
            ..Default::default()
        };
        assert!(matches!(
            Settings::resolve(&args),
            Err(SettingsError::Read(..))
        ));
        let args = ServeArgs {
            public_url: Some("updates.example.cn".into()),
            ..Default::default()
        };
        assert!(matches!(
            Settings::resolve(&args),
            Err(SettingsError::PublicUrl(_))
        ));
    }
}
