//! Release analytics rules: what each `/stats` action means for an install, and the arithmetic of
//! the release metrics (adoption milestones, percentiles from histograms, rates). No IO.
//!
//! Definitions (also in ARCHITECTURE.md, "Release analytics"):
//! * An **install attempt** of bundle `v` on a device starts with its first download event for `v`
//!   (or its first failure for `v`, or the device running `v`, whichever comes first).
//! * It **succeeds** when the device runs `v`: a `set` event for `v`, or a check-in reporting `v`.
//! * It succeeds **first try** when no failure event for `v` came from that device before.
//! * **Install duration**: first download event → running, per device.
//! * **Adoption**: devices that ever ran `v`, over time; time to N % = from the release (first time
//!   a channel pointed at `v`, else its upload) until N % of the app's devices active in the last
//!   30 days had run it.

/// What an action says about the install of the bundle it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallStep {
    /// A download of the bundle began or progressed.
    Started,
    /// The device now runs the bundle.
    Ran,
    /// Downloading, verifying or applying the bundle failed.
    Failed,
    /// Nothing about an install (health, lifecycle, unknown actions).
    None,
}

/// Actions that count as a failed install of the bundle they name.
pub const FAILURE_ACTIONS: &[&str] = &[
    "download_fail",
    "finish_download_fail",
    "update_fail",
    "set_fail",
    "checksum_fail",
    "checksum_required",
    "decrypt_fail",
    "unzip_fail",
    "windows_path_fail",
    "canonical_path_fail",
    "directory_path_fail",
    "download_manifest_file_fail",
    "download_manifest_checksum_fail",
    "download_manifest_brotli_fail",
    "manifest_path_fail",
    "low_mem_fail",
    "insufficient_disk_space",
];

/// Health signals a device reports about the running app.
pub const HEALTH_ACTIONS: &[&str] = &[
    "app_crash",
    "app_crash_native",
    "app_anr",
    "app_killed_low_memory",
    "app_killed_excessive_resource_usage",
    "app_initialization_failure",
    "app_launch_timeout",
    "webview_javascript_error",
    "webview_unhandled_rejection",
    "webview_resource_error",
    "webview_security_policy_violation",
    "webview_unclean_restart",
    "webview_render_process_gone",
    "webview_content_process_terminated",
];

/// The automatic client rollback: the new bundle did not call `notifyAppReady()` in time.
pub const ROLLBACK_ACTION: &str = "update_fail";

/// Classify an action.
pub fn install_step(action: &str) -> InstallStep {
    match action {
        "set" => InstallStep::Ran,
        "download_zip_start" | "download_manifest_start" | "download_complete" => {
            InstallStep::Started
        }
        a if a.starts_with("download_")
            && a["download_".len()..].bytes().all(|b| b.is_ascii_digit())
            && a.len() > "download_".len() =>
        {
            InstallStep::Started
        }
        a if FAILURE_ACTIONS.contains(&a) => InstallStep::Failed,
        _ => InstallStep::None,
    }
}

/// Whether the action is a health signal.
pub fn is_health(action: &str) -> bool {
    HEALTH_ACTIONS.contains(&action)
}

/// The bundle an event is about: per-file manifest failures name `"<version>:<file>"`.
pub fn event_version(version_name: &str) -> &str {
    version_name
        .split_once(':')
        .map_or(version_name, |(v, _)| v)
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// China Standard Time: days in the rollups start at midnight UTC+8 (no daylight saving).
pub const CST_OFFSET_MS: i64 = 8 * 3_600_000;
/// Width of an adoption bucket.
pub const ADOPTION_BUCKET_MS: i64 = 600_000;

/// The UTC+8 day number (days since 1970-01-01) of an epoch-ms time.
pub fn cst_day(at_ms: i64) -> i64 {
    (at_ms + CST_OFFSET_MS).div_euclid(DAY_MS)
}

/// The first epoch ms of a UTC+8 day.
pub fn cst_day_start(day: i64) -> i64 {
    day * DAY_MS - CST_OFFSET_MS
}

/// The range of durations (ms) an install-duration bucket holds: seconds below a minute, then
/// minutes below an hour, then hours (the last bucket, 168 h, holds everything longer).
pub fn duration_bucket_range(bucket: i64) -> (i64, i64) {
    match bucket {
        b if b < 60 => (b * 1_000, (b + 1) * 1_000),
        b if b < 120 => ((b - 60) * 60_000, (b - 59) * 60_000),
        b => ((b - 120) * 3_600_000, (b - 119) * 3_600_000),
    }
}

/// The bucket of a duration (the same rule the database triggers apply).
pub fn duration_bucket(ms: i64) -> i64 {
    match ms {
        d if d < 60_000 => d / 1_000,
        d if d < 3_600_000 => 60 + d / 60_000,
        d => 120 + (d / 3_600_000).min(168),
    }
}

/// The `q`-quantile (0 < q ≤ 1) of a histogram of `(bucket, count)`: the upper end of the bucket
/// holding the rank `ceil(q × total)`, so "90 % took at most this long". `None` when empty.
pub fn histogram_quantile(histogram: &[(i64, u64)], q: f64) -> Option<i64> {
    let total: u64 = histogram.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut sorted = histogram.to_vec();
    sorted.sort_unstable_by_key(|(b, _)| *b);
    let mut seen = 0;
    for (bucket, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(duration_bucket_range(bucket).1);
        }
    }
    None
}

/// When the cumulative adoption `(bucket start ms, new devices)` first reaches `target` devices:
/// the end of that bucket (adoption is known to the bucket). `None` if it never does.
pub fn time_reaching(adoption: &[(i64, u64)], target: u64) -> Option<i64> {
    if target == 0 {
        return None;
    }
    let mut sorted = adoption.to_vec();
    sorted.sort_unstable_by_key(|(at, _)| *at);
    let mut total = 0;
    for (at, n) in sorted {
        total += n;
        if total >= target {
            return Some(at + ADOPTION_BUCKET_MS);
        }
    }
    None
}

/// The number of devices that is `share` (0..=1) of `of`, rounded up (95 % of 10 is 10).
pub fn share_of(of: u64, share: f64) -> u64 {
    (of as f64 * share).ceil() as u64
}

/// `part / whole`, or `None` when nothing was counted.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_classified() {
        assert_eq!(install_step("set"), InstallStep::Ran);
        assert_eq!(install_step("download_zip_start"), InstallStep::Started);
        assert_eq!(install_step("download_40"), InstallStep::Started);
        assert_eq!(install_step("download_"), InstallStep::None);
        assert_eq!(install_step("download_fail"), InstallStep::Failed);
        assert_eq!(install_step("checksum_fail"), InstallStep::Failed);
        assert_eq!(install_step("app_crash"), InstallStep::None);
        assert_eq!(install_step("set_next"), InstallStep::None);
        assert!(is_health("app_anr"));
        assert!(!is_health("set"));
        assert_eq!(event_version("1.0.2:assets/app.js"), "1.0.2");
        assert_eq!(event_version("1.0.2"), "1.0.2");
    }

    #[test]
    fn days_start_at_midnight_in_china() {
        // 2026-01-01T00:00:00+08:00 = 2025-12-31T16:00:00Z = 1767196800000.
        let midnight = 1_767_196_800_000;
        assert_eq!(cst_day(midnight) - cst_day(midnight - 1), 1);
        assert_eq!(cst_day_start(cst_day(midnight)), midnight);
        assert_eq!(cst_day(midnight + DAY_MS - 1), cst_day(midnight));
    }

    #[test]
    fn duration_buckets_round_trip_and_match_the_triggers() {
        for ms in [
            0, 999, 1_000, 59_999, 60_000, 61_000, 3_599_999, 3_600_000, 7_300_000,
        ] {
            let (lo, hi) = duration_bucket_range(duration_bucket(ms));
            assert!(lo <= ms && ms < hi, "{ms} in [{lo}, {hi})");
        }
        assert_eq!(duration_bucket(94_000), 61);
        assert_eq!(duration_bucket(1_000 * 3_600_000), 288);
    }

    #[test]
    fn quantiles_and_milestones() {
        // 10 installs: 5 took 2 s, 4 took 30 s, 1 took 5 min.
        let h = [
            (duration_bucket(2_500), 5),
            (30, 4),
            (duration_bucket(300_000), 1),
        ];
        assert_eq!(histogram_quantile(&h, 0.5), Some(3_000));
        assert_eq!(histogram_quantile(&h, 0.9), Some(31_000));
        assert_eq!(histogram_quantile(&h, 0.95), Some(360_000));
        assert_eq!(histogram_quantile(&[], 0.5), None);

        let adoption = [
            (0, 40),
            (ADOPTION_BUCKET_MS, 50),
            (5 * ADOPTION_BUCKET_MS, 10),
        ];
        assert_eq!(time_reaching(&adoption, 40), Some(ADOPTION_BUCKET_MS));
        assert_eq!(time_reaching(&adoption, 90), Some(2 * ADOPTION_BUCKET_MS));
        assert_eq!(time_reaching(&adoption, 95), Some(6 * ADOPTION_BUCKET_MS));
        assert_eq!(time_reaching(&adoption, 101), None);
        assert_eq!(share_of(10, 0.95), 10);
        assert_eq!(share_of(10_000, 0.95), 9_500);
        assert_eq!(rate(1, 4), Some(0.25));
        assert_eq!(rate(0, 0), None);
    }
}
