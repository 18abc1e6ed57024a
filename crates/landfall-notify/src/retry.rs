//! The delivery policy: what an attempt's outcome means, and when to try again.
//!
//! 1. The HTTP client reports an [`Outcome`]: a response's status (and `Retry-After`, parsed with
//!    [`parse_retry_after`]), a timeout, or a connection failure.
//! 2. [`classify`] (Standard Webhooks endpoints) or [`crate::RobotKind::classify`] (robots, which
//!    also read the answer's `errcode` / `code`) turns it into a [`Verdict`]: delivered, worth
//!    retrying, or a permanent failure.
//!    - 2xx: delivered.
//!    - 408, 429 and 5xx, timeouts and connection failures: retry.
//!    - Other statuses (4xx, and 1xx/3xx which a client following redirects should not report):
//!      permanent failure; trying again would get the same answer.
//! 3. [`RetrySchedule::decide`] turns the verdict and the number of attempts made into a
//!    [`Decision`]: done, try again after a delay, or give up.
//!
//! The default schedule tries at once, then waits 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h and
//! 6 h between attempts (nine attempts over about ten hours), each wait moved by up to ±10 % at
//! random so that many failed deliveries to one endpoint do not come back together. A
//! `Retry-After` from the receiver lengthens a wait (never shortens it), up to one hour.

use std::time::Duration;

use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

/// What one delivery attempt produced, as the HTTP client saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// An HTTP response arrived.
    Response {
        /// Its status code.
        status: u16,
        /// Its `Retry-After` header, when it held a number of seconds ([`parse_retry_after`]).
        /// Serde: `retry_after_ms`.
        #[serde(
            default,
            rename = "retry_after_ms",
            with = "millis::option",
            skip_serializing_if = "Option::is_none"
        )]
        retry_after: Option<Duration>,
    },
    /// No (complete) response within the client's time limit.
    Timeout,
    /// The connection could not be made or broke (DNS, refused, reset, TLS).
    ConnectionFailed,
}

/// What an attempt's outcome means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The receiver took the message.
    Delivered,
    /// A failure that may pass: try again.
    Retry {
        /// What went wrong, for the delivery log (e.g. `HTTP 503`, `errcode 130101`).
        detail: String,
        /// How long the receiver asked to wait, if it did. Serde: `retry_after_ms`.
        #[serde(
            default,
            rename = "retry_after_ms",
            with = "millis::option",
            skip_serializing_if = "Option::is_none"
        )]
        retry_after: Option<Duration>,
    },
    /// A failure that will not pass by trying again (bad URL, wrong secret, rejected content).
    Permanent {
        /// What went wrong, for the delivery log.
        detail: String,
    },
}

impl Verdict {
    pub(crate) fn retry(detail: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Verdict::Retry {
            detail: detail.into(),
            retry_after,
        }
    }

    pub(crate) fn permanent(detail: impl Into<String>) -> Self {
        Verdict::Permanent {
            detail: detail.into(),
        }
    }
}

/// Classifies an attempt at a plain (Standard Webhooks) endpoint by its status alone.
pub fn classify(outcome: &Outcome) -> Verdict {
    match *outcome {
        Outcome::Response {
            status,
            retry_after,
        } => match status {
            200..=299 => Verdict::Delivered,
            408 | 429 | 500..=599 => Verdict::retry(format!("HTTP {status}"), retry_after),
            _ => Verdict::permanent(format!("HTTP {status}")),
        },
        Outcome::Timeout => Verdict::retry("timeout", None),
        Outcome::ConnectionFailed => Verdict::retry("connection failed", None),
    }
}

/// Reads a `Retry-After` header in its delta-seconds form (`120`). The HTTP-date form needs a
/// clock and is not read (`None`); the schedule's own delay applies then.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Absurdly long numbers saturate; the cap applies later anyway.
    Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)))
}

/// Why a message will not be tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum GiveUp {
    /// The last attempt failed permanently.
    Permanent {
        /// Its detail.
        detail: String,
    },
    /// Every attempt of the schedule failed.
    Exhausted {
        /// The last attempt's detail.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Delivered: done.
    Delivered,
    /// Try again after this delay (with the same message id and body, signed anew).
    RetryAfter {
        /// How long to wait. Serde: `delay_ms`.
        #[serde(rename = "delay_ms", with = "millis")]
        delay: Duration,
    },
    /// Stop: mark the message failed in the delivery log.
    GiveUp(GiveUp),
}

/// When to try a message again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// `delays[n]` is the wait before attempt `n` (0-based) after attempt `n - 1` failed;
    /// `delays[0]` is the wait before the first attempt (normally zero). The schedule makes
    /// `delays.len()` attempts at most. Serde: `delays_ms`.
    #[serde(rename = "delays_ms", with = "millis::vec")]
    pub delays: Vec<Duration>,
    /// How far each wait may move at random, in thousandths either way (100 = ±10 %).
    pub jitter_permille: u16,
    /// The longest `Retry-After` honoured; a longer one is cut to this. Serde:
    /// `max_retry_after_ms`.
    #[serde(rename = "max_retry_after_ms", with = "millis")]
    pub max_retry_after: Duration,
}

impl Default for RetrySchedule {
    /// Attempts at once, then after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h and 6 h; ±10 %
    /// jitter; `Retry-After` honoured up to one hour.
    fn default() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 60 * MIN;
        RetrySchedule {
            delays: [
                0,
                5,
                30,
                2 * MIN,
                10 * MIN,
                30 * MIN,
                HOUR,
                3 * HOUR,
                6 * HOUR,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            jitter_permille: 100,
            max_retry_after: Duration::from_secs(HOUR),
        }
    }
}

impl RetrySchedule {
    /// The most attempts the schedule makes.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// The jittered wait before attempt `attempt` (0-based), or `None` past the schedule's end.
    pub fn delay_before<R: RngCore + ?Sized>(&self, attempt: u32, rng: &mut R) -> Option<Duration> {
        let base = *self.delays.get(usize::try_from(attempt).ok()?)?;
        Some(self.jitter(base, rng))
    }

    fn jitter<R: RngCore + ?Sized>(&self, base: Duration, rng: &mut R) -> Duration {
        let spread = i64::from(self.jitter_permille.min(1000));
        if spread == 0 || base.is_zero() {
            return base;
        }
        let offset = rng.gen_range(-spread..=spread);
        let millis = base.as_millis();
        // (1000 + offset) is in 0..=2000, so the product stays far within u128.
        let jittered = millis * u128::try_from(1000 + offset).unwrap_or(1000) / 1000;
        Duration::from_millis(u64::try_from(jittered).unwrap_or(u64::MAX))
    }

    /// Decides what follows an attempt. `attempts_made` counts the attempts of this message so
    /// far, the one just judged included (1 after the first attempt).
    pub fn decide<R: RngCore + ?Sized>(
        &self,
        attempts_made: u32,
        verdict: &Verdict,
        rng: &mut R,
    ) -> Decision {
        match verdict {
            Verdict::Delivered => Decision::Delivered,
            Verdict::Permanent { detail } => Decision::GiveUp(GiveUp::Permanent {
                detail: detail.clone(),
            }),
            Verdict::Retry {
                detail,
                retry_after,
            } => match self.delay_before(attempts_made, rng) {
                None => Decision::GiveUp(GiveUp::Exhausted {
                    detail: detail.clone(),
                    attempts: attempts_made,
                }),
                Some(delay) => {
                    let asked = retry_after.map(|d| d.min(self.max_retry_after));
                    Decision::RetryAfter {
                        delay: asked.map_or(delay, |asked| asked.max(delay)),
                    }
                }
            },
        }
    }
}

/// Serde of durations as whole milliseconds, for the delivery log and configuration.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    fn ms(d: &Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(ms(d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&ms(d)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
        }
    }

    pub mod vec {
        use super::*;
        use serde::ser::SerializeSeq;

        pub fn serialize<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for d in v {
                seq.serialize_element(&ms(d))?;
            }
            seq.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
            Ok(Vec::<u64>::deserialize(d)?
                .into_iter()
                .map(Duration::from_millis)
                .collect())
        }
    }
}
