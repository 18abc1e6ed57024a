//! Backend-neutral row helpers every SQL store shares: JSON column encoding, the `Conflict`
//! messages people read, and the meaning of a [`DeviceFilter`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{DeviceFilter, StoreError};

/// Wrap a backend failure.
pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Decode a JSON column (`Backend` if it does not parse: the store wrote it).
pub fn decode_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(backend)
}

/// Encode a JSON column.
pub fn encode_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// `Conflict` messages, identical across backends.
pub mod msg {
    pub fn app_exists(app_id: &str) -> String {
        format!("app {app_id} already exists")
    }

    pub fn key_exists(app_id: &str, key_id: &str) -> String {
        format!("key {key_id} is already registered for {app_id}")
    }

    pub fn version_exists(app_id: &str, version: &str) -> String {
        format!(
            "version {version} already exists in {app_id} (version names are immutable: upload a new version)"
        )
    }

    pub fn version_other_content(app_id: &str, version: &str, deleted: bool) -> String {
        format!(
            "version {version} already exists in {app_id} with other content{} (version names are \
             immutable: upload a new version)",
            if deleted { ", deleted" } else { "" }
        )
    }

    pub fn channel_exists(app_id: &str, name: &str) -> String {
        format!("channel {name} already exists in {app_id}")
    }

    pub fn bundle_served(version: &str, channel: &str) -> String {
        format!(
            "bundle {version} is served by channel {channel}; point the channel elsewhere first"
        )
    }
}

/// The `LIKE` pattern of a device search: a substring of the device id or custom id, matched
/// case-insensitively for ASCII (SQLite's `LIKE`; PostgreSQL uses `ILIKE`). `%` and `_` in the
/// search are dropped, not interpreted.
pub fn device_search_pattern(f: &DeviceFilter) -> Option<String> {
    f.search
        .as_ref()
        .map(|s| format!("%{}%", s.replace(['%', '_'], "")))
}

/// How many devices a listing returns (`limit` 0 = 100).
pub fn device_limit(f: &DeviceFilter) -> i64 {
    i64::from(if f.limit == 0 { 100 } else { f.limit })
}
