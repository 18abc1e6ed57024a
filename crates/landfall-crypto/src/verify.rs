//! Server-side verification of an uploaded encrypted bundle: session key, signed checksum and
//! ciphertext must all agree, and each failure is reported as its own variant.

use std::io::{Read, Write};

use crate::aes_cbc::decrypt_stream;
use crate::checksum::{Sha256Writer, SHA256_LEN};
use crate::error::{BundleVerifyError, CryptoError};
use crate::keys::VerifyingKey;

/// Verifies an encrypted bundle the way a device would and returns the plaintext's SHA-256.
///
/// Opens `session_key_wire` and recovers `signed_checksum` with `verifying_key`, then decrypts
/// `ciphertext` into `plaintext_out` while hashing it, and checks the hash against the checksum.
/// Plaintext is written as it is produced: discard `plaintext_out` when this returns an error.
pub fn verify_encrypted_bundle<R: Read, W: Write>(
    verifying_key: &VerifyingKey,
    session_key_wire: &str,
    signed_checksum: &str,
    ciphertext: R,
    plaintext_out: W,
) -> Result<[u8; SHA256_LEN], BundleVerifyError> {
    let session = verifying_key
        .open_session_key(session_key_wire)
        .map_err(BundleVerifyError::SessionKey)?;
    let expected = verifying_key
        .recover_checksum(signed_checksum)
        .map_err(BundleVerifyError::Checksum)?;
    let mut hashing = Sha256Writer::new(plaintext_out);
    decrypt_stream(&session, ciphertext, &mut hashing).map_err(|e| match e {
        CryptoError::Io(io) => BundleVerifyError::Io(io),
        other => BundleVerifyError::CiphertextCorrupt(other),
    })?;
    let (actual, _) = hashing.finish();
    if actual != expected {
        return Err(BundleVerifyError::ChecksumMismatch {
            expected: hex::encode(expected),
            actual: hex::encode(actual),
        });
    }
    Ok(actual)
}
