//! How a failed command ends: one `error: …` line on stderr, `{"error","message"}` on stdout with
//! `--json`, and an exit code a script can branch on.

use std::fmt;

use landfall_client::ErrorKind;

/// Something went wrong (also unknown errors).
pub const EXIT_GENERIC: u8 = 1;
/// Bad command line (clap's own code).
pub const EXIT_USAGE: u8 = 2;
/// The app, bundle, channel, device or token does not exist.
pub const EXIT_NOT_FOUND: u8 = 3;
/// It already exists / conflicts with the current state.
pub const EXIT_CONFLICT: u8 = 4;
/// Missing, wrong or insufficient token.
pub const EXIT_AUTH: u8 = 5;
/// The server cannot be reached.
pub const EXIT_CONNECT: u8 = 6;
/// The release log (or an export of it) fails verification: something was changed.
pub const EXIT_TAMPERED: u8 = 7;

/// A failure detected by the CLI itself, with its exit code and stable code.
#[derive(Debug)]
pub struct CliError {
    pub exit: u8,
    pub code: &'static str,
    pub message: String,
}

impl CliError {
    pub fn new(exit: u8, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            exit,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// What to report for a failed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub exit: u8,
    pub code: String,
    pub message: String,
}

/// Classifies an error; `has_token` adds a hint to authentication failures without a token.
pub fn report(err: &anyhow::Error, has_token: bool) -> Report {
    let message = format!("{err:#}");
    if let Some(cli) = err.downcast_ref::<CliError>() {
        return Report {
            exit: cli.exit,
            code: cli.code.to_owned(),
            message,
        };
    }
    if let Some(client) = err.downcast_ref::<landfall_client::Error>() {
        let exit = match client.kind() {
            ErrorKind::NotFound => EXIT_NOT_FOUND,
            ErrorKind::Conflict => EXIT_CONFLICT,
            ErrorKind::Unauthorized => EXIT_AUTH,
            ErrorKind::Connect => EXIT_CONNECT,
            _ => EXIT_GENERIC,
        };
        let mut message = message;
        if client.status() == Some(401) && !has_token && !message.contains("LANDFALL_TOKEN") {
            message.push_str(" — no token given: set LANDFALL_TOKEN or pass --token");
        }
        return Report {
            exit,
            code: client.error_code().to_owned(),
            message,
        };
    }
    Report {
        exit: EXIT_GENERIC,
        code: "error".to_owned(),
        message,
    }
}

/// Prints the report (stderr line; JSON object on stdout too with `--json`).
pub fn print(report: &Report, json: bool) {
    if json {
        let body = serde_json::json!({ "error": report.code, "message": report.message });
        outln!("{body}");
    }
    eprintln!("error: {}", report.message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn client_errors_map_to_exit_codes() {
        let cases = [
            (404, EXIT_NOT_FOUND),
            (409, EXIT_CONFLICT),
            (401, EXIT_AUTH),
            (403, EXIT_AUTH),
            (400, EXIT_GENERIC),
            (500, EXIT_GENERIC),
        ];
        for (status, exit) in cases {
            let e = landfall_client::Error::Api {
                status,
                code: "x".into(),
                message: "m".into(),
            };
            let err = anyhow::Error::from(e).context("while doing y");
            let r = report(&err, true);
            assert_eq!(r.exit, exit, "{status}");
            assert_eq!(r.code, "x");
            assert_eq!(
                r.message,
                "while doing y: m (HTTP ".to_owned() + &status.to_string() + ", x)"
            );
        }
        let e = landfall_client::Error::Connect {
            url: "http://h".into(),
            cause: "connection refused".into(),
        };
        let r = report(&anyhow::Error::from(e), true);
        assert_eq!(r.exit, EXIT_CONNECT);
        assert_eq!(r.code, "cannot_connect");
    }

    #[test]
    fn missing_token_hint() {
        let e = landfall_client::Error::Api {
            status: 401,
            code: "unauthorized".into(),
            message: "bad token".into(),
        };
        let r = report(&anyhow::Error::from(e), false);
        assert!(r.message.contains("LANDFALL_TOKEN"));
    }

    #[test]
    fn local_errors_keep_their_code() {
        let err: anyhow::Result<()> =
            Err(CliError::new(EXIT_CONFLICT, "exists", "file exists").into());
        let err = err.context("key create").unwrap_err();
        let r = report(&err, true);
        assert_eq!((r.exit, r.code.as_str()), (EXIT_CONFLICT, "exists"));
        let r = report(&anyhow::anyhow!("boom"), true);
        assert_eq!(r.exit, EXIT_GENERIC);
    }
}
