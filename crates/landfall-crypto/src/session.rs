//! The per-bundle AES-128 session key and its wire form `base64(iv):base64(RSA(aes_key))`
//! (the CLI's `ivSessionKey`, the `/updates` response's `session_key`).

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;

use crate::error::{CryptoError, Result};
use crate::keys::{SigningKey, VerifyingKey};

/// AES-128 key length in bytes.
pub const AES_KEY_LEN: usize = 16;
/// AES-CBC IV length in bytes.
pub const AES_IV_LEN: usize = 16;

/// AES-128-CBC key + IV used to encrypt one bundle version (the zip and its delta files).
///
/// `Debug` redacts the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The AES-128 key.
    pub key: [u8; AES_KEY_LEN],
    /// The CBC initialisation vector (not prepended to ciphertexts; it travels in the wire form).
    pub iv: [u8; AES_IV_LEN],
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("key", &"<redacted>")
            .field("iv", &hex::encode(self.iv))
            .finish()
    }
}

impl SessionKey {
    /// Builds a session key from known bytes (tests, re-encrypting with an existing key).
    pub fn new(key: [u8; AES_KEY_LEN], iv: [u8; AES_IV_LEN]) -> Self {
        Self { key, iv }
    }

    /// A fresh random key and IV from the OS random number generator, as the CLI makes per bundle.
    pub fn random() -> Self {
        let mut key = [0u8; AES_KEY_LEN];
        let mut iv = [0u8; AES_IV_LEN];
        OsRng.fill_bytes(&mut key);
        OsRng.fill_bytes(&mut iv);
        Self { key, iv }
    }

    /// The wire form `base64(iv) ":" base64(RSA type-1 private-encrypt(key))` (344 characters
    /// after the colon). Deterministic for a given key pair and session key.
    pub fn to_wire(&self, signing_key: &SigningKey) -> Result<String> {
        let sealed = signing_key.private_encrypt(&self.key)?;
        Ok(format!(
            "{}:{}",
            STANDARD.encode(self.iv),
            STANDARD.encode(sealed)
        ))
    }
}

impl VerifyingKey {
    /// Opens a wire-form session key (`ivSessionKey` / `session_key`) with this public key,
    /// like a device does. Surrounding whitespace is ignored.
    pub fn open_session_key(&self, wire: &str) -> Result<SessionKey> {
        let wire = wire.trim();
        let colons = wire.matches(':').count();
        if colons != 1 {
            let found = if wire.is_empty() {
                "an empty string".to_owned()
            } else if colons == 0 {
                "no ':'".to_owned()
            } else {
                format!("{colons} ':' characters")
            };
            return Err(CryptoError::SessionKeyFormat { found });
        }
        let (iv_b64, key_b64) = wire.split_once(':').unwrap_or_default();
        let (iv_b64, key_b64) = (iv_b64.trim(), key_b64.trim());
        if iv_b64.is_empty() || key_b64.is_empty() {
            return Err(CryptoError::SessionKeyFormat {
                found: "an empty part around the ':'".to_owned(),
            });
        }
        let iv = STANDARD
            .decode(iv_b64)
            .map_err(|_| CryptoError::SessionKeyBase64 { part: "IV" })?;
        let iv: [u8; AES_IV_LEN] = iv
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::SessionKeyIvLength { len: iv.len() })?;
        let sealed = STANDARD
            .decode(key_b64)
            .map_err(|_| CryptoError::SessionKeyBase64 {
                part: "encrypted key",
            })?;
        if sealed.len() != crate::keys::RSA_BLOCK_LEN {
            return Err(CryptoError::SessionKeyRsaLength { len: sealed.len() });
        }
        let key = self
            .public_decrypt(&sealed)
            .ok_or(CryptoError::SessionKeyWrongKey)?;
        let key: [u8; AES_KEY_LEN] = key
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::SessionKeyAesLength { len: key.len() })?;
        Ok(SessionKey { key, iv })
    }
}
