//! The filing state machine (§2.2): draft → provider review → queued to the communications
//! administration → MIIT SMS verification → provincial review → active, with rejections back to
//! draft (per-field reasons), change orders, cancellation and abandonment, and a who/when/why history.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::record::FieldRejection;
use crate::numbers::{IcpFilingNumber, ServiceKind};
use crate::Localized;

/// Where a filing order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingState {
    /// 填写/草稿 — being prepared (also where rejected orders return).
    Draft,
    /// 接入商初审 — the access provider reviews (and phones the responsible persons).
    ProviderReview,
    /// 待提交管局 — passed the provider, waiting to be sent to the administration.
    QueuedToCa,
    /// 工信部短信核验 — the responsible persons must verify the MIIT SMS within 24 h.
    SmsVerification,
    /// 管局审核 — provincial communications administration review (≤ 20 working days).
    CaReview,
    /// 已备案 — filed; the number is issued.
    Active,
    /// 注销中 — cancellation requested.
    CancelInProgress,
    /// 已注销 — cancelled (terminal).
    Cancelled,
    /// 已放弃 — an initial order that was abandoned (terminal).
    Abandoned,
}

impl FilingState {
    pub fn label(self) -> Localized {
        let (en, zh) = match self {
            FilingState::Draft => ("draft", "草稿"),
            FilingState::ProviderReview => ("access-provider review", "接入商初审"),
            FilingState::QueuedToCa => {
                ("queued for the communications administration", "待提交管局")
            }
            FilingState::SmsVerification => ("MIIT SMS verification", "工信部短信核验"),
            FilingState::CaReview => ("provincial administration review", "管局审核"),
            FilingState::Active => ("filed (active)", "已备案"),
            FilingState::CancelInProgress => ("cancellation in progress", "注销中"),
            FilingState::Cancelled => ("cancelled", "已注销"),
            FilingState::Abandoned => ("abandoned", "已放弃"),
        };
        Localized::new(en, zh)
    }

    /// No event leaves this state.
    pub fn is_terminal(self) -> bool {
        matches!(self, FilingState::Cancelled | FilingState::Abandoned)
    }
}

impl fmt::Display for FilingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label().en)
    }
}

/// What kind of order is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// First filing of the service (首次备案 / 新增APP).
    #[default]
    Initial,
    /// Change of an active filing (变更备案); the existing number stays valid meanwhile.
    Change,
}

/// Why the MIIT SMS verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsFailure {
    /// Not verified within 24 hours.
    Timeout,
    /// Five wrong codes; returned automatically on the sixth.
    TooManyWrongCodes,
}

/// Events that move a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FilingEvent {
    /// Draft → provider review.
    Submit,
    /// Provider review → draft (the applicant pulls the order back to edit it).
    Withdraw,
    /// Provider review → queued to the administration.
    ProviderApprove,
    /// Provider review → draft, with per-field reasons.
    ProviderReject { reasons: Vec<FieldRejection> },
    /// Queued → SMS verification (the provider submits; MIIT sends the SMS).
    SubmitToCa,
    /// SMS verification → SMS verification (code re-sent; recorded in the history).
    SmsResent,
    /// SMS verification → provincial review.
    SmsVerified,
    /// SMS verification → draft (returned).
    SmsFailed { failure: SmsFailure },
    /// Provincial review → active. `number` is required for initial orders (the issued service
    /// number, e.g. `京ICP备12345678号-2A`); for a change it replaces the number if given.
    CaApprove { number: Option<IcpFilingNumber> },
    /// Provincial review → draft, with per-field reasons.
    CaReject { reasons: Vec<FieldRejection> },
    /// Active → draft of a change order.
    StartChange,
    /// Draft / provider review → abandoned (initial order) or back to active (change order).
    Abandon,
    /// Active → cancellation in progress.
    RequestCancel,
    /// Cancellation in progress → cancelled.
    CancelApproved,
    /// Cancellation in progress → active (withdrawn or refused).
    CancelWithdrawn,
}

/// Field-less event names (for listings and errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Submit,
    Withdraw,
    ProviderApprove,
    ProviderReject,
    SubmitToCa,
    SmsResent,
    SmsVerified,
    SmsFailed,
    CaApprove,
    CaReject,
    StartChange,
    Abandon,
    RequestCancel,
    CancelApproved,
    CancelWithdrawn,
}

impl EventKind {
    const ALL: [EventKind; 15] = [
        EventKind::Submit,
        EventKind::Withdraw,
        EventKind::ProviderApprove,
        EventKind::ProviderReject,
        EventKind::SubmitToCa,
        EventKind::SmsResent,
        EventKind::SmsVerified,
        EventKind::SmsFailed,
        EventKind::CaApprove,
        EventKind::CaReject,
        EventKind::StartChange,
        EventKind::Abandon,
        EventKind::RequestCancel,
        EventKind::CancelApproved,
        EventKind::CancelWithdrawn,
    ];

    pub fn label(self) -> Localized {
        let (en, zh) = match self {
            EventKind::Submit => ("submit", "提交"),
            EventKind::Withdraw => ("withdraw", "撤回"),
            EventKind::ProviderApprove => ("provider approval", "接入商初审通过"),
            EventKind::ProviderReject => ("provider rejection", "接入商初审驳回"),
            EventKind::SubmitToCa => ("submission to the administration", "提交管局"),
            EventKind::SmsResent => ("SMS re-sent", "重发短信"),
            EventKind::SmsVerified => ("SMS verified", "短信核验完成"),
            EventKind::SmsFailed => ("SMS verification failed", "短信核验失败"),
            EventKind::CaApprove => ("administration approval", "管局审核通过"),
            EventKind::CaReject => ("administration rejection", "管局审核驳回"),
            EventKind::StartChange => ("start a change", "发起变更"),
            EventKind::Abandon => ("abandon", "放弃"),
            EventKind::RequestCancel => ("request cancellation", "申请注销"),
            EventKind::CancelApproved => ("cancellation approved", "注销完成"),
            EventKind::CancelWithdrawn => ("cancellation withdrawn", "撤销注销"),
        };
        Localized::new(en, zh)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label().en)
    }
}

impl FilingEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            FilingEvent::Submit => EventKind::Submit,
            FilingEvent::Withdraw => EventKind::Withdraw,
            FilingEvent::ProviderApprove => EventKind::ProviderApprove,
            FilingEvent::ProviderReject { .. } => EventKind::ProviderReject,
            FilingEvent::SubmitToCa => EventKind::SubmitToCa,
            FilingEvent::SmsResent => EventKind::SmsResent,
            FilingEvent::SmsVerified => EventKind::SmsVerified,
            FilingEvent::SmsFailed { .. } => EventKind::SmsFailed,
            FilingEvent::CaApprove { .. } => EventKind::CaApprove,
            FilingEvent::CaReject { .. } => EventKind::CaReject,
            FilingEvent::StartChange => EventKind::StartChange,
            FilingEvent::Abandon => EventKind::Abandon,
            FilingEvent::RequestCancel => EventKind::RequestCancel,
            FilingEvent::CancelApproved => EventKind::CancelApproved,
            FilingEvent::CancelWithdrawn => EventKind::CancelWithdrawn,
        }
    }
}

/// The target state of an event, or `None` when the event is not allowed in `state`.
pub fn target_state(state: FilingState, order: OrderKind, event: EventKind) -> Option<FilingState> {
    use EventKind as E;
    use FilingState as S;
    let abandoned = match order {
        OrderKind::Initial => S::Abandoned,
        OrderKind::Change => S::Active,
    };
    Some(match (state, event) {
        (S::Draft, E::Submit) => S::ProviderReview,
        (S::Draft, E::Abandon) => abandoned,
        (S::ProviderReview, E::ProviderApprove) => S::QueuedToCa,
        (S::ProviderReview, E::ProviderReject) => S::Draft,
        (S::ProviderReview, E::Withdraw) => S::Draft,
        (S::ProviderReview, E::Abandon) => abandoned,
        (S::QueuedToCa, E::SubmitToCa) => S::SmsVerification,
        (S::SmsVerification, E::SmsResent) => S::SmsVerification,
        (S::SmsVerification, E::SmsVerified) => S::CaReview,
        (S::SmsVerification, E::SmsFailed) => S::Draft,
        (S::CaReview, E::CaApprove) => S::Active,
        (S::CaReview, E::CaReject) => S::Draft,
        (S::Active, E::StartChange) => S::Draft,
        (S::Active, E::RequestCancel) => S::CancelInProgress,
        (S::CancelInProgress, E::CancelApproved) => S::Cancelled,
        (S::CancelInProgress, E::CancelWithdrawn) => S::Active,
        _ => return None,
    })
}

/// Events allowed in a state.
pub fn allowed_events(state: FilingState, order: OrderKind) -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .filter(|e| target_state(state, order, *e).is_some())
        .collect()
}

/// Where a rejection came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionStage {
    Provider,
    Sms,
    ProvincialAdministration,
}

/// The most recent rejection of an order, kept until the next submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub stage: RejectionStage,
    pub at: DateTime<Utc>,
    pub by: String,
    pub reasons: Vec<FieldRejection>,
}

/// One transition: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: EventKind,
    pub from: FilingState,
    pub to: FilingState,
    pub order: OrderKind,
    /// Free-text reason/comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<FieldRejection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_failure: Option<SmsFailure>,
    /// Number issued with this transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<IcpFilingNumber>,
}

/// Refused transitions. `Display` is English; [`TransitionError::message_zh`] is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TransitionError {
    #[error("cannot apply `{event}` to a filing in state `{from}`{}", allowed_hint(allowed, *from))]
    Illegal {
        from: FilingState,
        event: EventKind,
        allowed: Vec<EventKind>,
    },
    #[error("`{event}` needs at least one per-field reason (field and error text)")]
    MissingReasons { event: EventKind },
    #[error("every transition needs the actor (who did it)")]
    MissingActor,
    #[error("the transition time {at} is earlier than the previous transition at {last}")]
    TimeWentBackwards {
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
    #[error(
        "approval of an initial filing needs the issued service number (e.g. 京ICP备12345678号-2A)"
    )]
    MissingNumber,
    #[error("{number} is not {} service number (expected the suffix `-N{}`)", article(expected.name_en()), expected.letter().map(String::from).unwrap_or_default())]
    WrongServiceKind {
        number: IcpFilingNumber,
        expected: ServiceKind,
    },
    #[error("{number} belongs to another entity than the active number {active}; a change keeps the entity number")]
    DifferentEntity {
        number: IcpFilingNumber,
        active: IcpFilingNumber,
    },
}

fn article(noun: &str) -> String {
    let an = noun.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {noun}", if an { "an" } else { "a" })
}

fn allowed_hint(allowed: &[EventKind], from: FilingState) -> String {
    if from.is_terminal() {
        return format!("; `{from}` is final, start a new filing instead");
    }
    let names: Vec<String> = allowed.iter().map(|e| format!("`{e}`")).collect();
    format!("; allowed here: {}", names.join(", "))
}

impl TransitionError {
    /// Chinese message.
    pub fn message_zh(&self) -> String {
        match self {
            TransitionError::Illegal {
                from,
                event,
                allowed,
            } => {
                let list: Vec<String> = allowed.iter().map(|e| e.label().zh).collect();
                if from.is_terminal() {
                    format!(
                        "备案处于「{}」状态（终态），不能执行「{}」，请新建备案",
                        from.label().zh,
                        event.label().zh
                    )
                } else {
                    format!(
                        "备案处于「{}」状态，不能执行「{}」；当前可执行：{}",
                        from.label().zh,
                        event.label().zh,
                        list.join("、")
                    )
                }
            }
            TransitionError::MissingReasons { event } => {
                format!("「{}」需要至少一条按字段填写的驳回原因", event.label().zh)
            }
            TransitionError::MissingActor => "每次状态变更都需要记录操作人".to_string(),
            TransitionError::TimeWentBackwards { at, last } => {
                format!("变更时间 {at} 早于上一次变更时间 {last}")
            }
            TransitionError::MissingNumber => {
                "首次备案审核通过时需要填写下发的服务备案号（如 京ICP备12345678号-2A）".to_string()
            }
            TransitionError::WrongServiceKind { number, expected } => {
                format!("{number} 不是{}的服务备案号", expected.name_zh())
            }
            TransitionError::DifferentEntity { number, active } => {
                format!("{number} 与现有备案号 {active} 的主体号不同，变更备案不改变主体号")
            }
        }
    }

    /// Both languages.
    pub fn localized(&self) -> Localized {
        Localized::new(self.to_string(), self.message_zh())
    }
}

/// A filing order of one service with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    pub service_kind: ServiceKind,
    pub state: FilingState,
    pub order: OrderKind,
    /// When the current state was entered.
    pub state_since: DateTime<Utc>,
    /// The issued service number (kept during a change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<IcpFilingNumber>,
    /// Reasons of the last rejection, until the order is resubmitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rejection: Option<Rejection>,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
}

impl Filing {
    /// A new initial order in `Draft`.
    pub fn new(service_kind: ServiceKind, created_at: DateTime<Utc>) -> Self {
        Filing {
            service_kind,
            state: FilingState::Draft,
            order: OrderKind::Initial,
            state_since: created_at,
            number: None,
            last_rejection: None,
            history: Vec::new(),
        }
    }

    /// Events allowed now.
    pub fn allowed_events(&self) -> Vec<EventKind> {
        allowed_events(self.state, self.order)
    }

    /// Applies an event; on success records and returns the history entry. On error nothing
    /// changes.
    pub fn apply(
        &mut self,
        event: FilingEvent,
        actor: &str,
        at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<&HistoryEntry, TransitionError> {
        let kind = event.kind();
        let Some(to) = target_state(self.state, self.order, kind) else {
            return Err(TransitionError::Illegal {
                from: self.state,
                event: kind,
                allowed: self.allowed_events(),
            });
        };
        if actor.trim().is_empty() {
            return Err(TransitionError::MissingActor);
        }
        if let Some(last) = self.history.last() {
            if at < last.at {
                return Err(TransitionError::TimeWentBackwards { at, last: last.at });
            }
        }

        let mut entry = HistoryEntry {
            at,
            actor: actor.trim().to_string(),
            event: kind,
            from: self.state,
            to,
            order: self.order,
            note: note
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from),
            reasons: Vec::new(),
            sms_failure: None,
            number: None,
        };
        let mut new_number = self.number.clone();
        let mut new_order = self.order;
        let mut rejection = self.last_rejection.clone();

        match event {
            FilingEvent::ProviderReject { reasons } | FilingEvent::CaReject { reasons } => {
                let valid = !reasons.is_empty()
                    && reasons
                        .iter()
                        .all(|r| !r.field.trim().is_empty() && !r.error.trim().is_empty());
                if !valid {
                    return Err(TransitionError::MissingReasons { event: kind });
                }
                let stage = if kind == EventKind::ProviderReject {
                    RejectionStage::Provider
                } else {
                    RejectionStage::ProvincialAdministration
                };
                rejection = Some(Rejection {
                    stage,
                    at,
                    by: entry.actor.clone(),
                    reasons: reasons.clone(),
                });
                entry.reasons = reasons;
            }
            FilingEvent::SmsFailed { failure } => {
                let error = match failure {
                    SmsFailure::Timeout => {
                        "SMS verification not completed within 24 hours / 短信核验超过24小时未完成"
                    }
                    SmsFailure::TooManyWrongCodes => {
                        "five wrong verification codes / 验证码错误达5次"
                    }
                };
                let reasons = vec![FieldRejection::new("sms_verification", error)];
                rejection = Some(Rejection {
                    stage: RejectionStage::Sms,
                    at,
                    by: entry.actor.clone(),
                    reasons: reasons.clone(),
                });
                entry.reasons = reasons;
                entry.sms_failure = Some(failure);
            }
            FilingEvent::CaApprove { number } => {
                match (&number, self.order) {
                    (None, OrderKind::Initial) => return Err(TransitionError::MissingNumber),
                    (None, OrderKind::Change) => {}
                    (Some(n), _) => {
                        let kind_ok = n.service().is_some_and(|s| s.kind == self.service_kind);
                        if !kind_ok {
                            return Err(TransitionError::WrongServiceKind {
                                number: n.clone(),
                                expected: self.service_kind,
                            });
                        }
                        if let (OrderKind::Change, Some(active)) = (self.order, &self.number) {
                            if !n.same_entity(active) {
                                return Err(TransitionError::DifferentEntity {
                                    number: n.clone(),
                                    active: active.clone(),
                                });
                            }
                        }
                        new_number = Some(n.clone());
                        entry.number = Some(n.clone());
                    }
                }
                rejection = None;
            }
            FilingEvent::Submit => rejection = None,
            FilingEvent::StartChange => {
                new_order = OrderKind::Change;
                rejection = None;
            }
            FilingEvent::Abandon => rejection = None,
            _ => {}
        }

        self.state = to;
        self.order = new_order;
        self.number = new_number;
        self.last_rejection = rejection;
        self.state_since = at;
        self.history.push(entry);
        // just pushed, so last() is Some
        self.history.last().ok_or(TransitionError::MissingActor)
    }
}
