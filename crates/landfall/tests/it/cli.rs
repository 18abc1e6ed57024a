//! The CLI without a server: keys, usage errors, connection errors.

use crate::support::{landfall, refused_addr, run, run_cli};

/// The subcommands of `landfall`, with a word of their `--help` description.
const SUBCOMMANDS: [(&str, &str); 13] = [
    ("serve", "Run the update server"),
    ("app", "Manage apps"),
    ("bundle", "Upload, list and delete bundles"),
    ("channel", "Manage channels"),
    ("device", "Inspect devices"),
    ("token", "Manage admin API tokens"),
    ("user", "Manage people who sign in"),
    ("key", "Bundle-signing keys"),
    ("audit", "content-change audit log"),
    ("stats", "Release metrics"),
    ("status", "Check that the server answers"),
    ("icp", "ICP filing"),
    ("migrate", "Run the database migrations"),
];

#[test]
fn help_lists_every_subcommand_and_version_is_the_crate_version() {
    let r = run(landfall().arg("--help"));
    assert_eq!(r.code, 0, "{r:#?}");
    // The "Commands:" section lists each subcommand at the start of a line, with its summary.
    let commands: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    for (name, summary) in SUBCOMMANDS {
        assert!(
            commands.iter().any(|l| {
                let mut words = l.split_whitespace();
                words.next() == Some(name) && l.contains(summary)
            }),
            "--help lacks `{name}  {summary}…` in its Commands section:\n{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("--json"), "{}", r.stdout);

    // `--version` prints the version Cargo built, nothing else.
    let r = run(landfall().arg("--version"));
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        r.stdout.trim_end(),
        format!("landfall {}", env!("CARGO_PKG_VERSION"))
    );
    // Each subcommand has its own help.
    for (name, _) in SUBCOMMANDS {
        let r = run(landfall().args([name, "--help"]));
        assert_eq!(r.code, 0, "{name} --help: {r:#?}");
        assert!(
            r.stdout.contains(&format!("Usage: landfall {name}")),
            "{name} --help: {}",
            r.stdout
        );
    }
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
    let (_reserved, addr) = refused_addr();
    let url = format!("http://{addr}");
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
    let (_reserved, addr) = refused_addr();
    let url = format!("http://{addr}");
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

/// `bundle encrypt` / `bundle decrypt` offline: round trip, Capgo's JSON shape, the vectors'
/// Capgo-encrypted zip, and every failure with a message that says what to do.
#[test]
fn bundle_encrypt_and_decrypt_offline() {
    let vectors = crate::support::vectors_dir();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cli = |args: &[&str]| run(landfall().args(args).current_dir(d));
    let zip = std::fs::read(vectors.join("bundle-1.0.1.zip")).unwrap();
    std::fs::write(d.join("bundle.zip"), &zip).unwrap();
    std::fs::create_dir(d.join("keys")).unwrap();
    cli(&["key", "create", "--dir", "keys"]).ok();
    let public_pem = std::fs::read_to_string(d.join("keys/.capgo_key_v2.pub")).unwrap();
    let verifier = landfall_crypto::VerifyingKey::from_pem(&public_pem).unwrap();

    // Encrypt: `capgo bundle encrypt --json`'s three keys, in its order.
    let r = cli(&[
        "bundle",
        "encrypt",
        "bundle.zip",
        "--key",
        "keys/.capgo_key_v2",
        "--json",
    ])
    .ok();
    assert!(
        r.stdout.trim_start().starts_with("{\n  \"checksum\": "),
        "{r:#?}"
    );
    let body = r.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["checksum", "filename", "ivSessionKey"], "{body}");
    assert_eq!(body["filename"], "bundle.zip_encrypted.zip");
    let session_key = body["ivSessionKey"].as_str().unwrap().to_owned();
    let checksum = body["checksum"].as_str().unwrap().to_owned();
    assert_eq!(checksum.len(), 512, "{body}");
    let cipher = std::fs::read(d.join("bundle.zip_encrypted.zip")).unwrap();
    assert_eq!(
        cipher.len() as u64,
        landfall_crypto::ciphertext_len(zip.len() as u64)
    );
    let mut plain = Vec::new();
    landfall_crypto::verify_encrypted_bundle(
        &verifier,
        &session_key,
        &checksum,
        &cipher[..],
        &mut plain,
    )
    .unwrap();
    assert_eq!(plain, zip);

    // The sha256 argument of `capgo bundle encrypt` is checked when given.
    let sha = landfall_crypto::sha256_hex(&zip);
    cli(&[
        "bundle",
        "encrypt",
        "bundle.zip",
        &sha,
        "--key",
        "keys/.capgo_key_v2",
    ])
    .ok();
    let wrong_sha = format!(
        "{}{}",
        if sha.starts_with('0') { "1" } else { "0" },
        &sha[1..]
    );
    let r = cli(&[
        "bundle",
        "encrypt",
        "bundle.zip",
        &wrong_sha,
        "--key",
        "keys/.capgo_key_v2",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains(&sha) && r.stderr.contains(&wrong_sha),
        "{r:#?}"
    );

    // Decrypt with the signed checksum (the human output is the Capgo CLI's wording).
    std::fs::write(d.join("bundle.zip_encrypted.zip"), &cipher).unwrap();
    let decrypted = d.join("bundle.zip_encrypted.zip_decrypted.zip");
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
        "--key",
        "keys/.capgo_key_v2.pub",
        "--checksum",
        &checksum,
    ])
    .ok();
    assert!(r.stdout.contains("Checksum matches"), "{r:#?}");
    assert_eq!(std::fs::read(&decrypted).unwrap(), zip);

    // A checksum signed over other bytes: exit 1, a clear message, nothing written.
    std::fs::remove_file(&decrypted).unwrap();
    let signer = landfall_crypto::SigningKey::from_pem(
        &std::fs::read_to_string(d.join("keys/.capgo_key_v2")).unwrap(),
    )
    .unwrap();
    let other = landfall_crypto::sign_checksum(&signer, &landfall_crypto::sha256(b"x")).unwrap();
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
        "--key",
        "keys/.capgo_key_v2.pub",
        "--checksum",
        &other,
        "--json",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert_eq!(r.json()["error"], "checksum_mismatch", "{r:#?}");
    assert!(r.stderr.contains("Checksum does not match"), "{r:#?}");
    assert!(!decrypted.exists(), "a mismatching zip was written");

    // The public key of another pair cannot open the session key.
    std::fs::create_dir(d.join("other")).unwrap();
    cli(&["key", "create", "--dir", "other"]).ok();
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
        "--key",
        "other/.capgo_key_v2.pub",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr
            .contains("not made with the private key matching this public key"),
        "{r:#?}"
    );

    // PKCS#8 / SPKI keys: the error names the openssl conversion.
    std::fs::write(
        d.join("pkcs8.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let r = cli(&["bundle", "encrypt", "bundle.zip", "--key", "pkcs8.pem"]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("PKCS#8") && r.stderr.contains("openssl rsa -in key.pem -traditional"),
        "{r:#?}"
    );
    std::fs::write(
        d.join("spki.pem"),
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
        "--key",
        "spki.pem",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("SPKI") && r.stderr.contains("-RSAPublicKey_out"),
        "{r:#?}"
    );

    // Missing files.
    let r = cli(&[
        "bundle",
        "encrypt",
        "nope.zip",
        "--key",
        "keys/.capgo_key_v2",
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stderr.contains("cannot read nope.zip"), "{r:#?}");
    let r = cli(&["bundle", "encrypt", "bundle.zip"]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains(".capgo_key_v2") && r.stderr.contains("landfall key create"),
        "{r:#?}"
    );
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
    ]);
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stderr.contains("--key"), "{r:#?}");

    // Without --key: ./.capgo_key_v2.pub, like the Capgo CLI.
    std::fs::copy(
        d.join("keys/.capgo_key_v2.pub"),
        d.join(".capgo_key_v2.pub"),
    )
    .unwrap();
    let r = cli(&[
        "bundle",
        "decrypt",
        "bundle.zip_encrypted.zip",
        &session_key,
        "--checksum",
        &checksum,
        "--json",
    ])
    .ok();
    let body = r.json();
    assert_eq!(body["checksumMatches"], true, "{body}");
    assert_eq!(body["sha256"], sha.as_str(), "{body}");

    // The Capgo CLI's own output (the vectors) decrypts and verifies.
    let encrypt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors.join("encrypt.json")).unwrap())
            .unwrap();
    std::fs::copy(
        vectors.join("bundle-1.0.1.zip_encrypted.zip"),
        d.join("capgo.zip_encrypted.zip"),
    )
    .unwrap();
    let public = vectors.join(".capgo_key_v2.pub");
    let r = cli(&[
        "bundle",
        "decrypt",
        "capgo.zip_encrypted.zip",
        encrypt["ivSessionKey"].as_str().unwrap(),
        "--key",
        public.to_str().unwrap(),
        "--checksum",
        encrypt["checksum"].as_str().unwrap(),
    ])
    .ok();
    assert!(r.stdout.contains("Checksum matches"), "{r:#?}");
    assert_eq!(
        std::fs::read(d.join("capgo.zip_encrypted.zip_decrypted.zip")).unwrap(),
        zip
    );
}

#[tokio::test]
async fn migrate_prints_the_schema_version_and_refuses_a_newer_database() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let dir_arg = dir.to_str().unwrap();
    let r = run(landfall().args(["migrate", "--data-dir", dir_arg, "--json"])).ok();
    let version = r.json()["schema_version"].as_i64().unwrap();
    assert!(version >= 4, "{r:#?}");
    let url = format!("sqlite://{}", dir.join("landfall.db").display());
    let r = run(landfall().args(["migrate", "--database", &url])).ok();
    assert_eq!(r.stdout.trim(), format!("{url}: schema version {version}"));

    // A migration this binary does not know, as a newer Landfall would leave it.
    {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("landfall.db"))
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?, 'from the future', TRUE, x'00', 0)",
        )
        .bind(version + 1)
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let newer = format!(
        "newer Landfall (version {} > {version}); upgrade the binary",
        version + 1
    );
    let r = run(landfall().args(["migrate", "--data-dir", dir_arg]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stderr.contains(&newer), "{r:#?}");
    let r = run(landfall().args(["serve", "--listen", "127.0.0.1:0", "--data-dir", dir_arg]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stderr.contains(&newer), "{r:#?}");
}

#[test]
fn an_unsupported_database_url_is_refused_without_echoing_it() {
    let root = tempfile::tempdir().unwrap();
    let r = run(landfall()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(root.path())
        .args(["--database", "mysql://root:hunter2-secret@db/landfall"]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("sqlite://<path>") && r.stderr.contains("postgres://"),
        "{r:#?}"
    );
    assert!(!r.stderr.contains("hunter2-secret"), "{r:#?}");
    assert!(!root.path().join("landfall.db").exists());
}
