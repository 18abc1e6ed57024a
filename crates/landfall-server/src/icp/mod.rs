//! The ICP-filing (ICP备案) compliance desk over HTTP: `/api/v1/apps/{app}/icp/…` per app,
//! `/api/v1/icp/…` for the server-wide helpers (number check, IP check, working-day calendar),
//! and the public `GET /icp/{app_id}` display.
//!
//! The domain rules live in `landfall-icp`; this module stores (through
//! [`landfall_store::icp::IcpStore`]), authorises and serves them. Compliance documents are kept
//! in their own blob store (`<data_dir>/icp-documents`), not in the bundle blob store: bundle
//! blobs are public by hash (`/blobs/{sha256}`) and swept at start when no bundle references
//! them, neither of which is acceptable for business licences and ID scans.
//!
//! Authorisation: reading needs `read` on the app, except the compliance documents (listings,
//! metadata and contents: ID-card scans and licences are personal data) which need `admin`, like
//! the backup that holds the same files; recording and changing needs `admin`; the
//! kill switch needs `upload` (the same power as a channel rollback). The server-wide helpers
//! need any valid token; loading a calendar year needs `*:admin`.

pub(crate) mod calendar;
pub(crate) mod compliance;
pub(crate) mod documents;
pub(crate) mod drift;
pub(crate) mod filing;
pub(crate) mod incidents;
pub(crate) mod public;
pub(crate) mod records;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use landfall_icp::api::ServerPerformance;
use landfall_icp::{Localized, WorkCalendar};
use landfall_store::blob::BlobStore;
use landfall_store::icp::IcpStore;
use landfall_store::StoreError;

pub use drift::drift_check;
pub use public::display as public_display;

use crate::error::HttpError;
use crate::state::{AppState, Shared};

/// Largest compliance document or evidence file accepted: 20 MB.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1000 * 1000;

/// Folder of the document blob store under the data directory.
pub const DOCUMENTS_DIR: &str = "icp-documents";

/// Request counters for the weekly server-performance record.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    started_at: DateTime<Utc>,
    requests: AtomicU64,
    update_checks: AtomicU64,
    server_errors: AtomicU64,
    total_micros: AtomicU64,
    max_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            started_at: Utc::now(),
            requests: AtomicU64::new(0),
            update_checks: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            total_micros: AtomicU64::new(0),
            max_micros: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    fn record(&self, path: &str, status: StatusCode, micros: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if path == "/updates" {
            self.update_checks.fetch_add(1, Ordering::Relaxed);
        }
        if status.is_server_error() {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
    }

    /// A snapshot of the counters.
    pub fn snapshot(&self) -> ServerPerformance {
        let requests = self.requests.load(Ordering::Relaxed);
        let total = self.total_micros.load(Ordering::Relaxed);
        ServerPerformance {
            started_at: self.started_at,
            uptime_seconds: self.started.elapsed().as_secs(),
            requests_served: requests,
            update_checks: self.update_checks.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            mean_latency_ms: if requests == 0 {
                0.0
            } else {
                total as f64 / requests as f64 / 1000.0
            },
            max_latency_ms: self.max_micros.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }
}

/// Middleware counting every request (layered over the whole router).
pub async fn count_requests(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    s.icp.metrics.record(&path, res.status(), micros);
    res
}

/// State of the ICP desk, held in [`AppState::icp`].
pub struct IcpState {
    pub store: Arc<dyn IcpStore>,
    /// Private blob store of compliance documents and evidence files.
    pub documents: Arc<dyn BlobStore>,
    calendar: ArcSwap<WorkCalendar>,
    /// Serialises calendar loads (read-modify-swap).
    calendar_write: tokio::sync::Mutex<()>,
    /// Serialises evidence attachments (read-modify-write of a completion).
    evidence_write: tokio::sync::Mutex<()>,
    pub metrics: Metrics,
    /// A fixed "today" for the desk (tests); `None`, always in production: the real date in China.
    fixed_today: parking_lot::RwLock<Option<NaiveDate>>,
}

impl std::fmt::Debug for IcpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IcpState")
            .field("loaded_years", &self.calendar().loaded_years())
            .finish_non_exhaustive()
    }
}

impl IcpState {
    /// Over given stores; loads the stored calendar years over the built-in data.
    pub async fn new(
        store: Arc<dyn IcpStore>,
        documents: Arc<dyn BlobStore>,
    ) -> Result<Self, StoreError> {
        let mut cal = WorkCalendar::builtin();
        for y in store.list_calendar_years().await? {
            if let Err(e) = cal.load_year_json(&y.data) {
                // Validated when loaded; only a hand-edited database gets here.
                tracing::warn!(year = y.year, error = %e, "ignoring an invalid stored holiday year");
            }
        }
        Ok(IcpState {
            store,
            documents,
            calendar: ArcSwap::from_pointee(cal),
            calendar_write: tokio::sync::Mutex::new(()),
            evidence_write: tokio::sync::Mutex::new(()),
            metrics: Metrics::default(),
            fixed_today: parking_lot::RwLock::new(None),
        })
    }

    /// Today for the desk: the real date in China unless [`IcpState::set_today`] fixed one.
    pub fn today(&self) -> NaiveDate {
        (*self.fixed_today.read()).unwrap_or_else(china_today)
    }

    /// Fixes the desk's "today" (`None`: back to the real date). For tests that must not depend
    /// on the real date; `landfall serve` never calls it.
    pub fn set_today(&self, day: Option<NaiveDate>) {
        *self.fixed_today.write() = day;
    }

    /// The working-day calendar in use.
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar.load_full()
    }
}

/// Routes under `/api/v1` (merged into the admin API router).
pub fn router() -> Router<Shared> {
    let app = |p: &str| format!("/apps/{{app}}/icp{p}");
    Router::new()
        .route(&app("/filing"), get(filing::get).put(filing::record))
        .route(&app("/filing/transitions"), post(filing::transition))
        .route(&app("/filing/changes"), get(filing::changes))
        .route(&app("/timeline"), get(filing::timeline))
        .route(&app("/readiness"), get(documents::readiness))
        .route(&app("/hosting"), get(filing::hosting))
        .route(
            &app("/documents"),
            get(documents::list)
                .post(documents::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            &app("/documents/{id}"),
            get(documents::get)
                .patch(documents::patch)
                .delete(documents::delete),
        )
        .route(&app("/documents/{id}/content"), get(documents::content))
        .route(
            &app("/settings"),
            get(compliance::get_settings).put(compliance::put_settings),
        )
        .route(&app("/compliance"), get(compliance::calendar))
        .route(
            &app("/compliance/{check}/prefill"),
            get(compliance::prefill),
        )
        .route(
            &app("/compliance/{check}/completions"),
            post(compliance::complete),
        )
        .route(
            &app("/compliance/completions/{id}/evidence"),
            post(compliance::evidence).layer(DefaultBodyLimit::disable()),
        )
        .route(
            &app("/emergency"),
            get(incidents::get_emergency).put(incidents::put_emergency),
        )
        .route(
            &app("/incidents"),
            get(incidents::list).post(incidents::create),
        )
        .route(&app("/incidents/{id}"), get(incidents::get))
        .route(&app("/incidents/{id}/timeline"), post(incidents::update))
        .route(
            &app("/incidents/{id}/kill-switch"),
            post(incidents::kill_switch),
        )
        .route(&app("/export"), get(records::export))
        .route(&app("/report"), get(records::report))
        .route(&app("/backup"), get(records::backup))
        .route("/icp/numbers/check", post(filing::check_number))
        .route("/icp/ip-check", post(filing::ip_check))
        .route("/icp/calendar", get(calendar::info))
        .route("/icp/calendar/years", post(calendar::load_year))
        .route("/icp/calendar/days/{date}", get(calendar::day))
        .route("/icp/calendar/working-days", get(calendar::working_days))
}

// ------------------------------------------------------------------------------------------------
// Shared helpers
// ------------------------------------------------------------------------------------------------

/// An error whose message is shown in English and Chinese (`English / 中文`).
pub(crate) fn bilingual(status: StatusCode, code: &'static str, m: &Localized) -> HttpError {
    HttpError::new(status, code, m.to_string())
}

/// 400 with an English and a Chinese message.
pub(crate) fn bad(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> HttpError {
    bilingual(StatusCode::BAD_REQUEST, code, &Localized::new(en, zh))
}

/// Today in mainland China.
pub(crate) fn china_today() -> NaiveDate {
    landfall_icp::filing::china_date(Utc::now())
}

/// Parses a `YYYY-MM-DD` query value with a precise message (impossible dates included).
pub(crate) fn parse_date(field: &str, value: &str) -> Result<NaiveDate, HttpError> {
    let v = value.trim();
    let shown = landfall_core::clip(v);
    let shape_ok = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if shape_ok => Ok(d),
        _ if shape_ok => Err(bad(
            "invalid_date",
            format!("{field}: {shown} is not a date that exists (check the month and day)"),
            format!("{field}：{shown} 不是存在的日期（请检查月份和日期）"),
        )),
        _ => Err(bad(
            "invalid_date",
            format!("{field}: `{shown}` is not a date in YYYY-MM-DD form"),
            format!("{field}：「{shown}」不是 YYYY-MM-DD 格式的日期"),
        )),
    }
}

/// `?today=` override (planning ahead / reproducible reports), else the desk's today.
pub(crate) fn today_or(icp: &IcpState, q: Option<&str>) -> Result<NaiveDate, HttpError> {
    match q {
        Some(t) if !t.trim().is_empty() => parse_date("today", t),
        _ => Ok(icp.today()),
    }
}

/// A calendar error as a 422 with both languages (`year_not_loaded` for missing years).
pub(crate) fn calendar_error(e: &landfall_icp::CalendarError) -> HttpError {
    let code = match e {
        landfall_icp::CalendarError::YearNotLoaded { .. } => "year_not_loaded",
        _ => "invalid_calendar",
    };
    bilingual(StatusCode::UNPROCESSABLE_ENTITY, code, &e.localized())
}

/// Reads a whole request body into memory, refusing more than `max` bytes. An interrupted
/// upload is an error: nothing is stored unless every byte arrived.
pub(crate) async fn read_body(body: axum::body::Body, max: usize) -> Result<Vec<u8>, HttpError> {
    use futures::StreamExt;
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            bad(
                "upload_interrupted",
                format!("the upload stopped before the end: {e}"),
                "上传在完成前中断",
            )
        })?;
        if out.len() + chunk.len() > max {
            return Err(bilingual(
                StatusCode::PAYLOAD_TOO_LARGE,
                "document_too_large",
                &Localized::new(
                    format!("the file is larger than {} MB", max / 1_000_000),
                    format!("文件超过 {} MB", max / 1_000_000),
                ),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    if out.is_empty() {
        return Err(bad(
            "empty_body",
            "the request body is empty; send the file",
            "请求体为空，请上传文件",
        ));
    }
    Ok(out)
}

/// sha256 hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Common prologue of the per-app handlers: scope, then the app must exist.
pub(crate) async fn authorize(
    s: &AppState,
    caller: &crate::admin::auth::Caller,
    app: &str,
    role: landfall_store::Role,
) -> Result<(), HttpError> {
    caller.require(Some(app), role)?;
    crate::admin::existing_app(s, app).await
}

/// Names of a stored JSON enum value (`"entity_certificate"` …).
pub(crate) fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Parses a stored enum name.
pub(crate) fn enum_from<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}
