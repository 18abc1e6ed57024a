//! The retry policy.

use std::time::Duration;

use landfall_notify::retry::{classify, parse_retry_after};
use landfall_notify::{Decision, GiveUp, Outcome, RetrySchedule, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn response(status: u16) -> Outcome {
    Outcome::Response {
        status,
        retry_after: None,
    }
}

fn retry() -> Verdict {
    classify(&response(503))
}

#[test]
fn statuses_are_classified() {
    for status in [200, 201, 202, 204, 299] {
        assert_eq!(classify(&response(status)), Verdict::Delivered, "{status}");
    }
    for status in [408, 429, 500, 502, 503, 504, 599] {
        assert!(
            matches!(classify(&response(status)), Verdict::Retry { .. }),
            "{status}"
        );
    }
    for status in [100, 301, 302, 400, 401, 403, 404, 405, 410, 413, 422] {
        assert!(
            matches!(classify(&response(status)), Verdict::Permanent { .. }),
            "{status}"
        );
    }
    assert_eq!(
        classify(&Outcome::Timeout),
        Verdict::Retry {
            detail: "timeout".into(),
            retry_after: None
        }
    );
    assert!(matches!(
        classify(&Outcome::ConnectionFailed),
        Verdict::Retry { .. }
    ));
    assert_eq!(
        classify(&Outcome::Response {
            status: 429,
            retry_after: Some(secs(7))
        }),
        Verdict::Retry {
            detail: "HTTP 429".into(),
            retry_after: Some(secs(7))
        }
    );
    assert_eq!(
        classify(&response(410)),
        Verdict::Permanent {
            detail: "HTTP 410".into()
        }
    );
}

#[test]
fn retry_after_is_read_in_seconds_only() {
    assert_eq!(parse_retry_after("120"), Some(secs(120)));
    assert_eq!(parse_retry_after(" 5 "), Some(secs(5)));
    assert_eq!(parse_retry_after("0"), Some(secs(0)));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after("1.5"), None);
    assert_eq!(parse_retry_after(""), None);
    assert_eq!(
        parse_retry_after("99999999999999999999999"),
        Some(Duration::from_secs(u64::MAX))
    );
}

#[test]
fn the_default_schedule() {
    let s = RetrySchedule::default();
    assert_eq!(
        s.delays,
        [0, 5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600].map(secs)
    );
    assert_eq!(s.max_attempts(), 9);
    assert_eq!(s.jitter_permille, 100);
    assert_eq!(s.max_retry_after, secs(3600));
}

#[test]
fn waits_follow_the_schedule_within_ten_percent() {
    let s = RetrySchedule::default();
    let mut rng = StdRng::seed_from_u64(11);
    for attempts_made in 1..9u32 {
        let base = s.delays[attempts_made as usize];
        let (mut lowest, mut highest) = (Duration::MAX, Duration::ZERO);
        for _ in 0..500 {
            let Decision::RetryAfter { delay } = s.decide(attempts_made, &retry(), &mut rng) else {
                panic!("attempt {attempts_made} should be retried");
            };
            assert!(
                delay >= base.mul_f64(0.9) && delay <= base.mul_f64(1.1),
                "{delay:?} vs {base:?}"
            );
            lowest = lowest.min(delay);
            highest = highest.max(delay);
        }
        // The jitter really spreads both ways.
        assert!(
            lowest < base.mul_f64(0.97) && highest > base.mul_f64(1.03),
            "{lowest:?}..{highest:?} around {base:?}"
        );
    }
    // The first attempt goes at once.
    assert_eq!(s.delay_before(0, &mut rng), Some(Duration::ZERO));
    assert_eq!(s.delay_before(9, &mut rng), None);
}

#[test]
fn gives_up_after_the_last_attempt_or_a_permanent_failure() {
    let s = RetrySchedule::default();
    let mut rng = StdRng::seed_from_u64(1);
    assert_eq!(
        s.decide(9, &retry(), &mut rng),
        Decision::GiveUp(GiveUp::Exhausted {
            detail: "HTTP 503".into(),
            attempts: 9
        })
    );
    assert_eq!(
        s.decide(1, &classify(&response(404)), &mut rng),
        Decision::GiveUp(GiveUp::Permanent {
            detail: "HTTP 404".into()
        })
    );
    assert_eq!(
        s.decide(9, &Verdict::Delivered, &mut rng),
        Decision::Delivered
    );
}

#[test]
fn retry_after_lengthens_a_wait_up_to_the_cap() {
    let s = RetrySchedule {
        jitter_permille: 0,
        ..RetrySchedule::default()
    };
    let mut rng = StdRng::seed_from_u64(2);
    let asked = |d| Verdict::Retry {
        detail: "HTTP 429".into(),
        retry_after: Some(d),
    };
    // After the first attempt the schedule waits 5 s; the receiver asks for 120 s.
    assert_eq!(
        s.decide(1, &asked(secs(120)), &mut rng),
        Decision::RetryAfter { delay: secs(120) }
    );
    // Asking for less than the schedule does not shorten it (30 s after the second attempt).
    assert_eq!(
        s.decide(2, &asked(secs(1)), &mut rng),
        Decision::RetryAfter { delay: secs(30) }
    );
    // Asking for two days is cut to one hour.
    assert_eq!(
        s.decide(1, &asked(secs(2 * 86400)), &mut rng),
        Decision::RetryAfter { delay: secs(3600) }
    );
    // Past the schedule, Retry-After does not buy another attempt.
    assert!(matches!(
        s.decide(9, &asked(secs(10)), &mut rng),
        Decision::GiveUp(GiveUp::Exhausted { .. })
    ));
}

#[test]
fn a_custom_schedule() {
    let s = RetrySchedule {
        delays: vec![secs(0), secs(1)],
        jitter_permille: 0,
        max_retry_after: secs(10),
    };
    let mut rng = StdRng::seed_from_u64(3);
    assert_eq!(s.max_attempts(), 2);
    assert_eq!(
        s.decide(1, &retry(), &mut rng),
        Decision::RetryAfter { delay: secs(1) }
    );
    assert!(matches!(
        s.decide(2, &retry(), &mut rng),
        Decision::GiveUp(GiveUp::Exhausted { attempts: 2, .. })
    ));
}

#[test]
fn outcomes_and_decisions_serialise_for_the_delivery_log() {
    let outcome = Outcome::Response {
        status: 429,
        retry_after: Some(secs(30)),
    };
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "response", "status": 429, "retry_after_ms": 30000})
    );
    assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
    assert_eq!(
        serde_json::to_value(Outcome::Timeout).unwrap(),
        serde_json::json!({"kind": "timeout"})
    );
    let verdict = classify(&outcome);
    assert_eq!(
        serde_json::to_value(&verdict).unwrap(),
        serde_json::json!({"verdict": "retry", "detail": "HTTP 429", "retry_after_ms": 30000})
    );
    let decision = Decision::RetryAfter {
        delay: Duration::from_millis(5321),
    };
    assert_eq!(
        serde_json::to_value(&decision).unwrap(),
        serde_json::json!({"decision": "retry_after", "delay_ms": 5321})
    );
    let gave_up = Decision::GiveUp(GiveUp::Exhausted {
        detail: "timeout".into(),
        attempts: 9,
    });
    let json = serde_json::to_value(&gave_up).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"decision": "give_up", "reason": "exhausted", "detail": "timeout", "attempts": 9})
    );
    assert_eq!(serde_json::from_value::<Decision>(json).unwrap(), gave_up);
    let schedule = serde_json::to_value(RetrySchedule::default()).unwrap();
    assert_eq!(
        schedule,
        serde_json::json!({
            "delays_ms": [0, 5000, 30000, 120000, 600000, 1800000, 3600000, 10800000, 21600000],
            "jitter_permille": 100,
            "max_retry_after_ms": 3600000,
        })
    );
    assert_eq!(
        serde_json::from_value::<RetrySchedule>(schedule).unwrap(),
        RetrySchedule::default()
    );
}
