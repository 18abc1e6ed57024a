//! The plugin endpoints over HTTP: vector replays, decision branches end to end, bad input.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn example(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors().join(name)).unwrap()).unwrap()
}

#[tokio::test]
async fn replays_the_plain_zip_vector() {
    let app = TestApp::with_vector_bundle().await;
    let r = app.post_json("/updates", &device_request()).await;
    assert_eq!(r.status, StatusCode::OK);
    let got = r.json();
    let want = example("example_updates_response_zip_plain.json");
    // Same keys and values; only the host of the URL differs.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got), keys(&want));
    for k in ["version", "session_key", "checksum"] {
        assert_eq!(got[k], want[k], "{k}");
    }
    let url = got["url"].as_str().unwrap();
    assert!(url.starts_with("http://updates.test/blobs/"), "{url}");
    // The URL really serves the zip.
    let path = url.trim_start_matches("http://updates.test");
    let dl = app.raw("GET", path, "").await;
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(
        dl.bytes,
        std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap()
    );
    assert!(dl.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn replays_the_up_to_date_vector() {
    let app = TestApp::with_vector_bundle().await;
    let mut req = device_request();
    req["version_name"] = json!("1.0.1");
    let r = app.post_json("/updates", &req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.json(),
        example("example_updates_response_up_to_date.json")
    );
}

#[tokio::test]
async fn key_id_device_gets_no_plain_bundle() {
    let app = TestApp::with_vector_bundle().await;
    let req = example("example_updates_request_android.json");
    let r = app.post_json("/updates", &req).await.json();
    assert_eq!(
        (r["error"].as_str(), r["kind"].as_str()),
        (Some("key_id_mismatch"), Some("blocked"))
    );
}

#[tokio::test]
async fn get_updates_and_stats_answer_ok() {
    let app = TestApp::new().await;
    for path in ["/updates", "/stats"] {
        let r = app.raw("GET", path, "").await;
        assert_eq!(r.json(), json!({ "status": "ok" }));
    }
}

#[tokio::test]
async fn malformed_input_is_400_in_the_plugin_shape() {
    let app = TestApp::with_vector_bundle().await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "invalid_json_body"),
        ("[1,2]".into(), "invalid_json_body"),
        (
            json!({"app_id": APP, "device_id": DEVICE, "version_build": 5}).to_string(),
            "invalid_json_body",
        ),
        (
            {
                let mut r = device_request();
                r["app_id"] = json!("");
                r.to_string()
            },
            "missing_app_id",
        ),
        (
            {
                let mut r = device_request();
                r["device_id"] = json!("nope");
                r.to_string()
            },
            "invalid_device_id",
        ),
        (
            {
                let mut r = device_request();
                r["version_build"] = json!("1.2.3.4");
                r.to_string()
            },
            "semver_error",
        ),
        (
            {
                let mut r = device_request();
                r["platform"] = json!("symbian");
                r.to_string()
            },
            "invalid_platform",
        ),
    ];
    for (body, code) in cases {
        let r = app.raw("POST", "/updates", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let v = r.json();
        assert_eq!(v["error"], code, "{body}");
        assert_eq!(v["kind"], "failed", "kind is always present");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Oversized bodies are refused without reading them all.
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    let r = app.raw("POST", "/updates", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_app_is_a_failed_answer_not_a_429() {
    let app = TestApp::new().await;
    let r = app.post_json("/updates", &device_request()).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(
        (v["error"].as_str(), v["kind"].as_str()),
        (Some("app_not_found"), Some("failed"))
    );
}

#[tokio::test]
async fn channel_flags_and_overrides_through_http() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    // Block production builds on production: blocked.
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &t,
            Some(json!({ "flags": { "allow_prod": false } })),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = app.post_json("/updates", &device_request()).await.json();
    assert_eq!(
        (v["error"].as_str(), v["kind"].as_str()),
        (Some("disable_prod_build"), Some("blocked"))
    );
    // A private qa channel on builtin, forced for this device: override wins and reverts to builtin.
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels"),
            &t,
            Some(json!({ "name": "qa", "bundle": "builtin" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.json()["flags"]["public"],
        false,
        "only the first channel is public"
    );
    let r = app
        .api(
            "PUT",
            &format!("/apps/{APP}/devices/{DEVICE}/override"),
            &t,
            Some(json!({ "channel": "qa" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut req = device_request();
    req["version_name"] = json!("1.0.1");
    assert_eq!(
        app.post_json("/updates", &req).await.json(),
        json!({ "version": "builtin" })
    );
    let v = app.post_json("/updates", &device_request()).await.json();
    assert_eq!(
        (v["error"].as_str(), v["kind"].as_str()),
        (Some("already_on_builtin"), Some("up_to_date"))
    );
    // PUT /channel_self answers the override.
    let v = app
        .raw("PUT", "/channel_self", &device_request().to_string())
        .await
        .json();
    assert_eq!(
        (v["channel"].as_str(), v["status"].as_str()),
        (Some("qa"), Some("override"))
    );
    // Clear it: back to production.
    let r = app
        .api(
            "DELETE",
            &format!("/apps/{APP}/devices/{DEVICE}/override"),
            &t,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let v = app
        .raw("PUT", "/channel_self", &device_request().to_string())
        .await
        .json();
    assert_eq!(
        (v["channel"].as_str(), v["status"].as_str()),
        (Some("production"), Some("default"))
    );
}

#[tokio::test]
async fn channel_self_set_get_list() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    app.api(
        "POST",
        &format!("/apps/{APP}/channels"),
        &t,
        Some(json!({ "name": "beta", "bundle": "1.0.1", "flags": { "allow_device_self_set": true } })),
    )
    .await;
    app.api(
        "POST",
        &format!("/apps/{APP}/channels"),
        &t,
        Some(json!({ "name": "internal" })),
    )
    .await;
    let mut req = device_request();
    req["channel"] = json!("beta");
    assert_eq!(
        app.raw("POST", "/channel_self", &req.to_string())
            .await
            .json(),
        json!({ "status": "ok", "allowSet": true })
    );
    for (name, code) in [
        ("nope", "channel_not_found"),
        ("internal", "channel_self_set_not_allowed"),
        ("production", "public_channel_self_set_not_allowed"),
    ] {
        req["channel"] = json!(name);
        let v = app
            .raw("POST", "/channel_self", &req.to_string())
            .await
            .json();
        assert_eq!(v["error"], code, "{name}");
    }
    req.as_object_mut().unwrap().remove("channel");
    assert_eq!(
        app.raw("POST", "/channel_self", &req.to_string())
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // PUT with the locally stored choice.
    let mut get = device_request();
    get["defaultChannel"] = json!("beta");
    let v = app
        .raw("PUT", "/channel_self", &get.to_string())
        .await
        .json();
    assert_eq!(
        v,
        json!({ "channel": "beta", "status": "default", "allowSet": true })
    );
    // GET lists what the device may pick, with numeric ids.
    let q = "app_id=com.example.capgovector&device_id=6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f&platform=android\
             &version_build=1.0.0&version_name=builtin&plugin_version=8.51.14&is_emulator=false&is_prod=true";
    let v = app
        .raw("GET", &format!("/channel_self?{q}"), "")
        .await
        .json();
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["beta", "production"]);
    assert!(v[0]["id"].is_i64());
    // DELETE validates like the other verbs; a current plugin keeps its choice on the device.
    let r = app.raw("DELETE", "/channel_self", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "missing_app_id");
    assert_eq!(
        app.raw("DELETE", &format!("/channel_self?{q}"), "")
            .await
            .json(),
        json!({ "status": "ok" })
    );
    // A device whose stored channel vanished: 400 with channel_not_found (the plugin falls back).
    get["defaultChannel"] = json!("gone");
    let r = app.raw("PUT", "/channel_self", &get.to_string()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "channel_not_found");
}

#[tokio::test]
async fn stats_accept_arrays_objects_and_unknown_actions() {
    let app = TestApp::with_vector_bundle().await;
    let mut ev = device_request();
    ev["action"] = json!("set");
    ev["version_name"] = json!("1.0.1");
    ev["old_version_name"] = json!("builtin");
    ev["timestamp"] = json!(1_767_225_600_000_i64);
    let mut future = ev.clone();
    future["action"] = json!("some_action_from_2030");
    future["metadata"] = json!({ "k": "v" });
    let r = app.post_json("/stats", &json!([ev, future])).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 2);
    let r = app.post_json("/stats", &ev).await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    assert_eq!(
        app.state.store.count_stats(APP).await.unwrap(),
        2,
        "stored when acknowledged, and an event sent again (same device, time, action, \
         version) is stored once"
    );
    // A bad item in a batch is reported, the rest kept.
    let mut bad = ev.clone();
    bad["device_id"] = json!("x");
    let mut later = ev.clone();
    later["timestamp"] = json!(1_767_225_600_001_i64);
    let v = app.post_json("/stats", &json!([later, bad])).await.json();
    assert_eq!(v["results"][1]["status"], "error");
    assert_eq!(app.state.store.count_stats(APP).await.unwrap(), 3);
    // Malformed and unknown-app bodies: 4xx, so the plugin drops them.
    assert_eq!(
        app.raw("POST", "/stats", "nope").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.raw("POST", "/stats", "42").await.status,
        StatusCode::BAD_REQUEST
    );
    let mut other = ev.clone();
    other["app_id"] = json!("com.unknown.app");
    assert_eq!(
        app.post_json("/stats", &other).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn devices_are_recorded_without_a_write_per_check() {
    let app = TestApp::with_vector_bundle().await;
    let mut req = device_request();
    req["custom_id"] = json!("user-42");
    app.post_json("/updates", &req).await;
    assert_eq!(
        app.state.devices.pending(),
        1,
        "buffered, not written inline"
    );
    let v = app
        .api("GET", &format!("/apps/{APP}/devices"), &app.admin, None)
        .await
        .json();
    let d = &v[0];
    assert_eq!(d["device_id"], DEVICE);
    assert_eq!(d["custom_id"], "user-42");
    assert_eq!(d["channel"], "production");
    assert_eq!(d["version_name"], "builtin");
    assert_eq!(d["platform"], "android");
}

#[tokio::test]
async fn downloads_support_ranges_head_and_etags() {
    let app = TestApp::with_vector_bundle().await;
    let url = app.post_json("/updates", &device_request()).await.json()["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://updates.test")
        .to_owned();
    let zip = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
    let ranged = |range: &'static str| {
        axum::http::Request::get(url.clone())
            .header("range", range)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let r = app.send(ranged("bytes=100-")).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes, zip[100..]);
    assert_eq!(
        r.headers["content-range"].to_str().unwrap(),
        format!("bytes 100-{}/{}", zip.len() - 1, zip.len())
    );
    let r = app.send(ranged("bytes=0-9")).await;
    assert_eq!(
        (r.status, r.bytes.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &zip[..10])
    );
    let r = app.send(ranged("bytes=999999-")).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let r = app.raw("HEAD", &url, "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes.is_empty());
    assert_eq!(
        r.headers["content-length"].to_str().unwrap(),
        zip.len().to_string()
    );
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    assert!(r.headers.get("content-encoding").is_none());
    let r = app
        .send(
            axum::http::Request::get(url.clone())
                .header("if-none-match", etag)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        app.raw("GET", "/blobs/not-a-hash", "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.raw("GET", &format!("/blobs/{}", "0".repeat(64)), "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn manifest_size_answers_even_without_delta() {
    let app = TestApp::with_vector_bundle().await;
    let mut req = device_request();
    req["version"] = json!("1.0.1");
    req["manifest"] =
        json!([{ "file_name": "index.html", "file_hash": "00", "download_url": "http://x/y" }]);
    let v = app.post_json("/updates/manifest_size", &req).await.json();
    assert_eq!(v["unknownFiles"], 1);
    assert_eq!(v["files"][0]["error"], "size_unknown");
}
