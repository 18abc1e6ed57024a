//! Operations metrics in the Prometheus text format at `GET /metrics` (off, token-protected — the
//! default — or open: [`crate::settings::MetricsAccess`]).
//!
//! Counters and histograms are updated where things happen (one middleware for every request,
//! the download stream, the stats writer); gauges (recorder backlog, stats queue, database pools)
//! are read when scraped. Labels are `&'static str` only — routes are interned once from axum's
//! matched path templates — so the hot path never allocates for a metric.

use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::RwLock;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::admin::auth::Caller;
use crate::catalog::BlobKind;
use crate::error::{HttpError, HttpResult};
use crate::settings::MetricsAccess;
use crate::state::Shared;

type Labels<const N: usize> = [(&'static str, &'static str); N];
type Histograms<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// Distinct routes tracked at most (route templates are few; this only bounds the interner).
const MAX_ROUTES: usize = 512;

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric Landfall exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels<3>, Counter>,
    latency: Histograms<1>,
    bytes_served: Family<Labels<1>, Counter>,
    downloads: Family<Labels<1>, Counter>,
    recorder_pending: Gauge,
    stats_queued: Gauge,
    pool_connections: Family<Labels<2>, Gauge>,
    pool_max: Family<Labels<1>, Gauge>,
    routes: RwLock<HashMap<Box<str>, &'static str>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The registry, with the stats writer's own counters registered alongside.
    pub fn new(stats: &crate::stats::StatsSink) -> Self {
        let mut registry = Registry::with_prefix("landfall");
        let requests = Family::<Labels<3>, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status class",
            requests.clone(),
        );
        let latency: Histograms<1> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by route template",
            latency.clone(),
        );
        let bytes_served = Family::<Labels<1>, Counter>::default();
        registry.register(
            "bytes_served",
            "Bytes streamed from /blobs/, by kind (full zip or delta file)",
            bytes_served.clone(),
        );
        let downloads = Family::<Labels<1>, Counter>::default();
        registry.register(
            "downloads",
            "GET /blobs/ responses with a body, by kind (full zip or delta file)",
            downloads.clone(),
        );
        let recorder_pending = Gauge::default();
        registry.register(
            "recorder_pending_devices",
            "Device check-ins waiting to be written",
            recorder_pending.clone(),
        );
        let stats_queued = Gauge::default();
        registry.register(
            "stats_queued_requests",
            "/stats requests waiting for the shared commit",
            stats_queued.clone(),
        );
        stats.register_metrics(&mut registry);
        let pool_connections = Family::<Labels<2>, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open database connections, by pool and state (idle or busy)",
            pool_connections.clone(),
        );
        let pool_max = Family::<Labels<1>, Gauge>::default();
        registry.register(
            "db_pool_max_connections",
            "The most connections a pool opens",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            bytes_served,
            downloads,
            recorder_pending,
            stats_queued,
            pool_connections,
            pool_max,
            routes: RwLock::new(HashMap::new()),
        }
    }

    /// A `'static` label for a route template (each template is leaked once; bounded).
    fn intern(&self, route: &str) -> &'static str {
        if let Some(r) = self.routes.read().get(route) {
            return r;
        }
        let mut routes = self.routes.write();
        if routes.len() >= MAX_ROUTES {
            return "other";
        }
        routes
            .entry(route.into())
            .or_insert_with(|| Box::leak(route.to_owned().into_boxed_str()))
    }

    fn observe(&self, route: &'static str, method: &Method, status: StatusCode, started: Instant) {
        let method = match *method {
            Method::GET => "GET",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::HEAD => "HEAD",
            Method::OPTIONS => "OPTIONS",
            _ => "other",
        };
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&[("route", route), ("method", method), ("status", class)])
            .inc();
        self.latency
            .get_or_create(&[("route", route)])
            .observe(started.elapsed().as_secs_f64());
    }

    /// A download of `kind` started.
    pub fn download_started(&self, kind: BlobKind) {
        self.downloads
            .get_or_create(&[("kind", kind.as_str())])
            .inc();
    }

    /// The counter of bytes sent for `kind` blobs (a handle: counting is one atomic add).
    pub fn bytes_counter(&self, kind: BlobKind) -> Counter {
        self.bytes_served
            .get_or_create_owned(&[("kind", kind.as_str())])
    }

    /// The text exposition, gauges read now.
    pub fn render(&self, state: &crate::state::AppState) -> String {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.recorder_pending.set(gauge(state.devices.pending()));
        self.stats_queued.set(gauge(state.stats.queued()));
        for p in state.store.pool_status() {
            let busy = p.size.saturating_sub(p.idle);
            for (st, n) in [("idle", p.idle), ("busy", busy)] {
                self.pool_connections
                    .get_or_create(&[("pool", p.name), ("state", st)])
                    .set(i64::from(n));
            }
            self.pool_max
                .get_or_create(&[("pool", p.name)])
                .set(i64::from(p.max));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The route template a request matched, handed from the inner route layer to [`track`].
#[derive(Clone, Copy)]
struct RouteLabel(&'static str);

/// Inner layer (after routing): note the matched route template on the response.
pub async fn label_route(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| s.metrics.intern(p.as_str()));
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(RouteLabel(route));
    }
    res
}

/// Outer layer: count and time every request (unrouted ones as `unmatched`).
pub async fn track(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map_or("unmatched", |r| r.0);
    s.metrics.observe(route, &method, res.status(), started);
    res
}

/// `GET /metrics`.
pub async fn scrape(
    State(s): State<Shared>,
    caller: Result<Caller, HttpError>,
) -> HttpResult<Response> {
    match s.settings.metrics {
        MetricsAccess::Off => {
            return Err(HttpError::not_found(
                "metrics_off",
                "metrics are off on this server (start it with --metrics token or --metrics open)",
            ))
        }
        // Any token or session with read access to every app.
        MetricsAccess::Token => caller?.require(None, landfall_store::Role::Read)?,
        MetricsAccess::Open => {}
    }
    let body = s.metrics.render(&s);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
