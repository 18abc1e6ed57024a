//! The admin API under `/api/v1`: bearer-token auth with per-app scopes, JSON in and out.

pub mod apps;
pub mod auth;
pub mod bundles;
pub mod channels;
pub mod devices;
pub mod keys;
pub mod tokens;

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::HttpError;

/// `Json<T>` whose rejections use our error shape (`invalid_json`, with serde's explanation).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(HttpError::new(
                rejection.status(),
                "invalid_json",
                rejection.body_text(),
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
            format!("app {app_id} does not exist; create it with `landfall app create {app_id}`"),
        )),
        Err(e) => Err(e.into()),
    }
}
