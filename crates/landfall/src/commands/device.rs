//! `landfall device list|override`.

use anyhow::{Context, Result};
use landfall_client::{DeviceQuery, SetOverride};

use super::Ctx;
use crate::args::DeviceCmd;
use crate::output::{self, Table};

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
    }
}
