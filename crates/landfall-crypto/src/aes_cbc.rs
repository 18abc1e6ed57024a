//! Streaming AES-128-CBC with PKCS#7 padding, IV not prepended: the bundle/delta-file encryption
//! of Capgo (`createCipheriv('aes-128-cbc', key, iv)` with auto padding).
//!
//! Data is processed in 1 MiB chunks through the `cbc` crate's block-mode API (AES-NI when the
//! CPU has it), so throughput is bounded by AES, not by per-byte work.

use std::io::{self, Read, Write};

use cbc::cipher::consts::U16;
use cbc::cipher::inout::InOutBuf;
use cbc::cipher::{BlockDecryptMut as _, BlockEncryptMut as _, KeyIvInit as _};

use crate::error::{CryptoError, Result};
use crate::session::SessionKey;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

/// AES block size in bytes.
pub const AES_BLOCK_LEN: usize = 16;
/// Chunk size used by the streaming functions (a multiple of the block size).
const CHUNK: usize = 1 << 20;

/// Length of the ciphertext for a plaintext of `plain_len` bytes (always 1..=16 bytes longer).
pub fn ciphertext_len(plain_len: u64) -> u64 {
    (plain_len / AES_BLOCK_LEN as u64 + 1) * AES_BLOCK_LEN as u64
}

/// Encrypts everything `reader` yields into `writer` with AES-128-CBC/PKCS#7 (no IV prefix).
/// Returns the number of ciphertext bytes written. Flushes `writer` at the end.
pub fn encrypt_stream<R: Read, W: Write>(
    session: &SessionKey,
    mut reader: R,
    mut writer: W,
) -> Result<u64> {
    let mut enc = Aes128CbcEnc::new(&session.key.into(), &session.iv.into());
    // CHUNK bytes of data + room for one padding block.
    let mut buf = vec![0u8; CHUNK + AES_BLOCK_LEN];
    let mut written = 0u64;
    loop {
        let filled = read_full(&mut reader, &mut buf[..CHUNK])?;
        if filled == CHUNK {
            encrypt_blocks(&mut enc, &mut buf[..CHUNK]);
            writer.write_all(&buf[..CHUNK])?;
            written += CHUNK as u64;
            continue;
        }
        // End of input: PKCS#7 pads with 1..=16 bytes, each equal to the pad length.
        let pad = AES_BLOCK_LEN - filled % AES_BLOCK_LEN;
        let total = filled + pad;
        buf[filled..total].fill(pad as u8);
        encrypt_blocks(&mut enc, &mut buf[..total]);
        writer.write_all(&buf[..total])?;
        written += total as u64;
        break;
    }
    writer.flush()?;
    Ok(written)
}

/// Decrypts AES-128-CBC/PKCS#7 ciphertext (no IV prefix) from `reader` into `writer`.
/// Returns the number of plaintext bytes written. Flushes `writer` at the end.
///
/// Plaintext is written as it is decrypted; the last block is held back until the end so the
/// padding can be checked. On error the output is incomplete and must be discarded.
/// Errors: empty input, a length that is not a multiple of 16, invalid padding, I/O.
pub fn decrypt_stream<R: Read, W: Write>(
    session: &SessionKey,
    mut reader: R,
    mut writer: W,
) -> Result<u64> {
    let mut dec = Aes128CbcDec::new(&session.key.into(), &session.iv.into());
    // Layout: [held-back last block (carry bytes)] [fresh data ...]
    let mut buf = vec![0u8; CHUNK + AES_BLOCK_LEN];
    let mut carry = 0usize; // bytes at the front of buf not yet decrypted (< 2 blocks)
    let mut total_in = 0u64;
    let mut written = 0u64;
    loop {
        let n = read_full(&mut reader, &mut buf[carry..])?;
        total_in += n as u64;
        let have = carry + n;
        if have < buf.len() {
            // End of input: `have` bytes remain.
            if total_in == 0 {
                return Err(CryptoError::CiphertextEmpty);
            }
            if have % AES_BLOCK_LEN != 0 || have == 0 {
                return Err(CryptoError::CiphertextLength { len: total_in });
            }
            decrypt_blocks(&mut dec, &mut buf[..have]);
            let pad = usize::from(buf[have - 1]);
            if pad == 0
                || pad > AES_BLOCK_LEN
                || !buf[have - pad..have].iter().all(|&b| usize::from(b) == pad)
            {
                return Err(CryptoError::BadPadding);
            }
            writer.write_all(&buf[..have - pad])?;
            written += (have - pad) as u64;
            break;
        }
        // Buffer full (a multiple of 16): decrypt all but the last block, keep it for later.
        let process = have - AES_BLOCK_LEN;
        decrypt_blocks(&mut dec, &mut buf[..process]);
        writer.write_all(&buf[..process])?;
        written += process as u64;
        buf.copy_within(process..have, 0);
        carry = AES_BLOCK_LEN;
    }
    writer.flush()?;
    Ok(written)
}

/// Encrypts a byte slice (see [`encrypt_stream`]).
pub fn encrypt_bytes(session: &SessionKey, plaintext: &[u8]) -> Vec<u8> {
    let total = plaintext.len() + AES_BLOCK_LEN - plaintext.len() % AES_BLOCK_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(plaintext);
    let pad = total - plaintext.len();
    out.resize(total, pad as u8);
    let mut enc = Aes128CbcEnc::new(&session.key.into(), &session.iv.into());
    encrypt_blocks(&mut enc, &mut out);
    out
}

/// Decrypts a byte slice (see [`decrypt_stream`] for the errors).
pub fn decrypt_bytes(session: &SessionKey, ciphertext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(ciphertext.len());
    decrypt_stream(session, ciphertext, &mut out)?;
    Ok(out)
}

fn encrypt_blocks(enc: &mut Aes128CbcEnc, data: &mut [u8]) {
    let (blocks, tail) = InOutBuf::from(data).into_chunks::<U16>();
    debug_assert!(tail.is_empty(), "caller passes whole blocks");
    enc.encrypt_blocks_inout_mut(blocks);
}

fn decrypt_blocks(dec: &mut Aes128CbcDec, data: &mut [u8]) {
    let (blocks, tail) = InOutBuf::from(data).into_chunks::<U16>();
    debug_assert!(tail.is_empty(), "caller passes whole blocks");
    dec.decrypt_blocks_inout_mut(blocks);
}

/// Reads until `buf` is full or the reader is exhausted; returns the number of bytes read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
