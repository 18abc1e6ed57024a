//! The ICP desk over HTTP: numbers, calendar and timeline, the filing state machine, documents and
//! readiness, IP checks, drift at upload, the kill switch through `POST /updates`, the public
//! display, export, report and backup.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

// ------------------------------------------------------------------------------------------------
// Fixtures and helpers
// ------------------------------------------------------------------------------------------------

fn person(name: &str, id: &str, mobile: &str, email: &str) -> Value {
    json!({
        "name": name, "id_type": "resident_id_card", "id_number": id,
        "id_valid_until": "2035-01-01", "mobile": mobile, "email": email
    })
}

/// A complete, consistent filing record of a Guangdong company with mainland servers.
fn record() -> Value {
    json!({
        "entity": {
            "nature": "enterprise",
            "ownership": "domestic",
            "name": "深圳鹿鸣科技有限公司",
            "certificate_type": "business_licence",
            "certificate_number": "91440300MA5FXXXX0U",
            "province": "guangdong",
            "city": "深圳市",
            "address": "广东省深圳市南山区科技园1号",
            "responsible": person("张三", "44030519900101123X", "13800138000", "zhang@luming.cn"),
            "responsible_is_legal_representative": true
        },
        "app": {
            "name": "鹿鸣记账",
            "platforms": [
                {"platform": "android", "package_name": "cn.luming.ledger",
                 "cert_fingerprint": "A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90"},
                {"platform": "ios", "package_name": "cn.luming.ledger-ios",
                 "cert_fingerprint": "0123456789abcdef0123456789abcdef01234567"}
            ],
            "domains": [{"name": "luming.cn", "expires_on": "2030-01-01", "holder": "深圳鹿鸣科技有限公司"}],
            "sdks": [{"name": "Alipay SDK", "vendor": "支付宝（中国）网络技术有限公司", "purpose": "payment"}],
            "responsible": person("李四", "44030519850615432X", "13900139000", "li@luming.cn"),
            "language": "zh-CN"
        },
        "access": [{
            "name": "阿里云", "access_method": "cloud", "server_province": "guangdong",
            "server_location": "cn-shenzhen", "ip_addresses": ["223.5.5.5", "240e::1"]
        }],
        "numbers": {}
    })
}

/// A 2027 holiday year, so estimates that run past 24 December 2026 can be answered.
fn year_2027() -> Value {
    json!({"year": 2027, "source": "test", "holidays": [
        {"name": "元旦", "name_en": "New Year's Day", "off": ["2027-01-01", "2027-01-02", "2027-01-03"], "work": []}
    ]})
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% {text}\ntrailer << >>\n%%EOF\n")
        .into_bytes()
}

fn body(r: &Reply) -> String {
    String::from_utf8_lossy(&r.bytes).into_owned()
}

fn icp(p: &str) -> String {
    format!("/apps/{APP}/icp{p}")
}

impl TestApp {
    async fn put_record(&self, query: &str, rec: &Value) -> Reply {
        self.api(
            "PUT",
            &icp(&format!("/filing{query}")),
            &self.admin,
            Some(rec.clone()),
        )
        .await
    }

    async fn event(&self, ev: Value) -> Reply {
        self.api("POST", &icp("/filing/transitions"), &self.admin, Some(ev))
            .await
    }

    async fn bytes(&self, method: &str, uri: &str, token: &str, bytes: Vec<u8>) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(format!("/api/v1{uri}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/octet-stream")
                .body(Body::from(bytes))
                .unwrap(),
        )
        .await
    }

    async fn doc(&self, query: &str, bytes: Vec<u8>) -> Reply {
        self.bytes(
            "POST",
            &icp(&format!("/documents?{query}")),
            &self.admin,
            bytes,
        )
        .await
    }

    async fn get(&self, uri: &str) -> Reply {
        self.api("GET", uri, &self.admin, None).await
    }

    async fn token(&self, scope: &str) -> String {
        let r = self
            .api(
                "POST",
                "/tokens",
                &self.admin,
                Some(json!({ "name": scope.replace([':', '.'], "-"), "scopes": [scope] })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
        r.json()["token"].as_str().unwrap().to_owned()
    }

    /// Fixes the desk's "today" (the real date never enters a test's expectations).
    fn set_today(&self, day: &str) {
        let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        self.state.icp.set_today(Some(day));
    }

    async fn load_2027(&self) {
        let r = self
            .api(
                "POST",
                "/icp/calendar/years",
                &self.admin,
                Some(year_2027()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    }
}

/// The vector app (bundle 1.0.1 on `production`) with the fixture filing recorded.
async fn filed_app() -> TestApp {
    let app = TestApp::with_vector_bundle().await;
    app.load_2027().await;
    let r = app.put_record("", &record()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    app
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", body(r));
    assert_eq!(r.json()["error"], code, "{}", body(r));
    assert!(
        !r.json()["message"].as_str().unwrap_or_default().is_empty(),
        "{}",
        body(r)
    );
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

// ------------------------------------------------------------------------------------------------
// Numbers
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_number_type_valid_and_invalid() {
    let app = TestApp::new().await;
    let check = |n: &str, kind: Option<&str>, lenient: bool| {
        let mut b = json!({ "number": n, "lenient": lenient });
        if let Some(k) = kind {
            b["kind"] = json!(k);
        }
        b
    };
    let valid = [
        (
            "京ICP备12345678号-2A",
            None,
            "filing",
            "京ICP备12345678号-2A",
        ),
        // full-width digits, spaces and dash are normalised
        (
            "京 ICP 备 １２３４５６７８ 号－１ａ",
            None,
            "filing",
            "京ICP备12345678号-1A",
        ),
        (
            "粤ICP备2021012345号",
            Some("filing"),
            "filing",
            "粤ICP备2021012345号",
        ),
        ("京ICP证030173号", None, "licence", "京ICP证030173号"),
        ("粤B2-20090059", None, "licence", "粤B2-20090059"),
        (
            "京公网安备11010502000001号",
            None,
            "public_security",
            "京公网安备11010502000001号",
        ),
        (
            "川公网安备51010502000001号",
            Some("public_security"),
            "public_security",
            "川公网安备51010502000001号",
        ),
    ];
    for (input, kind, expect_kind, canonical) in valid {
        let r = app
            .api(
                "POST",
                "/icp/numbers/check",
                &app.admin,
                Some(check(input, kind, false)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{input}: {}", body(&r));
        let v = r.json();
        assert_eq!(v["kind"], expect_kind, "{input}");
        assert_eq!(v["canonical"], canonical, "{input}");
    }
    let psb = app
        .api(
            "POST",
            "/icp/numbers/check",
            &app.admin,
            Some(check("京公网安备11010502000001号", None, false)),
        )
        .await
        .json();
    assert_eq!(
        psb["verify_url"],
        "https://beian.mps.gov.cn/#/query/webSearch?code=11010502000001"
    );

    let invalid = [
        ("港ICP备12345678号", None, "Hong Kong"),
        ("京ICP备1234567号", None, "7 digits"),
        ("京ICP备12345678", None, "号"),
        ("京ICP备12345678号-2B", None, "suffix"),
        ("蜀ICP证12345号", None, "5 digits"),
        ("粤B2-2009005", None, "digits"),
        ("京公网安备44030502000001号", None, "Guangdong"),
        ("京公网安备1101050200000号", None, "13 digits"),
        (
            "京公网安备11010502000001号",
            Some("filing"),
            "public-security",
        ),
        ("", None, "empty"),
        // a variant form: strict refuses
        ("川ICP备12345678号", None, "蜀"),
    ];
    for (input, kind, hint) in invalid {
        let r = app
            .api(
                "POST",
                "/icp/numbers/check",
                &app.admin,
                Some(check(input, kind, false)),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_number");
        let msg = r.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(hint), "{input}: {msg}");
        assert!(has_chinese(msg.split(" / ").last().unwrap()), "{msg}");
    }
    // Lenient accepts the variant with a warning.
    let r = app
        .api(
            "POST",
            "/icp/numbers/check",
            &app.admin,
            Some(check("川ICP备12345678号", None, true)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.json()["province"], "sichuan");
    assert_eq!(r.json()["warnings"].as_array().unwrap().len(), 1);
    // Authentication is required.
    assert_eq!(
        app.raw("POST", "/api/v1/icp/numbers/check", "{}")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn numbers_in_the_record_are_validated_and_normalised() {
    let app = TestApp::with_vector_bundle().await;
    let mut rec = record();
    rec["numbers"] = json!({ "public_security": "粤公网安备11010502000001号" });
    let r = app.put_record("", &rec).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_number");
    assert!(body(&r).contains("numbers.public_security"), "{}", body(&r));
    assert!(body(&r).contains("Beijing"), "{}", body(&r));

    rec["numbers"] = json!({ "public_security_number": "粤公网安备44030502000001号" });
    assert_error(
        &app.put_record("", &rec).await,
        StatusCode::BAD_REQUEST,
        "invalid_record",
    );

    rec["numbers"] = json!({
        "licence": "粤 B2－20090059",
        "public_security": "粤公网安备４４０３０５０２０００００１号"
    });
    let r = app.put_record("", &rec).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["record"]["numbers"]["licence"], "粤B2-20090059");
    assert_eq!(
        v["record"]["numbers"]["public_security"],
        "粤公网安备44030502000001号"
    );
    assert_eq!(v["state"], "draft");

    // Other bad input names the field.
    let mut bad = record();
    bad["access"][0]["ip_addresses"] = json!(["223.5.5.5", "300.1.1.1"]);
    let r = app.put_record("", &bad).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_ip");
    assert!(body(&r).contains("access[0].ip_addresses[1]"));
    let mut bad = record();
    bad["app"]["domains"][0]["expires_on"] = json!("2027-02-30");
    let r = app.put_record("", &bad).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_record");
    assert!(
        body(&r).contains("app.domains[0].expires_on"),
        "{}",
        body(&r)
    );
    let mut bad = record();
    bad["entity"]["province"] = json!("hong_kong");
    assert_error(
        &app.put_record("", &bad).await,
        StatusCode::BAD_REQUEST,
        "invalid_record",
    );
    // Unknown apps.
    let r = app
        .api(
            "PUT",
            "/apps/com.nope.app/icp/filing",
            &app.admin,
            Some(record()),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "app_not_found");
    let r = app.get("/apps/com.nope.app/icp/filing").await;
    assert_error(&r, StatusCode::NOT_FOUND, "app_not_found");
}

// ------------------------------------------------------------------------------------------------
// Calendar and timeline
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn working_day_calendar_and_year_loading() {
    let app = TestApp::new().await;
    let r = app
        .get("/icp/calendar/working-days?from=2026-02-06&days=20")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.json()["date"], "2026-03-12");
    let r = app.get("/icp/calendar/days/2026-02-14").await;
    assert_eq!(r.json()["working"], true, "{}", body(&r));
    assert_eq!(r.json()["kind"]["kind"], "make_up_workday");
    let r = app.get("/icp/calendar/days/2026-10-01").await;
    assert_eq!(r.json()["kind"]["kind"], "holiday");
    assert_eq!(r.json()["working"], false);

    // Impossible dates and unknown years are explicit errors.
    assert_error(
        &app.get("/icp/calendar/days/2026-02-30").await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
    );
    assert_error(
        &app.get("/icp/calendar/working-days?from=2026-13-01&days=1")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
    );
    assert_error(
        &app.get("/icp/calendar/working-days?from=2026-01-01&days=x")
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_days",
    );
    let r = app.get("/icp/calendar/days/2027-03-01").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "year_not_loaded");
    assert!(body(&r).contains("2027"));
    // 2026-12-28 depends on the 2027 notice.
    assert_error(
        &app.get("/icp/calendar/working-days?from=2026-12-20&days=10")
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "year_not_loaded",
    );
    assert_error(
        &app.get("/icp/calendar?year=2031").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "year_not_loaded",
    );

    // Loading needs *:admin and valid data.
    let reader = app.token(&format!("{APP}:admin")).await;
    let r = app
        .api("POST", "/icp/calendar/years", &reader, Some(year_2027()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad_year = json!({"year": 2027, "holidays": [{"name": "x", "off": ["2027-02-30"]}]});
    let r = app
        .api("POST", "/icp/calendar/years", &app.admin, Some(bad_year))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_calendar");
    assert!(body(&r).contains("holidays[0].off[0]"), "{}", body(&r));
    let weekday_makeup = json!({"year": 2027, "off": ["2027-01-01"], "work": ["2027-01-04"]});
    assert_error(
        &app.api(
            "POST",
            "/icp/calendar/years",
            &app.admin,
            Some(weekday_makeup),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_calendar",
    );
    let r = app
        .api("POST", "/icp/calendar/years", &app.admin, Some(year_2027()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["replaced"], false);
    assert_eq!(
        app.get("/icp/calendar/days/2027-01-01").await.json()["working"],
        false
    );
    assert_eq!(
        app.get("/icp/calendar/days/2027-03-01").await.json()["working"],
        true
    );
    let info = app.get("/icp/calendar?year=2027").await.json();
    assert_eq!(info["overrides"][0]["year"], 2027);
    assert_eq!(info["year"]["holidays"][0]["name"], "元旦");

    // Persisted: a fresh desk over the same database has 2027.
    let dir = &app.state.settings.data_dir;
    let reopened = landfall_server::store::open(&app.state.settings.database)
        .await
        .unwrap();
    let documents = landfall_store::blob::LocalBlobStore::open(dir.join("icp-documents")).unwrap();
    let again = landfall_server::icp::IcpState::new(reopened.icp, std::sync::Arc::new(documents))
        .await
        .unwrap();
    assert!(again.calendar().loaded_years().contains(&2027));
}

fn stage_names(v: &Value) -> Vec<String> {
    v["timeline"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn timeline_follows_the_filing() {
    let app = filed_app().await;
    app.set_today("2026-02-06");
    // Draft with documents missing, planned submission on 2026-02-06.
    let r = app.get(&icp("/timeline?since=2026-02-06")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["documents_missing"], true);
    assert_eq!(
        stage_names(&v),
        [
            "document_completion",
            "provider_review",
            "miit_verification",
            "provincial_review"
        ]
    );
    assert_eq!(v["timeline"]["remaining"], json!({"min": 19, "max": 33}));
    let stage = &v["timeline"]["stages"][0];
    assert_eq!(stage["earliest_start"], "2026-02-06");
    assert_eq!(stage["earliest_end"], "2026-02-13");
    assert_eq!(stage["latest_end"], "2026-02-27"); // 10 working days: 02-14 works, 02-15..23 off
    assert_error(
        &app.get(&icp("/timeline?since=2026-02-31")).await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
    );

    // Moving the filing moves the estimate. After the draft, the estimate runs from the day the
    // state was entered (the real date); `since` pins it so the dates below are fixed.
    let pinned = |v: &Value| {
        let t = &v["timeline"];
        json!({"state": t["state"], "stages": stage_names(v), "remaining": t["remaining"],
               "first": t["stages"][0], "documents_missing": v["documents_missing"]})
    };
    let draft = pinned(&v);
    assert_eq!(draft["state"], "draft", "{draft}");
    assert_eq!(
        app.event(json!({"event": "submit", "force": true}))
            .await
            .status,
        StatusCode::OK
    );
    let v = app.get(&icp("/timeline?since=2026-02-06")).await.json();
    let submitted = pinned(&v);
    eprintln!("SUBMITTED {submitted:#}");
    assert_eq!(submitted["state"], "provider_review", "{submitted}");
    assert_ne!(submitted, draft);
    assert_eq!(
        app.event(json!({"event": "provider_approve"})).await.status,
        StatusCode::OK
    );
    let v = app.get(&icp("/timeline?since=2026-02-09")).await.json();
    let queued = pinned(&v);
    eprintln!("QUEUED {queued:#}");
    assert_eq!(queued["state"], "queued_to_ca", "{queued}");
    assert_eq!(
        stage_names(&v),
        [
            "document_completion",
            "miit_verification",
            "provincial_review"
        ]
    );
    app.event(json!({"event": "submit_to_ca"})).await;
    app.event(json!({"event": "sms_verified"})).await;
    let v = app.get(&icp("/timeline?since=2026-02-10")).await.json();
    let review = pinned(&v);
    eprintln!("REVIEW {review:#}");
    assert_eq!(v["timeline"]["state"], "ca_review");
    assert!(stage_names(&v).ends_with(&["provincial_review".to_owned()]));
    app.event(json!({"event": "ca_approve", "number": "粤ICP备12345678号-2A"}))
        .await;
    let v = app.get(&icp("/timeline")).await.json();
    assert_eq!(v["timeline"]["state"], "active", "{v}");
    assert!(stage_names(&v).is_empty());
    assert_eq!(v["timeline"]["earliest_completion"], Value::Null);
}

// ------------------------------------------------------------------------------------------------
// State machine
// ------------------------------------------------------------------------------------------------

/// A valid body for every event.
fn ev(name: &str) -> Value {
    match name {
        "provider_reject" | "ca_reject" => json!({"event": name, "reasons": [
            {"field": "app.name", "error": "名称与实际不符 / name does not match the app"}
        ], "note": "rejected"}),
        "sms_failed" => json!({"event": name, "failure": "timeout"}),
        "ca_approve" => json!({"event": name, "number": "粤ICP备12345678号-2A"}),
        "submit" => json!({"event": name, "force": true}),
        _ => json!({"event": name}),
    }
}

const EVENTS: [&str; 15] = [
    "submit",
    "withdraw",
    "provider_approve",
    "provider_reject",
    "submit_to_ca",
    "sms_resent",
    "sms_verified",
    "sms_failed",
    "ca_approve",
    "ca_reject",
    "start_change",
    "abandon",
    "request_cancel",
    "cancel_approved",
    "cancel_withdrawn",
];

/// Every event not allowed in the current state answers 409 and changes nothing.
async fn illegal_everywhere_else(app: &TestApp) {
    let before = app.get(&icp("/filing")).await.json();
    let allowed: Vec<String> = before["allowed_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    for name in EVENTS {
        if allowed.iter().any(|a| a == name) {
            continue;
        }
        let r = app.event(ev(name)).await;
        assert_error(&r, StatusCode::CONFLICT, "illegal_transition");
        let msg = r.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains("cannot apply"), "{msg}");
        assert!(has_chinese(&msg), "{msg}");
    }
    let after = app.get(&icp("/filing")).await.json();
    assert_eq!(before["revision"], after["revision"]);
}

async fn step(app: &TestApp, name: &str, to: &str) -> Value {
    let r = app.event(ev(name)).await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {}", body(&r));
    assert_eq!(r.json()["state"], to, "{name}");
    r.json()
}

#[tokio::test]
async fn every_transition_legal_and_illegal() {
    let app = filed_app().await;
    illegal_everywhere_else(&app).await; // draft
                                         // Submitting with blockers is refused unless forced.
    let r = app.event(json!({"event": "submit"})).await;
    assert_error(&r, StatusCode::CONFLICT, "filing_not_ready");
    assert!(body(&r).contains("document_missing"), "{}", body(&r));
    step(&app, "submit", "provider_review").await;
    illegal_everywhere_else(&app).await; // provider_review
                                         // Rejections need per-field reasons.
    assert_error(
        &app.event(json!({"event": "provider_reject", "reasons": []}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_transition",
    );
    let v = step(&app, "provider_reject", "draft").await;
    assert_eq!(
        v["filing"]["last_rejection"]["reasons"][0]["field"],
        "app.name"
    );
    step(&app, "submit", "provider_review").await;
    step(&app, "withdraw", "draft").await;
    step(&app, "submit", "provider_review").await;
    step(&app, "provider_approve", "queued_to_ca").await;
    illegal_everywhere_else(&app).await; // queued_to_ca
    step(&app, "submit_to_ca", "sms_verification").await;
    illegal_everywhere_else(&app).await; // sms_verification
    step(&app, "sms_resent", "sms_verification").await;
    step(&app, "sms_failed", "draft").await;
    for (e, to) in [
        ("submit", "provider_review"),
        ("provider_approve", "queued_to_ca"),
        ("submit_to_ca", "sms_verification"),
        ("sms_verified", "ca_review"),
    ] {
        step(&app, e, to).await;
    }
    illegal_everywhere_else(&app).await; // ca_review
    step(&app, "ca_reject", "draft").await;
    for (e, to) in [
        ("submit", "provider_review"),
        ("provider_approve", "queued_to_ca"),
        ("submit_to_ca", "sms_verification"),
        ("sms_verified", "ca_review"),
    ] {
        step(&app, e, to).await;
    }
    // Approval needs the issued app number.
    assert_error(
        &app.event(json!({"event": "ca_approve"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_transition",
    );
    assert_error(
        &app.event(json!({"event": "ca_approve", "number": "粤ICP备12345678号-2"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_transition",
    );
    assert_error(
        &app.event(json!({"event": "ca_approve", "number": "粤ICP备1234567号-2A"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_number",
    );
    let v = step(&app, "ca_approve", "active").await;
    assert_eq!(v["record"]["numbers"]["filing"], "粤ICP备12345678号-2A");
    assert_eq!(v["update_required"], false);
    illegal_everywhere_else(&app).await; // active
    step(&app, "request_cancel", "cancel_in_progress").await;
    illegal_everywhere_else(&app).await; // cancel_in_progress
    step(&app, "cancel_withdrawn", "active").await;
    let v = step(&app, "start_change", "draft").await;
    assert_eq!(v["order"], "change");
    assert_eq!(v["update_required"], true);
    // Abandoning a change order returns to the active filing.
    let v = step(&app, "abandon", "active").await;
    assert_eq!(v["update_required"], false);
    step(&app, "request_cancel", "cancel_in_progress").await;
    let v = step(&app, "cancel_approved", "cancelled").await;
    // Terminal: every event is refused, with a hint to start over.
    let r = app.event(ev("submit")).await;
    assert_error(&r, StatusCode::CONFLICT, "illegal_transition");
    assert!(body(&r).contains("final"));
    illegal_everywhere_else(&app).await;

    // The history says who, when and why for every step.
    let history = v["filing"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 25);
    for h in history {
        assert_eq!(h["actor"], "token:admin");
        assert!(h["at"].as_str().unwrap().contains('T'));
    }
    let reject = history.iter().find(|h| h["event"] == "ca_reject").unwrap();
    assert_eq!(reject["note"], "rejected");
    assert_eq!(reject["from"], "ca_review");
    assert_eq!(reject["to"], "draft");

    // An abandoned initial order (a new filing after the cancellation).
    let r = app.put_record("", &record()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["state"], "draft");
    step(&app, "abandon", "abandoned").await;
    illegal_everywhere_else(&app).await;

    // Bad requests and scopes.
    assert_error(
        &app.event(json!({"event": "fly"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    );
    assert_error(
        &app.event(json!([1])).await,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    );
    let reader = app.token(&format!("{APP}:read")).await;
    let r = app
        .api(
            "POST",
            &icp("/filing/transitions"),
            &reader,
            Some(ev("submit")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api("GET", &icp("/filing"), &reader, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn changes_after_approval_open_a_change_filing() {
    let app = TestApp::with_vector_bundle().await;
    app.load_2027().await;
    let mut rec = record();
    // already_filed needs the app number.
    assert_error(
        &app.put_record("?already_filed=true", &rec).await,
        StatusCode::BAD_REQUEST,
        "missing_number",
    );
    rec["numbers"] = json!({"filing": "粤ICP备12345678号-2A"});
    let r = app.put_record("?already_filed=true", &rec).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["state"], "active");
    assert_eq!(r.json()["update_required"], false);

    // Numbers-only change: no change filing.
    rec["numbers"]["public_security"] = json!("粤公网安备44030502000001号");
    let r = app.put_record("", &rec).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.json()["state"], "active");
    // The issued number cannot be replaced by recording.
    let mut other = rec.clone();
    other["numbers"]["filing"] = json!("粤ICP备12345678号-3A");
    assert_error(
        &app.put_record("", &other).await,
        StatusCode::BAD_REQUEST,
        "filing_number_mismatch",
    );

    // A technical change (new server) opens a change filing; the 30-day rule is checked.
    rec["access"][0]["ip_addresses"] = json!(["223.5.5.5", "114.114.114.114"]);
    let r = app
        .put_record("?reason=new%20server&effective_on=2026-01-10", &rec)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["order"], "change");
    assert_eq!(v["update_required"], true);
    assert_eq!(v["change"]["sections"], json!(["technical"]));
    assert_eq!(v["change"]["file_by"], "2025-12-11");
    assert_eq!(v["notices"][0]["code"], "change_notice_late");
    // Further edits while the change is a draft add to it.
    rec["app"]["name"] = json!("鹿鸣记账本");
    let v = app.put_record("", &rec).await.json();
    assert_eq!(v["change"]["sections"], json!(["app", "technical"]));
    // The change timeline is 3–7 working days.
    let t = app.get(&icp("/timeline?since=2026-03-02")).await.json();
    assert_eq!(
        t["timeline"]["remaining"],
        json!({"min": 3, "max": 7}),
        "{t}"
    );
    assert_eq!(t["documents_missing"], false);
    // Under review, details are frozen.
    step(&app, "submit", "provider_review").await;
    rec["app"]["name"] = json!("别的名字");
    assert_error(
        &app.put_record("", &rec).await,
        StatusCode::CONFLICT,
        "filing_under_review",
    );
    for (e, to) in [
        ("provider_approve", "queued_to_ca"),
        ("submit_to_ca", "sms_verification"),
        ("sms_verified", "ca_review"),
    ] {
        step(&app, e, to).await;
    }
    // A change approval keeps the number.
    let r = app.event(json!({"event": "ca_approve"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["state"], "active");
    assert_eq!(v["update_required"], false);
    assert_eq!(v["filed_record"]["app"]["name"], "鹿鸣记账本");
    assert_eq!(v["record"]["numbers"]["filing"], "粤ICP备12345678号-2A");

    let changes = app.get(&icp("/filing/changes")).await.json();
    let changes = changes.as_array().unwrap();
    assert_eq!(changes.len(), 4);
    assert_eq!(changes[2]["change_filing"], true);
    assert_eq!(changes[2]["reason"], "new server");
    assert_eq!(changes[2]["sections"], json!(["technical"]));
}

// ------------------------------------------------------------------------------------------------
// Documents and readiness
// ------------------------------------------------------------------------------------------------

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn documents_and_readiness() {
    let app = filed_app().await;
    let today = "2026-06-01";
    let r = app.get(&icp(&format!("/readiness?today={today}"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["ready"], false);
    assert!(v["documents_missing"].as_bool().unwrap());
    let missing: Vec<&Value> = v["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["code"] == "document_missing")
        .collect();
    assert!(missing.len() >= 8, "{missing:?}");
    assert!(missing
        .iter()
        .any(|b| b["field"] == "documents.entity_certificate"));
    assert!(has_chinese(missing[0]["message"]["zh"].as_str().unwrap()));

    // The checklist is per entity type.
    let list = app.get(&icp("/documents")).await.json();
    let kinds: Vec<&str> = list["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["requirement"]["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"entity_certificate"));
    assert!(kinds.contains(&"service_commitment")); // Guangdong
    assert!(!kinds.contains(&"power_of_attorney")); // domestic

    // Non-PDF "PDFs" and truncated PDFs are refused.
    let r = app
        .doc(
            "kind=entity_certificate&file_name=licence.pdf",
            b"PK\x03\x04 not a pdf".to_vec(),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "document_not_pdf");
    assert!(has_chinese(r.json()["message"].as_str().unwrap()));
    let r = app
        .doc(
            "kind=entity_certificate&file_name=licence.pdf",
            b"%PDF-1.7\n1 0 obj".to_vec(),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "document_incomplete");
    let r = app
        .doc(
            "kind=app_responsible_id&file_name=id.gif",
            b"GIF89a....".to_vec(),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "document_unsupported");
    let r = app.doc("kind=no_such_kind&file_name=x.pdf", pdf("x")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_query");
    let r = app
        .doc(
            "kind=entity_certificate&file_name=x.pdf&expires_on=2026-02-30",
            pdf("x"),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_query");
    let r = app
        .doc("kind=entity_certificate&file_name=x.pdf", vec![])
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "empty_body");
    let big = {
        let mut b = pdf("big");
        b.resize(20_000_001, b' ');
        b
    };
    let r = app
        .doc("kind=entity_certificate&file_name=x.pdf", big)
        .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "document_too_large");

    // A licence expiring within 3 months: a warning. An ID photo (JPEG) is accepted.
    let licence = pdf("营业执照");
    let r = app
        .doc(
            "kind=entity_certificate&file_name=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf&expires_on=2026-07-15",
            licence.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    let d = r.json();
    assert_eq!(d["status"], "uploaded");
    assert_eq!(d["is_pdf"], true);
    assert_eq!(d["file_name"], "营业执照.pdf");
    let id = d["id"].as_i64().unwrap();
    let sha = d["sha256"].as_str().unwrap().to_owned();
    let r = app
        .doc(
            "kind=app_responsible_id&file_name=id.jpg",
            b"\xFF\xD8\xFF\xE0 jpeg".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["content_type"], "image/jpeg");
    // A self-issued document without the red seal, and a foreign-language one without translation.
    let r = app
        .doc(
            "kind=network_security_protocol&file_name=sec.pdf",
            pdf("sec"),
        )
        .await;
    let sec = r.json()["id"].as_i64().unwrap();
    let r = app
        .doc(
            "kind=data_privacy_statement&file_name=privacy.pdf&foreign_language=true&red_seal_confirmed=true",
            pdf("privacy"),
        )
        .await;
    let privacy = r.json()["id"].as_i64().unwrap();
    // An expired domain certificate.
    app.doc(
        "kind=domain_certificate&file_name=domain.pdf&expires_on=2026-05-01",
        pdf("domain"),
    )
    .await;

    let v = app
        .get(&icp(&format!("/readiness?today={today}")))
        .await
        .json();
    let blockers = codes(&v["blockers"]);
    let warnings = codes(&v["warnings"]);
    assert!(
        warnings.contains(&"document_expiring".to_owned()),
        "{warnings:?}"
    );
    assert!(warnings.contains(&"document_unverified".to_owned()));
    assert!(
        blockers.contains(&"document_expired".to_owned()),
        "{blockers:?}"
    );
    assert!(blockers.contains(&"document_seal_missing".to_owned()));
    assert!(blockers.contains(&"document_translation_missing".to_owned()));
    assert!(!v["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["field"] == "documents.entity_certificate"));

    // Verify and fix flags.
    let r = app
        .api(
            "PATCH",
            &icp(&format!("/documents/{sec}")),
            &app.admin,
            Some(json!({"red_seal_confirmed": true, "status": "verified"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.json()["status"], "verified");
    assert_eq!(r.json()["verified_by"], "token:admin");
    app.api(
        "PATCH",
        &icp(&format!("/documents/{privacy}")),
        &app.admin,
        Some(json!({"has_chinese_translation": true})),
    )
    .await;
    assert_error(
        &app.api(
            "PATCH",
            &icp(&format!("/documents/{privacy}")),
            &app.admin,
            Some(json!({"status": "missing"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_status",
    );
    assert_error(
        &app.api(
            "PATCH",
            &icp(&format!("/documents/{privacy}")),
            &app.admin,
            Some(json!({"sealed": true})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );
    let v = app
        .get(&icp(&format!("/readiness?today={today}")))
        .await
        .json();
    let blockers = codes(&v["blockers"]);
    assert!(
        !blockers.contains(&"document_seal_missing".to_owned()),
        "{blockers:?}"
    );
    assert!(!blockers.contains(&"document_translation_missing".to_owned()));

    // The bytes come back as uploaded, and are not public.
    let r = app.get(&icp(&format!("/documents/{id}/content"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, licence);
    assert_eq!(r.headers["content-type"], "application/pdf");
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("UTF-8''%E8%90%A5"));
    assert_eq!(
        app.raw("GET", &format!("/blobs/{sha}"), "").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .state
        .settings
        .data_dir
        .join("icp-documents")
        .join(&sha[..2])
        .join(&sha)
        .exists());
    // Deleting removes it from the checklist only.
    assert_eq!(
        app.api(
            "DELETE",
            &icp(&format!("/documents/{id}")),
            &app.admin,
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get(&icp(&format!("/documents/{id}"))).await,
        StatusCode::NOT_FOUND,
        "document_not_found",
    );
    assert_error(
        &app.get(&icp("/documents/abc")).await,
        StatusCode::NOT_FOUND,
        "document_not_found",
    );
    let v = app
        .get(&icp(&format!("/readiness?today={today}")))
        .await
        .json();
    assert!(v["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["field"] == "documents.entity_certificate"));
    // Upload needs admin.
    let uploader = app.token(&format!("{APP}:upload")).await;
    let r = app
        .bytes(
            "POST",
            &icp("/documents?kind=entity_certificate&file_name=a.pdf"),
            &uploader,
            pdf("a"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn readiness_flags_servers_outside_mainland_and_inconsistent_details() {
    let app = TestApp::with_vector_bundle().await;
    let mut rec = record();
    rec["access"][0]["ip_addresses"] = json!(["47.75.0.1", "8.8.8.8", "10.0.0.1"]);
    rec["app"]["responsible"]["mobile"] = json!("13800138000"); // same as the entity's, other person
    rec["numbers"] = json!({"filing": "京ICP备12345678号-2A"}); // Beijing number, Guangdong entity
    assert_eq!(app.put_record("", &rec).await.status, StatusCode::CREATED);
    let v = app.get(&icp("/readiness?today=2026-06-01")).await.json();
    let blockers = codes(&v["blockers"]);
    for c in [
        "server_not_mainland",
        "server_ip_not_public",
        "shared_phone",
        "province_mismatch",
    ] {
        assert!(blockers.contains(&c.to_owned()), "{c}: {blockers:?}");
    }
    let hosting = app.get(&icp("/hosting")).await.json();
    assert_eq!(hosting["all_mainland"], false);
    let classes: Vec<&str> = hosting["providers"][0]["ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["not_mainland", "not_mainland", "not_mainland"]);
}

// ------------------------------------------------------------------------------------------------
// IP checks
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn ip_checks_mainland_hong_kong_overseas_ipv6() {
    let app = TestApp::new().await;
    let r = app
        .api(
            "POST",
            "/icp/ip-check",
            &app.admin,
            Some(json!({"ips": [
                "223.5.5.5", "114.114.114.114", "47.75.0.1", "8.8.8.8",
                "240e::1", "2400:3200::1", "2001:4860:4860::8888", "10.0.0.1", "::ffff:223.5.5.5"
            ]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    let got: Vec<(&str, &str, bool)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["ip"].as_str().unwrap(),
                i["class"].as_str().unwrap(),
                i["public"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("223.5.5.5", "mainland", true),
            ("114.114.114.114", "mainland", true),
            ("47.75.0.1", "not_mainland", true), // Hong Kong
            ("8.8.8.8", "not_mainland", true),
            ("240e::1", "mainland", true),
            ("2400:3200::1", "mainland", true),
            ("2001:4860:4860::8888", "not_mainland", true),
            ("10.0.0.1", "not_mainland", false),
            ("::ffff:223.5.5.5", "mainland", true),
        ]
    );
    assert_eq!(v["all_mainland"], false);
    assert!(has_chinese(
        v["results"][2]["message"]["zh"].as_str().unwrap()
    ));
    let r = app
        .api(
            "POST",
            "/icp/ip-check",
            &app.admin,
            Some(json!({"ips": ["223.5.5.5", "240e::1"]})),
        )
        .await;
    assert_eq!(r.json()["all_mainland"], true);
    for bad in [
        json!({"ips": ["1.2.3.256"]}),
        json!({"ips": []}),
        json!({"ips": ["gg::1"]}),
    ] {
        assert_error(
            &app.api("POST", "/icp/ip-check", &app.admin, Some(bad))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_ip",
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Drift
// ------------------------------------------------------------------------------------------------

fn bundle_calling(host: &str) -> Vec<u8> {
    let html = "<html><script src=\"https://cdn.luming.cn/app.js\"></script><a href=\"https://www.w3.org/TR/\">spec</a></html>";
    let js = format!("fetch('https://api.luming.cn/v1/me');fetch(\"https://{host}/collect?x=1\");notifyAppReady()");
    let json = "{\"api\":\"https:\\/\\/api.luming.cn\\/v2\"}".to_owned();
    zip_of(&[
        ("index.html", html.as_bytes()),
        ("main.js", js.as_bytes()),
        ("config.json", json.as_bytes()),
        ("logo.png", b"\x89PNG https://ignored.example.org"),
    ])
}

#[tokio::test]
async fn drift_warns_or_refuses_unfiled_hosts() {
    let app = filed_app().await;
    // Filed hosts only: no warning.
    let r = app
        .upload(&app.admin, "version=1.1.0", bundle_calling("api.luming.cn"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert!(!body(&r).contains("ICP"), "{}", body(&r));
    // An unfiled host: a warning naming it.
    let r = app
        .upload(
            &app.admin,
            "version=1.1.1",
            bundle_calling("tracker.unfiled-analytics.com"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    let warnings = r.json()["warnings"].to_string();
    assert!(
        warnings.contains("tracker.unfiled-analytics.com"),
        "{warnings}"
    );
    assert!(!warnings.contains("luming.cn"), "{warnings}");
    assert!(!warnings.contains("w3.org"), "{warnings}");
    // Refuse mode: 400 unfiled_host, and nothing is stored.
    let r = app
        .api(
            "PUT",
            &icp("/settings"),
            &app.admin,
            Some(json!({"refuse_unfiled_hosts": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let r = app
        .upload(
            &app.admin,
            "version=1.1.2",
            bundle_calling("tracker.unfiled-analytics.com"),
        )
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "unfiled_host");
    assert!(body(&r).contains("tracker.unfiled-analytics.com"));
    assert_error(
        &app.get(&format!("/apps/{APP}/bundles/1.1.2")).await,
        StatusCode::NOT_FOUND,
        "bundle_not_found",
    );
    // A third-party host the operator acknowledges.
    app.api(
        "PUT",
        &icp("/settings"),
        &app.admin,
        Some(json!({"refuse_unfiled_hosts": true, "ignored_hosts": ["unfiled-analytics.com"]})),
    )
    .await;
    let r = app
        .upload(
            &app.admin,
            "version=1.1.2",
            bundle_calling("tracker.unfiled-analytics.com"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_error(
        &app.api(
            "PUT",
            &icp("/settings"),
            &app.admin,
            Some(json!({"ignored_hosts": ["not a domain"]})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_domain",
    );

    // Apps with no filing recorded: no warnings.
    app.api(
        "POST",
        "/apps",
        &app.admin,
        Some(json!({"app_id": "com.example.nofiling"})),
    )
    .await;
    let r = app
        .send(
            Request::post("/api/v1/apps/com.example.nofiling/bundles?version=1.0.0")
                .header("authorization", format!("Bearer {}", app.admin))
                .header("content-type", "application/zip")
                .body(Body::from(bundle_calling("tracker.unfiled-analytics.com")))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["warnings"], json!([]));
}

// ------------------------------------------------------------------------------------------------
// Kill switch, incidents, emergency set-up
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn kill_switch_end_to_end() {
    let app = TestApp::with_vector_bundle().await;
    let t = app.admin.clone();
    let zip = zip_of(&[
        ("index.html", b"<html>bad</html>"),
        ("app.js", b"notifyAppReady()"),
    ]);
    app.upload(&t, "version=1.0.2&channel=production", zip)
        .await;
    // A second channel with a rollout of the bad version.
    app.api(
        "POST",
        &format!("/apps/{APP}/channels"),
        &t,
        Some(json!({"name": "beta", "bundle": "1.0.2"})),
    )
    .await;
    let r = app
        .api(
            "PATCH",
            &format!("/apps/{APP}/channels/beta"),
            &t,
            Some(json!({"rollout": {"bundle": "1.0.2", "percent": 50.0, "paused": false}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.2"
    );

    // Emergency set-up and an incident.
    let r = app
        .api(
            "PUT",
            &icp("/emergency"),
            &t,
            Some(json!({
                "compliance_officer": {"name": "王五", "phone": "+86 138 0013 8000", "email": "wang@luming.cn"},
                "authority_contacts": [{"name": "广东省通信管理局", "role": "通信管理局", "phone": "020-12345678"}],
                "provider": {"name": "阿里云备案", "phone": "95187"},
                "legal_counsel": {"name": "赵律师", "organisation": "某律师事务所", "phone": "13700137000"}
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_error(
        &app.api(
            "PUT",
            &icp("/emergency"),
            &t,
            Some(json!({"provider": {"name": "x", "phone": "call me"}})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_contact",
    );
    let r = app
        .api(
            "POST",
            &icp("/incidents"),
            &t,
            Some(json!({"title": "1.0.2 shows unapproved content", "severity": "critical"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    let incident = r.json();
    assert_eq!(incident["officer"], "王五");
    assert_eq!(incident["status"], "open");
    let id = incident["id"].as_i64().unwrap();

    // Unknown targets and incidents.
    let ks = |target: &str| json!({"target": target, "note": "pull 1.0.2"});
    assert_error(
        &app.api(
            "POST",
            &icp(&format!("/incidents/{id}/kill-switch")),
            &t,
            Some(ks("9.9.9")),
        )
        .await,
        StatusCode::NOT_FOUND,
        "bundle_not_found",
    );
    assert_error(
        &app.api(
            "POST",
            &icp("/incidents/999/kill-switch"),
            &t,
            Some(ks("1.0.1")),
        )
        .await,
        StatusCode::NOT_FOUND,
        "incident_not_found",
    );
    let reader = app.token(&format!("{APP}:read")).await;
    assert_eq!(
        app.api(
            "POST",
            &icp(&format!("/incidents/{id}/kill-switch")),
            &reader,
            Some(ks("1.0.1"))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // One call: every channel → 1.0.1, rollouts ended; the device gets 1.0.1.
    let r = app
        .api(
            "POST",
            &icp(&format!("/incidents/{id}/kill-switch")),
            &t,
            Some(ks("1.0.1")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    let moves = v["channels"].as_array().unwrap();
    assert_eq!(moves.len(), 2);
    assert!(moves
        .iter()
        .all(|m| m["to"] == "1.0.1" && m["from"] == "1.0.2"));
    assert!(moves
        .iter()
        .any(|m| m["channel"] == "beta" && m["rollout_ended"] == true));
    assert_eq!(v["incident"]["actions"][0]["kind"], "kill_switch");
    assert_eq!(
        v["incident"]["actions"][0]["channels"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.post_json("/updates", &device_request()).await.json()["version"],
        "1.0.1"
    );
    let beta = app.get(&format!("/apps/{APP}/channels/beta")).await.json();
    assert_eq!(beta["bundle"], "1.0.1");
    assert_eq!(beta["rollout"], Value::Null);
    let history = app
        .get(&format!("/apps/{APP}/channels/production/history"))
        .await
        .json();
    assert_eq!(history[0]["reason"], "kill_switch");

    // Or back to what shipped in the app.
    let r = app
        .api(
            "POST",
            &icp(&format!("/incidents/{id}/kill-switch")),
            &t,
            Some(ks("builtin")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let mut on_bundle = device_request();
    on_bundle["version_name"] = json!("1.0.2");
    assert_eq!(
        app.post_json("/updates", &on_bundle).await.json(),
        json!({"version": "builtin"})
    );

    // Timeline entries and status changes.
    let r = app
        .api(
            "POST",
            &icp(&format!("/incidents/{id}/timeline")),
            &t,
            Some(json!({"note": "reported", "action": {"kind": "report_to_authority", "detail": "网信办 12377"}, "status": "contained"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let r = app
        .api(
            "POST",
            &icp(&format!("/incidents/{id}/timeline")),
            &t,
            Some(json!({"status": "closed"})),
        )
        .await;
    let v = r.json();
    assert_eq!(v["status"], "closed");
    assert!(v["closed_at"].is_string());
    let kinds: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["opened", "kill_switch", "kill_switch", "action", "status"]
    );
    assert_error(
        &app.api(
            "POST",
            &icp(&format!("/incidents/{id}/timeline")),
            &t,
            Some(json!({})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_incident",
    );
    let list = app.get(&icp("/incidents")).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // The content-change export shows the kill switch.
    let export = app.get(&icp("/export?format=json")).await.json();
    let actions: Vec<String> = export["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c["action"], c["detail"]))
        .collect();
    assert!(
        actions.iter().any(|a| a.contains("kill_switch")),
        "{actions:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Public display
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn public_display_json_and_html() {
    let app = TestApp::with_vector_bundle().await;
    let r = app.raw("GET", &format!("/icp/{APP}"), "").await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_filed");
    assert_error(
        &app.raw("GET", "/icp/com.unknown.app", "").await,
        StatusCode::NOT_FOUND,
        "not_filed",
    );
    let mut rec = record();
    rec["entity"]["name"] = json!("鹿鸣<script>alert(1)</script>科技");
    rec["numbers"] = json!({
        "filing": "粤ICP备12345678号-2A",
        "licence": "粤B2-20090059",
        "public_security": "粤公网安备44030502000001号"
    });
    assert_eq!(
        app.put_record("?already_filed=true", &rec).await.status,
        StatusCode::CREATED
    );
    // No token needed.
    let r = app.raw("GET", &format!("/icp/{APP}"), "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let v = r.json();
    assert_eq!(v["app_id"], APP);
    assert_eq!(v["filing_number"], "粤ICP备12345678号-2A");
    assert_eq!(v["licence_number"], "粤B2-20090059");
    assert_eq!(v["miit_url"], "https://beian.miit.gov.cn/");
    assert_eq!(
        v["public_security_url"],
        "https://beian.mps.gov.cn/#/query/webSearch?code=44030502000001"
    );
    assert!(v["text_zh"]
        .as_str()
        .unwrap()
        .contains("APP备案号：粤ICP备12345678号-2A"));
    assert!(v["text_en"]
        .as_str()
        .unwrap()
        .contains("App ICP filing number"));

    for req in [
        Request::get(format!("/icp/{APP}?format=html"))
            .body(Body::empty())
            .unwrap(),
        Request::get(format!("/icp/{APP}"))
            .header("accept", "text/html,application/xhtml+xml")
            .body(Body::empty())
            .unwrap(),
    ] {
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let html = body(&r);
        assert!(
            html.contains("<a href=\"https://beian.miit.gov.cn/\""),
            "{html}"
        );
        assert!(html.contains("粤ICP备12345678号-2A"));
        assert!(html.contains("beian.mps.gov.cn/#/query/webSearch?code=44030502000001"));
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
    }
    assert_error(
        &app.raw("GET", &format!("/icp/{APP}?format=xml"), "").await,
        StatusCode::BAD_REQUEST,
        "invalid_format",
    );
    // A cancelled filing is no longer displayed.
    app.event(json!({"event": "request_cancel"})).await;
    app.event(json!({"event": "cancel_approved"})).await;
    assert_error(
        &app.raw("GET", &format!("/icp/{APP}"), "").await,
        StatusCode::NOT_FOUND,
        "not_filed",
    );
}

// ------------------------------------------------------------------------------------------------
// Compliance calendar
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn compliance_calendar_completions_and_prefill() {
    let app = TestApp::with_vector_bundle().await;
    // Completions may not be in the future: fix the desk's today, not the real clock's.
    app.set_today("2026-03-01");
    let mut rec = record();
    rec["numbers"] = json!({"filing": "粤ICP备12345678号-2A"});
    app.put_record("?already_filed=true", &rec).await;
    let r = app
        .api(
            "PUT",
            &icp("/settings"),
            &app.admin,
            Some(json!({"launch_date": "2026-01-05", "certificates": [{"subject": "api.luming.cn TLS", "expires_on": "2026-02-01"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = app.get(&icp("/compliance?today=2026-03-01")).await.json();
    let items = v["items"].as_array().unwrap();
    let item = |key: &str| items.iter().find(|i| i["key"] == key).cloned().unwrap();
    for key in [
        "content_audit",
        "security_check",
        "server_performance",
        "user_data_review",
        "documentation_review",
        "public_security_filing",
    ] {
        item(key);
    }
    assert_eq!(item("public_security_filing")["due_on"], "2026-02-04");
    assert_eq!(item("public_security_filing")["status"], "overdue");
    assert_eq!(item("server_performance")["status"], "overdue");
    assert_eq!(item("security_check")["due_on"], "2026-04-05");
    let tls = items
        .iter()
        .find(|i| i["key"].as_str().unwrap().starts_with("expiry:certificate"))
        .unwrap();
    assert_eq!(tls["status"], "overdue");
    assert!(items
        .iter()
        .any(|i| i["key"] == "expiry:domain:luming.cn" && i["status"] == "done"));

    // Weekly performance record, pre-filled from the server's counters.
    let pre = app
        .get(&icp("/compliance/server_performance/prefill"))
        .await
        .json();
    assert!(
        pre["measurements"]["requests_served"].as_u64().unwrap() > 0,
        "{pre}"
    );
    assert!(pre["measurements"]["update_checks"].is_u64());
    let r = app
        .api(
            "POST",
            &icp("/compliance/server_performance/completions"),
            &app.admin,
            Some(json!({"on": "2026-02-27", "notes": "p95 fine"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    let c = r.json();
    assert!(c["measurements"]["uptime_seconds"].is_u64(), "{c}");
    let cid = c["id"].as_i64().unwrap();
    // Evidence file.
    let r = app
        .bytes(
            "POST",
            &icp(&format!(
                "/compliance/completions/{cid}/evidence?file_name=grafana.png"
            )),
            &app.admin,
            b"\x89PNG\r\n\x1a\nchart".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", body(&r));
    assert_eq!(r.json()["evidence"][0]["file_name"], "grafana.png");
    assert_error(
        &app.bytes(
            "POST",
            &icp("/compliance/completions/999/evidence?file_name=a"),
            &app.admin,
            b"x".to_vec(),
        )
        .await,
        StatusCode::NOT_FOUND,
        "completion_not_found",
    );
    // Quarterly security check lists the unencrypted bundles.
    let sec = app
        .get(&icp("/compliance/security_check/prefill"))
        .await
        .json();
    assert_eq!(
        sec["measurements"]["unencrypted"],
        json!(["1.0.1"]),
        "{sec}"
    );
    // Content audit with notes; future dates and unknown checks are refused.
    let r = app
        .api(
            "POST",
            &icp("/compliance/content_audit/completions"),
            &app.admin,
            Some(json!({"on": "2026-02-20", "notes": "reviewed all pages"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_error(
        &app.api(
            "POST",
            &icp("/compliance/content_audit/completions"),
            &app.admin,
            Some(json!({"on": "2099-01-01"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
    );
    assert_error(
        &app.api(
            "POST",
            &icp("/compliance/content_audit/completions"),
            &app.admin,
            Some(json!({"on": "2026-02-30"})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_json",
    );
    assert_error(
        &app.api(
            "POST",
            &icp("/compliance/tea_break/completions"),
            &app.admin,
            Some(json!({})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_check",
    );
    let v = app.get(&icp("/compliance?today=2026-03-01")).await.json();
    let items = v["items"].as_array().unwrap();
    let audit = items.iter().find(|i| i["key"] == "content_audit").unwrap();
    assert_eq!(audit["last_done"], "2026-02-20");
    assert_eq!(audit["due_on"], "2026-03-20");
    assert_eq!(audit["status"], "done");
    assert_eq!(v["completions"].as_array().unwrap().len(), 2);
}

// ------------------------------------------------------------------------------------------------
// Export, report, backup
// ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn export_csv_and_json() {
    let app = TestApp::with_vector_bundle().await;
    // The changes happen between these two China dates (equal unless midnight passes meanwhile).
    let first_day = landfall_icp::filing::china_date(chrono::Utc::now());
    let t = app.admin.clone();
    let zip = zip_of(&[
        ("index.html", b"<html>2</html>"),
        ("app.js", b"notifyAppReady(), \"quoted\""),
    ]);
    app.upload(&t, "version=1.0.2&channel=production&comment=a,b", zip)
        .await;
    app.api(
        "POST",
        &format!("/apps/{APP}/channels/production/rollback"),
        &t,
        Some(json!({})),
    )
    .await;
    let last_day = landfall_icp::filing::china_date(chrono::Utc::now());
    let r = app
        .get(&icp(&format!(
            "/export?from={first_day}&to={last_day}&format=json"
        )))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    let actions: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(actions.len() >= 4, "{actions:?}");
    assert!(v["changes"][0]["at_china"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    assert!(v["changes"][0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("token:"));

    let r = app
        .get(&icp(&format!(
            "/export?from={first_day}&to={last_day}&format=csv"
        )))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let csv = body(&r);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("id,at_ms,at_china,actor,action,detail"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), actions.len());
    // JSON details are quoted with doubled quotes.
    assert!(rows.iter().any(|r| r.contains("\"{\"\"")), "{csv}");

    // A range before anything happened is empty; bad ranges are refused.
    let v = app
        .get(&icp("/export?from=2020-01-01&to=2020-12-31"))
        .await
        .json();
    assert_eq!(v["changes"], json!([]));
    assert_error(
        &app.get(&icp("/export?from=2026-02-30&to=2026-03-01")).await,
        StatusCode::BAD_REQUEST,
        "invalid_date",
    );
    assert_error(
        &app.get(&icp("/export?from=2026-03-02&to=2026-03-01")).await,
        StatusCode::BAD_REQUEST,
        "invalid_range",
    );
    assert_error(
        &app.get(&icp("/export?format=xlsx")).await,
        StatusCode::BAD_REQUEST,
        "invalid_format",
    );
}

#[tokio::test]
async fn report_json_html_and_backup() {
    let app = filed_app().await;
    // The report's timeline is estimated from today over the test's 2027 calendar: fix today.
    app.set_today("2026-03-02");
    app.doc(
        "kind=entity_certificate&file_name=licence.pdf&expires_on=2027-01-01",
        pdf("licence"),
    )
    .await;
    let r = app
        .api(
            "POST",
            &icp("/incidents"),
            &app.admin,
            Some(json!({"title": "outage <b>", "severity": "low"})),
        )
        .await;
    let incident = r.json()["id"].as_i64().unwrap();
    let r = app
        .api(
            "POST",
            &icp("/compliance/content_audit/completions"),
            &app.admin,
            Some(json!({"notes": "ok"})),
        )
        .await;
    let cid = r.json()["id"].as_i64().unwrap();
    app.bytes(
        "POST",
        &icp(&format!(
            "/compliance/completions/{cid}/evidence?file_name=audit.txt"
        )),
        &app.admin,
        b"audit log".to_vec(),
    )
    .await;

    let r = app.get(&icp("/report")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let v = r.json();
    assert_eq!(v["app_id"], APP);
    assert_eq!(v["filing"]["state"], "draft");
    assert!(
        !v["timeline"]["timeline"]["stages"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{v}"
    );
    assert_eq!(v["readiness"]["ready"], false);
    assert_eq!(v["hosting"]["all_mainland"], true);
    assert_eq!(v["documents"].as_array().unwrap().len(), 1);
    assert_eq!(v["incidents"][0]["id"], incident);
    assert!(v["compliance"]["items"].as_array().unwrap().len() >= 6);
    assert_eq!(v["record_changes"].as_array().unwrap().len(), 1);
    // Content changes are the audit rows of the 90 days up to today, and audit rows carry the
    // real clock: only a report on the real date is sure to hold the upload of `filed_app`.
    app.state.icp.set_today(None);
    let real = app.get(&icp("/report")).await.json();
    let actions: Vec<&str> = real["content_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"bundle_upload"), "{actions:?}");
    app.set_today("2026-03-02");

    let r = app.get(&icp("/report?format=html")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = body(&r);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in [
        "备案状态 / Filing state",
        "提交前检查 / Readiness",
        "合规日历 / Compliance calendar",
        "安全事件 / Incidents",
        "深圳鹿鸣科技有限公司",
        "outage &lt;b&gt;",
        "document_missing",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(!html.contains("outage <b>"));

    // Backup: a zip with the manifest, the document and the evidence, verified.
    let r = app.get(&icp("/backup")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert_eq!(r.headers["content-type"], "application/zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().to_owned())
        .collect();
    assert!(names.contains(&"manifest.json".to_owned()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("documents/") && n.ends_with("licence.pdf")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("evidence/") && n.ends_with("audit.txt")),
        "{names:?}"
    );
    let manifest: Value = {
        use std::io::Read;
        let mut s = String::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        serde_json::from_str(&s).unwrap()
    };
    assert_eq!(manifest["format"], "landfall-icp-backup/1");
    assert_eq!(manifest["counts"]["documents"], 1);
    assert_eq!(manifest["counts"]["evidence_files"], 1);
    assert_eq!(manifest["problems"], json!([]));
    assert_eq!(
        manifest["filing"]["view"]["record"]["entity"]["name"],
        "深圳鹿鸣科技有限公司"
    );
    let doc_path = names
        .iter()
        .find(|n| n.starts_with("documents/"))
        .unwrap()
        .clone();
    let bytes = {
        use std::io::Read;
        let mut b = Vec::new();
        zip.by_name(&doc_path).unwrap().read_to_end(&mut b).unwrap();
        b
    };
    assert_eq!(bytes, pdf("licence"));
    // Backups need admin.
    let reader = app.token(&format!("{APP}:read")).await;
    assert_eq!(
        app.api("GET", &icp("/backup"), &reader, None).await.status,
        StatusCode::FORBIDDEN
    );
}
