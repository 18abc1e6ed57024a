//! `/api/v1/apps/{app}/bundles`: streaming upload, external bundles, listing, deletion.
//!
//! An upload is streamed to a staging file while hashing, validated as a bundle zip, moved into
//! the blob store, and only then recorded in the database: a bundle is visible only when its bytes
//! are durable, and a killed upload leaves nothing referenced (the staging file is removed on drop,
//! stray blobs by the start-up sweep).

use std::collections::HashSet;

use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::Json;
use futures::StreamExt;
use landfall_api_types::{
    BundleInfo, DeltaInfo, ExternalBundle, FileSignatures, UploadParams, UploadResult,
};
use landfall_core::bundle_zip::{self, ZipLimits};
use landfall_crypto::{BundleVerifyError, VerifyingKey};
use landfall_store::{
    Bundle, BundleVariantRow, NewBundle, PointChannel, Role, StoreError, StoredManifestFile,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::auth::Caller;
use super::channels::{changed_info, check_installable};
use super::{existing_app, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// API view of a bundle.
pub fn bundle_info(b: &Bundle) -> BundleInfo {
    BundleInfo {
        version: b.version.clone(),
        size: b.size,
        sha256: b.sha256.clone(),
        created_at: b.created_at,
        created_by: b.created_by.clone(),
        min_update_version: b.min_update_version.clone(),
        link: b.link.clone(),
        comment: b.comment.clone(),
        key_ids: b.variants.iter().filter_map(|v| v.key_id.clone()).collect(),
        external_url: b.variants.iter().find_map(|v| v.external_url.clone()),
        manifest_files: b
            .variants
            .iter()
            .map(|v| v.manifest.len())
            .max()
            .unwrap_or(0),
    }
}

fn check_version(s: &str) -> HttpResult<()> {
    landfall_core::names::bundle_version(s)
        .map(|_| ())
        .map_err(|e| HttpError::bad_request("invalid_version", e.to_string()))
}

fn check_min_update(v: &Option<String>) -> HttpResult<()> {
    if let Some(v) = v {
        semver::Version::parse(v).map_err(|_| {
            HttpError::bad_request(
                "invalid_min_update_version",
                format!(
                    "min_update_version {:?} is not a semantic version such as 1.2.0",
                    landfall_core::clip(v)
                ),
            )
        })?;
    }
    Ok(())
}

/// Refuse a version that is taken, unless `same_sha256` says this is a retry of the same bytes
/// (`None`: not known yet, decided when the upload is stored).
async fn version_free(
    s: &Shared,
    app: &str,
    version: &str,
    same_sha256: Option<&str>,
) -> HttpResult<()> {
    match s.store.get_bundle(app, version).await {
        Ok(b) if same_sha256.is_none_or(|sha| sha == b.sha256) => Ok(()),
        Ok(_) => Err(HttpError::conflict(
            "version_exists",
            format!("version {} already exists in {app} with other content; version names are immutable, upload a new version", landfall_core::clip(version)),
        )),
        Err(StoreError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn store_conflict(e: StoreError) -> HttpError {
    match e {
        StoreError::Conflict(m) => HttpError::conflict("version_exists", m),
        other => other.into(),
    }
}

async fn finish(
    s: &Shared,
    caller: &Caller,
    new: NewBundle,
    channel: Option<String>,
    warnings: Vec<String>,
) -> HttpResult<(StatusCode, Json<UploadResult>)> {
    let app = new.app_id.clone();
    let before = match &channel {
        Some(name) => {
            check_installable(s, &app, &new.version, &new.variants).await?;
            match s.store.get_channel(&app, name).await {
                Ok(c) => Some(c),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    // The bundle row and the channel move are one transaction; a running rollout on the channel
    // ends (it would keep serving another bundle to part of the fleet).
    let point = channel.map(|name| PointChannel {
        name,
        end_rollout: true,
    });
    let inserted = s
        .store
        .insert_bundle(new, point, &caller.actor())
        .await
        .map_err(store_conflict)?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    let channel = match (&inserted.channel, &before) {
        (Some(after), Some(before)) => Some(changed_info(s, before, after).await?),
        (Some(after), None) => Some(changed_info(s, after, after).await?),
        _ => None,
    };
    let bundle = inserted.bundle;
    tracing::info!(app = %app, version = %bundle.version, size = bundle.size,
        retried = inserted.existed, "bundle uploaded");
    Ok((
        if inserted.existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(UploadResult {
            bundle: bundle_info(&bundle),
            channel,
            warnings,
            delta: None,
            already_uploaded: inserted.existed,
        }),
    ))
}

/// A request body (or multipart part) written to a staging file while hashing.
struct Staged {
    file: tempfile::NamedTempFile,
    sha256: String,
    size: u64,
}

async fn stage<S, E>(s: &Shared, mut stream: S) -> HttpResult<Staged>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    // Dropping `file` deletes it: an interrupted upload leaves nothing behind.
    let staged = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(&s.tmp_dir)
        .map_err(HttpError::internal)?;
    let mut out = tokio::fs::File::from_std(staged.reopen().map_err(HttpError::internal)?);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let max = s.settings.max_bundle_bytes;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            HttpError::bad_request(
                "upload_interrupted",
                format!("the upload stopped before the end: {e}"),
            )
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "bundle_too_large",
                format!("the bundle is larger than the server's limit of {max} bytes (max_bundle_bytes)"),
            ));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(HttpError::internal)?;
    }
    out.flush().await.map_err(HttpError::internal)?;
    if size == 0 {
        return Err(HttpError::bad_request(
            "empty_body",
            "the request body is empty; send the zip file",
        ));
    }
    Ok(Staged {
        file: staged,
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// Read the body: a raw zip (or ciphertext), or multipart with `signatures` then `bundle`.
async fn read_body(s: &Shared, req: Request) -> HttpResult<(Staged, Option<FileSignatures>)> {
    let is_multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Ok((stage(s, req.into_body().into_data_stream()).await?, None));
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| HttpError::bad_request("invalid_multipart", e.body_text()))?;
    let mut signatures = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| HttpError::bad_request("invalid_multipart", e.body_text()))?
    {
        match field.name() {
            Some("signatures") => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| HttpError::bad_request("invalid_multipart", e.body_text()))?;
                let map: FileSignatures = serde_json::from_slice(&bytes).map_err(|e| {
                    HttpError::bad_request(
                        "invalid_signatures",
                        format!("signatures must map paths to signed hashes: {e}"),
                    )
                })?;
                signatures = Some(map);
            }
            Some("bundle") => return Ok((stage(s, field).await?, signatures)),
            other => {
                return Err(HttpError::bad_request(
                    "invalid_multipart",
                    format!(
                        "unexpected part {other:?}; send `signatures` (optional) then `bundle`"
                    ),
                ))
            }
        }
    }
    Err(HttpError::bad_request(
        "invalid_multipart",
        "the multipart body has no `bundle` part",
    ))
}

/// Encrypted upload: the registered key that opens the session key, and the signed checksum.
struct Encryption {
    key: VerifyingKey,
    key_id: String,
    session_wire: String,
    signed_checksum: String,
}

/// One delta file ready to store (`bytes` is `None` when an earlier version already stored it).
struct DeltaFile {
    path: String,
    stored: StoredManifestFile,
    bytes: Option<Vec<u8>>,
}

/// Stored files of the previous version, by plain sha256, that a plain delta can reuse as they are.
type Reusable = std::collections::HashMap<String, StoredManifestFile>;

/// What the blocking half of an upload produced.
struct Prepared {
    plain_sha256: String,
    plain_size: u64,
    summary: bundle_zip::ZipSummary,
    delta: Vec<DeltaFile>,
    /// Keeps the decrypted copy alive while we use it.
    plain_path: std::path::PathBuf,
    _plain: Option<tempfile::NamedTempFile>,
}

fn verify_error(e: BundleVerifyError) -> HttpError {
    match e {
        BundleVerifyError::SessionKey(e) => {
            HttpError::bad_request("invalid_session_key", e.to_string())
        }
        BundleVerifyError::Checksum(e) => HttpError::bad_request("invalid_checksum", e.to_string()),
        BundleVerifyError::CiphertextCorrupt(e) => HttpError::bad_request(
            "corrupt_ciphertext",
            format!("the encrypted bundle does not decrypt with its session key: {e}"),
        ),
        e @ BundleVerifyError::ChecksumMismatch { .. } => {
            HttpError::bad_request("checksum_mismatch", e.to_string())
        }
        BundleVerifyError::Io(e) => HttpError::internal(e),
        other => HttpError::bad_request("invalid_encrypted_bundle", other.to_string()),
    }
}

/// Decrypt (if encrypted), validate the zip, and build the delta files. Runs on a blocking thread.
fn prepare(
    staged: &Staged,
    enc: Option<&Encryption>,
    delta: bool,
    signatures: Option<&FileSignatures>,
    reusable: &Reusable,
    tmp_dir: &std::path::Path,
    limits: ZipLimits,
) -> HttpResult<Prepared> {
    use std::io::{BufReader, BufWriter, Read, Write};
    let (plain_path, plain_tmp, plain_sha256, plain_size) = match enc {
        None => (
            staged.file.path().to_owned(),
            None,
            staged.sha256.clone(),
            staged.size,
        ),
        Some(e) => {
            let tmp = tempfile::Builder::new()
                .prefix("plain-")
                .tempfile_in(tmp_dir)
                .map_err(HttpError::internal)?;
            let input = BufReader::new(
                std::fs::File::open(staged.file.path()).map_err(HttpError::internal)?,
            );
            let mut out = BufWriter::new(tmp.reopen().map_err(HttpError::internal)?);
            let digest = landfall_crypto::verify_encrypted_bundle(
                &e.key,
                &e.session_wire,
                &e.signed_checksum,
                input,
                &mut out,
            )
            .map_err(verify_error)?;
            out.flush().map_err(HttpError::internal)?;
            let size = tmp.as_file().metadata().map_err(HttpError::internal)?.len();
            (tmp.path().to_owned(), Some(tmp), hex::encode(digest), size)
        }
    };
    let open = || {
        std::fs::File::open(&plain_path)
            .map(BufReader::new)
            .map_err(HttpError::internal)
    };
    let summary = bundle_zip::validate(open()?, limits)
        .map_err(|e| HttpError::bad_request("invalid_zip", e.to_string()))?;
    let mut delta_files = Vec::new();
    if delta {
        let mut zip = zip::ZipArchive::new(open()?)
            .map_err(|e| HttpError::bad_request("invalid_zip", e.to_string()))?;
        let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(summary.files.len());
        for f in &summary.files {
            let mut entry = zip
                .by_name(&f.entry)
                .map_err(|e| HttpError::bad_request("invalid_zip", e.to_string()))?;
            let mut data = Vec::with_capacity(f.size as usize);
            entry
                .read_to_end(&mut data)
                .map_err(|e| HttpError::bad_request("invalid_zip", e.to_string()))?;
            files.push((f.path.clone(), data));
        }
        let session =
            match enc {
                Some(e) => Some(e.key.open_session_key(&e.session_wire).map_err(|err| {
                    HttpError::bad_request("invalid_session_key", err.to_string())
                })?),
                None => None,
            };
        // Unchanged files of a plain delta keep the blob an earlier version stored (no recompression).
        if enc.is_none() {
            files.retain(|(path, data)| {
                let sha = landfall_crypto::sha256_hex(data);
                let Some(prev) = reusable.get(&sha).filter(|_| !data.is_empty()) else {
                    return true;
                };
                let br = prev.file_name.ends_with(landfall_crypto::BROTLI_SUFFIX);
                delta_files.push(DeltaFile {
                    path: path.clone(),
                    stored: StoredManifestFile {
                        file_name: if br {
                            format!("{path}{}", landfall_crypto::BROTLI_SUFFIX)
                        } else {
                            path.clone()
                        },
                        file_hash: sha.clone(),
                        blob_sha256: prev.blob_sha256.clone(),
                        size: prev.size,
                        sha256: sha,
                    },
                    bytes: None,
                });
                false
            });
        }
        let manifest = landfall_crypto::build_manifest(files, None)
            .map_err(|e| HttpError::bad_request("invalid_bundle_path", e.to_string()))?;
        for mf in manifest {
            let (bytes, file_hash) = match (&session, enc) {
                (Some(session), Some(e)) => {
                    let sig = signatures.and_then(|m| m.get(&mf.path)).ok_or_else(|| {
                        HttpError::bad_request(
                            "missing_file_signature",
                            format!("no signature for {}: encrypted delta uploads need one per file (landfall bundle upload --delta --key)", mf.path),
                        )
                    })?;
                    let digest = landfall_crypto::parse_sha256_hex(&mf.plain_sha256)
                        .ok_or_else(|| HttpError::internal("bad sha"))?;
                    let ok = e.key.checksum_matches(sig, &digest).map_err(|err| {
                        HttpError::bad_request(
                            "invalid_file_signature",
                            format!("{}: {err}", mf.path),
                        )
                    })?;
                    if !ok {
                        return Err(HttpError::bad_request(
                            "file_signature_mismatch",
                            format!("the signature for {} does not match its content", mf.path),
                        ));
                    }
                    (
                        landfall_crypto::encrypt_bytes(session, &mf.stored),
                        sig.to_ascii_lowercase(),
                    )
                }
                _ => (mf.stored, mf.file_hash),
            };
            delta_files.push(DeltaFile {
                path: mf.path,
                stored: StoredManifestFile {
                    file_name: mf.file_name,
                    file_hash,
                    blob_sha256: landfall_crypto::sha256_hex(&bytes),
                    size: bytes.len() as u64,
                    sha256: mf.plain_sha256,
                },
                bytes: Some(bytes),
            });
        }
        delta_files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    Ok(Prepared {
        plain_sha256,
        plain_size,
        summary,
        delta: delta_files,
        plain_path,
        _plain: plain_tmp,
    })
}

/// Pick the registered key for an encrypted upload, or refuse unsigned uploads to apps with keys.
async fn encryption_for(s: &Shared, app: &str, p: &UploadParams) -> HttpResult<Option<Encryption>> {
    let keys = s.store.list_app_keys(app).await?;
    let session = p.session_key.as_deref().filter(|k| !k.is_empty());
    let Some(session) = session else {
        if !keys.is_empty() {
            return Err(HttpError::bad_request(
                "signature_required",
                format!("{app} has a registered public key, so uploads must be encrypted and signed: use `landfall bundle upload --key .capgo_key_v2`"),
            ));
        }
        return Ok(None);
    };
    if keys.is_empty() {
        return Err(HttpError::bad_request(
            "no_key_registered",
            format!("{app} has no public key to check this encrypted bundle: run `landfall app key add {app} .capgo_key_v2.pub` first"),
        ));
    }
    let checksum = p
        .checksum
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            HttpError::bad_request(
                "invalid_checksum",
                "an encrypted upload needs `checksum`: the signed checksum (512 hex)",
            )
        })?;
    let candidates: Vec<_> = match &p.key_id {
        Some(id) => {
            let k: Vec<_> = keys.into_iter().filter(|k| &k.key_id == id).collect();
            if k.is_empty() {
                return Err(HttpError::bad_request(
                    "unknown_key",
                    format!(
                        "key {id} is not registered for {app}; see `landfall app key list {app}`"
                    ),
                ));
            }
            k
        }
        None => keys,
    };
    let mut last_err = None;
    for k in candidates {
        let key = VerifyingKey::from_pem(&k.public_pem).map_err(HttpError::internal)?;
        match key.open_session_key(session) {
            Ok(_) => {
                return Ok(Some(Encryption {
                    key,
                    key_id: k.key_id,
                    session_wire: session.to_owned(),
                    signed_checksum: checksum,
                }))
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(HttpError::bad_request(
        "invalid_session_key",
        format!(
            "the session key does not open with any registered key of {app} ({}); was it made with another private key?",
            last_err.map(|e| e.to_string()).unwrap_or_default()
        ),
    ))
}

/// The bundle a device most likely runs before this upload, and the plain hashes of its files.
async fn previous_files(
    s: &Shared,
    app: &str,
    channel: Option<&str>,
) -> HttpResult<Option<(String, HashSet<String>, Reusable)>> {
    let previous = match channel {
        Some(name) => match s.store.get_channel(app, name).await {
            Ok(c) => match c.bundle_id {
                Some(id) => Some(s.store.get_bundle_by_id(id).await?),
                None => None,
            },
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => s.store.list_bundles(app).await?.into_iter().next(),
    };
    Ok(previous.map(|b| {
        let hashes = b
            .variants
            .iter()
            .flat_map(|v| v.manifest.iter())
            .map(|f| {
                if f.sha256.is_empty() {
                    f.file_hash.clone()
                } else {
                    f.sha256.clone()
                }
            })
            .collect();
        let reusable = b
            .variants
            .iter()
            .filter(|v| v.key_id.is_none())
            .flat_map(|v| v.manifest.iter())
            .filter(|f| !f.sha256.is_empty())
            .map(|f| (f.sha256.clone(), f.clone()))
            .collect();
        (b.version, hashes, reusable)
    }))
}

/// Upload a bundle zip (the request body, streamed), optionally encrypted and/or with a delta.
#[utoipa::path(post, path = "/api/v1/apps/{app}/bundles", tag = "bundles",
    params(("version" = String, Query), ("channel" = Option<String>, Query), ("min_update_version" = Option<String>, Query),
           ("link" = Option<String>, Query), ("comment" = Option<String>, Query), ("session_key" = Option<String>, Query),
           ("checksum" = Option<String>, Query), ("key_id" = Option<String>, Query), ("delta" = Option<bool>, Query)),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses((status = 201, body = UploadResult), (status = 400, body = landfall_api_types::ApiError),
              (status = 409, body = landfall_api_types::ApiError), (status = 413, body = landfall_api_types::ApiError)))]
pub async fn upload(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> HttpResult<(StatusCode, Json<UploadResult>)> {
    caller.require(Some(&app), Role::Upload)?;
    let Query(p) = params.map_err(|e| {
        HttpError::bad_request(
            "invalid_query",
            format!("{}; `version` is required", e.body_text()),
        )
    })?;
    existing_app(&s, &app).await?;
    check_version(&p.version)?;
    check_min_update(&p.min_update_version)?;
    if let Some(c) = &p.channel {
        landfall_core::names::channel_name(c)
            .map_err(|e| HttpError::bad_request("invalid_channel", e.to_string()))?;
    }
    version_free(&s, &app, &p.version, None).await?;
    let enc = encryption_for(&s, &app, &p).await?;
    let (staged, signatures) = read_body(&s, req).await?;

    // Decrypt, validate the layout, hunt for hostile entries, build the delta: before anything is visible.
    let limits = ZipLimits {
        max_total_uncompressed: s.settings.max_bundle_bytes.saturating_mul(4),
        ..ZipLimits::default()
    };
    let tmp_dir = s.tmp_dir.clone();
    let delta = p.delta;
    let previous = if delta {
        previous_files(&s, &app, p.channel.as_deref()).await?
    } else {
        None
    };
    let reusable = previous
        .as_ref()
        .map(|(_, _, r)| r.clone())
        .unwrap_or_default();
    let (staged, enc, prepared) = tokio::task::spawn_blocking(move || {
        let prepared = prepare(
            &staged,
            enc.as_ref(),
            delta,
            signatures.as_ref(),
            &reusable,
            &tmp_dir,
            limits,
        );
        (staged, enc, prepared)
    })
    .await
    .map_err(HttpError::internal)?;
    let prepared = prepared?;
    let summary = &prepared.summary;
    let mut warnings = Vec::new();
    if !summary.files.iter().any(|f| f.path.ends_with(".js")) {
        warnings.push(
            "the bundle has no .js file; make sure your app calls notifyAppReady()".to_owned(),
        );
    }
    // ICP drift: hosts the bundle calls that are not filed (a warning, or 400 `unfiled_host`).
    warnings.extend(crate::icp::drift_check(&s, &app, &prepared.plain_path).await?);

    // A taken version with other content is refused before any byte is stored.
    version_free(&s, &app, &p.version, Some(&prepared.plain_sha256)).await?;
    // Bytes first (durable), then the row that makes them visible.
    s.blobs
        .put_file(&staged.sha256, staged.file.path())
        .await
        .map_err(HttpError::blobs)?;
    // Manifest files (hundreds for a web bundle): eight at a time, which a bucket needs.
    let files: Vec<(&str, &[u8])> = prepared
        .delta
        .iter()
        .filter_map(|f| Some((f.stored.blob_sha256.as_str(), f.bytes.as_deref()?)))
        .collect();
    for batch in files.chunks(8) {
        let mut puts = Vec::with_capacity(batch.len());
        for (key, bytes) in batch {
            puts.push(s.blobs.put_bytes(key, bytes));
        }
        futures::future::try_join_all(puts)
            .await
            .map_err(HttpError::blobs)?;
    }
    let delta_info = if p.delta {
        let known = previous.as_ref().map(|(_, h, _)| h);
        let reused: Vec<&DeltaFile> = prepared
            .delta
            .iter()
            .filter(|f| known.is_some_and(|k| k.contains(&f.stored.sha256)))
            .collect();
        Some(DeltaInfo {
            files: prepared.delta.len(),
            stored_bytes: prepared.delta.iter().map(|f| f.stored.size).sum(),
            previous_version: previous.map(|(v, _, _)| v),
            reused_files: reused.len(),
            download_bytes_from_previous: prepared.delta.iter().map(|f| f.stored.size).sum::<u64>()
                - reused.iter().map(|f| f.stored.size).sum::<u64>(),
            full_zip_bytes: staged.size,
        })
    } else {
        None
    };
    let (key_id, session_key, checksum) = match &enc {
        Some(e) => (
            Some(e.key_id.clone()),
            e.session_wire.clone(),
            e.signed_checksum.to_ascii_lowercase(),
        ),
        None => (None, String::new(), prepared.plain_sha256.clone()),
    };
    let new = NewBundle {
        app_id: app,
        version: p.version,
        size: prepared.plain_size,
        sha256: prepared.plain_sha256.clone(),
        min_update_version: p.min_update_version,
        link: p.link,
        comment: p.comment,
        variants: vec![BundleVariantRow {
            key_id,
            blob_sha256: Some(staged.sha256.clone()),
            blob_size: Some(staged.size),
            external_url: None,
            session_key,
            checksum,
            manifest: prepared.delta.into_iter().map(|f| f.stored).collect(),
        }],
    };
    let (status, Json(mut result)) = finish(&s, &caller, new, p.channel, warnings).await?;
    result.delta = delta_info;
    Ok((status, Json(result)))
}

/// Register a bundle hosted elsewhere (e.g. on a CDN).
#[utoipa::path(post, path = "/api/v1/apps/{app}/bundles/external", tag = "bundles", request_body = ExternalBundle,
    responses((status = 201, body = UploadResult), (status = 400, body = landfall_api_types::ApiError)))]
pub async fn external(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<ExternalBundle>,
) -> HttpResult<(StatusCode, Json<UploadResult>)> {
    caller.require(Some(&app), Role::Upload)?;
    let req = body.parse()?;
    existing_app(&s, &app).await?;
    check_version(&req.version)?;
    check_min_update(&req.min_update_version)?;
    if !(req.url.starts_with("https://") || req.url.starts_with("http://")) || req.url.len() > 2048
    {
        return Err(HttpError::bad_request(
            "invalid_url",
            "url must be an http(s) URL devices can download",
        ));
    }
    let checksum = req.checksum.trim().to_ascii_lowercase();
    let as_upload = UploadParams {
        version: req.version.clone(),
        session_key: req.session_key.clone(),
        checksum: Some(checksum.clone()),
        ..Default::default()
    };
    let enc = encryption_for(&s, &app, &as_upload).await?;
    let plain_sha = match &enc {
        Some(e) => hex::encode(
            e.key
                .recover_checksum(&e.signed_checksum)
                .map_err(|err| HttpError::bad_request("invalid_checksum", err.to_string()))?,
        ),
        None if checksum.len() != 64 || !checksum.bytes().all(|b| b.is_ascii_hexdigit()) => {
            return Err(HttpError::bad_request(
                "invalid_checksum",
                "checksum must be the sha256 of the zip as 64 hex characters (`sha256sum bundle.zip`)",
            ));
        }
        None => checksum.clone(),
    };
    version_free(&s, &app, &req.version, Some(&plain_sha)).await?;
    let new = NewBundle {
        app_id: app,
        version: req.version,
        size: req.size.unwrap_or(0),
        sha256: plain_sha,
        min_update_version: req.min_update_version,
        link: req.link,
        comment: req.comment,
        variants: vec![BundleVariantRow {
            key_id: enc.as_ref().map(|e| e.key_id.clone()),
            blob_sha256: None,
            blob_size: req.size,
            external_url: Some(req.url),
            session_key: enc
                .as_ref()
                .map(|e| e.session_wire.clone())
                .unwrap_or_default(),
            checksum,
            manifest: vec![],
        }],
    };
    finish(&s, &caller, new, req.channel, vec![]).await
}

/// List bundles, newest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/bundles", tag = "bundles", responses((status = 200, body = Vec<BundleInfo>)))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<Vec<BundleInfo>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    Ok(Json(
        s.store
            .list_bundles(&app)
            .await?
            .iter()
            .map(bundle_info)
            .collect(),
    ))
}

/// Look up a bundle by version.
pub async fn find(s: &Shared, app: &str, version: &str) -> HttpResult<Bundle> {
    s.store.get_bundle(app, version).await.map_err(|e| match e {
        StoreError::NotFound(_) => HttpError::not_found(
            "bundle_not_found",
            format!(
                "bundle {} does not exist in {app}; see `landfall bundle list {app}`",
                landfall_core::clip(version)
            ),
        ),
        other => other.into(),
    })
}

/// One bundle.
#[utoipa::path(get, path = "/api/v1/apps/{app}/bundles/{version}", tag = "bundles", responses((status = 200, body = BundleInfo)))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, version)): Path<(String, String)>,
) -> HttpResult<Json<BundleInfo>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    Ok(Json(bundle_info(&find(&s, &app, &version).await?)))
}

/// Delete a bundle no channel serves (its version name stays reserved).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/bundles/{version}", tag = "bundles", responses((status = 204)))]
pub async fn delete(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, version)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    caller.require(Some(&app), Role::Admin)?;
    existing_app(&s, &app).await?;
    find(&s, &app, &version).await?;
    s.store
        .delete_bundle(&app, &version, &caller.actor())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => HttpError::conflict("bundle_in_use", m),
            other => other.into(),
        })?;
    // Its blobs stop being served now (the download route reads the catalog).
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(StatusCode::NO_CONTENT)
}
