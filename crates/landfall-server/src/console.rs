//! The web console: a small single-page app (vanilla ES modules, no build step) embedded in the
//! binary, served at `GET /` (the page) and `GET /console/{path}` (its scripts, styles,
//! dictionaries and the vendored uPlot chart library).
//!
//! The files live in `crates/landfall-server/console/` and are compiled in with `include_bytes!`:
//! nothing is built, downloaded or read from disk at run time, and no asset comes from a CDN (the
//! console must work inside a mainland-China network). The console talks only to the admin API
//! (`/api/v1`), signed in with the session cookie and sending `X-CSRF-Token`; it has no routes or
//! rights of its own. The SPA routes with the URL hash (`#/apps/<app>/overview`), so `/` is the
//! only page.
//!
//! Every answer carries an `ETag` (sha256 of the bytes) and `Cache-Control: no-cache`: browsers
//! revalidate and get `304 Not Modified` until the binary changes (file names carry no hash, so a
//! long `max-age` would keep old scripts after an upgrade). The security headers, the strict
//! `Content-Security-Policy` included, are added to every response by [`security_headers`].

use std::sync::LazyLock;

use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::HttpError;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path under `console/` (and under the `/console/` URL prefix).
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

macro_rules! assets {
    ($($path:literal => $ct:expr),* $(,)?) => {
        &[$(Asset {
            path: $path,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
            content_type: $ct,
        }),*]
    };
}

/// Every file of the console (a test checks this list against the `console/` folder).
pub static ASSETS: &[Asset] = assets! {
    "index.html" => HTML,
    "app.css" => CSS,
    "favicon.svg" => SVG,
    "i18n/en.json" => JSON,
    "i18n/zh-CN.json" => JSON,
    "js/api.js" => JS,
    "js/charts.js" => JS,
    "js/dom.js" => JS,
    "js/format.js" => JS,
    "js/i18n.js" => JS,
    "js/main.js" => JS,
    "js/ui.js" => JS,
    "js/pages/apps.js" => JS,
    "js/pages/audit.js" => JS,
    "js/pages/bundles.js" => JS,
    "js/pages/channels.js" => JS,
    "js/pages/devices.js" => JS,
    "js/pages/icp.js" => JS,
    "js/pages/overview.js" => JS,
    "js/pages/signin.js" => JS,
    "vendor/uPlot.iife.min.js" => JS,
    "vendor/uPlot.min.css" => CSS,
};

/// The `Content-Security-Policy` of every response: scripts, styles, fonts and connections only
/// from this origin, no inline script or `style=` attribute, no framing, no plugins, no forms
/// posting elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers [`security_headers`] adds to every response that does not set them itself.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// `ETag`s of [`ASSETS`], computed once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let hash = hex::encode(&Sha256::digest(a.bytes)[..16]);
            HeaderValue::from_str(&format!("\"{hash}\"")).expect("hex is a valid header value")
        })
        .collect()
});

fn serve(index: usize, headers: &HeaderMap) -> Response {
    let asset = &ASSETS[index];
    let etag = ETAGS[index].clone();
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == etag)
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag),
            cache,
        ],
        asset.bytes,
    )
        .into_response()
}

/// `GET /`: the console's page.
pub async fn index(headers: HeaderMap) -> Response {
    let i = ASSETS
        .iter()
        .position(|a| a.path == "index.html")
        .expect("index.html is embedded");
    serve(i, &headers)
}

/// `GET /console/{path}`: a script, style sheet, dictionary or vendored file; unknown → 404 JSON.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => serve(i, &headers),
        None => HttpError::not_found(
            "console_file_not_found",
            format!("the console has no file {}", landfall_core::clip(&path)),
        )
        .into_response(),
    }
}

/// Outer layer: add the security headers to every response (a handler that sets one keeps its
/// own).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    res
}
