//! Black-box tests of the `landfall` binary: the CLI alone, and the CLI against a real
//! `landfall serve` played by a simulated Capgo device.

mod browser;
mod cli;
mod control_plane;
mod e2e;
mod explain;
mod hardening;
mod icp_cli;
mod logs;
mod migrate_db;
mod oracle;
mod parity;
mod postgres;
mod readme;
mod release_log;
mod restart;
mod scale_out;
mod stats_cli;
mod support;
mod upgrade;
mod users;
