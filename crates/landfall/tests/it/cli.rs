//! The CLI without a server: keys, usage errors, connection errors.

use crate::support::{free_port, landfall, run, run_cli};

#[test]
fn help_and_version_exit_zero() {
    let r = run(landfall().arg("--help"));
    assert_eq!(r.code, 0, "{r:#?}");
    for word in [
        "serve", "app", "bundle", "channel", "device", "token", "key",
    ] {
        assert!(r.stdout.contains(word), "help lacks {word}: {}", r.stdout);
    }
    let r = run(landfall().arg("--version"));
    assert_eq!(r.code, 0, "{r:#?}");
    assert!(r.stdout.starts_with("landfall "), "{r:#?}");
}

#[test]
fn usage_errors_exit_two() {
    let r = run(landfall().args(["bundle", "upload", "com.example.app"]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.contains("--version"), "{r:#?}");

    let r = run(landfall().args([
        "channel",
        "set",
        "a.b",
        "c",
        "--bundle",
        "1",
        "--builtin",
        "--json",
    ]));
    assert_eq!(r.code, 2, "{r:#?}");
    assert_eq!(r.json()["error"], "usage", "{r:#?}");

    let r = run(landfall().args(["token", "create", "--name", "x", "--scope", "com.x:owner"]));
    assert_eq!(r.code, 2, "{r:#?}");
}

#[test]
fn unreachable_server_exits_six_with_a_hint() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let r = run_cli(&url, "some-secret-token", &["app", "list"]);
    assert_eq!(r.code, 6, "{r:#?}");
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{r:#?}");
    assert!(first.contains(&format!("cannot reach {url}")), "{r:#?}");
    assert!(first.contains("connection refused"), "{r:#?}");
    assert!(first.contains("landfall serve"), "{r:#?}");
    assert!(
        !r.stderr.contains("some-secret-token"),
        "token leaked: {r:#?}"
    );

    let r = run_cli(&url, "some-secret-token", &["app", "list", "--json"]);
    assert_eq!(r.code, 6, "{r:#?}");
    let body = r.json();
    assert_eq!(body["error"], "cannot_connect");
    assert!(body["message"].as_str().unwrap().contains("cannot reach"));
    assert!(
        !r.stdout.contains("some-secret-token"),
        "token leaked: {r:#?}"
    );
}

#[test]
fn upload_of_a_dir_without_index_html_fails_locally() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), "<html></html>").unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let path = dir.path().to_str().unwrap();
    let r = run_cli(
        &url,
        "t",
        &["bundle", "upload", "com.x.y", path, "--version", "1.0.0"],
    );
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("index.html must be at the root"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("www"), "{r:#?}");
}

#[cfg(unix)]
#[test]
fn key_create_writes_capgo_key_files() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let r = run(landfall().args(["key", "create"]).current_dir(dir.path()));
    assert_eq!(r.code, 0, "{r:#?}");
    let private = dir.path().join(".capgo_key_v2");
    let public = dir.path().join(".capgo_key_v2.pub");
    let private_pem = std::fs::read_to_string(&private).unwrap();
    let public_pem = std::fs::read_to_string(&public).unwrap();
    assert!(private_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(public_pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
    assert!(public_pem.ends_with("-----END RSA PUBLIC KEY-----\n"));
    let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key_id = landfall_crypto::key_id(&public_pem);
    assert!(key_id.starts_with("MIIBCgKCAQEA"), "{key_id}");
    assert!(r.stdout.contains(&key_id), "{r:#?}");
    assert!(r.stdout.contains("\"publicKey\""), "{r:#?}");
    assert!(r.stdout.contains("CapacitorUpdater"), "{r:#?}");
    // The key pair works with the signing code.
    let signer = landfall_crypto::SigningKey::from_pem(&private_pem).unwrap();
    assert_eq!(signer.public_pem(), public_pem);

    // Refuses to overwrite without --force, leaving the files alone.
    let r = run(landfall()
        .args(["key", "create", "--json"])
        .current_dir(dir.path()));
    assert_eq!(r.code, 4, "{r:#?}");
    assert_eq!(r.json()["error"], "key_exists");
    assert!(r.stderr.contains("--force"), "{r:#?}");
    assert_eq!(std::fs::read_to_string(&private).unwrap(), private_pem);

    let r = run(landfall()
        .args(["key", "create", "--force", "--json"])
        .current_dir(dir.path()));
    assert_eq!(r.code, 0, "{r:#?}");
    let body = r.json();
    let new_public = std::fs::read_to_string(&public).unwrap();
    assert_ne!(new_public, public_pem);
    assert_eq!(body["key_id"], landfall_crypto::key_id(&new_public));
    assert_eq!(
        body["capacitor_config"]["plugins"]["CapacitorUpdater"]["publicKey"],
        new_public.as_str()
    );
    let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
