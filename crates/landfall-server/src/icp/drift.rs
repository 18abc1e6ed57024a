//! Drift detection at upload: the hosts an uploaded bundle calls (http/https URLs in its HTML, JS,
//! JSON and CSS files) against the app's filed domains. Unfiled hosts are a warning on the upload,
//! or a refusal (400 `unfiled_host`) when the app's ICP settings say `refuse_unfiled_hosts`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use landfall_icp::drift::{extract_hosts, undeclared_hosts};

use super::bad;
use crate::error::HttpError;
use crate::state::AppState;

/// Files scanned (by extension, case-insensitive).
const TEXT_EXTENSIONS: &[&str] = &["html", "htm", "js", "mjs", "cjs", "json", "css"];
/// At most this many entries are looked at.
const MAX_ENTRIES: usize = 20_000;
/// Bytes read per file (the rest of a larger file is not scanned).
const MAX_ENTRY_BYTES: u64 = 8 << 20;
/// Bytes read over the whole bundle.
const MAX_TOTAL_BYTES: u64 = 128 << 20;
/// Hosts named in a message.
const MAX_NAMED: usize = 20;

fn is_text(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower
        .rsplit_once('.')
        .is_some_and(|(_, ext)| TEXT_EXTENSIONS.contains(&ext))
}

/// Hosts referenced by the text files of a bundle zip (bounded reads; unreadable entries are
/// skipped: the zip was validated before).
pub(crate) fn scan_zip(path: &Path) -> std::io::Result<BTreeSet<String>> {
    let file = std::fs::File::open(path)?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(std::io::Error::other)?;
    let mut hosts = BTreeSet::new();
    let mut budget = MAX_TOTAL_BYTES;
    for i in 0..zip.len().min(MAX_ENTRIES) {
        if budget == 0 {
            break;
        }
        let Ok(entry) = zip.by_index(i) else {
            continue;
        };
        if entry.is_dir() || !is_text(entry.name()) {
            continue;
        }
        let mut buf = Vec::new();
        let limit = MAX_ENTRY_BYTES.min(budget);
        if entry.take(limit).read_to_end(&mut buf).is_err() {
            continue;
        }
        budget = budget.saturating_sub(buf.len() as u64);
        hosts.extend(extract_hosts(&String::from_utf8_lossy(&buf)));
    }
    Ok(hosts)
}

fn list(hosts: &BTreeSet<String>) -> String {
    let names: Vec<&str> = hosts.iter().map(String::as_str).take(MAX_NAMED).collect();
    let more = hosts.len().saturating_sub(MAX_NAMED);
    if more > 0 {
        format!("{} and {more} more", names.join(", "))
    } else {
        names.join(", ")
    }
}

/// Checks an uploaded bundle (the validated zip at `zip_path`) against the filed domains of
/// `app_id`. Apps without a recorded filing get no warnings. Returns the warnings to add to the
/// upload's answer, or 400 `unfiled_host` in refuse mode.
pub async fn drift_check(
    state: &AppState,
    app_id: &str,
    zip_path: &Path,
) -> Result<Vec<String>, HttpError> {
    let Some((_, doc)) = super::filing::load(state, app_id).await? else {
        return Ok(vec![]);
    };
    let settings = super::compliance::settings_of(state, app_id).await?;
    let path = zip_path.to_owned();
    let found = tokio::task::spawn_blocking(move || scan_zip(&path))
        .await
        .map_err(HttpError::internal)?
        .map_err(HttpError::internal)?;
    // Approved details when there are any (a pending change is not filed yet), else the record.
    let filed = doc.filed_record.as_ref().unwrap_or(&doc.record);
    let mut allowed = filed.domain_names();
    allowed.extend(settings.ignored_hosts.iter().cloned());
    let unfiled = undeclared_hosts(&found, &allowed);
    if unfiled.is_empty() {
        return Ok(vec![]);
    }
    let pending: BTreeSet<String> = {
        let recorded = doc.record.domain_names();
        unfiled
            .iter()
            .filter(|h| {
                recorded
                    .iter()
                    .any(|d| landfall_icp::drift::covered_by(h, d))
            })
            .cloned()
            .collect()
    };
    let pending_note = if pending.is_empty() {
        String::new()
    } else {
        format!(
            " ({} only in the pending change filing, not approved yet)",
            list(&pending)
        )
    };
    let names = list(&unfiled);
    if settings.refuse_unfiled_hosts {
        return Err(bad(
            "unfiled_host",
            format!("the bundle calls hosts that are not among the filed domains of {app_id}: {names}{pending_note}. File them with a change filing first, or add third-party hosts to ignored_hosts in the ICP settings"),
            format!("该包调用了 {app_id} 未备案的域名：{names}。请先办理变更备案，或将第三方域名加入 ICP 设置的 ignored_hosts"),
        ));
    }
    Ok(vec![format!(
        "ICP: the bundle calls hosts that are not among the filed domains: {names}{pending_note}; file them with a change filing or add third-party hosts to ignored_hosts (`landfall icp settings`) / ICP：该包调用了未备案的域名：{names}"
    )])
}
