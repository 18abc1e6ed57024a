//! Typed HTTP client for Landfall's admin API (`/api/v1`), one method per route of the table in
//! [`landfall_api_types`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), landfall_client::Error> {
//! use landfall_client::{Client, UploadParams};
//! let client = Client::new("http://127.0.0.1:8080", Some("lf_secret".to_owned()))?;
//! let params = UploadParams { version: "1.0.1".into(), channel: Some("production".into()), ..Default::default() };
//! let result = client
//!     .upload_bundle("com.example.app", &params, "dist.zip".as_ref(), |sent| eprintln!("{sent} bytes"))
//!     .await?;
//! println!("{} {}", result.bundle.version, result.bundle.sha256);
//! # Ok(()) }
//! ```

mod error;
pub mod icp;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

pub use error::{Error, ErrorKind};
pub use landfall_api_types::{
    AddKey, ApiError, AppInfo, AuditInfo, BundleInfo, ChannelFlagsInfo, ChannelFlagsPatch,
    ChannelInfo, CreateApp, CreateChannel, CreateToken, DeltaInfo, DeviceInfo, ExternalBundle,
    FileSignatures, HistoryEntry, KeyInfo, OverrideInfo, ReplacedOverride, RoleGrant, Rollback,
    RolloutInfo, ServerLimits, SessionInfo, SetOverride, SetPassword, SignIn, StatsReport,
    TokenCreated, TokenInfo, UpdateApp, UpdateChannel, UpdateUser, UploadParams, UploadResult,
    UserInfo,
};
pub use landfall_api_types::{ChangePassword, CreateUser};
pub use landfall_api_types::{DeviceExplanation, ExplainedRollout};
pub use landfall_api_types::{LogEntryInfo, LogProblem, LogPublicKey, LogVerification};

fn too_large(path: &Path, len: u64, max: u64) -> Error {
    Error::Api {
        status: 413,
        code: "bundle_too_large".into(),
        message: format!(
            "{} is {len} bytes, larger than the server accepts ({max} bytes); raise the server's \
             limit (landfall serve --max-bundle-bytes / LANDFALL_MAX_BUNDLE_BYTES) or make the bundle smaller",
            path.display()
        ),
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Options of `GET /api/v1/apps/{app}/stats` (every field optional).
///
/// Not part of `landfall-api-types` (the server reads them as query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsQuery {
    /// `30d`, `12h`, `90m` or epoch ms (the server's default: 30d).
    pub since: Option<String>,
    /// Only this bundle's release.
    pub bundle: Option<String>,
    /// Only devices and events of this channel.
    pub channel: Option<String>,
    /// How many of the latest releases.
    pub releases: Option<usize>,
}

/// Filters of `GET /api/v1/apps/{app}/devices` (every field optional).
///
/// Not part of `landfall-api-types` (the server reads them as query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceQuery {
    /// Substring of the device id or custom id.
    pub search: Option<String>,
    /// Only devices that resolved to this channel.
    pub channel: Option<String>,
    /// Only devices running this bundle version.
    pub version: Option<String>,
    /// `ios`, `android` or `electron`.
    pub platform: Option<String>,
    /// At most this many devices.
    pub limit: Option<u32>,
}

/// Read-buffer size used when streaming an upload.
const UPLOAD_CHUNK: usize = 64 * 1024;

/// A client for one Landfall server. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
    /// A signed-in session instead of a token: the cookie's value and the CSRF token.
    session: Option<(String, String)>,
}

/// Name of the session cookie `POST /api/v1/session` sets.
pub const SESSION_COOKIE: &str = "landfall_session";

/// Answer of [`Client::sign_in`]: the session and the cookie's value (its secret).
#[derive(Clone)]
pub struct SignedIn {
    pub info: SessionInfo,
    pub cookie: String,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("info", &self.info)
            .field("cookie", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("session", &self.session.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`, or a URL with a path
    /// prefix behind a reverse proxy), authenticating with the bearer `token` when given.
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self> {
        let invalid = |cause: &str| Error::InvalidUrl {
            url: base_url.to_owned(),
            cause: cause.to_owned(),
        };
        let base = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("expected a URL like http://host:8080"));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("landfall-client/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        let token = token.filter(|t| !t.trim().is_empty());
        Ok(Self {
            http,
            base,
            token,
            session: None,
        })
    }

    /// This client acting as a signed-in user: every request carries the session cookie and,
    /// as the server requires for anything but GET/HEAD/OPTIONS, the `X-CSRF-Token`.
    pub fn with_session(mut self, signed_in: &SignedIn) -> Self {
        self.token = None;
        self.session = Some((signed_in.cookie.clone(), signed_in.info.csrf_token.clone()));
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    // ---- apps -----------------------------------------------------------------------------

    /// `POST /api/v1/apps`.
    pub async fn create_app(&self, body: &CreateApp) -> Result<AppInfo> {
        let url = self.api(&["apps"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/apps`: the apps the token can read.
    pub async fn list_apps(&self) -> Result<Vec<AppInfo>> {
        self.json(self.req(Method::GET, self.api(&["apps"]))).await
    }

    /// `GET /api/v1/apps/{app}`.
    pub async fn get_app(&self, app: &str) -> Result<AppInfo> {
        self.json(self.req(Method::GET, self.api(&["apps", app])))
            .await
    }

    /// `PATCH /api/v1/apps/{app}`: change the app's switches.
    pub async fn update_app(&self, app: &str, body: &UpdateApp) -> Result<AppInfo> {
        let url = self.api(&["apps", app]);
        self.json(self.req(Method::PATCH, url).json(body)).await
    }

    // ---- keys -----------------------------------------------------------------------------

    /// `POST /api/v1/apps/{app}/keys`: registers a public key (PKCS#1 PEM); from then on the
    /// app's uploads must be encrypted and signed.
    pub async fn add_key(&self, app: &str, body: &AddKey) -> Result<KeyInfo> {
        let url = self.api(&["apps", app, "keys"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/keys`.
    pub async fn list_keys(&self, app: &str) -> Result<Vec<KeyInfo>> {
        let url = self.api(&["apps", app, "keys"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `DELETE /api/v1/apps/{app}/keys/{key_id}`.
    pub async fn remove_key(&self, app: &str, key_id: &str) -> Result<()> {
        let url = self.api(&["apps", app, "keys", key_id]);
        self.empty(self.req(Method::DELETE, url)).await
    }

    // ---- bundles --------------------------------------------------------------------------

    /// `POST /api/v1/apps/{app}/bundles`: streams the zip (or, with `params.session_key`, the
    /// ciphertext) at `zip_path` as the request body, never holding it in memory, calling
    /// `progress` with the total bytes sent so far.
    pub async fn upload_bundle<F>(
        &self,
        app: &str,
        params: &UploadParams,
        zip_path: &Path,
        progress: F,
    ) -> Result<UploadResult>
    where
        F: Fn(u64) + Send + Sync + 'static,
    {
        self.upload_bundle_signed(app, params, zip_path, None, progress)
            .await
    }

    /// Like [`Client::upload_bundle`]; with `signatures` (an encrypted delta upload: bundle path →
    /// V3 signed sha256 of that file) the body is `multipart/form-data` with the parts
    /// `signatures` then `bundle`, still streamed.
    pub async fn upload_bundle_signed<F>(
        &self,
        app: &str,
        params: &UploadParams,
        zip_path: &Path,
        signatures: Option<&FileSignatures>,
        progress: F,
    ) -> Result<UploadResult>
    where
        F: Fn(u64) + Send + Sync + 'static,
    {
        let file_err = |source| Error::File {
            path: zip_path.to_owned(),
            source,
        };
        let file = tokio::fs::File::open(zip_path).await.map_err(file_err)?;
        let len = file.metadata().await.map_err(file_err)?.len();
        // A server refuses an oversized upload with 413 and closes the connection mid-stream,
        // which a client would only see as a broken pipe: check the limit first. (A server
        // without the limits route answers 404; then the upload itself decides.)
        if let Ok(limits) = self.limits().await {
            if len > limits.max_bundle_bytes {
                return Err(too_large(zip_path, len, limits.max_bundle_bytes));
            }
        }

        let mut url = self.api(&["apps", app, "bundles"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("version", &params.version);
            for (key, value) in [
                ("channel", &params.channel),
                ("min_update_version", &params.min_update_version),
                ("link", &params.link),
                ("comment", &params.comment),
                ("session_key", &params.session_key),
                ("checksum", &params.checksum),
                ("key_id", &params.key_id),
            ] {
                if let Some(value) = value {
                    q.append_pair(key, value);
                }
            }
            if params.delta {
                q.append_pair("delta", "true");
            }
        }

        let mut sent = 0u64;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK).map(
            move |chunk: std::io::Result<bytes::Bytes>| {
                if let Ok(bytes) = &chunk {
                    sent += bytes.len() as u64;
                    progress(sent);
                }
                chunk
            },
        );
        let body = reqwest::Body::wrap_stream(stream);
        let req = self.req(Method::POST, url);
        let req = match signatures {
            None => req
                .header(CONTENT_TYPE, HeaderValue::from_static("application/zip"))
                .header(CONTENT_LENGTH, len)
                .body(body),
            Some(signatures) => {
                let json = serde_json::to_string(signatures).map_err(|e| Error::Transport {
                    url: self.origin(),
                    cause: format!("cannot encode the signatures: {e}"),
                })?;
                let sig_part = reqwest::multipart::Part::text(json)
                    .mime_str("application/json")
                    .map_err(|e| Error::from_reqwest(e, &self.origin()))?;
                let bundle_part = reqwest::multipart::Part::stream_with_length(body, len)
                    .file_name("bundle.zip")
                    .mime_str("application/octet-stream")
                    .map_err(|e| Error::from_reqwest(e, &self.origin()))?;
                let form = reqwest::multipart::Form::new()
                    .part("signatures", sig_part)
                    .part("bundle", bundle_part);
                req.multipart(form)
            }
        };
        match self.json(req).await {
            // The stream broke: if the server's limit explains it, say so.
            Err(Error::Transport { url, cause }) => match self.limits().await {
                Ok(limits) if len > limits.max_bundle_bytes => {
                    Err(too_large(zip_path, len, limits.max_bundle_bytes))
                }
                _ => Err(Error::Transport { url, cause }),
            },
            other => other,
        }
    }

    /// `POST /api/v1/apps/{app}/bundles/external`: registers a bundle hosted elsewhere.
    pub async fn create_external_bundle(
        &self,
        app: &str,
        body: &ExternalBundle,
    ) -> Result<UploadResult> {
        let url = self.api(&["apps", app, "bundles", "external"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/bundles`.
    pub async fn list_bundles(&self, app: &str) -> Result<Vec<BundleInfo>> {
        let url = self.api(&["apps", app, "bundles"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/bundles/{version}`.
    pub async fn get_bundle(&self, app: &str, version: &str) -> Result<BundleInfo> {
        let url = self.api(&["apps", app, "bundles", version]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `DELETE /api/v1/apps/{app}/bundles/{version}`.
    pub async fn delete_bundle(&self, app: &str, version: &str) -> Result<()> {
        let url = self.api(&["apps", app, "bundles", version]);
        self.empty(self.req(Method::DELETE, url)).await
    }

    // ---- channels -------------------------------------------------------------------------

    /// `POST /api/v1/apps/{app}/channels`.
    pub async fn create_channel(&self, app: &str, body: &CreateChannel) -> Result<ChannelInfo> {
        let url = self.api(&["apps", app, "channels"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/channels`.
    pub async fn list_channels(&self, app: &str) -> Result<Vec<ChannelInfo>> {
        let url = self.api(&["apps", app, "channels"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/channels/{name}`.
    pub async fn get_channel(&self, app: &str, name: &str) -> Result<ChannelInfo> {
        let url = self.api(&["apps", app, "channels", name]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PATCH /api/v1/apps/{app}/channels/{name}`.
    pub async fn update_channel(
        &self,
        app: &str,
        name: &str,
        body: &UpdateChannel,
    ) -> Result<ChannelInfo> {
        let url = self.api(&["apps", app, "channels", name]);
        self.json(self.req(Method::PATCH, url).json(body)).await
    }

    /// `POST /api/v1/apps/{app}/channels/{name}/rollback`.
    pub async fn rollback_channel(
        &self,
        app: &str,
        name: &str,
        body: &Rollback,
    ) -> Result<ChannelInfo> {
        let url = self.api(&["apps", app, "channels", name, "rollback"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/channels/{name}/history` (newest first).
    pub async fn channel_history(&self, app: &str, name: &str) -> Result<Vec<HistoryEntry>> {
        let url = self.api(&["apps", app, "channels", name, "history"]);
        self.json(self.req(Method::GET, url)).await
    }

    // ---- devices --------------------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/devices?search=&channel=&version=&platform=&limit=`.
    pub async fn list_devices(&self, app: &str, query: &DeviceQuery) -> Result<Vec<DeviceInfo>> {
        let mut url = self.api(&["apps", app, "devices"]);
        let limit = query.limit.map(|l| l.to_string());
        let pairs = [
            ("search", query.search.as_ref()),
            ("channel", query.channel.as_ref()),
            ("version", query.version.as_ref()),
            ("platform", query.platform.as_ref()),
            ("limit", limit.as_ref()),
        ];
        if pairs.iter().any(|(_, v)| v.is_some()) {
            let mut q = url.query_pairs_mut();
            for (key, value) in pairs {
                if let Some(value) = value {
                    q.append_pair(key, value);
                }
            }
        }
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/devices/{device_id}/explain`.
    pub async fn explain_device(&self, app: &str, device_id: &str) -> Result<DeviceExplanation> {
        let url = self.api(&["apps", app, "devices", device_id, "explain"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PUT /api/v1/apps/{app}/devices/{device_id}/override`: forces a device onto a channel.
    pub async fn set_override(
        &self,
        app: &str,
        device_id: &str,
        body: &SetOverride,
    ) -> Result<OverrideInfo> {
        let url = self.api(&["apps", app, "devices", device_id, "override"]);
        self.json(self.req(Method::PUT, url).json(body)).await
    }

    /// `DELETE /api/v1/apps/{app}/devices/{device_id}/override`.
    pub async fn clear_override(&self, app: &str, device_id: &str) -> Result<()> {
        let url = self.api(&["apps", app, "devices", device_id, "override"]);
        self.empty(self.req(Method::DELETE, url)).await
    }

    // ---- audit ----------------------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/audit?from=&to=` (epoch milliseconds, both optional).
    pub async fn audit(
        &self,
        app: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<AuditInfo>> {
        let mut url = self.api(&["apps", app, "audit"]);
        if from.is_some() || to.is_some() {
            let mut q = url.query_pairs_mut();
            if let Some(from) = from {
                q.append_pair("from", &from.to_string());
            }
            if let Some(to) = to {
                q.append_pair("to", &to.to_string());
            }
        }
        self.json(self.req(Method::GET, url)).await
    }

    // ---- stats ----------------------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/stats?since=&bundle=&channel=&releases=`.
    pub async fn stats(&self, app: &str, query: &StatsQuery) -> Result<StatsReport> {
        let mut url = self.api(&["apps", app, "stats"]);
        let releases = query.releases.map(|r| r.to_string());
        let pairs = [
            ("since", query.since.as_ref()),
            ("bundle", query.bundle.as_ref()),
            ("channel", query.channel.as_ref()),
            ("releases", releases.as_ref()),
        ];
        if pairs.iter().any(|(_, v)| v.is_some()) {
            let mut q = url.query_pairs_mut();
            for (key, value) in pairs {
                if let Some(value) = value {
                    q.append_pair(key, value);
                }
            }
        }
        self.json(self.req(Method::GET, url)).await
    }

    // ---- tokens ---------------------------------------------------------------------------

    /// `POST /api/v1/tokens`: the answer is the only time the secret is shown.
    pub async fn create_token(&self, body: &CreateToken) -> Result<TokenCreated> {
        let url = self.api(&["tokens"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/tokens`.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.json(self.req(Method::GET, self.api(&["tokens"])))
            .await
    }

    /// `DELETE /api/v1/tokens/{id}`.
    pub async fn revoke_token(&self, id: i64) -> Result<()> {
        let url = self.api(&["tokens", &id.to_string()]);
        self.empty(self.req(Method::DELETE, url)).await
    }

    // ---- the release log -------------------------------------------------------------------

    /// `GET /api/v1/log?after=&limit=`: entries in chain order.
    pub async fn release_log(&self, after: i64, limit: u32) -> Result<Vec<LogEntryInfo>> {
        let mut url = self.api(&["log"]);
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("limit", &limit.to_string());
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/log/verify[?checkpoint_seq=&checkpoint_hash=]`: the server walks the chain
    /// (and checks that an earlier export's head is still in it).
    pub async fn verify_release_log(
        &self,
        checkpoint: Option<(i64, &str)>,
    ) -> Result<LogVerification> {
        let mut url = self.api(&["log", "verify"]);
        if let Some((seq, hash)) = checkpoint {
            url.query_pairs_mut()
                .append_pair("checkpoint_seq", &seq.to_string())
                .append_pair("checkpoint_hash", hash);
        }
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/log/export`: the signed JSON Lines text.
    pub async fn export_release_log(&self) -> Result<bytes::Bytes> {
        let resp = self
            .send(self.req(Method::GET, self.api(&["log", "export"])))
            .await?;
        Ok(self.body(resp).await?.2)
    }

    /// `GET /api/v1/log/public-key`.
    pub async fn release_log_public_key(&self) -> Result<LogPublicKey> {
        self.json(self.req(Method::GET, self.api(&["log", "public-key"])))
            .await
    }

    // ---- users and sessions ----------------------------------------------------------------

    /// `GET /api/v1/users`.
    pub async fn list_users(&self) -> Result<Vec<UserInfo>> {
        self.json(self.req(Method::GET, self.api(&["users"]))).await
    }

    /// `POST /api/v1/users`.
    pub async fn create_user(&self, body: &CreateUser) -> Result<UserInfo> {
        let url = self.api(&["users"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `PATCH /api/v1/users/{username}`: new roles, disable or enable.
    pub async fn update_user(&self, username: &str, body: &UpdateUser) -> Result<UserInfo> {
        let url = self.api(&["users", username]);
        self.json(self.req(Method::PATCH, url).json(body)).await
    }

    /// `POST /api/v1/users/{username}/password`: set a user's password (its sessions end).
    pub async fn set_user_password(&self, username: &str, password: &str) -> Result<()> {
        let url = self.api(&["users", username, "password"]);
        let body = SetPassword {
            password: password.to_owned(),
        };
        self.empty(self.req(Method::POST, url).json(&body)).await
    }

    /// `POST /api/v1/session`: sign in; use the answer with [`Client::with_session`].
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<SignedIn> {
        let url = self.api(&["session"]);
        let body = SignIn {
            username: username.to_owned(),
            password: password.to_owned(),
        };
        let resp = self
            .send(
                self.http
                    .post(url)
                    .header(ACCEPT, "application/json")
                    .json(&body),
            )
            .await?;
        let cookie = resp
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|kv| kv.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
            .map(str::to_owned)
            .next();
        let (status, url, bytes) = self.body(resp).await?;
        let info: SessionInfo = serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            url: url.clone(),
            status: status.as_u16(),
            cause: e.to_string(),
        })?;
        let cookie = cookie.ok_or_else(|| Error::Decode {
            url,
            status: status.as_u16(),
            cause: format!("no {SESSION_COOKIE} cookie in the answer"),
        })?;
        Ok(SignedIn { info, cookie })
    }

    /// `GET /api/v1/session` (with [`Client::with_session`]).
    pub async fn session(&self) -> Result<SessionInfo> {
        self.json(self.req(Method::GET, self.api(&["session"])))
            .await
    }

    /// `DELETE /api/v1/session`: sign out.
    pub async fn sign_out(&self) -> Result<()> {
        self.empty(self.req(Method::DELETE, self.api(&["session"])))
            .await
    }

    /// `DELETE /api/v1/session/all`: every session of the user ends.
    pub async fn sign_out_everywhere(&self) -> Result<()> {
        self.empty(self.req(Method::DELETE, self.api(&["session", "all"])))
            .await
    }

    /// `POST /api/v1/session/password`: change one's own password.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<()> {
        let body = ChangePassword {
            current: current.to_owned(),
            new: new.to_owned(),
        };
        let url = self.api(&["session", "password"]);
        self.empty(self.req(Method::POST, url).json(&body)).await
    }

    // ---- misc -----------------------------------------------------------------------------

    /// `GET /api/v1/openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        let url = self.api(&["openapi.json"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/limits`: what the server accepts.
    pub async fn limits(&self) -> Result<ServerLimits> {
        self.json(self.req(Method::GET, self.api(&["limits"])))
            .await
    }

    /// `GET /updates`: the plugin endpoint's liveness answer, `{"status":"ok"}`.
    pub async fn health(&self) -> Result<serde_json::Value> {
        let url = self.join(&["updates"]);
        self.json(self.http.get(url).header(ACCEPT, "application/json"))
            .await
    }

    // ---- plumbing -------------------------------------------------------------------------

    /// `base` + `/api/v1/` + segments (each percent-encoded as one path segment).
    fn api(&self, segments: &[&str]) -> Url {
        let mut all = Vec::with_capacity(segments.len() + 2);
        all.extend(["api", "v1"]);
        all.extend_from_slice(segments);
        self.join(&all)
    }

    fn join(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn req(&self, method: Method, url: Url) -> RequestBuilder {
        let req = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json");
        match (&self.token, &self.session) {
            (Some(token), _) => req.bearer_auth(token),
            (None, Some((cookie, csrf))) => req
                .header(
                    reqwest::header::COOKIE,
                    format!("{SESSION_COOKIE}={cookie}"),
                )
                .header("x-csrf-token", csrf),
            (None, None) => req,
        }
    }

    async fn send(&self, req: RequestBuilder) -> Result<Response> {
        req.send()
            .await
            .map_err(|e| Error::from_reqwest(e, self.origin().as_str()))
    }

    /// The base URL without path, for "cannot reach" messages.
    fn origin(&self) -> String {
        let s = self.base.as_str();
        s.strip_suffix('/').unwrap_or(s).to_owned()
    }

    async fn body(&self, resp: Response) -> Result<(reqwest::StatusCode, String, bytes::Bytes)> {
        let status = resp.status();
        let url = resp.url().to_string();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::from_reqwest(e, &self.origin()))?;
        if !status.is_success() {
            return Err(Error::from_response(status, &bytes));
        }
        Ok((status, url, bytes))
    }

    async fn json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = self.send(req).await?;
        let (status, url, bytes) = self.body(resp).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            url,
            status: status.as_u16(),
            cause: e.to_string(),
        })
    }

    async fn empty(&self, req: RequestBuilder) -> Result<()> {
        let resp = self.send(req).await?;
        self.body(resp).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_segments_and_keep_prefix() {
        let c = Client::new("http://127.0.0.1:8080", None).unwrap();
        assert_eq!(
            c.api(&["apps", "com.x", "bundles", "1.0.0+build/1"])
                .as_str(),
            "http://127.0.0.1:8080/api/v1/apps/com.x/bundles/1.0.0+build%2F1"
        );
        let c = Client::new("https://h.example/landfall/", None).unwrap();
        assert_eq!(
            c.api(&["apps"]).as_str(),
            "https://h.example/landfall/api/v1/apps"
        );
        assert_eq!(
            c.join(&["updates"]).as_str(),
            "https://h.example/landfall/updates"
        );
        assert_eq!(
            c.api(&["apps", "a.b", "keys", "MIIBCgKCAQEAz/N5YWbf"])
                .as_str(),
            "https://h.example/landfall/api/v1/apps/a.b/keys/MIIBCgKCAQEAz%2FN5YWbf"
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        for bad in ["", "127.0.0.1:8080", "ftp://x", "mailto:a@b"] {
            assert!(
                matches!(Client::new(bad, None), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = Client::new("http://localhost:1", Some("s3cr3t".into())).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(c.has_token());
        assert!(!Client::new("http://localhost:1", Some(" ".into()))
            .unwrap()
            .has_token());
    }

    #[tokio::test]
    async fn connection_refused_is_actionable() {
        // A socket bound but never listening: the port is refused while `reserved` lives.
        let reserved =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        reserved
            .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let port = reserved.local_addr().unwrap().as_socket().unwrap().port();
        let c = Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
        let err = c.list_apps().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "cannot reach http://127.0.0.1:{port}: connection refused"
            )),
            "{msg}"
        );
        assert!(msg.contains("LANDFALL_URL"), "{msg}");
    }
}
