//! `landfall app create|list|show|set` and `landfall app key …`.

use anyhow::{Context, Result};
use landfall_client::{AddKey, AppInfo, CreateApp, UpdateApp};

use super::Ctx;
use crate::args::{AppCmd, AppKeyCmd};
use crate::output::{self, Table};

pub async fn run(ctx: &Ctx, cmd: AppCmd) -> Result<()> {
    let client = ctx.client()?;
    match cmd {
        AppCmd::Create { app_id, name } => {
            let app = client
                .create_app(&CreateApp {
                    app_id: app_id.clone(),
                    name,
                })
                .await
                .with_context(|| format!("cannot create app {app_id}"))?;
            ctx.emit(&app, || outln!("Created app {} ({})", app.app_id, app.name))
        }
        AppCmd::List => {
            let apps = client.list_apps().await.context("cannot list apps")?;
            ctx.emit(&apps, || {
                let mut t = Table::new(&[
                    "APP",
                    "NAME",
                    "EXPOSE METADATA",
                    "STORE CUSTOM ID",
                    "CREATED",
                ]);
                for a in &apps {
                    t.row(vec![
                        a.app_id.clone(),
                        a.name.clone(),
                        yes_no(a.expose_metadata),
                        yes_no(a.allow_device_custom_id),
                        output::time(a.created_at),
                    ]);
                }
                t.print("no apps yet: create one with `landfall app create <app_id>`");
            })
        }
        AppCmd::Show { app_id } => {
            let app = client
                .get_app(&app_id)
                .await
                .with_context(|| format!("cannot read app {app_id}"))?;
            ctx.emit(&app, || print_app(&app))
        }
        AppCmd::Set {
            app_id,
            expose_metadata,
            allow_device_custom_id,
            download_base_mainland,
            download_base_global,
        } => {
            if expose_metadata.is_none()
                && allow_device_custom_id.is_none()
                && download_base_mainland.is_none()
                && download_base_global.is_none()
            {
                return Err(crate::failure::CliError::new(
                    crate::failure::EXIT_USAGE,
                    "nothing_to_change",
                    "nothing to change: give --expose-metadata true|false, \
                     --allow-device-custom-id true|false, --download-base-mainland URL|none or \
                     --download-base-global URL|none",
                )
                .into());
            }
            // `none` clears a base (the API takes "").
            let base = |v: Option<String>| v.map(|v| if v == "none" { String::new() } else { v });
            let body = UpdateApp {
                expose_metadata,
                allow_device_custom_id,
                download_base_mainland: base(download_base_mainland),
                download_base_global: base(download_base_global),
            };
            let app = client
                .update_app(&app_id, &body)
                .await
                .with_context(|| format!("cannot change app {app_id}"))?;
            ctx.emit(&app, || {
                outln!("Changed app {}", app.app_id);
                print_app(&app);
            })
        }
        AppCmd::Key(AppKeyCmd::Add { app_id, public_key }) => {
            let pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read the public key {}", public_key.display()))?;
            let key = client
                .add_key(&app_id, &AddKey { public_key: pem })
                .await
                .with_context(|| {
                    format!("cannot register {} for {app_id}", public_key.display())
                })?;
            ctx.emit(&key, || {
                outln!("Registered key {} for {app_id}", key.key_id);
                outln!(
                    "From now on uploads must be signed: `landfall bundle upload {app_id} <dir> \
                     --version V --key .capgo_key_v2`"
                );
            })
        }
        AppCmd::Key(AppKeyCmd::List { app_id }) => {
            let keys = client
                .list_keys(&app_id)
                .await
                .with_context(|| format!("cannot list the keys of {app_id}"))?;
            ctx.emit(&keys, || {
                let mut t = Table::new(&["KEY ID", "ADDED"]);
                for k in &keys {
                    t.row(vec![k.key_id.clone(), output::time(k.created_at)]);
                }
                t.print("no keys: uploads are not signed");
            })
        }
        AppCmd::Key(AppKeyCmd::Remove { app_id, key_id }) => {
            client
                .remove_key(&app_id, &key_id)
                .await
                .with_context(|| format!("cannot remove key {key_id} of {app_id}"))?;
            let value = serde_json::json!({ "app_id": app_id, "removed": key_id });
            ctx.emit(&value, || outln!("Removed key {key_id} of {app_id}"))
        }
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn print_app(app: &AppInfo) {
    outln!("app                     {}", app.app_id);
    outln!("name                    {}", app.name);
    outln!(
        "expose metadata         {} (bundle link/comment {} devices)",
        yes_no(app.expose_metadata),
        if app.expose_metadata {
            "reach"
        } else {
            "do not reach"
        }
    );
    outln!(
        "store device custom id  {}",
        yes_no(app.allow_device_custom_id)
    );
    for (label, base) in [
        ("download base mainland ", &app.download_base_mainland),
        ("download base global   ", &app.download_base_global),
    ] {
        outln!(
            "{label} {}",
            base.as_deref().unwrap_or("(the server's setting)")
        );
    }
    if app.stats_dropped > 0 {
        outln!(
            "stats dropped           {} events over budget since the server started",
            app.stats_dropped
        );
    }
    outln!("created                 {}", output::time(app.created_at));
}
