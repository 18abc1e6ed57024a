//! Request and response bodies of the admin API under `/api/v1`.
//!
//! Routes (all JSON unless noted; bearer token with the scope in brackets):
//!
//! | method & path | body → answer | scope |
//! |---|---|---|
//! | `POST /api/v1/apps` | [`CreateApp`] → [`AppInfo`] | `*:admin` |
//! | `GET /api/v1/apps` | → `Vec<AppInfo>` (apps the token can read) | any |
//! | `GET /api/v1/apps/{app}` | → [`AppInfo`] | read |
//! | `POST /api/v1/apps/{app}/bundles?version=&channel=&min_update_version=&link=&comment=` | raw zip body (`application/zip`, streamed) → [`UploadResult`] | upload |
//! | `POST /api/v1/apps/{app}/bundles?…&session_key=&checksum=&key_id=&delta=true` | ciphertext body, or `multipart/form-data` with parts `signatures` ([`FileSignatures`] JSON) then `bundle` → [`UploadResult`] | upload |
//! | `POST /api/v1/apps/{app}/keys` | [`AddKey`] → [`KeyInfo`] | admin |
//! | `GET /api/v1/apps/{app}/keys` | → `Vec<KeyInfo>` | read |
//! | `DELETE /api/v1/apps/{app}/keys/{key_id}` (key id percent-encoded) | → 204 | admin |
//! | `POST /api/v1/apps/{app}/bundles/external` | [`ExternalBundle`] → [`UploadResult`] | upload |
//! | `GET /api/v1/apps/{app}/bundles` | → `Vec<BundleInfo>` | read |
//! | `GET /api/v1/apps/{app}/bundles/{version}` | → [`BundleInfo`] | read |
//! | `DELETE /api/v1/apps/{app}/bundles/{version}` | → 204 | admin |
//! | `POST /api/v1/apps/{app}/channels` | [`CreateChannel`] → [`ChannelInfo`] | admin |
//! | `GET /api/v1/apps/{app}/channels` | → `Vec<ChannelInfo>` | read |
//! | `GET /api/v1/apps/{app}/channels/{name}` | → [`ChannelInfo`] | read |
//! | `PATCH /api/v1/apps/{app}/channels/{name}` | [`UpdateChannel`] → [`ChannelInfo`] | upload (target only) / admin |
//! | `POST /api/v1/apps/{app}/channels/{name}/rollback` | [`Rollback`] → [`ChannelInfo`] | upload |
//! | `GET /api/v1/apps/{app}/channels/{name}/history` | → `Vec<HistoryEntry>` | read |
//! | `GET /api/v1/apps/{app}/devices?search=&channel=&version=&platform=&limit=` | → `Vec<DeviceInfo>` | read |
//! | `PUT /api/v1/apps/{app}/devices/{device_id}/override` | [`SetOverride`] → [`OverrideInfo`] | admin |
//! | `DELETE /api/v1/apps/{app}/devices/{device_id}/override` | → 204 | admin |
//! | `GET /api/v1/apps/{app}/audit?from=&to=` (epoch ms) | → `Vec<AuditInfo>` | read |
//! | `POST /api/v1/tokens` | [`CreateToken`] → [`TokenCreated`] | `*:admin` |
//! | `GET /api/v1/tokens` | → `Vec<TokenInfo>` | `*:admin` |
//! | `DELETE /api/v1/tokens/{id}` | → 204 | `*:admin` |
//! | `POST /api/v1/session` | [`SignIn`] → [`SessionInfo`] + `landfall_session` cookie | none |
//! | `GET /api/v1/session` | → [`SessionInfo`] | session cookie |
//! | `DELETE /api/v1/session` | → 204 (the cookie expired) | session cookie |
//! | `DELETE /api/v1/session/all` | → 204 (every session of the user ends) | session cookie |
//! | `POST /api/v1/session/password` | [`ChangePassword`] → 204 | session cookie |
//! | `GET /api/v1/users` | → `Vec<UserInfo>` | `*:admin` |
//! | `POST /api/v1/users` | [`CreateUser`] → [`UserInfo`] (201) | `*:admin` |
//! | `PATCH /api/v1/users/{username}` | [`UpdateUser`] → [`UserInfo`] | `*:admin` |
//! | `POST /api/v1/users/{username}/password` | [`SetPassword`] → 204 | `*:admin` |
//! | `GET /api/v1/openapi.json` | → OpenAPI 3.1 document | none |
//!
//! Every error is [`ApiError`] `{"error": "<stable_code>", "message": "<what to do>"}` with a 4xx/5xx status.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/v1/limits`: what this server accepts (clients check before they upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServerLimits {
    /// Largest bundle upload, in bytes (`--max-bundle-bytes`).
    pub max_bundle_bytes: u64,
    /// Largest JSON request body, in bytes.
    pub max_json_body_bytes: u64,
}

/// The error body of every failed admin call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `app_not_found`, `version_exists`, `invalid_zip`.
    pub error: String,
    /// What went wrong and what to do about it.
    pub message: String,
}

/// `POST /apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateApp {
    /// Capacitor appId, e.g. `com.example.app`.
    pub app_id: String,
    /// Display name (defaults to the app id).
    #[serde(default)]
    pub name: Option<String>,
}

/// An app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppInfo {
    pub app_id: String,
    pub name: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Bundle `link` and `comment` reach devices (Capgo's `expose_metadata`; default off).
    #[serde(default)]
    pub expose_metadata: bool,
    /// The `custom_id` devices send is stored (Capgo's `allow_device_custom_id`; default on).
    #[serde(default = "yes")]
    pub allow_device_custom_id: bool,
    /// Download base for devices in mainland China (geo split; absent = the server's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_mainland: Option<String>,
    /// Download base for devices elsewhere (absent = the server's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_global: Option<String>,
    /// `/stats` events of this app dropped over the per-device or per-app budget since the server
    /// started (devices are never refused; excess telemetry is dropped and counted here).
    #[serde(default)]
    pub stats_dropped: u64,
}

fn yes() -> bool {
    true
}

/// `PATCH /apps/{app}`: change the app's switches (absent = unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateApp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose_metadata: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_device_custom_id: Option<bool>,
    /// `https://…` base serving `<sha256>` for devices in mainland China; `""` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_mainland: Option<String>,
    /// The same for devices elsewhere; `""` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_base_global: Option<String>,
}

/// Query of `POST /apps/{app}/bundles` (the body is the zip).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UploadParams {
    /// Semantic version, unique per app forever.
    pub version: String,
    /// Point this channel at the new bundle (created if missing; an app's first channel is public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// For channels with `disable_auto_update = version_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_update_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Encrypted upload: `base64(iv):base64(rsa)` (`ivSessionKey` of `capgo bundle encrypt`).
    /// The body is then the ciphertext; the server checks it with the app's registered public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Encrypted upload: the V3 signed checksum (512 hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Encrypted upload: which registered key signed it (optional; tried in turn otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Also build a delta (per-file manifest) for plugins that support it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delta: bool,
}

/// Multipart part `signatures` of an encrypted delta upload: bundle path → V3 signed sha256 of
/// that file (as `build_manifest` makes them with the private key). The `bundle` part follows.
pub type FileSignatures = std::collections::BTreeMap<String, String>;

/// What a delta upload costs devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeltaInfo {
    /// Files in the manifest.
    pub files: usize,
    /// Bytes of all stored delta files.
    pub stored_bytes: u64,
    /// Version a device is assumed to run (the channel's previous bundle, else the latest upload).
    pub previous_version: Option<String>,
    /// Files a device on `previous_version` already has.
    pub reused_files: usize,
    /// Bytes a device on `previous_version` downloads through the manifest.
    pub download_bytes_from_previous: u64,
    /// Bytes of the full zip, for comparison.
    pub full_zip_bytes: u64,
}

/// `POST /apps/{app}/keys`: register a public key (PKCS#1 PEM, `.capgo_key_v2.pub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddKey {
    pub public_key: String,
}

/// A registered public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyInfo {
    pub key_id: String,
    pub public_key: String,
    pub created_at: i64,
}

/// `POST /apps/{app}/bundles/external`: a bundle hosted elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExternalBundle {
    pub version: String,
    /// HTTPS URL devices download the zip from.
    pub url: String,
    /// sha256 hex of the zip (or the signed checksum when `session_key` is set).
    pub checksum: String,
    /// Size in bytes, if known.
    #[serde(default)]
    pub size: Option<u64>,
    /// `iv:key` from `capgo bundle encrypt`, for encrypted bundles.
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub min_update_version: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BundleInfo {
    pub version: String,
    /// Bytes of the zip.
    pub size: u64,
    /// sha256 hex of the plain zip.
    pub sha256: String,
    pub created_at: i64,
    pub created_by: String,
    pub min_update_version: Option<String>,
    pub link: Option<String>,
    pub comment: Option<String>,
    /// Key ids this bundle is signed with (empty = plain).
    pub key_ids: Vec<String>,
    /// Set for bundles hosted elsewhere.
    pub external_url: Option<String>,
    /// Number of files in the delta manifest (0 = no delta).
    pub manifest_files: usize,
}

/// Answer of an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UploadResult {
    pub bundle: BundleInfo,
    /// The channel now serving it, if `channel` was given.
    pub channel: Option<ChannelInfo>,
    /// Things worth a look that did not stop the upload.
    pub warnings: Vec<String>,
    /// Delta report, when a manifest was built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<DeltaInfo>,
    /// The same version with the same content was already stored (a retried upload): nothing new
    /// was stored, and the channel (if given) points at it.
    #[serde(default)]
    pub already_uploaded: bool,
}

/// Capgo channel flags; every field optional in requests (absent = unchanged / Capgo default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelFlagsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_device_self_set: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub electron: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_emulator: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_device: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_dev: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_prod: Option<bool>,
    /// `none|major|minor|patch|version_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_auto_update: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_auto_update_under_native: Option<bool>,
}

/// Every flag of a channel, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChannelFlagsInfo {
    pub public: bool,
    pub allow_device_self_set: bool,
    pub ios: bool,
    pub android: bool,
    pub electron: bool,
    pub allow_emulator: bool,
    pub allow_device: bool,
    pub allow_dev: bool,
    pub allow_prod: bool,
    pub disable_auto_update: String,
    pub disable_auto_update_under_native: bool,
}

/// A progressive rollout of a second bundle on a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RolloutInfo {
    /// Version or `builtin`.
    pub bundle: String,
    /// 0–100, two decimals. At 0 the rollout is off: every device gets the channel's bundle.
    pub percent: f64,
    pub paused: bool,
    /// In answers: how many known devices on the channel run the rollout bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices_on_bundle: Option<u64>,
}

/// A channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChannelInfo {
    pub id: i64,
    pub name: String,
    /// Version served, or `builtin`.
    pub bundle: String,
    pub flags: ChannelFlagsInfo,
    pub rollout: Option<RolloutInfo>,
    /// Known devices whose latest update check this channel answered: the devices a move of the
    /// channel (a new bundle, a rollout, a rollback) reaches. As stored: check-ins reach the store
    /// in the recorder's next round (about a second).
    #[serde(default)]
    pub devices: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// In answers to a change: what devices on this channel get now, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// In answers to a change: the rollout the change ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_rollout: Option<RolloutInfo>,
}

/// `POST /apps/{app}/channels`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateChannel {
    pub name: String,
    /// Version to serve, or `builtin` (default).
    #[serde(default)]
    pub bundle: Option<String>,
    #[serde(default)]
    pub flags: ChannelFlagsPatch,
}

/// `PATCH /apps/{app}/channels/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UpdateChannel {
    /// Version to serve, or `builtin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    #[serde(default)]
    pub flags: ChannelFlagsPatch,
    /// Start or change a rollout (`percent` 0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutInfo>,
    /// End the rollout.
    #[serde(default)]
    pub end_rollout: bool,
}

/// `POST /apps/{app}/channels/{name}/rollback`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rollback {
    /// `builtin`, a version, or absent for "the bundle served before".
    #[serde(default)]
    pub to: Option<String>,
}

/// One target change of a channel (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// Version or `builtin`.
    pub bundle: String,
    pub at: i64,
    pub actor: String,
    pub reason: String,
}

/// A device that checked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceInfo {
    pub device_id: String,
    pub custom_id: String,
    pub platform: String,
    pub version_name: String,
    pub version_build: String,
    pub version_code: String,
    pub version_os: String,
    pub plugin_version: String,
    pub is_emulator: bool,
    pub is_prod: bool,
    pub install_source: String,
    /// Channel the device resolved to at its last check.
    pub channel: String,
    /// Channel stored for the device, if any: an operator's override, or (plugins older than
    /// 5.34/6.34/7.34) the device's own choice.
    pub override_channel: Option<String>,
    /// Who stored it: the operator's token name, or `device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_set_by: Option<String>,
    /// When it was stored (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_at: Option<i64>,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Answer of `GET /apps/{app}/devices/{device_id}/explain`: the update decision for the device as
/// it last checked in, replayed rule by rule against the channels as they are now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceExplanation {
    /// The device as it last checked in.
    pub device: DeviceInfo,
    /// The channel it resolves to (null when none: `answer` says why).
    pub channel: Option<String>,
    /// Why that channel: `override` (an operator forced it), `device_choice` (the device asked
    /// for it) or `public` (the app's public channel for its platform).
    pub channel_rule: Option<String>,
    /// The channel's own bundle (`builtin` for the binary's).
    pub channel_bundle: Option<String>,
    /// The channel's rollout, when above 0 %.
    pub rollout: Option<ExplainedRollout>,
    /// The bundle the channel and the rollout chose.
    pub target: Option<String>,
    /// `update`, `revert_to_builtin` or `no_update`.
    pub answer: String,
    /// With `update`: the bundle sent.
    pub bundle: Option<String>,
    /// With `no_update`: Capgo's error code, kind (`up_to_date`, `blocked`, `failed`) and message —
    /// the rule that answered (e.g. a channel flag that blocked it).
    pub error: Option<String>,
    pub kind: Option<String>,
    pub message: Option<String>,
}

/// A rollout as one device sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExplainedRollout {
    pub bundle: String,
    pub percent: f64,
    pub paused: bool,
    /// The device's sticky bucket in 0..10000.
    pub bucket: u16,
    /// The bucket must be below this (the share in basis points) to be chosen.
    pub threshold: u16,
    /// The device already runs the rollout's bundle (it keeps it).
    pub already_on: bool,
    pub chosen: bool,
}

/// `PUT /apps/{app}/devices/{device_id}/override`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SetOverride {
    pub channel: String,
}

/// A device override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OverrideInfo {
    pub device_id: String,
    pub channel: String,
    /// Who stored the assignment (the operator's token name, or `device`).
    #[serde(default)]
    pub set_by: String,
    /// When (epoch ms).
    #[serde(default)]
    pub at: i64,
    /// The assignment this one replaced, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<ReplacedOverride>,
}

/// A stored device assignment that a new one replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplacedOverride {
    pub channel: String,
    /// The operator's token name, or `device`.
    pub set_by: String,
    /// Epoch ms.
    pub at: i64,
}

/// A content change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditInfo {
    pub at: i64,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// One entry of the release log (`GET /log`): an audited change, hash-chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogEntryInfo {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The app, or `*` for server-wide changes (tokens, users).
    pub app_id: String,
    /// When (ms since the epoch).
    pub at: i64,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Hash of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash: sha256 over the previous hash and this entry's fields.
    pub hash: String,
}

/// Answer of `GET /log/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogVerification {
    /// Whether every entry from the first to the recorded head is present, unchanged and linked.
    pub intact: bool,
    /// Entries verified (up to the first problem).
    pub entries: i64,
    /// The recorded head.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem found, if any.
    pub problem: Option<LogProblem>,
}

/// Where the release log breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogProblem {
    /// `modified`, `missing`, `not_linked`, `outside_chain`, `truncated`, `head_mismatch`,
    /// `checkpoint_mismatch` or `checkpoint_missing`.
    pub code: String,
    /// The first bad entry, when one can be named.
    pub seq: Option<i64>,
    /// What happened, in words.
    pub message: String,
}

/// Answer of `GET /log/public-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LogPublicKey {
    /// `ed25519:<base64>`: what `landfall log verify --file F --public-key K` checks exports with.
    pub public_key: String,
}

/// `POST /tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateToken {
    pub name: String,
    /// `APP:ROLE` with ROLE `read|upload|admin` and APP an app id or `*`.
    pub scopes: Vec<String>,
}

/// A token (the secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Answer of `POST /tokens`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

/// A role granted to a user on one app id or on `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    /// An app id, or `*` for every app.
    pub app: String,
    /// `viewer` (read), `releaser` (upload and channel moves) or `admin`.
    pub role: String,
}

/// A person who signs in (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    pub username: String,
    pub roles: Vec<RoleGrant>,
    pub created_at: i64,
    /// When the user was disabled (absent while enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<i64>,
}

/// `POST /session`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// Answer of `POST`/`GET /session`. The secret travels only in the `landfall_session` cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    pub user: UserInfo,
    /// Send as `X-CSRF-Token` with every request other than GET/HEAD/OPTIONS.
    pub csrf_token: String,
    /// When the session ends at the latest (epoch ms); 12 h without use end it sooner.
    pub expires_at: i64,
}

/// `POST /session/password`: change one's own password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current: String,
    pub new: String,
}

/// `POST /users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateUser {
    pub username: String,
    /// At least 10 characters.
    pub password: String,
    pub roles: Vec<RoleGrant>,
}

/// `PATCH /users/{username}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateUser {
    /// Replaces every grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleGrant>>,
    /// `true` disables the user and ends its sessions; `false` enables it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `POST /users/{username}/password`: an admin sets a user's password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SetPassword {
    pub password: String,
}

macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* } hides { $($secret:ident),* }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    $(.field(stringify!($secret), &"<redacted>"))*
                    .finish()
            }
        }
    };
}
redacted_debug!(SignIn { username } hides { password });
redacted_debug!(ChangePassword {} hides { current, new });
redacted_debug!(CreateUser { username, roles } hides { password });
redacted_debug!(SetPassword {} hides { password });

/// Answer of `GET /apps/{app}/stats`: release metrics (see ARCHITECTURE.md, "Release analytics").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatsReport {
    pub app_id: String,
    /// When the report was computed (epoch ms): every number is as of this time.
    pub generated_at: i64,
    /// Events and check-ins counted from this time (epoch ms).
    pub since: i64,
    /// The channel the report is limited to, if any.
    pub channel: Option<String>,
    pub active_devices: ActiveDevices,
    /// Devices seen since `since`, per version they run (most first).
    pub versions: Vec<VersionShare>,
    /// The latest bundles (newest first), or the one asked for.
    pub releases: Vec<ReleaseStats>,
    pub failures: FailureBreakdown,
    /// Health signals (`app_crash`, `app_anr`, WebView errors…) since `since`, most first.
    pub health: Vec<ActionCount>,
    /// What Landfall streamed from `/blobs/` since `since` (by UTC+8 day; not what a CDN or
    /// presigned bucket URLs served).
    pub bytes_served: BytesServed,
}

/// Downloads by kind: whole bundle zips and per-file delta downloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BytesServed {
    pub full: Transfer,
    pub delta: Transfer,
}

/// Responses with a body and the bytes they sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Transfer {
    pub requests: u64,
    pub bytes: u64,
}

/// Devices seen in the last day and the last 30 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActiveDevices {
    pub day: u64,
    pub month: u64,
}

/// A version and the devices running it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionShare {
    pub version_name: String,
    pub devices: u64,
    /// Of the devices seen since `since` (0..1).
    pub share: f64,
}

/// One release's adoption and install health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseStats {
    pub version_name: String,
    /// First time a channel served it, else its upload time (epoch ms); null if unknown.
    pub released_at: Option<i64>,
    /// Devices that ever ran it.
    pub devices: u64,
    /// Cumulative devices that ran it, per 10 minutes with new devices (epoch ms of the bucket's end).
    pub adoption: Vec<AdoptionPoint>,
    /// Time from `released_at` until 50 / 90 / 95 % of the devices active in the last 30 days had
    /// run it (ms); null while not reached.
    pub time_to: Milestones,
    pub installs: InstallCounts,
    /// Download start → running, per device (ms; upper bound of the histogram bucket).
    pub install_duration_ms: Milestones,
    /// Failure events naming this release since `since`, most first.
    pub failures: Vec<ActionCount>,
    /// Automatic client rollbacks (`update_fail`: the bundle did not call `notifyAppReady()`).
    pub rollbacks: u64,
}

/// A point of an adoption curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdoptionPoint {
    pub at: i64,
    pub devices: u64,
    /// Of the devices active in the last 30 days (0..1; above 1 when devices went inactive).
    pub share: f64,
}

/// The 50th / 90th / 95th percentile of something (ms), null when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Milestones {
    pub p50: Option<i64>,
    pub p90: Option<i64>,
    pub p95: Option<i64>,
}

/// Install attempts of a release and how they ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstallCounts {
    /// Devices that started downloading, failed or ran it.
    pub attempted: u64,
    /// Devices that ran it.
    pub succeeded: u64,
    /// Devices that ran it without a failure before.
    pub first_try: u64,
    /// `succeeded / attempted`, null without attempts.
    pub success_rate: Option<f64>,
    /// `first_try / succeeded`, null without successes.
    pub first_try_rate: Option<f64>,
}

/// Failure events since `since`, by dimension (most first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FailureBreakdown {
    pub by_action: Vec<KeyCount>,
    pub by_platform: Vec<KeyCount>,
    pub by_os: Vec<KeyCount>,
    pub by_plugin: Vec<KeyCount>,
}

/// A count under a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyCount {
    pub key: String,
    pub events: u64,
}

/// Events of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionCount {
    pub action: String,
    pub events: u64,
}
