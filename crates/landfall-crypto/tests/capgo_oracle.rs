//! Cross-checks against the real Capgo CLI (@capgo/cli 8.68.1), in both directions.
//!
//! Opt-in: prepare a directory with `scripts/setup-capgo-oracle.sh DIR`, then run
//! `LANDFALL_CAPGO_ORACLE=DIR cargo test -p landfall-crypto --test capgo_oracle`.
//! When the variable is set, every check must pass; when unset, the tests fail in CI (`CI` set)
//! and print a `SKIPPED` line on stderr elsewhere.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use landfall_crypto::{
    build_manifest, encrypt_stream, generate_keypair, sha256, sha256_hex, sign_checksum,
    verify_encrypted_bundle, walk_dir, KeyPair, SessionKey, SigningKey, VerifyingKey,
};

#[path = "common/oracle_gate.rs"]
mod oracle_gate;
use oracle_gate::cli_js;

const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// The oracle directory, `None` outside CI when it is not configured (see `oracle_gate`: in CI a
/// missing oracle fails the test).
fn oracle_dir(test: &str) -> Option<PathBuf> {
    oracle_gate::oracle_dir(test, "cargo test -p landfall-crypto --test capgo_oracle")
}

/// A throw-away Capgo project: the oracle's package.json + capacitor.config.json, its
/// node_modules symlinked, optionally with `publicKey` set.
fn temp_project(oracle: &Path, public_pem: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(oracle.join("package.json"), dir.path().join("package.json"))
        .expect("copy package.json from the oracle dir");
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oracle.join("capacitor.config.json")).unwrap())
            .expect("oracle capacitor.config.json is JSON");
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

struct CliOutput {
    success: bool,
    stdout: String,
    combined: String,
}

/// Runs `node <cli> args…` in `cwd` with no stdin, telemetry off, killed after 60 s.
fn run_cli(oracle: &Path, cwd: &Path, args: &[&str]) -> CliOutput {
    let out_path = cwd.join(".cli-stdout");
    let err_path = cwd.join(".cli-stderr");
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
        .expect("spawn node (is Node.js installed?)");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if start.elapsed() > CLI_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("capgo {args:?} did not finish within {CLI_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    CliOutput {
        success: status.success(),
        combined: format!("{stdout}\n{stderr}"),
        stdout,
    }
}

fn parse_json_output(out: &CliOutput) -> serde_json::Value {
    let text = out.stdout.trim();
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        panic!("no JSON in CLI output:\n{}", out.combined);
    };
    serde_json::from_str(&text[start..=end])
        .unwrap_or_else(|e| panic!("bad JSON in CLI output ({e}):\n{}", out.combined))
}

fn fresh_keys() -> (KeyPair, SigningKey, VerifyingKey) {
    let pair = generate_keypair().unwrap();
    let sk = SigningKey::from_pem(&pair.private_pem).unwrap();
    let vk = VerifyingKey::from_pem(&pair.public_pem).unwrap();
    (pair, sk, vk)
}

/// Has the CLI decrypt `enc` with our session key + signed checksum; returns the plaintext.
fn cli_decrypt(
    oracle: &Path,
    project: &Path,
    enc_name: &str,
    session_wire: &str,
    signed: &str,
) -> (CliOutput, Option<Vec<u8>>) {
    let out = run_cli(
        oracle,
        project,
        &[
            "bundle",
            "decrypt",
            enc_name,
            session_wire,
            "--checksum",
            signed,
            "--key",
            "key.pub",
        ],
    );
    let decrypted = std::fs::read(project.join(format!("{enc_name}_decrypted.zip"))).ok();
    (out, decrypted)
}

#[test]
fn ours_to_theirs_cli_decrypts_our_output() {
    let Some(oracle) = oracle_dir("ours_to_theirs_cli_decrypts_our_output") else {
        return;
    };
    let (pair, sk, _) = fresh_keys();
    let project = temp_project(&oracle, Some(&pair.public_pem));
    let p = project.path();
    std::fs::write(p.join("key.pub"), &pair.public_pem).unwrap();

    // Whole bundle, encrypted with the streaming API.
    let zip = read("bundle-1.0.1.zip");
    let session = SessionKey::random();
    let mut enc = File::create(p.join("bundle.enc")).unwrap();
    encrypt_stream(&session, &zip[..], &mut enc).unwrap();
    drop(enc);
    let wire = session.to_wire(&sk).unwrap();
    let signed = sign_checksum(&sk, &sha256(&zip)).unwrap();
    let (out, decrypted) = cli_decrypt(&oracle, p, "bundle.enc", &wire, &signed);
    assert!(
        out.success,
        "capgo bundle decrypt failed:\n{}",
        out.combined
    );
    assert!(
        out.combined.contains("Checksum matches"),
        "no 'Checksum matches':\n{}",
        out.combined
    );
    assert_eq!(
        decrypted.as_deref(),
        Some(&zip[..]),
        "decrypted bytes differ"
    );

    // The oracle can fail: a checksum signed over other bytes is refused.
    let bad = sign_checksum(&sk, &sha256(b"not the zip")).unwrap();
    std::fs::copy(p.join("bundle.enc"), p.join("bundle2.enc")).unwrap();
    let (out, _) = cli_decrypt(&oracle, p, "bundle2.enc", &wire, &bad);
    assert!(
        !out.success && !out.combined.contains("Checksum matches"),
        "the CLI accepted a wrong checksum:\n{}",
        out.combined
    );

    // One encrypted delta file (not brotli), checked against its manifest file_hash.
    let files = walk_dir(&vectors_dir().join("dist")).unwrap();
    let manifest = build_manifest(files, Some((&session, &sk))).unwrap();
    let entry = manifest
        .iter()
        .find(|m| !m.compressed && m.path == "index.html")
        .expect("index.html is stored raw");
    std::fs::write(p.join("index.html.enc"), &entry.stored).unwrap();
    let (out, decrypted) = cli_decrypt(&oracle, p, "index.html.enc", &wire, &entry.file_hash);
    assert!(
        out.success,
        "capgo bundle decrypt (delta) failed:\n{}",
        out.combined
    );
    assert!(
        out.combined.contains("Checksum matches"),
        "{}",
        out.combined
    );
    assert_eq!(decrypted, Some(read("dist/index.html")));
}

#[test]
fn theirs_to_ours_we_verify_cli_output() {
    let Some(oracle) = oracle_dir("theirs_to_ours_we_verify_cli_output") else {
        return;
    };
    let (pair, _, vk) = fresh_keys();
    let project = temp_project(&oracle, None);
    let p = project.path();
    let key_path = p.join("our_key");
    std::fs::write(&key_path, &pair.private_pem).unwrap();
    for (rel, data) in walk_dir(&vectors_dir().join("dist")).unwrap() {
        let dest = p.join("webapp").join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, data).unwrap();
    }

    let out = run_cli(
        &oracle,
        p,
        &[
            "bundle",
            "zip",
            "com.example.capgovector",
            "--bundle",
            "1.0.1",
            "--name",
            "bundle.zip",
            "--path",
            "webapp",
            "--json",
        ],
    );
    assert!(out.success, "capgo bundle zip failed:\n{}", out.combined);
    let zip_json = parse_json_output(&out);
    let zip = std::fs::read(p.join("bundle.zip")).expect("zip written");
    let sha = json_str(&zip_json, "checksum").to_owned();
    assert_eq!(sha, sha256_hex(&zip), "CLI checksum is sha256 of the zip");

    let out = run_cli(
        &oracle,
        p,
        &[
            "bundle",
            "encrypt",
            "bundle.zip",
            &sha,
            "--key",
            key_path.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(
        out.success,
        "capgo bundle encrypt failed:\n{}",
        out.combined
    );
    let enc_json = parse_json_output(&out);
    let checksum = json_str(&enc_json, "checksum");
    assert_eq!(
        checksum.len(),
        512,
        "V3 checksum expected:\n{}",
        out.combined
    );
    let enc_file = File::open(p.join(json_str(&enc_json, "filename"))).expect("encrypted zip");
    let mut plain = Vec::new();
    let digest = verify_encrypted_bundle(
        &vk,
        json_str(&enc_json, "ivSessionKey"),
        checksum,
        enc_file,
        &mut plain,
    )
    .unwrap_or_else(|e| panic!("CLI output rejected: {e}"));
    assert_eq!(plain, zip);
    assert_eq!(hex::encode(digest), sha);
}
