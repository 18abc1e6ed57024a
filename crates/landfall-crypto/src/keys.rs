//! RSA-2048 keys in Capgo's PKCS#1 PEM format: generation, parsing, key ids and the raw
//! "private encrypt" / "public decrypt" (PKCS#1 v1.5 block type 1) operations Capgo uses.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};

use crate::error::{CryptoError, Result};

/// Modulus size Capgo requires, in bits.
pub const RSA_BITS: usize = 2048;
/// Size of one RSA-2048 block (signature / encrypted session key), in bytes.
pub const RSA_BLOCK_LEN: usize = RSA_BITS / 8;
/// First line of a Capgo private key (`.capgo_key_v2`).
pub const PRIVATE_PEM_HEADER: &str = "-----BEGIN RSA PRIVATE KEY-----";
/// First line of a Capgo public key (`.capgo_key_v2.pub`, `publicKey` in capacitor.config).
pub const PUBLIC_PEM_HEADER: &str = "-----BEGIN RSA PUBLIC KEY-----";
/// Longest input [`SigningKey::private_encrypt`] accepts (256 bytes minus 11 bytes of padding).
pub const MAX_PRIVATE_ENCRYPT_LEN: usize = RSA_BLOCK_LEN - 11;
/// Length of a key id (see [`key_id`]).
pub const KEY_ID_LEN: usize = 20;

/// A freshly generated key pair, both halves PKCS#1 PEM exactly as `capgo key create` writes them
/// (LF line endings, 64-character lines, trailing newline).
#[derive(Clone)]
pub struct KeyPair {
    /// `-----BEGIN RSA PRIVATE KEY-----` PEM: goes to `.capgo_key_v2`; keep it secret.
    pub private_pem: String,
    /// `-----BEGIN RSA PUBLIC KEY-----` PEM: goes to `.capgo_key_v2.pub` and capacitor.config.
    pub public_pem: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pem", &"<redacted>")
            .field("public_pem", &self.public_pem)
            .finish()
    }
}

/// Generates a new RSA-2048 key pair (e = 65537), like `capgo key create`.
///
/// Takes a second or two (prime search); uses the OS random number generator.
pub fn generate_keypair() -> Result<KeyPair> {
    let private = RsaPrivateKey::new(&mut OsRng, RSA_BITS)
        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
    let signing = SigningKey::from_rsa(private)?;
    Ok(KeyPair {
        private_pem: signing.private_pem()?,
        public_pem: signing.public_pem().to_owned(),
    })
}

/// The key id Capgo devices send as `key_id`: the first 20 characters of the public key's base64
/// body, after removing the PEM `-----BEGIN …-----` / `-----END …-----` markers and all whitespace.
///
/// This is a pure text operation (it does not validate the key), matching the CLI and plugins.
/// For the RSA-2048 PKCS#1 keys Capgo uses, the first 12 characters are always `MIIBCgKCAQEA`.
pub fn key_id(public_pem: &str) -> String {
    let mut body = String::with_capacity(public_pem.len());
    let mut rest = public_pem;
    // Drop every "-----...-----" marker, keep everything else.
    while let Some(start) = rest.find("-----") {
        body.push_str(&rest[..start]);
        let after = &rest[start + 5..];
        match after.find("-----") {
            Some(end) => rest = &after[end + 5..],
            None => {
                rest = "";
            }
        }
    }
    body.push_str(rest);
    body.chars()
        .filter(|c| !c.is_whitespace())
        .take(KEY_ID_LEN)
        .collect()
}

/// A JSON snippet to merge into `capacitor.config.json` so the app can verify and decrypt bundles:
/// `{"plugins":{"CapacitorUpdater":{"publicKey":"-----BEGIN RSA PUBLIC KEY-----\n…"}}}`
/// (pretty-printed; the PEM's line breaks become `\n` escapes).
pub fn capacitor_config_snippet(public_pem: &str) -> String {
    let escaped = serde_json::Value::String(public_pem.to_owned()).to_string();
    format!(
        "{{\n  \"plugins\": {{\n    \"CapacitorUpdater\": {{\n      \"publicKey\": {escaped}\n    }}\n  }}\n}}\n"
    )
}

/// The private (signing) key: signs session keys and checksums. Lives with the developer / CI.
#[derive(Clone)]
pub struct SigningKey {
    inner: RsaPrivateKey,
    public: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PKCS#1 PEM private key (`-----BEGIN RSA PRIVATE KEY-----`, as in `.capgo_key_v2`).
    ///
    /// Rejects, each with a message naming the fix: PKCS#8 and passphrase-protected keys, public
    /// keys, keys that are not RSA-2048, and text that is not a PEM key.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let block = PemBlock::parse(pem, PRIVATE_PEM_HEADER)?;
        match block.label.as_str() {
            "RSA PRIVATE KEY" => {
                if block.encrypted_headers {
                    return Err(CryptoError::EncryptedPrivateKey);
                }
                let der = block.der("private")?;
                let key =
                    RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| CryptoError::MalformedKey {
                        kind: "private",
                        detail: e.to_string(),
                    })?;
                Self::from_rsa(key)
            }
            "PRIVATE KEY" => Err(CryptoError::Pkcs8PrivateKey),
            "ENCRYPTED PRIVATE KEY" => Err(CryptoError::EncryptedPrivateKey),
            "RSA PUBLIC KEY" | "PUBLIC KEY" => Err(CryptoError::PublicKeyGivenForPrivate),
            other => Err(CryptoError::UnsupportedPem {
                label: other.to_owned(),
                expected: "an RSA private key (\"-----BEGIN RSA PRIVATE KEY-----\")",
            }),
        }
    }

    fn from_rsa(key: RsaPrivateKey) -> Result<Self> {
        check_bits(key.n())?;
        key.validate().map_err(|e| CryptoError::MalformedKey {
            kind: "private",
            detail: e.to_string(),
        })?;
        let public = VerifyingKey::from_rsa(key.to_public_key())?;
        Ok(Self { inner: key, public })
    }

    /// The private key as PKCS#1 PEM (LF, 64-char lines, trailing newline).
    pub fn private_pem(&self) -> Result<String> {
        let pem =
            self.inner
                .to_pkcs1_pem(LineEnding::LF)
                .map_err(|e| CryptoError::MalformedKey {
                    kind: "private",
                    detail: e.to_string(),
                })?;
        Ok(pem.as_str().to_owned())
    }

    /// The matching public key as PKCS#1 PEM (identical to what `capgo key create` writes).
    pub fn public_pem(&self) -> &str {
        self.public.public_pem()
    }

    /// The key id of the matching public key (see [`key_id`]).
    pub fn key_id(&self) -> String {
        self.public.key_id()
    }

    /// The matching public (verifying) key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// RSA PKCS#1 v1.5 block-type-1 "private encrypt" of raw `data` (no hashing, no DigestInfo),
    /// i.e. Node's `privateEncrypt(RSA_PKCS1_PADDING)`. Deterministic; returns 256 bytes.
    /// `data` must be at most 245 bytes.
    pub fn private_encrypt(&self, data: &[u8]) -> Result<Vec<u8>> {
        if data.len() > MAX_PRIVATE_ENCRYPT_LEN {
            return Err(CryptoError::SignInputTooLong { len: data.len() });
        }
        // Blinding (the RNG) protects against timing side channels; the result is unaffected.
        self.inner
            .sign_with_rng(&mut OsRng, Pkcs1v15Sign::new_unprefixed(), data)
            .map_err(|e| CryptoError::Signing(e.to_string()))
    }
}

/// The public (verifying) key: what devices embed as `publicKey`; opens session keys and checksums.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: RsaPublicKey,
    pem: String,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for VerifyingKey {}

impl VerifyingKey {
    /// Parses a PKCS#1 PEM public key (`-----BEGIN RSA PUBLIC KEY-----`, as in `.capgo_key_v2.pub`).
    ///
    /// Rejects, each with a message naming the fix: SPKI (`BEGIN PUBLIC KEY`) keys, private keys,
    /// keys that are not RSA-2048, and text that is not a PEM key. Also accepts the PEM with
    /// literal `\n` escapes, as copied out of capacitor.config.json.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let block = PemBlock::parse(pem, PUBLIC_PEM_HEADER)?;
        match block.label.as_str() {
            "RSA PUBLIC KEY" => {
                let der = block.der("public")?;
                let key =
                    RsaPublicKey::from_pkcs1_der(&der).map_err(|e| CryptoError::MalformedKey {
                        kind: "public",
                        detail: e.to_string(),
                    })?;
                Self::from_rsa(key)
            }
            "PUBLIC KEY" => Err(CryptoError::SpkiPublicKey),
            "RSA PRIVATE KEY" | "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                Err(CryptoError::PrivateKeyGivenForPublic)
            }
            other => Err(CryptoError::UnsupportedPem {
                label: other.to_owned(),
                expected: "an RSA public key (\"-----BEGIN RSA PUBLIC KEY-----\")",
            }),
        }
    }

    fn from_rsa(key: RsaPublicKey) -> Result<Self> {
        check_bits(key.n())?;
        let pem = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| CryptoError::MalformedKey {
                kind: "public",
                detail: e.to_string(),
            })?;
        Ok(Self { inner: key, pem })
    }

    /// The key as canonical PKCS#1 PEM (LF, 64-char lines, trailing newline).
    pub fn public_pem(&self) -> &str {
        &self.pem
    }

    /// The key id devices send (see [`key_id`]).
    pub fn key_id(&self) -> String {
        key_id(&self.pem)
    }

    /// RSA "public decrypt" of one 256-byte block made by [`SigningKey::private_encrypt`]: computes
    /// `block^e mod n` and strips the `00 01 FF…FF 00` type-1 padding. Returns `None` when the
    /// block is not 256 bytes or the padding is wrong (i.e. the block was made with another key
    /// or is corrupt). Callers map `None` to a context-specific error.
    pub fn public_decrypt(&self, block: &[u8]) -> Option<Vec<u8>> {
        if block.len() != RSA_BLOCK_LEN {
            return None;
        }
        let n = self.inner.n();
        let c = BigUint::from_bytes_be(block);
        if &c >= n {
            return None;
        }
        let m = c.modpow(self.inner.e(), n).to_bytes_be();
        if m.len() > RSA_BLOCK_LEN {
            return None;
        }
        let mut em = [0u8; RSA_BLOCK_LEN];
        em[RSA_BLOCK_LEN - m.len()..].copy_from_slice(&m);
        if em[0] != 0x00 || em[1] != 0x01 {
            return None;
        }
        let ff_run = em[2..].iter().take_while(|&&b| b == 0xFF).count();
        let sep = 2 + ff_run;
        // At least 8 bytes of 0xFF, then the 0x00 separator (PKCS#1 v1.5, RFC 8017 §9.2).
        if ff_run < 8 || em.get(sep) != Some(&0x00) {
            return None;
        }
        Some(em[sep + 1..].to_vec())
    }
}

fn check_bits(n: &BigUint) -> Result<()> {
    let bits = n.bits();
    if bits == RSA_BITS {
        Ok(())
    } else {
        Err(CryptoError::WrongKeySize { bits })
    }
}

/// One PEM block, loosely framed (whitespace-tolerant, any line width).
struct PemBlock {
    label: String,
    body: String,
    encrypted_headers: bool,
}

impl PemBlock {
    fn parse(text: &str, expected: &'static str) -> Result<Self> {
        // Accept the PEM with literal "\n" escapes (copied out of a JSON config file).
        let unescaped;
        let text = if !text.contains('\n') && text.contains("\\n") {
            unescaped = text.replace("\\r", "").replace("\\n", "\n");
            unescaped.as_str()
        } else {
            text
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(CryptoError::NotPem {
                reason: "the text is empty",
                expected,
            });
        }
        let Some(after_begin) = text.strip_prefix("-----BEGIN ") else {
            return Err(CryptoError::NotPem {
                reason: if text.contains("-----BEGIN ") {
                    "there is text before the -----BEGIN line"
                } else {
                    "no -----BEGIN line found"
                },
                expected,
            });
        };
        let Some(label_end) = after_begin.find("-----") else {
            return Err(CryptoError::NotPem {
                reason: "the -----BEGIN line is not closed with -----",
                expected,
            });
        };
        let label = after_begin[..label_end].trim().to_owned();
        let rest = &after_begin[label_end + 5..];
        let footer = format!("-----END {label}-----");
        let Some(footer_at) = rest.find(&footer) else {
            return Err(CryptoError::NotPem {
                reason: "the matching -----END line is missing (truncated copy?)",
                expected,
            });
        };
        if !rest[footer_at + footer.len()..].trim().is_empty() {
            return Err(CryptoError::NotPem {
                reason: "there is text after the -----END line",
                expected,
            });
        }
        let raw_body = &rest[..footer_at];
        // RFC 1421 headers such as "Proc-Type: 4,ENCRYPTED" / "DEK-Info: …".
        let encrypted_headers = raw_body.contains("ENCRYPTED") || raw_body.contains(':');
        let body: String = raw_body.chars().filter(|c| !c.is_whitespace()).collect();
        Ok(Self {
            label,
            body,
            encrypted_headers,
        })
    }

    fn der(&self, kind: &'static str) -> Result<Vec<u8>> {
        STANDARD
            .decode(self.body.as_bytes())
            .map_err(|e| CryptoError::MalformedKey {
                kind,
                detail: format!("PEM body is not valid base64: {e}"),
            })
    }
}
