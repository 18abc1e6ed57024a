//! Shared helpers for the integration tests: locating and reading the Capgo test vectors.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use landfall_crypto::{generate_keypair, KeyPair, SigningKey, VerifyingKey};

/// `shared/reference/capgo-vectors`, a sibling of the repository root.
pub fn vectors_dir() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/capgo-vectors");
    assert!(
        dir.join("README.txt").is_file(),
        "Capgo test vectors not found at {}; `shared/` must be a sibling of the repository root",
        dir.display()
    );
    dir
}

pub fn read(rel: &str) -> Vec<u8> {
    let path = vectors_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_text(rel: &str) -> String {
    String::from_utf8(read(rel)).unwrap_or_else(|e| panic!("{rel} is not UTF-8: {e}"))
}

pub fn read_json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

pub fn hex16(rel: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    hex::decode_to_slice(read_text(rel).trim(), &mut out).expect("16-byte hex file");
    out
}

pub fn vector_signing_key() -> SigningKey {
    SigningKey::from_pem(&read_text(".capgo_key_v2")).expect("vector private key parses")
}

pub fn vector_verifying_key() -> VerifyingKey {
    VerifyingKey::from_pem(&read_text(".capgo_key_v2.pub")).expect("vector public key parses")
}

/// A second, freshly generated key pair (generated once per test binary).
pub fn other_keypair() -> &'static KeyPair {
    static PAIR: OnceLock<KeyPair> = OnceLock::new();
    PAIR.get_or_init(|| generate_keypair().expect("key generation"))
}

pub fn json_str<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("JSON field {key} missing or not a string"))
}
