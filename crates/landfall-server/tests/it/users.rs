//! Users and sessions: sign-in, the cookie, CSRF, roles as scopes, disabling, signing out, expiry.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const PW: &str = "correct horse battery";

async fn create_user(app: &TestApp, name: &str, roles: Value) {
    let r = app
        .api(
            "POST",
            "/users",
            &app.admin,
            Some(json!({ "username": name, "password": PW, "roles": roles })),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
}

/// A signed-in browser: its cookie value and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn set_cookie(r: &Reply) -> String {
    r.headers
        .get("set-cookie")
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn sign_in(app: &TestApp, name: &str, password: &str) -> Reply {
    app.post_json(
        "/api/v1/session",
        &json!({ "username": name, "password": password }),
    )
    .await
}

async fn browser(app: &TestApp, name: &str) -> Browser {
    let r = sign_in(app, name, PW).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let header = set_cookie(&r);
    let value = header
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("landfall_session=")
        .unwrap()
        .to_owned();
    Browser {
        cookie: value,
        csrf: r.json()["csrf_token"].as_str().unwrap().to_owned(),
    }
}

impl Browser {
    /// A request with the cookie; `csrf` adds the session's `X-CSRF-Token`.
    async fn call(
        &self,
        app: &TestApp,
        method: &str,
        uri: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/api/v1{uri}"))
            .header(
                "cookie",
                format!("theme=dark; landfall_session={}", self.cookie),
            );
        if csrf {
            b = b.header("x-csrf-token", &self.csrf);
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        app.send(
            b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default())
                .unwrap(),
        )
        .await
    }
}

async fn server_audit(app: &TestApp) -> Vec<(String, String)> {
    app.state
        .store
        .list_audit("*", 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action))
        .collect()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_answers_the_session() {
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "admin" }])).await;
    let before = landfall_store::now_ms();
    let r = sign_in(&app, "alice", PW).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let cookie = set_cookie(&r);
    let parts: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert!(
        parts[0].starts_with("landfall_session=") && parts[0].len() > 40,
        "{cookie}"
    );
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(parts.contains(&flag), "{flag} missing in {cookie}");
    }
    assert!(!parts.contains(&"Secure"), "plain HTTP: {cookie}");
    let v = r.json();
    assert_eq!(
        v["user"],
        json!({ "username": "alice", "roles": [{ "app": "*", "role": "admin" }],
                "created_at": v["user"]["created_at"] })
    );
    let expires = v["expires_at"].as_i64().unwrap();
    assert!(
        expires >= before + 7 * 86_400_000 && expires <= landfall_store::now_ms() + 7 * 86_400_000
    );
    let csrf = v["csrf_token"].as_str().unwrap();
    assert!(csrf.len() >= 40);
    // Only the secret's hash is stored.
    let secret = parts[0].strip_prefix("landfall_session=").unwrap();
    let hash = landfall_server::admin::auth::hash_token(secret);
    assert!(app
        .state
        .store
        .find_session(secret)
        .await
        .unwrap()
        .is_none());
    assert!(app.state.store.find_session(&hash).await.unwrap().is_some());

    // GET /session with the cookie: the same view, no CSRF needed for GET.
    let b = Browser {
        cookie: secret.to_owned(),
        csrf: csrf.to_owned(),
    };
    let again = b.call(&app, "GET", "/session", None, false).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), v);
    // The session acts with the user's grants on every route.
    let apps = b.call(&app, "GET", "/apps", None, false).await;
    assert_eq!(apps.status, StatusCode::OK);
    assert!(server_audit(&app)
        .await
        .contains(&("user:alice".into(), "user_sign_in".into())));
}

#[tokio::test]
async fn wrong_password_unknown_and_disabled_users_get_the_same_401() {
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "viewer" }])).await;
    create_user(&app, "bob", json!([{ "app": "*", "role": "viewer" }])).await;
    let r = app
        .api(
            "PATCH",
            "/users/bob",
            &app.admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["disabled_at"].as_i64().is_some());
    let wrong = sign_in(&app, "alice", "correct horse batterY").await;
    let unknown = sign_in(&app, "nobody", PW).await;
    let disabled = sign_in(&app, "bob", PW).await;
    for r in [&wrong, &unknown, &disabled] {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"], "bad_credentials");
        assert!(r.headers.get("set-cookie").is_none());
    }
    assert_eq!(wrong.bytes, unknown.bytes);
    assert_eq!(wrong.bytes, disabled.bytes);
    // Not signed in at all.
    let r = app
        .send(Request::get("/api/v1/session").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "unauthenticated");
    // A bearer token has no session.
    let r = app.api("GET", "/session", &app.admin, None).await;
    assert_eq!(r.json()["error"], "unauthenticated");
    // Enabled again, bob signs in.
    app.api(
        "PATCH",
        "/users/bob",
        &app.admin,
        Some(json!({ "disabled": false })),
    )
    .await;
    assert_eq!(sign_in(&app, "bob", PW).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_cookie_is_secure_over_https() {
    // An https public URL.
    let app =
        TestApp::new_with(|a| a.public_url = Some("https://updates.example.com".into())).await;
    create_user(&app, "alice", json!([])).await;
    let cookie = set_cookie(&sign_in(&app, "alice", PW).await);
    assert!(cookie.split(';').any(|p| p.trim() == "Secure"), "{cookie}");

    // X-Forwarded-Proto counts only from a trusted proxy.
    let app = TestApp::new_with(|a| a.trusted_proxies = Some(vec!["10.0.0.0/8".into()])).await;
    create_user(&app, "alice", json!([])).await;
    let from = |peer: &str| {
        let mut req = Request::post("/api/v1/session")
            .header("content-type", "application/json")
            .header("x-forwarded-proto", "https")
            .body(Body::from(
                json!({ "username": "alice", "password": PW }).to_string(),
            ))
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            format!("{peer}:4000")
                .parse::<std::net::SocketAddr>()
                .unwrap(),
        ));
        req
    };
    let trusted = set_cookie(&app.send(from("10.1.2.3")).await);
    assert!(
        trusted.split(';').any(|p| p.trim() == "Secure"),
        "{trusted}"
    );
    let untrusted = set_cookie(&app.send(from("203.0.113.9")).await);
    assert!(!untrusted.contains("Secure"), "{untrusted}");
    // Signing out expires the cookie, Secure too.
    let b = Browser {
        cookie: trusted.split(';').next().unwrap()["landfall_session=".len()..].to_owned(),
        csrf: String::new(),
    };
    let session = app
        .state
        .store
        .find_session(&landfall_server::admin::auth::hash_token(&b.cookie))
        .await
        .unwrap()
        .unwrap()
        .0;
    let b = Browser {
        csrf: session.csrf_token,
        ..b
    };
    let mut req = Request::delete("/api/v1/session")
        .header("cookie", format!("landfall_session={}", b.cookie))
        .header("x-csrf-token", &b.csrf)
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "10.0.0.1:4000".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let gone = set_cookie(&r);
    assert!(
        gone.starts_with("landfall_session=;") && gone.contains("Max-Age=0"),
        "{gone}"
    );
    assert!(gone.contains("Secure"), "{gone}");
}

#[tokio::test]
async fn csrf_is_required_with_the_cookie_and_accepted_when_sent() {
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "admin" }])).await;
    let b = browser(&app, "alice").await;
    let body = json!({ "app_id": "com.example.csrf" });
    let r = b
        .call(&app, "POST", "/apps", Some(body.clone()), false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "csrf_required");
    let forged = Browser {
        cookie: b.cookie.clone(),
        csrf: format!("{}x", &b.csrf[..b.csrf.len() - 1]),
    };
    let r = forged
        .call(&app, "POST", "/apps", Some(body.clone()), true)
        .await;
    assert_eq!(r.json()["error"], "csrf_required");
    // Nothing was created.
    let r = app
        .api("GET", "/apps/com.example.csrf", &app.admin, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // With the token: created, audited as the user.
    let r = b.call(&app, "POST", "/apps", Some(body), true).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let audit = app
        .api("GET", "/apps/com.example.csrf/audit", &app.admin, None)
        .await
        .json();
    assert_eq!(audit[0]["actor"], "user:alice");
    // Bearer tokens never need it.
    let r = app
        .api(
            "POST",
            "/apps",
            &app.admin,
            Some(json!({ "app_id": "com.example.bearer" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_viewer_cannot_move_a_channel_and_a_releaser_can() {
    let app = TestApp::with_vector_bundle().await;
    let zip = zip_of(&[
        ("index.html", b"<html>2</html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    let r = app.upload(&app.admin, "version=1.0.2", zip).await;
    assert_eq!(r.status, StatusCode::CREATED);
    create_user(&app, "vera", json!([{ "app": "*", "role": "viewer" }])).await;
    create_user(&app, "rel", json!([{ "app": APP, "role": "releaser" }])).await;
    let viewer = browser(&app, "vera").await;
    let releaser = browser(&app, "rel").await;
    let channel = format!("/apps/{APP}/channels/production");
    let mv = json!({ "bundle": "1.0.2" });
    let r = viewer
        .call(&app, "PATCH", &channel, Some(mv.clone()), true)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "forbidden");
    assert!(
        r.json()["message"].as_str().unwrap().contains("releaser"),
        "{}",
        r.json()
    );
    // State unchanged: the viewer reads the channel, devices still get 1.0.1.
    let r = viewer.call(&app, "GET", &channel, None, false).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["bundle"], "1.0.1");
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.1"
    );
    // The releaser moves it.
    let r = releaser.call(&app, "PATCH", &channel, Some(mv), true).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(r.json()["bundle"], "1.0.2");
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.2"
    );
    let hist = releaser
        .call(&app, "GET", &format!("{channel}/history"), None, false)
        .await
        .json();
    assert_eq!(hist[0]["actor"], "user:rel");
    // A releaser of one app is not an admin: no users API, nothing on other apps.
    let r = releaser.call(&app, "GET", "/users", None, false).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = releaser
        .call(&app, "GET", "/apps/com.example.other", None, false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn disabling_a_user_or_changing_its_password_ends_sessions_at_once() {
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "viewer" }])).await;
    let one = browser(&app, "alice").await;
    let two = browser(&app, "alice").await;
    let three = browser(&app, "alice").await;

    // Changing one's own password keeps this session and ends the others.
    let r = one
        .call(
            &app,
            "POST",
            "/session/password",
            Some(json!({ "current": "nope nope nope", "new": "a new passphrase" })),
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"], "bad_credentials");
    let r = one
        .call(
            &app,
            "POST",
            "/session/password",
            Some(json!({ "current": PW, "new": "short" })),
            true,
        )
        .await;
    assert_eq!(r.json()["error"], "weak_password");
    let r = one
        .call(
            &app,
            "POST",
            "/session/password",
            Some(json!({ "current": PW, "new": "a new passphrase" })),
            true,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(
        one.call(&app, "GET", "/session", None, false).await.status,
        StatusCode::OK
    );
    for b in [&two, &three] {
        let r = b.call(&app, "GET", "/apps", None, false).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.json()["error"], "unauthenticated");
    }
    assert_eq!(
        sign_in(&app, "alice", PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "alice", "a new passphrase").await.status,
        StatusCode::OK
    );

    // An admin disables her: the very next request is refused.
    let r = app
        .api(
            "PATCH",
            "/users/alice",
            &app.admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = one.call(&app, "GET", "/apps", None, false).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // An admin's password reset also ends every session.
    create_user(&app, "bob", json!([])).await;
    let bob = browser(&app, "bob").await;
    let r = app
        .api(
            "POST",
            "/users/bob/password",
            &app.admin,
            Some(json!({ "password": "reset by admin" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        bob.call(&app, "GET", "/session", None, false).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "bob", "reset by admin").await.status,
        StatusCode::OK
    );
    let audit = server_audit(&app).await;
    for entry in [
        ("user:alice", "user_password"),
        ("token:admin", "user_update"),
        ("token:admin", "user_password"),
        ("token:admin", "user_create"),
    ] {
        assert!(
            audit.contains(&(entry.0.into(), entry.1.into())),
            "{entry:?} not in {audit:?}"
        );
    }
}

#[tokio::test]
async fn sign_out_and_sign_out_everywhere() {
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "viewer" }])).await;
    let one = browser(&app, "alice").await;
    let two = browser(&app, "alice").await;
    let three = browser(&app, "alice").await;
    // Signing out needs the CSRF token too.
    let r = one.call(&app, "DELETE", "/session", None, false).await;
    assert_eq!(r.json()["error"], "csrf_required");
    let r = one.call(&app, "DELETE", "/session", None, true).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let gone = set_cookie(&r);
    assert!(
        gone.starts_with("landfall_session=;") && gone.contains("Max-Age=0"),
        "{gone}"
    );
    assert_eq!(
        one.call(&app, "GET", "/session", None, false).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        two.call(&app, "GET", "/session", None, false).await.status,
        StatusCode::OK
    );
    // Everywhere: two and three end.
    let r = two.call(&app, "DELETE", "/session/all", None, true).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for b in [&two, &three] {
        assert_eq!(
            b.call(&app, "GET", "/session", None, false).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let audit = server_audit(&app).await;
    assert!(audit.contains(&("user:alice".into(), "user_sign_out".into())));
    assert!(audit.contains(&("user:alice".into(), "user_sign_out_everywhere".into())));
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_seven_days() {
    use landfall_store::users::NewSession;
    let app = TestApp::new().await;
    create_user(&app, "alice", json!([{ "app": "*", "role": "viewer" }])).await;
    let now = landfall_store::now_ms();
    let hour = 3_600_000;
    // Sessions the clock has overtaken: signed in 13 h ago and idle since; past the 7 days.
    let cases = [
        ("idle-session-secret", now - 13 * hour, now + 100 * hour),
        ("old-session-secret", now - 7 * 24 * hour - 1, now - 1),
        ("fresh-session-secret", now - 11 * hour, now + 100 * hour),
    ];
    for (secret, created, expires) in cases {
        app.state
            .store
            .create_session(NewSession {
                id_hash: landfall_server::admin::auth::hash_token(secret),
                username: "alice".into(),
                csrf_token: "c".into(),
                created_at: created,
                expires_at: expires,
            })
            .await
            .unwrap();
    }
    let get = |secret: &str| {
        Request::get("/api/v1/apps")
            .header("cookie", format!("landfall_session={secret}"))
            .body(Body::empty())
            .unwrap()
    };
    for secret in ["idle-session-secret", "old-session-secret"] {
        let r = app.send(get(secret)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{secret}");
        assert_eq!(r.json()["error"], "session_expired", "{secret}");
        // And it is gone.
        let hash = landfall_server::admin::auth::hash_token(secret);
        assert!(app.state.store.find_session(&hash).await.unwrap().is_none());
    }
    // Idle 11 h: still good, and its use is recorded (idle time starts again).
    let r = app.send(get("fresh-session-secret")).await;
    assert_eq!(r.status, StatusCode::OK);
    let hash = landfall_server::admin::auth::hash_token("fresh-session-secret");
    let (s, _) = app.state.store.find_session(&hash).await.unwrap().unwrap();
    assert!(s.last_seen_at >= now, "{s:?}");
}

#[tokio::test]
async fn the_users_api_checks_its_input_and_needs_a_server_admin() {
    let app = TestApp::new().await;
    let post = |body: Value| app.api("POST", "/users", &app.admin, Some(body));
    let cases = [
        (
            json!({ "username": "", "password": PW, "roles": [] }),
            "invalid_username",
        ),
        (
            json!({ "username": "a b", "password": PW, "roles": [] }),
            "invalid_username",
        ),
        (
            json!({ "username": "alice", "password": "123456789", "roles": [] }),
            "weak_password",
        ),
        (
            json!({ "username": "alice", "password": PW, "roles": [{ "app": "*", "role": "owner" }] }),
            "invalid_role",
        ),
        (
            json!({ "username": "alice", "password": PW, "roles": [{ "app": "not an app", "role": "viewer" }] }),
            "invalid_role",
        ),
        (
            json!({ "username": "alice", "password": PW,
                 "roles": [{ "app": "*", "role": "viewer" }, { "app": "*", "role": "admin" }] }),
            "invalid_role",
        ),
        (json!({ "username": "alice" }), "invalid_json"),
    ];
    for (body, code) in cases {
        let r = post(body.clone()).await;
        assert_eq!(r.status.as_u16() / 100, 4, "{body}");
        assert_eq!(r.json()["error"], code, "{body}: {}", r.json());
    }
    assert!(app.state.store.list_users().await.unwrap().is_empty());
    create_user(
        &app,
        "alice",
        json!([{ "app": APP, "role": "releaser" }, { "app": "*", "role": "viewer" }]),
    )
    .await;
    let r = post(json!({ "username": "alice", "password": PW, "roles": [] })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"], "user_exists");
    let r = app.api("GET", "/users", &app.admin, None).await;
    assert_eq!(
        r.json(),
        json!([{ "username": "alice", "created_at": r.json()[0]["created_at"],
                 "roles": [{ "app": "*", "role": "viewer" }, { "app": APP, "role": "releaser" }] }])
    );
    let r = app
        .api(
            "PATCH",
            "/users/alice",
            &app.admin,
            Some(json!({ "roles": [{ "app": "*", "role": "admin" }] })),
        )
        .await;
    assert_eq!(r.json()["roles"], json!([{ "app": "*", "role": "admin" }]));
    let r = app
        .api(
            "PATCH",
            "/users/nobody",
            &app.admin,
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "user_not_found");
    let r = app
        .api(
            "POST",
            "/users/nobody/password",
            &app.admin,
            Some(json!({ "password": PW })),
        )
        .await;
    assert_eq!(r.json()["error"], "user_not_found");
    let r = app
        .api(
            "POST",
            "/users/alice/password",
            &app.admin,
            Some(json!({ "password": "short" })),
        )
        .await;
    assert_eq!(r.json()["error"], "weak_password");
    // A token scoped to one app cannot manage users.
    let t = app
        .api(
            "POST",
            "/tokens",
            &app.admin,
            Some(json!({ "name": "ci", "scopes": [format!("{APP}:admin")] })),
        )
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (method, uri) in [("GET", "/users"), ("PATCH", "/users/alice")] {
        let r = app.api(method, uri, &t, Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {uri}");
    }
    // Passwords never leave the server.
    let all = app.api("GET", "/users", &app.admin, None).await;
    assert!(!String::from_utf8_lossy(&all.bytes).contains("argon2"));
}
