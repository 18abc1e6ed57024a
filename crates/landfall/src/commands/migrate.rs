//! `landfall migrate` (schema migrations) and `landfall migrate db` (copy a metadata database to
//! another engine, verified). URLs are only ever printed through `DatabaseUrl`'s `Display`, which
//! leaves out user, password and query.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use landfall_server::blobs::BlobsUrl;
use landfall_server::store::{self, DatabaseUrl};
use landfall_store::copy::{self, CopyOptions, Progress};

use crate::args::{MigrateArgs, MigrateBlobsArgs, MigrateCmd, MigrateDbArgs};
use crate::commands::Ctx;
use crate::failure::{CliError, EXIT_CONFLICT, EXIT_GENERIC};
use crate::output::Table;

pub async fn run(ctx: &Ctx, args: MigrateArgs) -> Result<()> {
    match args.command {
        Some(MigrateCmd::Db(db)) => copy_db(ctx, db).await,
        Some(MigrateCmd::Blobs(b)) => copy_blobs(ctx, b).await,
        None => schema(ctx, args).await,
    }
}

/// `landfall migrate`: open the database (which runs the migrations) and print its version.
async fn schema(ctx: &Ctx, args: MigrateArgs) -> Result<()> {
    let (url, _lock) = match &args.database {
        Some(raw) => (DatabaseUrl::parse(raw)?, None),
        None => {
            let dir = args
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("landfall-data"));
            // The server's own file: keep a running server's directory out of it.
            let lock = landfall_server::datadir::lock(&dir)?;
            (DatabaseUrl::default_for(&dir), Some(lock))
        }
    };
    let opened = store::open(&url)
        .await
        .with_context(|| format!("cannot migrate {url}"))?;
    let value = serde_json::json!({
        "database": url.to_string(),
        "schema_version": opened.schema_version,
    });
    ctx.emit(&value, || {
        outln!("{url}: schema version {}", opened.schema_version);
    })
}

/// `landfall migrate db --from URL --to URL [--resume]`.
async fn copy_db(ctx: &Ctx, args: MigrateDbArgs) -> Result<()> {
    let from = DatabaseUrl::parse(&args.from).context("--from")?;
    let to = DatabaseUrl::parse(&args.to).context("--to")?;
    if same_database(&from, &to) {
        return Err(CliError::new(
            EXIT_GENERIC,
            "same_database",
            format!("--from and --to are the same database ({from})"),
        )
        .into());
    }
    if let DatabaseUrl::Sqlite(path) = &from {
        if !path.is_file() {
            return Err(CliError::new(
                EXIT_GENERIC,
                "not_found",
                format!("the source {from} does not exist"),
            )
            .into());
        }
    }
    // An SQLite target inside a server's data directory: keep that server out while we write.
    let _lock = match &to {
        DatabaseUrl::Sqlite(path) => match path.parent() {
            Some(dir) if dir.join(landfall_server::datadir::LOCK_FILE).exists() => {
                Some(landfall_server::datadir::lock(dir)?)
            }
            _ => None,
        },
        DatabaseUrl::Postgres(_) => None,
    };
    let source = store::open(&from)
        .await
        .with_context(|| format!("cannot open the source {from}"))?;
    let target = store::open(&to)
        .await
        .with_context(|| format!("cannot open the target {to}"))?;
    let quiet = ctx.json();
    if !quiet {
        eprintln!(
            "copying {from} to {to} (schema version {}){}",
            source.schema_version,
            if args.resume { ", resuming" } else { "" }
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
    let mut progress = Bars::new(quiet, stop);
    let options = CopyOptions {
        resume: args.resume,
        ..CopyOptions::default()
    };
    let outcome = copy::copy(
        source.copy.as_ref(),
        target.copy.as_ref(),
        &options,
        &mut progress,
    )
    .await;
    watcher.abort();
    progress.clear();
    let report = outcome.map_err(|e| {
        let code = match e {
            copy::CopyError::TargetNotEmpty { .. } | copy::CopyError::NotACopy { .. } => {
                EXIT_CONFLICT
            }
            _ => EXIT_GENERIC,
        };
        CliError::new(
            code,
            "migrate_failed",
            format!("cannot copy {from} to {to}: {e}"),
        )
    })?;
    let value = serde_json::json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "schema_version": source.schema_version,
        "ok": report.ok(),
        "tables": report.tables,
    });
    ctx.emit(&value, || {
        let mut t = Table::new(&["TABLE", "SOURCE", "TARGET", "COPIED", "SHA-256", "CHECK"]);
        for c in &report.tables {
            let sha = if c.source_sha256 == c.target_sha256 {
                c.source_sha256[..16].to_owned()
            } else {
                format!("{} ≠ {}", &c.source_sha256[..16], &c.target_sha256[..16])
            };
            t.row(vec![
                c.table.to_owned(),
                c.source_rows.to_string(),
                c.target_rows.to_string(),
                c.inserted.to_string(),
                sha,
                if c.ok() { "ok" } else { "MISMATCH" }.to_owned(),
            ]);
        }
        t.print("no tables");
    })?;
    if !report.ok() {
        return Err(CliError::new(
            EXIT_GENERIC,
            "verification_failed",
            format!(
                "{to} does not match {from} in table(s) {}; do not use it (was the source written \
                 to meanwhile?)",
                report.mismatched().join(", ")
            ),
        )
        .into());
    }
    if !quiet {
        eprintln!(
            "{to} is a verified copy of {from}; point the server at it with --database (and keep \
             the data directory: blobs stay there)"
        );
    }
    Ok(())
}

/// Where the server keeps ICP documents for these blobs when `documents` is not set: beside a
/// blob directory, or under `<prefix>/icp-documents` of a bucket.
fn documents_for(blobs: &BlobsUrl) -> BlobsUrl {
    match blobs {
        BlobsUrl::File(dir) => BlobsUrl::File(
            dir.parent()
                .unwrap_or(std::path::Path::new("."))
                .join(landfall_server::icp::DOCUMENTS_DIR),
        ),
        BlobsUrl::S3(_) => {
            landfall_server::blobs::default_documents(blobs, std::path::Path::new(""))
        }
    }
}

/// `landfall migrate blobs --from URL --to URL [--resume]`.
async fn copy_blobs(ctx: &Ctx, args: MigrateBlobsArgs) -> Result<()> {
    let parse = |flag: &str, raw: &str| BlobsUrl::parse(raw).with_context(|| flag.to_owned());
    let from = parse("--from", &args.from)?;
    let to = parse("--to", &args.to)?;
    if from == to {
        return Err(CliError::new(
            EXIT_GENERIC,
            "same_place",
            format!("--from and --to are both {from}: nothing to copy"),
        )
        .into());
    }
    let from_docs = match &args.from_documents {
        Some(raw) => parse("--from-documents", raw)?,
        None => documents_for(&from),
    };
    let to_docs = match &args.to_documents {
        Some(raw) => parse("--to-documents", raw)?,
        None => documents_for(&to),
    };
    if let BlobsUrl::File(dir) = &from {
        if !dir.is_dir() {
            return Err(CliError::new(
                EXIT_GENERIC,
                "not_found",
                format!("{from} is not a directory"),
            )
            .into());
        }
    }
    let source = landfall_server::blobs::open(&from, &from_docs).await?;
    let target = landfall_server::blobs::open(&to, &to_docs).await?;
    let staging = tempfile::tempdir().context("cannot create a staging directory")?;
    let quiet = ctx.json() || !std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    for (what, a, b) in [
        ("bundle blobs", &source.bundles, &target.bundles),
        ("ICP documents", &source.documents, &target.documents),
    ] {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:14} {bar:30} {bytes}/{total_bytes} {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(what);
            bar
        };
        let mut progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let report = landfall_store::blob::copy_all(
            a.as_ref(),
            b.as_ref(),
            staging.path(),
            args.resume,
            &mut progress,
        )
        .await
        .map_err(|e| {
            let code = match e {
                landfall_store::blob::BlobCopyError::NotEmpty { .. }
                | landfall_store::blob::BlobCopyError::Foreign { .. } => EXIT_CONFLICT,
                _ => EXIT_GENERIC,
            };
            CliError::new(code, "copy_failed", format!("{what}: {e}"))
        })?;
        bar.finish_and_clear();
        if quiet && !ctx.json() {
            eprintln!(
                "{what}: {} blob(s), {} copied, {} verified",
                report.source_blobs, report.copied, report.verified
            );
        }
        rows.push((what, a.location(), b.location(), report));
    }
    let value = serde_json::json!({
        "ok": true,
        "stores": rows.iter().map(|(what, a, b, r)| serde_json::json!({
            "what": what, "from": a, "to": b, "blobs": r.source_blobs, "bytes": r.source_bytes,
            "copied": r.copied, "verified": r.verified,
        })).collect::<Vec<_>>(),
    });
    ctx.emit(&value, || {
        let mut t = Table::new(&["WHAT", "FROM", "TO", "BLOBS", "BYTES", "COPIED", "VERIFIED"]);
        for (what, a, b, r) in &rows {
            t.row(vec![
                (*what).to_owned(),
                a.clone(),
                b.clone(),
                r.source_blobs.to_string(),
                r.source_bytes.to_string(),
                r.copied.to_string(),
                r.verified.to_string(),
            ]);
        }
        t.print("nothing copied");
    })?;
    if !quiet {
        eprintln!("{to} holds a verified copy of {from}; point the server at it with --blobs");
    }
    Ok(())
}

/// Two URLs naming one database (a copy onto itself would "verify" trivially).
fn same_database(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    match (a, b) {
        (DatabaseUrl::Sqlite(x), DatabaseUrl::Sqlite(y)) => {
            let canon = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            canon(x) == canon(y)
        }
        (DatabaseUrl::Postgres(_), DatabaseUrl::Postgres(_)) => a.to_string() == b.to_string(),
        _ => false,
    }
}

/// Progress per table: a bar on a terminal, one line per table otherwise (nothing with `--json`).
struct Bars {
    quiet: bool,
    terminal: bool,
    bar: Option<ProgressBar>,
    stop: Arc<AtomicBool>,
}

impl Bars {
    fn new(quiet: bool, stop: Arc<AtomicBool>) -> Self {
        Self {
            quiet,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            stop,
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn table_started(&mut self, table: &'static str, source_rows: u64) {
        if self.quiet || !self.terminal {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(source_rows), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len} rows {per_sec}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(table);
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn batch(&mut self, _table: &'static str, read: u64, _inserted: u64) -> ControlFlow<()> {
        if let Some(bar) = &self.bar {
            bar.inc(read);
        }
        if self.stop.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn table_done(&mut self, table: &'static str, inserted: u64) {
        if self.quiet {
            return;
        }
        match self.bar.take() {
            Some(bar) => {
                bar.finish();
            }
            None => eprintln!("{table}: {inserted} rows copied"),
        }
    }

    fn verifying(&mut self, table: &'static str) {
        if self.quiet || !self.terminal {
            return;
        }
        if self.bar.is_none() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} verifying {msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_message(table);
        }
    }
}
