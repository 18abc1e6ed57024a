//! Automatic release safety: is a rollout's bundle failing more than the bundle it replaces?
//!
//! The failure signals are the `/stats` actions, counted **per device** (a device that sent
//! `download_fail` five times is one failed device), in two classes:
//!
//! * [`SignalClass::Install`] — the install failures [`analytics::FAILURE_ACTIONS`] defines
//!   (`download_fail`, `update_fail`, `checksum_fail`, `decrypt_fail`, `unzip_fail`, the manifest
//!   and delta failures …), over the devices that **attempted** the install;
//! * [`SignalClass::Crash`] — the crash signals [`CRASH_ACTIONS`] lists (`app_crash`, `app_anr` …),
//!   over the devices that **ran** the bundle.
//!
//! Each class's failure rate is a binomial proportion; [`evaluate`] compares the candidate's
//! [Wilson](wilson_interval) **lower** bound with a threshold derived from the baseline's (the
//! previous bundle's) Wilson **upper** bound, so both sampling uncertainties work against raising
//! an alarm: a release is declared unhealthy only when it is worse than its baseline with
//! confidence, by a margin that matters. Everything is pure; the caller gathers the counts, picks
//! the window (see [`evaluate`]), and records or sends the [`Breach`] it gets back.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analytics::{self, FAILURE_ACTIONS};

/// The `/stats` health actions that mean the app stopped working for the user: crashes, hangs,
/// failed launches and a dead web view. Softer health signals (JavaScript errors, resource
/// errors, CSP violations, the OS killing a backgrounded app for memory) are too common in
/// healthy apps to gate a release on, and stay out. Every entry is in
/// [`analytics::HEALTH_ACTIONS`].
pub const CRASH_ACTIONS: &[&str] = &[
    "app_crash",
    "app_crash_native",
    "app_anr",
    "app_initialization_failure",
    "app_launch_timeout",
    "webview_render_process_gone",
    "webview_content_process_terminated",
];

/// The Wilson score interval for a binomial proportion: `(lower, upper)`, both within `0..=1`.
///
/// With `n = trials`, `p̂ = failures / n` and `z` the standard-normal quantile of the wanted
/// confidence (1.96 for 95 %, 2.576 for 99 %, two-sided):
///
/// ```text
///            p̂ + z²/(2n)  ±  z · √( p̂(1 − p̂)/n + z²/(4n²) )
/// bounds = ───────────────────────────────────────────────────
///                          1 + z²/n
/// ```
///
/// Unlike the normal approximation `p̂ ± z√(p̂(1−p̂)/n)`, it stays inside `[0, 1]` and is not
/// degenerate at 0 or n failures (0 failures in 50 still has an upper bound of 11.7 % at 99 %),
/// which is what small samples of rare failures need.
///
/// `trials == 0` knows nothing: `(0.0, 1.0)`. `failures` above `trials` is clamped to `trials`.
pub fn wilson_interval(failures: u64, trials: u64, z: f64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = failures.min(trials) as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half_width = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (
        (centre - half_width).max(0.0),
        (centre + half_width).min(1.0),
    )
}

/// A class of failure signals, each with its own thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalClass {
    /// Install failures ([`FAILURE_ACTIONS`]) over devices that attempted the install.
    Install,
    /// Crash signals ([`CRASH_ACTIONS`]) over devices that ran the bundle.
    Crash,
}

impl SignalClass {
    /// Both classes, in evaluation order.
    pub const ALL: [SignalClass; 2] = [SignalClass::Install, SignalClass::Crash];

    /// The `/stats` actions of the class.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            SignalClass::Install => FAILURE_ACTIONS,
            SignalClass::Crash => CRASH_ACTIONS,
        }
    }

    /// The class an action belongs to, if it is a failure signal at all.
    pub fn of(action: &str) -> Option<SignalClass> {
        Self::ALL
            .into_iter()
            .find(|class| class.actions().contains(&action))
    }

    /// The user-facing name (`install` or `crash`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignalClass::Install => "install",
            SignalClass::Crash => "crash",
        }
    }

    /// What the rate measures, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            SignalClass::Install => "install failures",
            SignalClass::Crash => "crashes",
        }
    }
}

impl fmt::Display for SignalClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a rollout that [`evaluate`] finds unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyAction {
    /// Stop taking new devices; devices already on the bundle keep it (`Rollout::paused`).
    /// The default: it stops the damage from spreading and leaves the call to a human.
    #[default]
    Pause,
    /// Take the bundle back from every device (the rollout goes to 0 %).
    Abort,
}

impl SafetyAction {
    /// The user-facing name (`pause` or `abort`).
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyAction::Pause => "pause",
            SafetyAction::Abort => "abort",
        }
    }
}

/// The thresholds of one [`SignalClass`]; rates are fractions (0.02 = 2 %).
///
/// The candidate is unhealthy when its Wilson lower bound exceeds
/// [`threshold`](Self::threshold)`(baseline upper bound)`:
///
/// ```text
/// threshold = min(ceiling, max(floor, baseline_upper + margin, baseline_upper × factor))
/// ```
///
/// * `floor`: rates below it are never worth an alarm, however good the baseline;
/// * `margin` (absolute) and `factor` (relative): how much worse than the baseline counts — the
///   margin dominates for rare failures, the factor for common ones (a fixed margin over a 5 %
///   baseline would be crossed by chance far too often in small samples);
/// * `ceiling`: rates above it are always an alarm, even when the baseline is as bad (with no
///   baseline data the baseline's upper bound is 100 %, so the ceiling alone applies).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalThresholds {
    /// Never raise an alarm below this rate.
    pub floor: f64,
    /// Absolute margin above the baseline's upper bound.
    pub margin: f64,
    /// Relative margin: a multiple of the baseline's upper bound (≥ 1).
    pub factor: f64,
    /// Always raise an alarm above this rate.
    pub ceiling: f64,
}

impl SignalThresholds {
    /// The rate the candidate's lower bound must exceed, given the baseline's upper bound.
    pub fn threshold(&self, baseline_upper: f64) -> f64 {
        (baseline_upper + self.margin)
            .max(baseline_upper * self.factor)
            .max(self.floor)
            .min(self.ceiling)
    }

    fn validate(&self, class: SignalClass) -> Result<(), SafetyError> {
        let rate = |field: &'static str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(SafetyError::RateOutOfRange {
                    class,
                    field,
                    value,
                })
            }
        };
        rate("floor", self.floor)?;
        rate("margin", self.margin)?;
        rate("ceiling", self.ceiling)?;
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err(SafetyError::BadFactor {
                class,
                value: self.factor,
            });
        }
        if self.floor > self.ceiling {
            return Err(SafetyError::FloorAboveCeiling {
                class,
                floor: self.floor,
                ceiling: self.ceiling,
            });
        }
        Ok(())
    }
}

/// How a rollout's health is judged, with defaults tuned on simulations (see `Default`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SafetyPolicy {
    /// Devices a class needs in the candidate's sample (attempting the install, or running the
    /// bundle) before it is judged at all.
    pub min_devices: u64,
    /// Standard-normal quantile of the Wilson intervals (2.576 = 99 % two-sided).
    pub z: f64,
    /// Thresholds for install failures.
    pub install: SignalThresholds,
    /// Thresholds for crash signals.
    pub crash: SignalThresholds,
    /// What to do with an unhealthy rollout.
    pub action: SafetyAction,
}

impl Default for SafetyPolicy {
    /// The defaults, and why:
    ///
    /// * `min_devices: 100` — with 50, one extra failing device moves the rate by 2 points and a
    ///   healthy release with a 2 % baseline shows 6 failures in 50 (12 %) about once in 2,000
    ///   looks; a rollout is looked at every interval, so that adds up (measured: 2 false
    ///   alarms in 10,000 simulated healthy releases). At 100 the worst realistic single look
    ///   (a 1 % crash baseline known from 200,000 devices) errs about once in 14,000, most far
    ///   less, and 100 devices are still only the first hour of a 5 % step for an app with
    ///   ~15,000 active devices a day.
    /// * `z: 2.576` (99 %) — used twice (candidate lower bound, baseline upper bound), so a
    ///   healthy release must beat two 0.5 % tails at once, and then the margins.
    /// * install: `floor 2 %`, `margin 2 points`, `factor 2`, `ceiling 25 %` — download and
    ///   install failures on mobile networks commonly run at 0.1–5 % with no fault of the bundle;
    ///   an alarm means "clearly more than twice as bad, and at least 2 points worse". A broken
    ///   bundle (bad checksum, broken manifest, bundle that fails `notifyAppReady` and rolls
    ///   back) fails on most devices and clears this immediately; an 8 % failure rate against a
    ///   0.5 % baseline is caught with 100 devices (8 failures: lower bound 3.4 % > 2.6 %).
    /// * crash: `floor 1 %`, `margin 1.5 points`, `factor 2`, `ceiling 10 %` — crash-free users
    ///   rates of 99–99.9 % are normal, so crash rates are lower and the margins tighter.
    /// * `action: pause` — stops the spread without taking the bundle back from devices that
    ///   run it fine; aborting is a per-app choice.
    ///
    /// The trade-off, measured by `tests/rollout_simulation.rs` (healthy releases with baselines
    /// of 0.1–5 % install failures and 0.05–2 % crashes, 50–20,000 candidate devices, ten looks
    /// each at the last interval and at the cumulative data): these defaults raised no alarm in
    /// 20,000 releases (200,000 looks). Halving the margins to 1 point raised one in 20,000 and
    /// caught about 2 points more real regressions; these defaults sit one notch above where false
    /// alarms start. Every margin that keeps healthy releases quiet also hides regressions
    /// smaller than it: a bundle that turns a 0.5 % install-failure rate into 2 % is not
    /// flagged; apps that want that sensitivity lower the margins (an override) and accept
    /// occasional false pauses.
    fn default() -> Self {
        Self {
            min_devices: 100,
            z: 2.576,
            install: SignalThresholds {
                floor: 0.02,
                margin: 0.02,
                factor: 2.0,
                ceiling: 0.25,
            },
            crash: SignalThresholds {
                floor: 0.01,
                margin: 0.015,
                factor: 2.0,
                ceiling: 0.10,
            },
            action: SafetyAction::Pause,
        }
    }
}

impl SafetyPolicy {
    /// The thresholds of a class.
    pub fn thresholds(&self, class: SignalClass) -> &SignalThresholds {
        match class {
            SignalClass::Install => &self.install,
            SignalClass::Crash => &self.crash,
        }
    }

    /// Check every field is usable: at least one device, a positive finite `z`, rates within
    /// `0..=1`, factors of at least 1 and floors not above ceilings.
    pub fn validate(&self) -> Result<(), SafetyError> {
        if self.min_devices == 0 {
            return Err(SafetyError::ZeroMinDevices);
        }
        if !(self.z.is_finite() && self.z > 0.0) {
            return Err(SafetyError::BadZ(self.z));
        }
        self.install.validate(SignalClass::Install)?;
        self.crash.validate(SignalClass::Crash)
    }
}

/// Partial [`SignalThresholds`]: the fields an app overrides.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ThresholdOverrides {
    /// Overrides [`SignalThresholds::floor`].
    pub floor: Option<f64>,
    /// Overrides [`SignalThresholds::margin`].
    pub margin: Option<f64>,
    /// Overrides [`SignalThresholds::factor`].
    pub factor: Option<f64>,
    /// Overrides [`SignalThresholds::ceiling`].
    pub ceiling: Option<f64>,
}

impl ThresholdOverrides {
    fn apply(&self, base: &SignalThresholds) -> SignalThresholds {
        SignalThresholds {
            floor: self.floor.unwrap_or(base.floor),
            margin: self.margin.unwrap_or(base.margin),
            factor: self.factor.unwrap_or(base.factor),
            ceiling: self.ceiling.unwrap_or(base.ceiling),
        }
    }
}

/// An app's overrides of the [`SafetyPolicy`]: only the fields it sets replace the defaults, so
/// improving a default later reaches every app that did not choose otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SafetyOverrides {
    /// Overrides [`SafetyPolicy::min_devices`].
    pub min_devices: Option<u64>,
    /// Overrides [`SafetyPolicy::z`].
    pub z: Option<f64>,
    /// Overrides fields of [`SafetyPolicy::install`].
    pub install: ThresholdOverrides,
    /// Overrides fields of [`SafetyPolicy::crash`].
    pub crash: ThresholdOverrides,
    /// Overrides [`SafetyPolicy::action`].
    pub action: Option<SafetyAction>,
}

impl SafetyOverrides {
    /// The policy with these overrides merged over `base` (usually `SafetyPolicy::default()`),
    /// validated.
    pub fn apply(&self, base: &SafetyPolicy) -> Result<SafetyPolicy, SafetyError> {
        let policy = SafetyPolicy {
            min_devices: self.min_devices.unwrap_or(base.min_devices),
            z: self.z.unwrap_or(base.z),
            install: self.install.apply(&base.install),
            crash: self.crash.apply(&base.crash),
            action: self.action.unwrap_or(base.action),
        };
        policy.validate()?;
        Ok(policy)
    }
}

/// Why a policy is unusable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SafetyError {
    /// `min_devices` is 0.
    #[error("the minimum sample must be at least 1 device")]
    ZeroMinDevices,
    /// `z` is not a positive finite number.
    #[error("z must be a positive number (2.576 for 99 % confidence), not {0}")]
    BadZ(f64),
    /// A rate is outside `0..=1`.
    #[error("{class} {field} must be a fraction between 0 and 1 (0.02 = 2 %), not {value}")]
    RateOutOfRange {
        /// The class whose thresholds are wrong.
        class: SignalClass,
        /// The field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A factor is below 1.
    #[error("{class} factor must be at least 1 (a multiple of the baseline), not {value}")]
    BadFactor {
        /// The class whose thresholds are wrong.
        class: SignalClass,
        /// The value given.
        value: f64,
    },
    /// A floor is above its ceiling.
    #[error("{class} floor ({floor}) is above its ceiling ({ceiling})")]
    FloorAboveCeiling {
        /// The class whose thresholds are wrong.
        class: SignalClass,
        /// The floor.
        floor: f64,
        /// The ceiling.
        ceiling: f64,
    },
}

/// The failure counts of one bundle over one window, every count in distinct devices.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Sample {
    /// Devices that attempted to install the bundle (an install attempt as [`analytics`]
    /// defines it).
    pub devices_attempted: u64,
    /// Of those, devices that reported at least one install failure ([`FAILURE_ACTIONS`]).
    pub devices_failed: u64,
    /// Devices that ran the bundle.
    pub devices_running: u64,
    /// Of those, devices that reported at least one crash signal ([`CRASH_ACTIONS`]) while on it.
    pub devices_crashed: u64,
    /// Devices that reported each failure action (a device may appear under several): the
    /// breakdown a human reads to see what failed.
    pub per_signal: BTreeMap<String, u64>,
}

impl Sample {
    /// `(failing devices, devices at risk)` of a class.
    pub fn counts(&self, class: SignalClass) -> (u64, u64) {
        match class {
            SignalClass::Install => (self.devices_failed, self.devices_attempted),
            SignalClass::Crash => (self.devices_crashed, self.devices_running),
        }
    }

    /// The class's actions with their device counts, largest first (then by name), zeros left out.
    pub fn breakdown(&self, class: SignalClass) -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> = self
            .per_signal
            .iter()
            .filter(|(action, n)| **n > 0 && SignalClass::of(action) == Some(class))
            .map(|(action, n)| (action.clone(), *n))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows
    }
}

/// Why a rollout was found unhealthy: every number a human needs to check the call, as recorded
/// and sent in notifications ([`fmt::Display`] writes it as one English sentence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    /// The class of signal that crossed its threshold.
    pub signal: SignalClass,
    /// Candidate devices that failed.
    pub failures: u64,
    /// Candidate devices at risk (attempting the install, or running the bundle).
    pub trials: u64,
    /// `failures / trials`.
    pub rate: f64,
    /// The Wilson lower bound of `rate`.
    pub lower_bound: f64,
    /// The threshold `lower_bound` exceeded.
    pub threshold: f64,
    /// Baseline devices that failed.
    pub baseline_failures: u64,
    /// Baseline devices at risk.
    pub baseline_trials: u64,
    /// The baseline's rate; `None` without baseline data.
    pub baseline_rate: Option<f64>,
    /// The Wilson upper bound of the baseline's rate (1 without baseline data).
    pub baseline_upper: f64,
    /// The `z` the bounds were computed with.
    pub z: f64,
    /// What the policy says to do.
    pub action: SafetyAction,
    /// The candidate's failing actions of this class with device counts, largest first.
    pub top_actions: Vec<(String, u64)>,
}

fn pct(rate: f64) -> String {
    format!("{:.2} %", rate * 100.0)
}

impl fmt::Display for Breach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} of {} devices ({}); lower bound {} (z = {}) is above the threshold {}",
            self.signal.describe(),
            self.failures,
            self.trials,
            pct(self.rate),
            pct(self.lower_bound),
            self.z,
            pct(self.threshold),
        )?;
        match self.baseline_rate {
            Some(rate) => write!(
                f,
                " (previous bundle: {} of {} devices, {}, upper bound {})",
                self.baseline_failures,
                self.baseline_trials,
                pct(rate),
                pct(self.baseline_upper)
            )?,
            None => f.write_str(" (no data on the previous bundle: the ceiling applies)")?,
        }
        if !self.top_actions.is_empty() {
            let top: Vec<String> = self
                .top_actions
                .iter()
                .take(5)
                .map(|(action, n)| format!("{action} {n}"))
                .collect();
            write!(f, "; {}", top.join(", "))?;
        }
        write!(f, "; action: {}", self.action.as_str())
    }
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every class has enough data and none crossed its threshold.
    Healthy,
    /// No class crossed its threshold, but `signal` needs `needed` more devices to be judged.
    InsufficientData {
        /// The class short of data (the one needing the most devices).
        signal: SignalClass,
        /// More devices needed.
        needed: u64,
    },
    /// A class crossed its threshold.
    Unhealthy(Breach),
}

impl Verdict {
    /// Whether a scheduled step may advance: only a proven-healthy release moves on. A rollout
    /// too small to ever reach the minimum sample therefore waits for a human (or an app
    /// override of `min_devices`).
    pub fn allows_advance(&self) -> bool {
        matches!(self, Verdict::Healthy)
    }

    /// The breach, when unhealthy.
    pub fn breach(&self) -> Option<&Breach> {
        match self {
            Verdict::Unhealthy(breach) => Some(breach),
            _ => None,
        }
    }
}

/// Judge a candidate bundle's sample against its baseline (the bundle it replaces on the
/// channel, over a comparable window).
///
/// For each [`SignalClass`] with at least `min_devices` candidate devices at risk, the class is
/// breached when the candidate's Wilson lower bound exceeds
/// [`SignalThresholds::threshold`] of the baseline's Wilson upper bound. A breach wins over
/// missing data (a disaster in the install numbers is reported before crash data exists); among
/// several breaches the one furthest above its threshold (by ratio) is reported.
///
/// The window is the caller's choice and changes what is detected: the devices since the
/// current step began accumulate evidence for persistent regressions, while the devices of the
/// last evaluation interval alone catch a sudden spike that older healthy data would dilute.
/// Evaluating both each interval is what `tests/rollout_simulation.rs` does, and what the
/// defaults are tuned for.
pub fn evaluate(policy: &SafetyPolicy, candidate: &Sample, baseline: &Sample) -> Verdict {
    let mut worst: Option<(f64, Breach)> = None;
    let mut short: Option<(SignalClass, u64)> = None;
    for class in SignalClass::ALL {
        let (failures, trials) = candidate.counts(class);
        if trials < policy.min_devices {
            let needed = policy.min_devices - trials;
            if short.is_none_or(|(_, n)| needed > n) {
                short = Some((class, needed));
            }
            continue;
        }
        let (baseline_failures, baseline_trials) = baseline.counts(class);
        let (lower_bound, _) = wilson_interval(failures, trials, policy.z);
        let (_, baseline_upper) = wilson_interval(baseline_failures, baseline_trials, policy.z);
        let threshold = policy.thresholds(class).threshold(baseline_upper);
        if lower_bound <= threshold {
            continue;
        }
        let excess = if threshold > 0.0 {
            lower_bound / threshold
        } else {
            f64::INFINITY
        };
        if worst.as_ref().is_none_or(|(e, _)| excess > *e) {
            let breach = Breach {
                signal: class,
                failures,
                trials,
                rate: analytics::rate(failures.min(trials), trials).unwrap_or(0.0),
                lower_bound,
                threshold,
                baseline_failures,
                baseline_trials,
                baseline_rate: analytics::rate(
                    baseline_failures.min(baseline_trials),
                    baseline_trials,
                ),
                baseline_upper,
                z: policy.z,
                action: policy.action,
                top_actions: candidate.breakdown(class),
            };
            worst = Some((excess, breach));
        }
    }
    match (worst, short) {
        (Some((_, breach)), _) => Verdict::Unhealthy(breach),
        (None, Some((signal, needed))) => Verdict::InsufficientData { signal, needed },
        (None, None) => Verdict::Healthy,
    }
}

#[cfg(test)]
mod tests;
