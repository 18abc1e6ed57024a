//! Bearer-token authentication: tokens are random secrets, stored only as their sha256.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
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

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Token);

impl Caller {
    /// Require `role` on `app` (`None` = a server-wide action such as creating apps or tokens).
    pub fn require(&self, app: Option<&str>, role: Role) -> Result<(), HttpError> {
        if self.0.allows(app, role) {
            return Ok(());
        }
        let needed = Scope {
            app: app.unwrap_or("*").to_owned(),
            role,
        };
        Err(HttpError::forbidden(format!(
            "token {:?} lacks scope {needed}; create one with `landfall token create --scope {needed}`",
            self.0.name
        )))
    }

    /// Name recorded in the audit log.
    pub fn actor(&self) -> String {
        format!("token:{}", self.0.name)
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
                let ip = parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
                    .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
                let wait = s.auth_failures.failed(ip);
                if !wait.is_zero() {
                    tracing::warn!(%ip, delay_ms = wait.as_millis() as u64, "repeated failed token checks");
                    tokio::time::sleep(wait).await;
                }
                Err(e)
            }
            other => other,
        }
    }
}

async fn check(parts: &Parts, s: &Shared) -> Result<Caller, HttpError> {
    {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                HttpError::unauthorized(
                    "missing `Authorization: Bearer <token>` header (set LANDFALL_TOKEN)",
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                HttpError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        match s.store.find_token(&hash_token(token)).await? {
            Some(t) if t.revoked_at.is_none() => Ok(Caller(t)),
            Some(_) => Err(HttpError::unauthorized("this token was revoked")),
            None => Err(HttpError::unauthorized("unknown token")),
        }
    }
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
            store.create_token("admin", &hash_token(t), &admin).await?;
            tracing::info!("created the first admin token from LANDFALL_ADMIN_TOKEN");
            Ok(None)
        }
        None => {
            let t = new_token();
            store.create_token("admin", &hash_token(&t), &admin).await?;
            Ok(Some(t))
        }
    }
}
