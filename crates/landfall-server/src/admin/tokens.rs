//! `/api/v1/tokens`: scoped API tokens (server admins only). Secrets are shown once, stored hashed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{CreateToken, TokenCreated, TokenInfo};
use landfall_store::{Role, Scope, Token};

use super::auth::{hash_token, new_token, Caller};
use super::JsonBody;
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

fn info(t: Token) -> TokenInfo {
    TokenInfo {
        id: t.id,
        name: t.name,
        scopes: t.scopes.iter().map(ToString::to_string).collect(),
        created_at: t.created_at,
        revoked_at: t.revoked_at,
    }
}

/// Create a token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, body = TokenCreated), (status = 400, body = landfall_api_types::ApiError)))]
pub async fn create(
    State(s): State<Shared>,
    caller: Caller,
    body: JsonBody<CreateToken>,
) -> HttpResult<(StatusCode, Json<TokenCreated>)> {
    caller.require(None, Role::Admin)?;
    let req = body.parse()?;
    if req.name.trim().is_empty() || req.name.len() > 64 {
        return Err(HttpError::bad_request(
            "invalid_name",
            "token name must be 1-64 characters",
        ));
    }
    if req.scopes.is_empty() {
        return Err(HttpError::bad_request(
            "invalid_scope",
            "give at least one scope such as com.example.app:upload or *:read",
        ));
    }
    let scopes = req
        .scopes
        .iter()
        .map(|raw| {
            Scope::parse(raw).ok_or_else(|| {
                HttpError::bad_request(
                    "invalid_scope",
                    format!("scope {:?} must be APP:ROLE with ROLE read, upload or admin and APP an app id or *", landfall_core::clip(raw)),
                )
            })
        })
        .collect::<HttpResult<Vec<_>>>()?;
    let secret = new_token();
    let t = s
        .store
        .create_token(
            req.name.trim(),
            &hash_token(&secret),
            &scopes,
            &caller.actor(),
        )
        .await?;
    tracing::info!(token = %t.name, id = t.id, "token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            info: info(t),
            token: secret,
        }),
    ))
}

/// List tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list(State(s): State<Shared>, caller: Caller) -> HttpResult<Json<Vec<TokenInfo>>> {
    caller.require(None, Role::Admin)?;
    Ok(Json(
        s.store.list_tokens().await?.into_iter().map(info).collect(),
    ))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", responses((status = 204), (status = 404, body = landfall_api_types::ApiError)))]
pub async fn revoke(
    State(s): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> HttpResult<StatusCode> {
    caller.require(None, Role::Admin)?;
    let tokens = s.store.list_tokens().await?;
    let is_server_admin = |t: &Token| {
        t.revoked_at.is_none()
            && t.scopes
                .iter()
                .any(|sc| sc.app == "*" && sc.role == Role::Admin)
    };
    if tokens.iter().any(|t| t.id == id && is_server_admin(t))
        && tokens.iter().filter(|t| is_server_admin(t)).count() == 1
    {
        return Err(HttpError::conflict(
            "last_admin_token",
            "this is the last active *:admin token; create another one first \
             (`landfall token create --name NAME --scope '*:admin'`) so the server stays manageable",
        ));
    }
    s.store
        .revoke_token(id, &caller.actor())
        .await
        .map_err(|e| match e {
            landfall_store::StoreError::NotFound(_) => HttpError::not_found(
                "token_not_found",
                format!("no active token with id {id}; see `landfall token list`"),
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// What this server accepts: clients check the bundle size before streaming an upload (a server
/// answers 413 and closes mid-stream, which a client would only see as a broken pipe).
#[utoipa::path(get, path = "/api/v1/limits", tag = "tokens",
    responses((status = 200, body = landfall_api_types::ServerLimits)))]
pub async fn limits(
    axum::extract::State(s): axum::extract::State<crate::state::Shared>,
    _caller: Caller,
) -> axum::Json<landfall_api_types::ServerLimits> {
    axum::Json(landfall_api_types::ServerLimits {
        max_bundle_bytes: s.settings.max_bundle_bytes,
        max_json_body_bytes: crate::MAX_JSON_BODY as u64,
    })
}
