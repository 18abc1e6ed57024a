//! The one error type of the HTTP layer: a stable code, a status and a message a person can act on.
//!
//! Admin routes answer `{"error": "<code>", "message": "…"}`. Plugin routes use the plugin's own
//! shape (see `plugin.rs`). Internal failures are logged with their cause and answered generically.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_api_types::ApiError;
use landfall_store::StoreError;

/// Longest message sent back (messages clip echoed input far below this; see `landfall_core::clip`).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// An admin API failure.
#[derive(Debug)]
pub struct HttpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl HttpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// The blob store (disk or bucket) failed: 503 `blobs_unavailable`, cause in the log.
    pub fn blobs(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "blob store failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "blobs_unavailable",
            "the bundle/document storage failed; nothing was changed: retry the same command shortly",
        )
    }
    /// Log the cause; tell the client only that it failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error; the server log has the cause",
        )
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => {
                Self::not_found("not_found", format!("{what} does not exist"))
            }
            StoreError::Conflict(msg) => Self::conflict("conflict", msg),
            StoreError::Busy(why) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_busy",
                format!(
                    "the database stayed busy ({why}); nothing was changed: retry the same command"
                ),
            ),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database cannot be reached; nothing was changed: retry the same command shortly",
                )
            }
            StoreError::Backend(_) | StoreError::TooNew { .. } => Self::internal(e),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: self.code.to_owned(),
            // A safety net: no message, whatever it echoes, is sent back at full length.
            message: landfall_core::clip_with(&self.message, MAX_MESSAGE_CHARS).into_owned(),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Result alias for admin handlers.
pub type HttpResult<T> = Result<T, HttpError>;
