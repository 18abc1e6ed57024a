//! `landfall serve` logging when its output is a file: plain text (no ANSI colour codes), filter
//! from `LANDFALL_LOG`, else `RUST_LOG`.

use crate::support::Server;

/// The first ANSI escape sequence in `log`, with some context, if any.
fn ansi_escape(log: &str) -> Option<&str> {
    log.find("\x1b[")
        .map(|at| &log[at.saturating_sub(40)..(at + 20).min(log.len())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_file_have_no_colour_codes() {
    let mut server = Server::start().await; // LANDFALL_LOG=info, stdout+stderr → a file
    server.cli(&["app", "create", "com.example.logs"]).ok();
    let status = server.terminate();
    assert!(status.success(), "{status}");
    let log = server.log();
    assert!(log.contains("landfall serving"), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    if let Some(around) = ansi_escape(&log) {
        panic!("ANSI escape in a log written to a file: {around:?}\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_is_honoured_when_landfall_log_is_unset() {
    // RUST_LOG=warn: the info line "landfall serving" is filtered out.
    let mut server = Server::start_with(&[("RUST_LOG", "warn")]).await;
    server.terminate();
    let log = server.log();
    assert!(!log.contains("landfall serving"), "{log}");

    // LANDFALL_LOG wins over RUST_LOG.
    let mut server = Server::start_with(&[("RUST_LOG", "warn"), ("LANDFALL_LOG", "info")]).await;
    server.terminate();
    let log = server.log();
    assert!(log.contains("landfall serving"), "{log}");
    assert!(ansi_escape(&log).is_none(), "{log}");
}
