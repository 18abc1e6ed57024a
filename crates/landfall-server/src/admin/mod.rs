//! The admin API under `/api/v1`: bearer-token or session-cookie auth with per-app scopes, JSON
//! in and out.

pub mod apps;
pub mod auth;
pub mod bundles;
pub mod channels;
pub mod devices;
pub mod keys;
pub mod password;
pub mod release_log;
pub mod session;
pub mod stats;
pub mod tokens;
pub mod users;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::HttpError;

/// A JSON request body, read but not yet parsed: handlers check the caller's scope first and only
/// then call [`JsonBody::parse`], so a token without the scope learns `403` before anything about
/// its body. Rejections use our error shape (`invalid_json`, with serde's explanation, clipped).
#[derive(Debug)]
pub struct JsonBody<T> {
    bytes: axum::body::Bytes,
    json_content_type: bool,
    _target: std::marker::PhantomData<fn() -> T>,
}

impl<S: Send + Sync, T> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => HttpError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    crate::limits::body_too_large_message(),
                ),
                status => HttpError::new(status, "invalid_body", rejection.body_text()),
            })?;
        Ok(Self {
            bytes,
            json_content_type,
            _target: std::marker::PhantomData,
        })
    }
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Parse the body (call it after the scope check).
    pub fn parse(self) -> Result<T, HttpError> {
        if !self.json_content_type {
            return Err(HttpError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_json",
                "Expected request with `Content-Type: application/json`",
            ));
        }
        match axum::Json::<T>::from_bytes(&self.bytes) {
            Ok(axum::Json(v)) => Ok(v),
            Err(rejection) => Err(HttpError::new(
                rejection.status(),
                "invalid_json",
                landfall_core::clip_with(&rejection.body_text(), 300),
            )),
        }
    }
}

/// Check an app id from the URL and that the app exists.
pub async fn existing_app(s: &crate::state::AppState, app_id: &str) -> Result<(), HttpError> {
    match s.store.get_app(app_id).await {
        Ok(_) => Ok(()),
        Err(landfall_store::StoreError::NotFound(_)) => Err(HttpError::not_found(
            "app_not_found",
            format!(
                "app {} does not exist; create it with `landfall app create <app-id>`",
                landfall_core::clip(app_id)
            ),
        )),
        Err(e) => Err(e.into()),
    }
}
