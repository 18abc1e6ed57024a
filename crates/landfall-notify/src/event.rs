//! The typed notification events and their Standard Webhooks JSON payload.
//!
//! Every event has a stable dot-separated type string ([`EventType::as_str`], e.g.
//! `rollout.paused`) and a data object. On the wire (a signed webhook's body) an event is wrapped in
//! an [`Envelope`]: `{"type": "...", "timestamp": "RFC 3339", "data": {...}}`, the payload shape the
//! Standard Webhooks specification recommends.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use landfall_icp::filing::FilingState;
use landfall_icp::Localized;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// A rollout share, held exactly in basis points (1/100 of a percent, 0–10000) like the channel
/// model; serialised as a percentage number (`2500` basis points ↔ `25`, `1250` ↔ `12.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u16);

impl Percent {
    /// 100 %.
    pub const FULL: Percent = Percent(10_000);

    /// From basis points (`2500` = 25 %); values above 10000 are clamped to 100 %.
    pub fn from_basis_points(basis_points: u16) -> Self {
        Percent(basis_points.min(10_000))
    }

    /// The share in basis points (0–10000).
    pub fn basis_points(self) -> u16 {
        self.0
    }

    /// The share as a percentage (`12.5` for 1250 basis points).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Percent {
    /// `25%`, `12.5%`, `0.05%`: no trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            write!(f, "{whole}%")
        } else if frac % 10 == 0 {
            write!(f, "{whole}.{}%", frac / 10)
        } else {
            write!(f, "{whole}.{frac:02}%")
        }
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_u64(u64::from(self.0 / 100))
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if !(0.0..=100.0).contains(&value) {
            return Err(D::Error::custom(format!(
                "a percentage between 0 and 100, got {value}"
            )));
        }
        Ok(Percent((value * 100.0).round() as u16))
    }
}

/// A new bundle was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleUploaded {
    /// The app's id (e.g. `com.example.app`).
    pub app_id: String,
    /// The bundle's version name.
    pub version: String,
    /// Who uploaded it (user or token name).
    pub actor: String,
    /// The channel the upload was set on at once, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// A channel was pointed at another target (outside a rollout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelChanged {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version it served before, or `builtin`.
    pub from: String,
    /// The version it serves now, or `builtin`.
    pub to: String,
    /// Who changed it.
    pub actor: String,
}

/// A progressive rollout of a version started on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStarted {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version being rolled out.
    pub version: String,
    /// What the rest of the channel keeps getting (a version or `builtin`).
    pub from: String,
    /// The share of the channel's devices offered the new version.
    pub percent: Percent,
    /// Who started it.
    pub actor: String,
}

/// A rollout's share was changed (a step up, or down).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStepped {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version being rolled out.
    pub version: String,
    /// The share before.
    pub from_percent: Percent,
    /// The share now.
    pub to_percent: Percent,
    /// Who changed it (`system` for a scheduled step).
    pub actor: String,
}

/// A rollout was paused by hand (devices already on it keep it; no new device joins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPaused {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version being rolled out.
    pub version: String,
    /// The share at which it stopped.
    pub percent: Percent,
    /// Who paused it.
    pub actor: String,
    /// Why, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A paused rollout was resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutResumed {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version being rolled out.
    pub version: String,
    /// The share it resumes at.
    pub percent: Percent,
    /// Who resumed it.
    pub actor: String,
}

/// A rollout was ended without promotion: every device goes back to the channel's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutAborted {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version that was being rolled out.
    pub version: String,
    /// The share it had reached.
    pub percent: Percent,
    /// What the channel's devices go back to (a version or `builtin`).
    pub back_to: String,
    /// Who aborted it.
    pub actor: String,
    /// Why, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A rollout was promoted: the channel now serves its version to every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPromoted {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version now served to every device of the channel.
    pub version: String,
    /// What the channel served before (a version or `builtin`).
    pub from: String,
    /// Who promoted it.
    pub actor: String,
}

/// The release guard paused a rollout by itself because its install failure rate crossed the
/// threshold. Rates are fractions (`0.05` = 5 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoPaused {
    /// The app's id.
    pub app_id: String,
    /// The channel's name.
    pub channel: String,
    /// The version being rolled out.
    pub version: String,
    /// The share at which it stopped.
    pub percent: Percent,
    /// Failed installs among the sample.
    pub failures: u64,
    /// Install attempts observed (the sample size).
    pub sample_size: u64,
    /// Observed failure rate, `failures / sample_size`.
    pub failure_rate: f64,
    /// Lower bound of the Wilson score interval of the failure rate: the guard acts when even this
    /// optimistic estimate is above the threshold.
    pub wilson_lower_bound: f64,
    /// The failure rate the guard tolerates.
    pub threshold: f64,
    /// The failure rate of the version the rest of the channel runs, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_failure_rate: Option<f64>,
}

/// A channel moved by the kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMove {
    /// The channel's name.
    pub channel: String,
    /// The version it served, or `builtin`.
    pub from: String,
    /// The version it serves now, or `builtin`.
    pub to: String,
    /// A progressive rollout on it was ended.
    pub rollout_ended: bool,
}

/// The kill switch moved every channel of an app to one known-good target at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitch {
    /// The app's id.
    pub app_id: String,
    /// The known-good target: a version or `builtin`.
    pub target: String,
    /// The channels moved.
    pub channels: Vec<ChannelMove>,
    /// The incident it was pulled for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<i64>,
    /// Who pulled it.
    pub actor: String,
    /// The note given, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The app's ICP filing moved to another state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcpFilingStateChanged {
    /// The app's id.
    pub app_id: String,
    /// The state before.
    pub from: FilingState,
    /// The state now.
    pub to: FilingState,
    /// Who recorded the change.
    pub actor: String,
    /// The filing number, once issued (e.g. `京ICP备12345678号-1A`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_number: Option<String>,
    /// The note recorded with the change (e.g. a rejection reason), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A recurring compliance check (content audit, security check, …) is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcpComplianceOverdue {
    /// The app's id.
    pub app_id: String,
    /// The compliance item's stable key (e.g. `content_audit`).
    pub item_key: String,
    /// The item's title in English and Chinese.
    pub title: Localized,
    /// The day it was due.
    pub due_on: NaiveDate,
    /// Days since it was due.
    pub days_overdue: u32,
}

/// A document, domain, certificate or licence on the compliance calendar expires soon (or has
/// expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcpDocumentExpiring {
    /// The app's id.
    pub app_id: String,
    /// The compliance item's stable key (e.g. `expiry:domain:example.cn`).
    pub item_key: String,
    /// What expires, in English and Chinese, e.g. `certificate example.cn` /
    /// `证书「example.cn」`.
    pub title: Localized,
    /// The expiry date.
    pub expires_on: NaiveDate,
    /// Days left until it expires; negative once it has expired.
    pub days_left: i64,
}

/// A test notification, sent by the test-send command to check an endpoint or robot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEvent {
    /// The app the endpoint belongs to, if it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Who asked for the test.
    pub actor: String,
    /// A free text shown in the message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($data:ident) = $ty:literal, )+) => {
        /// A notification event: one variant per kind, each holding its data.
        ///
        /// Serde form (also the `type`/`data` part of an [`Envelope`]):
        /// `{"type": "rollout.paused", "data": {...}}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum Event {
            $( $(#[$doc])* #[serde(rename = $ty)] $variant($data), )+
        }

        /// The kind of an [`Event`], without its data: what an endpoint subscribes to.
        /// Serialised as its type string (`rollout.paused`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventType {
            $( $(#[$doc])* $variant, )+
        }

        impl EventType {
            /// Every event type, in declaration order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            /// The stable type string, e.g. `rollout.paused`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $ty,)+
                }
            }
        }

        impl Event {
            /// The event's kind.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(Event::$variant(_) => EventType::$variant,)+
                }
            }

            fn serialize_data_entry<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self {
                    $(Event::$variant(data) => map.serialize_entry("data", data),)+
                }
            }
        }

        $(
            impl From<$data> for Event {
                fn from(data: $data) -> Self {
                    Event::$variant(data)
                }
            }
        )+
    };
}

events! {
    /// `bundle.uploaded`
    BundleUploaded(BundleUploaded) = "bundle.uploaded",
    /// `channel.changed`
    ChannelChanged(ChannelChanged) = "channel.changed",
    /// `rollout.started`
    RolloutStarted(RolloutStarted) = "rollout.started",
    /// `rollout.stepped`
    RolloutStepped(RolloutStepped) = "rollout.stepped",
    /// `rollout.paused`
    RolloutPaused(RolloutPaused) = "rollout.paused",
    /// `rollout.resumed`
    RolloutResumed(RolloutResumed) = "rollout.resumed",
    /// `rollout.aborted`
    RolloutAborted(RolloutAborted) = "rollout.aborted",
    /// `rollout.promoted`
    RolloutPromoted(RolloutPromoted) = "rollout.promoted",
    /// `rollout.auto_paused`
    AutoPaused(AutoPaused) = "rollout.auto_paused",
    /// `kill_switch.activated`
    KillSwitch(KillSwitch) = "kill_switch.activated",
    /// `icp.filing_state_changed`
    IcpFilingStateChanged(IcpFilingStateChanged) = "icp.filing_state_changed",
    /// `icp.compliance_overdue`
    IcpComplianceOverdue(IcpComplianceOverdue) = "icp.compliance_overdue",
    /// `icp.document_expiring`
    IcpDocumentExpiring(IcpDocumentExpiring) = "icp.document_expiring",
    /// `webhook.test`
    Test(TestEvent) = "webhook.test",
}

impl EventType {
    /// Whether this type is selected by a subscription pattern: the exact type string
    /// (`rollout.paused`), a group (`rollout.*`, `icp.*`), or everything (`*`).
    pub fn matches(self, pattern: &str) -> bool {
        let ty = self.as_str();
        match pattern.trim() {
            "*" => true,
            p => match p.strip_suffix(".*") {
                Some(group) => ty
                    .strip_prefix(group)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => ty == p,
            },
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        EventType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::UnknownEventType(s.to_string()))
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(D::Error::custom)
    }
}

/// How urgent an event is; robots colour their messages by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Something happened as planned.
    Info,
    /// Needs a look soon.
    Warning,
    /// Needs someone now: devices are affected or a deadline has passed.
    Critical,
}

impl Event {
    /// The app the event concerns (`None` only for a test event not tied to an app).
    pub fn app_id(&self) -> Option<&str> {
        Some(match self {
            Event::BundleUploaded(e) => &e.app_id,
            Event::ChannelChanged(e) => &e.app_id,
            Event::RolloutStarted(e) => &e.app_id,
            Event::RolloutStepped(e) => &e.app_id,
            Event::RolloutPaused(e) => &e.app_id,
            Event::RolloutResumed(e) => &e.app_id,
            Event::RolloutAborted(e) => &e.app_id,
            Event::RolloutPromoted(e) => &e.app_id,
            Event::AutoPaused(e) => &e.app_id,
            Event::KillSwitch(e) => &e.app_id,
            Event::IcpFilingStateChanged(e) => &e.app_id,
            Event::IcpComplianceOverdue(e) => &e.app_id,
            Event::IcpDocumentExpiring(e) => &e.app_id,
            Event::Test(e) => return e.app_id.as_deref(),
        })
    }

    /// How urgent the event is.
    pub fn severity(&self) -> Severity {
        match self {
            Event::AutoPaused(_) | Event::KillSwitch(_) | Event::RolloutAborted(_) => {
                Severity::Critical
            }
            Event::IcpDocumentExpiring(e) if e.days_left < 0 => Severity::Critical,
            Event::RolloutPaused(_)
            | Event::IcpComplianceOverdue(_)
            | Event::IcpDocumentExpiring(_) => Severity::Warning,
            // Sent back to draft from a review: a rejection.
            Event::IcpFilingStateChanged(e)
                if e.to == FilingState::Draft && e.from != FilingState::Draft =>
            {
                Severity::Warning
            }
            _ => Severity::Info,
        }
    }
}

/// An event with the time it happened: the Standard Webhooks payload
/// `{"type": "...", "timestamp": "2026-12-02T08:30:00.000Z", "data": {...}}`.
///
/// Serialise it once per message ([`Envelope::to_body`]) and keep the bytes: every retry must send
/// (and sign) the same body.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// When the event happened (not when it is delivered).
    pub timestamp: DateTime<Utc>,
    /// The event.
    pub event: Event,
}

impl Envelope {
    /// Wraps an event that happened at `timestamp`.
    pub fn new(event: impl Into<Event>, timestamp: DateTime<Utc>) -> Self {
        Envelope {
            timestamp,
            event: event.into(),
        }
    }

    /// The JSON body (compact), as sent and signed.
    pub fn to_body(&self) -> String {
        // Plain structs of strings and numbers with string keys: serde_json cannot fail on them
        // (a non-finite float would become `null`, not an error).
        serde_json::to_string(self).expect("an envelope always serialises to JSON")
    }

    /// Parses a body made by [`Envelope::to_body`] (e.g. on the receiving side, after
    /// [`crate::webhook::verify`]).
    pub fn from_body(body: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(body).map_err(|e| Error::InvalidPayload(e.to_string()))
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("type", self.event.event_type().as_str())?;
        map.serialize_entry(
            "timestamp",
            &self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        )?;
        self.event.serialize_data_entry(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            kind: String,
            timestamp: DateTime<Utc>,
            data: serde_json::Value,
        }
        let raw = Raw::deserialize(d)?;
        let event = serde_json::from_value(serde_json::json!({
            "type": raw.kind,
            "data": raw.data,
        }))
        .map_err(D::Error::custom)?;
        Ok(Envelope {
            timestamp: raw.timestamp,
            event,
        })
    }
}
