//! `landfall device list|override|explain`.

use anyhow::{Context, Result};
use landfall_client::{DeviceQuery, SetOverride};

use super::Ctx;
use crate::args::DeviceCmd;
use crate::output::{self, Lang, Table};

pub async fn run(ctx: &Ctx, cmd: DeviceCmd) -> Result<()> {
    let client = ctx.client()?;
    match cmd {
        DeviceCmd::List {
            app_id,
            search,
            channel,
            version,
            platform,
            limit,
        } => {
            let query = DeviceQuery {
                search,
                channel,
                version,
                platform,
                limit,
            };
            let devices = client
                .list_devices(&app_id, &query)
                .await
                .with_context(|| format!("cannot list the devices of {app_id}"))?;
            ctx.emit(&devices, || {
                let mut t = Table::new(&[
                    "DEVICE",
                    "PLATFORM",
                    "BUNDLE",
                    "NATIVE",
                    "CHANNEL",
                    "ASSIGNED",
                    "BY",
                    "LAST SEEN",
                ]);
                for d in &devices {
                    t.row(vec![
                        d.device_id.clone(),
                        d.platform.clone(),
                        d.version_name.clone(),
                        d.version_build.clone(),
                        d.channel.clone(),
                        output::opt(d.override_channel.as_deref()),
                        match (&d.override_set_by, d.override_at) {
                            (Some(by), Some(at)) => format!("{by}, {}", output::time(at)),
                            _ => "-".to_owned(),
                        },
                        output::time(d.last_seen),
                    ]);
                }
                t.print("no devices match");
            })
        }
        DeviceCmd::Override {
            app_id,
            device_id,
            channel,
            clear,
        } => {
            if clear {
                client
                    .clear_override(&app_id, &device_id)
                    .await
                    .with_context(|| format!("cannot clear the override of device {device_id}"))?;
                let value = serde_json::json!({ "device_id": device_id, "channel": null });
                ctx.emit(&value, || {
                    outln!("Device {device_id} follows its own channel again")
                })
            } else {
                let channel = channel.unwrap_or_default();
                let info = client
                    .set_override(&app_id, &device_id, &SetOverride { channel })
                    .await
                    .with_context(|| {
                        format!("cannot override the channel of device {device_id}")
                    })?;
                ctx.emit(&info, || {
                    outln!(
                        "Device {} now gets channel {}",
                        info.device_id,
                        info.channel
                    );
                    if let Some(r) = &info.replaced {
                        outln!(
                            "  replaced channel {} set by {} at {}",
                            r.channel,
                            r.set_by,
                            output::time(r.at)
                        );
                    }
                })
            }
        }
        DeviceCmd::Explain { app_id, device_id } => {
            let e = client
                .explain_device(&app_id, &device_id)
                .await
                .with_context(|| format!("cannot explain device {device_id} of {app_id}"))?;
            ctx.emit(&e, || explain_human(&e, Lang::from_env()))
        }
    }
}

fn explain_human(e: &landfall_client::DeviceExplanation, lang: Lang) {
    let t = |en, zh| lang.pick(en, zh);
    let d = &e.device;
    outln!(
        "{} {} ({}, {} {}, {} {}, {} {})",
        t("device", "设备"),
        d.device_id,
        d.platform,
        t("running", "运行"),
        d.version_name,
        t("native", "原生版本"),
        d.version_build,
        t("last seen", "最近检查"),
        output::time(d.last_seen)
    );
    match (&e.channel, e.channel_rule.as_deref()) {
        (Some(name), Some(rule)) => {
            let why = match rule {
                "override" => t("forced by an operator (override)", "由管理员指定（覆盖）"),
                "device_choice" => t(
                    "the device asked for it (defaultChannel)",
                    "设备自行选择（defaultChannel）",
                ),
                _ => t(
                    "the app's public channel for this platform",
                    "应用在该平台的公开渠道",
                ),
            };
            outln!(
                "{}  {name} — {why}; {} {}",
                t("channel", "渠道"),
                t("serves", "提供"),
                e.channel_bundle.as_deref().unwrap_or("-")
            );
        }
        _ => outln!(
            "{}  {}",
            t("channel", "渠道"),
            t("none resolved", "无法确定")
        ),
    }
    if let Some(r) = &e.rollout {
        let verdict = if r.already_on {
            t("already runs it: keeps it", "已在运行该版本：保留")
        } else if r.paused {
            t("paused: takes no new device", "已暂停：不再加入新设备")
        } else if r.chosen {
            t("below the share: chosen", "低于比例：入选")
        } else {
            t("not below the share: not chosen", "未低于比例：未入选")
        };
        outln!(
            "{}  {} {} {}%: {} {} {} {} — {verdict}",
            t("rollout", "灰度"),
            r.bundle,
            t("at", "比例"),
            r.percent,
            t("bucket", "分桶"),
            r.bucket,
            if r.bucket < r.threshold { "<" } else { "≥" },
            r.threshold,
        );
    }
    if let Some(target) = &e.target {
        outln!("{}  {target}", t("target", "目标"));
    }
    match e.answer.as_str() {
        "update" => outln!(
            "{}  {} {}",
            t("answer", "应答"),
            t("update to", "更新到"),
            e.bundle.as_deref().unwrap_or("-")
        ),
        "revert_to_builtin" => outln!(
            "{}  {}",
            t("answer", "应答"),
            t("revert to the builtin bundle", "回退到内置版本")
        ),
        _ => {
            let kind = match e.kind.as_deref() {
                Some("up_to_date") => t("up to date", "已是最新"),
                Some("blocked") => t("blocked", "被阻止"),
                _ => t("failed", "失败"),
            };
            let code = e.error.as_deref().unwrap_or("-");
            match lang {
                Lang::En => outln!(
                    "answer  no update: {code} ({kind}) — {}",
                    e.message.as_deref().unwrap_or("")
                ),
                Lang::Zh => outln!("应答  不更新：{code}（{kind}）"),
            }
        }
    }
}
