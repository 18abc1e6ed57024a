//! Capgo-compatible cryptography for Landfall: RSA-2048 PKCS#1 keys, per-bundle AES-128-CBC
//! session keys, V3 signed checksums and delta (manifest) files, byte-compatible with
//! `@capgo/cli` 8.x and `@capgo/capacitor-updater` 8.x (see `capgo-protocol.md` §5-7).
//!
//! RSA is used in Capgo's unusual direction: the developer's *private* key "encrypts"
//! (PKCS#1 v1.5 block type 1, deterministic) the AES key and the SHA-256, and devices open them
//! with the *public* key. This gives authenticity, not confidentiality.
//!
//! Pure library: no network and no filesystem access except [`walk_dir`].
//!
//! ```
//! use landfall_crypto::{encrypt_bytes, sha256, sign_checksum, verify_encrypted_bundle,
//!                       generate_keypair, SessionKey, SigningKey, VerifyingKey};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pair = generate_keypair()?;
//! let signer = SigningKey::from_pem(&pair.private_pem)?;
//! let zip = b"PK... bundle bytes";
//! let session = SessionKey::random();
//! let encrypted = encrypt_bytes(&session, zip);
//! let session_key = session.to_wire(&signer)?;              // `session_key` in /updates
//! let checksum = sign_checksum(&signer, &sha256(zip))?;      // `checksum` in /updates
//!
//! let verifier = VerifyingKey::from_pem(&pair.public_pem)?;
//! let mut plain = Vec::new();
//! verify_encrypted_bundle(&verifier, &session_key, &checksum, &encrypted[..], &mut plain)?;
//! assert_eq!(plain, zip);
//! # Ok(()) }
//! ```

mod aes_cbc;
mod checksum;
mod error;
mod keys;
mod manifest;
pub mod release_log;
mod session;
mod verify;

pub use aes_cbc::{
    ciphertext_len, decrypt_bytes, decrypt_stream, encrypt_bytes, encrypt_stream, AES_BLOCK_LEN,
};
pub use checksum::{
    parse_sha256_hex, sha256, sha256_hex, sha256_reader, sign_checksum, Sha256Reader, Sha256Writer,
    SHA256_LEN, SIGNED_CHECKSUM_HEX_LEN,
};
pub use error::{BundleVerifyError, CryptoError, Result};
pub use keys::{
    capacitor_config_snippet, generate_keypair, key_id, KeyPair, SigningKey, VerifyingKey,
    KEY_ID_LEN, MAX_PRIVATE_ENCRYPT_LEN, PRIVATE_PEM_HEADER, PUBLIC_PEM_HEADER, RSA_BITS,
    RSA_BLOCK_LEN,
};
pub use manifest::{
    brotli_compress, brotli_decompress, build_manifest, manifest_target_path, should_skip_path,
    skip_reason, validate_bundle_path, verify_manifest_file, walk_dir, ManifestFile, SkipReason,
    BROTLI_LGWIN, BROTLI_MIN_GAIN, BROTLI_MIN_SIZE, BROTLI_QUALITY, BROTLI_SUFFIX,
};
pub use session::{SessionKey, AES_IV_LEN, AES_KEY_LEN};
pub use verify::verify_encrypted_bundle;
