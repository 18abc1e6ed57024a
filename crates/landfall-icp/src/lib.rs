//! landfall-icp: the pure domain library behind Landfall's ICP-filing (ICP备案) compliance desk.
//!
//! No IO, no HTTP, no database, no clock: callers pass dates and data in, and get values, reports
//! and errors back. Modules:
//!
//! - [`numbers`]: ICP filing / licence / public-security numbers (normalise, parse, validate).
//! - [`calendar`]: Chinese working-day calendar with statutory holidays and make-up working days.
//! - [`filing`]: the filing record, the filing state machine with history, and timeline estimates.
//! - [`documents`]: the document checklist per entity type and the readiness report.
//! - [`ip`]: mainland-China IP range table (HK/MO/TW excluded).
//! - [`drift`]: hosts referenced by app bundles vs. the filed domains.
//! - [`compliance`]: recurring compliance checks and expiry calendar.
//! - [`display`]: the public display text/HTML for an app's About page.
//!
//! - [`api`]: wire types of the ICP desk's HTTP API, shared by server and client.
//!
//! Every user-facing message exists in English and Chinese ([`Localized`]).

pub mod api;
pub mod calendar;
pub mod compliance;
pub mod display;
pub mod documents;
pub mod drift;
pub mod filing;
pub mod ip;
pub mod numbers;

use serde::{Deserialize, Serialize};

/// A message in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub en: String,
    pub zh: String,
}

impl Localized {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Localized {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Will (almost certainly) cause a rejection; must be fixed before submitting.
    Blocker,
    /// Risky or incomplete; review before submitting.
    Warning,
}

/// One result of a check: a stable machine code, the field it concerns, and a bilingual message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable snake_case identifier, e.g. `document_missing`, `server_not_mainland`.
    pub code: String,
    /// Dotted path of the field concerned, e.g. `app.platforms[0].cert_fingerprint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: Localized,
}

impl Finding {
    pub fn blocker(
        code: &str,
        field: Option<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Blocker,
            code: code.to_string(),
            field,
            message: Localized::new(en, zh),
        }
    }

    pub fn warning(
        code: &str,
        field: Option<String>,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            code: code.to_string(),
            field,
            message: Localized::new(en, zh),
        }
    }
}

impl std::fmt::Display for Localized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.en, self.zh)
    }
}

pub use calendar::{CalendarError, DayKind, HolidayYear, WorkCalendar};
pub use documents::{is_pdf, DocumentKind, DocumentRecord, DocumentStatus, ReadinessReport};
pub use filing::{Filing, FilingEvent, FilingRecord, FilingState, TransitionError};
pub use ip::{IpClass, IpTable, IpTableError};
pub use numbers::{
    FilingNumbers, IcpFilingNumber, IcpLicenceNumber, NumberError, ParseOptions, Province,
    PsbNumber, ServiceKind,
};
