//! `/api/v1/apps/{app}/keys`: the public keys an app's bundles are signed with (Capgo v2 scheme).
//!
//! Only public keys ever reach the server. Once an app has a key, unsigned uploads are refused.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{AddKey, KeyInfo};
use landfall_crypto::VerifyingKey;
use landfall_store::{AppKey, Role, StoreError};

use super::auth::Caller;
use super::{existing_app, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

fn info(k: AppKey) -> KeyInfo {
    KeyInfo {
        key_id: k.key_id,
        public_key: k.public_pem,
        created_at: k.created_at,
    }
}

/// Register a public key (PKCS#1 PEM, as `capgo key create` / `landfall key create` write it).
#[utoipa::path(post, path = "/api/v1/apps/{app}/keys", tag = "keys", request_body = AddKey,
    responses((status = 201, body = KeyInfo), (status = 400, body = landfall_api_types::ApiError)))]
pub async fn add(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<AddKey>,
) -> HttpResult<(StatusCode, Json<KeyInfo>)> {
    caller.require(Some(&app), Role::Admin)?;
    let req = body.parse()?;
    existing_app(&s, &app).await?;
    let key = VerifyingKey::from_pem(&req.public_key)
        .map_err(|e| HttpError::bad_request("invalid_public_key", e.to_string()))?;
    let k = s
        .store
        .add_app_key(&app, &key.key_id(), key.public_pem(), &caller.actor())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => HttpError::conflict("key_exists", m),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(info(k))))
}

/// List an app's public keys.
#[utoipa::path(get, path = "/api/v1/apps/{app}/keys", tag = "keys", responses((status = 200, body = Vec<KeyInfo>)))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<Vec<KeyInfo>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    Ok(Json(
        s.store
            .list_app_keys(&app)
            .await?
            .into_iter()
            .map(info)
            .collect(),
    ))
}

/// Remove a public key (bundles signed with it stay served to devices with that key).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/keys/{key_id}", tag = "keys", responses((status = 204)))]
pub async fn remove(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, key_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    caller.require(Some(&app), Role::Admin)?;
    existing_app(&s, &app).await?;
    s.store
        .remove_app_key(&app, &key_id, &caller.actor())
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => HttpError::not_found(
                "key_not_found",
                format!(
                    "key {} is not registered for {app}",
                    landfall_core::clip(&key_id)
                ),
            ),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
