//! `/stats` ingestion: shared commits and a bound on volume.
//!
//! **Shared commits.** Every `/stats` request is acknowledged only after its events are durable,
//! but requests do not each pay for a transaction and an fsync: handlers hand their events to one
//! writer task, which takes everything queued, writes it in one transaction and then answers every
//! waiting request. Under load, one commit serves many requests, and the single SQLite writer
//! connection stays free for operators (a rollback waits for at most one batch, never fails).
//!
//! **Volume bound.** `/stats` is unauthenticated. Events over a per-device or per-app budget per
//! minute are dropped and counted — never refused with 429, which would make the plugin back off
//! for a long time — so a misbehaving device or a flood cannot grow the database without limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use landfall_store::{now_ms, StatEvent, Store, StoreError};
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Most events written in one transaction.
const BATCH_EVENTS: usize = 10_000;
/// Queued requests before handlers wait for room (back-pressure, not refusal).
const QUEUE: usize = 4_096;
/// Length of the budget window.
const WINDOW_MS: i64 = 60_000;
/// Devices tracked per window; past this, new devices share the app budget only.
const MAX_TRACKED_DEVICES: usize = 1_000_000;

/// Budgets per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsLimits {
    /// Events one device may send per minute (the plugin sends a handful per update).
    pub per_device_per_minute: u32,
    /// Events one app may store per minute, all devices together.
    pub per_app_per_minute: u64,
}

impl Default for StatsLimits {
    fn default() -> Self {
        Self {
            per_device_per_minute: 300,
            per_app_per_minute: 1_200_000,
        }
    }
}

struct Job {
    events: Vec<StatEvent>,
    done: oneshot::Sender<Result<(), String>>,
    queued: Instant,
}

/// What the writer counts for `/metrics`.
#[derive(Clone)]
struct WriterMetrics {
    /// Queued → durable, per request (the ingest lag a device waits for).
    lag: Histogram,
    /// Events written, by outcome (`stored`, `duplicate`, `failed`).
    events: Family<[(&'static str, &'static str); 1], Counter>,
    /// Shared commits (each holds one or more requests).
    commits: Counter,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        Self {
            // 0.5 ms … ~16 s.
            lag: Histogram::new(exponential_buckets(0.000_5, 2.0, 16)),
            events: Family::default(),
            commits: Counter::default(),
        }
    }
}

#[derive(Default)]
struct Window {
    started: i64,
    per_device: HashMap<(String, String), u32>,
    per_app: HashMap<String, u64>,
}

/// The ingestion front: budgets, drop counters and the queue to the writer task.
pub struct StatsSink {
    queue: mpsc::Sender<Job>,
    limits: StatsLimits,
    window: Mutex<Window>,
    dropped: Mutex<HashMap<String, Arc<AtomicU64>>>,
    /// The app of every commit that stored new events (for live views).
    live: broadcast::Sender<Arc<str>>,
    metrics: WriterMetrics,
}

impl std::fmt::Debug for StatsSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsSink")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why events could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("stats writer stopped")]
    Stopped,
    #[error("storing stats failed: {0}")]
    Store(String),
}

impl StatsSink {
    /// Start the writer task over a store.
    pub fn start(store: Arc<dyn Store>, limits: StatsLimits) -> Arc<Self> {
        let (queue, rx) = mpsc::channel(QUEUE);
        let (live, _) = broadcast::channel(256);
        let metrics = WriterMetrics::default();
        tokio::spawn(write_loop(store, rx, live.clone(), metrics.clone()));
        Arc::new(Self {
            queue,
            limits,
            window: Mutex::new(Window::default()),
            dropped: Mutex::new(HashMap::new()),
            live,
            metrics,
        })
    }

    /// Requests waiting for a commit.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Register the writer's counters (and the dropped-event total) in the `/metrics` registry.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "stats_ingest_lag_seconds",
            "Time from a /stats request being queued to its events being durable",
            self.metrics.lag.clone(),
        );
        registry.register(
            "stats_events",
            "Stats events, by outcome (stored, duplicate of a stored one, failed, dropped over budget)",
            self.metrics.events.clone(),
        );
        registry.register(
            "stats_commits",
            "Shared /stats commits",
            self.metrics.commits.clone(),
        );
    }

    /// Keep the events within budget; count the rest as dropped. Returns what to store.
    pub fn admit(&self, events: Vec<StatEvent>) -> Vec<StatEvent> {
        let now = now_ms();
        let mut kept = Vec::with_capacity(events.len());
        let mut dropped: HashMap<String, u64> = HashMap::new();
        {
            let mut w = self.window.lock();
            if now - w.started >= WINDOW_MS {
                *w = Window {
                    started: now,
                    ..Window::default()
                };
            }
            for e in events {
                let app_used = w.per_app.get(&e.app_id).copied().unwrap_or(0);
                let key = (e.app_id.clone(), e.device_id.clone());
                let tracked =
                    w.per_device.len() < MAX_TRACKED_DEVICES || w.per_device.contains_key(&key);
                let device_used = w.per_device.get(&key).copied().unwrap_or(0);
                if app_used >= self.limits.per_app_per_minute
                    || (tracked && device_used >= self.limits.per_device_per_minute)
                {
                    *dropped.entry(e.app_id).or_default() += 1;
                    continue;
                }
                if tracked {
                    w.per_device.insert(key, device_used + 1);
                }
                *w.per_app.entry(e.app_id.clone()).or_default() += 1;
                kept.push(e);
            }
        }
        for (app, n) in dropped {
            let total = self.counter(&app).fetch_add(n, Ordering::Relaxed) + n;
            self.metrics
                .events
                .get_or_create(&[("outcome", "dropped")])
                .inc_by(n);
            // One line per 1,000 drops at most: the log must not become the flood.
            if total / 1_000 != (total - n) / 1_000 || total == n {
                tracing::warn!(app = %app, dropped_total = total, "stats over budget dropped");
            }
        }
        kept
    }

    fn counter(&self, app: &str) -> Arc<AtomicU64> {
        self.dropped
            .lock()
            .entry(app.to_owned())
            .or_default()
            .clone()
    }

    /// Events of an app dropped over budget since the server started.
    pub fn dropped(&self, app: &str) -> u64 {
        self.dropped
            .lock()
            .get(app)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Apps whose new events were just committed, as they commit (a lagging receiver skips ahead).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.live.subscribe()
    }

    /// Store events durably (shared commit); returns once they are committed.
    pub async fn store(&self, events: Vec<StatEvent>) -> Result<(), StatsError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Job {
                events,
                done,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| StatsError::Stopped)?;
        answer
            .await
            .map_err(|_| StatsError::Stopped)?
            .map_err(StatsError::Store)
    }
}

async fn write_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    live: broadcast::Sender<Arc<str>>,
    metrics: WriterMetrics,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut n = jobs[0].events.len();
        while n < BATCH_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let mut all = Vec::with_capacity(n);
        for j in &mut jobs {
            all.append(&mut j.events);
        }
        let written = store.insert_stats(&all).await;
        let outcome = |o: &'static str| metrics.events.get_or_create(&[("outcome", o)]).clone();
        let result = match written {
            Ok(fresh) => {
                metrics.commits.inc();
                outcome("stored").inc_by(fresh);
                outcome("duplicate").inc_by(all.len() as u64 - fresh.min(all.len() as u64));
                if fresh > 0 {
                    let mut apps: Vec<&str> = all.iter().map(|e| e.app_id.as_str()).collect();
                    apps.sort_unstable();
                    apps.dedup();
                    for app in apps {
                        // Nobody listening is fine.
                        let _ = live.send(Arc::from(app));
                    }
                }
                Ok(())
            }
            Err(e @ StoreError::Busy(_)) => {
                outcome("failed").inc_by(all.len() as u64);
                Err(e.to_string())
            }
            Err(e) => {
                outcome("failed").inc_by(all.len() as u64);
                tracing::error!(error = %e, events = all.len(), "storing stats failed");
                Err(e.to_string())
            }
        };
        for j in jobs {
            metrics.lag.observe(j.queued.elapsed().as_secs_f64());
            let _ = j.done.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(app: &str, device: &str) -> StatEvent {
        StatEvent {
            app_id: app.into(),
            device_id: device.into(),
            action: "set".into(),
            version_name: "1.0.1".into(),
            old_version_name: String::new(),
            platform: "android".into(),
            plugin_version: "8.51.14".into(),
            at: 1,
            received_at: 1,
            metadata: None,
            version_os: "14".into(),
            custom_id: String::new(),
            is_emulator: false,
            is_prod: true,
            key_id: String::new(),
            channel: String::new(),
        }
    }

    #[tokio::test]
    async fn budgets_drop_and_count_excess_per_device_and_per_app() {
        let store = landfall_store_sqlite::SqliteStore::memory().await.unwrap();
        let sink = StatsSink::start(
            Arc::new(store),
            StatsLimits {
                per_device_per_minute: 3,
                per_app_per_minute: 5,
            },
        );
        let kept = sink.admit((0..10).map(|_| ev("com.a.b", "d1")).collect());
        assert_eq!(kept.len(), 3, "per device");
        assert_eq!(sink.dropped("com.a.b"), 7);
        let kept = sink.admit(vec![
            ev("com.a.b", "d2"),
            ev("com.a.b", "d3"),
            ev("com.a.b", "d4"),
        ]);
        assert_eq!(kept.len(), 2, "per app: 3 + 2 = 5");
        assert_eq!(sink.dropped("com.a.b"), 8);
        assert_eq!(
            sink.admit(vec![ev("com.c.d", "d1")]).len(),
            1,
            "apps are separate"
        );
        assert_eq!(sink.dropped("com.c.d"), 0);
    }

    #[tokio::test]
    async fn concurrent_requests_share_commits_and_all_land() {
        use landfall_store::Store;
        let store = Arc::new(landfall_store_sqlite::SqliteStore::memory().await.unwrap());
        store.create_app("com.a.b", "A", "t").await.unwrap();
        let sink = StatsSink::start(store.clone(), StatsLimits::default());
        let mut tasks = Vec::new();
        for i in 0..200 {
            let sink = sink.clone();
            tasks.push(tokio::spawn(async move {
                let events = (0..5)
                    .map(|k| StatEvent {
                        at: k,
                        ..ev("com.a.b", &format!("dev-{i}"))
                    })
                    .collect();
                sink.store(events).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(store.count_stats("com.a.b").await.unwrap(), 1_000);
    }
}
