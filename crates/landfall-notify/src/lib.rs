//! landfall-notify: Landfall's outbound notifications, as pure data and functions.
//!
//! No IO: no HTTP client, no clock, no storage, no randomness of its own. The caller (the server's
//! delivery worker, later) passes in the current time and a random number generator, and gets back
//! request URLs, headers, bodies and decisions. The pieces:
//!
//! - [`event`]: the typed [`Event`]s (bundle uploaded, channel changed, rollout started / stepped /
//!   paused / resumed / aborted / promoted, automatic pause with its numbers, kill switch, ICP filing
//!   state change, compliance item overdue, document expiring, and a test event), each with a
//!   stable type string (`rollout.paused`) and the JSON payload [`Envelope`]
//!   `{"type", "timestamp", "data"}` that the Standard Webhooks specification recommends.
//! - [`webhook`]: signing and verification per the [Standard Webhooks] specification (symmetric
//!   `v1` scheme): `whsec_` secrets, HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`, the
//!   `webhook-id` / `webhook-timestamp` / `webhook-signature` headers, several signatures for key
//!   rotation, a five-minute timestamp tolerance and constant-time comparison.
//! - [`message`]: the human text of an event in Simplified Chinese or English ([`Lang`]), every
//!   label and sentence translated: a title, a one-sentence summary and labelled facts.
//! - [`robot`]: ready-made templates for the group robots of WeCom (企业微信), DingTalk (钉钉)
//!   and Feishu/Lark (飞书), each with its own documented signing scheme: DingTalk's "加签"
//!   (`timestamp` in ms and `sign` in the query string), Feishu's "签名校验" (`timestamp` and
//!   `sign` in the body), WeCom's unsigned webhook key (and its 4096-byte markdown limit); and the
//!   reading of each robot's JSON answer (`errcode` / `code`).
//! - [`retry`]: the delivery policy: what an attempt's outcome means (delivered, retry, permanent
//!   failure), the [`RetrySchedule`] with jitter and `Retry-After`, and when to give up.
//!
//! Signatures are time-stamped (Standard Webhooks receivers accept five minutes of skew, DingTalk
//! and Feishu one hour), so a delivery worker signs each *attempt* anew with the current time,
//! while the message id and the body stay the same across retries.
//!
//! # A delivery, step by step
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use landfall_notify::event::{Percent, RolloutPaused};
//! use landfall_notify::retry::{self, Outcome};
//! use landfall_notify::webhook;
//! use landfall_notify::{Decision, Envelope, Lang, MessageId, RetrySchedule, Robot, WebhookSecret};
//!
//! use rand::SeedableRng;
//!
//! // Production code passes `rand::rngs::OsRng`; a seeded generator keeps the example exact.
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//!
//! // Once, when the endpoint is created: a secret, shown to its owner as `whsec_…`.
//! let secret = WebhookSecret::generate(&mut rng);
//!
//! // When something happens: the event, its body and id, kept for every attempt.
//! let happened = Utc.with_ymd_and_hms(2026, 12, 2, 8, 30, 0).unwrap();
//! let event = RolloutPaused {
//!     app_id: "com.example.shop".into(),
//!     channel: "production".into(),
//!     version: "2.4.1".into(),
//!     percent: Percent::from_basis_points(1250),
//!     actor: "alice".into(),
//!     reason: None,
//! };
//! let body = Envelope::new(event.clone(), happened).to_body();
//! let id = MessageId::generate(&mut rng);
//!
//! // Each attempt: sign with the attempt's time, POST, classify, decide.
//! let now = happened + chrono::Duration::seconds(2);
//! let headers = webhook::sign(&[secret.clone()], &id, now.timestamp(), body.as_bytes()).unwrap();
//! assert!(headers.signature.starts_with("v1,"));
//! // … the HTTP client POSTs `body` with `headers.pairs()`; say the endpoint answered 503:
//! let verdict = retry::classify(&Outcome::Response { status: 503, retry_after: None });
//! let schedule = RetrySchedule::default();
//! match schedule.decide(1, &verdict, &mut rng) {
//!     Decision::RetryAfter { delay } => assert!(delay.as_secs_f64() >= 4.5 && delay.as_secs_f64() <= 5.5),
//!     other => panic!("{other:?}"),
//! }
//!
//! // The receiving side checks the three headers within five minutes.
//! let [(_, h_id), (_, h_ts), (_, h_sig)] = headers.pairs();
//! webhook::verify(&[secret], &h_id, &h_ts, &h_sig, body.as_bytes(), now.timestamp() + 1).unwrap();
//!
//! // A group robot gets the same event as a message in its own format, signed its own way.
//! let robot = Robot::Feishu {
//!     webhook_url: "https://open.feishu.cn/open-apis/bot/v2/hook/xxxx".into(),
//!     secret: Some("feishu-secret".into()),
//!     card: true,
//! };
//! let request = robot.request(&event.into(), Lang::ZhCn, now);
//! assert_eq!(request.body["msg_type"], "interactive");
//! assert_eq!(request.body["timestamp"], now.timestamp().to_string());
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

#![warn(missing_docs)]

pub mod event;
pub mod message;
pub mod retry;
pub mod robot;
pub mod webhook;

pub use event::{Envelope, Event, EventType, Percent, Severity};
pub use message::{render, Fact, Message};
pub use retry::{Decision, GiveUp, Outcome, RetrySchedule, Verdict};
pub use robot::{Robot, RobotKind, RobotRequest};
pub use webhook::{MessageId, SignedHeaders, WebhookSecret};

use serde::{Deserialize, Serialize};

/// The language of a robot message. Every string of a message is in this one language; only data
/// (app ids, versions, channel names, people's names, free-text notes) is shown as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Simplified Chinese (`zh-CN`).
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English (`en`).
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// `zh`, `zh-CN`, `zh_CN.UTF-8` (any case) → Chinese; anything else → English.
    pub fn parse(s: &str) -> Self {
        if s.trim().to_ascii_lowercase().starts_with("zh") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    /// The BCP 47 tag: `zh-CN` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A type string that names no event.
    #[error("unknown event type `{0}`")]
    UnknownEventType(String),
    /// A webhook body that is not an [`Envelope`].
    #[error("invalid webhook payload: {0}")]
    InvalidPayload(String),
    /// A Standard Webhooks secret that cannot be used.
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
    /// Signing needs at least one secret.
    #[error("no webhook secret to sign with")]
    NoSecret,
    /// A Standard Webhooks message could not be verified.
    #[error(transparent)]
    Verify(#[from] webhook::VerifyError),
}
