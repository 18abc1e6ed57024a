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

use std::io::IsTerminal;
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
    let (filter, bad_filter) = log_filter(
        std::env::var("LANDFALL_LOG").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Some((var, err)) = bad_filter {
        eprintln!("warning: ignoring {var}: {err}; logging at info");
    }
    landfall_server::run(args).await.context("server failed")?;
    Ok(())
}

/// The log filter: `LANDFALL_LOG` when set (and not empty), else `RUST_LOG`, else `info`. An
/// invalid value falls back to `info` and is returned so it can be reported once logging runs.
fn log_filter(
    landfall_log: Option<String>,
    rust_log: Option<String>,
) -> (EnvFilter, Option<(&'static str, String)>) {
    let chosen = [("LANDFALL_LOG", landfall_log), ("RUST_LOG", rust_log)]
        .into_iter()
        .find_map(|(var, value)| value.filter(|v| !v.trim().is_empty()).map(|v| (var, v)));
    match chosen {
        None => (EnvFilter::new("info"), None),
        Some((var, value)) => match EnvFilter::try_new(&value) {
            Ok(filter) => (filter, None),
            Err(err) => (EnvFilter::new("info"), Some((var, err.to_string()))),
        },
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landfall_log_wins_over_rust_log() {
        let some = |s: &str| Some(s.to_owned());
        let (f, bad) = log_filter(some("debug"), some("error"));
        assert_eq!(f.to_string(), "debug");
        assert!(bad.is_none());
        let (f, _) = log_filter(None, some("warn,landfall_server=debug"));
        assert_eq!(f.to_string(), "landfall_server=debug,warn");
        let (f, _) = log_filter(some(""), some("warn"));
        assert_eq!(
            f.to_string(),
            "warn",
            "an empty LANDFALL_LOG counts as unset"
        );
        let (f, _) = log_filter(None, None);
        assert_eq!(f.to_string(), "info");
        let (f, bad) = log_filter(some("landfall=notalevel"), None);
        assert_eq!(f.to_string(), "info");
        assert_eq!(bad.unwrap().0, "LANDFALL_LOG");
    }
}
