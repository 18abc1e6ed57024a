use landfall_icp::compliance::*;

use crate::d;

fn find<'a>(items: &'a [ComplianceItem], key: &str) -> &'a ComplianceItem {
    items
        .iter()
        .find(|i| i.key == key)
        .unwrap_or_else(|| panic!("{key}"))
}

#[test]
fn standard_checks_without_completions() {
    let items = compliance_calendar(d("2026-01-01"), d("2026-01-20"), &[], &[]);
    assert_eq!(items.len(), 6);
    let psb = find(&items, "public_security_filing");
    assert_eq!(psb.due_on, d("2026-01-31"));
    assert_eq!(psb.status, ItemStatus::Due);
    let perf = find(&items, "server_performance");
    assert_eq!(perf.due_on, d("2026-01-08"));
    assert_eq!(perf.status, ItemStatus::Overdue);
    let audit = find(&items, "content_audit");
    assert_eq!(audit.due_on, d("2026-02-01"));
    assert_eq!(audit.status, ItemStatus::Due);
    assert_eq!(find(&items, "security_check").due_on, d("2026-04-01"));
    assert_eq!(find(&items, "documentation_review").due_on, d("2026-04-01"));
    assert_eq!(find(&items, "user_data_review").due_on, d("2026-02-01"));
    // Overdue first.
    assert_eq!(items[0].status, ItemStatus::Overdue);
}

#[test]
fn completions_and_deadlines() {
    let done = [
        Completion {
            kind: CheckKind::ServerPerformance,
            on: d("2026-01-19"),
        },
        Completion {
            kind: CheckKind::ContentAudit,
            on: d("2026-01-10"),
        },
        Completion {
            kind: CheckKind::PublicSecurityFiling,
            on: d("2026-01-15"),
        },
        // a future-dated completion is ignored
        Completion {
            kind: CheckKind::SecurityCheck,
            on: d("2026-06-01"),
        },
    ];
    let items = compliance_calendar(d("2026-01-01"), d("2026-01-20"), &done, &[]);
    let perf = find(&items, "server_performance");
    assert_eq!(
        (perf.due_on, perf.status),
        (d("2026-01-26"), ItemStatus::Done)
    );
    assert_eq!(perf.last_done, Some(d("2026-01-19")));
    let audit = find(&items, "content_audit");
    assert_eq!(
        (audit.due_on, audit.status),
        (d("2026-02-10"), ItemStatus::Done)
    );
    assert_eq!(
        find(&items, "public_security_filing").status,
        ItemStatus::Done
    );
    assert_eq!(find(&items, "security_check").last_done, None);

    // Inside the reminder window the next one is due; after the date it is overdue.
    let items = compliance_calendar(d("2026-01-01"), d("2026-02-05"), &done, &[]);
    assert_eq!(find(&items, "content_audit").status, ItemStatus::Due);
    let items = compliance_calendar(d("2026-01-01"), d("2026-02-11"), &done, &[]);
    assert_eq!(find(&items, "content_audit").status, ItemStatus::Overdue);

    // Public-security filing not done 30 days after launch → overdue.
    let items = compliance_calendar(d("2026-01-01"), d("2026-02-01"), &[], &[]);
    assert_eq!(
        find(&items, "public_security_filing").status,
        ItemStatus::Overdue
    );
}

#[test]
fn expiries() {
    let expiries = [
        Expiry {
            kind: ExpiryKind::Domain,
            subject: "luming.cn".into(),
            expires_on: d("2026-03-15"),
        },
        Expiry {
            kind: ExpiryKind::Certificate,
            subject: "api.luming.cn TLS".into(),
            expires_on: d("2026-01-10"),
        },
        Expiry {
            kind: ExpiryKind::Document,
            subject: "business licence".into(),
            expires_on: d("2030-01-01"),
        },
    ];
    let items = compliance_calendar(d("2025-06-01"), d("2026-01-20"), &[], &expiries);
    let dom = find(&items, "expiry:domain:luming.cn");
    assert_eq!((dom.due_on, dom.status), (d("2026-03-15"), ItemStatus::Due));
    assert!(dom.title.zh.contains("域名"));
    assert_eq!(
        find(&items, "expiry:certificate:api.luming.cn TLS").status,
        ItemStatus::Overdue
    );
    assert_eq!(
        find(&items, "expiry:document:business licence").status,
        ItemStatus::Done
    );
    let json = serde_json::to_string(&items).unwrap();
    assert!(json.contains("\"overdue\""));
}
