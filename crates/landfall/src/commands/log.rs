//! `landfall log verify|export|public-key|list`: the tamper-evident release log.

use std::path::Path;

use anyhow::{Context, Result};
use landfall_crypto::release_log::{verify_export, LogError, PUBLIC_KEY_PREFIX};

use super::Ctx;
use crate::args::LogCmd;
use crate::failure::{CliError, EXIT_TAMPERED};
use crate::output::{self, Table};

pub async fn run(ctx: &Ctx, cmd: LogCmd) -> Result<()> {
    match cmd {
        LogCmd::Verify {
            against: _,
            file: Some(file),
            public_key,
        } => verify_file(ctx, &file, public_key.as_deref().unwrap_or_default()),
        LogCmd::Verify { against, .. } => verify_server(ctx, against.as_deref()).await,
        LogCmd::Export { output } => export(ctx, &output).await,
        LogCmd::PublicKey => {
            let key = ctx
                .client()?
                .release_log_public_key()
                .await
                .context("cannot read the release log's public key")?;
            ctx.emit(&key, || outln!("{}", key.public_key))
        }
        LogCmd::List { after, limit } => {
            let entries = ctx
                .client()?
                .release_log(after, limit)
                .await
                .context("cannot read the release log")?;
            ctx.emit(&entries, || {
                let mut t = Table::new(&["#", "AT", "APP", "ACTOR", "ACTION", "DETAIL", "HASH"]);
                for e in &entries {
                    t.row(vec![
                        e.seq.to_string(),
                        output::time(e.at),
                        e.app_id.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        landfall_core::clip(&e.detail.to_string()).into_owned(),
                        e.hash.chars().take(12).collect(),
                    ]);
                }
                t.print("the release log is empty");
            })
        }
    }
}

/// The key itself, or the content of a file that holds it.
fn public_key_arg(raw: &str) -> Result<String> {
    if raw.trim().starts_with(PUBLIC_KEY_PREFIX) {
        return Ok(raw.trim().to_owned());
    }
    let text = std::fs::read_to_string(raw).with_context(|| {
        format!("--public-key {raw:?} is neither a key (ed25519:…) nor a readable file")
    })?;
    Ok(text.trim().to_owned())
}

fn tampered(message: String) -> anyhow::Error {
    CliError::new(EXIT_TAMPERED, "release_log_broken", message).into()
}

/// `landfall log verify --file F --public-key K`: no server involved.
fn verify_file(ctx: &Ctx, file: &Path, public_key: &str) -> Result<()> {
    let key = public_key_arg(public_key)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the export {}", file.display()))?;
    match verify_export(&text, &key) {
        Ok(v) => {
            let value = serde_json::json!({
                "intact": true,
                "entries": v.entries,
                "head_seq": v.head.seq,
                "head_hash": v.head.hash,
                "exported_at": v.header.exported_at,
                "public_key": v.header.public_key,
            });
            ctx.emit(&value, || {
                outln!(
                    "{}: signature valid, {} entries intact, head #{} {} (exported {})",
                    file.display(),
                    v.entries,
                    v.head.seq,
                    v.head.hash,
                    output::time(v.header.exported_at)
                );
            })
        }
        Err(e @ LogError::BadPublicKey) => Err(e.into()),
        Err(e) => Err(tampered(format!("{}: {e}", file.display()))),
    }
}

/// `landfall log verify [--against F]`: the server walks its chain.
async fn verify_server(ctx: &Ctx, against: Option<&Path>) -> Result<()> {
    let checkpoint = match against {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the earlier export {}", path.display()))?;
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            let sig: landfall_crypto::release_log::ExportSignature = last
                .and_then(|l| serde_json::from_str(l).ok())
                .with_context(|| {
                    format!(
                        "{} does not end with a release-log signature line: is it a `landfall log export` file?",
                        path.display()
                    )
                })?;
            Some(sig.head)
        }
        None => None,
    };
    let v = ctx
        .client()?
        .verify_release_log(checkpoint.as_ref().map(|c| (c.seq, c.hash.as_str())))
        .await
        .context("cannot verify the release log")?;
    if let Some(p) = &v.problem {
        if ctx.json() {
            output::json(&v)?;
        }
        return Err(tampered(format!(
            "the release log is broken: {} ({} entries verified before it)",
            p.message, v.entries
        )));
    }
    ctx.emit(&v, || {
        outln!(
            "release log intact: {} entries, head #{} {}{}",
            v.entries,
            v.head_seq,
            v.head_hash,
            match &checkpoint {
                Some(c) => format!("; the earlier export's head #{} is still in it", c.seq),
                None => String::new(),
            }
        );
    })
}

async fn export(ctx: &Ctx, output_path: &Path) -> Result<()> {
    let client = ctx.client()?;
    let text = client
        .export_release_log()
        .await
        .context("cannot export the release log")?;
    let key = client
        .release_log_public_key()
        .await
        .context("cannot read the release log's public key")?;
    // Check what arrived before saying it is good.
    let v = verify_export(&String::from_utf8_lossy(&text), &key.public_key)
        .map_err(|e| tampered(format!("the export the server sent does not verify: {e}")))?;
    if output_path == Path::new("-") {
        use std::io::Write;
        std::io::stdout().write_all(&text)?;
        return Ok(());
    }
    std::fs::write(output_path, &text)
        .with_context(|| format!("cannot write {}", output_path.display()))?;
    let value = serde_json::json!({
        "file": output_path, "entries": v.entries, "head_seq": v.head.seq,
        "head_hash": v.head.hash, "public_key": key.public_key,
    });
    ctx.emit(&value, || {
        outln!(
            "Wrote {} entries (head #{} {}) to {}",
            v.entries,
            v.head.seq,
            v.head.hash,
            output_path.display()
        );
        outln!(
            "An auditor verifies it with: landfall log verify --file {} --public-key {}",
            output_path.display(),
            key.public_key
        );
    })
}
