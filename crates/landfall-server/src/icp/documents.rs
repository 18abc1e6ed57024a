//! Compliance documents: upload (bytes checked, hashed and written before the row), checklist per
//! entity type, verification flags, download, and the readiness report.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use landfall_icp::api::{DocumentInfo, DocumentPatch, DocumentsView, UploadDocument};
use landfall_icp::documents::{
    evaluate_checklist, pdf_looks_complete, readiness as readiness_report, ChecklistContext,
};
use landfall_icp::{is_pdf, DocumentKind, DocumentRecord, DocumentStatus, ReadinessReport};
use landfall_store::icp::{IcpDocumentRow, NewIcpDocument};
use landfall_store::{now_ms, Role, StoreError};
use serde::{Deserialize, Serialize};

use super::{
    authorize, bad, bilingual, enum_from, enum_name, read_body, sha256_hex, today_or,
    MAX_DOCUMENT_BYTES,
};
use crate::admin::auth::Caller;
use crate::admin::JsonBody;
use crate::error::{HttpError, HttpResult};
use crate::state::{AppState, Shared};

/// Server-owned metadata of a document (JSON in `icp_documents.meta`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocMeta {
    pub status: DocumentStatus,
    pub is_pdf: bool,
    #[serde(default)]
    pub foreign_language: bool,
    #[serde(default)]
    pub has_chinese_translation: bool,
    #[serde(default)]
    pub red_seal_confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn meta_of(row: &IcpDocumentRow) -> DocMeta {
    serde_json::from_value(row.meta.clone()).unwrap_or_default()
}

fn kind_of(row: &IcpDocumentRow) -> DocumentKind {
    enum_from(&row.kind).unwrap_or(DocumentKind::ConstructionPlan)
}

/// API view of a stored document.
pub(crate) fn info(row: &IcpDocumentRow) -> DocumentInfo {
    let m = meta_of(row);
    let kind = kind_of(row);
    DocumentInfo {
        id: row.id,
        kind,
        title: kind.title(),
        status: m.status,
        file_name: row.file_name.clone(),
        sha256: row.sha256.clone(),
        size: row.size,
        content_type: row.content_type.clone(),
        is_pdf: m.is_pdf,
        foreign_language: m.foreign_language,
        has_chinese_translation: m.has_chinese_translation,
        red_seal_confirmed: m.red_seal_confirmed,
        expires_on: m.expires_on,
        uploaded_at: row.created_at,
        uploaded_by: row.created_by.clone(),
        verified_at: m.verified_at,
        verified_by: m.verified_by,
        note: m.note,
    }
}

/// The stored documents as the readiness check sees them.
pub(crate) async fn records(s: &AppState, app: &str) -> HttpResult<Vec<DocumentRecord>> {
    Ok(s.icp
        .store
        .list_documents(app, false)
        .await?
        .iter()
        .map(|row| {
            let m = meta_of(row);
            DocumentRecord {
                kind: kind_of(row),
                status: m.status,
                is_pdf: Some(m.is_pdf),
                foreign_language: m.foreign_language,
                has_chinese_translation: m.has_chinese_translation,
                red_seal_confirmed: m.red_seal_confirmed,
                expires_on: m.expires_on,
                file_name: Some(row.file_name.clone()),
            }
        })
        .collect())
}

/// Stored documents of an app (live ones), as API views.
pub(crate) async fn infos(s: &AppState, app: &str) -> HttpResult<Vec<DocumentInfo>> {
    Ok(s.icp
        .store
        .list_documents(app, false)
        .await?
        .iter()
        .map(info)
        .collect())
}

/// A file name reduced to its last path component, without control characters.
pub(crate) fn clean_file_name(name: &str) -> HttpResult<String> {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let base = base.trim().to_owned();
    if base.is_empty() || base == "." || base == ".." || base.chars().count() > 200 {
        return Err(bad(
            "invalid_file_name",
            format!(
                "`{}` is not a usable file name (1–200 characters, no path)",
                landfall_core::clip(name)
            ),
            format!(
                "「{}」不是可用的文件名（1–200 个字符，不含路径）",
                landfall_core::clip(name)
            ),
        ));
    }
    Ok(base)
}

/// What the bytes are: `application/pdf`, `image/jpeg`, `image/png` or `None`.
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if is_pdf(bytes) {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

fn not_found(app: &str, id: &str) -> HttpError {
    let id = landfall_core::clip(id);
    bilingual(
        StatusCode::NOT_FOUND,
        "document_not_found",
        &landfall_icp::Localized::new(
            format!(
                "document {id} does not exist in {app}; see `landfall icp documents list {app}`"
            ),
            format!("{app} 中不存在文档 {id}"),
        ),
    )
}

async fn find(s: &AppState, app: &str, id: &str) -> HttpResult<IcpDocumentRow> {
    let n: i64 = id.parse().map_err(|_| not_found(app, id))?;
    match s.icp.store.get_document(app, n).await {
        Ok(row) if row.deleted_at.is_none() => Ok(row),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(not_found(app, id)),
        Err(e) => Err(e.into()),
    }
}

/// The checklist for the recorded entity type, and the stored documents.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/documents", tag = "icp",
    params(("today" = Option<String>, Query)),
    responses((status = 200, description = "DocumentsView")))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<TodayQuery>,
) -> HttpResult<Json<DocumentsView>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let today = today_or(&s.icp, q.today.as_deref())?;
    let checklist = match super::filing::load(&s, &app).await? {
        Some((_, doc)) => evaluate_checklist(
            &ChecklistContext::from_record(&doc.record),
            &records(&s, &app).await?,
            today,
        ),
        None => vec![],
    };
    Ok(Json(DocumentsView {
        checklist,
        documents: infos(&s, &app).await?,
    }))
}

/// `?today=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize)]
pub struct TodayQuery {
    pub today: Option<String>,
}

/// Upload a document: the request body is the file (≤ 20 MB). PDF documents are checked by
/// content, not by name; the bytes are hashed and written before the document is recorded.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/documents", tag = "icp",
    params(("kind" = String, Query), ("file_name" = String, Query), ("foreign_language" = Option<bool>, Query),
           ("has_chinese_translation" = Option<bool>, Query), ("red_seal_confirmed" = Option<bool>, Query),
           ("expires_on" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses((status = 201, description = "DocumentInfo"), (status = 400, description = "document_not_pdf / document_incomplete"),
              (status = 413, description = "document_too_large")))]
pub async fn upload(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    params: Result<Query<UploadDocument>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> HttpResult<(StatusCode, Json<DocumentInfo>)> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let Query(p) = params.map_err(|e| {
        bad(
            "invalid_query",
            format!("{}; `kind` and `file_name` are required", e.body_text()),
            "查询参数有误：需要 kind 和 file_name（expires_on 为 YYYY-MM-DD）",
        )
    })?;
    let file_name = clean_file_name(&p.file_name)?;
    let bytes = read_body(body, MAX_DOCUMENT_BYTES).await?;
    let title = p.kind.title();
    let content_type = sniff(&bytes);
    let named_pdf = file_name.to_ascii_lowercase().ends_with(".pdf");
    if (p.kind.requires_pdf() || named_pdf) && content_type != Some("application/pdf") {
        return Err(bad(
            "document_not_pdf",
            format!("{} must be a PDF, and `{file_name}` is not one: its content lacks the %PDF- header, whatever the file name; export or scan it to PDF", title.en),
            format!("{} 必须是 PDF 文件，而「{file_name}」的内容缺少 %PDF- 文件头（与文件名无关），请导出或扫描为 PDF", title.zh),
        ));
    }
    let Some(content_type) = content_type else {
        return Err(bad(
            "document_unsupported",
            format!(
                "{}: `{file_name}` is neither a PDF nor a JPEG or PNG image",
                title.en
            ),
            format!(
                "{}：「{file_name}」既不是 PDF，也不是 JPEG 或 PNG 图片",
                title.zh
            ),
        ));
    };
    if content_type == "application/pdf" && !pdf_looks_complete(&bytes) {
        return Err(bad(
            "document_incomplete",
            format!("`{file_name}` has no PDF end marker (%%EOF): the file is truncated or damaged; upload it again"),
            format!("「{file_name}」缺少 PDF 结束标记（%%EOF），文件不完整或已损坏，请重新上传"),
        ));
    }
    let sha256 = sha256_hex(&bytes);
    // Bytes first (synced), then the row: a document is complete and hashed, or not there.
    s.icp
        .documents
        .put_bytes(&sha256, &bytes)
        .await
        .map_err(HttpError::blobs)?;
    let meta = DocMeta {
        status: DocumentStatus::Uploaded,
        is_pdf: content_type == "application/pdf",
        foreign_language: p.foreign_language,
        has_chinese_translation: p.has_chinese_translation,
        red_seal_confirmed: p.red_seal_confirmed,
        expires_on: p.expires_on,
        ..DocMeta::default()
    };
    let row = s
        .icp
        .store
        .insert_document(
            NewIcpDocument {
                app_id: app.clone(),
                kind: enum_name(&p.kind),
                file_name,
                sha256,
                size: bytes.len() as u64,
                content_type: content_type.to_owned(),
                meta: serde_json::to_value(&meta).map_err(HttpError::internal)?,
            },
            &caller.actor(),
        )
        .await?;
    tracing::info!(app = %app, id = row.id, kind = %row.kind, size = row.size, "ICP document stored");
    Ok((StatusCode::CREATED, Json(info(&row))))
}

/// One document.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/documents/{id}", tag = "icp",
    responses((status = 200, description = "DocumentInfo"), (status = 404, description = "document_not_found")))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
) -> HttpResult<Json<DocumentInfo>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    Ok(Json(info(&find(&s, &app, &id).await?)))
}

/// Verify a document or correct its flags (translation, red seal, expiry).
#[utoipa::path(patch, path = "/api/v1/apps/{app}/icp/documents/{id}", tag = "icp",
    request_body(content = Object, description = "DocumentPatch"),
    responses((status = 200, description = "DocumentInfo")))]
pub async fn patch(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
    body: JsonBody<DocumentPatch>,
) -> HttpResult<Json<DocumentInfo>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let p = body.parse()?;
    let row = find(&s, &app, &id).await?;
    let mut m = meta_of(&row);
    let set = |field: &mut bool, v: Option<bool>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut m.foreign_language, p.foreign_language);
    set(&mut m.has_chinese_translation, p.has_chinese_translation);
    set(&mut m.red_seal_confirmed, p.red_seal_confirmed);
    if p.expires_on.is_some() {
        m.expires_on = p.expires_on;
    }
    if let Some(n) = p.note {
        m.note = Some(n).filter(|n| !n.trim().is_empty());
    }
    match p.status {
        None => {}
        Some(DocumentStatus::Missing) => {
            return Err(bad(
                "invalid_status",
                "a stored document is `uploaded` or `verified`; delete it to remove it from the checklist",
                "已上传的文档状态只能是 uploaded 或 verified；如需移除请删除文档",
            ))
        }
        Some(DocumentStatus::Verified) => {
            m.status = DocumentStatus::Verified;
            m.verified_at = Some(now_ms());
            m.verified_by = Some(caller.actor());
        }
        Some(DocumentStatus::Uploaded) => {
            m.status = DocumentStatus::Uploaded;
            m.verified_at = None;
            m.verified_by = None;
        }
    }
    let n: i64 = row.id;
    let row = s
        .icp
        .store
        .update_document(
            &app,
            n,
            &serde_json::to_value(&m).map_err(HttpError::internal)?,
            &caller.actor(),
        )
        .await?;
    Ok(Json(info(&row)))
}

/// Remove a document from the checklist (its bytes and row are kept for the record).
#[utoipa::path(delete, path = "/api/v1/apps/{app}/icp/documents/{id}", tag = "icp",
    responses((status = 204)))]
pub async fn delete(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let row = find(&s, &app, &id).await?;
    s.icp
        .store
        .delete_document(&app, row.id, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Download the bytes of a document.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/documents/{id}/content", tag = "icp",
    responses((status = 200, description = "the file")))]
pub async fn content(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
) -> HttpResult<Response> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let row = find(&s, &app, &id).await?;
    let Some(blob) = s
        .icp
        .documents
        .open(&row.sha256, 0, None)
        .await
        .map_err(HttpError::internal)?
    else {
        return Err(HttpError::internal(format!(
            "document {} of {app} references missing blob {}",
            row.id, row.sha256
        )));
    };
    Ok((
        [
            (header::CONTENT_TYPE, row.content_type.clone()),
            (header::CONTENT_LENGTH, blob.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(&row.file_name),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(blob.body)),
    )
        .into_response())
}

/// Every blocker and warning before submission: documents (missing, not PDF, no translation, no
/// red seal, expired or expiring within 3 months) and the record (servers outside mainland China,
/// inconsistent details, naming rules …).
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/readiness", tag = "icp",
    params(("today" = Option<String>, Query)),
    responses((status = 200, description = "ReadinessReport"), (status = 404, description = "filing_not_found")))]
pub async fn readiness(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<TodayQuery>,
) -> HttpResult<Json<ReadinessReport>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let (_, doc) = super::filing::require(&s, &app).await?;
    let today = today_or(&s.icp, q.today.as_deref())?;
    Ok(Json(readiness_report(
        &doc.record,
        &records(&s, &app).await?,
        today,
        None,
    )))
}
