//! Authentication of `/api/v1`: a bearer token (`Authorization: Bearer lf_…`) or a signed-in
//! user's session cookie (`landfall_session`). Both are random secrets stored only as their sha256.
//!
//! A session acts with its user's grants (viewer = read, releaser = upload, admin = admin) as
//! [`Scope`]s, so every handler keeps calling [`Caller::require`]. With the cookie, every method
//! other than GET/HEAD/OPTIONS also needs the session's `X-CSRF-Token`. A session ends after
//! [`SESSION_IDLE`] without use or [`SESSION_LIFETIME`] after sign-in, whichever comes first.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use base64::Engine;
use landfall_store::users::{Session, User};
use landfall_store::{Role, Scope, Store, Token};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::state::Shared;

/// Prefix of every Landfall token (makes leaked tokens easy to grep for).
pub const TOKEN_PREFIX: &str = "lf_";

/// Shortest `LANDFALL_ADMIN_TOKEN` accepted (generated tokens are 46 characters).
pub const MIN_ENV_TOKEN_CHARS: usize = 32;

/// A fresh random token: `lf_` + 43 base64url characters (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "landfall_session";
/// Header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused this long ends.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// A session ends this long after sign-in, used or not.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// `last_seen_at` is written at most this often per session (not on every request).
pub const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The signed-in user behind a cookie-authenticated request.
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub session: Session,
    pub user: User,
}

/// The authenticated caller: a token, or a user's session acting with the user's grants.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The grants the request acts with (a session's: its user's roles as scopes).
    pub grants: Token,
    /// Set when the request came with the session cookie.
    pub session: Option<SessionCaller>,
}

/// The grants of a user, as a token-shaped value `Caller::require` checks.
pub fn user_grants(user: &User) -> Token {
    Token {
        id: 0,
        name: user.username.clone(),
        scopes: if user.disabled_at.is_some() {
            Vec::new()
        } else {
            user.roles.clone()
        },
        created_at: user.created_at,
        revoked_at: None,
    }
}

impl Caller {
    /// Whether the caller may act with `role` on `app` (`None` = a server-wide action).
    pub fn allows(&self, app: Option<&str>, role: Role) -> bool {
        self.grants.allows(app, role)
    }

    /// Require `role` on `app` (`None` = a server-wide action such as creating apps or tokens).
    pub fn require(&self, app: Option<&str>, role: Role) -> Result<(), HttpError> {
        if self.allows(app, role) {
            return Ok(());
        }
        let needed = Scope {
            app: app.unwrap_or("*").to_owned(),
            role,
        };
        Err(HttpError::forbidden(match &self.session {
            None => format!(
                "token {:?} lacks scope {needed}; create one with `landfall token create --scope {needed}`",
                self.grants.name
            ),
            Some(_) => format!(
                "user {:?} lacks the role {}:{}; an admin can grant it (`landfall user` or the users page)",
                self.grants.name,
                needed.app,
                landfall_store::users::user_role_name(role)
            ),
        }))
    }

    /// Name recorded in the audit log: `token:<name>` or `user:<username>`.
    pub fn actor(&self) -> String {
        match &self.session {
            None => format!("token:{}", self.grants.name),
            Some(s) => format!("user:{}", s.user.username),
        }
    }
}

/// Failed token checks within [`FAILURE_WINDOW`] from one IP before answers slow down.
pub const FREE_FAILURES: u32 = 5;
/// The window failed checks are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The longest delay before a failed check is answered.
pub const MAX_FAILURE_DELAY: Duration = Duration::from_secs(10);
/// Source IPs tracked at most (bounded memory).
const MAX_TRACKED_IPS: usize = 10_000;

/// Slows failed token checks per source IP: after [`FREE_FAILURES`] failures in a minute, every
/// further failed check waits 250 ms, 500 ms, 1 s, … up to [`MAX_FAILURE_DELAY`] before its 401.
/// Successful checks are never delayed (and never consult this).
#[derive(Debug, Default)]
pub struct FailureLimiter {
    by_ip: parking_lot::Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl FailureLimiter {
    /// Count a failure from `ip`; returns how long to wait before answering.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut map = self.by_ip.lock();
        if map.len() >= MAX_TRACKED_IPS && !map.contains_key(&ip) {
            map.retain(|_, (start, _)| now.duration_since(*start) < FAILURE_WINDOW);
            if map.len() >= MAX_TRACKED_IPS {
                map.clear();
            }
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        match entry.1.checked_sub(FREE_FAILURES + 1) {
            None => Duration::ZERO,
            Some(extra) => (Duration::from_millis(250) * 2u32.saturating_pow(extra.min(16)))
                .min(MAX_FAILURE_DELAY),
        }
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, Self::Rejection> {
        match check(parts, s).await {
            Err(e) if e.status == axum::http::StatusCode::UNAUTHORIZED => {
                slow_down(parts, s).await;
                Err(e)
            }
            other => other,
        }
    }
}

async fn check(parts: &Parts, s: &Shared) -> Result<Caller, HttpError> {
    if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                HttpError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        return match s.store.find_token(&hash_token(token)).await? {
            Some(t) if t.revoked_at.is_none() => Ok(Caller {
                grants: t,
                session: None,
            }),
            Some(_) => Err(HttpError::unauthorized("this token was revoked")),
            None => Err(HttpError::unauthorized("unknown token")),
        };
    }
    match session_secret(&parts.headers) {
        Some(secret) => {
            let caller = check_session(parts, s, &secret).await?;
            Ok(Caller {
                grants: user_grants(&caller.user),
                session: Some(caller),
            })
        }
        None => Err(HttpError::unauthorized(
            "missing `Authorization: Bearer <token>` header (set LANDFALL_TOKEN) or session cookie (sign in)",
        )),
    }
}

/// The `landfall_session` cookie's value, if the request has one.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

/// 401 `unauthenticated`: no (live) session.
pub fn unauthenticated(message: &str) -> HttpError {
    HttpError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "unauthenticated",
        message.to_owned(),
    )
}

/// Check a session secret: it exists, its user is enabled, it has not expired, and (for methods
/// that change something) the request carries its CSRF token. Records its use.
async fn check_session(
    parts: &Parts,
    s: &Shared,
    secret: &str,
) -> Result<SessionCaller, HttpError> {
    let id_hash = hash_token(secret);
    let Some((session, user)) = s.store.find_session(&id_hash).await? else {
        return Err(unauthenticated(
            "this session has ended (signed out, password changed or user disabled); sign in again",
        ));
    };
    if user.disabled_at.is_some() {
        return Err(unauthenticated("this user is disabled"));
    }
    let now = landfall_store::now_ms();
    let idle_ms = SESSION_IDLE.as_millis() as i64;
    if now >= session.expires_at || now - session.last_seen_at >= idle_ms {
        if let Err(e) = s.store.delete_session(&id_hash).await {
            tracing::warn!(error = %e, "could not delete an expired session (pruned later)");
        }
        return Err(HttpError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "session_expired",
            "this session expired (12 h without use, or 7 days after sign-in); sign in again",
        ));
    }
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(sent, session.csrf_token.as_bytes()) {
            return Err(HttpError::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf_required",
                "requests signed in with the session cookie need the header `X-CSRF-Token` \
                 with the csrf_token of `GET /api/v1/session`",
            ));
        }
    }
    if now - session.last_seen_at >= SESSION_TOUCH_EVERY.as_millis() as i64 {
        // Best effort: a busy database must not fail the request the session authorises.
        if let Err(e) = s.store.touch_session(&id_hash, now).await {
            tracing::warn!(error = %e, "could not record a session's use");
        }
    }
    Ok(SessionCaller { session, user })
}

/// Compare two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The authenticated session of a request (401 `unauthenticated` without one: bearer tokens have
/// no session). Failed checks are slowed like failed token checks.
#[derive(Debug, Clone)]
pub struct SignedIn(pub SessionCaller);

impl FromRequestParts<Shared> for SignedIn {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, Self::Rejection> {
        let Some(secret) = session_secret(&parts.headers) else {
            return Err(unauthenticated("not signed in: POST /api/v1/session first"));
        };
        match check_session(parts, s, &secret).await {
            Ok(c) => Ok(SignedIn(c)),
            Err(e) => {
                if e.status == axum::http::StatusCode::UNAUTHORIZED {
                    slow_down(parts, s).await;
                }
                Err(e)
            }
        }
    }
}

/// The peer's address (unspecified when unknown, e.g. in-process tests).
pub fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// Count a failed check from the request's source and wait as [`FailureLimiter`] says.
pub async fn slow_down(parts: &Parts, s: &Shared) {
    let ip = peer_ip(parts);
    let wait = s.auth_failures.failed(ip);
    if !wait.is_zero() {
        tracing::warn!(%ip, delay_ms = wait.as_millis() as u64, "repeated failed credential checks");
        tokio::time::sleep(wait).await;
    }
}

/// A fresh random secret (session ids, CSRF tokens): 43 base64url characters (256 bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether the request came over HTTPS: an `https` public URL, or `X-Forwarded-Proto: https`
/// from a trusted proxy (`--trusted-proxies`).
pub fn over_https(parts: &Parts, s: &Shared) -> bool {
    if s.settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        return true;
    }
    let Some(peer) = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return false;
    };
    s.settings
        .delivery
        .trusted_proxies
        .iter()
        .any(|n| n.contains(&peer))
        && parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// First start: make sure an admin token exists. Returns the secret if one was generated.
pub async fn bootstrap(
    store: &dyn Store,
    from_env: Option<&str>,
) -> Result<Option<String>, landfall_store::StoreError> {
    if store.count_tokens().await? > 0 {
        return Ok(None);
    }
    let admin = [Scope {
        app: "*".into(),
        role: Role::Admin,
    }];
    match from_env.filter(|t| !t.is_empty()) {
        Some(t) => {
            store
                .create_token(
                    "admin",
                    &hash_token(t),
                    &admin,
                    "system:LANDFALL_ADMIN_TOKEN",
                )
                .await?;
            tracing::info!("created the first admin token from LANDFALL_ADMIN_TOKEN");
            Ok(None)
        }
        None => {
            let t = new_token();
            store
                .create_token("admin", &hash_token(&t), &admin, "system:first-start")
                .await?;
            Ok(Some(t))
        }
    }
}
