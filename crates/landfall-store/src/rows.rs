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

/// The `WHERE` clause of a [`DeviceFilter`] over `devices` (its columns prefixed with `prefix`,
/// e.g. `"d."` in a join): `app_id = $1` and only the conditions the filter sets, numbered from
/// `$2`, with the values to bind after the app id, in order. (A generic `($n IS NULL OR channel =
/// $n)` keeps the planner from using an index on the column: a channel's devices would be a pass
/// over every device of the app.) `search` renders the search condition on its parameter, which
/// holds [`device_search_pattern`]; the engines match substrings differently.
pub fn device_where(
    f: &DeviceFilter,
    prefix: &str,
    search: impl Fn(usize) -> String,
) -> (String, Vec<String>) {
    let mut sql = format!("{prefix}app_id = $1");
    let mut values = Vec::new();
    if let Some(pattern) = device_search_pattern(f) {
        sql.push_str(&format!(" AND {}", search(values.len() + 2)));
        values.push(pattern);
    }
    for (column, value) in [
        ("channel", &f.channel),
        ("version_name", &f.version_name),
        ("platform", &f.platform),
    ] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {prefix}{column} = ${}", values.len() + 2));
            values.push(v.clone());
        }
    }
    (sql, values)
}

/// A count of devices that `device_hours` answers without reading `devices` (a filter on channel
/// and/or bundle, no search, no platform): the statement and the values to bind after the app id.
/// Every device is in exactly one `device_hours` row (its last check-in's hour), kept by triggers
/// in the same transaction as the device, so the sum is the exact count — over a few rows per hour
/// instead of every device of a channel.
pub fn device_hours_count(f: &DeviceFilter) -> Option<(String, Vec<String>)> {
    if f.search.is_some() || f.platform.is_some() {
        return None;
    }
    let mut sql =
        "SELECT CAST(COALESCE(SUM(devices), 0) AS BIGINT) FROM device_hours WHERE app_id = $1"
            .to_owned();
    let mut values = Vec::new();
    for (column, value) in [("channel", &f.channel), ("version_name", &f.version_name)] {
        if let Some(v) = value {
            sql.push_str(&format!(" AND {column} = ${}", values.len() + 2));
            values.push(v.clone());
        }
    }
    Some((sql, values))
}

/// The text a device search looks for: the search without `%` and `_` (see
/// [`device_search_pattern`]).
pub fn device_search_text(f: &DeviceFilter) -> Option<String> {
    f.search.as_ref().map(|s| s.replace(['%', '_'], ""))
}

/// How many devices a listing returns (`limit` 0 = 100).
pub fn device_limit(f: &DeviceFilter) -> i64 {
    i64::from(if f.limit == 0 { 100 } else { f.limit })
}

/// The row → model mappings every SQL backend shares, generated for its row type (the column
/// names and JSON encodings are the same on every engine). Expands to `app_row`, `bundle_row`,
/// `channel_row`, `token_row`, `device_row` and the ICP desk's `filing_row`, `change_row`,
/// `document_row`, `completion_row`, `incident_row`, `setting_row`; the caller imports `sqlx::Row`.
#[macro_export]
macro_rules! sql_row_mappers {
    ($row:ty) => {
        fn app_row(r: &$row) -> $crate::App {
            $crate::App {
                app_id: r.get("app_id"),
                name: r.get("name"),
                created_at: r.get("created_at"),
                settings: $crate::AppSettings {
                    expose_metadata: r.get("expose_metadata"),
                    allow_device_custom_id: r.get("allow_device_custom_id"),
                    download_base_mainland: r.get("download_base_mainland"),
                    download_base_global: r.get("download_base_global"),
                },
            }
        }

        fn bundle_row(r: &$row) -> $crate::StoreResult<Bundle> {
            let variants = $crate::rows::decode_json(r.get::<&str, _>("variants"))?;
            Ok($crate::Bundle {
                id: r.get("id"),
                app_id: r.get("app_id"),
                version: r.get("version"),
                size: r.get::<i64, _>("size") as u64,
                sha256: r.get("sha256"),
                min_update_version: r.get("min_update_version"),
                link: r.get("link"),
                comment: r.get("comment"),
                created_at: r.get("created_at"),
                created_by: r.get("created_by"),
                deleted_at: r.get("deleted_at"),
                variants,
            })
        }

        fn channel_row(r: &$row) -> $crate::StoreResult<Channel> {
            let flags = $crate::rows::decode_json(r.get::<&str, _>("flags"))?;
            let rollout = match r.get::<Option<&str>, _>("rollout") {
                Some(s) => $crate::rows::decode_json(s)?,
                None => None,
            };
            Ok($crate::Channel {
                id: r.get("id"),
                app_id: r.get("app_id"),
                name: r.get("name"),
                flags,
                bundle_id: r.get("bundle_id"),
                rollout,
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
            })
        }

        fn token_row(r: &$row) -> $crate::StoreResult<Token> {
            let scopes = $crate::rows::decode_json(r.get::<&str, _>("scopes"))?;
            Ok($crate::Token {
                id: r.get("id"),
                name: r.get("name"),
                scopes,
                created_at: r.get("created_at"),
                revoked_at: r.get("revoked_at"),
            })
        }

        fn device_row(r: &$row) -> $crate::Device {
            $crate::Device {
                last: $crate::DeviceSeen {
                    app_id: r.get("app_id"),
                    device_id: r.get("device_id"),
                    platform: r.get("platform"),
                    version_build: r.get("version_build"),
                    version_code: r.get("version_code"),
                    version_os: r.get("version_os"),
                    version_name: r.get("version_name"),
                    plugin_version: r.get("plugin_version"),
                    custom_id: r.get("custom_id"),
                    is_emulator: r.get("is_emulator"),
                    is_prod: r.get("is_prod"),
                    install_source: r.get("install_source"),
                    channel: r.get("channel"),
                    key_id: r.get("key_id"),
                    seen_at: r.get("last_seen"),
                },
                first_seen: r.get("first_seen"),
            }
        }

        fn filing_row(r: &$row) -> $crate::StoreResult<$crate::icp::IcpFilingRow> {
            Ok($crate::icp::IcpFilingRow {
                app_id: r.get("app_id"),
                revision: r.get("revision"),
                data: $crate::rows::decode_json(r.get::<&str, _>("data"))?,
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
                updated_by: r.get("updated_by"),
            })
        }

        fn change_row(r: &$row) -> $crate::StoreResult<$crate::icp::RecordChangeRow> {
            Ok($crate::icp::RecordChangeRow {
                id: r.get("id"),
                app_id: r.get("app_id"),
                at: r.get("at"),
                actor: r.get("actor"),
                reason: r.get("reason"),
                sections: $crate::rows::decode_json(r.get::<&str, _>("sections"))?,
                record: $crate::rows::decode_json(r.get::<&str, _>("record"))?,
                change_filing: r.get("change_filing"),
            })
        }

        fn document_row(r: &$row) -> $crate::StoreResult<$crate::icp::IcpDocumentRow> {
            Ok($crate::icp::IcpDocumentRow {
                id: r.get("id"),
                app_id: r.get("app_id"),
                kind: r.get("kind"),
                file_name: r.get("file_name"),
                sha256: r.get("sha256"),
                size: r.get::<i64, _>("size") as u64,
                content_type: r.get("content_type"),
                meta: $crate::rows::decode_json(r.get::<&str, _>("meta"))?,
                created_at: r.get("created_at"),
                created_by: r.get("created_by"),
                updated_at: r.get("updated_at"),
                updated_by: r.get("updated_by"),
                deleted_at: r.get("deleted_at"),
            })
        }

        fn completion_row(r: &$row) -> $crate::StoreResult<$crate::icp::IcpCompletionRow> {
            Ok($crate::icp::IcpCompletionRow {
                id: r.get("id"),
                app_id: r.get("app_id"),
                check: r.get("check_kind"),
                done_on: r.get("done_on"),
                notes: r.get("notes"),
                data: $crate::rows::decode_json(r.get::<&str, _>("data"))?,
                created_at: r.get("created_at"),
                created_by: r.get("created_by"),
            })
        }

        fn incident_row(r: &$row) -> $crate::StoreResult<$crate::icp::IcpIncidentRow> {
            Ok($crate::icp::IcpIncidentRow {
                id: r.get("id"),
                app_id: r.get("app_id"),
                revision: r.get("revision"),
                data: $crate::rows::decode_json(r.get::<&str, _>("data"))?,
                created_at: r.get("created_at"),
                created_by: r.get("created_by"),
                updated_at: r.get("updated_at"),
                updated_by: r.get("updated_by"),
            })
        }

        fn setting_row(r: &$row) -> $crate::StoreResult<$crate::icp::IcpSettingRow> {
            Ok($crate::icp::IcpSettingRow {
                app_id: r.get("app_id"),
                key: r.get("key"),
                value: $crate::rows::decode_json(r.get::<&str, _>("value"))?,
                updated_at: r.get("updated_at"),
                updated_by: r.get("updated_by"),
            })
        }
    };
}
