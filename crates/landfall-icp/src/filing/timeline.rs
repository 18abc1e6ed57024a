//! Timeline estimate in Chinese working days: earliest/latest calendar dates per remaining stage,
//! recomputed from the filing's current state and the date it entered that state.
//!
//! Default windows (working days): provider review 1–3, MIIT verification 3–5 (queue + SMS
//! verification + system sync; the "final verification" window of the usual 14–23-day estimate,
//! placed where §2.2 puts it, before the provincial review), provincial review 10–15 — 14–23 in
//! total; +5–10 when documents are missing; change filings 3–7 in total (split 1–2 / 1–2 / 1–3).
//! A stage of `min..max` working days that starts on `S` ends between
//! `add_working_days(S, min)` and `add_working_days(S, max)`; the next stage starts there.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::state::{Filing, FilingState, OrderKind};
use crate::calendar::{CalendarError, WorkCalendar};
use crate::Localized;

/// A stage of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Collecting missing documents before (re)submission.
    DocumentCompletion,
    /// Access-provider review.
    ProviderReview,
    /// Queue to the administration, MIIT SMS verification, system sync.
    MiitVerification,
    /// Provincial communications administration review.
    ProvincialReview,
    /// Cancellation processing.
    Cancellation,
}

impl Stage {
    pub fn label(self) -> Localized {
        let (en, zh) = match self {
            Stage::DocumentCompletion => ("completing missing documents", "补充材料"),
            Stage::ProviderReview => ("access-provider review", "接入商初审"),
            Stage::MiitVerification => (
                "MIIT SMS verification and submission",
                "工信部短信核验及报送",
            ),
            Stage::ProvincialReview => ("provincial administration review", "管局审核"),
            Stage::Cancellation => ("cancellation", "注销办理"),
        };
        Localized::new(en, zh)
    }
}

/// A window of working days (`min <= max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub min: u32,
    pub max: u32,
}

impl Window {
    pub const fn new(min: u32, max: u32) -> Self {
        Window { min, max }
    }
}

/// Working-day windows per stage; [`Default`] holds the usual values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineWindows {
    pub provider_review: Window,
    pub miit_verification: Window,
    pub provincial_review: Window,
    pub missing_documents: Window,
    pub change_provider_review: Window,
    pub change_miit_verification: Window,
    pub change_provincial_review: Window,
    pub cancellation: Window,
}

impl Default for TimelineWindows {
    fn default() -> Self {
        TimelineWindows {
            provider_review: Window::new(1, 3),
            miit_verification: Window::new(3, 5),
            provincial_review: Window::new(10, 15),
            missing_documents: Window::new(5, 10),
            change_provider_review: Window::new(1, 2),
            change_miit_verification: Window::new(1, 2),
            change_provincial_review: Window::new(1, 3),
            cancellation: Window::new(1, 5),
        }
    }
}

/// Estimated dates of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEstimate {
    pub stage: Stage,
    pub label: Localized,
    pub window: Window,
    pub earliest_start: NaiveDate,
    pub latest_start: NaiveDate,
    pub earliest_end: NaiveDate,
    pub latest_end: NaiveDate,
}

/// The remaining timeline of a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub state: FilingState,
    pub order: OrderKind,
    /// Date the current state was entered (for `Draft`: the planned submission date).
    pub since: NaiveDate,
    pub stages: Vec<StageEstimate>,
    /// Sum of the remaining stage windows.
    pub remaining: Window,
    /// `None` when nothing is pending (active, cancelled, abandoned).
    pub earliest_completion: Option<NaiveDate>,
    pub latest_completion: Option<NaiveDate>,
}

/// Estimates the remaining stages. `since` is the date the filing entered `state` (for `Draft`,
/// the planned submission date); `documents_missing` adds a document-completion stage first.
pub fn estimate(
    calendar: &WorkCalendar,
    state: FilingState,
    order: OrderKind,
    since: NaiveDate,
    documents_missing: bool,
    windows: &TimelineWindows,
) -> Result<Timeline, CalendarError> {
    let (provider, miit, provincial) = match order {
        OrderKind::Initial => (
            windows.provider_review,
            windows.miit_verification,
            windows.provincial_review,
        ),
        OrderKind::Change => (
            windows.change_provider_review,
            windows.change_miit_verification,
            windows.change_provincial_review,
        ),
    };
    let pipeline = [
        (Stage::ProviderReview, provider),
        (Stage::MiitVerification, miit),
        (Stage::ProvincialReview, provincial),
    ];
    let from = match state {
        FilingState::Draft | FilingState::ProviderReview => 0,
        FilingState::QueuedToCa | FilingState::SmsVerification => 1,
        FilingState::CaReview => 2,
        FilingState::CancelInProgress => 3,
        FilingState::Active | FilingState::Cancelled | FilingState::Abandoned => 4,
    };
    let mut plan: Vec<(Stage, Window)> = Vec::new();
    if from < 4 && documents_missing {
        plan.push((Stage::DocumentCompletion, windows.missing_documents));
    }
    if from < 3 {
        plan.extend_from_slice(&pipeline[from..]);
    } else if from == 3 {
        plan.push((Stage::Cancellation, windows.cancellation));
    }

    let mut stages = Vec::with_capacity(plan.len());
    let (mut early, mut late) = (since, since);
    let mut remaining = Window::new(0, 0);
    for (stage, window) in plan {
        let earliest_end = calendar.add_working_days(early, window.min)?;
        let latest_end = calendar.add_working_days(late, window.max)?;
        stages.push(StageEstimate {
            stage,
            label: stage.label(),
            window,
            earliest_start: early,
            latest_start: late,
            earliest_end,
            latest_end,
        });
        remaining.min += window.min;
        remaining.max += window.max;
        early = earliest_end;
        late = latest_end;
    }
    let done = stages.is_empty();
    Ok(Timeline {
        state,
        order,
        since,
        remaining,
        earliest_completion: (!done).then_some(early),
        latest_completion: (!done).then_some(late),
        stages,
    })
}

/// The calendar date in mainland China (UTC+8, no daylight saving) of an instant; working-day
/// counting uses Chinese dates.
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    match FixedOffset::east_opt(8 * 3600) {
        Some(tz) => at.with_timezone(&tz).date_naive(),
        None => at.date_naive(),
    }
}

impl Filing {
    /// [`estimate`] from this filing's state, order and the China date it entered the state.
    pub fn timeline(
        &self,
        calendar: &WorkCalendar,
        documents_missing: bool,
        windows: &TimelineWindows,
    ) -> Result<Timeline, CalendarError> {
        estimate(
            calendar,
            self.state,
            self.order,
            china_date(self.state_since),
            documents_missing,
            windows,
        )
    }
}
