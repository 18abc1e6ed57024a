//! The control plane under device traffic (issue 7), against the real binary.
//!
//! Devices post `/stats` (several hundred posts a second) and check for updates without pause
//! while an operator performs 200 rollbacks, 100 channel moves, 50 uploads with a channel and 20
//! kill switches. Every operator action must succeed (no 500 `database is locked`, no 503), and
//! after every kill switch all channels must agree. Latencies are printed (the benchmark harness
//! `bench/control-plane.sh` records them in BENCHMARKS.md); the test asserts correctness only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::Server;

const APP: &str = "com.example.load";
const CHANNELS: [&str; 7] = ["production", "beta", "c1", "c2", "c3", "c4", "c5"];

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn bundle(version: &str) -> Vec<u8> {
    let html = format!("<html><body>{version}</body></html>");
    zip_of(&[
        ("index.html", html.as_bytes()),
        ("app.js", b"CapacitorUpdater.notifyAppReady()"),
    ])
}

fn device(i: u64) -> Value {
    json!({
        "platform": if i % 2 == 0 { "android" } else { "ios" },
        "device_id": format!("{:08x}-0000-4000-8000-{:012x}", i as u32, i),
        "app_id": APP,
        "custom_id": "",
        "version_build": "1.0.0",
        "version_code": "10",
        "version_os": "14",
        "version_name": "builtin",
        "plugin_version": "8.51.14",
        "is_emulator": false,
        "is_prod": true,
        "defaultChannel": ""
    })
}

struct Admin {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Admin {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("admin request failed to send");
        let status = resp.status();
        let value = resp.json().await.unwrap_or(Value::Null);
        (status, value)
    }

    async fn upload(&self, version: &str, channel: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/apps/{APP}/bundles?version={version}&channel={channel}",
                self.url
            ))
            .bearer_auth(&self.token)
            .header("content-type", "application/zip")
            .body(bundle(version))
            .send()
            .await
            .expect("upload failed to send");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_actions_never_fail_under_device_traffic() {
    let server = Server::start().await;
    let admin = Admin {
        http: reqwest::Client::new(),
        url: server.url.clone(),
        token: server.token.clone(),
    };
    use reqwest::Method;
    let (s, v) = admin
        .call(Method::POST, "/apps", Some(json!({ "app_id": APP })))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for v in ["1.0.0", "1.0.1", "1.0.2"] {
        let (s, body) = admin.upload(v, "production").await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    for name in &CHANNELS[1..] {
        let (s, body) = admin
            .call(
                Method::POST,
                &format!("/apps/{APP}/channels"),
                Some(json!({ "name": name, "bundle": "1.0.1" })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    let (s, incident) = admin
        .call(
            Method::POST,
            &format!("/apps/{APP}/icp/incidents"),
            Some(json!({ "title": "load test", "severity": "high" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{incident}");
    let incident = incident["id"].as_i64().unwrap();

    // Device traffic: stats posters and update checkers until the operator is done.
    let stop = Arc::new(AtomicBool::new(false));
    let stats_posts = Arc::new(AtomicU64::new(0));
    let checks = Arc::new(AtomicU64::new(0));
    let device_failures = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for worker in 0..12u64 {
        let (stop, posts, fails) = (stop.clone(), stats_posts.clone(), device_failures.clone());
        let url = server.url.clone();
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = worker * 1_000_000;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let mut ev = device(i % 50_000);
                ev["action"] = json!(if i % 3 == 0 {
                    "download_complete"
                } else {
                    "set"
                });
                ev["version_name"] = json!("1.0.1");
                let batch = Value::Array(vec![ev.clone(), ev]);
                match http.post(format!("{url}/stats")).json(&batch).send().await {
                    Ok(r) if r.status() == StatusCode::OK => {
                        posts.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/stats answered {}: {:?}", r.status(), r.text().await);
                    }
                    Err(e) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/stats failed: {e}");
                    }
                }
            }
        }));
    }
    for worker in 0..4u64 {
        let (stop, checks, fails) = (stop.clone(), checks.clone(), device_failures.clone());
        let url = server.url.clone();
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                i += 4;
                match http
                    .post(format!("{url}/updates"))
                    .json(&device(i % 50_000))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == StatusCode::OK => {
                        checks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/updates answered {}", r.status());
                    }
                    Err(e) => {
                        fails.fetch_add(1, Ordering::Relaxed);
                        eprintln!("/updates failed: {e}");
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The operator: 200 rollbacks, 100 channel moves, 50 uploads with --channel, 20 kill switches,
    // interleaved. Every call must succeed.
    let started = Instant::now();
    let posts_before = stats_posts.load(Ordering::Relaxed);
    let mut failures: Vec<String> = Vec::new();
    let mut lat: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    let mut uploaded = 2u32;
    let (mut rollbacks, mut moves, mut uploads, mut kills) = (0, 0, 0, 0);
    let mut step = 0u32;
    while rollbacks < 200 || moves < 100 || uploads < 50 || kills < 20 {
        step += 1;
        let channel = CHANNELS[step as usize % CHANNELS.len()];
        let t0 = Instant::now();
        let (kind, status, body) = if kills < 20 && step % 19 == 0 {
            kills += 1;
            let target = if kills % 2 == 0 { "builtin" } else { "1.0.0" };
            let (s, b) = admin
                .call(
                    Method::POST,
                    &format!("/apps/{APP}/icp/incidents/{incident}/kill-switch"),
                    Some(json!({ "target": target, "note": format!("kill {kills}") })),
                )
                .await;
            if s == StatusCode::OK {
                // Every channel agrees, with no rollout left.
                let (_, list) = admin
                    .call(Method::GET, &format!("/apps/{APP}/channels"), None)
                    .await;
                for c in list.as_array().unwrap() {
                    if c["bundle"] != target || !c["rollout"].is_null() {
                        failures.push(format!("after kill switch {kills} to {target}: {c}"));
                    }
                }
            }
            ("kill_switch", s, b)
        } else if uploads < 50 && step % 7 == 0 {
            uploads += 1;
            uploaded += 1;
            let (s, b) = admin.upload(&format!("1.1.{uploaded}"), channel).await;
            ("upload_with_channel", s, b)
        } else if moves < 100 && step % 3 == 0 {
            moves += 1;
            let body = if moves % 4 == 0 {
                json!({ "bundle": "1.0.1", "rollout": { "bundle": "1.0.2", "percent": 25.0, "paused": false } })
            } else {
                json!({ "bundle": if moves % 2 == 0 { "1.0.1" } else { "1.0.2" } })
            };
            let (s, b) = admin
                .call(
                    Method::PATCH,
                    &format!("/apps/{APP}/channels/{channel}"),
                    Some(body),
                )
                .await;
            ("channel_set", s, b)
        } else if rollbacks < 200 {
            rollbacks += 1;
            let body = if rollbacks % 5 == 0 {
                json!({ "to": "builtin" })
            } else {
                json!({ "to": "1.0.1" })
            };
            let (s, b) = admin
                .call(
                    Method::POST,
                    &format!("/apps/{APP}/channels/{channel}/rollback"),
                    Some(body),
                )
                .await;
            if s == StatusCode::OK && !b["rollout"].is_null() {
                failures.push(format!("rollback left a rollout: {b}"));
            }
            ("rollback", s, b)
        } else {
            continue;
        };
        lat.entry(kind).or_default().push(t0.elapsed());
        if !status.is_success() {
            failures.push(format!("{kind} #{step}: {status} {body}"));
        }
    }
    let elapsed = started.elapsed();
    let posts_during = stats_posts.load(Ordering::Relaxed) - posts_before;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }

    eprintln!(
        "operator: {rollbacks} rollbacks, {moves} moves, {uploads} uploads, {kills} kill switches in {:.1} s; \
         devices meanwhile: {posts_during} /stats posts ({:.0}/s), {} update checks",
        elapsed.as_secs_f64(),
        posts_during as f64 / elapsed.as_secs_f64(),
        checks.load(Ordering::Relaxed)
    );
    for (kind, mut v) in lat {
        v.sort();
        eprintln!(
            "  {kind:<20} n={:<4} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms",
            v.len(),
            percentile(&v, 0.5).as_secs_f64() * 1e3,
            percentile(&v, 0.99).as_secs_f64() * 1e3,
            v.last().unwrap().as_secs_f64() * 1e3
        );
    }
    assert!(
        failures.is_empty(),
        "{} operator failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        device_failures.load(Ordering::Relaxed),
        0,
        "device requests failed"
    );
    assert!(
        posts_during > 1_000,
        "the device load must run during the operator's work ({posts_during} posts)"
    );
    assert_eq!((rollbacks, moves, uploads, kills), (200, 100, 50, 20));
}
