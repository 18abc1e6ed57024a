//! Signed webhooks per the [Standard Webhooks] specification, symmetric scheme (`v1`).
//!
//! - A secret is 24 to 64 random bytes, written `whsec_` + standard base64 ([`WebhookSecret`]).
//! - Each message has an id ([`MessageId`], `msg_…`) that stays the same across retries, so the
//!   receiver can drop duplicates.
//! - The signed content is `{msg_id}.{timestamp}.{body}`, where `timestamp` is the attempt's time in
//!   integer seconds since the Unix epoch and `body` the exact bytes sent.
//! - The signature is `v1,` + base64(HMAC-SHA256(secret bytes, signed content)). The
//!   `webhook-signature` header holds one or more of them separated by spaces, one per active
//!   secret while a secret is being rotated.
//! - A receiver rejects a timestamp more than five minutes ([`DEFAULT_TOLERANCE`]) in the past or
//!   the future, and accepts the message when any `v1` signature matches any of its secrets,
//!   compared in constant time.
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// The header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's Unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far a timestamp may be from the receiver's clock, either way: five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The prefix of a symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of a generated secret.
pub const GENERATED_SECRET_LEN: usize = 32;
/// The fewest secret bytes accepted (the specification's lower bound).
pub const MIN_SECRET_LEN: usize = 24;
/// The most secret bytes accepted (the specification's upper bound).
pub const MAX_SECRET_LEN: usize = 64;

/// A symmetric signing secret. Its `Debug` form never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// A new secret of [`GENERATED_SECRET_LEN`] bytes from the caller's generator, which must be
    /// cryptographically secure (`rand::rngs::OsRng` in production).
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = vec![0u8; GENERATED_SECRET_LEN];
        rng.fill_bytes(&mut key);
        WebhookSecret(key)
    }

    /// A secret from its raw key bytes ([`MIN_SECRET_LEN`]..=[`MAX_SECRET_LEN`] bytes).
    pub fn from_bytes(key: &[u8]) -> Result<Self, Error> {
        if key.len() < MIN_SECRET_LEN {
            return Err(Error::InvalidSecret("shorter than 24 bytes"));
        }
        if key.len() > MAX_SECRET_LEN {
            return Err(Error::InvalidSecret("longer than 64 bytes"));
        }
        Ok(WebhookSecret(key.to_vec()))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as shown to the endpoint's owner once: `whsec_` + base64 of the key.
    pub fn to_whsec_string(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `v1,<base64>` signature of one message.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(msg_id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The HMAC over `{msg_id}.{timestamp}.{body}`, `timestamp` as written in the header.
    fn mac(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl FromStr for WebhookSecret {
    type Err = Error;

    /// `whsec_<base64>`; the bare base64 without the prefix is accepted too.
    fn from_str(s: &str) -> Result<Self, Error> {
        let encoded = s.trim();
        let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| Error::InvalidSecret("not base64"))?;
        WebhookSecret::from_bytes(&key)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret(<{} bytes>)", self.0.len())
    }
}

/// A message id: `msg_` + 24 URL-safe base64 characters (144 random bits). The same id is sent
/// with every attempt of one message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

impl MessageId {
    /// A new random id from the caller's generator.
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 18];
        rng.fill_bytes(&mut bytes);
        MessageId(format!("msg_{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// An id kept from before (e.g. read back from the delivery log).
    pub fn new(id: impl Into<String>) -> Self {
        MessageId(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three headers of one signed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (seconds since the Unix epoch).
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64>`, space-separated when several secrets sign.
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs, ready for an HTTP client. Send
    /// `content-type: application/json` alongside.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_ID, self.id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }
}

/// Signs one attempt of a message with every active secret (more than one while rotating: the
/// receiver accepts a match with any). `timestamp` is the attempt's time in Unix seconds; `body`
/// the exact bytes sent.
pub fn sign(
    secrets: &[WebhookSecret],
    msg_id: &MessageId,
    timestamp: i64,
    body: &[u8],
) -> Result<SignedHeaders, Error> {
    if secrets.is_empty() {
        return Err(Error::NoSecret);
    }
    let signature = secrets
        .iter()
        .map(|s| s.sign(msg_id.as_str(), timestamp, body))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(SignedHeaders {
        id: msg_id.as_str().to_string(),
        timestamp,
        signature,
    })
}

/// Why a message was not verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not a Unix time in seconds")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance allows (a replay, or a very late retry).
    #[error("message timestamp too old ({age_secs} s)")]
    TimestampTooOld {
        /// Seconds between the timestamp and now.
        age_secs: i64,
    },
    /// The timestamp is further in the future than the tolerance allows.
    #[error("message timestamp too far in the future ({ahead_secs} s)")]
    TimestampInFuture {
        /// Seconds between now and the timestamp.
        ahead_secs: i64,
    },
    /// `webhook-signature` holds no `v1` signature.
    #[error("no v1 signature in webhook-signature")]
    NoSignature,
    /// No `v1` signature matches any of the secrets.
    #[error("no signature matches")]
    NoMatch,
    /// No secret to verify with.
    #[error("no webhook secret to verify with")]
    NoSecret,
}

/// Verifies a received message with the [`DEFAULT_TOLERANCE`] of five minutes. `id`,
/// `timestamp` and `signature` are the values of the three headers; `now` is the receiver's
/// clock in Unix seconds.
pub fn verify(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    verify_with_tolerance(
        secrets,
        id,
        timestamp,
        signature,
        body,
        now,
        DEFAULT_TOLERANCE,
    )
}

/// [`verify`] with another tolerance.
pub fn verify_with_tolerance(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if secrets.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    let timestamp = timestamp.trim();
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let age = now.saturating_sub(ts);
    if age > tolerance {
        return Err(VerifyError::TimestampTooOld { age_secs: age });
    }
    let ahead = ts.saturating_sub(now);
    if ahead > tolerance {
        return Err(VerifyError::TimestampInFuture { ahead_secs: ahead });
    }
    let candidates: Vec<Vec<u8>> = signature
        .split_ascii_whitespace()
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    for secret in secrets {
        let mac = secret.mac(id, timestamp, body);
        for candidate in &candidates {
            // `verify_slice` compares in constant time.
            if mac.clone().verify_slice(candidate).is_ok() {
                return Ok(());
            }
        }
    }
    Err(VerifyError::NoMatch)
}
