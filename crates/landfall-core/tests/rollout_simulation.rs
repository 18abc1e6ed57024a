//! Rollout simulations over 100,000 synthetic devices, with the real `/updates` rollout logic
//! ([`pick_target`], [`rollout_bucket`]), the real step schedule ([`next_step`]) and the real
//! safety rule ([`evaluate`]). Deterministic: every random draw comes from a seeded RNG.
//!
//! Run with `-- --nocapture` to see the measured figures. `LANDFALL_SIM_SEEDS=10` repeats the
//! healthy-release simulation over 10 seeds (10,000 releases) instead of 1, and
//! `LANDFALL_SIM_OVERRIDES` (a `SafetyOverrides` JSON) runs it with other thresholds.

use std::sync::Arc;

use landfall_core::channel::{
    BundleVariant, BundleView, ChannelFlags, ChannelView, Rollout, Target,
};
use landfall_core::decide::{pick_target, rollout_bucket};
use landfall_core::plugin::{DeviceInfo, InfoObject};
use landfall_core::rollout_plan::{next_step, RolloutPlan};
use landfall_core::safety::{evaluate, SafetyOverrides, SafetyPolicy, Sample, Verdict};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use semver::Version;

const DEVICES: usize = 100_000;
const CHANNEL_ID: i64 = 7;
const STABLE: &str = "1.0.0";
const CANDIDATE: &str = "1.1.0";
const HOUR_MS: i64 = 3_600_000;

/// A lower-case version-4 UUID from the RNG, like the plugin's device ids.
fn uuid(rng: &mut StdRng) -> String {
    let a: u32 = rng.gen();
    let b: u16 = rng.gen();
    let c: u16 = rng.gen::<u16>() & 0x0fff;
    let d: u16 = (rng.gen::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

/// `DEVICES` devices running the stable bundle, with distinct random ids.
fn fleet(seed: u64) -> Vec<DeviceInfo> {
    let template = InfoObject {
        platform: Some("android".into()),
        device_id: Some("00000000-0000-4000-8000-000000000000".into()),
        app_id: Some("com.example.sim".into()),
        version_build: Some("1.0.0".into()),
        version_name: Some(STABLE.into()),
        plugin_version: Some("7.0.0".into()),
        is_emulator: Some(false),
        is_prod: Some(true),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::new();
    let mut devices = Vec::with_capacity(DEVICES);
    while devices.len() < DEVICES {
        let id = uuid(&mut rng);
        if seen.insert(id.clone()) {
            devices.push(DeviceInfo {
                device_id: id,
                ..template.clone()
            });
        }
    }
    devices
}

fn bundle(name: &str) -> Target {
    Target::Bundle(Arc::new(BundleView {
        id: 1,
        name: name.into(),
        version: Version::parse(name).unwrap(),
        min_update_version: None,
        link: None,
        comment: None,
        variants: vec![BundleVariant {
            key_id: None,
            url: Some(format!("/blobs/{name}")),
            session_key: String::new(),
            checksum: "ab".repeat(32),
            manifest: vec![],
        }],
    }))
}

/// The public channel serving `STABLE`, with a rollout of `CANDIDATE` at `bp` basis points.
fn channel(bp: u16, paused: bool) -> ChannelView {
    ChannelView {
        id: CHANNEL_ID,
        name: "production".into(),
        flags: ChannelFlags {
            public: true,
            ..Default::default()
        },
        target: bundle(STABLE),
        rollout: Some(Rollout {
            target: bundle(CANDIDATE),
            basis_points: bp,
            paused,
        }),
    }
}

fn gets_candidate(device: &DeviceInfo, channel: &ChannelView) -> bool {
    pick_target(device, channel).name() == CANDIDATE
}

/// The device after installing the candidate: it now reports running it.
fn installed(device: &DeviceInfo) -> DeviceInfo {
    DeviceInfo {
        version_name: CANDIDATE.into(),
        ..device.clone()
    }
}

fn bucket(device: &DeviceInfo) -> u16 {
    rollout_bucket(&device.device_id, CHANNEL_ID, CANDIDATE)
}

#[test]
fn observed_shares_are_within_one_point_of_the_target() {
    let devices = fleet(1);
    println!("share of {DEVICES} devices getting the rollout bundle:");
    for percent in [1u16, 5, 25, 50, 99] {
        let bp = percent * 100;
        let ch = channel(bp, false);
        let on = devices.iter().filter(|d| gets_candidate(d, &ch)).count();
        // pick_target and the bucket rule agree device by device.
        assert_eq!(on, devices.iter().filter(|d| bucket(d) < bp).count());
        let share = on as f64 * 100.0 / DEVICES as f64;
        println!(
            "  target {percent:>3} %: observed {share:7.3} % ({on} devices), off by {:+.3} points",
            share - f64::from(percent)
        );
        assert!(
            (share - f64::from(percent)).abs() <= 1.0,
            "target {percent} %, observed {share} %"
        );
    }
    // Buckets are uniform across the whole range: each tenth holds 10 % ± 1 point.
    let mut tenths = [0usize; 10];
    for d in &devices {
        tenths[usize::from(bucket(d) / 1_000)] += 1;
    }
    println!("  devices per bucket tenth: {tenths:?}");
    for n in tenths {
        assert!((9_000..=11_000).contains(&n), "{tenths:?}");
    }
}

#[test]
fn devices_on_the_rollout_stay_on_it_as_it_grows() {
    let devices = fleet(2);
    let steps = [1u16, 5, 10, 25, 50, 75, 99, 100];
    let mut previous: Option<(u16, Vec<bool>)> = None;
    for percent in steps {
        // Fresh devices (none installed yet): the assignment alone is sticky.
        let ch = channel(percent * 100, false);
        let on: Vec<bool> = devices.iter().map(|d| gets_candidate(d, &ch)).collect();
        if let Some((p, before)) = &previous {
            let left = before.iter().zip(&on).filter(|(b, a)| **b && !**a).count();
            let joined = before.iter().zip(&on).filter(|(b, a)| !**b && **a).count();
            println!("  {p:>3} % -> {percent:>3} %: {joined} devices join, {left} leave");
            assert_eq!(
                left, 0,
                "{left} devices left the rollout from {p} % to {percent} %"
            );
        }
        previous = Some((percent, on));
    }
    let (_, all) = previous.unwrap();
    assert!(
        all.iter().all(|&on| on),
        "at 100 % every device gets the bundle"
    );

    // Deterministic: the same device gets the same answer on every check.
    let ch = channel(2_500, false);
    for d in devices.iter().take(1_000) {
        assert_eq!(gets_candidate(d, &ch), gets_candidate(d, &ch.clone()));
    }
    // Independent between rollouts: another bundle's 10 % overlaps this one's 10 % by ≈ 1 %.
    let overlap = devices
        .iter()
        .filter(|d| {
            rollout_bucket(&d.device_id, CHANNEL_ID, CANDIDATE) < 1_000
                && rollout_bucket(&d.device_id, CHANNEL_ID, "1.2.0") < 1_000
        })
        .count();
    println!("  overlap of two independent 10 % rollouts: {overlap} devices (expected ≈ 1,000)");
    assert!((800..=1_200).contains(&overlap), "{overlap}");
}

/// Shrinking 50 % → 10 %. What moves depends on whether a device already installed the bundle,
/// because `pick_target` keeps devices running the rollout bundle (a rollout only stops
/// *spreading* when it shrinks; 0 % takes it back from everyone). Half the fleet checked in
/// during the 50 % phase (those chosen installed the bundle); the other half did not.
///
/// Measured: (1) among devices that had not installed it, exactly those with a bucket in
/// [1000, 5000) stop being assigned the bundle, no other device changes; (2) no device that
/// installed it is moved back; (3) at 0 % every device, installed or not, gets the stable bundle.
#[test]
fn shrinking_moves_exactly_the_devices_between_the_two_shares() {
    let devices = fleet(3);
    let mut rng = StdRng::seed_from_u64(33);
    let at_50 = channel(5_000, false);
    let at_10 = channel(1_000, false);

    // The 50 % phase: online devices that get the bundle install it.
    let state: Vec<DeviceInfo> = devices
        .iter()
        .map(|d| {
            if rng.gen_bool(0.5) && gets_candidate(d, &at_50) {
                installed(d)
            } else {
                d.clone()
            }
        })
        .collect();
    let is_installed = |d: &DeviceInfo| d.version_name == CANDIDATE;

    let (mut moved_fresh, mut expected_fresh, mut fresh) = (0, 0, 0);
    let (mut installed_n, mut installed_moved_back, mut installed_outside_10) = (0, 0, 0);
    for d in &state {
        let before = gets_candidate(d, &at_50);
        let after = gets_candidate(d, &at_10);
        let b = bucket(d);
        if is_installed(d) {
            installed_n += 1;
            installed_moved_back += usize::from(!after);
            installed_outside_10 += usize::from(b >= 1_000);
        } else {
            fresh += 1;
            let moved = before && !after;
            let expected = (1_000..5_000).contains(&b);
            assert_eq!(moved, expected, "device {} bucket {b}", d.device_id);
            assert_eq!(after, b < 1_000, "device {} bucket {b}", d.device_id);
            moved_fresh += usize::from(moved);
            expected_fresh += usize::from(expected);
        }
    }
    println!(
        "  not installed: {fresh} devices, {moved_fresh} no longer assigned (bucket in [1000, 5000): {expected_fresh})"
    );
    println!(
        "  installed at 50 %: {installed_n} devices, {installed_moved_back} moved back \
         ({installed_outside_10} of them are outside the 10 % and keep the bundle)"
    );
    assert_eq!(moved_fresh, expected_fresh);
    // The offline half of the fleet, times the 40 % of buckets in [1000, 5000).
    let share = moved_fresh as f64 / DEVICES as f64;
    assert!((share - 0.20).abs() < 0.01, "{share}");
    assert_eq!(installed_moved_back, 0);
    assert!(installed_outside_10 > 0);

    // A paused rollout takes no new device and keeps the installed ones.
    let paused = channel(1_000, true);
    for d in &state {
        assert_eq!(gets_candidate(d, &paused), is_installed(d));
    }
    // 0 % takes the bundle back from everyone.
    let off = channel(0, false);
    assert!(state.iter().all(|d| !gets_candidate(d, &off)));
}

/// Draw Binomial(n, p) exactly by skipping geometric gaps between successes (O(n·p) draws).
fn binomial(rng: &mut StdRng, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let log_q = (1.0 - p).ln();
    let (mut position, mut successes) = (0u64, 0u64);
    loop {
        let u: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
        position += (u.ln() / log_q).floor() as u64 + 1;
        if position > n {
            return successes;
        }
        successes += 1;
    }
}

/// Add one device's outcome to a sample.
fn record(sample: &mut Sample, failed: bool, crashed: bool) {
    sample.devices_attempted += 1;
    if failed {
        sample.devices_failed += 1;
        *sample.per_signal.entry("download_fail".into()).or_default() += 1;
    } else {
        sample.devices_running += 1;
        if crashed {
            sample.devices_crashed += 1;
            *sample.per_signal.entry("app_crash".into()).or_default() += 1;
        }
    }
}

fn merge(into: &mut Sample, from: &Sample) {
    into.devices_attempted += from.devices_attempted;
    into.devices_failed += from.devices_failed;
    into.devices_running += from.devices_running;
    into.devices_crashed += from.devices_crashed;
    for (action, n) in &from.per_signal {
        *into.per_signal.entry(action.clone()).or_default() += n;
    }
}

/// What the server does each interval: judge the last interval alone (catches spikes that older
/// healthy data would dilute) and everything since the rollout began (accumulates evidence).
/// Either being unhealthy is unhealthy; otherwise the cumulative verdict decides.
fn judge(
    policy: &SafetyPolicy,
    window: &Sample,
    cumulative: &Sample,
    baseline: &Sample,
) -> Verdict {
    let recent = evaluate(policy, window, baseline);
    if recent.breach().is_some() {
        return recent;
    }
    evaluate(policy, cumulative, baseline)
}

/// The previous bundle, as it ran on the fleet: `devices` attempts at the given rates.
fn baseline(rng: &mut StdRng, devices: u64, install_rate: f64, crash_rate: f64) -> Sample {
    let failed = binomial(rng, devices, install_rate);
    let running = devices - failed;
    Sample {
        devices_attempted: devices,
        devices_failed: failed,
        devices_running: running,
        devices_crashed: binomial(rng, running, crash_rate),
        ..Default::default()
    }
}

struct SpikeRun {
    /// The interval whose evaluation found the release unhealthy, and why.
    paused_at: Option<(usize, String)>,
    /// The share at the end.
    final_bp: u16,
    /// Devices that got the bundle after the pause.
    joined_after_pause: usize,
    /// `(interval, share, devices attempting in the interval)`.
    timeline: Vec<(usize, u16, u64)>,
}

/// A scheduled rollout (`--step 5,25,50,100 --every 12h`, evaluated hourly) over the fleet.
/// Each hour, every device that `pick_target` assigns the bundle and has not installed it yet
/// checks in with probability 15 % and attempts the install: it fails with the install rate of
/// that hour (0.5 %, or `spike_rate` from hour `spike_at`), and a device that installed crashes
/// with probability 0.3 %. The baseline is the stable bundle on 50,000 devices at the same
/// healthy rates.
fn simulate_scheduled_rollout(spike_at: Option<usize>, spike_rate: f64) -> SpikeRun {
    let devices = fleet(4);
    let policy = SafetyPolicy::default();
    let mut rng = StdRng::seed_from_u64(44);
    let base = baseline(&mut rng, 50_000, 0.005, 0.003);
    let plan = RolloutPlan::parse("5,25,50,100", "12h").unwrap();
    let t0: i64 = 1_767_196_800_000;
    let (mut bp, mut last_step_at, mut paused) = (500u16, t0, false);
    let mut state: Vec<DeviceInfo> = devices.clone();
    let mut attempted = vec![false; DEVICES];
    let mut cumulative = Sample::default();
    let mut run = SpikeRun {
        paused_at: None,
        final_bp: 0,
        joined_after_pause: 0,
        timeline: vec![],
    };
    for hour in 0..36 {
        let ch = channel(bp, paused);
        let install_rate = match spike_at {
            Some(k) if hour >= k => spike_rate,
            _ => 0.005,
        };
        let mut window = Sample::default();
        for (i, d) in state.iter_mut().enumerate() {
            if attempted[i] || !gets_candidate(d, &ch) || !rng.gen_bool(0.15) {
                continue;
            }
            attempted[i] = true;
            if paused {
                run.joined_after_pause += 1;
            }
            let failed = rng.gen_bool(install_rate);
            let crashed = !failed && rng.gen_bool(0.003);
            record(&mut window, failed, crashed);
            if !failed {
                *d = installed(d);
            }
        }
        merge(&mut cumulative, &window);
        run.timeline.push((hour, bp, window.devices_attempted));
        let now = t0 + (hour as i64 + 1) * HOUR_MS;
        let verdict = judge(&policy, &window, &cumulative, &base);
        if paused {
            continue;
        }
        if let Some(breach) = verdict.breach() {
            paused = true;
            run.paused_at = Some((hour, breach.to_string()));
            continue;
        }
        if let Some((next, _)) = next_step(&plan, bp, last_step_at, now, verdict.allows_advance()) {
            bp = next;
            last_step_at = now;
        }
    }
    run.final_bp = bp;
    run
}

#[test]
fn an_injected_failure_spike_is_paused_within_one_interval() {
    let spike_at = 6;
    let run = simulate_scheduled_rollout(Some(spike_at), 0.08);
    let (hour, why) = run
        .paused_at
        .clone()
        .expect("the spike must pause the rollout");
    println!("  spike to 8 % install failures from hour {spike_at} at 5 %; paused by the evaluation of hour {hour}:");
    println!("    {why}");
    for (h, bp, n) in run.timeline.iter().take(hour + 2) {
        println!(
            "    hour {h:>2}: {:>5.2} %, {n} devices attempting",
            f64::from(*bp) / 100.0
        );
    }
    // The evaluation at the end of the first hour with spiked traffic catches it.
    assert!(
        hour >= spike_at && hour <= spike_at + 1,
        "spike at hour {spike_at}, paused at hour {hour}"
    );
    assert_eq!(
        hour, spike_at,
        "caught by the first evaluation after the spike"
    );
    assert_eq!(run.final_bp, 500, "a paused rollout does not advance");
    assert_eq!(
        run.joined_after_pause, 0,
        "a paused rollout takes no new device"
    );
    // Nothing was flagged before the spike.
    assert!(why.starts_with("install failures:"), "{why}");

    // The same rollout without the spike walks its whole schedule, one step per 12 h.
    let healthy = simulate_scheduled_rollout(None, 0.0);
    assert_eq!(healthy.paused_at, None);
    let steps: Vec<(usize, u16)> = healthy
        .timeline
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| (w[1].0, w[1].1))
        .collect();
    println!("  without the spike, steps taken at (hour, bp): {steps:?}");
    assert_eq!(steps, vec![(12, 2_500), (24, 5_000)]);
    assert_eq!(
        healthy.final_bp, 10_000,
        "the last evaluation (hour 35) takes the 100 % step"
    );
}

fn log_uniform(rng: &mut StdRng, low: f64, high: f64) -> f64 {
    (rng.gen_range(low.ln()..high.ln())).exp()
}

struct ReleaseStats {
    releases: usize,
    false_positive_releases: usize,
    looks: usize,
    unhealthy_looks: usize,
    judged: usize,
    regressions: usize,
    regressions_caught: usize,
}

/// One seed's 1,000 healthy releases. Each release: a baseline (the previous bundle) on
/// 1,000–200,000 devices (log-uniform) with an install-failure rate of 0.1–5 % and a crash rate
/// of 0.05–2 % (log-uniform), then a candidate reaching 50–20,000 devices (log-uniform) at
/// exactly the baseline's rates, arriving over 10 evaluation intervals (each interval, each
/// device not yet arrived arrives with probability 25 %, the rest in the last one); every
/// interval is judged (last interval and cumulative). A twin release with a real regression
/// (install failures at max(4 × baseline, baseline + 6 points)) runs over the same traffic to
/// show what the margins still catch.
fn healthy_releases(seed: u64, policy: &SafetyPolicy) -> ReleaseStats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = ReleaseStats {
        releases: 1_000,
        false_positive_releases: 0,
        looks: 0,
        unhealthy_looks: 0,
        judged: 0,
        regressions: 0,
        regressions_caught: 0,
    };
    for _ in 0..stats.releases {
        let install_rate = log_uniform(&mut rng, 0.001, 0.05);
        let crash_rate = log_uniform(&mut rng, 0.0005, 0.02);
        let base_devices = log_uniform(&mut rng, 1_000.0, 200_000.0) as u64;
        let base = baseline(&mut rng, base_devices, install_rate, crash_rate);
        let total = log_uniform(&mut rng, 50.0, 20_000.0) as u64;
        let regressed_rate = (4.0 * install_rate).max(install_rate + 0.06);

        let mut remaining = total;
        let (mut cumulative, mut twin_cumulative) = (Sample::default(), Sample::default());
        let (mut flagged, mut twin_flagged, mut ever_judged) = (false, false, false);
        for interval in 0..10 {
            let arriving = if interval == 9 {
                remaining
            } else {
                binomial(&mut rng, remaining, 0.25)
            };
            remaining -= arriving;
            let draw = |rng: &mut StdRng, rate: f64| {
                let failed = binomial(rng, arriving, rate);
                let running = arriving - failed;
                Sample {
                    devices_attempted: arriving,
                    devices_failed: failed,
                    devices_running: running,
                    devices_crashed: binomial(rng, running, crash_rate),
                    ..Default::default()
                }
            };
            let window = draw(&mut rng, install_rate);
            merge(&mut cumulative, &window);
            let verdict = judge(policy, &window, &cumulative, &base);
            stats.looks += 1;
            ever_judged |= verdict == Verdict::Healthy;
            if verdict.breach().is_some() {
                stats.unhealthy_looks += 1;
                if !flagged {
                    println!(
                        "  false positive (seed {seed}): {}",
                        verdict.breach().unwrap()
                    );
                }
                flagged = true;
            }

            let twin_window = draw(&mut rng, regressed_rate);
            merge(&mut twin_cumulative, &twin_window);
            twin_flagged |= judge(policy, &twin_window, &twin_cumulative, &base)
                .breach()
                .is_some();
        }
        stats.false_positive_releases += usize::from(flagged);
        stats.judged += usize::from(ever_judged);
        // Only releases large enough to be judged count towards what the margins catch.
        if total >= policy.min_devices {
            stats.regressions += 1;
            stats.regressions_caught += usize::from(twin_flagged);
        }
    }
    stats
}

#[test]
fn healthy_releases_raise_no_alarm_at_the_defaults() {
    let seeds: u64 = std::env::var("LANDFALL_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    // `LANDFALL_SIM_OVERRIDES='{"min_devices":50}'` measures other thresholds (not asserted).
    let overrides: Option<SafetyOverrides> = std::env::var("LANDFALL_SIM_OVERRIDES")
        .ok()
        .map(|json| serde_json::from_str(&json).unwrap());
    let policy = overrides
        .unwrap_or_default()
        .apply(&SafetyPolicy::default())
        .unwrap();
    let (mut releases, mut fp, mut looks, mut bad_looks, mut judged) = (0, 0, 0, 0, 0);
    let (mut regressions, mut caught) = (0, 0);
    for seed in 0..seeds {
        let s = healthy_releases(1_000 + seed, &policy);
        releases += s.releases;
        fp += s.false_positive_releases;
        looks += s.looks;
        bad_looks += s.unhealthy_looks;
        judged += s.judged;
        regressions += s.regressions;
        caught += s.regressions_caught;
    }
    println!(
        "  {releases} healthy releases, {looks} evaluations: {fp} false positives \
         (rate {:.4} %), {bad_looks} unhealthy evaluations; {judged} releases reached the \
         minimum sample",
        fp as f64 * 100.0 / releases as f64
    );
    println!(
        "  regressed twins (install failures at max(4×, +6 points)): {caught} of the \
         {regressions} with at least {} devices caught ({:.1} %)",
        policy.min_devices,
        caught as f64 * 100.0 / regressions.max(1) as f64
    );
    if overrides.is_none() {
        assert_eq!(fp, 0, "false positives at the default thresholds");
    }
}
