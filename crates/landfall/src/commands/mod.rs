//! One module per subcommand group; [`run`] dispatches a parsed command line.

mod app;
mod bundle;
mod channel;
mod device;
mod key;
mod log;
mod migrate;
mod stats;
mod token;
mod user;

use anyhow::{Context, Result};
use landfall_client::Client;
use serde::Serialize;

use crate::args::{AuditArgs, Command, Global};
use crate::output::{self, Table};

/// What every command handler gets: the global options.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub global: Global,
}

impl Ctx {
    /// A client for `--url` / `LANDFALL_URL` with `--token` / `LANDFALL_TOKEN`.
    pub fn client(&self) -> Result<Client> {
        Ok(Client::new(&self.global.url, self.global.token.clone())?)
    }

    /// Whether `--json` was given.
    pub fn json(&self) -> bool {
        self.global.json
    }

    /// Prints `value` as JSON with `--json`, else runs `human`.
    pub fn emit<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce()) -> Result<()> {
        if self.json() {
            output::json(value)
        } else {
            human();
            Ok(())
        }
    }
}

/// Runs every command except `serve` (handled in `main`).
pub async fn run(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Serve(_) => unreachable!("serve is dispatched by main"),
        Command::App(cmd) => app::run(ctx, cmd).await,
        Command::Bundle(cmd) => bundle::run(ctx, cmd).await,
        Command::Channel(cmd) => channel::run(ctx, cmd).await,
        Command::Device(cmd) => device::run(ctx, cmd).await,
        Command::Token(cmd) => token::run(ctx, cmd).await,
        Command::User(cmd) => user::run(ctx, cmd).await,
        Command::Key(cmd) => key::run(ctx, cmd),
        Command::Audit(args) => audit(ctx, args).await,
        Command::Log(cmd) => log::run(ctx, cmd).await,
        Command::Stats(args) => stats::run(ctx, args).await,
        Command::Status => status(ctx).await,
        Command::Migrate(args) => migrate::run(ctx, args).await,
        Command::Icp(cmd) => crate::icp::run(ctx, cmd).await,
    }
}

async fn audit(ctx: &Ctx, args: AuditArgs) -> Result<()> {
    let entries = ctx
        .client()?
        .audit(&args.app_id, args.from, args.to)
        .await
        .with_context(|| format!("cannot read the audit log of {}", args.app_id))?;
    ctx.emit(&entries, || {
        let mut t = Table::new(&["AT", "ACTOR", "ACTION", "DETAIL"]);
        for e in &entries {
            t.row(vec![
                output::time(e.at),
                e.actor.clone(),
                e.action.clone(),
                e.detail.to_string(),
            ]);
        }
        t.print("no audit entries");
    })
}

async fn status(ctx: &Ctx) -> Result<()> {
    let client = ctx.client()?;
    let answer = client.health().await?;
    let value = serde_json::json!({ "url": client.base_url().as_str(), "answer": answer });
    ctx.emit(&value, || {
        outln!("{} answers {answer}", client.base_url());
    })
}
