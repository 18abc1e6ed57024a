//! Issue 7 hardening: scope before body, private ICP documents, clipped echoes, JSON 413s,
//! admin token hygiene.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::support::*;

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.bytes).into_owned()
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% id scan\ntrailer << >>\n%%EOF\n".to_vec()
}

impl TestApp {
    async fn token_with(&self, scope: &str) -> String {
        let r = self
            .api(
                "POST",
                "/tokens",
                &self.admin,
                Some(json!({ "name": scope.replace([':', '.', '*'], "-"), "scopes": [scope] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
        r.json()["token"].as_str().unwrap().to_owned()
    }

    async fn upload_document(&self, token: &str) -> Reply {
        self.send(
            Request::post(format!(
                "/api/v1/apps/{APP}/icp/documents?kind=entity_certificate&file_name=licence.pdf"
            ))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/pdf")
            .body(Body::from(pdf()))
            .unwrap(),
        )
        .await
    }
}

/// Every admin and ICP write route: a read-only token with a malformed body (and malformed query
/// where the route takes one) learns 403, never 400/422 about a body it may not send.
#[tokio::test]
async fn a_read_token_gets_403_before_any_body_or_query_validation() {
    let app = TestApp::with_vector_bundle().await;
    for scope in [format!("{APP}:read"), "*:read".to_owned()] {
        let reader = app.token_with(&scope).await;
        let d = DEVICE;
        let a = format!("/apps/{APP}");
        let routes: Vec<(&str, String)> = vec![
            ("POST", "/apps".into()),
            ("POST", format!("{a}/bundles?version=1.0.2")),
            ("POST", format!("{a}/bundles?not_a_version_param=1")),
            ("POST", format!("{a}/bundles/external")),
            ("POST", format!("{a}/keys")),
            ("DELETE", format!("{a}/keys/nokey")),
            ("DELETE", format!("{a}/bundles/1.0.1")),
            ("POST", format!("{a}/channels")),
            ("PATCH", format!("{a}/channels/production")),
            ("POST", format!("{a}/channels/production/rollback")),
            ("PUT", format!("{a}/devices/{d}/override")),
            ("DELETE", format!("{a}/devices/{d}/override")),
            ("POST", "/tokens".into()),
            ("DELETE", "/tokens/1".into()),
            ("PUT", format!("{a}/icp/filing")),
            ("PUT", format!("{a}/icp/filing?lenient=maybe")),
            ("POST", format!("{a}/icp/filing/transitions")),
            ("POST", format!("{a}/icp/documents?kind=nonsense")),
            ("PATCH", format!("{a}/icp/documents/1")),
            ("DELETE", format!("{a}/icp/documents/1")),
            ("PUT", format!("{a}/icp/settings")),
            (
                "POST",
                format!("{a}/icp/compliance/security_check/completions"),
            ),
            ("POST", format!("{a}/icp/compliance/completions/1/evidence")),
            ("PUT", format!("{a}/icp/emergency")),
            ("POST", format!("{a}/icp/incidents")),
            ("POST", format!("{a}/icp/incidents/1/timeline")),
            ("POST", format!("{a}/icp/incidents/1/kill-switch")),
            ("POST", "/icp/calendar/years".into()),
        ];
        for (method, uri) in &routes {
            for body in ["{not json", "{\"unexpected\": [1,2,3]}", ""] {
                let r = app.raw_api(&reader, method, uri, body).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{scope} {method} {uri} with {body:?}: {}",
                    text(&r)
                );
                assert_eq!(r.json()["error"], "forbidden", "{method} {uri}");
            }
        }
    }
    // The admin still gets the precise body error.
    let r = app.raw_api(&app.admin, "POST", "/apps", "{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", text(&r));
    assert_eq!(r.json()["error"], "invalid_json");
    let r = app
        .raw_api(&app.admin, "POST", "/apps", "{\"app_id\": 5}")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", text(&r));
    assert_eq!(r.json()["error"], "invalid_json");
}

/// ID-card scans and licences are personal data: like the backup, they need `admin`.
#[tokio::test]
async fn icp_documents_need_admin() {
    let app = TestApp::with_vector_bundle().await;
    let r = app.upload_document(&app.admin).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));
    let id = r.json()["id"].as_i64().unwrap();
    let docs = format!("/apps/{APP}/icp/documents");
    let paths = [
        docs.clone(),
        format!("{docs}/{id}"),
        format!("{docs}/{id}/content"),
    ];
    for scope in [
        format!("{APP}:read"),
        format!("{APP}:upload"),
        "*:read".into(),
    ] {
        let t = app.token_with(&scope).await;
        for p in &paths {
            let r = app.api("GET", p, &t, None).await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{scope} GET {p}: {}",
                text(&r)
            );
        }
    }
    let app_admin = app.token_with(&format!("{APP}:admin")).await;
    for t in [&app.admin, &app_admin] {
        for p in &paths {
            let r = app.api("GET", p, t, None).await;
            assert_eq!(r.status, StatusCode::OK, "GET {p}: {}", text(&r));
        }
    }
    let r = app.api("GET", &paths[2], &app_admin, None).await;
    assert_eq!(r.bytes, pdf());
    // The readiness report stays readable with `read` (it names no file contents).
    let reader = app.token_with(&format!("{APP}:read")).await;
    let r = app
        .api("GET", &format!("/apps/{APP}/icp/documents"), &reader, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn assert_clipped(r: &Reply, needle: &str) {
    let body = text(r);
    assert!(
        body.len() < 1500,
        "the answer echoes {} bytes: {}…",
        body.len(),
        &body[..300.min(body.len())]
    );
    assert!(body.contains('…'), "{body}");
    assert!(body.contains(needle), "{body}");
}

/// Messages echo at most ~100 characters of what the client sent.
#[tokio::test]
async fn error_messages_clip_echoed_input() {
    let app = TestApp::with_vector_bundle().await;
    let huge = "a".repeat(600 << 10);
    // Plugin: a huge, invalid app id and a huge, invalid version_build.
    let mut req = device_request();
    req["app_id"] = json!(format!("{huge}!"));
    let r = app.post_json("/updates", &req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_clipped(&r, "aaaa");
    let mut req = device_request();
    req["version_build"] = json!(format!("1.0.0-{huge}!"));
    let r = app.post_json("/updates", &req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_clipped(&r, "aaaa");
    // Admin: names and versions, and serde's texts (which quote the offending value).
    let r = app
        .api("POST", "/apps", &app.admin, Some(json!({ "app_id": huge })))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", &text(&r)[..200]);
    assert_clipped(&r, "aaaa");
    let r = app
        .api(
            "POST",
            "/tokens",
            &app.admin,
            Some(json!({ "name": "x", "scopes": huge })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_clipped(&r, "aaaa");
    let r = app
        .api(
            "POST",
            "/tokens",
            &app.admin,
            Some(json!({ "name": "x", "scopes": [huge] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_clipped(&r, "aaaa");
    let zip = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
    let long_version = format!("1.0.0-{}", "b".repeat(5000));
    let r = app
        .upload(&app.admin, &format!("version={long_version}!"), zip)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_clipped(&r, "bbbb");
    let long_app = "c".repeat(5000);
    let r = app
        .api(
            "GET",
            &format!("/apps/com.{long_app}/bundles"),
            &app.admin,
            None,
        )
        .await;
    assert_clipped(&r, "cccc");
    // ICP: dates and documents.
    let r = app
        .api(
            "GET",
            &format!("/apps/{APP}/icp/documents?today={}", "9".repeat(5000)),
            &app.admin,
            None,
        )
        .await;
    assert_clipped(&r, "9999");
}

/// Too-large bodies answer JSON: the plugin's shape on plugin routes, ours on admin routes.
#[tokio::test]
async fn too_large_bodies_answer_json_413() {
    let app = TestApp::with_vector_bundle().await;
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20));
    for path in [
        "/updates",
        "/stats",
        "/channel_self",
        "/updates/manifest_size",
    ] {
        for method in ["POST", "PUT"] {
            if path != "/channel_self" && method != "POST" {
                continue;
            }
            let r = app.raw(method, path, &big).await;
            assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}");
            let v = r.json();
            assert_eq!(v["error"], "body_too_large", "{method} {path}: {v}");
            assert_eq!(v["kind"], "failed", "{method} {path}: {v}");
            assert!(v["message"].as_str().unwrap().contains("1 MiB"), "{v}");
        }
    }
    for (method, uri) in [
        ("POST", "/apps".to_owned()),
        ("POST", format!("/apps/{APP}/channels")),
        ("PUT", format!("/apps/{APP}/icp/filing")),
    ] {
        let r = app.raw_api(&app.admin, method, &uri, &big).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {uri}");
        let v = r.json();
        assert_eq!(v["error"], "body_too_large", "{method} {uri}: {v}");
        assert!(v.get("kind").is_none());
        assert!(v["message"].as_str().unwrap().contains("1 MiB"), "{v}");
    }
}

/// The last active `*:admin` token cannot be revoked; token changes are audited server-wide.
#[tokio::test]
async fn the_last_admin_token_cannot_be_revoked() {
    let app = TestApp::new().await;
    let tokens = app.api("GET", "/tokens", &app.admin, None).await.json();
    let admin_id = tokens[0]["id"].as_i64().unwrap();
    let r = app
        .api("DELETE", &format!("/tokens/{admin_id}"), &app.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", text(&r));
    assert_eq!(r.json()["error"], "last_admin_token");
    assert!(r.json()["message"].as_str().unwrap().contains("*:admin"));
    // With a second admin, the first can go; then the second is the last one.
    let second = app.token_with("*:admin").await;
    let r = app
        .api("DELETE", &format!("/tokens/{admin_id}"), &second, None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", text(&r));
    let list = app.api("GET", "/tokens", &second, None).await.json();
    let second_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["revoked_at"].is_null())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .api("DELETE", &format!("/tokens/{second_id}"), &second, None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let audit = app.state.store.list_audit("*", 0, i64::MAX).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"token_create"), "{actions:?}");
    assert!(actions.contains(&"token_revoke"), "{actions:?}");
}

async fn check_from(app: &TestApp, ip: &str, token: &str) -> (StatusCode, std::time::Duration) {
    let mut req = Request::get("/api/v1/apps")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let addr: std::net::SocketAddr = format!("{ip}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let start = std::time::Instant::now();
    let r = app.send(req).await;
    (r.status, start.elapsed())
}

/// After 5 failures in a minute from one IP, further failures are answered ever more slowly;
/// good tokens and other IPs are not slowed.
#[tokio::test]
async fn failed_token_checks_are_slowed_per_ip() {
    use std::time::Duration;
    let app = TestApp::new().await;
    let bad = "lf_not-a-real-token";
    for _ in 0..5 {
        let (status, took) = check_from(&app, "203.0.113.7", bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(took < Duration::from_millis(200), "{took:?}");
    }
    let (status, t6) = check_from(&app, "203.0.113.7", bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(t6 >= Duration::from_millis(250), "{t6:?}");
    let (_, t7) = check_from(&app, "203.0.113.7", bad).await;
    assert!(t7 >= Duration::from_millis(500), "{t7:?}");
    // A good token from the same IP is answered at once; another IP is not slowed.
    let (status, took) = check_from(&app, "203.0.113.7", &app.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(took < Duration::from_millis(200), "{took:?}");
    let (status, took) = check_from(&app, "198.51.100.1", bad).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(took < Duration::from_millis(200), "{took:?}");
    // The delay is capped.
    let limiter = landfall_server::admin::auth::FailureLimiter::default();
    let ip: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    let mut last = Duration::ZERO;
    for _ in 0..100 {
        last = limiter.failed(ip);
    }
    assert_eq!(last, landfall_server::admin::auth::MAX_FAILURE_DELAY);
}
