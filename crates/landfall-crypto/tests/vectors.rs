//! Byte-exact and decryption tests against the vectors produced by the real @capgo/cli 8.68.1.

mod common;

use common::*;
use landfall_crypto::{
    build_manifest, capacitor_config_snippet, decrypt_bytes, decrypt_stream, encrypt_bytes,
    encrypt_stream, key_id, sha256, sha256_hex, sign_checksum, verify_encrypted_bundle,
    verify_manifest_file, walk_dir, SessionKey,
};

const MAX_OUT: u64 = 10 << 20;

fn fixed_session() -> SessionKey {
    SessionKey::new(hex16("fixed/aes_key.hex"), hex16("fixed/aes_iv.hex"))
}

#[test]
fn fixed_session_key_is_reproduced_exactly() {
    let wire = fixed_session().to_wire(&vector_signing_key()).unwrap();
    assert_eq!(wire, read_text("fixed/session_key.txt").trim());
}

#[test]
fn fixed_ciphertext_is_reproduced_exactly() {
    let zip = read("bundle-1.0.1.zip");
    let expected = read("fixed/bundle-1.0.1.fixed_encrypted.zip");
    assert_eq!(encrypt_bytes(&fixed_session(), &zip), expected);

    let mut streamed = Vec::new();
    let n = encrypt_stream(&fixed_session(), &zip[..], &mut streamed).unwrap();
    assert_eq!(n, expected.len() as u64);
    assert_eq!(streamed, expected);
    assert!(
        sha256_hex(&expected).starts_with("a5460d24"),
        "sanity: README names this hash prefix"
    );
}

#[test]
fn fixed_checksum_is_reproduced_exactly() {
    let zip = read("bundle-1.0.1.zip");
    let signed = sign_checksum(&vector_signing_key(), &sha256(&zip)).unwrap();
    assert_eq!(signed, read_text("fixed/checksum_encrypted_hex.txt").trim());
    // RSA type 1 is deterministic, so it also equals the CLI's own output.
    assert_eq!(signed, json_str(&read_json("encrypt.json"), "checksum"));
}

#[test]
fn fixed_vector_decrypts_and_verifies() {
    let vk = vector_verifying_key();
    let session = vk
        .open_session_key(&read_text("fixed/session_key.txt"))
        .unwrap();
    assert_eq!(session, fixed_session());
    let mut plain = Vec::new();
    let digest = verify_encrypted_bundle(
        &vk,
        &read_text("fixed/session_key.txt"),
        &read_text("fixed/checksum_encrypted_hex.txt"),
        &read("fixed/bundle-1.0.1.fixed_encrypted.zip")[..],
        &mut plain,
    )
    .unwrap();
    assert_eq!(plain, read("bundle-1.0.1.zip"));
    assert_eq!(digest, sha256(&plain));
}

#[test]
fn cli_encrypted_bundle_decrypts_to_the_zip() {
    let vk = vector_verifying_key();
    let enc = read_json("encrypt.json");
    let session = vk.open_session_key(json_str(&enc, "ivSessionKey")).unwrap();
    let ciphertext = read("bundle-1.0.1.zip_encrypted.zip");
    let zip = read("bundle-1.0.1.zip");

    let mut plain = Vec::new();
    let n = decrypt_stream(&session, &ciphertext[..], &mut plain).unwrap();
    assert_eq!(n, zip.len() as u64);
    assert_eq!(plain, zip);
    assert_eq!(plain, read("bundle-1.0.1.zip_encrypted.zip_decrypted.zip"));

    let recovered = vk.recover_checksum(json_str(&enc, "checksum")).unwrap();
    assert_eq!(recovered, sha256(&zip));
    assert_eq!(
        hex::encode(recovered),
        json_str(&read_json("zip.json"), "checksum")
    );

    let mut out = Vec::new();
    let digest = verify_encrypted_bundle(
        &vk,
        json_str(&enc, "ivSessionKey"),
        json_str(&enc, "checksum"),
        &ciphertext[..],
        &mut out,
    )
    .unwrap();
    assert_eq!(digest, sha256(&zip));
    assert_eq!(out, zip);
}

#[test]
fn openssl_roundtrip_vector_decrypts() {
    let vk = vector_verifying_key();
    let wire = read_text("openssl_roundtrip/session_key.txt");
    let session = vk.open_session_key(&wire).unwrap();
    let ciphertext = read("openssl_roundtrip/bundle-1.0.1.openssl_encrypted.zip");
    let zip = read("bundle-1.0.1.zip");
    assert_eq!(decrypt_bytes(&session, &ciphertext).unwrap(), zip);
    let checksum = read_text("openssl_roundtrip/checksum_encrypted_hex.txt");
    assert_eq!(vk.recover_checksum(&checksum).unwrap(), sha256(&zip));
    // Re-encrypting with the recovered key reproduces OpenSSL's bytes.
    assert_eq!(encrypt_bytes(&session, &zip), ciphertext);
    assert_eq!(session.to_wire(&vector_signing_key()).unwrap(), wire.trim());
}

#[test]
fn vector_key_id_and_pems() {
    let pub_pem = read_text(".capgo_key_v2.pub");
    assert_eq!(key_id(&pub_pem), "MIIBCgKCAQEAz/N5YWbf");
    let sk = vector_signing_key();
    assert_eq!(sk.key_id(), "MIIBCgKCAQEAz/N5YWbf");
    assert_eq!(vector_verifying_key().key_id(), "MIIBCgKCAQEAz/N5YWbf");
    // Derived public PEM and re-encoded private PEM are byte-identical to the CLI's files.
    assert_eq!(sk.public_pem(), pub_pem);
    assert_eq!(sk.private_pem().unwrap(), read_text(".capgo_key_v2"));
    assert_eq!(vector_verifying_key().public_pem(), pub_pem);
    assert_eq!(sk.verifying_key(), &vector_verifying_key());
}

#[test]
fn config_snippet_matches_the_cli_config() {
    let pub_pem = read_text(".capgo_key_v2.pub");
    let snippet = capacitor_config_snippet(&pub_pem);
    let parsed: serde_json::Value = serde_json::from_str(&snippet).unwrap();
    let cli_config = read_json("capacitor.config.json");
    assert_eq!(
        parsed["plugins"]["CapacitorUpdater"]["publicKey"],
        cli_config["plugins"]["CapacitorUpdater"]["publicKey"]
    );
    assert!(snippet.contains("\\n"), "line breaks are JSON escapes");
}

fn manifest_entries(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    json["files"]
        .as_array()
        .expect("files array")
        .iter()
        .collect()
}

#[test]
fn encrypted_manifest_vectors_verify() {
    let vk = vector_verifying_key();
    let m = read_json("manifest.json");
    let session = vk.open_session_key(json_str(&m, "session_key")).unwrap();
    let entries = manifest_entries(&m);
    assert_eq!(entries.len(), 3);
    for e in entries {
        let name = json_str(e, "file_name");
        let stored = read(json_str(e, "blob"));
        assert_eq!(stored.len() as u64, e["stored_size"].as_u64().unwrap());
        let original = verify_manifest_file(
            name,
            &stored,
            json_str(e, "file_hash"),
            Some((&session, &vk)),
            MAX_OUT,
        )
        .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(original.len() as u64, e["plain_size"].as_u64().unwrap());
        assert_eq!(sha256_hex(&original), json_str(e, "file_hash_plain_sha256"));
        let real = name.strip_suffix(".br").unwrap_or(name);
        assert_eq!(original, read(&format!("dist/{real}")), "{name}");
    }
}

#[test]
fn plain_manifest_vectors_verify() {
    let m = read_json("manifest_plain.json");
    assert_eq!(json_str(&m, "session_key"), "");
    for e in manifest_entries(&m) {
        let name = json_str(e, "file_name");
        let original = verify_manifest_file(
            name,
            &read(json_str(e, "blob")),
            json_str(e, "file_hash"),
            None,
            MAX_OUT,
        )
        .unwrap_or_else(|err| panic!("{name}: {err}"));
        let real = name.strip_suffix(".br").unwrap_or(name);
        assert_eq!(original, read(&format!("dist/{real}")), "{name}");
    }
}

#[test]
fn walk_dir_lists_the_dist_folder() {
    let files = walk_dir(&vectors_dir().join("dist")).unwrap();
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["assets/app.js", "assets/big.js", "index.html"]);
    assert_eq!(files[1].1.len(), 15781);
}

#[test]
fn build_manifest_plain_matches_the_vectors() {
    let files = walk_dir(&vectors_dir().join("dist")).unwrap();
    let built = build_manifest(files, None).unwrap();
    let m = read_json("manifest_plain.json");
    let expected = manifest_entries(&m);
    let names: Vec<&str> = built.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(names, ["assets/app.js", "assets/big.js.br", "index.html"]);
    for (ours, theirs) in built.iter().zip(expected) {
        assert_eq!(ours.file_name, json_str(theirs, "file_name"));
        assert_eq!(ours.file_hash, json_str(theirs, "file_hash"));
        assert_eq!(ours.plain_sha256, json_str(theirs, "file_hash"));
        assert_eq!(ours.plain_size, theirs["plain_size"].as_u64().unwrap());
        assert_eq!(ours.compressed, ours.file_name.ends_with(".br"));
        // rust-brotli at quality 11 / window 22 emits the same bytes as Node's zlib brotli, so
        // even the compressed blob is identical (a failure here after a brotli upgrade is a
        // compatibility signal, not necessarily a bug: devices only need it to decompress).
        assert_eq!(ours.stored, read(json_str(theirs, "blob")), "{}", ours.path);
        let back = verify_manifest_file(
            &ours.file_name,
            &ours.stored,
            &ours.file_hash,
            None,
            MAX_OUT,
        )
        .unwrap();
        assert_eq!(back, read(&format!("dist/{}", ours.path)));
    }
}

#[test]
fn build_manifest_encrypted_matches_the_vectors() {
    let vk = vector_verifying_key();
    let sk = vector_signing_key();
    let m = read_json("manifest.json");
    // The vectors reuse encrypt.json's session key; recover it to rebuild deterministically.
    let session = vk.open_session_key(json_str(&m, "session_key")).unwrap();
    let files = walk_dir(&vectors_dir().join("dist")).unwrap();
    let built = build_manifest(files, Some((&session, &sk))).unwrap();
    let expected = manifest_entries(&m);
    assert_eq!(built.len(), expected.len());
    for (ours, theirs) in built.iter().zip(expected) {
        assert_eq!(ours.file_name, json_str(theirs, "file_name"));
        // Signed hashes are deterministic: identical to the vector's.
        assert_eq!(ours.file_hash, json_str(theirs, "file_hash"));
        assert_eq!(
            ours.plain_sha256,
            json_str(theirs, "file_hash_plain_sha256")
        );
        // Same session key and identical brotli output: the encrypted blobs are identical too.
        assert_eq!(ours.stored, read(json_str(theirs, "blob")), "{}", ours.path);
        let back = verify_manifest_file(
            &ours.file_name,
            &ours.stored,
            &ours.file_hash,
            Some((&session, &vk)),
            MAX_OUT,
        )
        .unwrap();
        assert_eq!(back, read(&format!("dist/{}", ours.path)));
    }
}
