//! `landfall stats` and `/metrics` against a real `landfall serve`: a device checks in, downloads
//! and reports; the CLI's table (English and Chinese, aligned by display width), JSON and CSV agree.

use serde_json::{json, Value};
use unicode_width::UnicodeWidthStr;

use crate::support::{device_info, run, web_dist, Server};

const APP: &str = "com.example.statscli";
const DEVICE: &str = "3f0e1c6a-2b7d-4e8f-9a0b-1c2d3e4f5a6b";

#[tokio::test]
async fn stats_reads_what_devices_did_in_every_format() {
    let root = tempfile::tempdir().unwrap();
    let dist = web_dist(root.path(), "dist", "v1");
    let server = Server::start_with_args(&["--metrics", "open"]).await;
    server.cli(&["app", "create", APP]).ok();
    server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &dist,
            "--version",
            "1.0.1",
            "--channel",
            "production",
        ])
        .ok();
    let http = reqwest::Client::new();
    let base = &server.url;
    let builtin = device_info(APP, DEVICE, "builtin");
    let answer: Value = http
        .post(format!("{base}/updates"))
        .json(&builtin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let zip = http
        .get(answer["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let now = landfall_store::now_ms();
    let ev = |action: &str, at: i64| {
        let mut e = builtin.clone();
        e["action"] = json!(action);
        e["version_name"] = json!("1.0.1");
        e["old_version_name"] = json!("builtin");
        e["timestamp"] = json!(at);
        e
    };
    let r = http
        .post(format!("{base}/stats"))
        .json(&json!([
            ev("download_zip_start", now - 20_000),
            ev("download_fail", now - 15_000),
            ev("set", now - 5_000),
        ]))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // The device now runs 1.0.1.
    http.post(format!("{base}/updates"))
        .json(&device_info(APP, DEVICE, "1.0.1"))
        .send()
        .await
        .unwrap();

    // JSON: the report the admin API answers (devices are written within a second or so).
    let mut report = Value::Null;
    for _ in 0..50 {
        report = server.cli(&["stats", APP, "--json"]).ok().json();
        if report["versions"][0]["version_name"] == "1.0.1" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(report["active_devices"]["day"], 1, "{report}");
    assert_eq!(report["versions"][0]["version_name"], "1.0.1", "{report}");
    let rel = &report["releases"][0];
    assert_eq!(rel["version_name"], "1.0.1");
    assert_eq!(rel["installs"]["attempted"], 1);
    assert_eq!(rel["installs"]["succeeded"], 1);
    assert_eq!(rel["installs"]["first_try"], 0, "a download failed first");
    assert_eq!(
        rel["install_duration_ms"]["p50"], 16_000,
        "15 s: the 15–16 s bucket"
    );
    assert_eq!(report["failures"]["by_action"][0]["key"], "download_fail");

    // Tables, in English and in Chinese: every row of a table is as wide as its header line.
    for lang in ["en", "zh_CN.UTF-8"] {
        let r = run(crate::support::landfall()
            .env("LANDFALL_URL", base)
            .env("LANDFALL_TOKEN", &server.token)
            .env("LANG", lang)
            .args(["stats", APP]));
        assert_eq!(r.code, 0, "{r:#?}");
        let heading = if lang == "en" {
            "RELEASE"
        } else {
            "发布版本"
        };
        assert!(r.stdout.contains(heading), "{}", r.stdout);
        let lines: Vec<&str> = r.stdout.lines().collect();
        let at = lines.iter().position(|l| l.starts_with(heading)).unwrap();
        let row = lines[at + 1];
        assert!(row.starts_with("1.0.1"), "{}", r.stdout);
        // Column starts line up by display width (Chinese headers are double-width): a column
        // starts at the line start or after the two-space gap between columns.
        let starts = |l: &str| -> Vec<usize> {
            let mut out = vec![0];
            let (mut col, mut spaces) = (0, 0);
            for ch in l.chars() {
                if ch == ' ' {
                    spaces += 1;
                } else {
                    if spaces >= 2 {
                        out.push(col);
                    }
                    spaces = 0;
                }
                col += ch.to_string().width();
            }
            out
        };
        let head = starts(lines[at]);
        for s in starts(row) {
            assert!(head.contains(&s), "misaligned:\n{}\n{}", lines[at], row);
        }
        if lang != "en" {
            assert!(r.stdout.contains("活跃设备"), "{}", r.stdout);
        }
    }

    // CSV: one line per release, then the adoption curve of one bundle.
    let csv = server.cli(&["stats", APP, "--csv"]).ok().stdout;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    assert!(header.iter().any(|h| h == "version_name"), "{csv}");
    assert_eq!(rows.records().count(), 1, "{csv}");
    let curve = server
        .cli(&["stats", APP, "--bundle", "1.0.1", "--csv"])
        .ok()
        .stdout;
    assert!(curve.lines().count() >= 2, "{curve}");

    // Bad input: a clear error, a usage exit code.
    let r = server.cli(&["stats", APP, "--since", "yesterday"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("30d"), "{r:#?}");
    let r = server.cli(&["stats", "com.example.nope"]);
    assert_eq!(r.code, 3, "{r:#?}");

    // /metrics (open on this server) saw the download.
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!("landfall_bytes_served_total{{kind=\"full\"}} {}", zip.len());
    assert!(text.contains(&line), "{line} missing:\n{text}");
}
