//! A rollout's step schedule: the shares it grows through and how long each step lasts.
//!
//! `landfall rollout start <app> <channel> --bundle v --percent 5 --step 5,25,50,100 --every 1h`
//! stores a [`RolloutPlan`]; each evaluation the server asks [`next_step`] whether the rollout
//! moves on. It does only when the current step has lasted a full interval **and** the release
//! is healthy ([`crate::safety::Verdict::allows_advance`]), one step at a time. Shares are in
//! basis points (1 % = 100), like [`crate::channel::Rollout::basis_points`]; times are epoch ms.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Basis points in 100 %.
pub const FULL_BP: u16 = 10_000;

/// Why a plan, a step list or an interval was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// No steps at all.
    #[error("a rollout plan needs at least one step")]
    NoSteps,
    /// A step is not a number.
    #[error("step {0:?} is not a percentage (write 5, 12.5 or 0.25)")]
    NotAPercent(String),
    /// A step has more than 2 decimals.
    #[error("step {0:?} has more than 2 decimals (the finest share is 0.01 %)")]
    TooPrecise(String),
    /// A step is above 100 %.
    #[error("step {0:?} is above 100 %")]
    AboveFull(String),
    /// A step of 0 %.
    #[error(
        "a step of 0 % would take the bundle back from every device; pause the rollout instead"
    )]
    ZeroStep,
    /// Steps not strictly increasing.
    #[error("steps must increase: {} % comes after {} %", format_bp(*next), format_bp(*previous))]
    NotIncreasing {
        /// The earlier step, in basis points.
        previous: u16,
        /// The step that is not above it, in basis points.
        next: u16,
    },
    /// The interval is not `<number><unit>`.
    #[error("interval {0:?} is not a duration: write a whole number and a unit, m, h or d (30m, 1h, 2d, 1h30m)")]
    BadInterval(String),
    /// The interval is zero.
    #[error("interval {0:?} is zero: steps need time to gather health data")]
    ZeroInterval(String),
    /// The interval overflows.
    #[error("interval {0:?} is too long")]
    IntervalTooLong(String),
}

/// The schedule of a rollout: steps in basis points (strictly increasing, each in `1..=10000`)
/// and the time each step lasts before the next may start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawPlan", into = "RawPlan")]
pub struct RolloutPlan {
    steps: Vec<u16>,
    every_ms: i64,
}

/// The stored form of a plan, validated on the way in.
#[derive(Serialize, Deserialize)]
struct RawPlan {
    steps: Vec<u16>,
    every_ms: i64,
}

impl TryFrom<RawPlan> for RolloutPlan {
    type Error = PlanError;
    fn try_from(raw: RawPlan) -> Result<Self, PlanError> {
        RolloutPlan::new(raw.steps, raw.every_ms)
    }
}

impl From<RolloutPlan> for RawPlan {
    fn from(plan: RolloutPlan) -> Self {
        RawPlan {
            steps: plan.steps,
            every_ms: plan.every_ms,
        }
    }
}

impl RolloutPlan {
    /// A plan from steps in basis points and an interval in ms, validated: at least one step,
    /// each in `1..=10000`, strictly increasing, and a positive interval.
    pub fn new(steps: Vec<u16>, every_ms: i64) -> Result<Self, PlanError> {
        validate_steps(&steps)?;
        if every_ms <= 0 {
            return Err(PlanError::ZeroInterval(format!("{every_ms} ms")));
        }
        Ok(Self { steps, every_ms })
    }

    /// A plan from the CLI forms: `--step 5,25,50,100` and `--every 1h` (see [`parse_steps`]
    /// and [`parse_interval`]).
    pub fn parse(steps: &str, every: &str) -> Result<Self, PlanError> {
        Self::new(parse_steps(steps)?, parse_interval(every)?)
    }

    /// The steps, in basis points.
    pub fn steps(&self) -> &[u16] {
        &self.steps
    }

    /// How long each step lasts, in ms.
    pub fn every_ms(&self) -> i64 {
        self.every_ms
    }

    /// The step after `current_bp` (the first one above it) and when it is due, whatever the
    /// release's health: what a status screen shows as "next: 25 % at 14:00". `None` once the
    /// rollout is at or above the last step.
    pub fn upcoming(&self, current_bp: u16, last_step_at: i64) -> Option<(u16, i64)> {
        let next = *self.steps.iter().find(|&&bp| bp > current_bp)?;
        Some((next, last_step_at.saturating_add(self.every_ms)))
    }
}

/// Whether the rollout advances now: `Some((new share in bp, the time the step was due))` when
/// the next step is due (`now ≥ last_step_at + every`) **and** the release is `healthy`,
/// otherwise `None` (not due, unhealthy, or no step left).
///
/// One step per call, however late: after a long outage the rollout does not jump several steps
/// at once. The caller records `now` (not the returned due time) as the new `last_step_at`, so
/// every step gets a full interval of health data. A share set by hand between steps continues
/// with the first step above it.
pub fn next_step(
    plan: &RolloutPlan,
    current_bp: u16,
    last_step_at: i64,
    now: i64,
    healthy: bool,
) -> Option<(u16, i64)> {
    plan.upcoming(current_bp, last_step_at)
        .filter(|&(_, due_at)| healthy && now >= due_at)
}

fn validate_steps(steps: &[u16]) -> Result<(), PlanError> {
    if steps.is_empty() {
        return Err(PlanError::NoSteps);
    }
    for (i, &bp) in steps.iter().enumerate() {
        if bp == 0 {
            return Err(PlanError::ZeroStep);
        }
        if bp > FULL_BP {
            return Err(PlanError::AboveFull(format_bp(bp)));
        }
        if let Some(&previous) = i.checked_sub(1).and_then(|j| steps.get(j)) {
            if bp <= previous {
                return Err(PlanError::NotIncreasing { previous, next: bp });
            }
        }
    }
    Ok(())
}

/// Parse one percentage with up to 2 decimals (`5`, `12.5`, `0.25`, an optional trailing `%`)
/// into basis points, exactly (no floating point). Accepts `0` and `100`; rejects more than 2
/// decimals and anything above 100.
pub fn parse_percent_bp(input: &str) -> Result<u16, PlanError> {
    let s = input.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim_end();
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(PlanError::NotAPercent(input.to_owned()));
    }
    if fraction.len() > 2 {
        return Err(PlanError::TooPrecise(input.to_owned()));
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else if whole.len() > 3 {
        return Err(PlanError::AboveFull(input.to_owned()));
    } else {
        whole
            .parse()
            .map_err(|_| PlanError::NotAPercent(input.to_owned()))?
    };
    let hundredths: u32 = match fraction.len() {
        0 => 0,
        1 => u32::from(fraction.as_bytes()[0] - b'0') * 10,
        _ => fraction
            .parse()
            .map_err(|_| PlanError::NotAPercent(input.to_owned()))?,
    };
    let bp = whole * 100 + hundredths;
    if bp > u32::from(FULL_BP) {
        return Err(PlanError::AboveFull(input.to_owned()));
    }
    Ok(bp as u16)
}

/// Parse `--step`: comma-separated percentages (`5,25,50,100`; spaces allowed), each as
/// [`parse_percent_bp`], strictly increasing, not 0, at least one. The last step need not be 100:
/// a plan may stop at 50 % and wait for a human.
pub fn parse_steps(input: &str) -> Result<Vec<u16>, PlanError> {
    if input.trim().is_empty() {
        return Err(PlanError::NoSteps);
    }
    let steps = input
        .split(',')
        .map(parse_percent_bp)
        .collect::<Result<Vec<_>, _>>()?;
    validate_steps(&steps)?;
    Ok(steps)
}

/// Parse `--every`: a whole number and a unit, `m` (minutes), `h` (hours) or `d` (days), or
/// several of them (`1h30m`), into ms. Zero is refused.
pub fn parse_interval(input: &str) -> Result<i64, PlanError> {
    let bad = || PlanError::BadInterval(input.to_owned());
    let s = input.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let (number, tail) = rest.split_at(digits);
        let mut chars = tail.chars();
        let unit_ms: i64 = match chars.next() {
            Some('m') => 60_000,
            Some('h') => 3_600_000,
            Some('d') => 86_400_000,
            _ => return Err(bad()),
        };
        let too_long = || PlanError::IntervalTooLong(input.to_owned());
        let n: i64 = number.parse().map_err(|_| too_long())?;
        total = n
            .checked_mul(unit_ms)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(too_long)?;
        rest = chars.as_str();
    }
    if total == 0 {
        return Err(PlanError::ZeroInterval(input.to_owned()));
    }
    Ok(total)
}

/// Basis points as a percentage without trailing zeros: 500 → `5`, 1250 → `12.5`, 25 → `0.25`.
pub fn format_bp(bp: u16) -> String {
    let (whole, hundredths) = (bp / 100, bp % 100);
    match hundredths {
        0 => whole.to_string(),
        h if h % 10 == 0 => format!("{whole}.{}", h / 10),
        h => format!("{whole}.{h:02}"),
    }
}

/// An interval in ms in the largest whole units [`parse_interval`] reads back: `1h`, `1h30m`,
/// `2d`; below a minute, `<n>ms`.
pub fn format_interval(ms: i64) -> String {
    if ms <= 0 || ms % 60_000 != 0 {
        return format!("{ms}ms");
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn percentages_parse_exactly() {
        for (input, bp) in [
            ("5", 500),
            ("25", 2_500),
            ("100", 10_000),
            ("0", 0),
            ("12.5", 1_250),
            ("0.25", 25),
            (".5", 50),
            ("0.01", 1),
            ("33.33", 3_333),
            (" 50 ", 5_000),
            ("50%", 5_000),
            ("7.", 700),
        ] {
            assert_eq!(parse_percent_bp(input), Ok(bp), "{input}");
        }
        let err = |s: &str| parse_percent_bp(s).unwrap_err().to_string();
        assert_eq!(
            err("0.125"),
            "step \"0.125\" has more than 2 decimals (the finest share is 0.01 %)"
        );
        assert_eq!(err("100.01"), "step \"100.01\" is above 100 %");
        assert_eq!(err("1000"), "step \"1000\" is above 100 %");
        assert_eq!(
            err("-5"),
            "step \"-5\" is not a percentage (write 5, 12.5 or 0.25)"
        );
        for s in ["", ".", "five", "1e2", "5..", "+5", "5 0"] {
            assert!(
                matches!(parse_percent_bp(s), Err(PlanError::NotAPercent(_))),
                "{s:?}"
            );
        }
    }

    #[test]
    fn steps_parse_and_validate() {
        assert_eq!(
            parse_steps("5,25,50,100"),
            Ok(vec![500, 2_500, 5_000, 10_000])
        );
        assert_eq!(parse_steps("1, 2.5, 10"), Ok(vec![100, 250, 1_000]));
        assert_eq!(parse_steps("100"), Ok(vec![10_000]));
        let err = |s: &str| parse_steps(s).unwrap_err().to_string();
        assert_eq!(err(""), "a rollout plan needs at least one step");
        assert_eq!(err("5,25,25"), "steps must increase: 25 % comes after 25 %");
        assert_eq!(
            err("50,12.5"),
            "steps must increase: 12.5 % comes after 50 %"
        );
        assert_eq!(
            err("0,5"),
            "a step of 0 % would take the bundle back from every device; pause the rollout instead"
        );
        assert!(matches!(
            parse_steps("5,,10"),
            Err(PlanError::NotAPercent(_))
        ));
        assert_eq!(RolloutPlan::new(vec![], H), Err(PlanError::NoSteps));
        assert_eq!(
            RolloutPlan::new(vec![10_001], H),
            Err(PlanError::AboveFull("100.01".into()))
        );
    }

    #[test]
    fn intervals_parse() {
        for (input, ms) in [
            ("1h", H),
            ("30m", 30 * 60_000),
            ("2d", 48 * H),
            ("1h30m", 90 * 60_000),
            (" 90m ", 90 * 60_000),
            ("1d12h", 36 * H),
        ] {
            assert_eq!(parse_interval(input), Ok(ms), "{input}");
            assert_eq!(parse_interval(&format_interval(ms)), Ok(ms));
        }
        assert_eq!(format_interval(90 * 60_000), "1h30m");
        assert_eq!(format_interval(48 * H), "2d");
        let err = |s: &str| parse_interval(s).unwrap_err().to_string();
        assert_eq!(
            err("1 hour"),
            "interval \"1 hour\" is not a duration: write a whole number and a unit, m, h or d (30m, 1h, 2d, 1h30m)"
        );
        assert_eq!(
            err("0h"),
            "interval \"0h\" is zero: steps need time to gather health data"
        );
        for s in ["", "h", "1", "1.5h", "10s", "-1h", "1H"] {
            assert!(
                matches!(parse_interval(s), Err(PlanError::BadInterval(_))),
                "{s:?}"
            );
        }
        assert!(matches!(
            parse_interval("99999999999999999999d"),
            Err(PlanError::IntervalTooLong(_))
        ));
        assert!(matches!(
            parse_interval("9999999999999d"),
            Err(PlanError::IntervalTooLong(_))
        ));
    }

    #[test]
    fn steps_advance_only_when_due_and_healthy() {
        let plan = RolloutPlan::parse("5,25,50,100", "1h").unwrap();
        let t0 = 1_767_196_800_000;
        // Not due yet.
        assert_eq!(next_step(&plan, 500, t0, t0 + H - 1, true), None);
        // Due and healthy.
        assert_eq!(
            next_step(&plan, 500, t0, t0 + H, true),
            Some((2_500, t0 + H))
        );
        // Due but not healthy: stays, however long it waits.
        assert_eq!(next_step(&plan, 500, t0, t0 + 100 * H, false), None);
        // Late: one step only.
        assert_eq!(
            next_step(&plan, 500, t0, t0 + 10 * H, true),
            Some((2_500, t0 + H))
        );
        // A share set by hand between steps continues with the next step above it.
        assert_eq!(
            next_step(&plan, 1_000, t0, t0 + H, true),
            Some((2_500, t0 + H))
        );
        // Below the first step (the rollout started at 1 %): the first step is next.
        assert_eq!(next_step(&plan, 100, t0, t0 + H, true), Some((500, t0 + H)));
        // Done.
        assert_eq!(next_step(&plan, 10_000, t0, t0 + H, true), None);
        assert_eq!(plan.upcoming(10_000, t0), None);
        // A plan that stops at 50 %.
        let partial = RolloutPlan::parse("10,50", "30m").unwrap();
        assert_eq!(partial.upcoming(1_000, t0), Some((5_000, t0 + 30 * 60_000)));
        assert_eq!(next_step(&partial, 5_000, t0, t0 + H, true), None);
        // Walk the whole plan: each step a full interval after the previous one was taken.
        let (mut bp, mut at, mut now) = (500, t0, t0);
        let mut taken = vec![];
        while now < t0 + 10 * H {
            now += 15 * 60_000;
            if let Some((next, _)) = next_step(&plan, bp, at, now, true) {
                (bp, at) = (next, now);
                taken.push((bp, (now - t0) / 60_000));
            }
        }
        assert_eq!(taken, vec![(2_500, 60), (5_000, 120), (10_000, 180)]);
    }

    #[test]
    fn plans_round_trip_and_are_validated_from_json() {
        let plan = RolloutPlan::parse("5,25,50,100", "1h").unwrap();
        assert_eq!(plan.steps(), &[500, 2_500, 5_000, 10_000]);
        assert_eq!(plan.every_ms(), H);
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(
            json,
            r#"{"steps":[500,2500,5000,10000],"every_ms":3600000}"#
        );
        assert_eq!(serde_json::from_str::<RolloutPlan>(&json).unwrap(), plan);
        let bad = serde_json::from_str::<RolloutPlan>(r#"{"steps":[500,100],"every_ms":1}"#);
        assert!(bad.unwrap_err().to_string().contains("steps must increase"));
        let bad = serde_json::from_str::<RolloutPlan>(r#"{"steps":[500],"every_ms":0}"#);
        assert!(bad.unwrap_err().to_string().contains("is zero"));
        assert_eq!(format_bp(500), "5");
        assert_eq!(format_bp(1_250), "12.5");
        assert_eq!(format_bp(25), "0.25");
        assert_eq!(format_bp(3_333), "33.33");
        assert_eq!(format_bp(10_000), "100");
    }
}
