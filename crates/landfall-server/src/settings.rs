//! `landfall serve` settings: flags > `LANDFALL_*` environment > TOML file > defaults.
//!
//! clap resolves flags and environment variables together (a flag wins); whatever neither sets is
//! taken from the TOML file named by `--config`/`LANDFALL_CONFIG`, then from the defaults below.
//! `config/landfall.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::blobs::{BadBlobsUrl, BlobsUrl, S3Credentials};
use crate::store::{BadDatabaseUrl, DatabaseUrl};

/// Default listen address (kept off the ports of common databases and brokers).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default bundle size limit: 256 MiB.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 256 << 20;
/// Default time a client has to send a request's headers, in seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT: u64 = 10;
/// Default longest pause inside a request body, in seconds.
pub const DEFAULT_BODY_READ_TIMEOUT: u64 = 30;
/// Default time an idle keep-alive connection stays open, in seconds.
pub const DEFAULT_IDLE_TIMEOUT: u64 = 60;
/// Default lifetime of presigned download URLs, in seconds.
pub const DEFAULT_PRESIGN_EXPIRY: u64 = 3600;
/// Default age, in seconds, below which an unreferenced blob in a bucket is never collected (it
/// may belong to an upload still in flight on another instance). Local blobs belong to the one
/// server that holds the data directory lock, and are collected at start without a grace period.
pub const DEFAULT_BLOB_GC_GRACE: u64 = 86_400;
/// Default days raw `/stats` events are kept.
pub const DEFAULT_STATS_RETENTION_DAYS: u32 = 90;

/// Where the URLs handed to devices point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DownloadMode {
    /// At Landfall's own `/blobs/` (streamed from disk or bucket, with `Range`).
    #[default]
    Proxy,
    /// At `download_base` (a CDN or public bucket URL in front of `<prefix>/blobs/`).
    Public,
    /// At presigned bucket URLs that expire after `presign_expiry` seconds.
    Presign,
}

/// Who may read the Prometheus `/metrics` endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// `/metrics` answers 404.
    Off,
    /// A bearer token (or session) with read access to every app (`*:read`) is needed.
    #[default]
    Token,
    /// Anyone who can reach the port (put it behind a firewall or a private listener).
    Open,
}

/// Flags of `landfall serve` (each also readable from its `LANDFALL_*` variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "LANDFALL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where the SQLite database and blobs live [default: ./landfall-data].
    #[arg(long, env = "LANDFALL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata database: sqlite://<path> or postgres://user:password@host:5432/db
    /// [default: sqlite://<data-dir>/landfall.db].
    #[arg(
        long,
        env = "LANDFALL_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,
    /// TOML settings file (see config/landfall.example.toml).
    #[arg(long, env = "LANDFALL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Public base URL devices download from, e.g. https://updates.example.cn (default: from the Host header).
    #[arg(long, env = "LANDFALL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Bundle blobs: file:///<dir> or s3://<bucket>/<prefix>?endpoint=https://…&region=…&path_style=false
    /// (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or [s3] in the config file)
    /// [default: file://<data-dir>/blobs].
    #[arg(long, env = "LANDFALL_BLOBS", value_name = "URL")]
    pub blobs: Option<String>,
    /// ICP documents (private in every mode): file:///<dir> or s3://<bucket>/<prefix>
    /// [default: beside the blobs: <data-dir>/icp-documents or <prefix>/icp-documents].
    #[arg(long, env = "LANDFALL_DOCUMENTS", value_name = "URL")]
    pub documents: Option<String>,
    /// Where download URLs handed to devices point [default: proxy].
    #[arg(long, env = "LANDFALL_DOWNLOAD", value_enum)]
    pub download: Option<DownloadMode>,
    /// With --download public: the CDN/public URL that serves <prefix>/blobs/ of the bucket,
    /// e.g. https://cdn.example.cn/landfall/blobs.
    #[arg(long, env = "LANDFALL_DOWNLOAD_BASE", value_name = "URL")]
    pub download_base: Option<String>,
    /// Geo-split delivery: download base for devices inside mainland China (by client address),
    /// e.g. the ICP-filed CDN https://cdn.example.cn/landfall/blobs [default: as --download says].
    #[arg(long, env = "LANDFALL_DOWNLOAD_BASE_MAINLAND", value_name = "URL")]
    pub download_base_mainland: Option<String>,
    /// Geo-split delivery: download base for devices outside mainland China, e.g.
    /// https://cdn.example.com/landfall/blobs [default: as --download says].
    #[arg(long, env = "LANDFALL_DOWNLOAD_BASE_GLOBAL", value_name = "URL")]
    pub download_base_global: Option<String>,
    /// With --download presign: seconds a download URL stays valid [default: 3600].
    #[arg(long, env = "LANDFALL_PRESIGN_EXPIRY", value_name = "SECONDS")]
    pub presign_expiry: Option<u64>,
    /// Reverse proxies/load balancers whose X-Forwarded-For is believed (CIDRs, comma-separated),
    /// e.g. 10.0.0.0/8,127.0.0.1/32 [default: none: the peer address is the client].
    #[arg(
        long,
        env = "LANDFALL_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Unreferenced blobs younger than this many seconds are never collected [default: 86400 for
    /// s3:// blobs, 0 for local ones].
    #[arg(long, env = "LANDFALL_BLOB_GC_GRACE", value_name = "SECONDS")]
    pub blob_gc_grace: Option<u64>,
    /// Days raw `/stats` events are kept; daily rollups and install records stay [default: 90].
    #[arg(long, env = "LANDFALL_STATS_RETENTION_DAYS", value_name = "DAYS")]
    pub stats_retention_days: Option<u32>,
    /// Prometheus `/metrics`: off, token (needs a `*:read` token) or open [default: token].
    #[arg(long, env = "LANDFALL_METRICS", value_enum)]
    pub metrics: Option<MetricsAccess>,
    /// Largest bundle zip accepted, in bytes [default: 268435456].
    #[arg(long, env = "LANDFALL_MAX_BUNDLE_BYTES")]
    pub max_bundle_bytes: Option<u64>,
    /// Seconds a client has to send a request's headers [default: 10].
    #[arg(long, env = "LANDFALL_HEADER_READ_TIMEOUT", value_name = "SECONDS")]
    pub header_read_timeout: Option<u64>,
    /// Longest pause, in seconds, while a request body arrives (an inactivity limit: large uploads
    /// may take as long as they keep sending) [default: 30].
    #[arg(long, env = "LANDFALL_BODY_READ_TIMEOUT", value_name = "SECONDS")]
    pub body_read_timeout: Option<u64>,
    /// Seconds an idle keep-alive connection stays open [default: 60].
    #[arg(long, env = "LANDFALL_IDLE_TIMEOUT", value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
    /// The Ed25519 key release-log exports are signed with (made on first start, mode 0600);
    /// several instances share one file [default: <data-dir>/release-log.key].
    #[arg(long, env = "LANDFALL_RELEASE_LOG_KEY", value_name = "PATH")]
    pub release_log_key: Option<PathBuf>,
}

/// The TOML file (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub public_url: Option<String>,
    pub blobs: Option<String>,
    pub documents: Option<String>,
    pub download: Option<DownloadMode>,
    pub download_base: Option<String>,
    pub download_base_mainland: Option<String>,
    pub download_base_global: Option<String>,
    pub presign_expiry: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub blob_gc_grace: Option<u64>,
    pub stats_retention_days: Option<u32>,
    pub metrics: Option<MetricsAccess>,
    /// Bucket credentials when the AWS environment variables are not set.
    pub s3: Option<S3Credentials>,
    pub max_bundle_bytes: Option<u64>,
    pub header_read_timeout: Option<u64>,
    pub body_read_timeout: Option<u64>,
    pub idle_timeout: Option<u64>,
    pub release_log_key: Option<PathBuf>,
}

/// Connection timeouts (see [`ServeArgs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub header_read: Duration,
    pub body_read: Duration,
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT),
            body_read: Duration::from_secs(DEFAULT_BODY_READ_TIMEOUT),
            idle: Duration::from_secs(DEFAULT_IDLE_TIMEOUT),
        }
    }
}

/// How download URLs are built (see [`crate::delivery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    pub mode: DownloadMode,
    /// Without a trailing slash; set when `mode` is `Public`.
    pub base: Option<String>,
    /// Geo-split bases (without a trailing slash): mainland devices / everyone else.
    pub base_mainland: Option<String>,
    pub base_global: Option<String>,
    pub presign_expiry: Duration,
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Resolved settings (`Debug` never shows the database password: see [`DatabaseUrl`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The metadata engine (the data dir still holds the lock, blobs, staging and ICP documents).
    pub database: DatabaseUrl,
    /// Without a trailing slash.
    pub public_url: Option<String>,
    /// Bundle blobs.
    pub blobs: BlobsUrl,
    /// ICP documents.
    pub documents: BlobsUrl,
    pub delivery: DeliverySettings,
    /// Unreferenced blobs younger than this are never collected.
    pub blob_gc_grace: Duration,
    /// How long raw `/stats` events are kept (rollups stay).
    pub stats_retention: Duration,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    pub max_bundle_bytes: u64,
    pub timeouts: Timeouts,
    /// The release log's signing key file.
    pub release_log_key: PathBuf,
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
    #[error("{0} must be at least 1 second")]
    Timeout(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] BadDatabaseUrl),
    #[error(transparent)]
    Blobs(#[from] BadBlobsUrl),
    #[error("download = \"{0}\" needs the blobs in an S3-compatible bucket (blobs = \"s3://…\"); with local blobs use download = \"proxy\"")]
    DownloadNeedsS3(&'static str),
    #[error("download = \"public\" needs download_base: the CDN or public URL serving <prefix>/blobs/ of the bucket, e.g. https://cdn.example.cn/landfall/blobs")]
    NoDownloadBase,
    #[error("download_base {0:?} must start with http:// or https://")]
    DownloadBase(String),
    #[error("trusted proxy {0:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8)")]
    TrustedProxy(String),
    #[error("presign_expiry must be between 60 seconds and 7 days (S3's limit)")]
    PresignExpiry,
    #[error(transparent)]
    DocumentsPublic(#[from] crate::blobs::BlobsError),
}

impl Settings {
    /// Resolve flags/env over the optional TOML file over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, SettingsError> {
        let file = match &args.config {
            Some(path) => Self::read_file(path)?,
            None => FileSettings::default(),
        };
        let public_url = args.public_url.clone().or_else(|| file.public_url.clone());
        if let Some(u) = &public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(SettingsError::PublicUrl(u.clone()));
            }
        }
        let secs =
            |name: &'static str, flag: Option<u64>, file: Option<u64>, default: u64| match flag
                .or(file)
                .unwrap_or(default)
            {
                0 => Err(SettingsError::Timeout(name)),
                n => Ok(Duration::from_secs(n)),
            };
        let timeouts = Timeouts {
            header_read: secs(
                "header_read_timeout",
                args.header_read_timeout,
                file.header_read_timeout,
                DEFAULT_HEADER_READ_TIMEOUT,
            )?,
            body_read: secs(
                "body_read_timeout",
                args.body_read_timeout,
                file.body_read_timeout,
                DEFAULT_BODY_READ_TIMEOUT,
            )?,
            idle: secs(
                "idle_timeout",
                args.idle_timeout,
                file.idle_timeout,
                DEFAULT_IDLE_TIMEOUT,
            )?,
        };
        let data_dir = args
            .data_dir
            .clone()
            .or_else(|| file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("landfall-data"));
        let database = match args.database.as_deref().or(file.database.as_deref()) {
            Some(raw) => DatabaseUrl::parse(raw)?,
            None => DatabaseUrl::default_for(&data_dir),
        };
        let blobs = match args.blobs.as_deref().or(file.blobs.as_deref()) {
            Some(raw) => BlobsUrl::parse(raw)?,
            None => BlobsUrl::File(data_dir.join("blobs")),
        }
        .with_file_credentials(file.s3.as_ref());
        let documents = match args.documents.as_deref().or(file.documents.as_deref()) {
            Some(raw) => BlobsUrl::parse(raw)?,
            None => crate::blobs::default_documents(&blobs, &data_dir),
        }
        .with_file_credentials(file.s3.as_ref());
        let delivery = Self::delivery(args, &file, &blobs)?;
        crate::blobs::check_documents_private(
            &blobs,
            &documents,
            delivery.mode == DownloadMode::Public,
        )?;
        let blob_gc_grace =
            Duration::from_secs(args.blob_gc_grace.or(file.blob_gc_grace).unwrap_or(
                if blobs.s3().is_some() {
                    DEFAULT_BLOB_GC_GRACE
                } else {
                    0
                },
            ));
        let retention_days = args
            .stats_retention_days
            .or(file.stats_retention_days)
            .unwrap_or(DEFAULT_STATS_RETENTION_DAYS);
        if retention_days == 0 {
            return Err(SettingsError::Invalid(
                "stats_retention_days must be at least 1 (rollups are kept regardless)".into(),
            ));
        }
        let release_log_key = args
            .release_log_key
            .clone()
            .or_else(|| file.release_log_key.clone())
            .unwrap_or_else(|| data_dir.join("release-log.key"));
        Ok(Self {
            release_log_key,
            blobs,
            documents,
            delivery,
            blob_gc_grace,
            stats_retention: Duration::from_secs(u64::from(retention_days) * 86_400),
            metrics: args.metrics.or(file.metrics).unwrap_or_default(),
            timeouts,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default address")),
            data_dir,
            database,
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            max_bundle_bytes: args
                .max_bundle_bytes
                .or(file.max_bundle_bytes)
                .unwrap_or(DEFAULT_MAX_BUNDLE_BYTES),
        })
    }

    fn delivery(
        args: &ServeArgs,
        file: &FileSettings,
        blobs: &BlobsUrl,
    ) -> Result<DeliverySettings, SettingsError> {
        let mode = args.download.or(file.download).unwrap_or_default();
        let url = |flag: &Option<String>, file: &Option<String>| match flag
            .clone()
            .or_else(|| file.clone())
        {
            Some(b) if !(b.starts_with("http://") || b.starts_with("https://")) => {
                Err(SettingsError::DownloadBase(b))
            }
            b => Ok(b.map(|b| b.trim_end_matches('/').to_owned())),
        };
        let base = url(&args.download_base, &file.download_base)?;
        let base_mainland = url(&args.download_base_mainland, &file.download_base_mainland)?;
        let base_global = url(&args.download_base_global, &file.download_base_global)?;
        match mode {
            DownloadMode::Proxy => {}
            DownloadMode::Public | DownloadMode::Presign if blobs.s3().is_none() => {
                return Err(SettingsError::DownloadNeedsS3(match mode {
                    DownloadMode::Public => "public",
                    _ => "presign",
                }))
            }
            DownloadMode::Public if base.is_none() => return Err(SettingsError::NoDownloadBase),
            _ => {}
        }
        let expiry = args
            .presign_expiry
            .or(file.presign_expiry)
            .unwrap_or(DEFAULT_PRESIGN_EXPIRY);
        if !(60..=7 * 86_400).contains(&expiry) {
            return Err(SettingsError::PresignExpiry);
        }
        let trusted_proxies = args
            .trusted_proxies
            .clone()
            .or_else(|| file.trusted_proxies.clone())
            .unwrap_or_default()
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| SettingsError::TrustedProxy(t.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(DeliverySettings {
            mode,
            base,
            base_mainland,
            base_global,
            presign_expiry: Duration::from_secs(expiry),
            trusted_proxies,
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
        assert_eq!(
            s.database,
            DatabaseUrl::Sqlite(PathBuf::from("landfall-data/landfall.db"))
        );
        assert_eq!(s.public_url, None);
        assert_eq!(s.timeouts, Timeouts::default());
        assert_eq!(s.timeouts.header_read, Duration::from_secs(10));
    }

    #[test]
    fn timeouts_flags_beat_file_and_zero_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landfall.toml");
        std::fs::write(&path, "header_read_timeout = 5\nidle_timeout = 90\n").unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            header_read_timeout: Some(2),
            ..Default::default()
        };
        let s = Settings::resolve(&args).unwrap();
        assert_eq!(s.timeouts.header_read, Duration::from_secs(2));
        assert_eq!(s.timeouts.idle, Duration::from_secs(90));
        assert_eq!(s.timeouts.body_read, Duration::from_secs(30));
        let args = ServeArgs {
            body_read_timeout: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            Settings::resolve(&args),
            Err(SettingsError::Timeout("body_read_timeout"))
        ));
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
    fn database_flag_beats_file_and_its_password_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("landfall.toml");
        std::fs::write(
            &path,
            "data_dir = \"/srv/lf\"\ndatabase = \"postgres://lf:filepass@db.internal:5432/landfall\"\n",
        )
        .unwrap();
        let from_file = Settings::resolve(&ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            from_file.database,
            DatabaseUrl::Postgres("postgres://lf:filepass@db.internal:5432/landfall".into())
        );
        let shown = format!("{from_file:?}");
        assert!(!shown.contains("filepass"), "{shown}");
        assert!(
            shown.contains("postgres://db.internal:5432/landfall"),
            "{shown}"
        );
        let s = Settings::resolve(&ServeArgs {
            config: Some(path.clone()),
            database: Some("sqlite://meta/landfall.db".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            s.database,
            DatabaseUrl::Sqlite(PathBuf::from("meta/landfall.db"))
        );
        assert_eq!(s.data_dir, PathBuf::from("/srv/lf"));
        let err = Settings::resolve(&ServeArgs {
            database: Some("mysql://root:flagpass@h/db".into()),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sqlite://<path>") && !err.contains("flagpass"),
            "{err}"
        );
    }

    #[test]
    fn blobs_and_download_settings_are_checked() {
        let s3 = "s3://b/p?endpoint=http://127.0.0.1:3900&region=garage";
        let ok = Settings::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(ok.blobs, BlobsUrl::File("landfall-data/blobs".into()));
        assert_eq!(ok.blob_gc_grace, Duration::ZERO, "local blobs: one owner");
        assert_eq!(ok.delivery.mode, DownloadMode::Proxy);
        let on_s3 = Settings::resolve(&ServeArgs {
            blobs: Some(s3.into()),
            download: Some(DownloadMode::Presign),
            trusted_proxies: Some(vec!["10.0.0.0/8".into(), " 127.0.0.1".into()]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            on_s3.blob_gc_grace,
            Duration::from_secs(DEFAULT_BLOB_GC_GRACE)
        );
        assert_eq!(on_s3.delivery.trusted_proxies.len(), 2);
        assert_eq!(
            on_s3.documents.to_string(),
            "s3://b/p/icp-documents at http://127.0.0.1:3900"
        );
        let refused = |args: ServeArgs, want: &str| {
            let e = Settings::resolve(&args).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        };
        refused(
            ServeArgs {
                download: Some(DownloadMode::Presign),
                ..Default::default()
            },
            "S3-compatible bucket",
        );
        refused(
            ServeArgs {
                blobs: Some(s3.into()),
                download: Some(DownloadMode::Public),
                ..Default::default()
            },
            "needs download_base",
        );
        refused(
            ServeArgs {
                blobs: Some(s3.into()),
                download: Some(DownloadMode::Public),
                download_base: Some("https://cdn.example.cn/p/blobs".into()),
                ..Default::default()
            },
            "private bucket",
        );
        refused(
            ServeArgs {
                trusted_proxies: Some(vec!["10.0.0.0/33".into()]),
                ..Default::default()
            },
            "not an IP address or CIDR",
        );
        refused(
            ServeArgs {
                download_base_mainland: Some("cdn.example.cn".into()),
                ..Default::default()
            },
            "http:// or https://",
        );
        refused(
            ServeArgs {
                blobs: Some("gs://b/p".into()),
                ..Default::default()
            },
            "file:///<dir> or s3://",
        );
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
