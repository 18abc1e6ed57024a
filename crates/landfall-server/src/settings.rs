//! `landfall serve` settings: flags > `LANDFALL_*` environment > TOML file > defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

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
