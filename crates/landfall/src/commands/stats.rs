//! `landfall stats <app>`: release metrics as aligned tables (zh-CN or English), JSON or CSV.

use anyhow::{Context, Result};
use landfall_api_types::{Milestones, ReleaseStats, StatsReport};
use landfall_client::StatsQuery;

use super::Ctx;
use crate::args::StatsArgs;
use crate::output::{self, Lang, Table};

pub async fn run(ctx: &Ctx, args: StatsArgs) -> Result<()> {
    let query = StatsQuery {
        since: Some(args.since.clone()),
        bundle: args.bundle.clone(),
        channel: args.channel.clone(),
        releases: args.releases,
    };
    let report = ctx
        .client()?
        .stats(&args.app_id, &query)
        .await
        .with_context(|| format!("cannot read the stats of {}", args.app_id))?;
    if args.csv {
        outln!("{}", to_csv(&report, args.bundle.is_some())?.trim_end());
        return Ok(());
    }
    ctx.emit(&report, || human(&report, Lang::from_env()))
}

/// `0.9843` → `98.4%`; `None` → `-`.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A duration in ms as `45s`, `12m`, `3.5h`, `2.1d`; `None` → `-`.
pub fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "-".to_owned();
    };
    let s = ms as f64 / 1_000.0;
    if s < 60.0 {
        format!("{s:.0}s")
    } else if s < 3_600.0 {
        format!("{:.0}m", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1}h", s / 3_600.0)
    } else {
        format!("{:.1}d", s / 86_400.0)
    }
}

fn milestones(m: &Milestones) -> [String; 3] {
    [duration(m.p50), duration(m.p90), duration(m.p95)]
}

fn human(r: &StatsReport, lang: Lang) {
    let t = |en: &'static str, zh: &'static str| lang.pick(en, zh);
    let channel = r
        .channel
        .as_deref()
        .map(|c| format!(" · {}{c}", t("channel ", "渠道 ")))
        .unwrap_or_default();
    outln!(
        "{}{channel} · {} {} · {} {}",
        r.app_id,
        t("since", "自"),
        output::time(r.since),
        t("as of", "截至"),
        output::time(r.generated_at)
    );
    outln!(
        "{}: {} {} · {} {}",
        t("active devices", "活跃设备"),
        r.active_devices.day,
        t("in the last day", "（近 1 天）"),
        r.active_devices.month,
        t("in 30 days", "（近 30 天）")
    );
    let served = &r.bytes_served;
    outln!(
        "{}: {} {} ({} {}) · {} {} ({} {})",
        t("served by Landfall", "Landfall 已分发"),
        t("full", "完整包"),
        output::size(served.full.bytes),
        served.full.requests,
        t("downloads", "次下载"),
        t("delta", "增量"),
        output::size(served.delta.bytes),
        served.delta.requests,
        t("files", "个文件"),
    );
    outln!("");

    let mut versions = Table::new(&[
        t("VERSION", "版本"),
        t("DEVICES", "设备数"),
        t("SHARE", "占比"),
    ]);
    for v in &r.versions {
        versions.row(vec![
            v.version_name.clone(),
            v.devices.to_string(),
            percent(Some(v.share)),
        ]);
    }
    versions.print(t("no devices checked in", "尚无设备签到"));
    outln!("");

    let mut releases = Table::new(&[
        t("RELEASE", "发布版本"),
        t("RELEASED", "发布时间"),
        t("DEVICES", "设备数"),
        t("TO 50%", "达 50%"),
        t("TO 90%", "达 90%"),
        t("TO 95%", "达 95%"),
        t("SUCCESS", "安装成功率"),
        t("FIRST TRY", "首次成功率"),
        t("INSTALL P50", "安装耗时 P50"),
        t("P90", "P90"),
        t("ROLLBACKS", "自动回滚"),
    ]);
    for rel in &r.releases {
        releases.row(release_row(rel));
    }
    releases.print(t("no releases", "尚无发布版本"));

    if !r.failures.by_action.is_empty() {
        outln!("");
        for (title, rows) in [
            (t("FAILURE", "失败类型"), &r.failures.by_action),
            (t("PLATFORM", "平台"), &r.failures.by_platform),
            (t("OS", "系统版本"), &r.failures.by_os),
            (t("PLUGIN", "插件版本"), &r.failures.by_plugin),
        ] {
            let mut table = Table::new(&[title, t("EVENTS", "事件数")]);
            for k in rows.iter().take(10) {
                table.row(vec![k.key.clone(), k.events.to_string()]);
            }
            table.print("");
        }
    }
    if !r.health.is_empty() {
        outln!("");
        let mut table = Table::new(&[t("HEALTH SIGNAL", "健康信号"), t("EVENTS", "事件数")]);
        for h in &r.health {
            table.row(vec![h.action.clone(), h.events.to_string()]);
        }
        table.print("");
    }
}

fn release_row(rel: &ReleaseStats) -> Vec<String> {
    let [to50, to90, to95] = milestones(&rel.time_to);
    let [p50, p90, _] = milestones(&rel.install_duration_ms);
    vec![
        rel.version_name.clone(),
        rel.released_at.map_or_else(|| "-".into(), output::time),
        rel.devices.to_string(),
        to50,
        to90,
        to95,
        percent(rel.installs.success_rate),
        percent(rel.installs.first_try_rate),
        p50,
        p90,
        rel.rollbacks.to_string(),
    ]
}

/// CSV: with `--bundle`, that release's adoption curve; else one row per release.
fn to_csv(r: &StatsReport, one_bundle: bool) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if let (true, Some(rel)) = (one_bundle, r.releases.first()) {
        w.write_record(["version_name", "at", "devices", "share"])?;
        for p in &rel.adoption {
            w.write_record([
                rel.version_name.clone(),
                p.at.to_string(),
                p.devices.to_string(),
                format!("{:.6}", p.share),
            ])?;
        }
    } else {
        w.write_record([
            "version_name",
            "released_at",
            "devices",
            "time_to_50_ms",
            "time_to_90_ms",
            "time_to_95_ms",
            "attempted",
            "succeeded",
            "first_try",
            "success_rate",
            "first_try_rate",
            "install_p50_ms",
            "install_p90_ms",
            "install_p95_ms",
            "rollbacks",
        ])?;
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let f = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        for rel in &r.releases {
            w.write_record([
                rel.version_name.clone(),
                n(rel.released_at),
                rel.devices.to_string(),
                n(rel.time_to.p50),
                n(rel.time_to.p90),
                n(rel.time_to.p95),
                rel.installs.attempted.to_string(),
                rel.installs.succeeded.to_string(),
                rel.installs.first_try.to_string(),
                f(rel.installs.success_rate),
                f(rel.installs.first_try_rate),
                n(rel.install_duration_ms.p50),
                n(rel.install_duration_ms.p90),
                n(rel.install_duration_ms.p95),
                rel.rollbacks.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(None), "-");
        assert_eq!(duration(Some(45_000)), "45s");
        assert_eq!(duration(Some(12 * 60_000)), "12m");
        assert_eq!(duration(Some(3 * 3_600_000 + 1_800_000)), "3.5h");
        assert_eq!(duration(Some(50 * 3_600_000)), "2.1d");
        assert_eq!(percent(Some(0.98432)), "98.4%");
    }
}
