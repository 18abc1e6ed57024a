//! The client's error type: what the server said, or why it could not be asked.

use std::path::PathBuf;

use reqwest::StatusCode;

/// Everything a [`crate::Client`] call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a 4xx/5xx status; `code` and `message` come from its
    /// `{"error","message"}` body (or are derived from the status when the body is not one).
    #[error("{message} (HTTP {status}, {code})")]
    Api {
        /// HTTP status code.
        status: u16,
        /// Stable machine-readable code, e.g. `app_not_found`.
        code: String,
        /// What went wrong and what to do about it.
        message: String,
    },
    /// No TCP/TLS connection could be made to the server.
    #[error("cannot reach {url}: {cause} — is `landfall serve` running? set LANDFALL_URL to point elsewhere")]
    Connect {
        /// The server's base URL.
        url: String,
        /// Why, e.g. `connection refused`.
        cause: String,
    },
    /// The connection broke or timed out mid-request.
    #[error("request to {url} failed: {cause}")]
    Transport {
        /// The URL requested.
        url: String,
        /// Why.
        cause: String,
    },
    /// The server answered 2xx with a body that is not the expected JSON.
    #[error("unexpected answer from {url} (HTTP {status}): {cause} — is this a Landfall server of the same version?")]
    Decode {
        /// The URL requested.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The JSON error.
        cause: String,
    },
    /// A local file (the bundle to upload) could not be read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The base URL given to [`crate::Client::new`] is unusable.
    #[error("invalid server URL {url:?}: {cause}")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// Why it is unusable.
        cause: String,
    },
}

/// Coarse classification of an [`Error`], e.g. to pick a process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 404: the app, bundle, channel, device or token does not exist.
    NotFound,
    /// 409: it already exists, or conflicts with the current state.
    Conflict,
    /// 401/403: missing, wrong or insufficient token.
    Unauthorized,
    /// The server could not be reached at all.
    Connect,
    /// 400/422: the request was refused as invalid.
    Invalid,
    /// Anything else.
    Other,
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's stable error code (`app_not_found`, …), when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Stable code for this error, server-given or local (`cannot_connect`, `transport`, …).
    pub fn error_code(&self) -> &str {
        match self {
            Error::Api { code, .. } => code,
            Error::Connect { .. } => "cannot_connect",
            Error::Transport { .. } => "transport",
            Error::Decode { .. } => "bad_response",
            Error::File { .. } => "file",
            Error::InvalidUrl { .. } => "invalid_url",
        }
    }

    /// The server's message alone (for [`Error::Api`]), else the full display text.
    pub fn message(&self) -> String {
        match self {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// Coarse classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { status, .. } => match *status {
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                401 | 403 => ErrorKind::Unauthorized,
                400 | 413 | 422 => ErrorKind::Invalid,
                _ => ErrorKind::Other,
            },
            Error::Connect { .. } => ErrorKind::Connect,
            _ => ErrorKind::Other,
        }
    }

    /// Builds the error for a non-2xx answer from its status and body.
    pub(crate) fn from_response(status: StatusCode, body: &[u8]) -> Self {
        if let Ok(api) = serde_json::from_slice::<landfall_api_types::ApiError>(body) {
            return Error::Api {
                status: status.as_u16(),
                code: api.error,
                message: api.message,
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let reason = status.canonical_reason().unwrap_or("error");
        let message = if text.is_empty() {
            reason.to_owned()
        } else {
            let mut short: String = text.chars().take(300).collect();
            if short.len() < text.len() {
                short.push('…');
            }
            format!("{reason}: {short}")
        };
        Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message,
        }
    }

    /// Classifies a reqwest failure; `base` is the server's base URL for connect errors.
    pub(crate) fn from_reqwest(err: reqwest::Error, base: &str) -> Self {
        let url = err
            .url()
            .map(|u| u.to_string())
            .unwrap_or_else(|| base.to_owned());
        let cause = root_cause(&err);
        if err.is_connect() {
            Error::Connect {
                url: base.to_owned(),
                cause,
            }
        } else if err.is_timeout() {
            Error::Transport {
                url,
                cause: "timed out".to_owned(),
            }
        } else {
            Error::Transport { url, cause }
        }
    }
}

/// The most specific description in an error's source chain, e.g. `connection refused`.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut io_kind = None;
    let mut last = err.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        last = e.to_string();
        cur = e.source();
    }
    use std::io::ErrorKind as K;
    match io_kind {
        Some(K::ConnectionRefused) => "connection refused".to_owned(),
        Some(K::ConnectionReset) => "connection reset by the server".to_owned(),
        Some(K::TimedOut) => "timed out".to_owned(),
        _ => last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_body_is_used() {
        let e = Error::from_response(
            StatusCode::NOT_FOUND,
            br#"{"error":"app_not_found","message":"no app com.x"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.code(), Some("app_not_found"));
        assert_eq!(e.message(), "no app com.x");
        assert_eq!(e.to_string(), "no app com.x (HTTP 404, app_not_found)");
    }

    #[test]
    fn non_json_error_body_is_summarised() {
        let e = Error::from_response(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>");
        assert_eq!(e.code(), Some("http_502"));
        assert_eq!(e.kind(), ErrorKind::Other);
        assert!(e.message().contains("Bad Gateway"));
        let e = Error::from_response(StatusCode::UNAUTHORIZED, b"");
        assert_eq!(e.kind(), ErrorKind::Unauthorized);
        assert_eq!(e.message(), "Unauthorized");
    }
}
