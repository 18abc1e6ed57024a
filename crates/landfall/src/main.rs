//! `landfall`: the self-hosted live-update server (`landfall serve`) and the CLI that manages it.
//!
//! Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 authentication, 6 cannot connect.

/// `println!` that ends the process quietly when stdout is closed early (e.g. `landfall … | head`).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod encrypt;
mod failure;
mod icp;
mod output;
mod zipper;

use std::process::ExitCode;

use anyhow::Context;
use clap::error::ErrorKind as ClapErrorKind;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command};
use crate::commands::Ctx;

fn main() -> ExitCode {
    let wants_json = std::env::args_os().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err, wants_json),
    };
    let json = cli.global.json;
    let has_token = cli.global.token.as_deref().is_some_and(|t| !t.is_empty());

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(failure::EXIT_GENERIC);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            command => {
                let ctx = Ctx { global: cli.global };
                commands::run(&ctx, command).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let report = failure::report(&err, has_token);
            failure::print(&report, json);
            ExitCode::from(report.exit)
        }
    }
}

async fn serve(args: landfall_server::ServeArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("LANDFALL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    landfall_server::run(args).await.context("server failed")?;
    Ok(())
}

/// Help/version go to stdout with exit 0; real usage errors exit 2 (with a JSON body on stdout
/// when `--json` was on the command line).
fn usage_error(err: &clap::Error, json: bool) -> ExitCode {
    let is_info = matches!(
        err.kind(),
        ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
    );
    if json && !is_info {
        let rendered = err.render().to_string();
        let first = rendered
            .lines()
            .next()
            .unwrap_or("invalid usage")
            .trim_start_matches("error: ")
            .to_owned();
        outln!(
            "{}",
            serde_json::json!({ "error": "usage", "message": first })
        );
    }
    let _ = err.print();
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(failure::EXIT_USAGE))
}
