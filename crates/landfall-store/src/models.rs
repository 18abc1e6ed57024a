//! Row models shared by every store implementation.

use landfall_core::channel::ChannelFlags;
use serde::{Deserialize, Serialize};

/// An app (one Capacitor `appId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub app_id: String,
    pub name: String,
    pub created_at: i64,
    #[serde(flatten)]
    pub settings: AppSettings,
}

/// Per-app switches (Capgo's names) and download bases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    /// Bundle `link` and `comment` reach devices (default off).
    pub expose_metadata: bool,
    /// The `custom_id` devices send is stored (default on).
    pub allow_device_custom_id: bool,
    /// Geo split for this app: devices in mainland China download from `<base>/<sha256>` (e.g. the
    /// app's ICP-filed CDN); `None` = the server's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_mainland: Option<String>,
    /// The same for devices elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_global: Option<String>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            expose_metadata: false,
            allow_device_custom_id: true,
            download_base_mainland: None,
            download_base_global: None,
        }
    }
}

/// A change to an app's settings; `None` fields stay as they are (`Some(None)` clears a base).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppSettingsPatch {
    pub expose_metadata: Option<bool>,
    pub allow_device_custom_id: Option<bool>,
    pub download_base_mainland: Option<Option<String>>,
    pub download_base_global: Option<Option<String>>,
}

/// A file of a delta manifest as stored: where its bytes live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredManifestFile {
    /// Path in the bundle, with `.br` when the stored bytes are brotli-compressed.
    pub file_name: String,
    /// Plain sha256 hex, or the signed 512-hex hash when encrypted.
    pub file_hash: String,
    /// Content hash of the stored bytes (the blob key).
    pub blob_sha256: String,
    /// Size of the stored bytes.
    pub size: u64,
    /// sha256 hex of the original file (what a device already holding the file has).
    #[serde(default)]
    pub sha256: String,
}

/// One servable form of a bundle (plain, or encrypted with one key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleVariantRow {
    pub key_id: Option<String>,
    /// Content hash of the stored zip (plain or ciphertext); `None` for external or manifest-only.
    pub blob_sha256: Option<String>,
    pub blob_size: Option<u64>,
    pub external_url: Option<String>,
    pub session_key: String,
    pub checksum: String,
    pub manifest: Vec<StoredManifestFile>,
}

/// A bundle to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBundle {
    pub app_id: String,
    pub version: String,
    /// Size of the plain zip.
    pub size: u64,
    /// sha256 hex of the plain zip.
    pub sha256: String,
    pub min_update_version: Option<String>,
    pub link: Option<String>,
    pub comment: Option<String>,
    pub variants: Vec<BundleVariantRow>,
}

/// A stored bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub id: i64,
    pub app_id: String,
    pub version: String,
    pub size: u64,
    pub sha256: String,
    pub min_update_version: Option<String>,
    pub link: Option<String>,
    pub comment: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub deleted_at: Option<i64>,
    pub variants: Vec<BundleVariantRow>,
}

/// A progressive rollout on a channel, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRow {
    /// `None` = builtin.
    pub bundle_id: Option<i64>,
    pub basis_points: u16,
    pub paused: bool,
}

/// A channel to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannel {
    pub app_id: String,
    pub name: String,
    pub flags: ChannelFlags,
    /// `None` = builtin.
    pub bundle_id: Option<i64>,
}

/// A stored channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub app_id: String,
    pub name: String,
    pub flags: ChannelFlags,
    /// `None` = builtin.
    pub bundle_id: Option<i64>,
    pub rollout: Option<RolloutRow>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A change to a channel; `None` fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelChange {
    pub flags: Option<ChannelFlags>,
    /// `Some(None)` = point at builtin.
    pub target: Option<Option<i64>>,
    /// `Some(None)` = end the rollout.
    pub rollout: Option<Option<RolloutRow>>,
    /// Recorded in the history and audit log (`set`, `rollback`, `kill_switch`, …).
    pub reason: String,
}

/// One target change of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHistoryEntry {
    pub id: i64,
    pub channel_id: i64,
    /// `None` = builtin.
    pub bundle_id: Option<i64>,
    pub at: i64,
    pub actor: String,
    pub reason: String,
}

/// The channel stored for one device: an operator's override, or the device's own choice
/// (legacy plugins). One per device; the latest write wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceOverride {
    pub app_id: String,
    pub device_id: String,
    pub channel_id: i64,
    /// When it was set.
    pub created_at: i64,
    /// The operator's actor name, or [`SET_BY_DEVICE`].
    pub set_by: String,
}

/// One entry of the catalog change feed (see [`crate::Store::catalog_changes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogChange {
    /// Gapless, in commit order.
    pub seq: i64,
    pub app_id: String,
    /// Set when only this device's stored channel changed (to `channel_id`, `None` = cleared);
    /// unset when the app's channels, bundles, keys or settings changed (reload the app).
    pub device_id: Option<String>,
    pub channel_id: Option<i64>,
}

/// `set_by` of an assignment the device made itself (`POST /channel_self`, legacy plugins).
pub const SET_BY_DEVICE: &str = "device";

/// One channel move inside an atomic batch ([`crate::Store::update_channels`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMove {
    pub channel_id: i64,
    pub change: ChannelChange,
}

/// Where an upload points a channel (in the same transaction as the bundle insert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointChannel {
    pub name: String,
    /// End a rollout running on the channel (it would otherwise keep serving another bundle).
    pub end_rollout: bool,
}

/// What [`crate::Store::insert_bundle`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedBundle {
    pub bundle: Bundle,
    /// The version already existed with the same bytes (a retried upload): nothing was inserted.
    pub existed: bool,
    /// The channel after the move (created if missing), when one was named.
    pub channel: Option<Channel>,
    /// The channel was created by this call.
    pub channel_created: bool,
}

/// A device check-in to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSeen {
    pub app_id: String,
    pub device_id: String,
    pub platform: String,
    pub version_build: String,
    pub version_code: String,
    pub version_os: String,
    pub version_name: String,
    pub plugin_version: String,
    pub custom_id: String,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub install_source: String,
    /// Channel the device resolved to (empty if none).
    pub channel: String,
    pub key_id: String,
    pub seen_at: i64,
}

/// A recorded device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    #[serde(flatten)]
    pub last: DeviceSeen,
    pub first_seen: i64,
}

/// Filters for listing devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Substring of device id or custom id.
    pub search: Option<String>,
    pub channel: Option<String>,
    pub version_name: Option<String>,
    pub platform: Option<String>,
    pub limit: u32,
}

/// One telemetry event from a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatEvent {
    pub app_id: String,
    pub device_id: String,
    pub action: String,
    pub version_name: String,
    pub old_version_name: String,
    pub platform: String,
    pub plugin_version: String,
    /// Event time from the device (epoch ms), or the receive time.
    pub at: i64,
    pub received_at: i64,
    /// JSON object of string metadata, if any.
    pub metadata: Option<String>,
    /// The device's OS version, as the event reports it.
    pub version_os: String,
    pub custom_id: String,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub key_id: String,
    /// The channel the device checked in on; empty on insert = taken from its last check-in.
    pub channel: String,
}

/// What a stats report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// Events and check-ins from this time (epoch ms) on.
    pub since_ms: i64,
    /// "Now": active devices are those seen in the day / 30 days before it.
    pub now_ms: i64,
    /// Only this bundle's release (else the latest [`StatsQuery::releases`] bundles).
    pub bundle: Option<String>,
    /// Only devices and events of this channel (release install totals stay app-wide).
    pub channel: Option<String>,
    /// How many of the latest bundles to report on.
    pub releases: usize,
}

/// The raw aggregates a stats report is computed from (see `landfall_core::analytics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsData {
    /// Devices seen in the last day / 30 days before `now_ms`.
    pub active_day: u64,
    pub active_month: u64,
    /// Devices seen since `since_ms`, per version they run.
    pub versions: Vec<(String, u64)>,
    pub releases: Vec<ReleaseData>,
    /// Events since `since_ms` (by UTC+8 day), per dimension.
    pub events: Vec<EventCount>,
    /// Downloads Landfall streamed since `since_ms` (by UTC+8 day), per kind.
    pub downloads: Vec<DownloadCount>,
}

/// Bytes streamed from `/blobs/` for one app, day and kind (`full` zip or `delta` file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadCount {
    pub app_id: String,
    /// UTC+8 day number (see `landfall_core::analytics::cst_day`).
    pub day: i64,
    pub kind: String,
    pub requests: u64,
    pub bytes: u64,
}

/// How busy one connection pool is (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// `read`, `write` (SQLite's single writer) or `main`.
    pub name: &'static str,
    /// Open connections.
    pub size: u32,
    /// Open and idle.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// Install counters of one bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseData {
    pub version_name: String,
    /// First time a channel pointed at the bundle, else its upload time; `None` if unknown.
    pub released_at: Option<i64>,
    pub attempted: u64,
    pub installed: u64,
    pub first_try: u64,
    /// Devices that first ran it, per adoption bucket: (bucket start ms, devices).
    pub adoption: Vec<(i64, u64)>,
    /// Install durations histogram: (bucket, devices), see `duration_bucket_range`.
    pub durations: Vec<(i64, u64)>,
}

/// Events of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    pub version_name: String,
    pub action: String,
    pub platform: String,
    pub version_os: String,
    pub plugin_version: String,
    pub events: u64,
}

/// A content change (upload, channel move, rollback, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub app_id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Access level of a token on an app (ordered: read < upload < admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Upload,
    Admin,
}

impl Role {
    /// Parse `read|upload|admin`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "upload" => Some(Self::Upload),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A grant: a role on one app, or on every app (`app = "*"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub app: String,
    pub role: Role,
}

impl Scope {
    /// Parse `APP:ROLE` (APP may be `*`).
    pub fn parse(s: &str) -> Option<Self> {
        let (app, role) = s.rsplit_once(':')?;
        let role = Role::parse(role)?;
        if app != "*" && !landfall_core::names::is_valid_app_id(app) {
            return None;
        }
        Some(Self {
            app: app.to_owned(),
            role,
        })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.role {
            Role::Read => "read",
            Role::Upload => "upload",
            Role::Admin => "admin",
        };
        write!(f, "{}:{role}", self.app)
    }
}

/// A stored API token (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl Token {
    /// Whether this token may act with `role` on `app` (`None` = a server-wide action).
    pub fn allows(&self, app: Option<&str>, role: Role) -> bool {
        self.revoked_at.is_none()
            && self
                .scopes
                .iter()
                .any(|s| s.role >= role && (s.app == "*" || Some(s.app.as_str()) == app))
    }
}

/// A public key registered for an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppKey {
    pub app_id: String,
    pub key_id: String,
    pub public_pem: String,
    pub created_at: i64,
    pub created_by: String,
}
