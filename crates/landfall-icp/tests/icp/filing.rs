use chrono::{DateTime, Duration, TimeZone, Utc};
use landfall_icp::calendar::WorkCalendar;
use landfall_icp::filing::*;
use landfall_icp::numbers::{IcpFilingNumber, ServiceKind};

use crate::d;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 6, 9, 0, 0).unwrap()
}

fn app_number() -> IcpFilingNumber {
    IcpFilingNumber::parse("粤ICP备2023012345号-2A").unwrap()
}

fn reasons() -> Vec<FieldRejection> {
    vec![FieldRejection {
        field: "app.name".into(),
        error: "name too generic".into(),
        suggestion: Some("use the registered trademark".into()),
    }]
}

/// A payload-complete event of each kind.
fn event(kind: EventKind) -> FilingEvent {
    match kind {
        EventKind::Submit => FilingEvent::Submit,
        EventKind::Withdraw => FilingEvent::Withdraw,
        EventKind::ProviderApprove => FilingEvent::ProviderApprove,
        EventKind::ProviderReject => FilingEvent::ProviderReject { reasons: reasons() },
        EventKind::SubmitToCa => FilingEvent::SubmitToCa,
        EventKind::SmsResent => FilingEvent::SmsResent,
        EventKind::SmsVerified => FilingEvent::SmsVerified,
        EventKind::SmsFailed => FilingEvent::SmsFailed {
            failure: SmsFailure::Timeout,
        },
        EventKind::CaApprove => FilingEvent::CaApprove {
            number: Some(app_number()),
        },
        EventKind::CaReject => FilingEvent::CaReject { reasons: reasons() },
        EventKind::StartChange => FilingEvent::StartChange,
        EventKind::Abandon => FilingEvent::Abandon,
        EventKind::RequestCancel => FilingEvent::RequestCancel,
        EventKind::CancelApproved => FilingEvent::CancelApproved,
        EventKind::CancelWithdrawn => FilingEvent::CancelWithdrawn,
    }
}

const STATES: [FilingState; 9] = [
    FilingState::Draft,
    FilingState::ProviderReview,
    FilingState::QueuedToCa,
    FilingState::SmsVerification,
    FilingState::CaReview,
    FilingState::Active,
    FilingState::CancelInProgress,
    FilingState::Cancelled,
    FilingState::Abandoned,
];

const EVENTS: [EventKind; 15] = [
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

/// The expected transition table (§2.2), written out independently of the implementation.
fn expected(state: FilingState, order: OrderKind, e: EventKind) -> Option<FilingState> {
    use EventKind as E;
    use FilingState as S;
    let abandon_to = if order == OrderKind::Change {
        S::Active
    } else {
        S::Abandoned
    };
    match (state, e) {
        (S::Draft, E::Submit) => Some(S::ProviderReview),
        (S::Draft, E::Abandon) => Some(abandon_to),
        (S::ProviderReview, E::ProviderApprove) => Some(S::QueuedToCa),
        (S::ProviderReview, E::ProviderReject) => Some(S::Draft),
        (S::ProviderReview, E::Withdraw) => Some(S::Draft),
        (S::ProviderReview, E::Abandon) => Some(abandon_to),
        (S::QueuedToCa, E::SubmitToCa) => Some(S::SmsVerification),
        (S::SmsVerification, E::SmsResent) => Some(S::SmsVerification),
        (S::SmsVerification, E::SmsVerified) => Some(S::CaReview),
        (S::SmsVerification, E::SmsFailed) => Some(S::Draft),
        (S::CaReview, E::CaApprove) => Some(S::Active),
        (S::CaReview, E::CaReject) => Some(S::Draft),
        (S::Active, E::StartChange) => Some(S::Draft),
        (S::Active, E::RequestCancel) => Some(S::CancelInProgress),
        (S::CancelInProgress, E::CancelApproved) => Some(S::Cancelled),
        (S::CancelInProgress, E::CancelWithdrawn) => Some(S::Active),
        _ => None,
    }
}

#[test]
fn every_state_and_event_legal_or_refused() {
    let mut legal = 0;
    let mut illegal = 0;
    for order in [OrderKind::Initial, OrderKind::Change] {
        for state in STATES {
            for e in EVENTS {
                let mut f = Filing::new(ServiceKind::App, t0());
                f.state = state;
                f.order = order;
                if order == OrderKind::Change {
                    f.number = Some(app_number());
                }
                let before = f.clone();
                let res = f.apply(event(e), "tester", t0() + Duration::hours(1), Some("why"));
                match expected(state, order, e) {
                    Some(to) => {
                        let entry = res
                            .unwrap_or_else(|err| {
                                panic!("{state:?} --{e:?}--> should be legal: {err}")
                            })
                            .clone();
                        assert_eq!(entry.from, state);
                        assert_eq!(entry.to, to);
                        assert_eq!(entry.event, e);
                        assert_eq!(entry.actor, "tester");
                        assert_eq!(entry.note.as_deref(), Some("why"));
                        assert_eq!(f.state, to);
                        assert_eq!(f.state_since, t0() + Duration::hours(1));
                        legal += 1;
                    }
                    None => {
                        let err = res.unwrap_err();
                        match &err {
                            TransitionError::Illegal {
                                from,
                                event,
                                allowed,
                            } => {
                                assert_eq!(*from, state);
                                assert_eq!(*event, e);
                                assert_eq!(*allowed, allowed_events(state, order));
                            }
                            other => panic!("{state:?} --{e:?}--> expected Illegal, got {other:?}"),
                        }
                        assert!(!err.message_zh().is_empty());
                        assert_eq!(f, before, "a refused event changes nothing");
                        illegal += 1;
                    }
                }
            }
        }
    }
    assert_eq!(legal, 32);
    assert_eq!(illegal, 2 * 9 * 15 - 32);
}

#[test]
fn happy_path_records_who_when_why() {
    let mut f = Filing::new(ServiceKind::App, t0());
    let steps: Vec<(FilingEvent, &str, FilingState)> = vec![
        (FilingEvent::Submit, "alice", FilingState::ProviderReview),
        (
            FilingEvent::ProviderApprove,
            "aliyun-reviewer",
            FilingState::QueuedToCa,
        ),
        (
            FilingEvent::SubmitToCa,
            "aliyun-reviewer",
            FilingState::SmsVerification,
        ),
        (
            FilingEvent::SmsResent,
            "alice",
            FilingState::SmsVerification,
        ),
        (FilingEvent::SmsVerified, "alice", FilingState::CaReview),
        (
            FilingEvent::CaApprove {
                number: Some(app_number()),
            },
            "gdca",
            FilingState::Active,
        ),
    ];
    for (i, (e, who, to)) in steps.into_iter().enumerate() {
        let at = t0() + Duration::days(i as i64);
        let entry = f.apply(e, who, at, Some("step")).unwrap();
        assert_eq!(entry.to, to);
        assert_eq!(entry.at, at);
    }
    assert_eq!(f.state, FilingState::Active);
    assert_eq!(f.number, Some(app_number()));
    assert_eq!(f.history.len(), 6);
    assert_eq!(f.history.last().unwrap().number, Some(app_number()));
    assert_eq!(f.history[1].actor, "aliyun-reviewer");

    let json = serde_json::to_string(&f).unwrap();
    let back: Filing = serde_json::from_str(&json).unwrap();
    assert_eq!(back, f);
}

#[test]
fn rejections_go_back_to_draft_with_per_field_reasons() {
    let mut f = Filing::new(ServiceKind::App, t0());
    f.apply(FilingEvent::Submit, "alice", t0(), None).unwrap();
    // A rejection needs reasons.
    let e = f
        .apply(
            FilingEvent::ProviderReject { reasons: vec![] },
            "rev",
            t0(),
            None,
        )
        .unwrap_err();
    assert!(matches!(e, TransitionError::MissingReasons { .. }));
    let e = f
        .apply(
            FilingEvent::ProviderReject {
                reasons: vec![FieldRejection::new(" ", "x")],
            },
            "rev",
            t0(),
            None,
        )
        .unwrap_err();
    assert!(matches!(e, TransitionError::MissingReasons { .. }));
    assert_eq!(f.state, FilingState::ProviderReview);

    f.apply(
        FilingEvent::ProviderReject { reasons: reasons() },
        "rev",
        t0(),
        Some("see fields"),
    )
    .unwrap();
    assert_eq!(f.state, FilingState::Draft);
    let rej = f.last_rejection.clone().unwrap();
    assert_eq!(rej.stage, RejectionStage::Provider);
    assert_eq!(rej.reasons[0].field, "app.name");
    assert_eq!(f.history.last().unwrap().reasons, reasons());

    // Resubmitting clears the open rejection; a later CA rejection is recorded likewise.
    f.apply(FilingEvent::Submit, "alice", t0(), None).unwrap();
    assert!(f.last_rejection.is_none());
    for e in [FilingEvent::ProviderApprove, FilingEvent::SubmitToCa] {
        f.apply(e, "rev", t0(), None).unwrap();
    }
    f.apply(
        FilingEvent::SmsFailed {
            failure: SmsFailure::TooManyWrongCodes,
        },
        "miit",
        t0(),
        None,
    )
    .unwrap();
    assert_eq!(f.state, FilingState::Draft);
    assert_eq!(
        f.last_rejection.as_ref().unwrap().stage,
        RejectionStage::Sms
    );
    assert_eq!(
        f.history.last().unwrap().sms_failure,
        Some(SmsFailure::TooManyWrongCodes)
    );
    for e in [
        FilingEvent::Submit,
        FilingEvent::ProviderApprove,
        FilingEvent::SubmitToCa,
        FilingEvent::SmsVerified,
    ] {
        f.apply(e, "x", t0(), None).unwrap();
    }
    f.apply(
        FilingEvent::CaReject { reasons: reasons() },
        "gdca",
        t0(),
        None,
    )
    .unwrap();
    assert_eq!(f.state, FilingState::Draft);
    assert_eq!(
        f.last_rejection.as_ref().unwrap().stage,
        RejectionStage::ProvincialAdministration
    );
}

#[test]
fn approval_checks_the_issued_number() {
    let mut f = Filing::new(ServiceKind::App, t0());
    f.state = FilingState::CaReview;
    let e = f
        .apply(FilingEvent::CaApprove { number: None }, "ca", t0(), None)
        .unwrap_err();
    assert_eq!(e, TransitionError::MissingNumber);
    let website = IcpFilingNumber::parse("粤ICP备2023012345号-1").unwrap();
    let e = f
        .apply(
            FilingEvent::CaApprove {
                number: Some(website),
            },
            "ca",
            t0(),
            None,
        )
        .unwrap_err();
    assert!(matches!(
        e,
        TransitionError::WrongServiceKind {
            expected: ServiceKind::App,
            ..
        }
    ));
    assert!(e.to_string().contains("an app"), "{e}");
    let entity_only = IcpFilingNumber::parse("粤ICP备2023012345号").unwrap();
    assert!(f
        .apply(
            FilingEvent::CaApprove {
                number: Some(entity_only)
            },
            "ca",
            t0(),
            None
        )
        .is_err());
    assert_eq!(f.state, FilingState::CaReview);
}

#[test]
fn change_cancel_and_abandon() {
    let mut f = Filing::new(ServiceKind::App, t0());
    f.state = FilingState::Active;
    f.number = Some(app_number());

    // Abandoning a change returns to the active filing with its number.
    f.apply(FilingEvent::StartChange, "alice", t0(), Some("new domain"))
        .unwrap();
    assert_eq!((f.state, f.order), (FilingState::Draft, OrderKind::Change));
    f.apply(FilingEvent::Abandon, "alice", t0(), None).unwrap();
    assert_eq!(f.state, FilingState::Active);
    assert_eq!(f.number, Some(app_number()));

    // A change keeps the entity number.
    f.apply(FilingEvent::StartChange, "alice", t0(), None)
        .unwrap();
    for e in [
        FilingEvent::Submit,
        FilingEvent::ProviderApprove,
        FilingEvent::SubmitToCa,
        FilingEvent::SmsVerified,
    ] {
        f.apply(e, "x", t0(), None).unwrap();
    }
    let other = IcpFilingNumber::parse("京ICP备12345678号-1A").unwrap();
    assert!(matches!(
        f.apply(
            FilingEvent::CaApprove {
                number: Some(other)
            },
            "ca",
            t0(),
            None
        )
        .unwrap_err(),
        TransitionError::DifferentEntity { .. }
    ));
    f.apply(FilingEvent::CaApprove { number: None }, "ca", t0(), None)
        .unwrap();
    assert_eq!(f.state, FilingState::Active);
    assert_eq!(f.number, Some(app_number()));

    // Cancel, withdraw, cancel again → terminal.
    f.apply(FilingEvent::RequestCancel, "alice", t0(), None)
        .unwrap();
    f.apply(FilingEvent::CancelWithdrawn, "alice", t0(), None)
        .unwrap();
    assert_eq!(f.state, FilingState::Active);
    f.apply(FilingEvent::RequestCancel, "alice", t0(), None)
        .unwrap();
    f.apply(FilingEvent::CancelApproved, "ca", t0(), None)
        .unwrap();
    assert_eq!(f.state, FilingState::Cancelled);
    let e = f
        .apply(FilingEvent::Submit, "alice", t0(), None)
        .unwrap_err();
    assert!(e.to_string().contains("final"), "{e}");
    assert!(f.allowed_events().is_empty());

    // Abandoning an initial order is terminal.
    let mut g = Filing::new(ServiceKind::App, t0());
    g.apply(FilingEvent::Abandon, "alice", t0(), Some("not needed"))
        .unwrap();
    assert_eq!(g.state, FilingState::Abandoned);
}

#[test]
fn actor_and_time_are_required() {
    let mut f = Filing::new(ServiceKind::App, t0());
    assert_eq!(
        f.apply(FilingEvent::Submit, "  ", t0(), None).unwrap_err(),
        TransitionError::MissingActor
    );
    f.apply(FilingEvent::Submit, "alice", t0(), None).unwrap();
    assert!(matches!(
        f.apply(
            FilingEvent::Withdraw,
            "alice",
            t0() - Duration::hours(1),
            None
        )
        .unwrap_err(),
        TransitionError::TimeWentBackwards { .. }
    ));
    let e = f
        .apply(
            FilingEvent::CaApprove {
                number: Some(app_number()),
            },
            "x",
            t0(),
            None,
        )
        .unwrap_err();
    assert!(e.to_string().contains("allowed here"), "{e}");
}

#[test]
fn timeline_from_draft_and_each_state() {
    let cal = WorkCalendar::builtin();
    let w = TimelineWindows::default();
    let t = estimate(
        &cal,
        FilingState::Draft,
        OrderKind::Initial,
        d("2026-02-06"),
        false,
        &w,
    )
    .unwrap();
    assert_eq!(t.remaining, Window::new(14, 23));
    assert_eq!(t.stages.len(), 3);
    assert_eq!(t.stages[0].stage, Stage::ProviderReview);
    assert_eq!(t.stages[0].earliest_end, d("2026-02-09"));
    assert_eq!(t.stages[0].latest_end, d("2026-02-11"));
    assert_eq!(t.stages[2].stage, Stage::ProvincialReview);
    // 14 and 23 working days after 2026-02-06 across Spring Festival (make-up days count).
    assert_eq!(t.earliest_completion, Some(d("2026-03-04")));
    assert_eq!(t.latest_completion, Some(d("2026-03-17")));
    assert_eq!(
        t.earliest_completion,
        Some(cal.add_working_days(d("2026-02-06"), 14).unwrap())
    );

    let t = estimate(
        &cal,
        FilingState::Draft,
        OrderKind::Initial,
        d("2026-02-06"),
        true,
        &w,
    )
    .unwrap();
    assert_eq!(t.stages[0].stage, Stage::DocumentCompletion);
    assert_eq!(t.remaining, Window::new(19, 33));
    assert_eq!(
        t.latest_completion,
        Some(cal.add_working_days(d("2026-02-06"), 33).unwrap())
    );

    // Recomputed from the date the provincial review started.
    let t = estimate(
        &cal,
        FilingState::CaReview,
        OrderKind::Initial,
        d("2026-09-24"),
        false,
        &w,
    )
    .unwrap();
    assert_eq!(t.stages.len(), 1);
    assert_eq!(t.earliest_completion, Some(d("2026-10-15")));
    assert_eq!(t.latest_completion, Some(d("2026-10-22")));

    let t = estimate(
        &cal,
        FilingState::SmsVerification,
        OrderKind::Initial,
        d("2026-09-24"),
        false,
        &w,
    )
    .unwrap();
    assert_eq!(t.remaining, Window::new(13, 20));

    let t = estimate(
        &cal,
        FilingState::Draft,
        OrderKind::Change,
        d("2026-03-02"),
        false,
        &w,
    )
    .unwrap();
    assert_eq!(t.remaining, Window::new(3, 7));
    assert_eq!(t.earliest_completion, Some(d("2026-03-05")));
    assert_eq!(t.latest_completion, Some(d("2026-03-11")));

    let t = estimate(
        &cal,
        FilingState::Active,
        OrderKind::Initial,
        d("2026-03-02"),
        true,
        &w,
    )
    .unwrap();
    assert!(t.stages.is_empty());
    assert_eq!(t.earliest_completion, None);

    let t = estimate(
        &cal,
        FilingState::CancelInProgress,
        OrderKind::Initial,
        d("2026-03-02"),
        false,
        &w,
    )
    .unwrap();
    assert_eq!(t.stages[0].stage, Stage::Cancellation);

    // From a Filing: the state's start instant is taken as a China (UTC+8) date.
    let mut f = Filing::new(ServiceKind::App, t0());
    f.state = FilingState::CaReview;
    f.state_since = Utc.with_ymd_and_hms(2026, 9, 23, 17, 30, 0).unwrap(); // 2026-09-24 01:30 in Beijing
    assert_eq!(china_date(f.state_since), d("2026-09-24"));
    let t = f.timeline(&cal, false, &w).unwrap();
    assert_eq!(t.since, d("2026-09-24"));
    assert_eq!(t.earliest_completion, Some(d("2026-10-15")));

    // Beyond the loaded data → error, not a guess.
    assert!(estimate(
        &cal,
        FilingState::Draft,
        OrderKind::Initial,
        d("2026-12-10"),
        false,
        &w
    )
    .is_err());
}
