//! Plugin parity (issue 8) against the real binary: a legacy plugin's whole channel lifecycle over
//! HTTP, a rollout lowered from 50 % to 10 % to 0 % over 10,000 simulated devices with the CLI,
//! and the app switches.

use std::collections::HashSet;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::support::Server;

const APP: &str = "com.example.parity";

fn device(i: u32, plugin: &str) -> Value {
    json!({
        "platform": "android",
        "device_id": format!("{i:08x}-{:04x}-4000-8000-{:012x}", i % 65_536, u64::from(i) * 7_919),
        "app_id": APP, "custom_id": "", "version_build": "1.0.0", "version_code": "10",
        "version_os": "14", "version_name": "builtin", "plugin_version": plugin,
        "is_emulator": false, "is_prod": true, "defaultChannel": ""
    })
}

async fn send(http: &reqwest::Client, method: reqwest::Method, url: &str, body: &Value) -> Value {
    let r = http.request(method, url).json(body).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

fn dist(version: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("index.html"),
        format!("<html>{version}</html>"),
    )
    .unwrap();
    std::fs::write(d.path().join("app.js"), "notifyAppReady()").unwrap();
    d
}

fn upload(server: &Server, version: &str, channel: Option<&str>) {
    let d = dist(version);
    let mut args = vec![
        "bundle",
        "upload",
        APP,
        d.path().to_str().unwrap(),
        "--version",
        version,
    ];
    if let Some(c) = channel {
        args.extend(["--channel", c]);
    }
    server.cli(&args).ok();
}

#[tokio::test]
async fn legacy_plugin_set_check_get_unset_check_against_the_binary() {
    let server = Server::start().await;
    server.cli(&["app", "create", APP]).ok();
    upload(&server, "1.0.1", Some("production"));
    upload(&server, "1.0.2", None);
    server
        .cli(&[
            "channel",
            "create",
            APP,
            "beta",
            "--bundle",
            "1.0.2",
            "--allow-device-self-set",
        ])
        .ok();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.url);
    let legacy = device(7, "6.20.0");
    let check = |d: Value| {
        let http = http.clone();
        let u = url("/updates");
        async move { send(&http, reqwest::Method::POST, &u, &d).await["version"].clone() }
    };
    assert_eq!(check(legacy.clone()).await, "1.0.1");
    // set
    let mut set = legacy.clone();
    set["channel"] = json!("beta");
    let r = send(&http, reqwest::Method::POST, &url("/channel_self"), &set).await;
    assert_eq!(r, json!({ "status": "ok" }));
    // check
    assert_eq!(check(legacy.clone()).await, "1.0.2");
    // get
    let r = send(&http, reqwest::Method::PUT, &url("/channel_self"), &legacy).await;
    assert_eq!(
        (&r["channel"], &r["status"]),
        (&json!("beta"), &json!("override"))
    );
    // the operator sees it, set by the device
    let devices = server.cli(&["device", "list", APP, "--json"]).ok().json();
    let d = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == legacy["device_id"])
        .unwrap();
    assert_eq!(
        (&d["override_channel"], &d["override_set_by"]),
        (&json!("beta"), &json!("device"))
    );
    // unset (legacy plugins send DELETE with the info object as query string)
    let q: Vec<(String, String)> = legacy
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map(str::to_owned).unwrap_or(v.to_string()),
            )
        })
        .collect();
    let r: Value = http
        .delete(url("/channel_self"))
        .query(&q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({ "status": "ok" }));
    let r: Value = http
        .delete(url("/channel_self"))
        .query(&q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"], "cannot_override");
    // check: back on the default
    assert_eq!(check(legacy.clone()).await, "1.0.1");
    let r = send(&http, reqwest::Method::PUT, &url("/channel_self"), &legacy).await;
    assert_eq!(
        (&r["channel"], &r["status"]),
        (&json!("production"), &json!("default"))
    );

    // The app switches, through the CLI.
    server
        .cli(&["app", "set", APP, "--expose-metadata", "true"])
        .ok();
    let apps = server.cli(&["app", "list", "--json"]).ok().json();
    assert_eq!(apps[0]["expose_metadata"], true);
    let text = server.cli(&["app", "show", APP]).ok().stdout;
    assert!(text.contains("expose metadata         yes"), "{text}");
    let r = server.cli(&["app", "set", APP]);
    assert_eq!(r.code, 2, "nothing to change is a usage error: {r:#?}");
}

/// Checks every device (16 at a time); returns the ids (indexes) offered `version`.
async fn offered(server: &Server, devices: &[Value], version: &str) -> HashSet<usize> {
    let http = reqwest::Client::new();
    let url = format!("{}/updates", server.url);
    futures::stream::iter(devices.iter().enumerate())
        .map(|(i, d)| {
            let (http, url) = (http.clone(), url.clone());
            async move { (i, send(&http, reqwest::Method::POST, &url, d).await) }
        })
        .buffer_unordered(16)
        .filter_map(|(i, r)| async move { (r["version"] == version).then_some(i) })
        .collect()
        .await
}

#[tokio::test]
async fn rollout_50_10_0_percent_over_10000_devices_against_the_binary() {
    let server = Server::start().await;
    server.cli(&["app", "create", APP]).ok();
    upload(&server, "1.0.1", Some("production"));
    upload(&server, "1.0.2", None);
    let fleet: Vec<Value> = (0..10_000).map(|i| device(i, "8.51.14")).collect();
    let on_rollout = |ids: &HashSet<usize>| -> Vec<Value> {
        ids.iter()
            .map(|&i| {
                let mut d = fleet[i].clone();
                d["version_name"] = json!("1.0.2");
                d
            })
            .collect()
    };
    let percent = |p: &str| {
        server
            .cli(&[
                "channel",
                "set",
                APP,
                "production",
                "--rollout-bundle",
                "1.0.2",
                "--rollout-percent",
                p,
            ])
            .ok()
            .stdout
    };
    percent("50");
    let took = offered(&server, &fleet, "1.0.2").await;
    assert!(
        (4_700..5_300).contains(&took.len()),
        "{} of 10000 at 50 %",
        took.len()
    );
    // Those devices install it and report in with 1.0.2.
    let installed = on_rollout(&took);
    assert!(
        offered(&server, &installed, "1.0.2").await.is_empty(),
        "up to date"
    );
    // 10 %: nobody on 1.0.2 is moved; nobody outside the 10 % bucket joins.
    let out = percent("10");
    assert!(out.contains("now:"), "{out}");
    assert!(
        offered(&server, &installed, "1.0.1").await.is_empty(),
        "devices on the rollout keep it at 10 %"
    );
    let joiners = offered(&server, &fleet, "1.0.2").await;
    assert!(
        joiners.is_subset(&took),
        "no device outside the bucket joins"
    );
    assert!(
        (800..1_200).contains(&joiners.len()),
        "{} in the 10 % bucket",
        joiners.len()
    );
    // The devices on 1.0.2 check in again (the fleet check above recorded every id as builtin).
    assert!(offered(&server, &installed, "1.0.1").await.is_empty());
    // 0 %: the rollout is off; the CLI says what happens to the devices on it.
    server.cli(&["device", "list", APP, "--limit", "1"]).ok(); // writes buffered check-ins
    let out = percent("0");
    assert!(out.contains("0 % (off)"), "{out}");
    assert!(
        out.contains(&format!(
            "{} known devices on 1.0.2 are offered 1.0.1",
            took.len()
        )),
        "{out}"
    );
    assert_eq!(
        offered(&server, &installed, "1.0.1").await.len(),
        took.len()
    );
    assert!(offered(&server, &fleet, "1.0.2").await.is_empty());
}
