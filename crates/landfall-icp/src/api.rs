//! Wire types of the ICP desk's HTTP API (`/api/v1/apps/{app}/icp/…`, `/api/v1/icp/…` and the
//! public `GET /icp/{app_id}`), shared by the server and the typed client so both sides agree on
//! every field.
//!
//! Dates are `YYYY-MM-DD` (China calendar dates), instants are RFC 3339 (`DateTime<Utc>`) or epoch
//! milliseconds where the rest of the admin API uses them (`*_at: i64`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{DayKind, HolidayYear};
use crate::compliance::{CheckKind, ComplianceItem};
use crate::display::DisplayInfo;
use crate::documents::{ChecklistItem, DocumentKind, DocumentStatus, ReadinessReport};
use crate::filing::{EventKind, Filing, FilingRecord, FilingState, OrderKind, Timeline};
use crate::ip::IpClass;
use crate::numbers::{NumberKind, Province};
use crate::Localized;

// ------------------------------------------------------------------------------------------------
// Filing
// ------------------------------------------------------------------------------------------------

/// Which part of the filed details changed (decides whether a change filing is needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSection {
    /// The entity (company): name, certificate, address, responsible person, filing province…
    Company,
    /// The app as a filed service: name, platforms, package names, certificates, domains, SDKs…
    App,
    /// Technical details: access providers, server locations and IP addresses.
    Technical,
    /// Only the numbers (no change filing needed).
    Numbers,
}

/// Query options of `PUT /apps/{app}/icp/filing` (the body is the [`FilingRecord`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordParams {
    /// Accept variant number forms seen in the wild (with warnings) instead of refusing them.
    #[serde(default)]
    pub lenient: bool,
    /// Why the record changes (kept in the record history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When a change to an active filing takes effect (checked against the 30-days-in-advance
    /// rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<NaiveDate>,
    /// The service is already filed: record it as active with `numbers.filing` as its number
    /// instead of starting an initial filing in draft.
    #[serde(default)]
    pub already_filed: bool,
}

/// An open change filing (变更备案) of an active filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeFiling {
    pub sections: Vec<ChangeSection>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the change takes effect, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<NaiveDate>,
    /// Latest date to file the change under the 30-days-in-advance rule (33号令 Art. 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_by: Option<NaiveDate>,
}

/// A warning attached to an answer (bilingual, with a stable code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub code: String,
    pub message: Localized,
}

impl Notice {
    pub fn new(code: &str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Notice {
            code: code.to_string(),
            message: Localized::new(en, zh),
        }
    }
}

/// The filing of one app as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingView {
    pub app_id: String,
    pub state: FilingState,
    pub state_label: Localized,
    pub order: OrderKind,
    /// The recorded details differ from what was last approved: a change filing must be
    /// approved before the public details are current again.
    pub update_required: bool,
    /// The open change filing, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeFiling>,
    pub record: FilingRecord,
    /// The details as last approved (absent before the first approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_record: Option<FilingRecord>,
    /// The state machine with its who/when/why history.
    pub filing: Filing,
    pub allowed_events: Vec<EventKind>,
    /// Optimistic-concurrency revision of the stored filing.
    pub revision: i64,
    /// Epoch milliseconds.
    pub updated_at: i64,
    pub updated_by: String,
    /// Warnings of this call (variant number forms, late change notice, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
}

/// One entry of the record history (every recorded change of the details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordChangeInfo {
    pub id: i64,
    /// Epoch milliseconds.
    pub at: i64,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub sections: Vec<ChangeSection>,
    /// A change filing was opened by this change.
    pub change_filing: bool,
}

/// `POST /apps/{app}/icp/filing/transitions`: a [`crate::FilingEvent`] (`{"event": "submit"}`,
/// `{"event": "ca_approve", "number": "京ICP备…号-1A"}`, `{"event": "provider_reject", "reasons":
/// [{"field": "app.name", "error": "…"}]}`) plus these fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionExtras {
    /// Why (kept in the history).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Submit even though the readiness check reports blockers.
    #[serde(default)]
    pub force: bool,
}

/// `GET /apps/{app}/icp/timeline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineView {
    pub timeline: Timeline,
    /// A required document is missing (adds the document-completion stage).
    pub documents_missing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeFiling>,
}

// ------------------------------------------------------------------------------------------------
// Numbers, IPs, calendar
// ------------------------------------------------------------------------------------------------

/// `POST /icp/numbers/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberCheck {
    pub number: String,
    /// Expected kind; detected from the text when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NumberKind>,
    #[serde(default)]
    pub lenient: bool,
}

/// A valid number, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberCheckResult {
    pub kind: NumberKind,
    /// The input after normalisation (full-width → ASCII, spaces removed, …).
    pub normalized: String,
    /// The canonical form to store and display.
    pub canonical: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<Province>,
    /// Where to verify it.
    pub verify_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Localized>,
}

/// `POST /icp/ip-check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpCheck {
    pub ips: Vec<String>,
}

/// One classified address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpCheckItem {
    pub ip: String,
    pub class: IpClass,
    /// Globally routable (not private, loopback, documentation …).
    pub public: bool,
    pub message: Localized,
}

/// Answer of an IP check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpCheckResult {
    pub results: Vec<IpCheckItem>,
    /// Every address is in mainland China.
    pub all_mainland: bool,
}

/// Servers of one access provider, classified (`GET /apps/{app}/icp/hosting`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingProvider {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_province: Option<Province>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_location: Option<String>,
    pub ips: Vec<IpCheckItem>,
}

/// `GET /apps/{app}/icp/hosting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostingReport {
    pub providers: Vec<HostingProvider>,
    pub all_mainland: bool,
}

/// A year loaded by an administrator (replaces or extends the built-in data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarOverride {
    pub year: i32,
    /// Epoch milliseconds.
    pub loaded_at: i64,
    pub loaded_by: String,
}

/// `GET /icp/calendar[?year=]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarInfo {
    pub loaded_years: Vec<i32>,
    pub overrides: Vec<CalendarOverride>,
    /// The holidays of the requested year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<HolidayYear>,
}

/// `GET /icp/calendar/working-days?from=&days=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingDays {
    pub from: NaiveDate,
    pub days: u32,
    /// The `days`-th working day after `from`.
    pub date: NaiveDate,
    pub from_kind: DayKind,
}

/// `GET /icp/calendar/days/{date}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayInfo {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub working: bool,
}

/// `POST /icp/calendar/years` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearLoaded {
    pub year: i32,
    /// A year of the same number was replaced.
    pub replaced: bool,
    pub loaded_years: Vec<i32>,
}

// ------------------------------------------------------------------------------------------------
// Documents
// ------------------------------------------------------------------------------------------------

/// Query of `POST /apps/{app}/icp/documents` (the body is the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadDocument {
    pub kind: DocumentKind,
    pub file_name: String,
    #[serde(default)]
    pub foreign_language: bool,
    #[serde(default)]
    pub has_chinese_translation: bool,
    #[serde(default)]
    pub red_seal_confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
}

/// A stored compliance document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub kind: DocumentKind,
    pub title: Localized,
    pub status: DocumentStatus,
    pub file_name: String,
    /// sha256 hex of the stored bytes.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub is_pdf: bool,
    pub foreign_language: bool,
    pub has_chinese_translation: bool,
    pub red_seal_confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    /// Epoch milliseconds.
    pub uploaded_at: i64,
    pub uploaded_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `PATCH /apps/{app}/icp/documents/{id}`: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    /// `uploaded` or `verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DocumentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_language: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_chinese_translation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_seal_confirmed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `GET /apps/{app}/icp/documents`: the checklist for the entity type and the stored documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentsView {
    /// Empty until the filing record is recorded (the entity type decides the checklist).
    pub checklist: Vec<ChecklistItem>,
    pub documents: Vec<DocumentInfo>,
}

/// `GET /apps/{app}/icp/readiness`.
pub type Readiness = ReadinessReport;

// ------------------------------------------------------------------------------------------------
// Settings, compliance calendar
// ------------------------------------------------------------------------------------------------

/// A TLS or signing certificate whose expiry the compliance calendar tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedCertificate {
    pub subject: String,
    pub expires_on: NaiveDate,
}

/// Per-app ICP settings (`GET`/`PUT /apps/{app}/icp/settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcpSettings {
    /// Refuse bundle uploads that reference hosts outside the filed domains (otherwise warn).
    #[serde(default)]
    pub refuse_unfiled_hosts: bool,
    /// Third-party hosts the app may call without filing them (SDK vendors, CDNs, …); a domain
    /// covers its subdomains.
    #[serde(default)]
    pub ignored_hosts: Vec<String>,
    /// When the app went live (starts the compliance calendar; defaults to the approval date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_date: Option<NaiveDate>,
    /// Certificates whose expiry is tracked.
    #[serde(default)]
    pub certificates: Vec<TrackedCertificate>,
}

/// An evidence file attached to a completed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    /// Epoch milliseconds.
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

/// `POST /apps/{app}/icp/compliance/{check}/completions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteCheck {
    /// Day the check was done (default: today, China time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<NaiveDate>,
    #[serde(default)]
    pub notes: String,
    /// Measurements or findings; pre-filled from the server for `server_performance` and
    /// `security_check` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurements: Option<serde_json::Value>,
}

/// A recorded completion of a compliance check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionInfo {
    pub id: i64,
    pub check: CheckKind,
    pub on: NaiveDate,
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurements: Option<serde_json::Value>,
    #[serde(default)]
    pub evidence: Vec<EvidenceFile>,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub created_by: String,
}

/// `GET /apps/{app}/icp/compliance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceView {
    pub today: NaiveDate,
    pub launch_date: NaiveDate,
    /// No launch date is set and the filing is not approved yet: today is assumed.
    pub launch_date_assumed: bool,
    pub items: Vec<ComplianceItem>,
    pub completions: Vec<CompletionInfo>,
}

/// Server measurements for the weekly performance review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerPerformance {
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: u64,
    pub requests_served: u64,
    /// `POST /updates` calls (device update checks).
    pub update_checks: u64,
    /// Answers with a 5xx status.
    pub server_errors: u64,
    /// Mean handling time of all requests, milliseconds.
    pub mean_latency_ms: f64,
    /// Slowest request since start, milliseconds.
    pub max_latency_ms: f64,
}

/// A bundle and the keys its stored variants are encrypted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEncryption {
    pub version: String,
    /// Key ids of the encrypted variants (empty = plain only).
    pub key_ids: Vec<String>,
    /// A plain (unencrypted) variant is stored.
    pub has_plain_variant: bool,
}

/// Findings for the quarterly security check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityCheckFacts {
    pub bundles_total: usize,
    /// Live bundles served without encryption (a variant without key).
    pub unencrypted: Vec<String>,
    pub bundles: Vec<BundleEncryption>,
    /// Every key id in use by a stored bundle.
    pub key_ids: Vec<String>,
    /// Public keys registered for the app (bundles are verified against them).
    #[serde(default)]
    pub registered_keys: Vec<RegisteredKey>,
}

/// A public key registered for an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredKey {
    pub key_id: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub created_by: String,
    /// Some stored bundle is encrypted with it.
    pub in_use: bool,
}

// ------------------------------------------------------------------------------------------------
// Emergency response, incidents, kill switch
// ------------------------------------------------------------------------------------------------

/// A person or organisation to call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    /// Role or authority (e.g. `网信办`, `公安网安`, `通信管理局`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub phone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The emergency-response set-up of an app (`GET`/`PUT /apps/{app}/icp/emergency`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencySetup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_officer: Option<Contact>,
    #[serde(default)]
    pub authority_contacts: Vec<Contact>,
    /// Hosting/access provider support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_counsel: Option<Contact>,
}

/// How bad an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSeverity {
    Low,
    Medium,
    High,
    Critical,
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Contained,
    Resolved,
    Closed,
}

/// `POST /apps/{app}/icp/incidents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub title: String,
    pub severity: IncidentSeverity,
    /// Responsible officer (default: the compliance officer of the emergency set-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    #[serde(default)]
    pub description: String,
    /// When it happened (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
}

/// `POST /apps/{app}/icp/incidents/{id}/timeline`: a note, a linked action and/or a status change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IncidentStatus>,
    /// A linked action (e.g. `{"kind": "report_to_authority", "detail": "…"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<IncidentActionInput>,
}

/// A linked action as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentActionInput {
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

/// One timeline entry of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// `opened`, `note`, `status`, `action`, `kill_switch`.
    pub kind: String,
    #[serde(default)]
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IncidentStatus>,
}

/// A channel moved by the kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMove {
    pub channel: String,
    /// Version or `builtin`.
    pub from: String,
    pub to: String,
    /// A progressive rollout was ended.
    pub rollout_ended: bool,
}

/// An action linked to an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentAction {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    #[serde(default)]
    pub detail: String,
    /// Channels moved (kill switch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelMove>,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub severity: IncidentSeverity,
    pub status: IncidentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub officer: Option<String>,
    #[serde(default)]
    pub description: String,
    pub occurred_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    pub opened_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    pub timeline: Vec<IncidentEvent>,
    pub actions: Vec<IncidentAction>,
}

/// `POST /apps/{app}/icp/incidents/{id}/kill-switch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitch {
    /// Known-good bundle version, or `builtin` (the version shipped in the native app).
    pub target: String,
    #[serde(default)]
    pub note: String,
}

/// Answer of the kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitchResult {
    pub target: String,
    pub channels: Vec<ChannelMove>,
    pub incident: Incident,
}

// ------------------------------------------------------------------------------------------------
// Records, report, public display
// ------------------------------------------------------------------------------------------------

/// One content change of the export (`GET /apps/{app}/icp/export?format=json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentChange {
    pub id: i64,
    /// Epoch milliseconds.
    pub at: i64,
    /// The same instant in China time (RFC 3339, `+08:00`).
    pub at_china: String,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// The export of content changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentChanges {
    pub app_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub changes: Vec<ContentChange>,
}

/// The full compliance report (`GET /apps/{app}/icp/report`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceReport {
    pub app_id: String,
    pub app_name: String,
    pub generated_at: DateTime<Utc>,
    pub today: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing: Option<FilingView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<TimelineView>,
    /// Why there is no timeline (e.g. a calendar year is not loaded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_error: Option<Localized>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<DisplayInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<ReadinessReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosting: Option<HostingReport>,
    pub documents: Vec<DocumentInfo>,
    pub compliance: ComplianceView,
    pub record_changes: Vec<RecordChangeInfo>,
    /// Content changes of the last 90 days.
    pub content_changes: Vec<ContentChange>,
    pub incidents: Vec<Incident>,
    pub emergency: EmergencySetup,
    pub settings: IcpSettings,
}

/// The public display of an app's filing (`GET /icp/{app_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicFiling {
    pub app_id: String,
    #[serde(flatten)]
    pub display: DisplayInfo,
}

/// Counts of a backup archive (also in its `manifest.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCounts {
    pub documents: usize,
    pub evidence_files: usize,
    pub incidents: usize,
    pub completions: usize,
    pub content_changes: usize,
    /// Entries per top-level folder of the archive.
    pub files: BTreeMap<String, usize>,
}
