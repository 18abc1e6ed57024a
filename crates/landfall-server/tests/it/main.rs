//! In-process tests of the HTTP layer over a real SQLite file and a real blob directory.

mod admin;
mod console;
mod corpus;
mod crypto;
mod hardening;
mod icp;
mod metrics;
mod parity;
mod plugin;
mod snapshots;
mod stats;
mod support;
mod users;
