//! The admin API over HTTP: auth and scopes, uploads (valid and hostile), channels and rollback.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn tokens_are_required_scoped_and_revocable() {
    let app = TestApp::new().await;
    let r = app.raw("GET", "/api/v1/apps", "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthorized");
    assert_eq!(
        app.api("GET", "/apps", "lf_wrong", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let r = app
        .api(
            "POST",
            "/tokens",
            &app.admin,
            Some(json!({ "name": "ci", "scopes": [format!("{APP}:upload")] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let created = r.json();
    let ci = created["token"].as_str().unwrap().to_owned();
    assert!(ci.starts_with("lf_"));
    // The secret is stored hashed only.
    let listed = app.api("GET", "/tokens", &app.admin, None).await;
    assert!(!String::from_utf8_lossy(&listed.bytes).contains(&ci));
    // Upload scope: may upload and move channels, not create apps, tokens or change flags.
    let zip = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
    assert_eq!(
        app.upload(&ci, "version=1.0.1&channel=production", zip)
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app
        .api(
            "POST",
            "/apps",
            &ci,
            Some(json!({ "app_id": "com.other.app" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.json()["message"].as_str().unwrap().contains("*:admin"));
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &ci,
            Some(json!({ "flags": { "public": false } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api("GET", "/tokens", &ci, None).await.status,
        StatusCode::FORBIDDEN
    );
    // Another app is invisible.
    app.api(
        "POST",
        "/apps",
        &app.admin,
        Some(json!({ "app_id": "com.other.app" })),
    )
    .await;
    let apps = app.api("GET", "/apps", &ci, None).await.json();
    assert_eq!(apps.as_array().unwrap().len(), 1);
    assert_eq!(
        app.api("GET", "/apps/com.other.app/bundles", &ci, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Revoke.
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        app.api("DELETE", &format!("/tokens/{id}"), &app.admin, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api("GET", "/apps", &ci, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api("DELETE", "/tokens/999", &app.admin, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .api(
            "POST",
            "/tokens",
            &app.admin,
            Some(json!({ "name": "x", "scopes": ["everything"] })),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn admin_errors_have_stable_codes() {
    let app = TestApp::new().await;
    let t = app.admin.clone();
    let cases = vec![
        (
            app.api("POST", "/apps", &t, Some(json!({ "app_id": "bad id" })))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_app_id",
        ),
        (
            app.raw_api(&t, "POST", "/apps", "{oops").await,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            app.api("POST", "/apps", &t, Some(json!({ "name": 5 })))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
        (
            app.api("GET", "/apps/com.none.app/bundles", &t, None).await,
            StatusCode::NOT_FOUND,
            "app_not_found",
        ),
        (
            app.api("GET", "/nope", &t, None).await,
            StatusCode::NOT_FOUND,
            "no_such_route",
        ),
    ];
    for (r, status, code) in cases {
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.bytes));
        let v = r.json();
        assert_eq!(v["error"], code);
        assert!(v["message"].as_str().is_some_and(|m| m.len() > 10));
    }
    app.api("POST", "/apps", &t, Some(json!({ "app_id": APP })))
        .await;
    let r = app
        .api("POST", "/apps", &t, Some(json!({ "app_id": APP })))
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::CONFLICT, Some("app_exists"))
    );
    for path in ["bundles/9.9.9", "channels/nope"] {
        let r = app
            .api("GET", &format!("/apps/{APP}/{path}"), &t, None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn uploads_are_validated_and_versions_immutable() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    let good = zip_of(&[
        ("index.html", b"<html></html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    let r = app.upload(&t, "version=1.0.1", good.clone()).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::CONFLICT, Some("version_exists"))
    );
    let hostile: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "version=1.1.0",
            zip_of(&[("index.html", b"x"), ("../evil.js", b"x")]),
            "invalid_zip",
        ),
        ("version=1.1.0", zip_of(&[("a.html", b"x")]), "invalid_zip"),
        (
            "version=1.1.0",
            zip_of(&[("index.html", b"x"), ("__MACOSX/._x", b"x")]),
            "invalid_zip",
        ),
        ("version=1.1.0", b"not a zip".to_vec(), "invalid_zip"),
        ("version=1.1.0", vec![], "empty_body"),
        ("version=banana", good.clone(), "invalid_version"),
        ("channel=x", good.clone(), "invalid_query"),
        (
            "version=1.1.0&channel=no%20spaces",
            good.clone(),
            "invalid_channel",
        ),
        (
            "version=1.1.0&min_update_version=soon",
            good.clone(),
            "invalid_min_update_version",
        ),
    ];
    for (q, body, code) in hostile {
        let r = app.upload(&t, q, body).await;
        assert_eq!(r.status.as_u16() / 100, 4, "{q}");
        assert_eq!(
            r.json()["error"],
            code,
            "{q}: {}",
            String::from_utf8_lossy(&r.bytes)
        );
    }
    // Bombs: 64 MiB of zeros in a few KiB.
    let bomb = zip_of(&[("index.html", b"x"), ("zeros.bin", &vec![0u8; 64 << 20])]);
    let r = app.upload(&t, "version=1.1.0", bomb).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_zip"))
    );
    // Too large a body.
    let big: Vec<u8> = (0..(9u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = app.upload(&t, "version=1.1.0", big).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("bundle_too_large"))
    );
    // Nothing from the refused uploads is visible, staged or stored.
    let list = app
        .api("GET", &format!("/apps/{APP}/bundles"), &t, None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(&app.state.tmp_dir).unwrap().count(),
        0,
        "staging files removed"
    );
    assert_eq!(app.state.blobs.list().await.unwrap().len(), 1);
    // And a good one works, in a single top folder too.
    let nested = zip_of(&[
        ("dist/index.html", b"<html>"),
        ("dist/app.js", b"notifyAppReady()"),
    ]);
    let r = app.upload(&t, "version=1.1.0&comment=hi", nested).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = r.json();
    assert_eq!(v["bundle"]["comment"], "hi");
    assert_eq!(v["bundle"]["sha256"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn external_bundles() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    let body = json!({ "version": "1.2.0", "url": "https://cdn.example.cn/b-1.2.0.zip", "checksum": "AB".repeat(32), "channel": "production" });
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/bundles/external"),
            &t,
            Some(body),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = app.post_json("/updates", &device_request()).await.json();
    assert_eq!(v["url"], "https://cdn.example.cn/b-1.2.0.zip");
    assert_eq!(v["checksum"], "ab".repeat(32));
    let bad = json!({ "version": "1.3.0", "url": "ftp://x", "checksum": "00" });
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/bundles/external"),
            &t,
            Some(bad),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_url"))
    );
}

#[tokio::test]
async fn channel_set_rollback_history_and_delete_rules() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    let zip = zip_of(&[
        ("index.html", b"<html>2</html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    let r = app
        .upload(&t, "version=1.0.2&channel=production", zip)
        .await;
    assert_eq!(r.json()["channel"]["bundle"], "1.0.2");
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.2"
    );
    // Rollback → 1.0.1, again → 1.0.2 (the one served before), then to builtin.
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &t,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.json()["bundle"], "1.0.1");
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.1"
    );
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &t,
            Some(json!({ "to": "builtin" })),
        )
        .await;
    assert_eq!(r.json()["bundle"], "builtin");
    let mut on_bundle = device_request();
    on_bundle["version_name"] = json!("1.0.1");
    assert_eq!(
        app.post_json("/updates", &on_bundle).await.json(),
        json!({ "version": "builtin" })
    );
    let hist = app
        .api(
            "GET",
            &format!("/apps/{APP}/channels/production/history"),
            &t,
            None,
        )
        .await
        .json();
    let seq: Vec<_> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["bundle"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seq, ["builtin", "1.0.1", "1.0.2", "1.0.1"]);
    assert_eq!(hist[0]["reason"], "rollback");
    // Set explicitly, flags with Capgo names, a rollout.
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &t,
            Some(json!({ "bundle": "1.0.2", "flags": { "disable_auto_update": "minor", "ios": false },
                         "rollout": { "bundle": "1.0.1", "percent": 12.5, "paused": false } })),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let v = r.json();
    assert_eq!(
        (
            v["bundle"].as_str(),
            v["flags"]["disable_auto_update"].as_str()
        ),
        (Some("1.0.2"), Some("minor"))
    );
    assert_eq!(v["rollout"]["percent"], 12.5);
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/production"),
            &t,
            Some(json!({ "flags": { "disable_auto_update": "sometimes" } })),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_flag");
    // A served bundle cannot be deleted.
    let r = app
        .api("DELETE", &format!("/apps/{APP}/bundles/1.0.2"), &t, None)
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::CONFLICT, Some("bundle_in_use"))
    );
    // Every change is in the audit log with who and when.
    let audit = app
        .api("GET", &format!("/apps/{APP}/audit"), &t, None)
        .await
        .json();
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"channel_rollback".to_owned())
            && actions.contains(&"bundle_upload".to_owned()),
        "{actions:?}"
    );
    assert!(audit[0]["actor"].as_str().unwrap().starts_with("token:"));
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let app = TestApp::new().await;
    let v = app.raw("GET", "/api/v1/openapi.json", "").await.json();
    let paths = v["paths"].as_object().unwrap();
    for p in [
        "/api/v1/apps",
        "/api/v1/apps/{app}/bundles",
        "/api/v1/apps/{app}/channels/{name}/rollback",
        "/api/v1/tokens",
    ] {
        assert!(paths.contains_key(p), "{p}");
    }
}

#[tokio::test]
async fn an_interrupted_upload_leaves_nothing_behind() {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let zip = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
    let first = axum::body::Bytes::copy_from_slice(&zip[..1000]);
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
        vec![Ok(first), Err(std::io::Error::other("client went away"))];
    let r = app
        .send(
            axum::http::Request::post(format!(
                "/api/v1/apps/{APP}/bundles?version=1.0.1&channel=production"
            ))
            .header("authorization", format!("Bearer {}", app.admin))
            .body(axum::body::Body::from_stream(futures::stream::iter(chunks)))
            .unwrap(),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("upload_interrupted"))
    );
    assert_eq!(
        std::fs::read_dir(&app.state.tmp_dir).unwrap().count(),
        0,
        "staging file removed"
    );
    assert!(
        app.state.blobs.list().await.unwrap().is_empty(),
        "no blob stored"
    );
    let list = app
        .api("GET", &format!("/apps/{APP}/bundles"), &app.admin, None)
        .await
        .json();
    assert!(list.as_array().unwrap().is_empty(), "no bundle visible");
    assert!(app
        .api("GET", &format!("/apps/{APP}/channels"), &app.admin, None)
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    // The version is still free.
    assert_eq!(
        app.upload(&app.admin, "version=1.0.1", zip).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn channels_count_the_devices_they_answered() {
    let app = TestApp::with_vector_bundle().await;
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels"),
            &app.admin,
            Some(json!({"name": "beta", "bundle": "1.0.1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["devices"], 0);
    let ids = [
        "0a000000-0000-4000-8000-000000000001",
        "0a000000-0000-4000-8000-000000000002",
        "0a000000-0000-4000-8000-000000000003",
    ];
    let check = |id: &str| {
        let mut d = device_request();
        d["device_id"] = json!(id);
        d
    };
    for id in ids {
        assert_eq!(
            app.post_json("/updates", &check(id)).await.status,
            StatusCode::OK
        );
    }
    // The third device is forced onto beta and checks again: it now counts there.
    let r = app
        .api(
            "PUT",
            &format!("/apps/{APP}/devices/{}/override", ids[2]),
            &app.admin,
            Some(json!({"channel": "beta"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.post_json("/updates", &check(ids[2])).await.status,
        StatusCode::OK
    );
    // Once the recorder's round wrote the check-ins (the device list waits for it), every
    // channel counts its devices.
    let r = app
        .api("GET", &format!("/apps/{APP}/devices"), &app.admin, None)
        .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(3));
    let list = app
        .api("GET", &format!("/apps/{APP}/channels"), &app.admin, None)
        .await
        .json();
    let devices = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["devices"]
            .clone()
    };
    assert_eq!(devices("production"), 2, "{list}");
    assert_eq!(devices("beta"), 1, "{list}");
    let one = app
        .api(
            "GET",
            &format!("/apps/{APP}/channels/production"),
            &app.admin,
            None,
        )
        .await
        .json();
    assert_eq!(one["devices"], 2, "{one}");
    // A rollback's answer says how many devices the channel reaches.
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/channels/production/rollback"),
            &app.admin,
            Some(json!({"to": "builtin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["devices"], 2);
}
