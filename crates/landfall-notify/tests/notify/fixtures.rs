//! One event of every type, with realistic data.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use landfall_icp::filing::FilingState;
use landfall_icp::Localized;
use landfall_notify::event::*;

pub fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 8, 30, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const APP: &str = "com.example.shop";

pub fn auto_paused() -> Event {
    AutoPaused {
        app_id: APP.into(),
        channel: "production".into(),
        version: "2.4.1".into(),
        percent: Percent::from_basis_points(2500),
        failures: 37,
        sample_size: 412,
        failure_rate: 37.0 / 412.0,
        wilson_lower_bound: 0.0658,
        threshold: 0.05,
        baseline_failure_rate: Some(0.012),
    }
    .into()
}

pub fn kill_switch() -> Event {
    KillSwitch {
        app_id: APP.into(),
        target: "2.3.9".into(),
        channels: vec![
            ChannelMove {
                channel: "production".into(),
                from: "2.4.1".into(),
                to: "2.3.9".into(),
                rollout_ended: true,
            },
            ChannelMove {
                channel: "beta".into(),
                from: "2.4.2".into(),
                to: "2.3.9".into(),
                rollout_ended: false,
            },
        ],
        incident_id: Some(12),
        actor: "ops@example.com".into(),
        note: Some("crash on launch after 2.4.1".into()),
    }
    .into()
}

/// One event of each type, in [`EventType::ALL`] order.
pub fn all_events() -> Vec<Event> {
    vec![
        BundleUploaded {
            app_id: APP.into(),
            version: "2.4.1".into(),
            actor: "ci-token".into(),
            channel: Some("beta".into()),
        }
        .into(),
        ChannelChanged {
            app_id: APP.into(),
            channel: "production".into(),
            from: "builtin".into(),
            to: "2.4.0".into(),
            actor: "alice".into(),
        }
        .into(),
        RolloutStarted {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            from: "2.4.0".into(),
            percent: Percent::from_basis_points(500),
            actor: "alice".into(),
        }
        .into(),
        RolloutStepped {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            from_percent: Percent::from_basis_points(500),
            to_percent: Percent::from_basis_points(2500),
            actor: "system".into(),
        }
        .into(),
        RolloutPaused {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            percent: Percent::from_basis_points(1250),
            actor: "alice".into(),
            reason: Some("checkout button misaligned on Android 9".into()),
        }
        .into(),
        RolloutResumed {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            percent: Percent::from_basis_points(1250),
            actor: "alice".into(),
        }
        .into(),
        RolloutAborted {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            percent: Percent::from_basis_points(2500),
            back_to: "2.4.0".into(),
            actor: "bob".into(),
            reason: None,
        }
        .into(),
        RolloutPromoted {
            app_id: APP.into(),
            channel: "production".into(),
            version: "2.4.1".into(),
            from: "2.4.0".into(),
            actor: "alice".into(),
        }
        .into(),
        auto_paused(),
        kill_switch(),
        IcpFilingStateChanged {
            app_id: APP.into(),
            from: FilingState::CaReview,
            to: FilingState::Active,
            actor: "carol".into(),
            filing_number: Some("沪ICP备2026012345号-3A".into()),
            note: None,
        }
        .into(),
        IcpComplianceOverdue {
            app_id: APP.into(),
            item_key: "content_audit".into(),
            title: Localized::new("Content audit", "内容审核"),
            due_on: day(2026, 11, 30),
            days_overdue: 2,
        }
        .into(),
        IcpDocumentExpiring {
            app_id: APP.into(),
            item_key: "expiry:certificate:example.cn".into(),
            title: Localized::new("certificate example.cn", "证书「example.cn」"),
            expires_on: day(2026, 12, 16),
            days_left: 14,
        }
        .into(),
        TestEvent {
            app_id: Some(APP.into()),
            actor: "alice".into(),
            note: None,
        }
        .into(),
    ]
}
