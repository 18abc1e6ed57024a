//! Event types and the Standard Webhooks payload.

use std::collections::HashSet;

use landfall_notify::{Envelope, Error, Event, EventType, Percent};

use crate::fixtures;

#[test]
fn fixtures_cover_every_event_type_in_order() {
    let types: Vec<EventType> = fixtures::all_events()
        .iter()
        .map(Event::event_type)
        .collect();
    assert_eq!(types, EventType::ALL);
}

#[test]
fn type_strings_are_stable_and_unique() {
    let strings: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        strings,
        [
            "bundle.uploaded",
            "channel.changed",
            "rollout.started",
            "rollout.stepped",
            "rollout.paused",
            "rollout.resumed",
            "rollout.aborted",
            "rollout.promoted",
            "rollout.auto_paused",
            "kill_switch.activated",
            "icp.filing_state_changed",
            "icp.compliance_overdue",
            "icp.document_expiring",
            "webhook.test",
        ]
    );
    assert_eq!(strings.iter().collect::<HashSet<_>>().len(), strings.len());
    for t in EventType::ALL {
        assert_eq!(t.as_str().parse::<EventType>(), Ok(*t));
        assert_eq!(
            serde_json::to_value(t).unwrap(),
            serde_json::json!(t.as_str())
        );
        assert_eq!(
            serde_json::from_value::<EventType>(serde_json::json!(t.as_str())).unwrap(),
            *t
        );
    }
    assert_eq!(
        "rollout.exploded".parse::<EventType>(),
        Err(Error::UnknownEventType("rollout.exploded".into()))
    );
}

#[test]
fn payloads_have_the_standard_webhooks_shape() {
    for event in fixtures::all_events() {
        let envelope = Envelope::new(event.clone(), fixtures::at());
        let body = envelope.to_body();
        // Keys in the specification's order: type, timestamp, data.
        let prefix = format!(
            r#"{{"type":"{}","timestamp":"2026-12-02T08:30:00.000Z","data":{{"#,
            event.event_type().as_str()
        );
        assert!(body.starts_with(&prefix), "{body}");
        // Parses back to the same event.
        assert_eq!(Envelope::from_body(body.as_bytes()).unwrap(), envelope);
        let name = format!("payload_{}", event.event_type().as_str().replace('.', "_"));
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        insta::assert_json_snapshot!(name, value);
    }
}

#[test]
fn a_payload_of_an_unknown_type_is_refused() {
    let body = br#"{"type":"rollout.exploded","timestamp":"2026-12-02T08:30:00Z","data":{}}"#;
    assert!(matches!(
        Envelope::from_body(body),
        Err(Error::InvalidPayload(_))
    ));
    let body =
        br#"{"type":"rollout.paused","timestamp":"2026-12-02T08:30:00Z","data":{"app_id":"x"}}"#;
    assert!(matches!(
        Envelope::from_body(body),
        Err(Error::InvalidPayload(_))
    ));
}

#[test]
fn percent_is_exact_and_reads_naturally() {
    let cases = [
        (0, "0%", "0"),
        (5, "0.05%", "0.05"),
        (1250, "12.5%", "12.5"),
        (2500, "25%", "25"),
        (3333, "33.33%", "33.33"),
        (10_000, "100%", "100"),
    ];
    for (bp, shown, json) in cases {
        let p = Percent::from_basis_points(bp);
        assert_eq!(p.to_string(), shown);
        assert_eq!(serde_json::to_string(&p).unwrap(), json);
        assert_eq!(serde_json::from_str::<Percent>(json).unwrap(), p);
    }
    assert_eq!(Percent::from_basis_points(20_000), Percent::FULL);
    assert!(serde_json::from_str::<Percent>("100.5").is_err());
    assert!(serde_json::from_str::<Percent>("-1").is_err());
}

#[test]
fn app_ids_and_severities() {
    use landfall_notify::Severity;
    let events = fixtures::all_events();
    for e in &events {
        assert_eq!(e.app_id(), Some("com.example.shop"));
    }
    let critical: Vec<&str> = events
        .iter()
        .filter(|e| e.severity() == Severity::Critical)
        .map(|e| e.event_type().as_str())
        .collect();
    assert_eq!(
        critical,
        [
            "rollout.aborted",
            "rollout.auto_paused",
            "kill_switch.activated"
        ]
    );
}

#[test]
fn subscription_patterns() {
    let paused = EventType::RolloutPaused;
    for yes in ["rollout.paused", "rollout.*", "*", " rollout.* "] {
        assert!(paused.matches(yes), "{yes}");
    }
    for no in [
        "rollout",
        "rollout.",
        "roll.*",
        "rollout.pause",
        "icp.*",
        "rollout.paused.*",
        "",
    ] {
        assert!(!paused.matches(no), "{no}");
    }
    assert!(EventType::AutoPaused.matches("rollout.*"));
    let icp: Vec<EventType> = EventType::ALL
        .iter()
        .copied()
        .filter(|t| t.matches("icp.*"))
        .collect();
    assert_eq!(
        icp,
        [
            EventType::IcpFilingStateChanged,
            EventType::IcpComplianceOverdue,
            EventType::IcpDocumentExpiring
        ]
    );
}
