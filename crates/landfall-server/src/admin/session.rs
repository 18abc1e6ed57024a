//! `/api/v1/session`: signing in and out with a username and password (the console).
//!
//! Signing in sets the `landfall_session` cookie (`HttpOnly; SameSite=Strict; Path=/`, `Secure`
//! over HTTPS) and answers the CSRF token the console sends as `X-CSRF-Token` with every request
//! that changes something. A wrong password, an unknown user and a disabled user all get the same
//! 401 `bad_credentials` after the same argon2 work, slowed like failed token checks.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_api_types::{ChangePassword, SessionInfo, SignIn};
use landfall_store::users::NewSession;

use super::auth::{
    hash_token, new_secret, over_https, peer_ip, SessionCaller, SignedIn, SESSION_COOKIE,
    SESSION_LIFETIME,
};
use super::users::user_info;
use super::{password, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// What the session endpoints need to know about the connection.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    /// The request came over HTTPS (the cookie gets `Secure`).
    pub https: bool,
    pub ip: IpAddr,
}

impl FromRequestParts<Shared> for Connection {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &Shared) -> Result<Self, Self::Rejection> {
        Ok(Connection {
            https: over_https(parts, s),
            ip: peer_ip(parts),
        })
    }
}

fn cookie(value: &str, max_age_secs: i64, https: bool) -> HeaderValue {
    let c = cookie::Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs.max(0)))
        .secure(https)
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookie that removes the session cookie from the browser.
fn expired_cookie(https: bool) -> HeaderValue {
    cookie("", 0, https)
}

fn info(c: &SessionCaller) -> SessionInfo {
    SessionInfo {
        user: user_info(&c.user),
        csrf_token: c.session.csrf_token.clone(),
        expires_at: c.session.expires_at,
    }
}

fn bad_credentials() -> HttpError {
    HttpError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "wrong username or password (or the user is disabled)",
    )
}

async fn slow_down(s: &Shared, ip: IpAddr) {
    let wait = s.auth_failures.failed(ip);
    if !wait.is_zero() {
        tracing::warn!(%ip, delay_ms = wait.as_millis() as u64, "repeated failed sign-ins");
        tokio::time::sleep(wait).await;
    }
}

/// Sign in.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn, security(()),
    responses((status = 200, body = SessionInfo, description = "signed in; `Set-Cookie: landfall_session=…`"),
        (status = 401, body = landfall_api_types::ApiError, description = "`bad_credentials`")))]
pub async fn sign_in(
    State(s): State<Shared>,
    conn: Connection,
    body: JsonBody<SignIn>,
) -> HttpResult<Response> {
    let req = body.parse()?;
    let user = match super::users::valid_username(&req.username) {
        true => s.store.get_user(&req.username).await?,
        false => None,
    };
    let matches =
        password::verify(req.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match user {
        Some(u) if matches && u.disabled_at.is_none() => u,
        _ => {
            slow_down(&s, conn.ip).await;
            return Err(bad_credentials());
        }
    };
    let secret = new_secret();
    let now = landfall_store::now_ms();
    let session = s
        .store
        .create_session(NewSession {
            id_hash: hash_token(&secret),
            username: user.username.clone(),
            csrf_token: new_secret(),
            created_at: now,
            expires_at: now + SESSION_LIFETIME.as_millis() as i64,
        })
        .await?;
    s.store
        .audit_server(
            &format!("user:{}", user.username),
            "user_sign_in",
            serde_json::json!({ "username": user.username }),
        )
        .await?;
    tracing::info!(user = %user.username, "signed in");
    let max_age = (session.expires_at - now) / 1000;
    let body = info(&SessionCaller { session, user });
    Ok((
        [(header::SET_COOKIE, cookie(&secret, max_age, conn.https))],
        Json(body),
    )
        .into_response())
}

/// The signed-in user, its CSRF token and when the session ends.
#[utoipa::path(get, path = "/api/v1/session", tag = "session", security(("session" = [])),
    responses((status = 200, body = SessionInfo),
        (status = 401, body = landfall_api_types::ApiError, description = "`unauthenticated` or `session_expired`")))]
pub async fn get(SignedIn(c): SignedIn) -> Json<SessionInfo> {
    Json(info(&c))
}

/// Sign out (this session).
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", security(("session" = [])),
    responses((status = 204, description = "signed out; the cookie is expired"),
        (status = 403, body = landfall_api_types::ApiError, description = "`csrf_required`")))]
pub async fn sign_out(
    State(s): State<Shared>,
    conn: Connection,
    SignedIn(c): SignedIn,
) -> HttpResult<Response> {
    s.store.delete_session(&c.session.id_hash).await?;
    s.store
        .audit_server(
            &format!("user:{}", c.user.username),
            "user_sign_out",
            serde_json::json!({ "username": c.user.username }),
        )
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, expired_cookie(conn.https))],
    )
        .into_response())
}

/// Sign out everywhere: every session of this user ends.
#[utoipa::path(delete, path = "/api/v1/session/all", tag = "session", security(("session" = [])),
    responses((status = 204, description = "every session of the user ended"),
        (status = 403, body = landfall_api_types::ApiError, description = "`csrf_required`")))]
pub async fn sign_out_everywhere(
    State(s): State<Shared>,
    conn: Connection,
    SignedIn(c): SignedIn,
) -> HttpResult<Response> {
    let ended = s.store.delete_user_sessions(&c.user.username).await?;
    s.store
        .audit_server(
            &format!("user:{}", c.user.username),
            "user_sign_out_everywhere",
            serde_json::json!({ "username": c.user.username, "sessions_ended": ended }),
        )
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, expired_cookie(conn.https))],
    )
        .into_response())
}

/// Change one's own password; the user's other sessions end.
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session", request_body = ChangePassword,
    security(("session" = [])),
    responses((status = 204, description = "changed; every other session of the user ended"),
        (status = 400, body = landfall_api_types::ApiError, description = "`weak_password`"),
        (status = 403, body = landfall_api_types::ApiError, description = "`bad_credentials` (the current password is wrong) or `csrf_required`")))]
pub async fn change_password(
    State(s): State<Shared>,
    conn: Connection,
    SignedIn(c): SignedIn,
    body: JsonBody<ChangePassword>,
) -> HttpResult<StatusCode> {
    let req = body.parse()?;
    password::check_new(&req.new)?;
    if !password::verify(req.current, Some(c.user.password_hash.clone())).await? {
        slow_down(&s, conn.ip).await;
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "bad_credentials",
            "the current password is wrong",
        ));
    }
    let hash = password::hash(req.new).await?;
    s.store
        .set_user_password(
            &c.user.username,
            &hash,
            Some(&c.session.id_hash),
            &format!("user:{}", c.user.username),
        )
        .await?;
    tracing::info!(user = %c.user.username, "password changed");
    Ok(StatusCode::NO_CONTENT)
}
