//! `/metrics` (Prometheus text) and the bytes-served tally behind the stats report.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// The value of one sample line (`name{labels} value`), or 0 when the series does not exist yet.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let r = app.api_raw_path("GET", "/metrics", &app.admin).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    String::from_utf8(r.bytes).unwrap()
}

#[tokio::test]
async fn metrics_need_a_server_wide_read_token_and_count_what_happens() {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let r = app
        .upload(
            &app.admin,
            "version=1.0.1&channel=production&delta=true",
            std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let zip_size = r.json()["bundle"]["size"].as_u64().unwrap();

    // Refused without a token, with an app's token; allowed with `*:read`.
    let r = app.raw("GET", "/metrics", "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthorized");
    let app_reader = app.token_with_scope(&format!("{APP}:admin")).await;
    let r = app.api_raw_path("GET", "/metrics", &app_reader).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let reader = app.token_with_scope("*:read").await;
    assert_eq!(
        app.api_raw_path("GET", "/metrics", &reader).await.status,
        StatusCode::OK
    );

    let before = scrape(&app).await;
    let checks = r#"landfall_http_requests_total{route="/updates",method="POST",status="2xx"}"#;
    let answer = app.post_json("/updates", &device_request()).await.json();
    app.post_json("/updates", &device_request()).await;
    app.raw("GET", "/no/such/path", "").await;
    // One full zip and every delta file, through the real links.
    let path = |url: &Value| {
        url.as_str()
            .unwrap()
            .trim_start_matches("http://updates.test")
            .to_owned()
    };
    let zip = app.raw("GET", &path(&answer["url"]), "").await;
    assert_eq!(zip.bytes.len() as u64, zip_size);
    let mut delta_bytes = 0u64;
    let files = answer["manifest"].as_array().unwrap();
    for m in files {
        delta_bytes += app
            .raw("GET", &path(&m["download_url"]), "")
            .await
            .bytes
            .len() as u64;
    }
    // A HEAD sends no body: not a download.
    assert_eq!(
        app.raw("HEAD", &path(&answer["url"]), "").await.status,
        StatusCode::OK
    );

    let after = scrape(&app).await;
    assert_eq!(sample(&after, checks) - sample(&before, checks), 2.0);
    assert!(
        sample(
            &after,
            r#"landfall_http_requests_total{route="unmatched",method="GET",status="4xx"}"#
        ) >= 1.0
    );
    assert!(
        after.contains(r#"landfall_http_request_duration_seconds_count{route="/updates"} "#),
        "{after}"
    );
    assert!(after.contains(r#"landfall_http_requests_total{route="/api/v1/apps/{app}/bundles",method="POST",status="2xx"} 1"#), "{after}");
    assert_eq!(
        sample(&after, r#"landfall_bytes_served_total{kind="full"}"#),
        zip_size as f64
    );
    assert_eq!(
        sample(&after, r#"landfall_bytes_served_total{kind="delta"}"#),
        delta_bytes as f64
    );
    assert_eq!(
        sample(&after, r#"landfall_downloads_total{kind="full"}"#),
        1.0
    );
    assert_eq!(
        sample(&after, r#"landfall_downloads_total{kind="delta"}"#),
        files.len() as f64
    );
    for series in [
        "landfall_recorder_pending_devices ",
        "landfall_stats_queued_requests ",
        "landfall_stats_ingest_lag_seconds_count ",
        r#"landfall_db_pool_max_connections{pool="#,
        r#"landfall_db_pool_connections{pool="#,
    ] {
        assert!(after.contains(series), "{series} missing:\n{after}");
    }

    // The same downloads, persisted for the stats report once the tally is flushed.
    app.state
        .downloads
        .flush(app.state.store.as_ref())
        .await
        .unwrap();
    let report = app
        .api("GET", &format!("/apps/{APP}/stats"), &app.admin, None)
        .await
        .json();
    assert_eq!(
        report["bytes_served"],
        json!({
            "full": { "requests": 1, "bytes": zip_size },
            "delta": { "requests": files.len(), "bytes": delta_bytes },
        })
    );
}

#[tokio::test]
async fn stats_events_are_counted_by_outcome() {
    let app = TestApp::with_vector_bundle().await;
    let mut ev = device_request();
    ev["action"] = json!("set");
    ev["timestamp"] = json!(1_767_225_600_000_i64);
    app.post_json("/stats", &ev).await;
    app.post_json("/stats", &ev).await;
    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, r#"landfall_stats_events_total{outcome="stored"}"#),
        1.0
    );
    assert_eq!(
        sample(&text, r#"landfall_stats_events_total{outcome="duplicate"}"#),
        1.0
    );
    assert_eq!(sample(&text, "landfall_stats_commits_total"), 2.0);
    assert_eq!(
        sample(&text, "landfall_stats_ingest_lag_seconds_count"),
        2.0
    );
}

#[tokio::test]
async fn metrics_can_be_off_or_open() {
    let off =
        TestApp::new_with(|a| a.metrics = Some(landfall_server::settings::MetricsAccess::Off))
            .await;
    let r = off.api_raw_path("GET", "/metrics", &off.admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "metrics_off");
    let open =
        TestApp::new_with(|a| a.metrics = Some(landfall_server::settings::MetricsAccess::Open))
            .await;
    assert_eq!(open.raw("GET", "/metrics", "").await.status, StatusCode::OK);
}
