//! Shared server state handed to every handler.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::HeaderMap;
use landfall_store::blob::BlobStore;
use landfall_store::Store;

use crate::catalog::Catalog;
use crate::recorder::DeviceRecorder;
use crate::settings::Settings;

/// Everything a handler may need.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    /// Where download links handed to devices point.
    pub delivery: crate::delivery::Delivery,
    pub catalog: Catalog,
    pub devices: Arc<DeviceRecorder>,
    /// `/stats` ingestion: budgets and shared commits.
    pub stats: Arc<crate::stats::StatsSink>,
    pub settings: Settings,
    /// Staging directory for uploads (same filesystem as the local blob store).
    pub tmp_dir: PathBuf,
    /// The ICP compliance desk (its store, document blobs, working-day calendar, counters).
    pub icp: crate::icp::IcpState,
    /// Slows repeated failed token checks per source IP.
    pub auth_failures: crate::admin::auth::FailureLimiter,
    /// What `/metrics` exports.
    pub metrics: crate::metrics::Metrics,
    /// Bytes streamed from `/blobs/` not yet in the store's daily rollup.
    pub downloads: crate::download::Tally,
    /// Signs release-log exports.
    pub log_key: Arc<landfall_crypto::release_log::LogSigningKey>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// Base URL for links handed to devices: the configured public URL, or the request's
    /// `X-Forwarded-Proto`/`Host`.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.settings.public_url {
            return u.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned)
            .unwrap_or_else(|| self.settings.listen.to_string());
        let proto = headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .filter(|p| *p == "https" || *p == "http")
            .unwrap_or("http");
        format!("{proto}://{host}")
    }
}
