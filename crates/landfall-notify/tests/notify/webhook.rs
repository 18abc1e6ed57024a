//! Standard Webhooks: signatures checked against values computed outside this crate.

use std::time::Duration;

use landfall_notify::webhook::{self, VerifyError, DEFAULT_TOLERANCE};
use landfall_notify::{Envelope, Error, MessageId, WebhookSecret};
use rand::rngs::mock::StepRng;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::fixtures;

// The example of the Standard Webhooks specification (and of its reference libraries' tests).
// Recomputed independently with both of:
//   python3 -c 'import hmac,hashlib,base64; k=base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); m=b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}"; print(base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())'
//   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%s' MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 100) -binary | base64
// Both print g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP: i64 = 1614265330;
const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn spec_secret() -> WebhookSecret {
    SPEC_SECRET.parse().unwrap()
}

#[test]
fn signs_the_specification_example() {
    let headers = webhook::sign(
        &[spec_secret()],
        &MessageId::new(SPEC_MSG_ID),
        SPEC_TIMESTAMP,
        SPEC_BODY.as_bytes(),
    )
    .unwrap();
    assert_eq!(headers.signature, SPEC_SIGNATURE);
    assert_eq!(headers.id, SPEC_MSG_ID);
    assert_eq!(headers.timestamp, SPEC_TIMESTAMP);
    assert_eq!(
        headers.pairs(),
        [
            ("webhook-id", SPEC_MSG_ID.to_string()),
            ("webhook-timestamp", "1614265330".to_string()),
            ("webhook-signature", SPEC_SIGNATURE.to_string()),
        ]
    );
}

// A landfall envelope body, signed with a fresh secret; the expected value from
//   python3 -c 'import hmac,hashlib,base64; k=bytes(range(32)); m=b"msg_landfall0001.1764664200." + open("/tmp/body.json","rb").read(); print(base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())'
// with /tmp/body.json holding exactly ENVELOPE_BODY (printf '%s', no newline).
const ENVELOPE_BODY: &str = r#"{"type":"rollout.auto_paused","timestamp":"2026-12-02T08:30:00.000Z","data":{"app_id":"com.example.shop","channel":"production","version":"2.4.1","percent":25,"failures":37,"sample_size":412,"failure_rate":0.08980582524271845,"wilson_lower_bound":0.0658,"threshold":0.05,"baseline_failure_rate":0.012}}"#;
const ENVELOPE_SIGNATURE: &str = "v1,m8gL7afrtuq/nxrHEnYMWfcdJ53pWsPAqa1Tlm5mTis=";

#[test]
fn signs_a_landfall_payload_as_computed_independently() {
    let body = Envelope::new(fixtures::auto_paused(), fixtures::at()).to_body();
    assert_eq!(body, ENVELOPE_BODY);
    let key: Vec<u8> = (0u8..32).collect();
    let secret = WebhookSecret::from_bytes(&key).unwrap();
    let headers = webhook::sign(
        &[secret],
        &MessageId::new("msg_landfall0001"),
        1764664200,
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(headers.signature, ENVELOPE_SIGNATURE);
}

#[test]
fn verifies_the_specification_example() {
    let body = SPEC_BODY.as_bytes();
    let ok = |now| {
        webhook::verify(
            &[spec_secret()],
            SPEC_MSG_ID,
            "1614265330",
            SPEC_SIGNATURE,
            body,
            now,
        )
    };
    assert_eq!(ok(SPEC_TIMESTAMP), Ok(()));
    // Five minutes either way are tolerated, not one second more.
    assert_eq!(ok(SPEC_TIMESTAMP + 300), Ok(()));
    assert_eq!(ok(SPEC_TIMESTAMP - 300), Ok(()));
    assert_eq!(
        ok(SPEC_TIMESTAMP + 301),
        Err(VerifyError::TimestampTooOld { age_secs: 301 })
    );
    assert_eq!(
        ok(SPEC_TIMESTAMP - 301),
        Err(VerifyError::TimestampInFuture { ahead_secs: 301 })
    );
    assert_eq!(DEFAULT_TOLERANCE, Duration::from_secs(300));
}

#[test]
fn rejects_tampering() {
    let secret = [spec_secret()];
    let verify = |id: &str, ts: &str, sig: &str, body: &str| {
        webhook::verify(&secret, id, ts, sig, body.as_bytes(), SPEC_TIMESTAMP)
    };
    // Body, id or timestamp changed: the signature no longer matches.
    assert_eq!(
        verify(
            SPEC_MSG_ID,
            "1614265330",
            SPEC_SIGNATURE,
            r#"{"test": 2432232315}"#
        ),
        Err(VerifyError::NoMatch)
    );
    assert_eq!(
        verify("msg_other", "1614265330", SPEC_SIGNATURE, SPEC_BODY),
        Err(VerifyError::NoMatch)
    );
    assert_eq!(
        verify(SPEC_MSG_ID, "1614265331", SPEC_SIGNATURE, SPEC_BODY),
        Err(VerifyError::NoMatch)
    );
    // Malformed headers.
    assert_eq!(
        verify(SPEC_MSG_ID, "yesterday", SPEC_SIGNATURE, SPEC_BODY),
        Err(VerifyError::InvalidTimestamp)
    );
    assert_eq!(
        verify(SPEC_MSG_ID, "1614265330", "", SPEC_BODY),
        Err(VerifyError::NoSignature)
    );
    // Another scheme's signature (v1a is the asymmetric one) is not a v1 signature.
    assert_eq!(
        verify(
            SPEC_MSG_ID,
            "1614265330",
            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            SPEC_BODY
        ),
        Err(VerifyError::NoSignature)
    );
    // A wrong secret.
    let other = WebhookSecret::from_bytes(&[7u8; 24]).unwrap();
    assert_eq!(
        webhook::verify(
            &[other],
            SPEC_MSG_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY.as_bytes(),
            SPEC_TIMESTAMP
        ),
        Err(VerifyError::NoMatch)
    );
    assert_eq!(
        webhook::verify(
            &[],
            SPEC_MSG_ID,
            "1614265330",
            SPEC_SIGNATURE,
            SPEC_BODY.as_bytes(),
            SPEC_TIMESTAMP
        ),
        Err(VerifyError::NoSecret)
    );
}

#[test]
fn key_rotation_signs_with_every_secret_and_verifies_with_any() {
    let old = spec_secret();
    let new = WebhookSecret::from_bytes(&[42u8; 32]).unwrap();
    let id = MessageId::new(SPEC_MSG_ID);
    let headers = webhook::sign(
        &[new.clone(), old.clone()],
        &id,
        SPEC_TIMESTAMP,
        SPEC_BODY.as_bytes(),
    )
    .unwrap();
    let parts: Vec<&str> = headers.signature.split(' ').collect();
    assert_eq!(parts.len(), 2);
    assert!(parts[0].starts_with("v1,"));
    // The old secret's signature is the specification's.
    assert_eq!(parts[1], SPEC_SIGNATURE);
    for secrets in [vec![old.clone()], vec![new.clone()], vec![new, old]] {
        assert_eq!(
            webhook::verify(
                &secrets,
                SPEC_MSG_ID,
                "1614265330",
                &headers.signature,
                SPEC_BODY.as_bytes(),
                SPEC_TIMESTAMP
            ),
            Ok(())
        );
    }
    // A receiver that knows both secrets accepts a header signed by the old one only, and one
    // whose first signature is garbage.
    let both = [
        WebhookSecret::from_bytes(&[42u8; 32]).unwrap(),
        spec_secret(),
    ];
    let sig = format!("v1,AAAA not-a-signature {SPEC_SIGNATURE}");
    assert_eq!(
        webhook::verify(
            &both,
            SPEC_MSG_ID,
            "1614265330",
            &sig,
            SPEC_BODY.as_bytes(),
            SPEC_TIMESTAMP
        ),
        Ok(())
    );
    assert_eq!(
        webhook::sign(&[], &id, SPEC_TIMESTAMP, b"{}"),
        Err(Error::NoSecret)
    );
}

#[test]
fn secrets_are_generated_from_the_callers_rng_and_round_trip() {
    let mut rng = StdRng::seed_from_u64(0x0102_0304_0506_0708);
    let secret = WebhookSecret::generate(&mut rng);
    assert_eq!(secret.as_bytes().len(), 32);
    let shown = secret.to_whsec_string();
    assert!(shown.starts_with("whsec_"), "{shown}");
    assert_eq!(shown.parse::<WebhookSecret>().unwrap(), secret);
    // Without the prefix too.
    assert_eq!(
        shown["whsec_".len()..].parse::<WebhookSecret>().unwrap(),
        secret
    );
    // Another draw gives another secret.
    assert_ne!(WebhookSecret::generate(&mut rng), secret);
    // Debug never shows the key.
    assert_eq!(format!("{secret:?}"), "WebhookSecret(<32 bytes>)");

    assert!(matches!(
        "whsec_not base64!".parse::<WebhookSecret>(),
        Err(Error::InvalidSecret(_))
    ));
    // 16 bytes: shorter than the specification's 24.
    assert!(matches!(
        "whsec_AAAAAAAAAAAAAAAAAAAAAA==".parse::<WebhookSecret>(),
        Err(Error::InvalidSecret(_))
    ));
    assert!(WebhookSecret::from_bytes(&[0u8; 65]).is_err());
    assert!(WebhookSecret::from_bytes(&[0u8; 64]).is_ok());
}

#[test]
fn message_ids_are_random_and_safe_to_sign() {
    let mut rng = StepRng::new(1, 0x9E37_79B9_7F4A_7C15);
    let a = MessageId::generate(&mut rng);
    let b = MessageId::generate(&mut rng);
    assert_ne!(a, b);
    for id in [&a, &b] {
        let s = id.as_str();
        assert!(s.starts_with("msg_"), "{s}");
        assert_eq!(s.len(), 4 + 24, "{s}");
        // No `.`, the separator of the signed content, and nothing a header cannot carry.
        assert!(
            s[4..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{s}"
        );
    }
}

#[test]
fn a_signed_envelope_verifies_and_parses_back() {
    let mut rng = StdRng::seed_from_u64(5);
    let secret = WebhookSecret::generate(&mut rng);
    let id = MessageId::generate(&mut rng);
    let envelope = Envelope::new(fixtures::kill_switch(), fixtures::at());
    let body = envelope.to_body();
    let now = fixtures::at().timestamp() + 90;
    let headers = webhook::sign(std::slice::from_ref(&secret), &id, now, body.as_bytes()).unwrap();
    let [(_, h_id), (_, h_ts), (_, h_sig)] = headers.pairs();
    webhook::verify(&[secret], &h_id, &h_ts, &h_sig, body.as_bytes(), now + 4).unwrap();
    assert_eq!(Envelope::from_body(body.as_bytes()).unwrap(), envelope);
}

#[test]
fn extreme_timestamps_are_refused_without_overflow() {
    let secret = [spec_secret()];
    assert_eq!(
        webhook::verify(
            &secret,
            SPEC_MSG_ID,
            &i64::MAX.to_string(),
            SPEC_SIGNATURE,
            b"",
            -10
        ),
        Err(VerifyError::TimestampInFuture {
            ahead_secs: i64::MAX
        })
    );
    assert!(matches!(
        webhook::verify(
            &secret,
            SPEC_MSG_ID,
            &i64::MIN.to_string(),
            SPEC_SIGNATURE,
            b"",
            i64::MAX
        ),
        Err(VerifyError::TimestampTooOld { .. })
    ));
    assert_eq!(
        webhook::verify(
            &secret,
            SPEC_MSG_ID,
            "99999999999999999999",
            SPEC_SIGNATURE,
            b"",
            0
        ),
        Err(VerifyError::InvalidTimestamp)
    );
}
