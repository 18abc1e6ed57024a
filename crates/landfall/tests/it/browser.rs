//! The web console in real headless Chromium: the real `landfall serve`, data made through the
//! CLI and real device requests, then `tests/browser/console.test.mjs` (playwright-core driving
//! Debian's `/usr/bin/chromium`) signs in, watches the adoption chart move as `/stats` traffic
//! arrives, rolls back a channel and checks `/updates`, switches language, is refused as a viewer,
//! renders an XSS payload inert and opens the ICP desk. Screenshots go to
//! `<target>/browser-artifacts/`.
//!
//! Needs `LANDFALL_BROWSER_DEPS` (a directory with `node_modules/playwright-core`, made by
//! `scripts/setup-browser-deps.sh DIR`, which `scripts/test` runs). Unset: the test fails under CI
//! and prints a `SKIPPED` line otherwise.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{device_info, icp_record, landfall, web_dist, Run, Server};

const APP: &str = "com.example.console";
const ADMIN: &str = "alice";
const ADMIN_PASSWORD: &str = "correct horse battery staple";
const VIEWER: &str = "vera";
const VIEWER_PASSWORD: &str = "another long passphrase";
const XSS: &str = "<img src=x onerror=window.__xss=1>";
const XSS_DEVICE: &str = "0b7c3f1e-5a2d-4e6f-8a9b-0c1d2e3f4a5b";
/// Checks in on builtin (a device whose answers the test follows).
const PROBE: &str = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b";

/// Whether we run in CI (`CI` set to anything but empty, `0` or `false`).
fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// The directory with playwright-core; `None` (after a `SKIPPED` line) outside CI when unset.
fn browser_deps(test: &str) -> Option<PathBuf> {
    const ENV: &str = "LANDFALL_BROWSER_DEPS";
    const HOW: &str = "scripts/setup-browser-deps.sh target/browser-deps && \
                       LANDFALL_BROWSER_DEPS=$PWD/target/browser-deps cargo nextest run -p landfall --test it browser";
    match std::env::var_os(ENV).filter(|v| !v.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.join("node_modules/playwright-core/package.json").is_file(),
                "{ENV}={} has no node_modules/playwright-core; run scripts/setup-browser-deps.sh {}",
                dir.display(),
                dir.display()
            );
            Some(dir)
        }
        None if in_ci() => panic!(
            "{test}: {ENV} is not set, and CI is: the browser tests must run in CI \
             (scripts/test installs playwright-core and chromium and sets {ENV}); to run it: {HOW}"
        ),
        None => {
            eprintln!(
                "SKIPPED {test}: browser test dependencies not configured ({ENV} unset; CI would \
                 fail); to enable: {HOW}"
            );
            None
        }
    }
}

/// `<target>/browser-artifacts` (the target dir of this build, whatever `CARGO_TARGET_DIR` says).
fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target tmp dir has a parent")
        .join("browser-artifacts")
}

fn cli_with_stdin(server: &Server, args: &[&str], stdin: &str) -> Run {
    let mut child = landfall()
        .env("LANDFALL_URL", &server.url)
        .env("LANDFALL_TOKEN", &server.token)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the landfall binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A device id made from a number (valid UUID shape).
fn device(n: u32) -> String {
    format!("{n:08x}-1111-4222-8333-444455556666")
}

async fn check_in(http: &reqwest::Client, server: &Server, body: serde_json::Value) {
    let r = http
        .post(format!("{}/updates", server.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "POST /updates");
}

#[tokio::test]
async fn console_in_headless_chromium() {
    let Some(deps) = browser_deps("console_in_headless_chromium") else {
        return;
    };
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let server = Server::start().await;

    // An app with three bundles: production went 1.0.1 → 1.0.2, beta serves 1.1.0-beta.1.
    server.cli(&["app", "create", APP]).ok();
    server
        .cli(&["app", "set", APP, "--allow-device-custom-id", "true"])
        .ok();
    for (version, channel) in [
        ("1.0.1", Some("production")),
        ("1.1.0-beta.1", None),
        ("1.0.2", Some("production")),
    ] {
        let dist = web_dist(root.path(), version, version);
        let mut args = vec!["bundle", "upload", APP, &dist, "--version", version];
        if let Some(c) = channel {
            args.extend(["--channel", c]);
        }
        server.cli(&args).ok();
    }
    server
        .cli(&["channel", "create", APP, "beta", "--bundle", "1.1.0-beta.1"])
        .ok();

    // People: an admin of everything and a viewer of the app.
    for (user, role, password) in [
        (ADMIN, "*:admin".to_owned(), ADMIN_PASSWORD),
        (VIEWER, format!("{APP}:viewer"), VIEWER_PASSWORD),
    ] {
        cli_with_stdin(
            &server,
            &["user", "create", user, "--role", &role, "--password-stdin"],
            &format!("{password}\n"),
        )
        .ok();
    }

    // The ICP desk: a filing with a public-security number, submitted, and an open incident.
    let mut record = icp_record();
    record["numbers"] = json!({"public_security": "粤公网安备44030502000001号"});
    let filing = root.path().join("filing.json");
    std::fs::write(&filing, record.to_string()).unwrap();
    server
        .cli(&["icp", "filing", "record", APP, filing.to_str().unwrap()])
        .ok();
    server
        .cli(&["icp", "transition", APP, "submit", "--force"])
        .ok();
    // Launched 200 days ago and no check done since: the compliance calendar has overdue items
    // (the weekly server-performance review at least), whatever today is.
    let launched = (chrono::Utc::now() - chrono::Duration::days(200))
        .format("%Y-%m-%d")
        .to_string();
    server
        .cli(&["icp", "settings", "set", APP, "--launch-date", &launched])
        .ok();
    server
        .cli(&[
            "icp",
            "incident",
            "create",
            APP,
            "--title",
            "bad content in 1.0.2",
            "--severity",
            "critical",
        ])
        .ok();

    // Devices, all on production: three already run 1.0.2 (checked in and reported `set`), five
    // fresh ones (the browser test's live traffic: four adopt 1.0.2, one fails to install it),
    // the probe, and one whose custom id is an XSS payload.
    let http = reqwest::Client::new();
    let now = landfall_store::now_ms();
    let adopted: Vec<String> = (1..=3).map(device).collect();
    let fresh: Vec<String> = (11..=15).map(device).collect();
    for id in &adopted {
        check_in(&http, &server, device_info(APP, id, "builtin")).await;
        let mut set = device_info(APP, id, "1.0.2");
        set["action"] = json!("set");
        set["old_version_name"] = json!("builtin");
        set["timestamp"] = json!(now);
        let r = http
            .post(format!("{}/stats", server.url))
            .json(&json!([set]))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        check_in(&http, &server, device_info(APP, id, "1.0.2")).await;
    }
    for id in fresh.iter().map(String::as_str).chain([PROBE]) {
        check_in(&http, &server, device_info(APP, id, "builtin")).await;
    }
    let mut xss = device_info(APP, XSS_DEVICE, "builtin");
    xss["custom_id"] = json!(XSS);
    check_in(&http, &server, xss).await;
    let on_production = adopted.len() + fresh.len() + 2;
    let devices = server.cli(&["device", "list", APP, "--json"]).ok().json();
    assert_eq!(
        devices.as_array().map(Vec::len),
        Some(on_production),
        "{devices}"
    );

    // The browser test.
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console.test.mjs");
    let log_path = root.path().join("node.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new("node")
        .arg(&script)
        .env("LANDFALL_BROWSER_DEPS", &deps)
        .env("LANDFALL_URL", &server.url)
        .env("LANDFALL_TOKEN", &server.token)
        .env("LANDFALL_ARTIFACTS", &artifacts)
        .env("CONSOLE_APP", APP)
        .env("CONSOLE_ADMIN", ADMIN)
        .env("CONSOLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CONSOLE_VIEWER", VIEWER)
        .env("CONSOLE_VIEWER_PASSWORD", VIEWER_PASSWORD)
        .env("CONSOLE_FRESH_DEVICES", json!(fresh).to_string())
        .env("CONSOLE_PROBE_DEVICE", PROBE)
        .env("CONSOLE_XSS_DEVICE", XSS_DEVICE)
        .env("CONSOLE_XSS_CUSTOM_ID", XSS)
        .env("CONSOLE_PRODUCTION_DEVICES", on_production.to_string())
        .env("CONSOLE_ADOPTED", adopted.len().to_string())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("cannot run node (Node.js 20+ is needed for the browser tests)");
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    eprintln!("{output}");
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!(
            "the browser test failed ({s}); screenshots in {}:\n{output}\n---- server log ----\n{}",
            artifacts.display(),
            server.log()
        ),
        None => panic!(
            "the browser test did not finish in 240 s:\n{output}\n---- server log ----\n{}",
            server.log()
        ),
    }
    for name in [
        "overview-zh-CN",
        "overview-en",
        "channels-en",
        "devices-en",
        "icp-en",
        "icp-zh-CN",
    ] {
        let png = artifacts.join(format!("{name}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", png.display());
    }
    eprintln!(
        "browser test passed in {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        artifacts.display()
    );
}
