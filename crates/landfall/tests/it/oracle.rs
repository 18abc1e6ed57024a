//! `landfall bundle encrypt|decrypt` against the real Capgo CLI (@capgo/cli 8.68.1), both ways.
//!
//! Opt-in: `scripts/setup-capgo-oracle.sh DIR` then `LANDFALL_CAPGO_ORACLE=DIR cargo test -p
//! landfall --test it oracle` (`scripts/test` does both). When the variable is unset the tests
//! fail in CI (`CI` set) and print a `SKIPPED` line on stderr elsewhere; when it is set every
//! check must pass.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{landfall, run, vectors_dir, Run};

#[path = "../../../landfall-crypto/tests/common/oracle_gate.rs"]
mod oracle_gate;
use oracle_gate::cli_js;

const CLI_TIMEOUT: Duration = Duration::from_secs(90);

/// The oracle directory, `None` outside CI when it is not configured (see `oracle_gate`: in CI a
/// missing oracle fails the test).
pub fn oracle_dir(test: &str) -> Option<PathBuf> {
    oracle_gate::oracle_dir(test, "cargo test -p landfall --test it oracle")
}

/// A throw-away Capgo project: the oracle's package.json + capacitor.config.json (with
/// `publicKey` when given, so `bundle encrypt` does not write one), its node_modules symlinked.
pub fn temp_project(oracle: &Path, public_pem: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(oracle.join("package.json"), dir.path().join("package.json"))
        .expect("copy package.json from the oracle dir");
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(oracle.join("capacitor.config.json")).unwrap())
            .expect("the oracle's capacitor.config.json is JSON");
    if let Some(pem) = public_pem {
        config["plugins"]["CapacitorUpdater"]["publicKey"] = pem.into();
    }
    std::fs::write(
        dir.path().join("capacitor.config.json"),
        serde_json::to_vec_pretty(&config).unwrap(),
    )
    .unwrap();
    std::os::unix::fs::symlink(oracle.join("node_modules"), dir.path().join("node_modules"))
        .expect("symlink node_modules");
    dir
}

/// Runs `node <@capgo/cli> args…` in `cwd`: no stdin, telemetry off, `CI=true`, killed after
/// [`CLI_TIMEOUT`].
pub fn capgo(oracle: &Path, cwd: &Path, args: &[&str]) -> Run {
    let out_path = cwd.join(".capgo-stdout");
    let err_path = cwd.join(".capgo-stderr");
    let mut child = Command::new("node")
        .arg(cli_js(oracle))
        .args(args)
        .current_dir(cwd)
        .env("CAPGO_DISABLE_TELEMETRY", "1")
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("cannot run node (is Node.js installed?)");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > CLI_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("capgo {args:?} did not finish within {CLI_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// The JSON object a Capgo CLI run printed (it may print other lines around it).
pub fn capgo_json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "capgo failed: {r:#?}");
    let text = r.stdout.trim();
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        panic!("no JSON in capgo's output: {r:#?}");
    };
    serde_json::from_str(&text[start..=end])
        .unwrap_or_else(|e| panic!("bad JSON in capgo's output ({e}): {r:#?}"))
}

/// `capgo bundle zip` of a copy of the vectors' `dist` in `project`; returns (zip path, sha256).
pub fn capgo_zip(oracle: &Path, project: &Path, version: &str) -> (PathBuf, String) {
    let webapp = project.join("webapp");
    for (rel, data) in landfall_crypto::walk_dir(&vectors_dir().join("dist")).unwrap() {
        let dest = webapp.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, data).unwrap();
    }
    let r = capgo(
        oracle,
        project,
        &[
            "bundle",
            "zip",
            "com.example.capgovector",
            "--bundle",
            version,
            "--name",
            "bundle.zip",
            "--path",
            "webapp",
            "--json",
        ],
    );
    let body = capgo_json(&r);
    let zip = project.join("bundle.zip");
    let sha = body["checksum"].as_str().unwrap().to_owned();
    assert_eq!(
        sha,
        landfall_crypto::sha256_hex(&std::fs::read(&zip).unwrap()),
        "capgo bundle zip: checksum is the zip's sha256"
    );
    (zip, sha)
}

/// `capgo bundle encrypt <zip> <sha> --key <private> --json` → (encrypted path, ivSessionKey,
/// checksum).
pub fn capgo_encrypt(
    oracle: &Path,
    project: &Path,
    zip: &Path,
    sha: &str,
    private_key: &Path,
) -> (PathBuf, String, String) {
    let r = capgo(
        oracle,
        project,
        &[
            "bundle",
            "encrypt",
            zip.to_str().unwrap(),
            sha,
            "--key",
            private_key.to_str().unwrap(),
            "--json",
        ],
    );
    let body = capgo_json(&r);
    let checksum = body["checksum"].as_str().unwrap().to_owned();
    assert_eq!(checksum.len(), 512, "V3 checksum expected: {r:#?}");
    let file = PathBuf::from(body["filename"].as_str().unwrap());
    let file = if file.is_absolute() {
        file
    } else {
        project.join(file)
    };
    (
        file,
        body["ivSessionKey"].as_str().unwrap().to_owned(),
        checksum,
    )
}

/// A fresh key pair from `landfall key create` in `dir/keys`: (private path, public path, pem).
fn landfall_keys(dir: &Path) -> (PathBuf, PathBuf, String) {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    run(landfall().args(["key", "create"]).current_dir(&keys)).ok();
    let public = keys.join(".capgo_key_v2.pub");
    let pem = std::fs::read_to_string(&public).unwrap();
    (keys.join(".capgo_key_v2"), public, pem)
}

/// A bundle zip bigger than one 1 MiB encryption chunk (index.html + 2.5 MB of random bytes).
fn multi_chunk_zip(path: &Path) -> Vec<u8> {
    use rand::RngCore;
    use std::io::Write;
    let mut random = vec![0u8; 2_500_000];
    rand::thread_rng().fill_bytes(&mut random);
    let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("index.html", stored).unwrap();
    zip.write_all(b"<html><script src=\"app.js\"></script></html>")
        .unwrap();
    zip.start_file("app.js", stored).unwrap();
    zip.write_all(b"notifyAppReady()").unwrap();
    zip.start_file("assets/random.bin", stored).unwrap();
    zip.write_all(&random).unwrap();
    zip.finish().unwrap();
    std::fs::read(path).unwrap()
}

/// Ours → theirs: `landfall bundle encrypt` output passes `capgo bundle decrypt --checksum`.
#[test]
fn capgo_cli_decrypts_landfall_bundle_encrypt_output() {
    let Some(oracle) = oracle_dir("capgo_cli_decrypts_landfall_bundle_encrypt_output") else {
        return;
    };
    let project = temp_project(&oracle, None);
    let p = project.path();
    let (private, public, _) = landfall_keys(p);
    let mut zips = vec![(
        "vectors.zip",
        std::fs::read(vectors_dir().join("bundle-1.0.1.zip")).unwrap(),
    )];
    std::fs::write(p.join("vectors.zip"), &zips[0].1).unwrap();
    zips.push(("big.zip", multi_chunk_zip(&p.join("big.zip"))));

    for (name, plain) in &zips {
        let r = run(landfall()
            .args(["bundle", "encrypt", name, "--key"])
            .arg(&private)
            .arg("--json")
            .current_dir(p))
        .ok();
        let ours = r.json();
        let enc = ours["filename"].as_str().unwrap();
        assert_eq!(enc, format!("{name}_encrypted.zip"));
        let r = capgo(
            &oracle,
            p,
            &[
                "bundle",
                "decrypt",
                enc,
                ours["ivSessionKey"].as_str().unwrap(),
                "--checksum",
                ours["checksum"].as_str().unwrap(),
                "--key",
                public.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "capgo bundle decrypt refused {name}: {r:#?}");
        assert!(
            format!("{}{}", r.stdout, r.stderr).contains("Checksum matches"),
            "{r:#?}"
        );
        let decrypted = std::fs::read(p.join(format!("{enc}_decrypted.zip"))).unwrap();
        assert!(decrypted == *plain, "{name}: capgo's decryption differs");
    }

    // The oracle can say no: our ciphertext with a checksum signed over other bytes.
    let signer =
        landfall_crypto::SigningKey::from_pem(&std::fs::read_to_string(&private).unwrap()).unwrap();
    let other = landfall_crypto::sign_checksum(&signer, &landfall_crypto::sha256(b"x")).unwrap();
    let r = run(landfall()
        .args(["bundle", "encrypt", "vectors.zip", "--key"])
        .arg(&private)
        .arg("--json")
        .current_dir(p))
    .ok();
    let ours = r.json();
    let r = capgo(
        &oracle,
        p,
        &[
            "bundle",
            "decrypt",
            ours["filename"].as_str().unwrap(),
            ours["ivSessionKey"].as_str().unwrap(),
            "--checksum",
            &other,
            "--key",
            public.to_str().unwrap(),
        ],
    );
    assert_ne!(r.code, 0, "capgo accepted a wrong checksum: {r:#?}");
}

/// Theirs → ours: `capgo bundle zip` + `capgo bundle encrypt` (with a landfall key) decrypt with
/// `landfall bundle decrypt --checksum` to the exact zip.
#[test]
fn landfall_decrypts_capgo_bundle_encrypt_output() {
    let Some(oracle) = oracle_dir("landfall_decrypts_capgo_bundle_encrypt_output") else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let (private, public, public_pem) = landfall_keys(keys.path());
    let project = temp_project(&oracle, Some(&public_pem));
    let p = project.path();
    let (zip, sha) = capgo_zip(&oracle, p, "1.0.1");
    let (enc, session_key, checksum) = capgo_encrypt(&oracle, p, &zip, &sha, &private);

    let r = run(landfall()
        .args(["bundle", "decrypt"])
        .arg(&enc)
        .arg(&session_key)
        .arg("--key")
        .arg(&public)
        .args(["--checksum", &checksum])
        .current_dir(p))
    .ok();
    assert!(r.stdout.contains("Checksum matches"), "{r:#?}");
    let decrypted = std::fs::read(format!("{}_decrypted.zip", enc.display())).unwrap();
    assert!(
        decrypted == std::fs::read(&zip).unwrap(),
        "decrypted bytes differ from capgo's zip"
    );

    // --json, and the plain sha256 from `capgo bundle zip --json` works as --checksum too.
    let r = run(landfall()
        .args(["bundle", "decrypt"])
        .arg(&enc)
        .arg(&session_key)
        .arg("--key")
        .arg(&public)
        .args(["--checksum", &sha, "--json"])
        .current_dir(p))
    .ok();
    let body = r.json();
    assert_eq!(body["checksumMatches"], true, "{body}");
    assert_eq!(body["sha256"], sha.as_str(), "{body}");
}
