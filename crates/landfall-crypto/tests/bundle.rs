//! Bundle encryption, session keys, signed checksums and upload verification: round trips and
//! every error path.

mod common;

use std::io::{self, Read, Write};

use common::*;
use landfall_crypto::{
    ciphertext_len, decrypt_bytes, decrypt_stream, encrypt_bytes, encrypt_stream, sha256,
    sha256_hex, sha256_reader, sign_checksum, verify_encrypted_bundle, BundleVerifyError,
    CryptoError, SessionKey, SigningKey, VerifyingKey,
};

fn fixed_session() -> SessionKey {
    SessionKey::new(hex16("fixed/aes_key.hex"), hex16("fixed/aes_iv.hex"))
}

/// A reader that hands out data in small, uneven pieces and sometimes reports `Interrupted`.
struct Trickle<'a> {
    data: &'a [u8],
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 5 == 0 {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "try again"));
        }
        let n = buf.len().min(self.data.len()).min(7777 + self.calls % 13);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

#[test]
fn stream_round_trips_at_chunk_boundaries() {
    let session = SessionKey::random();
    let mib = 1 << 20;
    for len in [
        0,
        1,
        15,
        16,
        17,
        4095,
        mib - 16,
        mib - 1,
        mib,
        mib + 1,
        mib + 15,
        mib + 16,
        2 * mib,
        3 * mib + 5,
    ] {
        let plain = pattern(len);
        let mut enc = Vec::new();
        let n = encrypt_stream(
            &session,
            Trickle {
                data: &plain,
                calls: 0,
            },
            &mut enc,
        )
        .unwrap();
        assert_eq!(n, enc.len() as u64, "len {len}");
        assert_eq!(n, ciphertext_len(len as u64), "len {len}");
        assert_eq!(enc, encrypt_bytes(&session, &plain), "len {len}");
        let mut dec = Vec::new();
        let m = decrypt_stream(
            &session,
            Trickle {
                data: &enc,
                calls: 0,
            },
            &mut dec,
        )
        .unwrap();
        assert_eq!(m, len as u64);
        assert_eq!(dec, plain, "len {len}");
        assert_eq!(decrypt_bytes(&session, &enc).unwrap(), plain);
    }
}

#[test]
fn decrypt_rejects_bad_ciphertext() {
    let session = fixed_session();
    let good = read("fixed/bundle-1.0.1.fixed_encrypted.zip");

    let err = decrypt_bytes(&session, &[]).unwrap_err();
    assert!(matches!(err, CryptoError::CiphertextEmpty), "{err:?}");

    let err = decrypt_bytes(&session, &good[..good.len() - 1]).unwrap_err();
    assert!(
        matches!(err, CryptoError::CiphertextLength { len: 2255 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("multiple of 16"));

    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 0x55;
    let err = decrypt_bytes(&session, &tampered).unwrap_err();
    assert!(matches!(err, CryptoError::BadPadding), "{err:?}");

    let wrong = SessionKey::new([7; 16], [9; 16]);
    let err = decrypt_bytes(&wrong, &good).unwrap_err();
    assert!(matches!(err, CryptoError::BadPadding), "{err:?}");

    // A block that decrypts to pad byte 0 or > 16 is rejected too.
    for pad_byte in [0u8, 17, 200] {
        let mut plain_block = [pad_byte; 16];
        plain_block[0] = 1;
        let ct = encrypt_bytes(&session, &plain_block);
        // Drop the all-padding block so the crafted block is last.
        let err = decrypt_bytes(&session, &ct[..16]).unwrap_err();
        assert!(
            matches!(err, CryptoError::BadPadding),
            "{pad_byte}: {err:?}"
        );
    }
}

#[test]
fn session_key_wire_errors() {
    let vk = vector_verifying_key();
    let good = read_text("fixed/session_key.txt");
    let good = good.trim();
    let (iv, rsa_part) = good.split_once(':').unwrap();

    let err = vk.open_session_key(&good.replace(':', "")).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyFormat { .. }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("<base64 IV>:<base64 RSA-encrypted AES key>"));
    let err = vk.open_session_key("").unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyFormat { .. }),
        "{err:?}"
    );
    let err = vk.open_session_key(&format!("{good}:extra")).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyFormat { .. }),
        "{err:?}"
    );
    let err = vk.open_session_key(&format!(":{rsa_part}")).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyFormat { .. }),
        "{err:?}"
    );

    let err = vk.open_session_key(&format!("%%%:{rsa_part}")).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyBase64 { part: "IV" }),
        "{err:?}"
    );
    let err = vk
        .open_session_key(&format!("{iv}:not base64!"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            CryptoError::SessionKeyBase64 {
                part: "encrypted key"
            }
        ),
        "{err:?}"
    );
    let err = vk
        .open_session_key(&format!("AAAAAAAAAAA=:{rsa_part}"))
        .unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyIvLength { len: 8 }),
        "{err:?}"
    );
    let err = vk.open_session_key(&format!("{iv}:AAAA")).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyRsaLength { len: 3 }),
        "{err:?}"
    );

    // Made with the vector key, opened with another key.
    let other = VerifyingKey::from_pem(&other_keypair().public_pem).unwrap();
    let err = other.open_session_key(good).unwrap_err();
    assert!(matches!(err, CryptoError::SessionKeyWrongKey), "{err:?}");
    assert!(err
        .to_string()
        .contains("this session key was not made with the private key matching this public key"));

    // Signed payload of the wrong size (a 32-byte "key").
    let sk = vector_signing_key();
    let sealed = sk.private_encrypt(&[1u8; 32]).unwrap();
    let wire = format!("{iv}:{}", base64_std(&sealed));
    let err = vk.open_session_key(&wire).unwrap_err();
    assert!(
        matches!(err, CryptoError::SessionKeyAesLength { len: 32 }),
        "{err:?}"
    );

    let err = sk.private_encrypt(&[0u8; 246]).unwrap_err();
    assert!(
        matches!(err, CryptoError::SignInputTooLong { len: 246 }),
        "{err:?}"
    );
    assert_eq!(sk.private_encrypt(&[0u8; 245]).unwrap().len(), 256);

    // Whitespace around the wire string and its parts is tolerated.
    assert_eq!(
        vk.open_session_key(&format!("  {iv} : {rsa_part}\n"))
            .unwrap(),
        fixed_session()
    );
}

fn base64_std(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn checksum_errors() {
    let vk = vector_verifying_key();
    let zip = read("bundle-1.0.1.zip");
    let plain = sha256_hex(&zip);

    let err = vk.recover_checksum(&plain).unwrap_err();
    assert!(matches!(err, CryptoError::ChecksumIsPlain), "{err:?}");
    assert!(err
        .to_string()
        .contains("this is a plain sha256, not a signed checksum"));

    let signed = read_text("fixed/checksum_encrypted_hex.txt");
    let signed = signed.trim();
    let err = vk.recover_checksum(&signed[..510]).unwrap_err();
    assert!(
        matches!(err, CryptoError::ChecksumLength { hex_chars: 510 }),
        "{err:?}"
    );
    let err = vk.recover_checksum("").unwrap_err();
    assert!(
        matches!(err, CryptoError::ChecksumLength { hex_chars: 0 }),
        "{err:?}"
    );
    // Legacy V2 (base64) checksum.
    let err = vk.recover_checksum(&base64_std(&[3u8; 256])).unwrap_err();
    assert!(matches!(err, CryptoError::ChecksumNotHex), "{err:?}");
    assert!(err.to_string().contains("V2"));

    let other = VerifyingKey::from_pem(&other_keypair().public_pem).unwrap();
    let err = other.recover_checksum(signed).unwrap_err();
    assert!(matches!(err, CryptoError::ChecksumWrongKey), "{err:?}");

    // Tampered signature: padding no longer checks out.
    let mut tampered = signed.to_owned();
    tampered.replace_range(100..101, if &signed[100..101] == "0" { "1" } else { "0" });
    let err = vk.recover_checksum(&tampered).unwrap_err();
    assert!(matches!(err, CryptoError::ChecksumWrongKey), "{err:?}");

    // A signed CRC32 (4 bytes) is recognised as legacy.
    let sk = vector_signing_key();
    let crc = hex::encode(sk.private_encrypt(&[0x55, 0xd7, 0xce, 0x8a]).unwrap());
    let err = vk.recover_checksum(&crc).unwrap_err();
    assert!(
        matches!(err, CryptoError::ChecksumPayloadLength { len: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("CRC32"));

    assert!(vk.checksum_matches(signed, &sha256(&zip)).unwrap());
    assert!(!vk.checksum_matches(signed, &sha256(b"other")).unwrap());
}

struct FailingWriter;

impl Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn verify_encrypted_bundle_names_each_failure() {
    let vk = vector_verifying_key();
    let sk = vector_signing_key();
    let wire = read_text("fixed/session_key.txt");
    let checksum = read_text("fixed/checksum_encrypted_hex.txt");
    let ct = read("fixed/bundle-1.0.1.fixed_encrypted.zip");
    let zip = read("bundle-1.0.1.zip");

    let verify = |wire: &str, checksum: &str, ct: &[u8]| {
        verify_encrypted_bundle(&vk, wire, checksum, ct, io::sink())
    };
    assert_eq!(verify(&wire, &checksum, &ct).unwrap(), sha256(&zip));

    // Session key made by another key pair.
    let other_sk = SigningKey::from_pem(&other_keypair().private_pem).unwrap();
    let foreign_wire = fixed_session().to_wire(&other_sk).unwrap();
    let err = verify(&foreign_wire, &checksum, &ct).unwrap_err();
    assert!(
        matches!(
            err,
            BundleVerifyError::SessionKey(CryptoError::SessionKeyWrongKey)
        ),
        "{err:?}"
    );

    let foreign_checksum = sign_checksum(&other_sk, &sha256(&zip)).unwrap();
    let err = verify(&wire, &foreign_checksum, &ct).unwrap_err();
    assert!(
        matches!(
            err,
            BundleVerifyError::Checksum(CryptoError::ChecksumWrongKey)
        ),
        "{err:?}"
    );
    let err = verify(&wire, &sha256_hex(&zip), &ct).unwrap_err();
    assert!(
        matches!(
            err,
            BundleVerifyError::Checksum(CryptoError::ChecksumIsPlain)
        ),
        "{err:?}"
    );

    let err = verify(&wire, &checksum, &ct[..ct.len() - 16]).unwrap_err();
    assert!(
        matches!(
            err,
            BundleVerifyError::CiphertextCorrupt(CryptoError::BadPadding)
        ),
        "{err:?}"
    );
    let err = verify(&wire, &checksum, &ct[..100]).unwrap_err();
    assert!(
        matches!(
            err,
            BundleVerifyError::CiphertextCorrupt(CryptoError::CiphertextLength { .. })
        ),
        "{err:?}"
    );

    // Tampering in the middle keeps the padding valid but changes the content.
    let mut tampered = ct.clone();
    tampered[1000] ^= 1;
    let err = verify(&wire, &checksum, &tampered).unwrap_err();
    assert!(
        matches!(err, BundleVerifyError::ChecksumMismatch { .. }),
        "{err:?}"
    );

    // Correctly signed checksum of some other zip.
    let stale = sign_checksum(&sk, &sha256(b"another zip")).unwrap();
    let err = verify(&wire, &stale, &ct).unwrap_err();
    match err {
        BundleVerifyError::ChecksumMismatch { expected, actual } => {
            assert_eq!(expected, sha256_hex(b"another zip"));
            assert_eq!(actual, sha256_hex(&zip));
        }
        other => panic!("{other:?}"),
    }

    let err = verify_encrypted_bundle(&vk, &wire, &checksum, &ct[..], FailingWriter).unwrap_err();
    assert!(matches!(err, BundleVerifyError::Io(_)), "{err:?}");
}

#[test]
fn hashing_helpers_agree() {
    let data = pattern(100_000);
    let (digest, len) = sha256_reader(Trickle {
        data: &data,
        calls: 1,
    })
    .unwrap();
    assert_eq!(len, 100_000);
    assert_eq!(digest, sha256(&data));
    let mut w = landfall_crypto::Sha256Writer::new(Vec::new());
    w.write_all(&data).unwrap();
    assert_eq!(w.len(), 100_000);
    let (d2, inner) = w.finish();
    assert_eq!(d2, digest);
    assert_eq!(inner, data);
    let mut r = landfall_crypto::Sha256Reader::new(&data[..]);
    io::copy(&mut r, &mut io::sink()).unwrap();
    assert_eq!(r.finish().0, digest);
    assert_eq!(
        landfall_crypto::parse_sha256_hex(&sha256_hex(&data).to_uppercase()),
        Some(digest)
    );
    assert_eq!(landfall_crypto::parse_sha256_hex("abc"), None);
}
