//! Restart and shutdown of the real `landfall serve`: state survives SIGTERM + restart on the same
//! data dir, start-up cleans staging leftovers and orphan blobs (and only those), and check-ins
//! answered before a SIGTERM under traffic are on disk after it.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{device_info, icp_record, web_dist, Server};

const APP: &str = "com.example.restart";

/// Every blob key under `<data-dir>/blobs/<aa>/<sha256>`.
fn blob_keys(data_dir: &Path) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for shard in std::fs::read_dir(data_dir.join("blobs")).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            for f in std::fs::read_dir(&shard).unwrap() {
                keys.insert(f.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    keys
}

/// `value` with every occurrence of the server's base URL replaced (the port changes on restart).
fn without_base(value: &Value, base: &str) -> Value {
    serde_json::from_str(&value.to_string().replace(base, "<base>")).unwrap()
}

/// What devices are told, per device (absolute URLs made relative to the server).
async fn update_answers(server: &Server, devices: &[(String, Value)]) -> Vec<(String, Value)> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for (name, info) in devices {
        let resp = http
            .post(format!("{}/updates", server.url))
            .json(info)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap();
        out.push((
            name.clone(),
            json!({"status": status, "body": without_base(&body, &server.url)}),
        ));
    }
    out
}

/// The admin view of the app through the CLI (`--json`), with per-request noise removed.
fn admin_state(server: &Server) -> Value {
    let get = |args: &[&str]| without_base(&server.cli(args).ok().json(), &server.url);
    let mut devices = get(&["device", "list", APP, "--json"]);
    // `last_seen` may be rewritten by a later check-in; everything else must stay.
    for d in devices.as_array_mut().unwrap() {
        d.as_object_mut().unwrap().remove("last_seen");
    }
    json!({
        "apps": get(&["app", "list", "--json"]),
        "bundles": get(&["bundle", "list", APP, "--json"]),
        "channels": get(&["channel", "list", APP, "--json"]),
        "production": get(&["channel", "show", APP, "production", "--json"]),
        "beta": get(&["channel", "show", APP, "beta", "--json"]),
        "history": get(&["channel", "history", APP, "production", "--json"]),
        "keys": get(&["app", "key", "list", APP, "--json"]),
        "devices": devices,
        "filing": get(&["icp", "filing", "show", APP, "--json"]),
        "changes": get(&["icp", "filing", "changes", APP, "--json"]),
    })
}

/// Waits until `GET /devices` lists every one of `ids` (the recorder flushes every second).
async fn wait_for_devices(server: &Server, ids: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = server
            .cli(&["device", "list", APP, "--limit", "1000", "--json"])
            .ok()
            .json();
        let seen: BTreeSet<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["device_id"].as_str())
            .collect();
        if ids.iter().all(|id| seen.contains(id)) {
            return;
        }
        assert!(Instant::now() < deadline, "devices not recorded: {listed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_sigterm_and_restart_and_start_up_sweeps() {
    let mut server = Server::start().await;
    let work = tempfile::tempdir().unwrap();

    // ---- state: app, bundles (one encrypted), channels with a rollout, override, key, ICP ------
    server.cli(&["app", "create", APP]).ok();
    let v1 = web_dist(work.path(), "v1", "one");
    let v2 = web_dist(work.path(), "v2", "two");
    let v3 = web_dist(work.path(), "v3", "three");
    for (dist, version) in [(&v1, "1.0.0"), (&v2, "1.0.1")] {
        server
            .cli(&[
                "bundle",
                "upload",
                APP,
                dist,
                "--version",
                version,
                "--channel",
                "production",
            ])
            .ok();
    }
    server
        .cli(&["channel", "set", APP, "production", "--bundle", "1.0.0"])
        .ok();
    let rollout = server
        .cli(&[
            "channel",
            "set",
            APP,
            "production",
            "--rollout-bundle",
            "1.0.1",
            "--rollout-percent",
            "50",
            "--json",
        ])
        .ok()
        .json();
    assert!(rollout.to_string().contains("1.0.1"), "{rollout}");
    server.cli(&["channel", "create", APP, "beta"]).ok();

    let keys = tempfile::tempdir().unwrap();
    let r = crate::support::run(
        crate::support::landfall()
            .args(["key", "create", "--json"])
            .current_dir(keys.path()),
    )
    .ok();
    let key_id = r.json()["key_id"].as_str().unwrap().to_owned();
    let public = keys.path().join(".capgo_key_v2.pub");
    let private = keys.path().join(".capgo_key_v2");
    server
        .cli(&["app", "key", "add", APP, public.to_str().unwrap()])
        .ok();
    let up = server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &v3,
            "--version",
            "1.1.0",
            "--channel",
            "beta",
            "--key",
            private.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(up["bundle"]["key_ids"], json!([key_id]), "{up}");

    let overridden = "0a0a0a0a-0000-4000-8000-00000000beef";
    server
        .cli(&["device", "override", APP, overridden, "--channel", "beta"])
        .ok();
    let record = work.path().join("record.json");
    std::fs::write(&record, icp_record().to_string()).unwrap();
    server
        .cli(&["icp", "filing", "record", APP, record.to_str().unwrap()])
        .ok();

    // Devices: eight plain ones spread over the rollout, the overridden one with the key.
    let mut devices: Vec<(String, Value)> = (0..8)
        .map(|i| {
            let id = format!("0a0a0a0a-0000-4000-8000-{i:012}");
            (id.clone(), device_info(APP, &id, "builtin"))
        })
        .collect();
    let mut keyed = device_info(APP, overridden, "builtin");
    keyed["key_id"] = json!(key_id);
    devices.push((overridden.to_owned(), keyed));

    let answers_before = update_answers(&server, &devices).await;
    // The rollout splits the plain devices (their builtin is 1.0.0): those in the rollout get
    // 1.0.1, the others are told they are up to date; the overridden one gets the encrypted bundle.
    let outcomes: BTreeSet<String> = answers_before[..8]
        .iter()
        .map(|(_, a)| match a["body"]["url"].as_str() {
            Some(_) => format!("update {}", a["body"]["version"]),
            None => format!("{} {}", a["body"]["kind"], a["body"]["error"]),
        })
        .collect();
    assert_eq!(
        outcomes,
        BTreeSet::from([
            r#"update "1.0.1""#.to_owned(),
            r#""up_to_date" "no_new_version_available""#.to_owned(),
        ]),
        "{answers_before:#?}"
    );
    let encrypted = &answers_before.last().unwrap().1["body"];
    assert_eq!(encrypted["version"], "1.1.0", "{encrypted}");
    assert!(encrypted["url"].as_str().is_some(), "{encrypted}");
    assert!(
        !encrypted["session_key"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{encrypted}"
    );
    let ids: Vec<&str> = devices.iter().map(|(id, _)| id.as_str()).collect();
    wait_for_devices(&server, &ids).await;
    let admin_before = admin_state(&server);
    assert_eq!(admin_before["devices"].as_array().unwrap().len(), 9);
    assert_eq!(admin_before["filing"]["state"], "draft", "{admin_before}");

    // ---- leftovers: a staging file and an orphan blob ---------------------------------------------
    let data = server.data_dir().to_owned();
    let referenced = blob_keys(&data);
    assert!(referenced.len() >= 3, "{referenced:?}");
    let leftover = data.join("tmp").join("upload-killed-midway.part");
    std::fs::write(&leftover, b"half an upload").unwrap();
    let orphan_bytes = b"blob written, bundle row never committed";
    let orphan = hex::encode(Sha256::digest(orphan_bytes));
    let orphan_path = data.join("blobs").join(&orphan[..2]).join(&orphan);
    std::fs::create_dir_all(orphan_path.parent().unwrap()).unwrap();
    std::fs::write(&orphan_path, orphan_bytes).unwrap();
    assert!(!referenced.contains(&orphan));

    // ---- SIGTERM, restart on the same data dir --------------------------------------------------
    let status = server.terminate();
    assert!(status.success(), "exit after SIGTERM: {status}");
    server.restart().await;

    assert!(!leftover.exists(), "staging leftover survived the restart");
    assert!(!orphan_path.exists(), "orphan blob not swept");
    assert_eq!(blob_keys(&data), referenced, "referenced blobs changed");
    assert!(
        server.last_log().contains("removed unreferenced blobs"),
        "{}",
        server.last_log()
    );

    // Admin state first (the update checks below would refresh devices), then the answers.
    assert_eq!(admin_state(&server), admin_before);
    let answers_after = update_answers(&server, &devices).await;
    assert_eq!(answers_after, answers_before);
    // Every blob a device is pointed at is served.
    let http = reqwest::Client::new();
    for (_, a) in &answers_after {
        if let Some(url) = a["body"]["url"].as_str() {
            let url = url.replace("<base>", &server.url);
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
        }
    }
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_traffic_answers_completely_and_keeps_every_answered_check_in() {
    let mut server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    // 1.0.1, so that every device (builtin 1.0.0) is answered with an update to download.
    let v1 = web_dist(work.path(), "v1", "one");
    server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &v1,
            "--version",
            "1.0.1",
            "--channel",
            "production",
        ])
        .ok();

    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loops = Vec::new();
    for worker in 0..4 {
        let (url, answered, stop) = (server.url.clone(), answered.clone(), stop.clone());
        loops.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut refused_since: Option<Instant> = None;
            for n in 0u64.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let id = format!("5e5e5e5e-0000-4000-8000-{worker:04}{n:08}");
                let sent = http
                    .post(format!("{url}/updates"))
                    .json(&device_info(APP, &id, "builtin"))
                    .send()
                    .await;
                let Ok(resp) = sent else {
                    // No answer (the server is gone or going): not counted.
                    refused_since.get_or_insert_with(Instant::now);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let status = resp.status();
                // An answer, once started, is complete: the whole body arrives and parses.
                let bytes = resp
                    .bytes()
                    .await
                    .unwrap_or_else(|e| panic!("{id}: body cut short ({status}): {e}"));
                let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{id}: incomplete answer ({e}): {}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                assert_eq!(status, 200, "{id}: {body}");
                assert_eq!(body["version"], "1.0.1", "{id}: {body}");
                assert!(body["url"].as_str().is_some(), "{id}: {body}");
                answered.lock().unwrap().push(id);
            }
        }));
    }
    // Let traffic build up, then SIGTERM in the middle of it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.lock().unwrap().len() < 200 {
        if let Some(done) = loops.iter().position(|l| l.is_finished()) {
            // A loop only ends early by panicking: show why.
            loops.remove(done).await.expect("a client loop failed");
        }
        assert!(Instant::now() < deadline, "traffic did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = tokio::task::block_in_place(|| server.terminate());
    assert!(status.success(), "exit after SIGTERM: {status}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in loops {
        l.await.expect("a client loop saw an incomplete answer");
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 200);

    server.restart().await;
    let listed = server
        .cli(&["device", "list", APP, "--limit", "10000", "--json"])
        .ok()
        .json();
    let listed: BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["device_id"].as_str())
        .collect();
    let lost: Vec<&String> = answered
        .iter()
        .filter(|id| !listed.contains(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} answered check-ins lost on SIGTERM, e.g. {:?}",
        lost.len(),
        answered.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(server.terminate().success());
}
