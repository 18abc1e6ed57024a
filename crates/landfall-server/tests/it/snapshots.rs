//! Wire formats locked by snapshots (`insta`): the plugin's answers, the admin API's JSON and
//! the OpenAPI document. A change here changes what devices, scripts and generated clients see:
//! review the diff (`cargo insta review`), and say so in the change log when it is deliberate.
//! Times, hashes and ids that change from run to run are redacted.

use axum::http::StatusCode;
use insta::assert_json_snapshot;
use serde_json::{json, Value};

use crate::support::*;

async fn plugin(app: &TestApp, method: &str, uri: &str, body: &Value) -> Value {
    let r = app.raw(method, uri, &body.to_string()).await;
    json!({ "status": r.status.as_u16(), "body": r.json() })
}

#[tokio::test]
async fn plugin_answers() {
    let app = TestApp::with_vector_bundle().await;
    let zip = zip_of(&[
        ("index.html", b"<html>2</html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    let r = app
        .upload(
            &app.admin,
            "version=1.0.2&link=https://example.com/n&comment=c",
            zip,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .api("POST", &format!("/apps/{APP}/channels"), &app.admin, Some(json!({"name": "beta", "bundle": "1.0.2", "flags": {"allow_device_self_set": true}})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let d = device_request();
    let with = |patch: Value| {
        let mut v = d.clone();
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    let mut answers = serde_json::Map::new();
    for (name, method, uri, body) in [
        ("update", "POST", "/updates", d.clone()),
        (
            "up_to_date",
            "POST",
            "/updates",
            with(json!({"version_name": "1.0.1"})),
        ),
        (
            "key_id_mismatch",
            "POST",
            "/updates",
            with(json!({"key_id": "MIIBCgKCAQEAz/N5YWbf"})),
        ),
        (
            "unknown_app",
            "POST",
            "/updates",
            with(json!({"app_id": "com.unknown.app"})),
        ),
        (
            "bad_version_build",
            "POST",
            "/updates",
            with(json!({"version_build": "x.y"})),
        ),
        (
            "missing_device_id",
            "POST",
            "/updates",
            with(json!({"device_id": ""})),
        ),
        (
            "no_channel",
            "POST",
            "/updates",
            with(json!({"defaultChannel": "nope"})),
        ),
        (
            "self_set_ok",
            "POST",
            "/channel_self",
            with(json!({"channel": "beta"})),
        ),
        (
            "self_set_public",
            "POST",
            "/channel_self",
            with(json!({"channel": "production"})),
        ),
        (
            "self_set_unknown",
            "POST",
            "/channel_self",
            with(json!({"channel": "nope"})),
        ),
        (
            "legacy_self_set",
            "POST",
            "/channel_self",
            with(json!({"channel": "beta", "plugin_version": "7.20.0"})),
        ),
        (
            "legacy_get",
            "PUT",
            "/channel_self",
            with(json!({"plugin_version": "7.20.0"})),
        ),
        (
            "get_by_current_plugin_after_legacy_set",
            "PUT",
            "/channel_self",
            d.clone(),
        ),
        (
            "stats_single",
            "POST",
            "/stats",
            with(json!({"action": "set"})),
        ),
        (
            "stats_batch",
            "POST",
            "/stats",
            json!([with(json!({"action": "set"})), {"action": "set"}]),
        ),
    ] {
        answers.insert(name.into(), plugin(&app, method, uri, &body).await);
    }
    let q = "app_id=com.example.capgovector&device_id=6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f&platform=android\
             &version_build=1.0.0&version_name=builtin&plugin_version=7.20.0&is_emulator=false&is_prod=true";
    for (name, method, uri) in [
        ("list", "GET", format!("/channel_self?{q}")),
        ("legacy_unset", "DELETE", format!("/channel_self?{q}")),
        ("legacy_unset_again", "DELETE", format!("/channel_self?{q}")),
    ] {
        let r = app.raw(method, &uri, "").await;
        answers.insert(
            name.into(),
            json!({ "status": r.status.as_u16(), "body": r.json() }),
        );
    }
    assert_json_snapshot!(Value::Object(answers), {
        ".update.body.url" => "[url]",
        ".update.body.checksum" => "[sha256]",
        ".**.body[].id" => "[id]",
    });
}

#[tokio::test]
async fn admin_json() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    let zip = zip_of(&[
        ("index.html", b"<html>2</html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    let mut out = serde_json::Map::new();
    out.insert(
        "upload".into(),
        app.upload(&t, "version=1.0.2&channel=production", zip)
            .await
            .json(),
    );
    out.insert(
        "app".into(),
        app.api("GET", &format!("/apps/{APP}"), &t, None)
            .await
            .json(),
    );
    out.insert(
        "rollout".into(),
        app.api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &t,
            Some(json!({"rollout": {"bundle": "1.0.1", "percent": 10.0, "paused": false}})),
        )
        .await
        .json(),
    );
    out.insert(
        "rollback".into(),
        app.api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &t,
            Some(json!({})),
        )
        .await
        .json(),
    );
    out.insert(
        "bundles".into(),
        app.api("GET", &format!("/apps/{APP}/bundles"), &t, None)
            .await
            .json(),
    );
    out.insert(
        "limits".into(),
        app.api("GET", "/limits", &t, None).await.json(),
    );
    out.insert(
        "error_not_found".into(),
        app.api("GET", &format!("/apps/{APP}/channels/nope"), &t, None)
            .await
            .json(),
    );
    out.insert(
        "error_version_exists".into(),
        app.upload(
            &t,
            "version=1.0.2",
            zip_of(&[("index.html", b"<html>other</html>")]),
        )
        .await
        .json(),
    );
    assert_json_snapshot!(Value::Object(out), {
        ".**.created_at" => "[ms]",
        ".**.updated_at" => "[ms]",
        ".**.sha256" => "[sha256]",
        ".**.id" => "[id]",
        ".**.size" => "[bytes]",
        ".**.created_by" => "[actor]",
    });
}

#[tokio::test]
async fn openapi_document() {
    let app = TestApp::new().await;
    let doc = app
        .api("GET", "/openapi.json", &app.admin, None)
        .await
        .json();
    assert_json_snapshot!(doc, { ".info.version" => "[version]" });
}

#[tokio::test]
async fn stats_report() {
    let app = TestApp::with_vector_bundle().await;
    assert_eq!(
        app.post_json("/updates", &device_request()).await.status,
        StatusCode::OK
    );
    let ev = |action: &str, at: i64| {
        let mut e = device_request();
        e["action"] = json!(action);
        e["version_name"] = json!("1.0.1");
        e["old_version_name"] = json!("builtin");
        e["timestamp"] = json!(at);
        e
    };
    let events = json!([
        ev("download_zip_start", 1_767_225_600_000),
        ev("download_fail", 1_767_225_601_000),
        ev("set", 1_767_225_612_000),
        ev("app_crash", 1_767_225_700_000),
    ]);
    assert_eq!(
        app.post_json("/stats", &events).await.status,
        StatusCode::OK
    );
    app.state.devices.flush(&*app.state.store).await;
    let report = app
        .api(
            "GET",
            &format!("/apps/{APP}/stats?since=1767225000000"),
            &app.admin,
            None,
        )
        .await
        .json();
    assert_json_snapshot!(report, {
        ".generated_at" => "[ms]",
        ".since" => "[ms]",
        ".releases[].released_at" => "[ms]",
        ".releases[].time_to.p50" => "[ms since release]",
        ".releases[].time_to.p90" => "[ms since release]",
        ".releases[].time_to.p95" => "[ms since release]",
    });
}
