//! SHA-256 checksums (lowercase hex, as Capgo compares them) and the "V3" signed checksum:
//! hex(RSA type-1 private-encrypt(raw 32-byte SHA-256)), 512 lowercase hex characters.

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

use crate::error::{CryptoError, Result};
use crate::keys::{SigningKey, VerifyingKey, RSA_BLOCK_LEN};

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;
/// Length of a signed (V3) checksum in hex characters.
pub const SIGNED_CHECKSUM_HEX_LEN: usize = RSA_BLOCK_LEN * 2;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; SHA256_LEN] {
    Sha256::digest(data).into()
}

/// Lowercase hex SHA-256 of `data` (the plain Capgo checksum).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha256(data))
}

/// Streams `reader` to the end and returns its SHA-256 and length.
pub fn sha256_reader<R: Read>(reader: R) -> io::Result<([u8; SHA256_LEN], u64)> {
    let mut sink = Sha256Writer::new(io::sink());
    let mut reader = reader;
    let len = io::copy(&mut reader, &mut sink)?;
    let (digest, _) = sink.finish();
    Ok((digest, len))
}

/// Parses a 64-character hex SHA-256 (any case) into bytes.
pub fn parse_sha256_hex(hex_str: &str) -> Option<[u8; SHA256_LEN]> {
    let mut out = [0u8; SHA256_LEN];
    hex::decode_to_slice(hex_str.trim(), &mut out).ok()?;
    Some(out)
}

/// A writer that hashes everything written through it before passing it on.
#[derive(Debug)]
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> Sha256Writer<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the SHA-256 of everything written, and the inner writer.
    pub fn finish(self) -> ([u8; SHA256_LEN], W) {
        (self.hasher.finalize().into(), self.inner)
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes everything read through it.
#[derive(Debug)]
pub struct Sha256Reader<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Sha256Reader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if nothing was read yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the SHA-256 of everything read, and the inner reader.
    pub fn finish(self) -> ([u8; SHA256_LEN], R) {
        (self.hasher.finalize().into(), self.inner)
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// The V3 signed checksum of a SHA-256: 512 lowercase hex characters of the RSA type-1
/// private-encrypt of the 32 raw digest bytes (what `capgo bundle encrypt` prints as `checksum`).
pub fn sign_checksum(signing_key: &SigningKey, sha256: &[u8; SHA256_LEN]) -> Result<String> {
    Ok(hex::encode(signing_key.private_encrypt(sha256)?))
}

impl VerifyingKey {
    /// Recovers the SHA-256 from a V3 signed checksum (512 hex characters, any case; surrounding
    /// whitespace ignored), like a device does before comparing hashes.
    pub fn recover_checksum(&self, signed: &str) -> Result<[u8; SHA256_LEN]> {
        let signed = signed.trim();
        if signed.is_empty() {
            return Err(CryptoError::ChecksumLength { hex_chars: 0 });
        }
        if !signed.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CryptoError::ChecksumNotHex);
        }
        if signed.len() == SHA256_LEN * 2 {
            return Err(CryptoError::ChecksumIsPlain);
        }
        if signed.len() != SIGNED_CHECKSUM_HEX_LEN {
            return Err(CryptoError::ChecksumLength {
                hex_chars: signed.len(),
            });
        }
        let block = hex::decode(signed).map_err(|_| CryptoError::ChecksumNotHex)?;
        let payload = self
            .public_decrypt(&block)
            .ok_or(CryptoError::ChecksumWrongKey)?;
        payload
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::ChecksumPayloadLength {
                len: payload.len(),
                hint: if payload.len() == 4 {
                    " — 4 bytes is a legacy CRC32 checksum, which current plugins reject"
                } else {
                    ""
                },
            })
    }

    /// Checks a V3 signed checksum against a SHA-256; `Ok(true)` if it matches.
    pub fn checksum_matches(&self, signed: &str, sha256: &[u8; SHA256_LEN]) -> Result<bool> {
        Ok(&self.recover_checksum(signed)? == sha256)
    }
}
