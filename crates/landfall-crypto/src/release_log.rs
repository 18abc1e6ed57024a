//! Signed exports of the release log (the hash chain is `landfall_core::release_log`): JSON
//! Lines — a header with the server's public key, one line per entry, and a last line with the
//! head and an Ed25519 signature over header and head — that an auditor verifies offline with
//! [`verify_export`] (`landfall log verify --file`) against the public key they were given out of
//! band (`landfall log public-key`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, Verifier as _};
use landfall_core::release_log::{ChainBreak, ChainVerifier, Checkpoint, LogEntry, FORMAT};
use serde::{Deserialize, Serialize};

/// Prefix of a public key in its text form (`ed25519:<base64 of 32 bytes>`).
pub const PUBLIC_KEY_PREFIX: &str = "ed25519:";

/// Errors of keys and exports.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A signing-key file that is not 64 hex characters.
    #[error("the release-log signing key must be 64 hex characters (an Ed25519 seed); the file holds something else")]
    BadSigningKey,
    /// A public key not in the `ed25519:<base64>` form.
    #[error("a release-log public key looks like `ed25519:` followed by 44 base64 characters (`landfall log public-key` prints it)")]
    BadPublicKey,
    /// A line of an export that cannot be read.
    #[error("line {line} of the export is not a release-log record: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The export's chain is broken.
    #[error("line {line} of the export: {source}")]
    Chain {
        /// 1-based line number.
        line: usize,
        /// The break.
        source: ChainBreak,
    },
    /// The export was signed by another key.
    #[error("the export was signed by {found}, not by the key given ({expected})")]
    OtherKey {
        /// The key the auditor trusts.
        expected: String,
        /// The key in the export.
        found: String,
    },
    /// The signature does not verify.
    #[error("the export's signature does not verify: the file was changed after it was signed")]
    BadSignature,
}

/// The server's Ed25519 key for signing exports.
pub struct LogSigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for LogSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogSigningKey({})", self.public_key())
    }
}

impl LogSigningKey {
    /// A new random key.
    pub fn generate() -> LogSigningKey {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        LogSigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Read the key file's text (64 hex characters, whitespace around ignored).
    pub fn from_hex(text: &str) -> Result<LogSigningKey, LogError> {
        let bytes = hex::decode(text.trim()).map_err(|_| LogError::BadSigningKey)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| LogError::BadSigningKey)?;
        Ok(LogSigningKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// The key file's text.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// The public key, `ed25519:<base64>`.
    pub fn public_key(&self) -> String {
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            B64.encode(self.0.verifying_key().to_bytes())
        )
    }

    fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.0.sign(message).to_bytes())
    }
}

/// First line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// [`FORMAT`].
    pub format: String,
    /// The server's public key (`ed25519:…`).
    pub public_key: String,
    /// When the export was made (ms since the epoch).
    pub exported_at: i64,
}

/// Last line of an export: the head it covers and the signature over header and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSignature {
    /// The last entry exported (0 and `landfall_core::release_log::GENESIS` for an empty log).
    pub head: Checkpoint,
    /// Number of entries exported.
    pub entries: i64,
    /// Base64 Ed25519 signature over [`signed_message`].
    pub signature: String,
}

/// The bytes an export's signature covers. The head's hash commits to every entry before it.
pub fn signed_message(header: &ExportHeader, head: &Checkpoint, entries: i64) -> Vec<u8> {
    serde_json::json!([
        header.format,
        header.public_key,
        header.exported_at,
        head.seq,
        head.hash,
        entries
    ])
    .to_string()
    .into_bytes()
}

/// Writes an export line by line: [`ExportWriter::header`], then each entry in order, then
/// [`ExportWriter::finish`], which verifies what was written and signs its head.
pub struct ExportWriter<'k> {
    key: &'k LogSigningKey,
    header: ExportHeader,
    verifier: ChainVerifier,
    entries: i64,
}

impl<'k> ExportWriter<'k> {
    /// Start an export at `now` (ms).
    pub fn new(key: &'k LogSigningKey, now: i64) -> ExportWriter<'k> {
        ExportWriter {
            key,
            header: ExportHeader {
                format: FORMAT.to_owned(),
                public_key: key.public_key(),
                exported_at: now,
            },
            verifier: ChainVerifier::new(),
            entries: 0,
        }
    }

    /// The first line (without its newline).
    pub fn header(&self) -> String {
        serde_json::to_string(&self.header).expect("a struct of strings serialises")
    }

    /// An entry's line (without its newline). A broken chain is never signed.
    pub fn entry(&mut self, e: &LogEntry) -> Result<String, ChainBreak> {
        self.verifier.push(e)?;
        self.entries += 1;
        Ok(serde_json::to_string(e).expect("a struct of strings serialises"))
    }

    /// The last line (without its newline), after checking the chain ends at the store's head.
    pub fn finish(self, head: &Checkpoint) -> Result<String, ChainBreak> {
        let end = self.verifier.finish(Some(head))?;
        let signature = self
            .key
            .sign(&signed_message(&self.header, &end, self.entries));
        Ok(serde_json::to_string(&ExportSignature {
            head: end,
            entries: self.entries,
            signature,
        })
        .expect("a struct of strings serialises"))
    }
}

/// What an export verified to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedExport {
    /// The header.
    pub header: ExportHeader,
    /// The signed head.
    pub head: Checkpoint,
    /// Number of entries.
    pub entries: i64,
}

fn parse_public_key(text: &str) -> Result<ed25519_dalek::VerifyingKey, LogError> {
    let b64 = text
        .trim()
        .strip_prefix(PUBLIC_KEY_PREFIX)
        .ok_or(LogError::BadPublicKey)?;
    let bytes = B64.decode(b64).map_err(|_| LogError::BadPublicKey)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| LogError::BadPublicKey)?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| LogError::BadPublicKey)
}

/// Verify an export's text offline against the public key the auditor trusts: every line
/// parses, the chain holds from entry 1, the last line signs exactly that head.
pub fn verify_export(text: &str, trusted_public_key: &str) -> Result<VerifiedExport, LogError> {
    let key = parse_public_key(trusted_public_key)?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let bad = |line: usize, reason: String| LogError::BadLine { line, reason };
    if lines.len() < 2 {
        return Err(bad(
            lines.len() + 1,
            "an export has a header line and a signature line; this file is cut short".into(),
        ));
    }
    let header: ExportHeader =
        serde_json::from_str(lines[0]).map_err(|e| bad(1, format!("not the header: {e}")))?;
    if header.format != FORMAT {
        return Err(bad(1, format!("unknown format {:?}", header.format)));
    }
    let expected = format!("{PUBLIC_KEY_PREFIX}{}", B64.encode(key.to_bytes()));
    if header.public_key.trim() != expected {
        return Err(LogError::OtherKey {
            expected,
            found: header.public_key,
        });
    }
    let last = lines.len() - 1;
    let mut verifier = ChainVerifier::new();
    let mut entries = 0i64;
    for (i, line) in lines[1..last].iter().enumerate() {
        let n = i + 2;
        let e: LogEntry =
            serde_json::from_str(line).map_err(|e| bad(n, format!("not an entry: {e}")))?;
        verifier
            .push(&e)
            .map_err(|source| LogError::Chain { line: n, source })?;
        entries += 1;
    }
    let sig: ExportSignature = serde_json::from_str(lines[last])
        .map_err(|e| bad(last + 1, format!("not the signature line: {e}")))?;
    let end = verifier.finish(None).map_err(|source| LogError::Chain {
        line: last + 1,
        source,
    })?;
    if end != sig.head || entries != sig.entries {
        return Err(LogError::BadSignature);
    }
    let signature_bytes: [u8; 64] = B64
        .decode(&sig.signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(LogError::BadSignature)?;
    key.verify(
        &signed_message(&header, &sig.head, sig.entries),
        &ed25519_dalek::Signature::from_bytes(&signature_bytes),
    )
    .map_err(|_| LogError::BadSignature)?;
    Ok(VerifiedExport {
        header,
        head: sig.head,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_core::release_log::GENESIS;

    fn chain(n: i64) -> Vec<LogEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = LogEntry::seal(
                    &prev,
                    seq,
                    "com.example.app",
                    1_700_000_000_000 + seq,
                    "token:ci",
                    "channel_update",
                    &format!(r#"{{"channel":"production","bundle":"1.0.{seq}"}}"#),
                );
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    fn head_of(entries: &[LogEntry]) -> Checkpoint {
        let e = entries.last().unwrap();
        Checkpoint {
            seq: e.seq,
            hash: e.hash.clone(),
        }
    }

    fn export(key: &LogSigningKey, entries: &[LogEntry]) -> String {
        let mut w = ExportWriter::new(key, 1_700_000_001_000);
        let mut out = vec![w.header()];
        for e in entries {
            out.push(w.entry(e).unwrap());
        }
        out.push(w.finish(&head_of(entries)).unwrap());
        out.join("\n") + "\n"
    }

    #[test]
    fn an_export_verifies_offline_and_catches_every_edit() {
        let key = LogSigningKey::generate();
        let again = LogSigningKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let text = export(&key, &chain(4));
        let ok = verify_export(&text, &key.public_key()).unwrap();
        assert_eq!((ok.entries, ok.head.seq), (4, 4));

        // Another key.
        let other = LogSigningKey::generate();
        assert!(matches!(
            verify_export(&text, &other.public_key()),
            Err(LogError::OtherKey { .. })
        ));
        // An edited entry line.
        let edited = text.replacen("1.0.2", "9.9.9", 1);
        assert!(matches!(
            verify_export(&edited, &key.public_key()),
            Err(LogError::Chain {
                line: 3,
                source: ChainBreak::Modified { seq: 2 }
            })
        ));
        // A dropped last entry (the signature line kept).
        let mut lines: Vec<&str> = text.lines().collect();
        lines.remove(4);
        assert!(matches!(
            verify_export(&lines.join("\n"), &key.public_key()),
            Err(LogError::BadSignature)
        ));
        // A re-signed export by someone else, claiming the trusted key.
        let forged = export(&other, &chain(3)).replace(&other.public_key(), &key.public_key());
        assert!(matches!(
            verify_export(&forged, &key.public_key()),
            Err(LogError::BadSignature)
        ));
        // An empty log exports and verifies.
        let w = ExportWriter::new(&key, 1);
        let header = w.header();
        let last = w
            .finish(&Checkpoint {
                seq: 0,
                hash: GENESIS.into(),
            })
            .unwrap();
        let v = verify_export(&format!("{header}\n{last}\n"), &key.public_key()).unwrap();
        assert_eq!(v.entries, 0);
        assert!(matches!(
            verify_export("not json\n{}", &key.public_key()),
            Err(LogError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            verify_export(&text, "ed25519:short"),
            Err(LogError::BadPublicKey)
        ));
    }
}
