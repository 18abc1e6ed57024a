//! Compliance calendar: the recurring post-filing checks (content audit monthly, security check
//! quarterly, server performance weekly, user-data review monthly, documentation quarterly), the
//! public-security filing due within 30 days of launch, and document/domain/certificate expiries,
//! each with a due date and a status (done / due / overdue).
//!
//! Recurring checks are rolling: the next one is due one interval after the last completion (or
//! after launch if never done). Status: `Overdue` after the due date; `Due` inside the reminder
//! window before it (2 days weekly, 7 days monthly, 14 days quarterly) or when never done;
//! otherwise `Done`. Expiries: `Overdue` once expired, `Due` when less than 3 months remain,
//! otherwise `Done` (nothing to do yet).

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::filing::record::three_months_after;
use crate::Localized;

/// Kinds of compliance checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Content audit (monthly).
    ContentAudit,
    /// Security check (quarterly).
    SecurityCheck,
    /// Server performance review (weekly).
    ServerPerformance,
    /// User-data handling review (monthly).
    UserDataReview,
    /// Documentation review (quarterly).
    DocumentationReview,
    /// Public-security filing (once, within 30 days of launch).
    PublicSecurityFiling,
}

/// How often a check recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Monthly,
    Quarterly,
    /// Once, within this many days of launch.
    OnceWithinDays(u32),
}

impl CheckKind {
    pub const ALL: [CheckKind; 6] = [
        CheckKind::ContentAudit,
        CheckKind::SecurityCheck,
        CheckKind::ServerPerformance,
        CheckKind::UserDataReview,
        CheckKind::DocumentationReview,
        CheckKind::PublicSecurityFiling,
    ];

    pub fn cadence(self) -> Cadence {
        match self {
            CheckKind::ContentAudit | CheckKind::UserDataReview => Cadence::Monthly,
            CheckKind::SecurityCheck | CheckKind::DocumentationReview => Cadence::Quarterly,
            CheckKind::ServerPerformance => Cadence::Weekly,
            CheckKind::PublicSecurityFiling => Cadence::OnceWithinDays(30),
        }
    }

    pub fn title(self) -> Localized {
        let (en, zh) = match self {
            CheckKind::ContentAudit => ("Content audit", "内容审核"),
            CheckKind::SecurityCheck => ("Security check", "安全检查"),
            CheckKind::ServerPerformance => ("Server performance review", "服务器性能检查"),
            CheckKind::UserDataReview => ("User data review", "用户数据审查"),
            CheckKind::DocumentationReview => ("Documentation review", "备案资料复核"),
            CheckKind::PublicSecurityFiling => (
                "Public-security filing (within 30 days of launch)",
                "公安联网备案（上线后 30 日内）",
            ),
        };
        Localized::new(en, zh)
    }

    fn key(self) -> &'static str {
        match self {
            CheckKind::ContentAudit => "content_audit",
            CheckKind::SecurityCheck => "security_check",
            CheckKind::ServerPerformance => "server_performance",
            CheckKind::UserDataReview => "user_data_review",
            CheckKind::DocumentationReview => "documentation_review",
            CheckKind::PublicSecurityFiling => "public_security_filing",
        }
    }
}

/// A completed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub kind: CheckKind,
    pub on: NaiveDate,
}

/// What expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryKind {
    Document,
    Domain,
    /// TLS or signing certificate.
    Certificate,
    /// Commercial licence or pre-approval.
    Licence,
}

impl ExpiryKind {
    fn label(self) -> (&'static str, &'static str) {
        match self {
            ExpiryKind::Document => ("document", "证件/材料"),
            ExpiryKind::Domain => ("domain", "域名"),
            ExpiryKind::Certificate => ("certificate", "证书"),
            ExpiryKind::Licence => ("licence", "许可证"),
        }
    }
}

/// Something with an expiry date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    pub kind: ExpiryKind,
    /// What it is, e.g. `example.cn`, `business licence`.
    pub subject: String,
    pub expires_on: NaiveDate,
}

/// Status of a compliance item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Overdue,
    Due,
    Done,
}

/// What an item is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemSubject {
    Check { check: CheckKind },
    Expiry { expiry: ExpiryKind, subject: String },
}

/// One line of the compliance calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceItem {
    /// Stable key, e.g. `content_audit`, `expiry:domain:example.cn`.
    pub key: String,
    pub subject: ItemSubject,
    pub title: Localized,
    pub due_on: NaiveDate,
    pub status: ItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_done: Option<NaiveDate>,
}

fn add_interval(date: NaiveDate, cadence: Cadence) -> NaiveDate {
    let r = match cadence {
        Cadence::Weekly => date.checked_add_days(Days::new(7)),
        Cadence::Monthly => date.checked_add_months(Months::new(1)),
        Cadence::Quarterly => date.checked_add_months(Months::new(3)),
        Cadence::OnceWithinDays(d) => date.checked_add_days(Days::new(u64::from(d))),
    };
    r.unwrap_or(NaiveDate::MAX)
}

fn reminder_days(cadence: Cadence) -> u64 {
    match cadence {
        Cadence::Weekly => 2,
        Cadence::Monthly => 7,
        Cadence::Quarterly => 14,
        Cadence::OnceWithinDays(d) => u64::from(d),
    }
}

/// Builds the compliance calendar as of `today`. Completions dated after `today` are ignored.
/// Items are sorted by status (overdue first), then due date.
pub fn compliance_calendar(
    launch: NaiveDate,
    today: NaiveDate,
    completions: &[Completion],
    expiries: &[Expiry],
) -> Vec<ComplianceItem> {
    let mut items = Vec::new();
    for kind in CheckKind::ALL {
        let cadence = kind.cadence();
        let last_done = completions
            .iter()
            .filter(|c| c.kind == kind && c.on <= today)
            .map(|c| c.on)
            .max();
        let (due_on, status) = match cadence {
            Cadence::OnceWithinDays(_) => {
                let due = add_interval(launch, cadence);
                let status = if last_done.is_some() {
                    ItemStatus::Done
                } else if today > due {
                    ItemStatus::Overdue
                } else {
                    ItemStatus::Due
                };
                (due, status)
            }
            _ => {
                let base = match last_done {
                    Some(d) if d >= launch => d,
                    _ => launch,
                };
                let due = add_interval(base, cadence);
                let reminder_from = due
                    .checked_sub_days(Days::new(reminder_days(cadence)))
                    .unwrap_or(NaiveDate::MIN);
                let status = if today > due {
                    ItemStatus::Overdue
                } else if last_done.is_none() || today >= reminder_from {
                    ItemStatus::Due
                } else {
                    ItemStatus::Done
                };
                (due, status)
            }
        };
        items.push(ComplianceItem {
            key: kind.key().to_string(),
            subject: ItemSubject::Check { check: kind },
            title: kind.title(),
            due_on,
            status,
            last_done,
        });
    }
    for e in expiries {
        let status = if today > e.expires_on {
            ItemStatus::Overdue
        } else if e.expires_on < three_months_after(today) {
            ItemStatus::Due
        } else {
            ItemStatus::Done
        };
        let (en, zh) = e.kind.label();
        let key_kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        items.push(ComplianceItem {
            key: format!("expiry:{key_kind}:{}", e.subject),
            subject: ItemSubject::Expiry {
                expiry: e.kind,
                subject: e.subject.clone(),
            },
            title: Localized::new(
                format!("Renew {en} {} (expires {})", e.subject, e.expires_on),
                format!("续期{zh}「{}」（{} 到期）", e.subject, e.expires_on),
            ),
            due_on: e.expires_on,
            status,
            last_done: None,
        });
    }
    items.sort_by(|a, b| (a.status, a.due_on, &a.key).cmp(&(b.status, b.due_on, &b.key)));
    items
}
