use super::*;

/// The reference values below were computed independently of this code, once, with:
///
/// ```text
/// python3 -c "
/// import math
/// def wilson(k, n, z):
///     p = k / n; d = 1 + z*z/n; c = (p + z*z/(2*n)) / d
///     h = z / d * math.sqrt(p*(1-p)/n + z*z/(4*n*n))
///     return (max(0.0, c - h), min(1.0, c + h))
/// for k, n, z in [(8,100,2.576), (5,1000,2.576), (0,50,2.576), (3,10,1.96),
///                 (24,300,2.576), (250,50000,2.576)]:
///     print(k, n, z, wilson(k, n, z))"
/// ```
const REFERENCE: &[(u64, u64, f64, f64, f64)] = &[
    (8, 100, 2.576, 0.033588717774728466, 0.17868315615996302),
    (5, 1000, 2.576, 0.0016719334871234245, 0.014854178932707757),
    (0, 50, 2.576, 0.0, 0.11716579993536241),
    (3, 10, 1.96, 0.10778928748621183, 0.6032267800204347),
    (24, 300, 2.576, 0.048157913695751425, 0.13002017339086433),
    (
        250,
        50000,
        2.576,
        0.004250524942556721,
        0.005880845987282013,
    ),
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn wilson_matches_independent_values() {
    for &(k, n, z, lo, hi) in REFERENCE {
        let (l, h) = wilson_interval(k, n, z);
        assert!(
            close(l, lo) && close(h, hi),
            "{k}/{n} z={z}: ({l}, {h}) vs ({lo}, {hi})"
        );
    }
}

#[test]
fn wilson_edges() {
    assert_eq!(wilson_interval(0, 0, 2.576), (0.0, 1.0));
    let (lo, hi) = wilson_interval(50, 50, 2.576);
    assert!(close(hi, 1.0) && lo > 0.88 && lo < 1.0, "{lo}");
    // Clamped: more failures than trials is all trials failing.
    assert_eq!(
        wilson_interval(70, 50, 2.576),
        wilson_interval(50, 50, 2.576)
    );
    // Bounds bracket the observed rate and narrow as the sample grows.
    let mut width = 1.0;
    for n in [10, 100, 1_000, 10_000, 100_000] {
        let (lo, hi) = wilson_interval(n / 20, n, 1.96);
        assert!(lo < 0.05 && 0.05 < hi);
        assert!(hi - lo < width);
        width = hi - lo;
    }
}

fn sample(attempted: u64, failed: u64, running: u64, crashed: u64) -> Sample {
    Sample {
        devices_attempted: attempted,
        devices_failed: failed,
        devices_running: running,
        devices_crashed: crashed,
        per_signal: BTreeMap::new(),
    }
}

#[test]
fn default_policy_is_valid_and_uses_the_analytics_failure_set() {
    SafetyPolicy::default().validate().unwrap();
    assert_eq!(SignalClass::Install.actions(), analytics::FAILURE_ACTIONS);
    for action in CRASH_ACTIONS {
        assert!(analytics::is_health(action), "{action}");
    }
    assert_eq!(SignalClass::of("checksum_fail"), Some(SignalClass::Install));
    assert_eq!(SignalClass::of("update_fail"), Some(SignalClass::Install));
    assert_eq!(SignalClass::of("app_anr"), Some(SignalClass::Crash));
    assert_eq!(SignalClass::of("webview_javascript_error"), None);
    assert_eq!(SignalClass::of("set"), None);
}

#[test]
fn threshold_combines_floor_margin_factor_and_ceiling() {
    let t = SafetyPolicy::default().install;
    assert!(close(t.threshold(0.0), 0.02)); // floor
    assert!(close(t.threshold(0.005), 0.025)); // margin
    assert!(close(t.threshold(0.05), 0.10)); // factor
    assert!(close(t.threshold(0.2), 0.25)); // ceiling
    assert!(close(t.threshold(1.0), 0.25)); // no baseline: the ceiling alone
}

#[test]
fn a_spike_over_a_large_baseline_is_unhealthy_with_the_numbers() {
    let policy = SafetyPolicy::default();
    let mut candidate = sample(300, 24, 276, 0);
    candidate.per_signal.insert("download_fail".into(), 20);
    candidate.per_signal.insert("checksum_fail".into(), 5);
    candidate.per_signal.insert("app_crash".into(), 0);
    candidate
        .per_signal
        .insert("webview_javascript_error".into(), 9);
    let baseline = sample(50_000, 250, 49_750, 40);
    let Verdict::Unhealthy(b) = evaluate(&policy, &candidate, &baseline) else {
        panic!("expected unhealthy");
    };
    assert_eq!(b.signal, SignalClass::Install);
    assert_eq!((b.failures, b.trials), (24, 300));
    assert!(close(b.rate, 0.08));
    assert!(close(b.lower_bound, 0.048157913695751425));
    assert!(close(b.baseline_upper, 0.005880845987282013));
    // max(2 %, 0.588 % + 2 points, 2 × 0.588 %) = 2.588 %.
    assert!(close(b.threshold, 0.005880845987282013 + 0.02));
    assert_eq!(b.baseline_rate, Some(0.005));
    assert_eq!((b.baseline_failures, b.baseline_trials), (250, 50_000));
    assert_eq!(b.action, SafetyAction::Pause);
    assert_eq!(
        b.top_actions,
        vec![("download_fail".into(), 20), ("checksum_fail".into(), 5)]
    );
    assert_eq!(
        b.to_string(),
        "install failures: 24 of 300 devices (8.00 %); lower bound 4.82 % (z = 2.576) is above \
         the threshold 2.59 % (previous bundle: 250 of 50000 devices, 0.50 %, upper bound 0.59 %); \
         download_fail 20, checksum_fail 5; action: pause"
    );
    // The smallest judged sample: 8 of 100 (lower bound 3.36 %) is still caught.
    let small = sample(100, 8, 100, 0);
    assert!(evaluate(&policy, &small, &baseline).breach().is_some());
}

#[test]
fn healthy_insufficient_and_ceiling() {
    let policy = SafetyPolicy::default();
    let baseline = sample(50_000, 250, 49_750, 40);
    // 2 of 100 failed: lower bound ≈ 0.3 %, far below 2.59 %.
    assert_eq!(
        evaluate(&policy, &sample(100, 2, 100, 1), &baseline),
        Verdict::Healthy
    );
    assert!(Verdict::Healthy.allows_advance());
    // Too few devices attempting; crash data even shorter.
    let v = evaluate(&policy, &sample(99, 1, 40, 0), &baseline);
    assert_eq!(
        v,
        Verdict::InsufficientData {
            signal: SignalClass::Crash,
            needed: 60
        }
    );
    assert!(!v.allows_advance());
    // A breach is reported even while crash data is missing.
    let v = evaluate(&policy, &sample(120, 60, 10, 0), &baseline);
    assert_eq!(v.breach().map(|b| b.signal), Some(SignalClass::Install));
    assert!(!v.allows_advance());
    // As bad as a terrible baseline: only the ceiling catches it.
    let bad_baseline = sample(50_000, 15_000, 35_000, 0);
    let v = evaluate(&policy, &sample(1_000, 300, 700, 0), &bad_baseline);
    let b = v.breach().unwrap();
    assert!(close(b.threshold, 0.25) && b.lower_bound > 0.25, "{b}");
    // No baseline at all: the ceiling alone applies.
    let v = evaluate(&policy, &sample(1_000, 100, 900, 0), &Sample::default());
    assert_eq!(v, Verdict::Healthy);
    let v = evaluate(&policy, &sample(1_000, 400, 600, 0), &Sample::default());
    let b = v.breach().unwrap();
    assert_eq!(b.baseline_rate, None);
    assert!(
        b.to_string().contains("no data on the previous bundle"),
        "{b}"
    );
}

#[test]
fn crashes_are_judged_over_running_devices() {
    let policy = SafetyPolicy::default();
    let baseline = sample(50_000, 250, 49_000, 200); // 0.41 % crashed
    let mut candidate = sample(1_000, 5, 990, 60); // 6 % crashed
    candidate.per_signal.insert("app_crash".into(), 50);
    candidate.per_signal.insert("app_anr".into(), 12);
    candidate.per_signal.insert("download_fail".into(), 5);
    let b = evaluate(&policy, &candidate, &baseline)
        .breach()
        .cloned()
        .unwrap();
    assert_eq!(b.signal, SignalClass::Crash);
    assert_eq!((b.failures, b.trials), (60, 990));
    assert_eq!(
        b.top_actions,
        vec![("app_crash".into(), 50), ("app_anr".into(), 12)]
    );
    // With both classes breached, the one furthest above its threshold is reported.
    let both = sample(1_000, 900, 100, 30);
    assert_eq!(
        evaluate(&policy, &both, &baseline).breach().unwrap().signal,
        SignalClass::Install
    );
}

#[test]
fn overrides_merge_over_the_defaults_and_are_validated() {
    let json = r#"{"min_devices": 30, "install": {"margin": 0.01}, "action": "abort"}"#;
    let o: SafetyOverrides = serde_json::from_str(json).unwrap();
    let p = o.apply(&SafetyPolicy::default()).unwrap();
    let d = SafetyPolicy::default();
    assert_eq!(p.min_devices, 30);
    assert_eq!(p.install.margin, 0.01);
    assert_eq!(p.install.floor, d.install.floor);
    assert_eq!(p.crash, d.crash);
    assert_eq!(p.z, d.z);
    assert_eq!(p.action, SafetyAction::Abort);
    assert_eq!(
        SafetyOverrides::default().apply(&d).unwrap(),
        d,
        "no overrides, no change"
    );

    let bad = |o: SafetyOverrides| o.apply(&d).unwrap_err().to_string();
    assert_eq!(
        bad(SafetyOverrides {
            min_devices: Some(0),
            ..Default::default()
        }),
        "the minimum sample must be at least 1 device"
    );
    assert!(bad(SafetyOverrides {
        z: Some(-1.0),
        ..Default::default()
    })
    .starts_with("z must be a positive number"));
    assert_eq!(
        bad(SafetyOverrides {
            crash: ThresholdOverrides {
                floor: Some(2.0),
                ..Default::default()
            },
            ..Default::default()
        }),
        "crash floor must be a fraction between 0 and 1 (0.02 = 2 %), not 2"
    );
    assert_eq!(
        bad(SafetyOverrides {
            install: ThresholdOverrides {
                factor: Some(0.5),
                ..Default::default()
            },
            ..Default::default()
        }),
        "install factor must be at least 1 (a multiple of the baseline), not 0.5"
    );
    assert_eq!(
        bad(SafetyOverrides {
            install: ThresholdOverrides {
                floor: Some(0.3),
                ..Default::default()
            },
            ..Default::default()
        }),
        "install floor (0.3) is above its ceiling (0.25)"
    );
}

#[test]
fn policy_and_verdict_round_trip_through_json() {
    let p = SafetyPolicy::default();
    let back: SafetyPolicy = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
    let v = evaluate(
        &p,
        &sample(300, 24, 276, 0),
        &sample(50_000, 250, 49_750, 40),
    );
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["verdict"], "unhealthy");
    assert_eq!(json["signal"], "install");
    assert_eq!(json["trials"], 300);
    let back: Verdict = serde_json::from_value(json).unwrap();
    assert_eq!(back, v);
    let short = serde_json::to_value(Verdict::InsufficientData {
        signal: SignalClass::Install,
        needed: 7,
    })
    .unwrap();
    assert_eq!(
        short,
        serde_json::json!({"verdict": "insufficient_data", "signal": "install", "needed": 7})
    );
}
