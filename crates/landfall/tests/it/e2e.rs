//! End to end: the real `landfall serve`, driven by the `landfall` CLI and by a simulated
//! Capgo device speaking the plugin protocol with plain HTTP.

use std::io::Write;

use reqwest::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, ETAG, RANGE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::oracle;
use crate::support::{run_cli, vectors_dir, Server};

const APP: &str = "com.example.capgovector";
const DEVICE_ID: &str = "6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f";

/// The plugin's info object from the vectors, without `key_id` (no publicKey configured).
fn device_info() -> Value {
    let path = vectors_dir().join("example_updates_request_android.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut info: Value = serde_json::from_str(&text).unwrap();
    info.as_object_mut().unwrap().remove("key_id");
    info
}

fn with(mut base: Value, extra: Value) -> Value {
    let obj = base.as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        obj.insert(k.clone(), v.clone());
    }
    base
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> (StatusCode, Value) {
    let resp = http.post(url).json(body).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST {url} answered {status} non-JSON ({e}): {text}"));
    (status, value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_and_device_against_a_real_server() {
    let dist = vectors_dir().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "{} missing",
        dist.display()
    );
    let dist = dist.to_str().unwrap().to_owned();

    let mut server = Server::start().await;
    let http = reqwest::Client::new();
    let base = server.url.clone();

    // ---- admin: app + upload ---------------------------------------------------------------
    let app = server.cli(&["app", "create", APP, "--json"]).ok().json();
    assert_eq!(app["app_id"], APP, "{app}");

    let list = server.cli(&["app", "list", "--json"]).ok().json();
    assert!(
        list.as_array().unwrap().iter().any(|a| a["app_id"] == APP),
        "{list}"
    );

    let up = server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &dist,
            "--version",
            "1.0.1",
            "--channel",
            "production",
            "--json",
        ])
        .ok();
    let up = up.json();
    assert_eq!(up["bundle"]["version"], "1.0.1", "{up}");
    let sha = up["bundle"]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64, "{up}");
    let size = up["bundle"]["size"].as_u64().unwrap();
    assert_eq!(up["channel"]["name"], "production", "{up}");
    assert_eq!(up["channel"]["bundle"], "1.0.1", "{up}");

    let bundles = server.cli(&["bundle", "list", APP, "--json"]).ok().json();
    let listed = bundles
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["version"] == "1.0.1")
        .unwrap_or_else(|| panic!("1.0.1 not listed: {bundles}"));
    assert_eq!(listed["sha256"], sha.as_str());
    assert_eq!(listed["size"], size);
    assert!(listed["created_at"].as_i64().unwrap() > 0);

    let human = server.cli(&["bundle", "list", APP]).ok();
    assert!(human.stdout.contains("1.0.1"), "{human:#?}");

    // ---- device: update check ----------------------------------------------------------------
    let info = device_info();
    let (status, answer) = post_json(&http, &format!("{base}/updates"), &info).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], "1.0.1", "{answer}");
    let url = answer["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url: {answer}"))
        .to_owned();
    assert!(url.starts_with("http"), "{answer}");
    assert_eq!(answer["checksum"], sha.as_str(), "{answer}");
    assert!(
        answer.get("error").is_none() && answer.get("message").is_none(),
        "{answer}"
    );

    // ---- device: resumable download ----------------------------------------------------------
    let first = http
        .get(&url)
        .header(RANGE, "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT);
    let first = first.bytes().await.unwrap();
    assert_eq!(first.len(), 100);
    let rest = http
        .get(&url)
        .header(RANGE, "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    let content_range = rest
        .headers()
        .get(CONTENT_RANGE)
        .expect("Content-Range")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_range, format!("bytes 100-{}/{size}", size - 1));
    let rest = rest.bytes().await.unwrap();
    let mut whole = first.to_vec();
    whole.extend_from_slice(&rest);
    assert_eq!(whole.len() as u64, size);
    assert_eq!(sha256_hex(&whole), answer["checksum"].as_str().unwrap());

    let head = http.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()
            .get(CONTENT_LENGTH)
            .expect("Content-Length")
            .to_str()
            .unwrap(),
        size.to_string()
    );
    assert!(
        head.headers().get(ETAG).is_some(),
        "no ETag: {:?}",
        head.headers()
    );
    assert!(
        head.headers().get(CONTENT_ENCODING).is_none(),
        "{:?}",
        head.headers()
    );

    // ---- device: stats -----------------------------------------------------------------------
    let event = |action: &str| {
        with(
            info.clone(),
            json!({"version_name": "1.0.1", "old_version_name": "builtin", "action": action,
                   "timestamp": 1767225600000i64}),
        )
    };
    let resp = http
        .post(format!("{base}/stats"))
        .json(&json!([event("download_complete"), event("set")]))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert!(
        !resp.bytes().await.unwrap().is_empty(),
        "empty stats answer"
    );
    let resp = http
        .post(format!("{base}/stats"))
        .json(&event("download_40"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());

    // ---- channel self-assignment ---------------------------------------------------------------
    let beta = server
        .cli(&[
            "channel",
            "create",
            APP,
            "beta",
            "--allow-device-self-set",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(beta["name"], "beta", "{beta}");
    assert_eq!(beta["flags"]["allow_device_self_set"], true, "{beta}");

    let (status, set) = post_json(
        &http,
        &format!("{base}/channel_self"),
        &with(info.clone(), json!({"channel": "beta"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set, json!({"status": "ok", "allowSet": true}));

    let resp = http
        .put(format!("{base}/channel_self"))
        .json(&with(info.clone(), json!({"defaultChannel": "beta"})))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(got["channel"], "beta", "{got}");

    let query: Vec<(String, String)> = info
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect();
    let resp = http
        .get(format!("{base}/channel_self"))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let channels: Value = resp.json().await.unwrap();
    let channels = channels
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {channels}"));
    assert!(!channels.is_empty());
    for c in channels {
        assert!(c["id"].is_i64() || c["id"].is_u64(), "id not numeric: {c}");
    }
    assert!(channels.iter().any(|c| c["name"] == "beta"), "{channels:?}");

    // ---- rollback to builtin -------------------------------------------------------------------
    let rolled = server
        .cli(&[
            "channel",
            "rollback",
            APP,
            "production",
            "--to",
            "builtin",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(rolled["bundle"], "builtin", "{rolled}");
    let on_101 = with(info.clone(), json!({"version_name": "1.0.1"}));
    let (status, answer) = post_json(&http, &format!("{base}/updates"), &on_101).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], "builtin", "{answer}");
    assert!(
        answer.get("error").is_none() && answer.get("kind").is_none(),
        "{answer}"
    );

    let history = server
        .cli(&["channel", "history", APP, "production", "--json"])
        .ok()
        .json();
    let history = history.as_array().unwrap();
    assert!(history.len() >= 2, "{history:?}");
    assert_eq!(history[0]["bundle"], "builtin", "newest first: {history:?}");

    let channels = server.cli(&["channel", "list", APP]).ok();
    assert!(
        channels.stdout.contains("production") && channels.stdout.contains("beta"),
        "{channels:#?}"
    );

    // ---- devices -------------------------------------------------------------------------------
    let devices = server.cli(&["device", "list", APP, "--json"]).ok().json();
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device_id"] == DEVICE_ID),
        "{devices}"
    );
    let filtered = server
        .cli(&["device", "list", APP, "--platform", "ios", "--json"])
        .ok()
        .json();
    assert!(
        !filtered
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device_id"] == DEVICE_ID),
        "platform filter ignored: {filtered}"
    );
    let over = server
        .cli(&[
            "device",
            "override",
            APP,
            DEVICE_ID,
            "--channel",
            "beta",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(over["channel"], "beta", "{over}");
    server
        .cli(&["device", "override", APP, DEVICE_ID, "--clear"])
        .ok();

    // ---- failures ------------------------------------------------------------------------------
    let r = server.cli(&["bundle", "list", "com.example.nope"]);
    assert_eq!(r.code, 3, "unknown app: {r:#?}");
    assert!(
        r.stderr.starts_with("error: ") && r.stderr.len() > 10,
        "{r:#?}"
    );
    let r = server.cli(&["bundle", "list", "com.example.nope", "--json"]);
    assert_eq!(r.code, 3, "{r:#?}");
    let body = r.json();
    assert!(
        body["error"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );

    let r = run_cli(&base, "not-the-token", &["app", "list"]);
    assert_eq!(r.code, 5, "bad token: {r:#?}");
    assert!(!r.stderr.contains(&server.token), "token leaked: {r:#?}");

    let r = server.cli(&[
        "bundle",
        "upload",
        APP,
        &dist,
        "--version",
        "1.0.1",
        "--json",
    ]);
    // The same version with the same bytes: a retried upload, acknowledged, nothing new stored.
    assert_eq!(r.code, 0, "retried upload: {r:#?}");
    assert_eq!(r.json()["already_uploaded"], true, "{r:#?}");
    // The same version with other bytes: refused (version names are immutable).
    let changed = tempfile::tempdir().unwrap();
    std::fs::write(changed.path().join("index.html"), "<html>changed</html>").unwrap();
    std::fs::write(changed.path().join("app.js"), "notifyAppReady()").unwrap();
    let r = server.cli(&[
        "bundle",
        "upload",
        APP,
        changed.path().to_str().unwrap(),
        "--version",
        "1.0.1",
        "--json",
    ]);
    assert_eq!(r.code, 4, "duplicate version, other content: {r:#?}");
    assert!(r.stderr.contains("version_exists"), "{r:#?}");

    let tmp = tempfile::tempdir().unwrap();
    let bad_zip = tmp.path().join("no-index.zip");
    {
        let file = std::fs::File::create(&bad_zip).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("readme.txt", opts).unwrap();
        zip.write_all(b"no index here").unwrap();
        zip.finish().unwrap();
    }
    let r = server.cli(&[
        "bundle",
        "upload",
        APP,
        bad_zip.to_str().unwrap(),
        "--version",
        "1.0.2",
        "--json",
    ]);
    assert_ne!(r.code, 0, "zip without index.html accepted: {r:#?}");
    let body = r.json();
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("index.html"),
        "server's message expected: {r:#?}"
    );
    assert!(r.stderr.contains("index.html"), "{r:#?}");

    // ---- tokens --------------------------------------------------------------------------------
    let scope = format!("{APP}:read");
    let created = server
        .cli(&[
            "token", "create", "--name", "ci-read", "--scope", &scope, "--json",
        ])
        .ok()
        .json();
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    let r = run_cli(&base, &secret, &["bundle", "list", APP, "--json"]).ok();
    assert!(r.stdout.contains("1.0.1"), "{r:#?}");
    let r = run_cli(
        &base,
        &secret,
        &["channel", "rollback", APP, "production", "--to", "1.0.1"],
    );
    assert_eq!(r.code, 5, "read token may not roll back: {r:#?}");
    let tokens = server.cli(&["token", "list", "--json"]).ok();
    assert!(
        !tokens.stdout.contains(&secret),
        "token list shows a secret: {tokens:#?}"
    );
    server.cli(&["token", "revoke", &id.to_string()]).ok();
    let r = run_cli(&base, &secret, &["bundle", "list", APP]);
    assert_eq!(r.code, 5, "revoked token still works: {r:#?}");

    // ---- signed + encrypted delta upload ----------------------------------------------------------
    let keys = tempfile::tempdir().unwrap();
    let r = crate::support::run(
        crate::support::landfall()
            .args(["key", "create", "--json"])
            .current_dir(keys.path()),
    )
    .ok();
    let key_id = r.json()["key_id"].as_str().unwrap().to_owned();
    let public_path = keys.path().join(".capgo_key_v2.pub");
    let private_path = keys.path().join(".capgo_key_v2");
    let added = server
        .cli(&[
            "app",
            "key",
            "add",
            APP,
            public_path.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["key_id"], key_id.as_str(), "{added}");
    let listed = server
        .cli(&["app", "key", "list", APP, "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    let r = server.cli(&["bundle", "upload", APP, &dist, "--version", "1.0.3"]);
    assert_ne!(
        r.code, 0,
        "unsigned upload accepted after a key was registered: {r:#?}"
    );

    let up = server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &dist,
            "--version",
            "1.0.3",
            "--channel",
            "beta",
            "--key",
            private_path.to_str().unwrap(),
            "--delta",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(up["bundle"]["key_ids"], json!([key_id]), "{up}");
    assert!(
        up["bundle"]["manifest_files"].as_u64().unwrap() >= 3,
        "{up}"
    );
    let plain_sha = up["bundle"]["sha256"].as_str().unwrap().to_owned();

    let encrypted_device = with(
        info.clone(),
        json!({"defaultChannel": "beta", "key_id": key_id}),
    );
    let (status, answer) = post_json(&http, &format!("{base}/updates"), &encrypted_device).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], "1.0.3", "{answer}");
    let session_key = answer["session_key"].as_str().unwrap();
    let checksum = answer["checksum"].as_str().unwrap();
    assert_eq!(checksum.len(), 512, "{answer}");
    let manifest = answer["manifest"]
        .as_array()
        .unwrap_or_else(|| panic!("no manifest: {answer}"));
    assert!(
        manifest.iter().any(|m| m["file_name"] == "index.html"),
        "{answer}"
    );
    let cipher = http
        .get(answer["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let public_pem = std::fs::read_to_string(&public_path).unwrap();
    let verifier = landfall_crypto::VerifyingKey::from_pem(&public_pem).unwrap();
    let mut plain = Vec::new();
    landfall_crypto::verify_encrypted_bundle(
        &verifier,
        session_key,
        checksum,
        &cipher[..],
        &mut plain,
    )
    .expect("the device could not verify the encrypted bundle");
    assert_eq!(sha256_hex(&plain), plain_sha);

    // ---- shutdown ------------------------------------------------------------------------------
    let status = server.terminate();
    assert!(
        status.success(),
        "landfall serve exited with {status} on SIGTERM:\n{}",
        server.log()
    );
}

/// A bundle encrypted by the real `@capgo/cli bundle encrypt` uploads as is, and devices with the
/// Capgo key get exactly the CLI's session key, checksum and ciphertext: the vectors' bundle
/// always, and one the CLI zips and encrypts live when the oracle is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capgo_cli_encrypted_bundle_round_trips() {
    let vectors = vectors_dir();
    let path = |name: &str| vectors.join(name).to_str().unwrap().to_owned();
    let encrypt: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors.join("encrypt.json")).unwrap())
            .unwrap();
    let session_key = encrypt["ivSessionKey"].as_str().unwrap();
    let checksum = encrypt["checksum"].as_str().unwrap();
    let zip_sha =
        serde_json::from_str::<Value>(&std::fs::read_to_string(vectors.join("zip.json")).unwrap())
            .unwrap()["checksum"]
            .as_str()
            .unwrap()
            .to_owned();

    let mut server = Server::start().await;
    let http = reqwest::Client::new();
    server.cli(&["app", "create", APP]).ok();
    let key = server
        .cli(&[
            "app",
            "key",
            "add",
            APP,
            &path(".capgo_key_v2.pub"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(key["key_id"], "MIIBCgKCAQEAz/N5YWbf", "{key}");

    let up = server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &path("bundle-1.0.1.zip_encrypted.zip"),
            "--version",
            "1.0.1",
            "--session-key",
            session_key,
            "--checksum",
            checksum,
            "--channel",
            "production",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(up["bundle"]["sha256"], zip_sha.as_str(), "{up}");
    assert_eq!(
        up["bundle"]["key_ids"],
        json!(["MIIBCgKCAQEAz/N5YWbf"]),
        "{up}"
    );

    // A tampered checksum is refused with the server's message.
    let mut bad = checksum.to_owned();
    bad.replace_range(0..2, if &bad[0..2] == "00" { "01" } else { "00" });
    let r = server.cli(&[
        "bundle",
        "upload",
        APP,
        &path("bundle-1.0.1.zip_encrypted.zip"),
        "--version",
        "1.0.9",
        "--session-key",
        session_key,
        "--checksum",
        &bad,
        "--json",
    ]);
    assert_ne!(r.code, 0, "tampered checksum accepted: {r:#?}");
    assert!(
        r.json()["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{r:#?}"
    );

    let original = std::fs::read(vectors.join("bundle-1.0.1.zip_encrypted.zip")).unwrap();
    device_gets_exactly(
        &http,
        &server.url,
        "MIIBCgKCAQEAz/N5YWbf",
        "1.0.1",
        (session_key, checksum),
        &original,
    )
    .await;

    // Signing locally with the same Capgo private key works too.
    let up = server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &path("dist"),
            "--version",
            "1.0.2",
            "--key",
            &path(".capgo_key_v2"),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        up["bundle"]["key_ids"],
        json!(["MIIBCgKCAQEAz/N5YWbf"]),
        "{up}"
    );

    // Live: a bundle the real CLI zips and encrypts now (`capgo bundle zip` + `bundle encrypt`).
    if let Some(oracle) = oracle::oracle_dir("capgo_cli_encrypted_bundle_round_trips (live CLI)") {
        let public_pem = std::fs::read_to_string(vectors.join(".capgo_key_v2.pub")).unwrap();
        let project = oracle::temp_project(&oracle, Some(&public_pem));
        let (zip, zip_sha) = oracle::capgo_zip(&oracle, project.path(), "1.0.4");
        let (enc, session_key, checksum) = oracle::capgo_encrypt(
            &oracle,
            project.path(),
            &zip,
            &zip_sha,
            &vectors.join(".capgo_key_v2"),
        );
        let up = server
            .cli(&[
                "bundle",
                "upload",
                APP,
                enc.to_str().unwrap(),
                "--version",
                "1.0.4",
                "--session-key",
                &session_key,
                "--checksum",
                &checksum,
                "--channel",
                "production",
                "--json",
            ])
            .ok()
            .json();
        assert_eq!(up["bundle"]["sha256"], zip_sha.as_str(), "{up}");
        assert_eq!(up["channel"]["bundle"], "1.0.4", "{up}");
        let cipher = std::fs::read(&enc).unwrap();
        device_gets_exactly(
            &http,
            &server.url,
            "MIIBCgKCAQEAz/N5YWbf",
            "1.0.4",
            (&session_key, &checksum),
            &cipher,
        )
        .await;
    }

    let status = server.terminate();
    assert!(status.success(), "{status}");
}

/// A device with `key_id` checks for updates: it must be offered `version` with exactly the
/// given `(session_key, checksum)` and download exactly `cipher`.
async fn device_gets_exactly(
    http: &reqwest::Client,
    base: &str,
    key_id: &str,
    version: &str,
    (session_key, checksum): (&str, &str),
    cipher: &[u8],
) {
    let device = with(device_info(), json!({ "key_id": key_id }));
    let (status, answer) = post_json(http, &format!("{base}/updates"), &device).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], version, "{answer}");
    assert_eq!(answer["session_key"], session_key, "{answer}");
    assert_eq!(answer["checksum"], checksum, "{answer}");
    let served = http
        .get(answer["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        served[..] == cipher[..],
        "served bytes differ from the encrypted zip ({} vs {} bytes)",
        served.len(),
        cipher.len()
    );
}

/// A delta update played like the plugin does it (protocol §7.3): a device on A gets B's
/// encrypted manifest, keeps every file it already has (same sha256), downloads the others (with
/// `Range` resumes), decrypts and brotli-decodes them, and ends up with exactly B; what it
/// downloaded is exactly what the upload reported. The web dirs hold a nested `node_modules`
/// (PDF.js character maps, as a real build copies them): kept in the zip AND the manifest; only
/// the top-level `node_modules` and `.DS_Store` are skipped, and the upload says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_update_device_rebuilds_b_from_a() {
    use rand::RngCore;
    use std::collections::HashMap;

    let work = tempfile::tempdir().unwrap();
    let random = |len: usize| {
        let mut v = vec![0u8; len];
        rand::thread_rng().fill_bytes(&mut v);
        v
    };
    let write = |path: &std::path::Path, data: &[u8]| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };

    // A: the vectors' app (index.html, assets/app.js, assets/big.js, stored as big.js.br) + 3 files.
    let a = work.path().join("A");
    for (rel, data) in landfall_crypto::walk_dir(&vectors_dir().join("dist")).unwrap() {
        write(&a.join(rel), &data);
    }
    write(&a.join("assets/style.css"), b"body { margin: 0 }\n");
    write(&a.join("assets/logo.bin"), &random(30_000));
    write(&a.join("assets/old.txt"), b"only in A\n");
    write(
        &a.join("pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap"),
        b"\xe0\x01bcmap",
    );
    // B: big.js changed, new.bin added, old.txt removed.
    let b = work.path().join("B");
    for (rel, data) in landfall_crypto::walk_dir(&a).unwrap() {
        write(&b.join(rel), &data);
    }
    let mut big = std::fs::read(b.join("assets/big.js")).unwrap();
    big.extend_from_slice(b"\nconsole.log('1.1.0');\n");
    write(&b.join("assets/big.js"), &big);
    write(&b.join("assets/new.bin"), &random(50_000));
    std::fs::remove_file(b.join("assets/old.txt")).unwrap();
    // Not app content, in both: skipped by the zipper.
    for dir in [&a, &b] {
        write(
            &dir.join("node_modules/left-pad/index.js"),
            b"module.exports = 1",
        );
        write(&dir.join(".DS_Store"), b"finder");
    }

    let server = Server::start().await;
    let http = reqwest::Client::new();
    server.cli(&["app", "create", APP]).ok();
    let keys = work.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let r = crate::support::run(
        crate::support::landfall()
            .args(["key", "create", "--json"])
            .current_dir(&keys),
    )
    .ok();
    let key_id = r.json()["key_id"].as_str().unwrap().to_owned();
    let public = keys.join(".capgo_key_v2.pub");
    server
        .cli(&["app", "key", "add", APP, public.to_str().unwrap()])
        .ok();
    let private = keys.join(".capgo_key_v2");
    let upload = |dir: &std::path::Path, version: &str| {
        server
            .cli(&[
                "bundle",
                "upload",
                APP,
                dir.to_str().unwrap(),
                "--version",
                version,
                "--channel",
                "production",
                "--key",
                private.to_str().unwrap(),
                "--delta",
                "--json",
            ])
            .ok()
            .json()
    };
    let up_a = upload(&a, "1.0.0");
    assert_eq!(up_a["delta"]["files"], 7, "{up_a}");
    assert_eq!(
        up_a["skipped"],
        json!([".DS_Store", "node_modules/"]),
        "{up_a}"
    );
    let up_b = upload(&b, "1.1.0");
    let delta = &up_b["delta"];
    assert_eq!(delta["previous_version"], "1.0.0", "{up_b}");
    assert_eq!(delta["files"], 7, "{up_b}");
    let reported_bytes = delta["download_bytes_from_previous"].as_u64().unwrap();
    let reported_reused = delta["reused_files"].as_u64().unwrap();
    assert!(
        reported_bytes < delta["full_zip_bytes"].as_u64().unwrap(),
        "{up_b}"
    );

    // The device runs A.
    let device = with(
        device_info(),
        json!({"version_name": "1.0.0", "key_id": key_id}),
    );
    let (status, answer) = post_json(&http, &format!("{}/updates", server.url), &device).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["version"], "1.1.0", "{answer}");
    assert_eq!(answer["checksum"].as_str().unwrap().len(), 512, "{answer}");
    let manifest = answer["manifest"]
        .as_array()
        .unwrap_or_else(|| panic!("no manifest: {answer}"));
    let verifier =
        landfall_crypto::VerifyingKey::from_pem(&std::fs::read_to_string(&public).unwrap())
            .unwrap();
    let session = verifier
        .open_session_key(answer["session_key"].as_str().unwrap())
        .unwrap();
    const BCMAP: &str = "pdfjs/cmaps/node_modules/pdfjs-dist/cmaps/a.bcmap";
    let listed: Vec<&str> = manifest
        .iter()
        .map(|e| e["file_name"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&BCMAP),
        "manifest lacks {BCMAP}: {listed:?}"
    );
    // The full zip holds exactly the manifest's files (plus directory entries).
    let zip_plain = landfall_crypto::decrypt_bytes(
        &session,
        &download_resuming(&http, answer["url"].as_str().unwrap()).await,
    )
    .unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip_plain)).unwrap();
    let mut zipped: Vec<&str> = archive.file_names().filter(|n| !n.ends_with('/')).collect();
    zipped.sort_unstable();
    let mut manifest_paths: Vec<&str> = listed
        .iter()
        .map(|n| n.strip_suffix(".br").unwrap_or(n))
        .collect();
    manifest_paths.sort_unstable();
    assert_eq!(
        zipped, manifest_paths,
        "zip and manifest list different files"
    );
    assert!(zipped.contains(&BCMAP), "{zipped:?}");

    // What the device has: A's files by sha256 (its installed bundle / delta cache).
    let local: HashMap<[u8; 32], Vec<u8>> = landfall_crypto::walk_dir(&a)
        .unwrap()
        .into_iter()
        .map(|(_, data)| (landfall_crypto::sha256(&data), data))
        .collect();
    let rebuilt = work.path().join("rebuilt");
    let (mut reused, mut downloaded, mut downloaded_bytes, mut brotli) = (0u64, 0, 0u64, 0);
    for entry in manifest {
        let file_name = entry["file_name"].as_str().unwrap();
        let (target, compressed) = landfall_crypto::manifest_target_path(file_name).unwrap();
        let plain_hash = verifier
            .recover_checksum(entry["file_hash"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{file_name}: file_hash does not open: {e}"));
        let data = if let Some(have) = local.get(&plain_hash) {
            reused += 1;
            have.clone()
        } else {
            let url = entry["download_url"].as_str().unwrap();
            let cipher = download_resuming(&http, url).await;
            downloaded += 1;
            downloaded_bytes += cipher.len() as u64;
            let plain = landfall_crypto::decrypt_bytes(&session, &cipher)
                .unwrap_or_else(|e| panic!("{file_name}: {e}"));
            if compressed {
                brotli += 1;
                landfall_crypto::brotli_decompress(file_name, &plain, 64 << 20).unwrap()
            } else {
                plain
            }
        };
        assert_eq!(
            landfall_crypto::sha256(&data),
            plain_hash,
            "{file_name}: sha256 differs from its file_hash"
        );
        write(&rebuilt.join(target), &data);
    }
    assert_eq!((reused, downloaded), (5, 2), "{answer}");
    assert_eq!(brotli, 1, "the changed big.js comes as big.js.br: {answer}");
    assert_eq!(reused, reported_reused, "{up_b}");
    assert_eq!(
        downloaded_bytes, reported_bytes,
        "the device downloaded other bytes than the upload reported: {up_b}"
    );
    println!(
        "delta 1.0.0 -> 1.1.0: device reused {reused} files, downloaded {downloaded} \
         ({downloaded_bytes} B; upload reported {reported_bytes} B), full zip {} B",
        delta["full_zip_bytes"]
    );
    let rebuilt_files = landfall_crypto::walk_dir(&rebuilt).unwrap();
    let b_files = landfall_crypto::walk_dir(&b).unwrap();
    assert_eq!(
        rebuilt_files.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b_files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        rebuilt_files == b_files,
        "the rebuilt bundle differs from B"
    );
}

/// Downloads `url` in two requests, the second resuming with `Range` (like the plugin after an
/// interruption); returns the whole body.
async fn download_resuming(http: &reqwest::Client, url: &str) -> Vec<u8> {
    let first = http
        .get(url)
        .header(RANGE, "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::PARTIAL_CONTENT, "{url}");
    let range = first.headers()[CONTENT_RANGE].to_str().unwrap().to_owned();
    let total: u64 = range.rsplit('/').next().unwrap().parse().unwrap();
    let mut body = first.bytes().await.unwrap().to_vec();
    if total > 100 {
        let rest = http
            .get(url)
            .header(RANGE, "bytes=100-")
            .send()
            .await
            .unwrap();
        assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT, "{url}");
        assert_eq!(
            rest.headers()[CONTENT_RANGE].to_str().unwrap(),
            format!("bytes 100-{}/{total}", total - 1)
        );
        body.extend_from_slice(&rest.bytes().await.unwrap());
    }
    assert_eq!(body.len() as u64, total, "{url}");
    body
}
