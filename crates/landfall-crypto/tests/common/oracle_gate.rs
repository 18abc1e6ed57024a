//! Whether the Capgo CLI oracle runs: the one gate shared (through `#[path]`) by
//! `landfall-crypto/tests/capgo_oracle.rs` and `landfall/tests/it/oracle.rs`.
//!
//! * `LANDFALL_CAPGO_ORACLE=DIR` set: the oracle must be installed there, and every check runs.
//! * unset, and the `CI` variable set (not empty, `0` or `false`): the test **fails** — CI must never
//!   pass an oracle test that did not run (`scripts/test` installs the oracle and sets the variable).
//! * unset outside CI: a `SKIPPED` line on stderr (`cargo test -- --nocapture` or nextest's
//!   output shows it) and the test returns without checking anything.

use std::path::{Path, PathBuf};

/// The variable naming the oracle directory (prepared by `scripts/setup-capgo-oracle.sh DIR`).
pub const ENV: &str = "LANDFALL_CAPGO_ORACLE";

/// Whether we run in CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// The `@capgo/cli` entry point inside an oracle directory.
pub fn cli_js(oracle: &Path) -> PathBuf {
    oracle.join("node_modules/@capgo/cli/dist/index.js")
}

/// The oracle directory; `None` (after a skip line on stderr) when it is not configured outside
/// CI; panics when it is not configured in CI or is configured but not installed.
/// `enable` is the command that runs this test with the oracle.
pub fn oracle_dir(test: &str, enable: &str) -> Option<PathBuf> {
    match std::env::var_os(ENV) {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            assert!(
                cli_js(&dir).is_file(),
                "{ENV}={} has no node_modules/@capgo/cli; run scripts/setup-capgo-oracle.sh {}",
                dir.display(),
                dir.display()
            );
            Some(dir)
        }
        _ if in_ci() => panic!(
            "{test}: {ENV} is not set, and CI is: the Capgo CLI oracle tests must run in CI \
             (scripts/test installs @capgo/cli and sets {ENV}); to run it: \
             scripts/setup-capgo-oracle.sh /tmp/capgo-oracle && {ENV}=/tmp/capgo-oracle {enable}"
        ),
        _ => {
            eprintln!(
                "SKIPPED {test}: Capgo CLI oracle not configured ({ENV} unset; CI would fail); \
                 to enable: scripts/setup-capgo-oracle.sh /tmp/capgo-oracle && \
                 {ENV}=/tmp/capgo-oracle {enable}"
            );
            None
        }
    }
}
