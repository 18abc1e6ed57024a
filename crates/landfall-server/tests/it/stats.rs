//! Release analytics over HTTP: a simulated fleet whose answers are known by construction, the
//! report's refusals, and the live stream.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use landfall_core::analytics::ADOPTION_BUCKET_MS;
use landfall_store::DeviceSeen;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::{device_request, TestApp, APP};

const FLEET: u64 = 10_000;
/// Devices 0..SUCCEEDED install the release; the rest fail twice and never run it.
const SUCCEEDED: u64 = 9_500;
/// Device `i` runs the release `(i + 1) × STEP_MS` after it was released.
const STEP_MS: i64 = 6_000;

fn device_id(i: u64) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

fn platform(i: u64) -> &'static str {
    if i % 2 == 0 {
        "ios"
    } else {
        "android"
    }
}

fn seen(i: u64, version: &str, at: i64) -> DeviceSeen {
    DeviceSeen {
        app_id: APP.into(),
        device_id: device_id(i),
        platform: platform(i).into(),
        version_build: "1.0.0".into(),
        version_code: "1".into(),
        version_os: "14".into(),
        version_name: version.into(),
        plugin_version: "7.0.0".into(),
        custom_id: String::new(),
        is_emulator: false,
        is_prod: true,
        install_source: String::new(),
        channel: "production".into(),
        key_id: String::new(),
        seen_at: at,
    }
}

/// When bundle 1.0.1 was released: the first time a channel pointed at it.
async fn released_at(app: &TestApp) -> i64 {
    let r = app
        .api(
            "GET",
            &format!("/apps/{APP}/channels/production/history"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["bundle"] == "1.0.1")
        .map(|h| h["at"].as_i64().unwrap())
        .min()
        .expect("production points at 1.0.1")
}

/// The events device `i` sends about release 1.0.1 released at `release`.
fn events_of(i: u64, release: i64) -> Vec<Value> {
    let ran = release + (i as i64 + 1) * STEP_MS;
    // 70 % of downloads take 30 s, the rest 5 minutes.
    let took = if i % 10 < 7 { 30_000 } else { 300_000 };
    let ev = |action: &str, at: i64| {
        let mut e = device_request();
        e["app_id"] = json!(APP);
        e["device_id"] = json!(device_id(i));
        e["platform"] = json!(platform(i));
        e["version_os"] = json!("14");
        e["action"] = json!(action);
        e["version_name"] = json!("1.0.1");
        e["old_version_name"] = json!("builtin");
        e["timestamp"] = json!(at);
        e
    };
    let start = ran - took;
    if i >= SUCCEEDED {
        return vec![
            ev("download_zip_start", start),
            ev("download_fail", start + 1),
            ev("download_fail", start + 2),
        ];
    }
    let mut v = vec![ev("download_zip_start", start)];
    if i % 10 == 0 {
        // A first try that failed its checksum: installed, but not at the first try.
        v.push(ev("checksum_fail", start + 1));
    }
    v.push(ev("set", ran));
    v
}

/// 10,000 devices, a release adopted on a known schedule, injected failures: the report gives
/// back exactly what was constructed.
#[tokio::test]
async fn a_simulated_fleet_reports_the_constructed_answers() {
    let app = TestApp::with_vector_bundle().await;
    let release = released_at(&app).await;
    let now = landfall_store::now_ms();
    // Every device checked in (running the built-in bundle) within the last day.
    let fleet: Vec<DeviceSeen> = (0..FLEET).map(|i| seen(i, "builtin", now)).collect();
    app.state.store.upsert_devices(&fleet).await.unwrap();

    // Their stats, through `/stats` in the plugin's batches (devices interleaved).
    let events: Vec<Value> = (0..FLEET).flat_map(|i| events_of(i, release)).collect();
    for batch in events.chunks(1_000) {
        let r = app.post_json("/stats", &Value::Array(batch.to_vec())).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.json()["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["status"] == "ok"),
            "{}",
            r.json()
        );
    }
    // A batch sent again after a lost answer changes nothing.
    let again = app
        .post_json("/stats", &Value::Array(events[..1_000].to_vec()))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    // The devices that installed check in again, now running it: not counted twice.
    let ran: Vec<DeviceSeen> = (0..SUCCEEDED).map(|i| seen(i, "1.0.1", now)).collect();
    app.state.store.upsert_devices(&ran).await.unwrap();

    let r = app
        .api(
            "GET",
            &format!("/apps/{APP}/stats?bundle=1.0.1&since=30d"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let report = r.json();
    assert_eq!(report["active_devices"]["day"], FLEET);
    assert_eq!(report["active_devices"]["month"], FLEET);
    assert_eq!(report["versions"][0]["version_name"], "1.0.1");
    assert_eq!(report["versions"][0]["devices"], SUCCEEDED);
    assert_eq!(report["versions"][1]["version_name"], "builtin");
    assert_eq!(report["versions"][1]["devices"], FLEET - SUCCEEDED);

    let rel = &report["releases"][0];
    assert_eq!(rel["version_name"], "1.0.1");
    assert_eq!(rel["released_at"], release);
    assert_eq!(rel["devices"], SUCCEEDED);
    // Installs: every device tried, 95 % ran it, a tenth of those needed a second try.
    let first_try = SUCCEEDED - SUCCEEDED / 10;
    assert_eq!(
        rel["installs"],
        json!({
            "attempted": FLEET,
            "succeeded": SUCCEEDED,
            "first_try": first_try,
            "success_rate": SUCCEEDED as f64 / FLEET as f64,
            "first_try_rate": first_try as f64 / SUCCEEDED as f64,
        })
    );
    // Time to p % of the active fleet: device ⌈p × 10,000⌉ − 1 ran at release + ⌈p × 10,000⌉ × STEP,
    // known to the end of its 10-minute bucket.
    let time_to = |devices: i64| {
        let ran = release + devices * STEP_MS;
        (ran.div_euclid(ADOPTION_BUCKET_MS) + 1) * ADOPTION_BUCKET_MS - release
    };
    assert_eq!(
        rel["time_to"],
        json!({ "p50": time_to(5_000), "p90": time_to(9_000), "p95": time_to(9_500) })
    );
    // The curve ends at every device that ran it, and is monotone.
    let curve = rel["adoption"].as_array().unwrap();
    assert_eq!(curve.last().unwrap()["devices"], SUCCEEDED);
    assert!(curve
        .windows(2)
        .all(|w| w[0]["devices"].as_u64() <= w[1]["devices"].as_u64()
            && w[0]["at"].as_i64() < w[1]["at"].as_i64()));
    // Durations: 70 % took 30 s (the 30–31 s bucket), the rest 5 min (the 5–6 min bucket).
    assert_eq!(
        rel["install_duration_ms"],
        json!({ "p50": 31_000, "p90": 360_000, "p95": 360_000 })
    );
    // Failures, per release and in the breakdown.
    let failing = FLEET - SUCCEEDED;
    assert_eq!(
        rel["failures"],
        json!([
            { "action": "download_fail", "events": 2 * failing },
            { "action": "checksum_fail", "events": SUCCEEDED / 10 },
        ])
    );
    let by_action = &report["failures"]["by_action"];
    assert_eq!(
        by_action[0],
        json!({ "key": "download_fail", "events": 2 * failing })
    );
    assert_eq!(
        by_action[1],
        json!({ "key": "checksum_fail", "events": SUCCEEDED / 10 })
    );
    // Even devices are iOS: 250 failing iOS devices × 2 + 475 checksum failures on even ids.
    let platforms: Vec<(String, u64)> = report["failures"]["by_platform"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap().to_owned(),
                k["events"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [("ios".to_owned(), 500 + 950), ("android".to_owned(), 500)]
    );
    assert_eq!(
        report["failures"]["by_os"],
        json!([{ "key": "ios 14", "events": 1450 }, { "key": "android 14", "events": 500 }])
    );
}

#[tokio::test]
async fn the_report_refuses_bad_queries_and_other_apps() {
    let app = TestApp::with_vector_bundle().await;
    for (query, code) in [
        ("since=yesterday", "invalid_query"),
        ("since=-3d", "invalid_query"),
        ("since=99999999999999999999d", "invalid_query"),
        ("releases=many", "invalid_query"),
    ] {
        let r = app
            .api(
                "GET",
                &format!("/apps/{APP}/stats?{query}"),
                &app.admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(r.json()["error"], code, "{query}: {}", r.json());
        assert!(r.json()["message"].as_str().unwrap().len() > 10);
    }
    let r = app
        .api("GET", "/apps/com.example.nope/stats", &app.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A token of another app is refused; a read token of this one is enough.
    let other = app.token_with_scope("com.example.other:admin").await;
    let r = app
        .api("GET", &format!("/apps/{APP}/stats"), &other, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let reader = app.token_with_scope(&format!("{APP}:read")).await;
    let r = app
        .api("GET", &format!("/apps/{APP}/stats"), &reader, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // An app with no traffic yet: zeros and empty lists, no rates invented.
    let report = r.json();
    assert_eq!(report["active_devices"], json!({ "day": 0, "month": 0 }));
    assert_eq!(
        report["releases"][0]["installs"]["success_rate"],
        Value::Null
    );
    assert_eq!(report["releases"][0]["time_to"]["p50"], Value::Null);
}

/// Reads one SSE frame's text, or panics after a few seconds.
async fn next_frame(body: &mut Body) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("the stream stays open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            let text = String::from_utf8(data.to_vec()).unwrap();
            if !text.starts_with(':') {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn the_live_stream_announces_committed_stats_of_its_app_only() {
    let app = TestApp::with_vector_bundle().await;
    let res = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/v1/apps/{APP}/stats/live"))
                .header("authorization", format!("Bearer {}", app.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let mut ev = device_request();
    ev["action"] = json!("set");
    ev["timestamp"] = json!(1_767_225_600_000_i64);
    assert_eq!(app.post_json("/stats", &ev).await.status, StatusCode::OK);
    let text = next_frame(&mut body).await;
    assert!(text.starts_with("event: stats\n"), "{text}");
    let data: Value = serde_json::from_str(
        text.lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("a data line"),
    )
    .unwrap();
    assert_eq!(data, json!({ "app_id": APP, "commits": 1 }));
    // The same event again stores nothing, so nothing is announced.
    assert_eq!(app.post_json("/stats", &ev).await.status, StatusCode::OK);
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), body.frame()).await;
    assert!(quiet.is_err(), "announced a batch that stored nothing");
}
