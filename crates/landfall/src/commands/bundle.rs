//! `landfall bundle upload|list|show|delete`.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use landfall_client::{BundleInfo, ExternalBundle, UploadParams, UploadResult};
use landfall_crypto::{CryptoError, VerifyingKey, SHA256_LEN};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Ctx;
use crate::args::{BundleCmd, DecryptArgs, EncryptArgs, UploadArgs};
use crate::encrypt;
use crate::failure::{CliError, EXIT_GENERIC, EXIT_USAGE};
use crate::output::{self, Table};
use crate::zipper::{self, ZipFile};

pub async fn run(ctx: &Ctx, cmd: BundleCmd) -> Result<()> {
    match cmd {
        BundleCmd::Upload(args) => upload(ctx, args).await,
        BundleCmd::List { app_id } => {
            let bundles = ctx
                .client()?
                .list_bundles(&app_id)
                .await
                .with_context(|| format!("cannot list the bundles of {app_id}"))?;
            ctx.emit(&bundles, || {
                let mut t = Table::new(&["VERSION", "SIZE", "SHA256", "CREATED", "BY", "NOTES"]);
                for b in &bundles {
                    t.row(vec![
                        b.version.clone(),
                        output::size(b.size),
                        b.sha256.chars().take(16).collect(),
                        output::time(b.created_at),
                        b.created_by.clone(),
                        notes(b),
                    ]);
                }
                t.print("no bundles yet: upload one with `landfall bundle upload`");
            })
        }
        BundleCmd::Show { app_id, version } => {
            let b = ctx
                .client()?
                .get_bundle(&app_id, &version)
                .await
                .with_context(|| format!("cannot read bundle {version} of {app_id}"))?;
            ctx.emit(&b, || print_bundle(&b))
        }
        BundleCmd::Delete { app_id, version } => {
            ctx.client()?
                .delete_bundle(&app_id, &version)
                .await
                .with_context(|| format!("cannot delete bundle {version} of {app_id}"))?;
            let value = serde_json::json!({ "app_id": app_id, "deleted": version });
            ctx.emit(&value, || outln!("Deleted bundle {version} of {app_id}"))
        }
        BundleCmd::Encrypt(args) => encrypt_zip(ctx, &args),
        BundleCmd::Decrypt(args) => decrypt_zip(ctx, &args),
    }
}

/// `bundle encrypt --json`: the keys and key order of `capgo bundle encrypt --json`.
#[derive(Debug, Serialize)]
struct EncryptOutput<'a> {
    checksum: &'a str,
    filename: String,
    #[serde(rename = "ivSessionKey")]
    iv_session_key: &'a str,
}

/// `bundle encrypt`: offline, streamed, one pass over the zip.
fn encrypt_zip(ctx: &Ctx, args: &EncryptArgs) -> Result<()> {
    let given = match &args.sha256 {
        Some(s) => Some(landfall_crypto::parse_sha256_hex(s).ok_or_else(|| {
            CliError::new(
                EXIT_USAGE,
                "invalid_checksum",
                format!(
                    "{s:?} is not a sha256 (64 hex characters, as `capgo bundle zip --json` prints)"
                ),
            )
        })?),
        None => None,
    };
    require_file(&args.zip)?;
    let signer = encrypt::read_signing_key(&args.key)?;
    let dest = encrypt::suffixed(&args.zip, "_encrypted.zip");
    let tmp = encrypt::temp_next_to(&dest)?;
    let sealed = encrypt::seal(&args.zip, &signer, tmp.as_file())?;
    if let Some(given) = given {
        if given != sealed.plain_sha256 {
            return Err(CliError::new(
                EXIT_GENERIC,
                "checksum_mismatch",
                format!(
                    "{} has sha256 {}, not the given {}; nothing was written (pass the checksum \
                     of this exact zip, or leave it out)",
                    args.zip.display(),
                    hex::encode(sealed.plain_sha256),
                    hex::encode(given)
                ),
            )
            .into());
        }
    }
    tmp.persist(&dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    let out = EncryptOutput {
        checksum: &sealed.checksum,
        filename: dest.display().to_string(),
        iv_session_key: &sealed.session_key,
    };
    ctx.emit(&out, || {
        outln!(
            "Encrypted {} ({}, sha256 {}) with key {}",
            args.zip.display(),
            output::size(sealed.plain_len),
            hex::encode(sealed.plain_sha256),
            signer.key_id()
        );
        outln!("Encoded Checksum: {}", out.checksum);
        outln!("ivSessionKey: {}", out.iv_session_key);
        outln!("Encrypted zip saved at {}", out.filename);
        outln!(
            "Upload it with: landfall bundle upload <APP_ID> {} --version <VERSION> \
             --session-key <ivSessionKey> --checksum <checksum>",
            out.filename
        );
    })
}

/// `bundle decrypt --json`.
#[derive(Debug, Serialize)]
struct DecryptOutput {
    filename: String,
    /// sha256 hex of the decrypted zip.
    sha256: String,
    /// `true` when `--checksum` was given (a mismatch is an error), else `null`.
    #[serde(rename = "checksumMatches")]
    checksum_matches: Option<bool>,
}

/// `bundle decrypt`: offline, streamed; nothing is written when the checksum does not match.
fn decrypt_zip(ctx: &Ctx, args: &DecryptArgs) -> Result<()> {
    let (verifier, key_source) = decrypt_key(args.key.as_deref())?;
    let session = verifier
        .open_session_key(&args.session_key)
        .with_context(|| {
            format!("cannot open the ivSessionKey with the public key {key_source}")
        })?;
    let expected = match &args.checksum {
        Some(c) => Some(expected_sha256(&verifier, c, &key_source)?),
        None => None,
    };
    require_file(&args.zip)?;
    let dest = encrypt::suffixed(&args.zip, "_decrypted.zip");
    let tmp = encrypt::temp_next_to(&dest)?;
    let (digest, len) = encrypt::open(&args.zip, &session, tmp.as_file())?;
    if let Some(expected) = expected {
        if expected != digest {
            return Err(CliError::new(
                EXIT_GENERIC,
                "checksum_mismatch",
                format!(
                    "Checksum does not match: {} decrypts to a zip with sha256 {} but the checksum \
                     says {}; nothing was written (the checksum was made for another zip)",
                    args.zip.display(),
                    hex::encode(digest),
                    hex::encode(expected)
                ),
            )
            .into());
        }
    }
    tmp.persist(&dest)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    let out = DecryptOutput {
        filename: dest.display().to_string(),
        sha256: hex::encode(digest),
        checksum_matches: expected.map(|_| true),
    };
    ctx.emit(&out, || {
        outln!(
            "Decrypted zip file at {} ({}, sha256 {})",
            out.filename,
            output::size(len),
            out.sha256
        );
        if expected.is_some() {
            outln!("Checksum matches");
        }
    })
}

/// The public key for `bundle decrypt`: `--key`, else ./.capgo_key_v2.pub, else the `publicKey`
/// in ./capacitor.config.json (the Capgo CLI's order). Also returns where it came from.
fn decrypt_key(given: Option<&Path>) -> Result<(VerifyingKey, String)> {
    const DEFAULT: &str = ".capgo_key_v2.pub";
    const CONFIG: &str = "capacitor.config.json";
    if let Some(path) = given {
        return Ok((
            encrypt::read_verifying_key(path)?,
            path.display().to_string(),
        ));
    }
    if Path::new(DEFAULT).exists() {
        return Ok((
            encrypt::read_verifying_key(Path::new(DEFAULT))?,
            DEFAULT.to_owned(),
        ));
    }
    let pem = std::fs::read_to_string(CONFIG)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| {
            config["plugins"]["CapacitorUpdater"]["publicKey"]
                .as_str()
                .map(str::to_owned)
        });
    let Some(pem) = pem else {
        return Err(CliError::new(
            EXIT_GENERIC,
            "missing_key",
            format!(
                "no public key: pass --key PATH (there is no ./{DEFAULT} and no \
                 plugins.CapacitorUpdater.publicKey in ./{CONFIG})"
            ),
        )
        .into());
    };
    let source = format!("from {CONFIG}");
    let key = VerifyingKey::from_pem(&pem)
        .with_context(|| format!("the publicKey in {CONFIG} is not a usable Capgo public key"))?;
    Ok((key, source))
}

/// The sha256 a `--checksum` promises: a V3 signed checksum (opened with the key) or a plain sha256.
fn expected_sha256(
    verifier: &VerifyingKey,
    checksum: &str,
    key_source: &str,
) -> Result<[u8; SHA256_LEN]> {
    match verifier.recover_checksum(checksum) {
        Ok(digest) => Ok(digest),
        Err(CryptoError::ChecksumIsPlain) => {
            landfall_crypto::parse_sha256_hex(checksum).context("the --checksum is not a sha256")
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "the --checksum does not open with the public key {key_source}"
        ))),
    }
}

/// Fails with a clear message unless `path` is an existing regular file.
fn require_file(path: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        return Err(CliError::new(
            EXIT_GENERIC,
            "not_a_file",
            format!(
                "{} is a directory, not a zip; zip it first (`capgo bundle zip`, or `landfall \
                 bundle upload --keep-zip PATH`), or upload the directory with \
                 `landfall bundle upload --key`",
                path.display()
            ),
        )
        .into());
    }
    Ok(())
}

async fn upload(ctx: &Ctx, args: UploadArgs) -> Result<()> {
    let client = ctx.client()?;
    let app_id = args.app_id.clone();
    let version = args.version.clone();

    if let Some(url) = args.external_url {
        let body = ExternalBundle {
            version: version.clone(),
            url,
            checksum: args.checksum.unwrap_or_default(),
            size: args.size,
            session_key: args.session_key,
            channel: args.channel,
            min_update_version: args.min_update_version,
            link: args.link,
            comment: args.comment,
        };
        let result = client
            .create_external_bundle(&app_id, &body)
            .await
            .with_context(|| format!("cannot register external bundle {version} of {app_id}"))?;
        return report(ctx, &app_id, &result, &Extras::default());
    }

    let path = args
        .path
        .context("a directory or zip to upload is required")?;
    let meta =
        std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut extras = Extras::default();
    let zip = if meta.is_dir() {
        let spinner = spinner(&format!("zipping {}", path.display()), ctx.json());
        let (dir, keep) = (path.clone(), args.keep_zip.clone());
        let zipped =
            tokio::task::spawn_blocking(move || zipper::zip_dir_to_file(&dir, keep.as_deref()))
                .await
                .context("zip task failed")?;
        spinner.finish_and_clear();
        let (zip, summary) = zipped.with_context(|| format!("cannot zip {}", path.display()))?;
        if !ctx.json() {
            eprintln!(
                "Zipped {} ({} files, {})",
                path.display(),
                summary.files,
                output::size(summary.content_bytes)
            );
        }
        extras.skipped = Some(summary.skipped);
        zip
    } else {
        ZipFile::Kept(path.clone())
    };

    let mut params = UploadParams {
        version: version.clone(),
        channel: args.channel,
        min_update_version: args.min_update_version,
        link: args.link,
        comment: args.comment,
        session_key: None,
        checksum: None,
        key_id: args.key_id,
        delta: args.delta,
    };
    // What the server must report as the plain zip's sha256 (None: cannot know locally).
    let expected_sha256;
    let mut signatures = None;
    // Keeps the encrypted temp file alive until the upload is done.
    let mut _encrypted: Option<encrypt::Encrypted> = None;
    let body_path = if let Some(key_path) = &args.key {
        let signer = encrypt::read_signing_key(key_path)?;
        let zip_path = zip.path().to_owned();
        let delta = args.delta;
        let spinner = spinner("encrypting and signing…", ctx.json());
        let enc =
            tokio::task::spawn_blocking(move || encrypt::encrypt_bundle(&zip_path, &signer, delta))
                .await
                .context("encryption task failed");
        spinner.finish_and_clear();
        let enc = enc??;
        if !ctx.json() {
            eprintln!("Encrypted and signed with key {}", enc.key_id);
        }
        params.session_key = Some(enc.session_key.clone());
        params.checksum = Some(enc.checksum.clone());
        params.key_id.get_or_insert_with(|| enc.key_id.clone());
        expected_sha256 = Some(enc.plain_sha256.clone());
        signatures = enc.signatures.clone();
        let path = enc.file.path().to_owned();
        _encrypted = Some(enc);
        path
    } else if let Some(session_key) = args.session_key {
        // Already encrypted by `capgo bundle encrypt`: the server checks it with the app's key.
        params.session_key = Some(session_key);
        params.checksum = args.checksum;
        expected_sha256 = None;
        zip.path().to_owned()
    } else {
        let (local, _) = sha256_file(zip.path())?;
        if let Some(want) = &args.checksum {
            if !want.eq_ignore_ascii_case(&local) {
                return Err(CliError::new(
                    EXIT_GENERIC,
                    "checksum_mismatch",
                    format!(
                        "{} has sha256 {local}, not the expected {want}",
                        zip.path().display()
                    ),
                )
                .into());
            }
        }
        expected_sha256 = Some(local);
        zip.path().to_owned()
    };

    let len = std::fs::metadata(&body_path)
        .with_context(|| format!("cannot read {}", body_path.display()))?
        .len();
    if params.session_key.is_some() {
        extras.encrypted_bytes = Some(len);
    }
    let bar = progress_bar(len, ctx.json());
    let on_progress = {
        let bar = bar.clone();
        move |sent| bar.set_position(sent)
    };
    let result = client
        .upload_bundle_signed(
            &app_id,
            &params,
            &body_path,
            signatures.as_ref(),
            on_progress,
        )
        .await;
    bar.finish_and_clear();
    let result = result.with_context(|| format!("cannot upload bundle {version} of {app_id}"))?;

    if let Some(local) = expected_sha256 {
        if !result.bundle.sha256.eq_ignore_ascii_case(&local) {
            return Err(CliError::new(
                EXIT_GENERIC,
                "checksum_mismatch",
                format!(
                    "the server stored bundle {version} with sha256 {} but the zip sent has \
                     sha256 {local}; delete it with `landfall bundle delete {app_id} {version}` \
                     and upload again",
                    result.bundle.sha256
                ),
            )
            .into());
        }
    }
    report(ctx, &app_id, &result, &extras)
}

/// What the upload knows beyond the server's answer.
#[derive(Debug, Default)]
struct Extras {
    /// Paths the zipper left out (directory uploads only).
    skipped: Option<Vec<String>>,
    /// Size of the encrypted zip that was sent (encrypted uploads only).
    encrypted_bytes: Option<u64>,
}

/// `bundle upload --json`: the server's answer, plus `skipped` for directory uploads.
#[derive(Debug, Serialize)]
struct UploadReport<'a> {
    #[serde(flatten)]
    result: &'a UploadResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a [String]>,
}

/// How many paths to name in the human "skipped" line.
const SKIPPED_SHOWN: usize = 3;

/// `3 paths: .DS_Store, .git/, node_modules/` (at most [`SKIPPED_SHOWN`] named).
fn skipped_line(skipped: &[String]) -> String {
    let noun = if skipped.len() == 1 { "path" } else { "paths" };
    let mut line = format!("{} {noun} (not app content): ", skipped.len());
    line.push_str(&skipped[..skipped.len().min(SKIPPED_SHOWN)].join(", "));
    if skipped.len() > SKIPPED_SHOWN {
        line.push_str(&format!(", … {} more", skipped.len() - SKIPPED_SHOWN));
    }
    line
}

/// `1.2 KiB (1234 bytes)`, or `1.2 KiB (1234 bytes; encrypted 1.3 KiB)`.
fn size_line(plain: u64, encrypted: Option<u64>) -> String {
    match encrypted {
        Some(enc) => format!(
            "{} ({plain} bytes; encrypted {})",
            output::size(plain),
            output::size(enc)
        ),
        None => format!("{} ({plain} bytes)", output::size(plain)),
    }
}

fn report(ctx: &Ctx, app_id: &str, result: &UploadResult, extras: &Extras) -> Result<()> {
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let json = UploadReport {
        result,
        skipped: extras.skipped.as_deref(),
    };
    ctx.emit(&json, || {
        let b = &result.bundle;
        outln!("Uploaded bundle {} of {app_id}", b.version);
        if b.size == 0 && b.external_url.is_some() {
            outln!("  size     unknown (pass --size to record it)");
        } else {
            outln!("  size     {}", size_line(b.size, extras.encrypted_bytes));
        }
        if let Some(skipped) = extras.skipped.as_deref().filter(|s| !s.is_empty()) {
            outln!("  skipped  {}", skipped_line(skipped));
        }
        outln!("  sha256   {}", b.sha256);
        if let Some(url) = &b.external_url {
            outln!("  url      {url}");
        }
        if !b.key_ids.is_empty() {
            outln!("  signed   {}", b.key_ids.join(", "));
        }
        if let Some(d) = &result.delta {
            outln!(
                "  delta    {} files; a device on {} downloads {} instead of {}",
                d.files,
                d.previous_version.as_deref().unwrap_or("an older bundle"),
                output::size(d.download_bytes_from_previous),
                output::size(d.full_zip_bytes)
            );
        }
        if result.already_uploaded {
            outln!("  already uploaded with the same content: nothing new stored");
        }
        match &result.channel {
            Some(c) => {
                outln!("  channel  {} now serves {}", c.name, c.bundle);
                super::channel::print_effect(c);
            }
            None => outln!(
                "  not served yet: `landfall channel set {app_id} <channel> --bundle {}`",
                b.version
            ),
        }
    })
}

fn print_bundle(b: &BundleInfo) {
    outln!("version             {}", b.version);
    outln!(
        "size                {} ({} bytes)",
        output::size(b.size),
        b.size
    );
    outln!("sha256              {}", b.sha256);
    outln!(
        "created             {} by {}",
        output::time(b.created_at),
        b.created_by
    );
    outln!(
        "min update version  {}",
        output::opt(b.min_update_version.as_deref())
    );
    outln!("link                {}", output::opt(b.link.as_deref()));
    outln!("comment             {}", output::opt(b.comment.as_deref()));
    outln!(
        "signed with         {}",
        if b.key_ids.is_empty() {
            "-".to_owned()
        } else {
            b.key_ids.join(", ")
        }
    );
    outln!(
        "external url        {}",
        output::opt(b.external_url.as_deref())
    );
    outln!("delta files         {}", b.manifest_files);
}

fn notes(b: &BundleInfo) -> String {
    let mut notes = Vec::new();
    if b.external_url.is_some() {
        notes.push("external".to_owned());
    }
    if !b.key_ids.is_empty() {
        notes.push("signed".to_owned());
    }
    if b.manifest_files > 0 {
        notes.push(format!("delta:{}", b.manifest_files));
    }
    if let Some(c) = &b.comment {
        notes.push(c.clone());
    }
    notes.join(" ")
}

/// sha256 hex and length of a file, streamed.
fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let len = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((hex::encode(hasher.finalize()), len))
}

/// A spinner on stderr for a step of unknown length; hidden like [`progress_bar`].
fn spinner(message: &str, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// An upload bar on stderr; hidden with `--json` or when stderr is not a terminal.
fn progress_bar(len: u64, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_line_names_the_first_few() {
        let one = vec![".DS_Store".to_owned()];
        assert_eq!(skipped_line(&one), "1 path (not app content): .DS_Store");
        let many: Vec<String> = [
            ".DS_Store",
            ".git/",
            "a/.DS_Store",
            "node_modules/",
            "b/.git/",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            skipped_line(&many),
            "5 paths (not app content): .DS_Store, .git/, a/.DS_Store, … 2 more"
        );
    }

    #[test]
    fn size_line_is_one_line_with_the_encrypted_size() {
        assert_eq!(size_line(2048, None), "2.0 KiB (2048 bytes)");
        assert_eq!(
            size_line(2048, Some(2064)),
            "2.0 KiB (2048 bytes; encrypted 2.0 KiB)"
        );
    }
}
