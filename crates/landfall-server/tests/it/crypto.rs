//! Encrypted, signed and delta bundles through the HTTP layer, against the Capgo CLI's vectors.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use landfall_crypto::{build_manifest, verify_manifest_file, SessionKey, SigningKey, VerifyingKey};
use serde_json::{json, Value};

use crate::support::*;

fn read(name: &str) -> String {
    std::fs::read_to_string(vectors().join(name)).unwrap()
}

fn example(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn app_with_key() -> TestApp {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/keys"),
            &app.admin,
            Some(json!({ "public_key": read(".capgo_key_v2.pub") })),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(r.json()["key_id"], "MIIBCgKCAQEAz/N5YWbf");
    app
}

fn cli_upload_query(extra: &str) -> String {
    let e = example("encrypt.json");
    format!(
        "version=1.0.1&channel=production&session_key={}&checksum={}{extra}",
        enc(e["ivSessionKey"].as_str().unwrap()),
        e["checksum"].as_str().unwrap()
    )
}

#[tokio::test]
async fn cli_encrypted_bundle_is_served_with_the_same_session_key_and_checksum() {
    let app = app_with_key().await;
    let ciphertext = std::fs::read(vectors().join("bundle-1.0.1.zip_encrypted.zip")).unwrap();
    let r = app
        .upload(&app.admin, &cli_upload_query(""), ciphertext.clone())
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let b = &r.json()["bundle"];
    assert_eq!(
        b["sha256"],
        json!(example("zip.json")["checksum"]),
        "plain sha256 of the zip"
    );
    assert_eq!(b["key_ids"], json!(["MIIBCgKCAQEAz/N5YWbf"]));
    // The device with the key gets exactly the vector answer (but for the host in the URL).
    let req = example("example_updates_request_android.json");
    let got = app.post_json("/updates", &req).await.json();
    let want = example("example_updates_response_zip_encrypted.json");
    for k in ["version", "session_key", "checksum"] {
        assert_eq!(got[k], want[k], "{k}");
    }
    let path = got["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://updates.test")
        .to_owned();
    let served = app.raw("GET", &path, "").await.bytes;
    assert_eq!(served, ciphertext);
    // What the device does: open with the public key, decrypt, compare with the recovered checksum.
    let vk = VerifyingKey::from_pem(&read(".capgo_key_v2.pub")).unwrap();
    let mut plain = Vec::new();
    let digest = landfall_crypto::verify_encrypted_bundle(
        &vk,
        got["session_key"].as_str().unwrap(),
        got["checksum"].as_str().unwrap(),
        &served[..],
        &mut plain,
    )
    .unwrap();
    assert_eq!(
        plain,
        std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap()
    );
    assert_eq!(
        hex::encode(digest),
        example("zip.json")["checksum"].as_str().unwrap()
    );
    // A device without the key never gets the encrypted bundle.
    let v = app.post_json("/updates", &device_request()).await.json();
    assert_eq!(
        (v["error"].as_str(), v["kind"].as_str()),
        (Some("key_id_mismatch"), Some("blocked"))
    );
}

#[tokio::test]
async fn apps_with_a_key_refuse_unsigned_and_bad_uploads() {
    let app = app_with_key().await;
    let plain = std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap();
    let r = app.upload(&app.admin, "version=1.0.1", plain.clone()).await;
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("signature_required"))
    );
    let ciphertext = std::fs::read(vectors().join("bundle-1.0.1.zip_encrypted.zip")).unwrap();
    let e = example("encrypt.json");
    let session = e["ivSessionKey"].as_str().unwrap();
    let checksum = e["checksum"].as_str().unwrap();
    let mut tampered = ciphertext.clone();
    tampered[100] ^= 1;
    let mut wrong_checksum = checksum.to_owned();
    wrong_checksum.replace_range(
        ..2,
        if checksum.starts_with("00") {
            "01"
        } else {
            "00"
        },
    );
    let other = landfall_crypto::generate_keypair().unwrap();
    let foreign = SessionKey::random()
        .to_wire(&SigningKey::from_pem(&other.private_pem).unwrap())
        .unwrap();
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (
            format!(
                "version=1.0.1&session_key={}&checksum={checksum}",
                enc(session)
            ),
            tampered,
            "checksum_mismatch",
        ),
        (
            format!(
                "version=1.0.1&session_key={}&checksum={}",
                enc(session),
                "ab".repeat(32)
            ),
            ciphertext.clone(),
            "invalid_checksum",
        ),
        (
            format!(
                "version=1.0.1&session_key={}&checksum={wrong_checksum}",
                enc(session)
            ),
            ciphertext.clone(),
            "invalid_checksum",
        ),
        (
            format!("version=1.0.1&session_key=nocolon&checksum={checksum}"),
            ciphertext.clone(),
            "invalid_session_key",
        ),
        (
            format!(
                "version=1.0.1&session_key={}&checksum={checksum}",
                enc(&foreign)
            ),
            ciphertext.clone(),
            "invalid_session_key",
        ),
        (
            format!("version=1.0.1&session_key={}", enc(session)),
            ciphertext.clone(),
            "invalid_checksum",
        ),
        (
            format!(
                "version=1.0.1&session_key={}&checksum={checksum}&key_id=MIIBCgKCAQEAnotreal",
                enc(session)
            ),
            ciphertext.clone(),
            "unknown_key",
        ),
        (
            format!(
                "version=1.0.1&session_key={}&checksum={checksum}",
                enc(session)
            ),
            ciphertext[..ciphertext.len() - 3].to_vec(),
            "corrupt_ciphertext",
        ),
    ];
    for (q, body, code) in cases {
        let r = app.upload(&app.admin, &q, body).await;
        let v = r.json();
        assert_eq!(
            (r.status, v["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{q}: {v}"
        );
        assert!(v["message"].as_str().unwrap().len() > 15);
    }
    // Nothing was stored by the refused uploads.
    assert!(app.state.blobs.list().await.unwrap().is_empty());
    assert_eq!(std::fs::read_dir(&app.state.tmp_dir).unwrap().count(), 0);
}

#[tokio::test]
async fn encrypted_upload_needs_a_registered_key_and_keys_are_validated() {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let ciphertext = std::fs::read(vectors().join("bundle-1.0.1.zip_encrypted.zip")).unwrap();
    let r = app
        .upload(&app.admin, &cli_upload_query(""), ciphertext)
        .await;
    assert_eq!(r.json()["error"], "no_key_registered");
    // SPKI and private keys are refused with a way out.
    let spki = {
        use rsa::pkcs8::EncodePublicKey;
        let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        k.to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/keys"),
            &app.admin,
            Some(json!({ "public_key": spki })),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_public_key");
    assert!(
        r.json()["message"].as_str().unwrap().contains("openssl"),
        "{}",
        r.json()
    );
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/keys"),
            &app.admin,
            Some(json!({ "public_key": read(".capgo_key_v2") })),
        )
        .await;
    assert_eq!(r.json()["error"], "invalid_public_key");
    // Register, list, refuse a duplicate, remove (key ids contain '/').
    let pem = read(".capgo_key_v2.pub");
    app.api(
        "POST",
        &format!("/apps/{APP}/keys"),
        &app.admin,
        Some(json!({ "public_key": pem })),
    )
    .await;
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/keys"),
            &app.admin,
            Some(json!({ "public_key": pem })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        app.api("GET", &format!("/apps/{APP}/keys"), &app.admin, None)
            .await
            .json()[0]["key_id"],
        "MIIBCgKCAQEAz/N5YWbf"
    );
    let r = app
        .api(
            "DELETE",
            &format!("/apps/{APP}/keys/{}", enc("MIIBCgKCAQEAz/N5YWbf")),
            &app.admin,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

fn dist_zip() -> Vec<u8> {
    std::fs::read(vectors().join("bundle-1.0.1.zip")).unwrap()
}

async fn fetch(app: &TestApp, url: &str) -> Vec<u8> {
    app.raw("GET", url.trim_start_matches("http://updates.test"), "")
        .await
        .bytes
}

#[tokio::test]
async fn plain_delta_matches_the_cli_manifest_and_rebuilds_the_bundle() {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let r = app
        .upload(
            &app.admin,
            "version=1.0.1&channel=production&delta=true",
            dist_zip(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(r.json()["delta"]["files"], 3);
    let got = app.post_json("/updates", &device_request()).await.json();
    let want = example("example_updates_response_manifest_plain.json");
    let names = |v: &Value| {
        v["manifest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["file_name"].as_str().unwrap().to_owned(),
                    m["file_hash"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&got), names(&want));
    // Rebuild the directory as the device does, and compare with dist/.
    for m in got["manifest"].as_array().unwrap() {
        let name = m["file_name"].as_str().unwrap();
        let stored = fetch(&app, m["download_url"].as_str().unwrap()).await;
        let plain = verify_manifest_file(
            name,
            &stored,
            m["file_hash"].as_str().unwrap(),
            None,
            1 << 20,
        )
        .unwrap();
        let path = name.strip_suffix(".br").unwrap_or(name);
        assert_eq!(
            plain,
            std::fs::read(vectors().join("dist").join(path)).unwrap(),
            "{path}"
        );
    }
    // Old plugins get the zip only.
    let mut old = device_request();
    old["plugin_version"] = json!("7.0.10");
    assert!(app
        .post_json("/updates", &old)
        .await
        .json()
        .get("manifest")
        .is_none());
    // manifest_size knows every file.
    let mut req = device_request();
    req["version"] = json!("1.0.1");
    req["manifest"] = got["manifest"].clone();
    let v = app.post_json("/updates/manifest_size", &req).await.json();
    assert_eq!(
        (v["knownFiles"].as_u64(), v["unknownFiles"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(v["totalSize"].as_u64().unwrap() > 1000);
}

#[tokio::test]
async fn delta_reports_reuse_and_dedups_unchanged_files() {
    let app = TestApp::new().await;
    app.api("POST", "/apps", &app.admin, Some(json!({ "app_id": APP })))
        .await;
    let a = zip_of(&[
        ("index.html", b"<html>a</html>"),
        ("vendor.js", &vec![b'v'; 50_000]),
        ("app.js", b"notifyAppReady() // a"),
    ]);
    let b = zip_of(&[
        ("index.html", b"<html>a</html>"),
        ("vendor.js", &vec![b'v'; 50_000]),
        ("app.js", b"notifyAppReady() // b"),
    ]);
    app.upload(&app.admin, "version=1.0.0&channel=production&delta=true", a)
        .await;
    let blobs_after_a = app.state.blobs.list().await.unwrap().len();
    let r = app
        .upload(&app.admin, "version=1.0.1&channel=production&delta=true", b)
        .await
        .json();
    let d = &r["delta"];
    assert_eq!(d["previous_version"], "1.0.0");
    assert_eq!(d["reused_files"], 2);
    assert_eq!(
        d["download_bytes_from_previous"],
        "notifyAppReady() // b".len()
    );
    // Only the new zip and the one changed file were added to storage.
    assert_eq!(
        app.state.blobs.list().await.unwrap().len(),
        blobs_after_a + 2
    );
}

#[tokio::test]
async fn encrypted_delta_matches_the_cli_manifest() {
    let app = app_with_key().await;
    let signer = SigningKey::from_pem(&read(".capgo_key_v2")).unwrap();
    // The developer's side: per-file signatures, as `landfall bundle upload --delta --key` makes them.
    let files = landfall_crypto::walk_dir(&vectors().join("dist")).unwrap();
    let session = SessionKey::random();
    let signed = build_manifest(files, Some((&session, &signer))).unwrap();
    let signatures: serde_json::Map<String, Value> = signed
        .iter()
        .map(|f| (f.path.clone(), Value::String(f.file_hash.clone())))
        .collect();
    let ciphertext = std::fs::read(vectors().join("bundle-1.0.1.zip_encrypted.zip")).unwrap();
    let boundary = "landfall-test-boundary";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"signatures\"\r\nContent-Type: application/json\r\n\r\n").bytes());
    body.extend(Value::Object(signatures).to_string().bytes());
    body.extend(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"b.zip\"\r\nContent-Type: application/octet-stream\r\n\r\n").bytes());
    body.extend(&ciphertext);
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let r = app
        .send(
            Request::post(format!(
                "/api/v1/apps/{APP}/bundles?{}",
                cli_upload_query("&delta=true")
            ))
            .header("authorization", format!("Bearer {}", app.admin))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    let got = app
        .post_json("/updates", &example("example_updates_request_android.json"))
        .await
        .json();
    let want = example("example_updates_response_manifest_encrypted.json");
    let hashes = |v: &Value| {
        v["manifest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["file_name"].clone(), m["file_hash"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        hashes(&got),
        hashes(&want),
        "signed file hashes are deterministic"
    );
    assert_eq!(got["session_key"], want["session_key"]);
    // The device side: decrypt each file with the session key, check against the signed hash.
    let vk = VerifyingKey::from_pem(&read(".capgo_key_v2.pub")).unwrap();
    let sk = vk
        .open_session_key(got["session_key"].as_str().unwrap())
        .unwrap();
    for m in got["manifest"].as_array().unwrap() {
        let name = m["file_name"].as_str().unwrap();
        let stored = fetch(&app, m["download_url"].as_str().unwrap()).await;
        let plain = verify_manifest_file(
            name,
            &stored,
            m["file_hash"].as_str().unwrap(),
            Some((&sk, &vk)),
            1 << 20,
        )
        .unwrap();
        let path = name.strip_suffix(".br").unwrap_or(name);
        assert_eq!(
            plain,
            std::fs::read(vectors().join("dist").join(path)).unwrap()
        );
    }
    // Missing signatures are refused.
    let r = app
        .upload(
            &app.admin,
            &cli_upload_query("&delta=true").replace("1.0.1", "1.0.2"),
            ciphertext,
        )
        .await;
    assert_eq!(r.json()["error"], "missing_file_signature");
}

#[tokio::test]
async fn external_encrypted_bundle() {
    let app = app_with_key().await;
    let e = example("encrypt.json");
    let body = json!({ "version": "1.0.1", "url": "https://cdn.example.cn/x.zip", "checksum": e["checksum"],
                       "session_key": e["ivSessionKey"], "channel": "production" });
    let r = app
        .api(
            "POST",
            &format!("/apps/{APP}/bundles/external"),
            &app.admin,
            Some(body),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.bytes)
    );
    assert_eq!(
        r.json()["bundle"]["sha256"],
        example("zip.json")["checksum"]
    );
    let got = app
        .post_json("/updates", &example("example_updates_request_android.json"))
        .await
        .json();
    assert_eq!(got["checksum"], e["checksum"]);
    assert_eq!(got["session_key"], e["ivSessionKey"]);
}
