//! `GET`/`HEAD /blobs/{sha256}`: bundle zips and delta files, byte for byte.
//!
//! Blobs are content-addressed and immutable, so the ETag is the hash and caches may keep them
//! forever. `Range` (single range) answers 206 — the Android plugin appends to its partial file on
//! resume, so a 200 to a resume would corrupt the bundle. Never a `Content-Encoding`.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use landfall_core::analytics::cst_day;
use landfall_store::blob::is_blob_key;
use landfall_store::{now_ms, DownloadCount, Store, StoreResult};
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use tokio_util::io::ReaderStream;

use crate::catalog::BlobKind;
use crate::state::Shared;

/// Downloads streamed per app, UTC+8 day and kind since the last [`Tally::flush`]: what the
/// stats report's "bytes served" reads once flushed (every minute, and at shutdown).
#[derive(Debug, Default)]
pub struct Tally {
    counts: Mutex<HashMap<(String, i64, BlobKind), (u64, u64)>>,
}

impl Tally {
    fn add(&self, app: String, kind: BlobKind, bytes: u64) {
        let mut counts = self.counts.lock();
        let c = counts.entry((app, cst_day(now_ms()), kind)).or_default();
        c.0 += 1;
        c.1 += bytes;
    }

    /// Write what was counted into the store's daily rollup; on failure it is kept for the next
    /// flush.
    pub async fn flush(&self, store: &dyn Store) -> StoreResult<()> {
        let taken: Vec<DownloadCount> = self
            .counts
            .lock()
            .drain()
            .map(|((app_id, day, kind), (requests, bytes))| DownloadCount {
                app_id,
                day,
                kind: kind.as_str().to_owned(),
                requests,
                bytes,
            })
            .collect();
        if let Err(e) = store.add_downloads(&taken).await {
            let mut counts = self.counts.lock();
            for c in taken {
                let kind = if c.kind == "full" {
                    BlobKind::Full
                } else {
                    BlobKind::Delta
                };
                let e = counts.entry((c.app_id, c.day, kind)).or_default();
                e.0 += c.requests;
                e.1 += c.bytes;
            }
            return Err(e);
        }
        Ok(())
    }
}

/// A blob body that counts what it sends: into `/metrics` as it goes, into the [`Tally`] when
/// the response ends (completed or cut off).
struct Counted {
    inner: ReaderStream<Pin<Box<dyn tokio::io::AsyncRead + Send>>>,
    sent: u64,
    bytes: Counter,
    app: String,
    kind: BlobKind,
    state: Shared,
}

impl Stream for Counted {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.sent += chunk.len() as u64;
            this.bytes.inc_by(chunk.len() as u64);
        }
        next
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.state
            .downloads
            .add(std::mem::take(&mut self.app), self.kind, self.sent);
    }
}

/// A parsed single byte range: `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeReq {
    /// No usable Range header: send everything.
    Full,
    /// Send this part.
    Part(u64, u64),
    /// Cannot be satisfied (416).
    Unsatisfiable,
}

/// Parse a `Range` header against a blob size (RFC 9110 §14; multi-range falls back to full).
pub fn parse_range(header: Option<&str>, size: u64) -> RangeReq {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match parse(b) {
            Some(0) => RangeReq::Unsatisfiable,
            Some(n) if size == 0 => {
                let _ = n;
                RangeReq::Unsatisfiable
            }
            Some(n) => RangeReq::Part(size.saturating_sub(n), size),
            None => RangeReq::Full,
        },
        (false, _) => {
            let Some(start) = parse(a) else {
                return RangeReq::Full;
            };
            if start >= size {
                return RangeReq::Unsatisfiable;
            }
            let end = if b.is_empty() {
                size
            } else {
                match parse(b) {
                    Some(last) if last >= start => (last + 1).min(size),
                    _ => return RangeReq::Full,
                }
            };
            RangeReq::Part(start, end)
        }
        (true, true) => RangeReq::Full,
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            serde_json::json!({ "error": "blob_not_found", "message": "no such bundle file" }),
        ),
    )
        .into_response()
}

/// Serve a blob.
pub async fn blob(
    State(s): State<Shared>,
    method: Method,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Only blobs of live bundles: a deleted bundle stops being served at once.
    if !is_blob_key(&key) {
        return not_found();
    }
    let Some((app, kind)) = s.catalog.serves_blob(&key) else {
        return not_found();
    };
    let size = match s.blobs.size(&key).await {
        Ok(Some(n)) => n,
        Ok(None) => return not_found(),
        Err(e) => return crate::error::HttpError::blobs(e).into_response(),
    };
    let etag = format!("\"{key}\"");
    let etag_value =
        HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let common = |status: StatusCode, len: u64| {
        let mut r = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, len)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::ETAG, etag_value.clone())
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable");
        if status == StatusCode::NOT_MODIFIED {
            r = r.header(header::CONTENT_LENGTH, 0);
        }
        r
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag_value)
            .body(Body::empty())
            .unwrap_or_default();
    }
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = if if_range_ok {
        parse_range(
            headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
            size,
        )
    } else {
        RangeReq::Full
    };
    let (status, start, end) = match range {
        RangeReq::Full => (StatusCode::OK, 0, size),
        RangeReq::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b),
        RangeReq::Unsatisfiable => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .header(header::ETAG, etag_value)
                .body(Body::empty())
                .unwrap_or_default();
        }
    };
    let mut builder = common(status, end - start);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end - 1),
        );
    }
    if method == Method::HEAD {
        return builder.body(Body::empty()).unwrap_or_default();
    }
    let body = match s.blobs.open(&key, start, Some(end)).await {
        Ok(Some(r)) => r.body,
        Ok(None) => return not_found(),
        Err(e) => return crate::error::HttpError::blobs(e).into_response(),
    };
    s.metrics.download_started(kind);
    let counted = Counted {
        inner: ReaderStream::with_capacity(body, 256 * 1024),
        sent: 0,
        bytes: s.metrics.bytes_counter(kind),
        app,
        kind,
        state: s.clone(),
    };
    builder.body(Body::from_stream(counted)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-"), 10), RangeReq::Part(0, 10));
        assert_eq!(parse_range(Some("bytes=4-"), 10), RangeReq::Part(4, 10));
        assert_eq!(parse_range(Some("bytes=2-5"), 10), RangeReq::Part(2, 6));
        assert_eq!(parse_range(Some("bytes=2-50"), 10), RangeReq::Part(2, 10));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeReq::Part(7, 10));
        assert_eq!(parse_range(Some("bytes=-30"), 10), RangeReq::Part(0, 10));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=x-"), 10), RangeReq::Full);
    }
}
