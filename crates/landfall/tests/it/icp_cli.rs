//! A black-box walk of `landfall icp`: every subcommand against a real server, in text and with
//! `--json`, and the exit codes of its errors (1 generic/validation, 2 usage, 3 not found,
//! 4 conflict, 5 auth). Dates are always given explicitly (never today's).

use serde_json::{json, Value};

use crate::support::{icp_record, run_cli, web_dist, Run, Server};

const APP: &str = "com.example.icpwalk";

#[track_caller]
fn fails(r: Run, code: i32, error: &str) -> Value {
    assert_eq!(r.code, code, "{r:#?}");
    let v = r.json();
    assert_eq!(v["error"], error, "{r:#?}");
    assert!(
        !v["message"].as_str().unwrap_or_default().is_empty(),
        "{r:#?}"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn icp_cli_walk_every_subcommand_text_json_and_exit_codes() {
    let server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    let path = |name: &str| work.path().join(name).to_str().unwrap().to_owned();
    let cli = |args: &[&str]| server.cli(args);
    cli(&["app", "create", APP]).ok();
    let dist = web_dist(work.path(), "www", "walk");
    cli(&[
        "bundle",
        "upload",
        APP,
        &dist,
        "--version",
        "1.0.0",
        "--channel",
        "production",
    ])
    .ok();

    // ---- numbers ---------------------------------------------------------------------------------
    let r = cli(&[
        "icp",
        "numbers",
        "check",
        "京 ICP 备 １２３４５６７８ 号－１ａ",
    ])
    .ok();
    assert!(
        r.stdout.starts_with("京ICP备12345678号-1A  (filing)"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("province: beijing"), "{r:#?}");
    let v = cli(&[
        "icp",
        "numbers",
        "check",
        "京公网安备11010502000001号",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(v["kind"], "public_security");
    assert_eq!(v["canonical"], "京公网安备11010502000001号");
    let v = fails(
        cli(&["icp", "numbers", "check", "港ICP备12345678号", "--json"]),
        1,
        "invalid_number",
    );
    assert!(v["message"].as_str().unwrap().contains("Hong Kong"), "{v}");
    let r = cli(&["icp", "numbers", "check", "川ICP备12345678号", "--lenient"]).ok();
    assert!(r.stderr.contains("warning:"), "{r:#?}");
    let r = cli(&["icp", "numbers", "check", "x", "--kind", "nonsense"]);
    assert_eq!(r.code, 2, "{r:#?}");

    // ---- filing ----------------------------------------------------------------------------------
    let record = path("record.json");
    std::fs::write(&record, icp_record().to_string()).unwrap();
    fails(
        cli(&["icp", "filing", "show", "com.nope.app", "--json"]),
        3,
        "app_not_found",
    );
    let r = cli(&["icp", "filing", "record", APP, &record]).ok();
    assert!(r.stdout.contains("state: draft / 草稿"), "{r:#?}");
    assert!(r.stdout.contains("next: submit, abandon"), "{r:#?}");
    assert!(
        r.stdout
            .contains("entity: 深圳鹿鸣科技有限公司  app: 鹿鸣记账"),
        "{r:#?}"
    );
    let v = cli(&["icp", "filing", "show", APP, "--json"]).ok().json();
    assert_eq!(v["state"], "draft", "{v}");
    assert_eq!(v["record"]["app"]["name"], "鹿鸣记账");
    let v = cli(&["icp", "filing", "changes", APP, "--json"])
        .ok()
        .json();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let r = cli(&["icp", "filing", "changes", APP]).ok();
    assert!(r.stdout.starts_with("AT"), "{r:#?}");
    let bad = path("bad.json");
    std::fs::write(&bad, r#"{"entity": 1}"#).unwrap();
    fails(
        cli(&["icp", "filing", "record", APP, &bad, "--json"]),
        1,
        "invalid_record",
    );

    // ---- readiness, timeline, transitions ------------------------------------------------------------
    let r = cli(&["icp", "readiness", APP, "--today", "2026-06-01"]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.starts_with("NOT ready: "), "{r:#?}");
    let v = cli(&["icp", "readiness", APP, "--today", "2026-06-01", "--json"])
        .ok()
        .json();
    assert_eq!(v["ready"], false);
    assert!(!v["blockers"].as_array().unwrap().is_empty(), "{v}");
    let r = cli(&["icp", "timeline", APP, "--since", "2026-02-06"]).ok();
    assert!(r.stdout.contains("since 2026-02-06"), "{r:#?}");
    assert!(r.stdout.contains("2026-02-27"), "{r:#?}"); // latest end of document completion
    let v = cli(&["icp", "timeline", APP, "--since", "2026-02-06", "--json"])
        .ok()
        .json();
    assert_eq!(
        v["timeline"]["remaining"],
        json!({"min": 19, "max": 33}),
        "{v}"
    );
    fails(
        cli(&["icp", "timeline", APP, "--since", "2026-02-31", "--json"]),
        1,
        "invalid_date",
    );
    // Submitting with blockers needs --force; an illegal event is a conflict.
    fails(
        cli(&["icp", "transition", APP, "submit", "--json"]),
        4,
        "filing_not_ready",
    );
    let v = cli(&["icp", "transition", APP, "submit", "--force", "--json"])
        .ok()
        .json();
    assert_eq!(v["state"], "provider_review", "{v}");
    fails(
        cli(&["icp", "transition", APP, "ca-approve", "--json"]),
        4,
        "illegal_transition",
    );
    let r = cli(&[
        "icp",
        "transition",
        APP,
        "provider-reject",
        "--reason",
        "no-equals",
    ]);
    assert_eq!(r.code, 2, "{r:#?}");
    let r = cli(&[
        "icp",
        "transition",
        APP,
        "provider-reject",
        "--reason",
        "app.name=名称与实际不符",
    ])
    .ok();
    assert!(r.stdout.contains("state: draft / 草稿"), "{r:#?}");
    assert!(
        r.stdout.lines().any(|l| l.split_whitespace().skip(3).eq([
            "provider-reject",
            "provider-review",
            "draft"
        ])),
        "{r:#?}"
    );
    let v = cli(&["icp", "filing", "show", APP, "--json"]).ok().json();
    assert_eq!(
        v["filing"]["history"][1]["reasons"],
        json!([{"field": "app.name", "error": "名称与实际不符"}]),
        "{v}"
    );

    // ---- calendar --------------------------------------------------------------------------------
    let v = cli(&["icp", "calendar", "day", "2026-10-01", "--json"])
        .ok()
        .json();
    assert_eq!(v["working"], false, "{v}");
    let r = cli(&["icp", "calendar", "day", "2026-02-14"]).ok();
    assert!(
        r.stdout.starts_with("2026-02-14: make-up working day"),
        "{r:#?}"
    );
    assert!(r.stdout.contains("(working day / 工作日)"), "{r:#?}");
    let v = cli(&["icp", "calendar", "add", "2026-02-06", "20", "--json"])
        .ok()
        .json();
    assert_eq!(v["date"], "2026-03-12", "{v}");
    fails(
        cli(&["icp", "calendar", "day", "2027-03-01", "--json"]),
        1,
        "year_not_loaded",
    );
    let year = path("2027.json");
    std::fs::write(
        &year,
        r#"{"year":2027,"source":"test","holidays":[{"name":"元旦","off":["2027-01-01","2027-01-02","2027-01-03"],"work":[]}]}"#,
    )
    .unwrap();
    cli(&["icp", "calendar", "load-year", &year]).ok();
    let v = cli(&["icp", "calendar", "day", "2027-01-01", "--json"])
        .ok()
        .json();
    assert_eq!(v["working"], false, "{v}");
    let v = cli(&["icp", "calendar", "show", "--json"]).ok().json();
    assert!(v.to_string().contains("2027"), "{v}");

    // ---- IPs, badge, settings --------------------------------------------------------------------
    let r = cli(&["icp", "ip-check", "223.5.5.5", "8.8.8.8"]).ok();
    assert!(r.stdout.contains("NOT all in mainland China"), "{r:#?}");
    let v = cli(&["icp", "ip-check", "--app", APP, "--json"])
        .ok()
        .json();
    assert_eq!(v["all_mainland"], true, "{v}");
    assert_eq!(cli(&["icp", "ip-check"]).code, 2);
    fails(cli(&["icp", "badge", APP, "--json"]), 3, "not_filed");
    let r = cli(&["icp", "settings", "set", APP, "--launch-date", "2026-01-05"]).ok();
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("launch date") && l.ends_with(" 2026-01-05")),
        "{r:#?}"
    );
    let v = cli(&["icp", "settings", "show", APP, "--json"]).ok().json();
    assert_eq!(v["launch_date"], "2026-01-05", "{v}");

    // ---- compliance, emergency, incidents --------------------------------------------------------
    let v = cli(&[
        "icp",
        "compliance",
        "list",
        APP,
        "--today",
        "2026-03-01",
        "--json",
    ])
    .ok()
    .json();
    assert!(v["items"].as_array().unwrap().len() >= 6, "{v}");
    let v = cli(&[
        "icp",
        "compliance",
        "complete",
        APP,
        "content-audit",
        "--on",
        "2026-02-20",
        "--notes",
        "all pages",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(v["on"], "2026-02-20", "{v}");
    fails(
        cli(&[
            "icp",
            "compliance",
            "complete",
            APP,
            "content-audit",
            "--on",
            "2099-01-01",
            "--json",
        ]),
        1,
        "invalid_date",
    );
    let v = cli(&[
        "icp",
        "compliance",
        "prefill",
        APP,
        "server-performance",
        "--json",
    ])
    .ok()
    .json();
    assert!(v["measurements"].is_object(), "{v}");
    // Nothing set up yet: the (pretty-printed JSON) set-up lists no authority contacts.
    let r = cli(&["icp", "emergency", "show", APP]).ok();
    assert_eq!(r.json()["authority_contacts"], json!([]), "{r:#?}");
    let v = cli(&[
        "icp",
        "incident",
        "create",
        APP,
        "--title",
        "outage",
        "--severity",
        "low",
        "--json",
    ])
    .ok()
    .json();
    let id = v["id"].as_i64().unwrap().to_string();
    let r = cli(&["icp", "incident", "list", APP]).ok();
    assert!(r.stdout.contains("outage"), "{r:#?}");
    let v = cli(&["icp", "incident", "show", APP, &id, "--json"])
        .ok()
        .json();
    assert_eq!(v["title"], "outage", "{v}");
    fails(
        cli(&["icp", "incident", "show", APP, "999999", "--json"]),
        3,
        "incident_not_found",
    );
    assert_eq!(
        cli(&[
            "icp",
            "incident",
            "create",
            APP,
            "--title",
            "x",
            "--severity",
            "huge"
        ])
        .code,
        2
    );

    // ---- documents, export, report, backup -------------------------------------------------------
    let pdf = path("licence.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n",
    )
    .unwrap();
    let v = cli(&[
        "icp",
        "documents",
        "add",
        APP,
        "entity-certificate",
        &pdf,
        "--json",
    ])
    .ok()
    .json();
    let doc = v["id"].as_i64().unwrap().to_string();
    let r = cli(&["icp", "documents", "list", APP]).ok();
    assert!(r.stdout.contains("licence.pdf"), "{r:#?}");
    let out = path("copy.pdf");
    cli(&["icp", "documents", "get", APP, &doc, "-o", &out]).ok();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&pdf).unwrap());
    let r = cli(&["icp", "documents", "verify", APP, &doc, "--red-seal"]).ok();
    assert_eq!(r.stdout, format!("Document {doc} verified\n"), "{r:#?}");
    let v = cli(&["icp", "documents", "list", APP, "--json"])
        .ok()
        .json();
    assert_eq!(v["documents"][0]["status"], "verified", "{v}");
    assert_eq!(v["documents"][0]["red_seal_confirmed"], true, "{v}");
    cli(&["icp", "documents", "remove", APP, &doc]).ok();
    let v = cli(&["icp", "documents", "list", APP, "--json"])
        .ok()
        .json();
    assert_eq!(v["documents"], json!([]), "{v}");
    let not_pdf = path("x.pdf");
    std::fs::write(&not_pdf, b"hello").unwrap();
    assert_eq!(
        cli(&[
            "icp",
            "documents",
            "add",
            APP,
            "entity-certificate",
            &not_pdf
        ])
        .code,
        1
    );
    let r = cli(&[
        "icp",
        "export",
        APP,
        "--from",
        "2020-01-01",
        "--to",
        "2020-12-31",
    ])
    .ok();
    assert!(
        r.stdout
            .trim_start_matches('\u{feff}')
            .starts_with("id,at_ms,at_china,actor,action,detail"),
        "{r:#?}"
    );
    let v = cli(&[
        "icp",
        "export",
        APP,
        "--format",
        "json",
        "--from",
        "2020-01-01",
        "--to",
        "2020-12-31",
    ])
    .ok()
    .json();
    assert_eq!(v["changes"], json!([]), "{v}");
    let html = path("report.html");
    cli(&["icp", "report", APP, "--html", "-o", &html]).ok();
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    let v = cli(&["icp", "report", APP, "--json"]).ok().json();
    assert_eq!(v["app_id"], APP, "{v}");
    let zip = path("backup.zip");
    cli(&["icp", "backup", APP, "-o", &zip]).ok();
    assert!(std::fs::read(&zip).unwrap().starts_with(b"PK\x03\x04"));

    // ---- auth ------------------------------------------------------------------------------------
    let r = run_cli(
        &server.url,
        "wrong-token",
        &["icp", "filing", "show", APP, "--json"],
    );
    fails(r, 5, "unauthorized");
}
