//! Key generation and key parsing (including every rejected format and its message).

mod common;

use common::*;
use landfall_crypto::{
    key_id, sha256, sign_checksum, CryptoError, SessionKey, SigningKey, VerifyingKey,
    PRIVATE_PEM_HEADER, PUBLIC_PEM_HEADER,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};

fn vector_rsa() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(&read_text(".capgo_key_v2")).unwrap()
}

fn assert_pem_shape(pem: &str, header: &str, footer: &str) {
    assert!(pem.starts_with(&format!("{header}\n")), "{pem}");
    assert!(
        pem.ends_with(&format!("{footer}\n")),
        "trailing newline: {pem:?}"
    );
    assert!(!pem.contains('\r'), "LF only");
    let lines: Vec<&str> = pem.lines().collect();
    let body = &lines[1..lines.len() - 1];
    for (i, line) in body.iter().enumerate() {
        if i + 1 < body.len() {
            assert_eq!(line.len(), 64, "64-char lines: {line}");
        } else {
            assert!(!line.is_empty() && line.len() <= 64);
        }
    }
}

#[test]
fn generated_keypair_has_capgo_shape_and_round_trips() {
    let pair = other_keypair();
    assert_pem_shape(
        &pair.private_pem,
        PRIVATE_PEM_HEADER,
        "-----END RSA PRIVATE KEY-----",
    );
    assert_pem_shape(
        &pair.public_pem,
        PUBLIC_PEM_HEADER,
        "-----END RSA PUBLIC KEY-----",
    );

    let sk = SigningKey::from_pem(&pair.private_pem).unwrap();
    let vk = VerifyingKey::from_pem(&pair.public_pem).unwrap();
    assert_eq!(sk.public_pem(), pair.public_pem);
    assert_eq!(sk.private_pem().unwrap(), pair.private_pem);
    assert_eq!(sk.key_id(), key_id(&pair.public_pem));
    assert!(vk.key_id().starts_with("MIIBCgKCAQEA"), "{}", vk.key_id());
    assert_eq!(vk.key_id().len(), 20);

    let rsa_key = RsaPrivateKey::from_pkcs1_pem(&pair.private_pem).unwrap();
    assert_eq!(rsa_key.n().bits(), 2048);
    assert_eq!(rsa_key.e(), &BigUint::from(65537u32));

    // Sign with the private key, recover with the public key.
    let digest = sha256(b"hello bundle");
    let signed = sign_checksum(&sk, &digest).unwrap();
    assert_eq!(signed.len(), 512);
    assert!(signed
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(vk.recover_checksum(&signed).unwrap(), digest);
    assert_eq!(
        vk.recover_checksum(&signed.to_uppercase()).unwrap(),
        digest,
        "any hex case"
    );
    let session = SessionKey::random();
    let wire = session.to_wire(&sk).unwrap();
    assert_eq!(wire, session.to_wire(&sk).unwrap(), "deterministic");
    assert_eq!(vk.open_session_key(&wire).unwrap(), session);

    // A fresh pair differs from the vector key.
    assert_ne!(vk, vector_verifying_key());
}

#[test]
fn pkcs8_private_key_is_rejected_with_conversion_command() {
    let pkcs8 = vector_rsa().to_pkcs8_pem(LineEnding::LF).unwrap();
    assert!(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----"));
    let err = SigningKey::from_pem(&pkcs8).unwrap_err();
    assert!(matches!(err, CryptoError::Pkcs8PrivateKey), "{err:?}");
    assert!(err
        .to_string()
        .contains("openssl rsa -in key.pem -traditional -out .capgo_key_v2"));
    // Given where a public key is expected, the message says it's a private key.
    let err = VerifyingKey::from_pem(&pkcs8).unwrap_err();
    assert!(
        matches!(err, CryptoError::PrivateKeyGivenForPublic),
        "{err:?}"
    );
}

#[test]
fn spki_public_key_is_rejected_with_conversion_command() {
    let spki = vector_rsa()
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
    let err = VerifyingKey::from_pem(&spki).unwrap_err();
    assert!(matches!(err, CryptoError::SpkiPublicKey), "{err:?}");
    assert!(err
        .to_string()
        .contains("openssl rsa -pubin -in key.pub -RSAPublicKey_out -out .capgo_key_v2.pub"));
    let err = SigningKey::from_pem(&spki).unwrap_err();
    assert!(
        matches!(err, CryptoError::PublicKeyGivenForPrivate),
        "{err:?}"
    );
}

#[test]
fn swapped_keys_are_rejected() {
    let err = SigningKey::from_pem(&read_text(".capgo_key_v2.pub")).unwrap_err();
    assert!(
        matches!(err, CryptoError::PublicKeyGivenForPrivate),
        "{err:?}"
    );
    assert!(err.to_string().contains("PRIVATE key"));
    let err = VerifyingKey::from_pem(&read_text(".capgo_key_v2")).unwrap_err();
    assert!(
        matches!(err, CryptoError::PrivateKeyGivenForPublic),
        "{err:?}"
    );
    assert!(err.to_string().contains("PUBLIC key"));
}

#[test]
fn non_2048_bit_keys_are_rejected() {
    let small = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let private = small.to_pkcs1_pem(LineEnding::LF).unwrap();
    let err = SigningKey::from_pem(&private).unwrap_err();
    assert!(
        matches!(err, CryptoError::WrongKeySize { bits: 1024 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("RSA-2048"));
    let public = small.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
    let err = VerifyingKey::from_pem(&public).unwrap_err();
    assert!(
        matches!(err, CryptoError::WrongKeySize { bits: 1024 }),
        "{err:?}"
    );
}

#[test]
fn garbage_is_rejected_clearly() {
    for text in [
        "",
        "   \n",
        "hello",
        ".capgo_key_v2",
        "MIIBCgKCAQEAz/N5YWbf",
    ] {
        let err = VerifyingKey::from_pem(text).unwrap_err();
        assert!(
            matches!(err, CryptoError::NotPem { .. }),
            "{text:?}: {err:?}"
        );
        let err = SigningKey::from_pem(text).unwrap_err();
        assert!(
            matches!(err, CryptoError::NotPem { .. }),
            "{text:?}: {err:?}"
        );
        assert!(err.to_string().contains(PRIVATE_PEM_HEADER), "{err}");
    }

    let pub_pem = read_text(".capgo_key_v2.pub");
    // Truncated copy: END line missing.
    let truncated = &pub_pem[..pub_pem.len() / 2];
    let err = VerifyingKey::from_pem(truncated).unwrap_err();
    assert!(matches!(err, CryptoError::NotPem { .. }), "{err:?}");
    assert!(err.to_string().contains("END"), "{err}");

    // Junk before / after the PEM block.
    let err = VerifyingKey::from_pem(&format!("key: {pub_pem}")).unwrap_err();
    assert!(matches!(err, CryptoError::NotPem { .. }), "{err:?}");
    let err = VerifyingKey::from_pem(&format!("{pub_pem}trailing junk")).unwrap_err();
    assert!(matches!(err, CryptoError::NotPem { .. }), "{err:?}");

    // Right framing, damaged body.
    let damaged = pub_pem.replacen("MIIBCgKCAQEA", "MIIBCgKCAQ!A", 1);
    let err = VerifyingKey::from_pem(&damaged).unwrap_err();
    assert!(matches!(err, CryptoError::MalformedKey { .. }), "{err:?}");
    let cut_body = format!(
        "{PUBLIC_PEM_HEADER}\nMIIBCgKCAQEAz/N5YWbfhYuVAI8FtP7egx6gbwwX7Vefmfq8/cLddsycM/lfqlxx\n-----END RSA PUBLIC KEY-----\n"
    );
    let err = VerifyingKey::from_pem(&cut_body).unwrap_err();
    assert!(matches!(err, CryptoError::MalformedKey { .. }), "{err:?}");

    // Other PEM types.
    let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let err = VerifyingKey::from_pem(cert).unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedPem { label, .. } if label == "CERTIFICATE"),
        "{err:?}"
    );
}

#[test]
fn encrypted_private_keys_are_rejected() {
    let pkcs8_enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let err = SigningKey::from_pem(pkcs8_enc).unwrap_err();
    assert!(matches!(err, CryptoError::EncryptedPrivateKey), "{err:?}");
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n";
    let err = SigningKey::from_pem(legacy).unwrap_err();
    assert!(matches!(err, CryptoError::EncryptedPrivateKey), "{err:?}");
    assert!(err.to_string().contains("openssl rsa"));
}

#[test]
fn tolerant_pem_input_forms() {
    let pub_pem = read_text(".capgo_key_v2.pub");
    let crlf = pub_pem.replace('\n', "\r\n");
    assert_eq!(
        VerifyingKey::from_pem(&crlf).unwrap(),
        vector_verifying_key()
    );
    let padded = format!("\n\n  {pub_pem}  \n");
    assert_eq!(
        VerifyingKey::from_pem(&padded).unwrap(),
        vector_verifying_key()
    );
    // As copied out of capacitor.config.json (literal \n escapes).
    let escaped = pub_pem.replace('\n', "\\n");
    assert_eq!(
        VerifyingKey::from_pem(&escaped).unwrap(),
        vector_verifying_key()
    );
    // Re-wrapped at 76 columns.
    let body: String = pub_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let rewrapped: Vec<String> = body
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let rewrapped = format!(
        "{PUBLIC_PEM_HEADER}\n{}\n-----END RSA PUBLIC KEY-----",
        rewrapped.join("\n")
    );
    let vk = VerifyingKey::from_pem(&rewrapped).unwrap();
    // The canonical PEM is always the CLI's format.
    assert_eq!(vk.public_pem(), pub_pem);
    let private_crlf = read_text(".capgo_key_v2").replace('\n', "\r\n");
    assert_eq!(
        SigningKey::from_pem(&private_crlf).unwrap().public_pem(),
        pub_pem
    );
}

#[test]
fn key_id_is_a_text_operation() {
    let pub_pem = read_text(".capgo_key_v2.pub");
    assert_eq!(key_id(&pub_pem), "MIIBCgKCAQEAz/N5YWbf");
    assert_eq!(
        key_id(&pub_pem.replace('\n', "\r\n")),
        "MIIBCgKCAQEAz/N5YWbf"
    );
    assert_eq!(key_id(""), "");
    assert_eq!(key_id("-----BEGIN RSA PUBLIC KEY-----\nMIIB"), "MIIB");
}

/// Every way `secret` could show up in text: hex (either case, with or without `0x`), base64
/// (standard and URL-safe, over the whole secret), and decimal byte lists as a derived `Debug`
/// prints them — any run of 6 consecutive bytes is enough to count as a leak.
fn leaked_form(text: &str, secret: &[u8]) -> Option<String> {
    use base64::Engine;
    let mut forms = Vec::new();
    for window in secret.windows(6.min(secret.len())) {
        forms.push(hex::encode(window));
        forms.push(hex::encode_upper(window));
        let dec: Vec<String> = window.iter().map(u8::to_string).collect();
        forms.push(dec.join(", "));
        forms.push(dec.join(","));
        for upper in [false, true] {
            let hexes: Vec<String> = window
                .iter()
                .map(|b| {
                    if upper {
                        format!("{b:02X}")
                    } else {
                        format!("{b:02x}")
                    }
                })
                .collect();
            forms.push(hexes.join(", "));
        }
        let prefixed: Vec<String> = window.iter().map(|b| format!("0x{b:02x}")).collect();
        forms.push(prefixed.join(", "));
        let prefixed: Vec<String> = window.iter().map(|b| format!("0x{b:02X}")).collect();
        forms.push(prefixed.join(", "));
    }
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        let b64 = engine.encode(secret);
        let chars: Vec<char> = b64.chars().collect();
        for w in chars.windows(12.min(chars.len())) {
            forms.push(w.iter().collect());
        }
    }
    forms.into_iter().find(|f| text.contains(f.as_str()))
}

/// The part of the PKCS#1 DER of `rsa` that only the private key has: everything after the
/// modulus and the public exponent (which the public key's DER, and so the key id, carry too).
fn private_der_fields(rsa: &RsaPrivateKey) -> Vec<u8> {
    let der = rsa.to_pkcs1_der().unwrap();
    let der = der.as_bytes();
    let public = rsa.to_public_key().to_pkcs1_der().unwrap();
    let public = public.as_bytes();
    // Skip the public SEQUENCE header (tag, then a short or long-form length): n and e remain.
    let header = if public[1] & 0x80 == 0 {
        2
    } else {
        2 + (public[1] & 0x7f) as usize
    };
    let n_and_e = &public[header..];
    let start = der
        .windows(n_and_e.len())
        .position(|w| w == n_and_e)
        .expect("the private DER holds n and e")
        + n_and_e.len();
    der[start..].to_vec()
}

#[test]
fn debug_output_does_not_leak_secrets() {
    // The private key of the vectors: neither its PEM body nor its private exponent / primes.
    let sk = vector_signing_key();
    let pem = read_text(".capgo_key_v2");
    let rsa = vector_rsa();
    for dbg in [format!("{sk:?}"), format!("{sk:#?}")] {
        assert!(dbg.contains("MIIBCgKCAQEAz/N5YWbf"), "{dbg}"); // the key id is fine
        assert!(!dbg.contains("PRIVATE"), "{dbg}");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let body: Vec<char> = body.chars().collect();
        for chunk in body.chunks(16).filter(|c| c.len() == 16) {
            let chunk: String = chunk.iter().collect();
            assert!(!dbg.contains(&chunk), "PEM body {chunk} in {dbg}");
        }
        // The DER's private fields (d, p, q, dp, dq, qinv): the modulus and public exponent in
        // front of them are public, and the key id is base64 of exactly those bytes.
        if let Some(form) = leaked_form(&dbg, &private_der_fields(&rsa)) {
            panic!("private key DER leaked as {form:?}: {dbg}");
        }
        for secret in [rsa.d(), &rsa.primes()[0], &rsa.primes()[1]] {
            assert!(!dbg.contains(&secret.to_string()), "{dbg}");
            if let Some(form) = leaked_form(&dbg, &secret.to_bytes_be()) {
                panic!("private component leaked as {form:?}: {dbg}");
            }
        }
    }

    // An AES session key of distinct bytes (a repeated byte would hide offsets).
    let key: [u8; 16] = std::array::from_fn(|i| 0xA0 + i as u8);
    let session = SessionKey::new(key, [0x01; 16]);
    for dbg in [format!("{session:?}"), format!("{session:#?}")] {
        if let Some(form) = leaked_form(&dbg, &key) {
            panic!("session key leaked as {form:?}: {dbg}");
        }
        assert!(dbg.contains("redacted"), "{dbg}");
    }
    // The checker itself finds each representation (else the assertions above prove nothing).
    let private = private_der_fields(&rsa);
    assert_eq!(private[0], 0x02, "starts with the INTEGER d");
    assert!(
        private.len() > 600,
        "d, p, q, dp, dq, qinv: {}",
        private.len()
    );
    assert!(private.ends_with(&rsa.crt_coefficient().unwrap().to_bytes_be()));
    assert!(leaked_form(&format!("{:?}", rsa.d().to_bytes_be()), &private).is_some());
    let derived = format!("{:?}", key);
    assert!(derived.contains("160, 161"), "{derived}");
    assert!(leaked_form(&derived, &key).is_some());
    assert!(leaked_form(&hex::encode(key), &key).is_some());
    assert!(leaked_form(&format!("{:02X?}", key), &key).is_some());
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    assert!(leaked_form(&b64, &key).is_some());

    // A generated key pair: its private PEM never shows.
    let pair = other_keypair();
    let dbg = format!("{pair:?}");
    assert!(!dbg.contains("PRIVATE"), "{dbg}");
    let private_body: String = pair
        .private_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!dbg.contains(&private_body[40..72]), "{dbg}");
    assert!(
        dbg.contains(pair.public_pem.lines().nth(1).unwrap()),
        "{dbg}"
    );
}
