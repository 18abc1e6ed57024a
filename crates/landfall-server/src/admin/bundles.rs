//! `/api/v1/apps/{app}/bundles`: streaming upload, external bundles, listing, deletion.
//!
//! An upload is streamed to a staging file while hashing, validated as a bundle zip, moved into
//! the blob store, and only then recorded in the database: a bundle is visible only when its bytes
//! are durable, and a killed upload leaves nothing referenced (the staging file is removed on drop,
//! stray blobs by the start-up sweep).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use futures::StreamExt;
use landfall_api_types::{BundleInfo, ExternalBundle, UploadParams, UploadResult};
use landfall_core::bundle_zip::{self, ZipLimits};
use landfall_store::{Bundle, BundleVariantRow, NewBundle, Role, StoreError};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::auth::Caller;
use super::channels::{channel_info, point_channel};
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
                format!("min_update_version {v:?} is not a semantic version such as 1.2.0"),
            )
        })?;
    }
    Ok(())
}

async fn version_free(s: &Shared, app: &str, version: &str) -> HttpResult<()> {
    match s.store.get_bundle(app, version).await {
        Ok(_) => Err(HttpError::conflict(
            "version_exists",
            format!("version {version} already exists in {app}; version names are immutable, upload a new version"),
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
    let bundle = s
        .store
        .insert_bundle(new, &caller.actor())
        .await
        .map_err(store_conflict)?;
    let channel = match channel {
        Some(name) => Some(point_channel(s, caller, &app, &name, Some(bundle.id), "set").await?),
        None => None,
    };
    s.catalog.reload(s.store.as_ref(), &app).await?;
    let channel = match channel {
        Some(c) => Some(channel_info(s, &c).await?),
        None => None,
    };
    tracing::info!(app = %app, version = %bundle.version, size = bundle.size, "bundle uploaded");
    Ok((
        StatusCode::CREATED,
        Json(UploadResult {
            bundle: bundle_info(&bundle),
            channel,
            warnings,
        }),
    ))
}

/// Upload a bundle zip (the request body, streamed).
#[utoipa::path(post, path = "/api/v1/apps/{app}/bundles", tag = "bundles",
    params(("version" = String, Query), ("channel" = Option<String>, Query), ("min_update_version" = Option<String>, Query),
           ("link" = Option<String>, Query), ("comment" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/zip"),
    responses((status = 201, body = UploadResult), (status = 400, body = landfall_api_types::ApiError),
              (status = 409, body = landfall_api_types::ApiError), (status = 413, body = landfall_api_types::ApiError)))]
pub async fn upload(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    params: Result<Query<UploadParams>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> HttpResult<(StatusCode, Json<UploadResult>)> {
    let Query(p) = params.map_err(|e| {
        HttpError::bad_request(
            "invalid_query",
            format!("{}; `version` is required", e.body_text()),
        )
    })?;
    caller.require(Some(&app), Role::Upload)?;
    existing_app(&s, &app).await?;
    check_version(&p.version)?;
    check_min_update(&p.min_update_version)?;
    if let Some(c) = &p.channel {
        landfall_core::names::channel_name(c)
            .map_err(|e| HttpError::bad_request("invalid_channel", e.to_string()))?;
    }
    version_free(&s, &app, &p.version).await?;

    // Stream to a staging file, hashing as we go. Dropping `staged` deletes the file.
    let staged = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(".zip")
        .tempfile_in(&s.tmp_dir)
        .map_err(HttpError::internal)?;
    let mut file = tokio::fs::File::from_std(staged.reopen().map_err(HttpError::internal)?);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let max = s.settings.max_bundle_bytes;
    let mut stream = body.into_data_stream();
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
        file.write_all(&chunk).await.map_err(HttpError::internal)?;
    }
    file.flush().await.map_err(HttpError::internal)?;
    drop(file);
    if size == 0 {
        return Err(HttpError::bad_request(
            "empty_body",
            "the request body is empty; send the zip file",
        ));
    }
    let sha256 = hex::encode(hasher.finalize());

    // Validate the layout and hunt for hostile entries before anything becomes visible.
    let path = staged.path().to_owned();
    let limits = ZipLimits {
        max_total_uncompressed: max.saturating_mul(4),
        ..ZipLimits::default()
    };
    let summary = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&path)?;
        Ok::<_, std::io::Error>(bundle_zip::validate(std::io::BufReader::new(f), limits))
    })
    .await
    .map_err(HttpError::internal)?
    .map_err(HttpError::internal)?
    .map_err(|e| HttpError::bad_request("invalid_zip", e.to_string()))?;

    s.blobs
        .put_file(&sha256, staged.path())
        .await
        .map_err(HttpError::internal)?;
    let mut warnings = Vec::new();
    if !summary.files.iter().any(|f| f.path.ends_with(".js")) {
        warnings.push(
            "the bundle has no .js file; make sure your app calls notifyAppReady()".to_owned(),
        );
    }
    let new = NewBundle {
        app_id: app,
        version: p.version,
        size,
        sha256: sha256.clone(),
        min_update_version: p.min_update_version,
        link: p.link,
        comment: p.comment,
        variants: vec![BundleVariantRow {
            key_id: None,
            blob_sha256: Some(sha256.clone()),
            blob_size: Some(size),
            external_url: None,
            session_key: String::new(),
            checksum: sha256,
            manifest: vec![],
        }],
    };
    finish(&s, &caller, new, p.channel, warnings).await
}

/// Register a bundle hosted elsewhere (e.g. on a CDN).
#[utoipa::path(post, path = "/api/v1/apps/{app}/bundles/external", tag = "bundles", request_body = ExternalBundle,
    responses((status = 201, body = UploadResult), (status = 400, body = landfall_api_types::ApiError)))]
pub async fn external(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    JsonBody(req): JsonBody<ExternalBundle>,
) -> HttpResult<(StatusCode, Json<UploadResult>)> {
    caller.require(Some(&app), Role::Upload)?;
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
    let encrypted = req.session_key.as_deref().is_some_and(|k| !k.is_empty());
    let checksum = req.checksum.trim().to_ascii_lowercase();
    let hex_ok = checksum.bytes().all(|b| b.is_ascii_hexdigit());
    if encrypted {
        return Err(HttpError::bad_request(
            "encryption_needs_key",
            "encrypted external bundles need a registered public key for the app (see `landfall app key add`)",
        ));
    }
    if checksum.len() != 64 || !hex_ok {
        return Err(HttpError::bad_request(
            "invalid_checksum",
            "checksum must be the sha256 of the zip as 64 hex characters (`sha256sum bundle.zip`)",
        ));
    }
    version_free(&s, &app, &req.version).await?;
    let new = NewBundle {
        app_id: app,
        version: req.version,
        size: req.size.unwrap_or(0),
        sha256: checksum.clone(),
        min_update_version: req.min_update_version,
        link: req.link,
        comment: req.comment,
        variants: vec![BundleVariantRow {
            key_id: None,
            blob_sha256: None,
            blob_size: req.size,
            external_url: Some(req.url),
            session_key: String::new(),
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
            format!("bundle {version} does not exist in {app}; see `landfall bundle list {app}`"),
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
    Ok(StatusCode::NO_CONTENT)
}
