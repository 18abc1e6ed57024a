//! `landfall channel create|list|show|set|rollback|history`.

use anyhow::{Context, Result};
use landfall_client::{ChannelInfo, Client, CreateChannel, Rollback, RolloutInfo, UpdateChannel};

use super::Ctx;
use crate::args::{ChannelCmd, RolloutArgs};
use crate::failure::{CliError, EXIT_GENERIC, EXIT_USAGE};
use crate::output::{self, Table};

pub async fn run(ctx: &Ctx, cmd: ChannelCmd) -> Result<()> {
    let client = ctx.client()?;
    match cmd {
        ChannelCmd::Create {
            app_id,
            channel,
            target,
            flags,
        } => {
            let body = CreateChannel {
                name: channel.clone(),
                bundle: target.chosen(),
                flags: flags.patch(),
            };
            let info = client
                .create_channel(&app_id, &body)
                .await
                .with_context(|| format!("cannot create channel {channel} of {app_id}"))?;
            ctx.emit(&info, || {
                outln!("Created channel {}", summary(&info));
                print_flags(&info);
            })
        }
        ChannelCmd::List { app_id } => {
            let channels = client
                .list_channels(&app_id)
                .await
                .with_context(|| format!("cannot list the channels of {app_id}"))?;
            ctx.emit(&channels, || {
                let mut t = Table::new(&[
                    "CHANNEL",
                    "BUNDLE",
                    "ROLLOUT",
                    "PUBLIC",
                    "SELF-SET",
                    "PLATFORMS",
                    "AUTO-UPDATE LIMIT",
                    "UPDATED",
                ]);
                for c in &channels {
                    t.row(vec![
                        c.name.clone(),
                        c.bundle.clone(),
                        rollout(c.rollout.as_ref()),
                        yes_no(c.flags.public),
                        yes_no(c.flags.allow_device_self_set),
                        platforms(c),
                        c.flags.disable_auto_update.clone(),
                        output::time(c.updated_at),
                    ]);
                }
                t.print("no channels: upload with --channel, or `landfall channel create`");
            })
        }
        ChannelCmd::Show { app_id, channel } => {
            let info = client
                .get_channel(&app_id, &channel)
                .await
                .with_context(|| format!("cannot read channel {channel} of {app_id}"))?;
            ctx.emit(&info, || {
                outln!("{}", summary(&info));
                print_flags(&info);
            })
        }
        ChannelCmd::Set {
            app_id,
            channel,
            target,
            flags,
            rollout,
        } => {
            let patch = flags.patch();
            let mut body = UpdateChannel {
                bundle: target.chosen(),
                flags: patch.clone(),
                rollout: None,
                end_rollout: rollout.end_rollout,
            };
            body.rollout = rollout_change(&client, &app_id, &channel, &rollout).await?;
            if body.bundle.is_none()
                && body.flags == Default::default()
                && body.rollout.is_none()
                && !body.end_rollout
            {
                return Err(CliError::new(
                    EXIT_USAGE,
                    "nothing_to_change",
                    "nothing to change: give --bundle VERSION, --builtin, a flag such as \
                     --public=false, or a rollout option",
                )
                .into());
            }
            let info = client
                .update_channel(&app_id, &channel, &body)
                .await
                .with_context(|| format!("cannot update channel {channel} of {app_id}"))?;
            ctx.emit(&info, || {
                outln!("Channel {}", summary(&info));
                print_effect(&info);
                print_flags(&info);
            })
        }
        ChannelCmd::Rollback {
            app_id,
            channel,
            to,
        } => {
            let info = client
                .rollback_channel(&app_id, &channel, &Rollback { to })
                .await
                .with_context(|| format!("cannot roll back channel {channel} of {app_id}"))?;
            ctx.emit(&info, || {
                outln!("Rolled back: {}", summary(&info));
                print_effect(&info);
            })
        }
        ChannelCmd::History { app_id, channel } => {
            let entries = client
                .channel_history(&app_id, &channel)
                .await
                .with_context(|| {
                    format!("cannot read the history of channel {channel} of {app_id}")
                })?;
            ctx.emit(&entries, || {
                let mut t = Table::new(&["AT", "BUNDLE", "BY", "REASON"]);
                for e in &entries {
                    t.row(vec![
                        output::time(e.at),
                        e.bundle.clone(),
                        e.actor.clone(),
                        e.reason.clone(),
                    ]);
                }
                t.print("no history");
            })
        }
    }
}

/// The rollout to send, if the options ask for one. Changing the percent, pausing or resuming
/// needs the current rollout, read from the server first.
async fn rollout_change(
    client: &Client,
    app_id: &str,
    channel: &str,
    args: &RolloutArgs,
) -> Result<Option<RolloutInfo>> {
    if let (Some(bundle), Some(percent)) = (&args.rollout_bundle, args.rollout_percent) {
        return Ok(Some(RolloutInfo {
            bundle: bundle.clone(),
            percent,
            paused: false,
            devices_on_bundle: None,
        }));
    }
    if args.rollout_percent.is_none() && !args.rollout_pause && !args.rollout_resume {
        return Ok(None);
    }
    let current = client
        .get_channel(app_id, channel)
        .await
        .with_context(|| format!("cannot read channel {channel} of {app_id}"))?;
    let Some(mut rollout) = current.rollout else {
        return Err(CliError::new(
            EXIT_GENERIC,
            "no_rollout",
            format!(
                "channel {channel} has no rollout; start one with \
                 --rollout-bundle VERSION --rollout-percent P"
            ),
        )
        .into());
    };
    if let Some(percent) = args.rollout_percent {
        rollout.percent = percent;
    }
    if args.rollout_pause {
        rollout.paused = true;
    }
    if args.rollout_resume {
        rollout.paused = false;
    }
    Ok(Some(rollout))
}

fn summary(c: &ChannelInfo) -> String {
    let mut s = format!("{} → {}", c.name, c.bundle);
    if c.rollout.is_some() {
        s.push_str(&format!(" (rollout {})", rollout(c.rollout.as_ref())));
    }
    s
}

/// What devices get after a change (the server's words), and what happened to a rollout.
pub fn print_effect(c: &ChannelInfo) {
    if let Some(effect) = &c.effect {
        outln!("  now: {effect}");
    }
    let stable = &c.bundle;
    if let Some(r) = &c.ended_rollout {
        outln!(
            "  ended the rollout of {} at {}%{}",
            r.bundle,
            r.percent,
            r.devices_on_bundle
                .map(|n| format!(
                    ": {n} known devices on it are offered {stable} at their next check"
                ))
                .unwrap_or_default()
        );
    } else if let Some(r) = c.rollout.as_ref().filter(|r| r.percent == 0.0) {
        if let Some(n) = r.devices_on_bundle {
            outln!(
                "  {n} known devices on {} are offered {stable} at their next check",
                r.bundle
            );
        }
    }
}

fn rollout(r: Option<&RolloutInfo>) -> String {
    match r {
        None => "-".to_owned(),
        Some(r) => format!(
            "{} at {}%{}",
            r.bundle,
            r.percent,
            if r.paused { ", paused" } else { "" }
        ),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn platforms(c: &ChannelInfo) -> String {
    let f = &c.flags;
    let list: Vec<&str> = [
        ("ios", f.ios),
        ("android", f.android),
        ("electron", f.electron),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(",")
    }
}

fn print_flags(c: &ChannelInfo) {
    let f = &c.flags;
    let rows = [
        ("public", yes_no(f.public)),
        ("allow-device-self-set", yes_no(f.allow_device_self_set)),
        ("platforms", platforms(c)),
        ("allow-emulator", yes_no(f.allow_emulator)),
        ("allow-device", yes_no(f.allow_device)),
        ("allow-dev", yes_no(f.allow_dev)),
        ("allow-prod", yes_no(f.allow_prod)),
        ("disable-auto-update", f.disable_auto_update.clone()),
        (
            "disable-auto-update-under-native",
            yes_no(f.disable_auto_update_under_native),
        ),
    ];
    for (name, value) in rows {
        outln!("  {name:<33} {value}");
    }
}
