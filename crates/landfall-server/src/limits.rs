//! Answers for requests the server refuses before a handler runs: a body over the size limit is
//! answered in the caller's JSON shape (`body_too_large`), never axum's plain-text rejection.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_core::plugin::{Kind, PluginError};

use crate::error::HttpError;

/// What a too-large JSON body is told.
pub fn body_too_large_message() -> String {
    format!(
        "the request body is larger than the {} MiB this server accepts on this route",
        crate::MAX_JSON_BODY >> 20
    )
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Plugin routes: a plain-text 413 becomes the plugin's error shape (with `kind`).
pub async fn plugin_413(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&res) {
        let e = PluginError::new("body_too_large", body_too_large_message(), Kind::Failed);
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(e)).into_response();
    }
    res
}

/// Admin routes: a plain-text 413 becomes `{"error":"body_too_large","message":…}`.
pub async fn admin_413(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&res) {
        return HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            body_too_large_message(),
        )
        .into_response();
    }
    res
}
