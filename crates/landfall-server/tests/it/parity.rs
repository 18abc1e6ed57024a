//! Plugin parity (issue 8) and control-plane guarantees (issue 7) over HTTP, in process:
//! legacy `/channel_self` storage, empty versions on `PUT`, app switches, rollbacks that end
//! rollouts, uploads that are one transaction and retry idempotently, keyed apps refusing unsigned
//! targets, deleted bundles leaving `/blobs/` at once, and the `/stats` budget.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const DEVICE: &str = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";

/// A plugin below 7.34: it keeps no channel choice on the device.
fn legacy_device() -> Value {
    let mut d = device_request();
    d["plugin_version"] = json!("7.20.0");
    d["defaultChannel"] = json!("");
    d
}

fn with_channel(mut d: Value, channel: &str) -> Value {
    d["channel"] = json!(channel);
    d
}

fn query_of(d: &Value) -> String {
    d.as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some(format!("{k}={}", v.replace(' ', "%20")))
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn upload_version(app: &TestApp, version: &str, query: &str) -> Reply {
    let body = format!("<html>{version}</html>");
    let zip = zip_of(&[
        ("index.html", body.as_bytes()),
        ("app.js", b"notifyAppReady()"),
    ]);
    app.upload(&app.admin, &format!("version={version}{query}"), zip)
        .await
}

/// `production` (public) serves 1.0.1; `beta` (self-settable) serves 1.0.2.
async fn app_with_beta() -> TestApp {
    let app = TestApp::with_vector_bundle().await;
    assert_eq!(
        upload_version(&app, "1.0.2", "").await.status,
        StatusCode::CREATED
    );
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels"),
            &app.admin.clone(),
            Some(json!({ "name": "beta", "bundle": "1.0.2", "flags": { "allow_device_self_set": true } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    app
}

async fn version_offered(app: &TestApp, device: &Value) -> Value {
    app.post_json("/updates", device).await.json()
}

#[tokio::test]
async fn legacy_device_set_check_get_unset_check() {
    let app = app_with_beta().await;
    let d = legacy_device();
    assert_eq!(version_offered(&app, &d).await["version"], "1.0.1");

    // set: stored server-side.
    let r = app
        .raw(
            "POST",
            "/channel_self",
            &with_channel(d.clone(), "beta").to_string(),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    // check: the next update check resolves beta.
    assert_eq!(version_offered(&app, &d).await["version"], "1.0.2");
    // get: PUT answers the stored choice.
    let got = app.raw("PUT", "/channel_self", &d.to_string()).await.json();
    assert_eq!(
        (&got["channel"], &got["status"]),
        (&json!("beta"), &json!("override"))
    );
    // The operator sees who set it, and when.
    app.state.devices.flush(app.state.store.as_ref()).await;
    let list = app
        .api(
            "GET",
            &format!("/apps/{APP}/devices?search={DEVICE}"),
            &app.admin,
            None,
        )
        .await
        .json();
    assert_eq!(list[0]["override_channel"], "beta", "{list}");
    assert_eq!(list[0]["override_set_by"], "device", "{list}");
    assert!(list[0]["override_at"].as_i64().unwrap() > 0);
    // unset: DELETE with the query string removes it; a second DELETE has nothing to remove.
    let q = query_of(&d);
    let r = app.raw("DELETE", &format!("/channel_self?{q}"), "").await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    let again = app.raw("DELETE", &format!("/channel_self?{q}"), "").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["error"], "cannot_override");
    // check: back on the public channel.
    assert_eq!(version_offered(&app, &d).await["version"], "1.0.1");
    let got = app.raw("PUT", "/channel_self", &d.to_string()).await.json();
    assert_eq!(
        (&got["channel"], &got["status"]),
        (&json!("production"), &json!("default"))
    );
}

#[tokio::test]
async fn legacy_choice_of_the_default_channel_clears_any_assignment_even_an_operators() {
    let app = app_with_beta().await;
    let d = legacy_device();
    // An operator override onto beta.
    let r = app
        .api(
            "PUT",
            &format!("/apps/{APP}/devices/{DEVICE}/override"),
            &app.admin,
            Some(json!({ "channel": "beta" })),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json());
    assert_eq!(r.json()["set_by"], "token:admin", "{}", r.json());
    assert_eq!(version_offered(&app, &d).await["version"], "1.0.2");
    // The legacy device picks the public default: the one stored assignment goes.
    let r = app
        .raw(
            "POST",
            "/channel_self",
            &with_channel(d.clone(), "production").to_string(),
        )
        .await;
    assert_eq!(r.json(), json!({ "status": "ok" }));
    assert_eq!(version_offered(&app, &d).await["version"], "1.0.1");
    let got = app.raw("PUT", "/channel_self", &d.to_string()).await.json();
    assert_eq!(got["status"], "default");
    // A current plugin only validates: nothing is stored for it.
    let mut modern = legacy_device();
    modern["plugin_version"] = json!("8.51.14");
    let r = app
        .raw(
            "POST",
            "/channel_self",
            &with_channel(modern.clone(), "beta").to_string(),
        )
        .await;
    assert_eq!(r.json(), json!({ "status": "ok", "allowSet": true }));
    assert_eq!(version_offered(&app, &modern).await["version"], "1.0.1");
}

#[tokio::test]
async fn delete_channel_self_validates_like_post() {
    let app = app_with_beta().await;
    let mut d = legacy_device();
    d["version_build"] = json!("not.a.version");
    let r = app
        .raw("DELETE", &format!("/channel_self?{}", query_of(&d)), "")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "semver_error");
    let mut d = legacy_device();
    d.as_object_mut().unwrap().remove("device_id");
    let r = app
        .raw("DELETE", &format!("/channel_self?{}", query_of(&d)), "")
        .await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("missing_device_id"))
    );
}

#[tokio::test]
async fn put_channel_self_with_empty_versions_still_answers_the_channel() {
    let app = app_with_beta().await;
    for (field, value) in [
        ("version_name", ""),
        ("version_build", ""),
        ("version_name", "  "),
    ] {
        let mut d = device_request();
        d[field] = json!(value);
        let r = app.raw("PUT", "/channel_self", &d.to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{field}={value:?}: {}", r.json());
        assert_eq!(r.json()["channel"], "production");
    }
}

#[tokio::test]
async fn link_and_comment_reach_devices_only_when_exposed() {
    let app = TestApp::with_vector_bundle().await;
    let r = upload_version(
        &app,
        "1.0.5",
        "&channel=production&link=https://example.com/notes&comment=fixes",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let got = version_offered(&app, &device_request()).await;
    assert_eq!(got["version"], "1.0.5");
    assert!(
        got.get("link").is_none() && got.get("comment").is_none(),
        "{got}"
    );
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}"),
            &app.admin,
            Some(json!({ "expose_metadata": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["expose_metadata"], true);
    let got = version_offered(&app, &device_request()).await;
    assert_eq!(
        (got["link"].as_str(), got["comment"].as_str()),
        (Some("https://example.com/notes"), Some("fixes"))
    );
}

#[tokio::test]
async fn custom_ids_are_not_stored_when_the_app_refuses_them() {
    let app = TestApp::with_vector_bundle().await;
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}"),
            &app.admin,
            Some(json!({ "allow_device_custom_id": false })),
        )
        .await;
    assert_eq!(r.json()["allow_device_custom_id"], false);
    let mut d = device_request();
    d["custom_id"] = json!("user-42@example.com");
    version_offered(&app, &d).await;
    app.state.devices.flush(app.state.store.as_ref()).await;
    let list = app
        .api("GET", &format!("/apps/{APP}/devices"), &app.admin, None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["custom_id"], "", "{list}");
}

#[tokio::test]
async fn rollback_ends_the_rollout_and_says_what_devices_get() {
    let app = TestApp::with_vector_bundle().await;
    upload_version(&app, "1.0.2", "&channel=production").await;
    upload_version(&app, "1.0.3", "").await;
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &app.admin,
            Some(json!({ "rollout": { "bundle": "1.0.3", "percent": 100.0, "paused": false } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(
        version_offered(&app, &device_request()).await["version"],
        "1.0.3"
    );
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &app.admin,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let info = r.json();
    assert_eq!(info["bundle"], "1.0.1");
    assert!(info["rollout"].is_null(), "{info}");
    assert_eq!(info["ended_rollout"]["bundle"], "1.0.3");
    assert_eq!(info["effect"], "every device on production gets 1.0.1");
    // No device keeps getting the rolled-out bundle.
    assert_eq!(
        version_offered(&app, &device_request()).await["version"],
        "1.0.1"
    );
    let mut on_it = device_request();
    on_it["version_name"] = json!("1.0.3");
    assert_eq!(version_offered(&app, &on_it).await["version"], "1.0.1");
}

#[tokio::test]
async fn upload_to_a_channel_ends_its_rollout_and_a_retry_is_idempotent() {
    let app = TestApp::with_vector_bundle().await;
    upload_version(&app, "1.0.2", "").await;
    app.api(
        "PATCH",
        &format!("/apps/{APP}/channels/production"),
        &app.admin,
        Some(json!({ "rollout": { "bundle": "1.0.2", "percent": 10.0, "paused": false } })),
    )
    .await;
    let first = upload_version(&app, "1.0.4", "&channel=production").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json());
    let j = first.json();
    assert_eq!(j["channel"]["bundle"], "1.0.4");
    assert_eq!(j["channel"]["ended_rollout"]["bundle"], "1.0.2");
    assert!(j["channel"]["rollout"].is_null());
    assert_eq!(j["already_uploaded"], false);
    // The same bytes again (the first answer was lost): success, nothing new.
    let blobs = app.state.blobs.list().await.unwrap().len();
    let again = upload_version(&app, "1.0.4", "&channel=production").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json());
    assert_eq!(again.json()["already_uploaded"], true);
    assert_eq!(app.state.blobs.list().await.unwrap().len(), blobs);
    let history = app
        .api(
            "GET",
            &format!("/apps/{APP}/channels/production/history"),
            &app.admin,
            None,
        )
        .await
        .json();
    assert_eq!(
        history
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["bundle"] == "1.0.4")
            .count(),
        1,
        "a retry moves nothing: {history}"
    );
    // Other bytes under the same version: refused, nothing stored.
    let other = zip_of(&[("index.html", b"<html>other</html>"), ("app.js", b"x")]);
    let r = app
        .upload(&app.admin, "version=1.0.4&channel=production", other)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"], "version_exists");
    assert_eq!(app.state.blobs.list().await.unwrap().len(), blobs);
}

#[tokio::test]
async fn a_deleted_bundle_stops_being_served_at_once() {
    let app = TestApp::with_vector_bundle().await;
    let r = upload_version(&app, "1.0.2", "").await;
    let sha = r.json()["bundle"]["sha256"].as_str().unwrap().to_owned();
    // Plain zips are stored under their own sha256.
    assert_eq!(
        app.raw("GET", &format!("/blobs/{sha}"), "").await.status,
        StatusCode::OK
    );
    let r = app
        .api(
            "DELETE",
            &format!("/apps/{APP}/bundles/1.0.2"),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.raw("GET", &format!("/blobs/{sha}"), "").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.raw("HEAD", &format!("/blobs/{sha}"), "").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn stats_over_budget_are_dropped_counted_and_still_answered_ok() {
    let app = TestApp::with_vector_bundle().await;
    let mut ev = device_request();
    ev["action"] = json!("set");
    // 1,000 events from one device in one minute: the per-device budget keeps 300.
    let batch: Vec<Value> = (0..1000)
        .map(|i| {
            let mut e = ev.clone();
            e["timestamp"] = json!(1_767_225_600_000_i64 + i);
            e
        })
        .collect();
    let r = app.post_json("/stats", &Value::Array(batch)).await;
    assert_eq!(r.status, StatusCode::OK, "no 429, no error for devices");
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(app.state.store.count_stats(APP).await.unwrap(), 300);
    assert_eq!(app.state.stats.dropped(APP), 700);
    let info = app
        .api("GET", &format!("/apps/{APP}"), &app.admin, None)
        .await
        .json();
    assert_eq!(
        info["stats_dropped"], 700,
        "operators see the drops: {info}"
    );
    // Metadata is bounded per event.
    let mut big = device_request();
    big["action"] = json!("custom");
    big["device_id"] = json!("00000000-0000-4000-8000-000000000001");
    big["metadata"] = Value::Object(
        (0..30)
            .map(|i| (format!("k{i}"), json!("x".repeat(2000))))
            .collect(),
    );
    let r = app.post_json("/stats", &big).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn keyed_apps_refuse_to_point_devices_at_unsigned_bundles() {
    // 1.0.1 (plain, the vector zip) serves production; then the app gets a signing key.
    let app = TestApp::with_vector_bundle().await;
    upload_version(&app, "1.0.0", "").await;
    let public_key = std::fs::read_to_string(vectors().join(".capgo_key_v2.pub")).unwrap();
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/keys"),
            &app.admin,
            Some(json!({ "public_key": public_key })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let refused = |r: &Reply| {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json());
        assert_eq!(r.json()["error"], "bundle_not_signed", "{}", r.json());
    };
    // channel set
    refused(
        &app.api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &app.admin,
            Some(json!({ "bundle": "1.0.0" })),
        )
        .await,
    );
    // rollback to a named unsigned version; an automatic rollback skips unsigned history and
    // has nothing signed to go back to, so it says so.
    refused(
        &app.api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &app.admin,
            Some(json!({ "to": "1.0.0" })),
        )
        .await,
    );
    // the kill switch
    let incident = app
        .api(
            "POST",
            &format!("/apps/{APP}/icp/incidents"),
            &app.admin,
            Some(json!({ "title": "bad", "severity": "critical" })),
        )
        .await
        .json();
    let id = incident["id"].as_i64().unwrap();
    let ks = |target: &str| json!({ "target": target, "note": "pull" });
    refused(
        &app.api(
            "POST",
            &format!("/apps/{APP}/icp/incidents/{id}/kill-switch"),
            &app.admin,
            Some(ks("1.0.0")),
        )
        .await,
    );
    // Nothing moved: production still serves 1.0.1.
    let production = app
        .state
        .store
        .get_channel(APP, "production")
        .await
        .unwrap();
    let served = app
        .state
        .store
        .get_bundle_by_id(production.bundle_id.unwrap())
        .await
        .unwrap();
    assert_eq!(served.version, "1.0.1");
    // builtin stays possible, for every one of them.
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/icp/incidents/{id}/kill-switch"),
            &app.admin,
            Some(ks("builtin")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &app.admin,
            Some(json!({ "bundle": "builtin" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn the_kill_switch_moves_every_channel_or_none() {
    let app = app_with_beta().await;
    for name in ["c1", "c2", "c3", "c4", "c5"] {
        let r = app
            .api(
                "POST",
                &format!("/apps/{APP}/channels"),
                &app.admin,
                Some(json!({ "name": name, "bundle": "1.0.2" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    app.api(
        "PATCH",
        &format!("/apps/{APP}/channels/c3"),
        &app.admin,
        Some(json!({ "rollout": { "bundle": "1.0.1", "percent": 30.0, "paused": false } })),
    )
    .await;
    let id = app
        .api(
            "POST",
            &format!("/apps/{APP}/icp/incidents"),
            &app.admin,
            Some(json!({ "title": "pull 1.0.2", "severity": "critical" })),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/icp/incidents/{id}/kill-switch"),
            &app.admin,
            Some(json!({ "target": "1.0.1", "note": "pull" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let moved = r.json()["channels"].as_array().unwrap().len();
    assert_eq!(moved, 7);
    for c in app.state.store.list_channels(APP).await.unwrap() {
        let target = app
            .state
            .store
            .get_bundle_by_id(c.bundle_id.unwrap())
            .await
            .unwrap();
        assert_eq!(
            (c.name.as_str(), target.version.as_str(), c.rollout),
            (c.name.as_str(), "1.0.1", None)
        );
    }
    // One history row per channel, all in the audit log as kill switch moves.
    let audit = app
        .api("GET", &format!("/apps/{APP}/audit"), &app.admin, None)
        .await
        .json();
    let kills = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "channel_kill_switch")
        .count();
    assert_eq!(kills, 7);
}

#[tokio::test]
async fn plugin_errors_clip_echoed_input() {
    let app = app_with_beta().await;
    let huge = "x".repeat(100_000);
    let mut d = legacy_device();
    d["version_build"] = json!(huge);
    for (method, uri, body) in [
        ("POST", "/updates", d.to_string()),
        (
            "POST",
            "/channel_self",
            with_channel(legacy_device(), &huge).to_string(),
        ),
        (
            "POST",
            "/stats",
            json!([{ "app_id": huge, "device_id": DEVICE, "action": "set" }]).to_string(),
        ),
        ("POST", "/stats", format!("{{\"app_id\": {huge}")),
    ] {
        let r = app.raw(method, uri, &body).await;
        let text = String::from_utf8_lossy(&r.bytes).into_owned();
        assert!(
            text.len() < 1_000,
            "{method} {uri} echoed {} bytes",
            text.len()
        );
        assert!(text.contains("error") || text.contains("status"), "{text}");
    }
}
