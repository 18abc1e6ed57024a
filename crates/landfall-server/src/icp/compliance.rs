//! Per-app ICP settings and the compliance calendar: recurring checks, the public-security filing
//! deadline, expiries, completions with notes, measurements and evidence files.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use landfall_icp::api::{
    BundleEncryption, CompleteCheck, CompletionInfo, ComplianceView, EvidenceFile, IcpSettings,
    RegisteredKey, SecurityCheckFacts,
};
use landfall_icp::compliance::{compliance_calendar, CheckKind, Completion, Expiry, ExpiryKind};
use landfall_icp::filing::{china_date, EventKind, FilingState};
use landfall_icp::Localized;
use landfall_store::icp::{IcpCompletionRow, NewIcpCompletion};
use landfall_store::{now_ms, Role, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

use super::documents::{clean_file_name, TodayQuery};
use super::filing::{check_domain_list, FilingDoc};
use super::{
    authorize, bad, bilingual, enum_from, enum_name, read_body, sha256_hex, today_or,
    MAX_DOCUMENT_BYTES,
};
use crate::admin::auth::Caller;
use crate::admin::JsonBody;
use crate::error::{HttpError, HttpResult};
use crate::state::{AppState, Shared};

const SETTINGS_KEY: &str = "settings";

/// The app's ICP settings (defaults when never set).
pub(crate) async fn settings_of(s: &AppState, app: &str) -> HttpResult<IcpSettings> {
    match s.icp.store.get_setting(app, SETTINGS_KEY).await? {
        Some(row) => serde_json::from_value(row.value).map_err(HttpError::internal),
        None => Ok(IcpSettings::default()),
    }
}

/// ICP settings: drift policy, ignored third-party hosts, launch date, tracked certificates.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/settings", tag = "icp",
    responses((status = 200, description = "IcpSettings")))]
pub async fn get_settings(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<IcpSettings>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    Ok(Json(settings_of(&s, &app).await?))
}

/// Replace the ICP settings.
#[utoipa::path(put, path = "/api/v1/apps/{app}/icp/settings", tag = "icp",
    request_body(content = Object, description = "IcpSettings"),
    responses((status = 200, description = "IcpSettings")))]
pub async fn put_settings(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<IcpSettings>,
) -> HttpResult<Json<IcpSettings>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let mut req = body.parse()?;
    req.ignored_hosts = check_domain_list("ignored_hosts", &req.ignored_hosts)?;
    for (i, c) in req.certificates.iter().enumerate() {
        if c.subject.trim().is_empty() {
            return Err(bad(
                "invalid_settings",
                format!("certificates[{i}].subject is empty"),
                format!("certificates[{i}].subject 为空"),
            ));
        }
    }
    let value = serde_json::to_value(&req).map_err(HttpError::internal)?;
    s.icp
        .store
        .put_setting(&app, SETTINGS_KEY, &value, &caller.actor())
        .await?;
    Ok(Json(req))
}

fn check_of(path: &str) -> HttpResult<CheckKind> {
    enum_from(path).ok_or_else(|| {
        let all: Vec<String> = CheckKind::ALL.iter().map(enum_name).collect();
        bilingual(
            StatusCode::NOT_FOUND,
            "unknown_check",
            &Localized::new(
                format!(
                    "`{path}` is not a compliance check; use one of {}",
                    all.join(", ")
                ),
                format!("「{path}」不是合规检查项，可用：{}", all.join("、")),
            ),
        )
    })
}

pub(crate) fn completion_info(row: &IcpCompletionRow) -> Option<CompletionInfo> {
    Some(CompletionInfo {
        id: row.id,
        check: enum_from(&row.check)?,
        on: NaiveDate::parse_from_str(&row.done_on, "%Y-%m-%d").ok()?,
        notes: row.notes.clone(),
        measurements: row
            .data
            .get("measurements")
            .cloned()
            .filter(|v| !v.is_null()),
        evidence: row
            .data
            .get("evidence")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        created_at: row.created_at,
        created_by: row.created_by.clone(),
    })
}

/// The first approval date of the filing (any order), in China time.
fn approval_date(doc: &FilingDoc) -> Option<NaiveDate> {
    doc.archived
        .iter()
        .chain(std::iter::once(&doc.filing))
        .flat_map(|f| f.history.iter())
        .find(|h| h.event == EventKind::CaApprove && h.to == FilingState::Active)
        .map(|h| china_date(h.at))
}

/// Builds the compliance calendar of an app as of `today`.
pub(crate) async fn view_of(
    s: &AppState,
    app: &str,
    today: NaiveDate,
) -> HttpResult<ComplianceView> {
    let settings = settings_of(s, app).await?;
    let filing = super::filing::load(s, app).await?.map(|(_, d)| d);
    let (launch_date, assumed) = match (
        settings.launch_date,
        filing.as_ref().and_then(approval_date),
    ) {
        (Some(d), _) => (d, false),
        (None, Some(d)) => (d, false),
        (None, None) => (today, true),
    };
    let completions: Vec<CompletionInfo> = s
        .icp
        .store
        .list_completions(app)
        .await?
        .iter()
        .filter_map(completion_info)
        .collect();
    let mut done: Vec<Completion> = completions
        .iter()
        .map(|c| Completion {
            kind: c.check,
            on: c.on,
        })
        .collect();
    let mut expiries = Vec::new();
    if let Some(doc) = &filing {
        // A recorded public-security number means that filing is done.
        if doc.record.numbers.public_security.is_some()
            && !done
                .iter()
                .any(|c| c.kind == CheckKind::PublicSecurityFiling)
        {
            done.push(Completion {
                kind: CheckKind::PublicSecurityFiling,
                on: launch_date.min(today),
            });
        }
        for d in &doc.record.app.domains {
            if let Some(exp) = d.expires_on {
                expiries.push(Expiry {
                    kind: ExpiryKind::Domain,
                    subject: d.name.clone(),
                    expires_on: exp,
                });
            }
        }
        for (who, p) in [
            (
                "entity responsible person's ID",
                &doc.record.entity.responsible,
            ),
            ("app responsible person's ID", &doc.record.app.responsible),
        ] {
            if let Some(exp) = p.id_valid_until {
                expiries.push(Expiry {
                    kind: ExpiryKind::Document,
                    subject: format!("{who} ({})", p.name),
                    expires_on: exp,
                });
            }
        }
    }
    for d in super::documents::infos(s, app).await? {
        if let Some(exp) = d.expires_on {
            expiries.push(Expiry {
                kind: ExpiryKind::Document,
                subject: format!("{} #{} ({})", d.title.en, d.id, d.file_name),
                expires_on: exp,
            });
        }
    }
    for c in &settings.certificates {
        expiries.push(Expiry {
            kind: ExpiryKind::Certificate,
            subject: c.subject.clone(),
            expires_on: c.expires_on,
        });
    }
    Ok(ComplianceView {
        today,
        launch_date,
        launch_date_assumed: assumed,
        items: compliance_calendar(launch_date, today, &done, &expiries),
        completions,
    })
}

/// The compliance calendar: what is due, what is overdue, and the completions.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/compliance", tag = "icp",
    params(("today" = Option<String>, Query)),
    responses((status = 200, description = "ComplianceView")))]
pub async fn calendar(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<TodayQuery>,
) -> HttpResult<Json<ComplianceView>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let today = today_or(&s.icp, q.today.as_deref())?;
    Ok(Json(view_of(&s, &app, today).await?))
}

/// Facts for the quarterly security check: bundles served unencrypted, keys in use.
pub(crate) async fn security_facts(s: &AppState, app: &str) -> HttpResult<SecurityCheckFacts> {
    let bundles: Vec<_> = s
        .store
        .list_bundles(app)
        .await?
        .into_iter()
        .filter(|b| b.deleted_at.is_none())
        .collect();
    let mut key_ids = BTreeSet::new();
    let mut out = Vec::new();
    let mut unencrypted = Vec::new();
    for b in &bundles {
        let keys: Vec<String> = b.variants.iter().filter_map(|v| v.key_id.clone()).collect();
        let plain = b.variants.iter().any(|v| v.key_id.is_none());
        if plain {
            unencrypted.push(b.version.clone());
        }
        key_ids.extend(keys.iter().cloned());
        out.push(BundleEncryption {
            version: b.version.clone(),
            key_ids: keys,
            has_plain_variant: plain,
        });
    }
    let registered_keys = s
        .store
        .list_app_keys(app)
        .await?
        .into_iter()
        .map(|k| RegisteredKey {
            in_use: key_ids.contains(&k.key_id),
            key_id: k.key_id,
            created_at: k.created_at,
            created_by: k.created_by,
        })
        .collect();
    Ok(SecurityCheckFacts {
        bundles_total: bundles.len(),
        unencrypted,
        bundles: out,
        key_ids: key_ids.into_iter().collect(),
        registered_keys,
    })
}

async fn prefill_of(s: &AppState, app: &str, check: CheckKind) -> HttpResult<Option<Value>> {
    Ok(match check {
        CheckKind::ServerPerformance => {
            Some(serde_json::to_value(s.icp.metrics.snapshot()).map_err(HttpError::internal)?)
        }
        CheckKind::SecurityCheck => {
            Some(serde_json::to_value(security_facts(s, app).await?).map_err(HttpError::internal)?)
        }
        _ => None,
    })
}

/// Measurements the server can fill in for a check (`server_performance`, `security_check`).
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/compliance/{check}/prefill", tag = "icp",
    responses((status = 200, description = "{\"check\": …, \"measurements\": …}")))]
pub async fn prefill(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, check)): Path<(String, String)>,
) -> HttpResult<Json<Value>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let check = check_of(&check)?;
    Ok(Json(
        json!({ "check": check, "measurements": prefill_of(&s, &app, check).await? }),
    ))
}

/// Record a completed check (measurements pre-filled from the server when not given).
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/compliance/{check}/completions", tag = "icp",
    request_body(content = Object, description = "CompleteCheck"),
    responses((status = 201, description = "CompletionInfo"), (status = 400, description = "invalid_date")))]
pub async fn complete(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, check)): Path<(String, String)>,
    body: JsonBody<CompleteCheck>,
) -> HttpResult<(StatusCode, Json<CompletionInfo>)> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let req = body.parse()?;
    let check = check_of(&check)?;
    let today = s.icp.today();
    let on = req.on.unwrap_or(today);
    if on > today {
        return Err(bad(
            "invalid_date",
            format!("a check cannot be completed in the future ({on} is after today, {today})"),
            format!("不能记录未来完成的检查（{on} 晚于今天 {today}）"),
        ));
    }
    let measurements = match req.measurements {
        Some(m) => Some(m),
        None => prefill_of(&s, &app, check).await?,
    };
    let row = s
        .icp
        .store
        .insert_completion(
            NewIcpCompletion {
                app_id: app.clone(),
                check: enum_name(&check),
                done_on: on.to_string(),
                notes: req.notes.trim().to_owned(),
                data: json!({ "measurements": measurements, "evidence": [] }),
            },
            &caller.actor(),
        )
        .await?;
    let info = completion_info(&row).ok_or_else(|| HttpError::internal("unreadable completion"))?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// `?file_name=`.
#[derive(Debug, Default, Deserialize)]
pub struct EvidenceQuery {
    pub file_name: Option<String>,
}

/// Attach an evidence file (the request body, ≤ 20 MB) to a completion.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/compliance/completions/{id}/evidence", tag = "icp",
    params(("file_name" = String, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "CompletionInfo")))]
pub async fn evidence(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
    q: Result<Query<EvidenceQuery>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> HttpResult<(StatusCode, Json<CompletionInfo>)> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let Query(q) = q.map_err(|e| {
        bad(
            "invalid_query",
            format!("{}; `file_name` is required", e.body_text()),
            "查询参数有误：需要 file_name",
        )
    })?;
    let missing = || {
        bilingual(
            StatusCode::NOT_FOUND,
            "completion_not_found",
            &Localized::new(
                format!("completion {id} does not exist in {app}"),
                format!("{app} 中不存在检查记录 {id}"),
            ),
        )
    };
    let n: i64 = id.parse().map_err(|_| missing())?;
    let file_name = clean_file_name(q.file_name.as_deref().unwrap_or_default())?;
    let bytes = read_body(body, MAX_DOCUMENT_BYTES).await?;
    let _guard = s.icp.evidence_write.lock().await;
    let row = s
        .icp
        .store
        .list_completions(&app)
        .await?
        .into_iter()
        .find(|c| c.id == n)
        .ok_or_else(missing)?;
    let sha256 = sha256_hex(&bytes);
    s.icp
        .documents
        .put_bytes(&sha256, &bytes)
        .await
        .map_err(HttpError::blobs)?;
    let mut data = row.data.clone();
    let file = EvidenceFile {
        file_name,
        sha256,
        size: bytes.len() as u64,
        uploaded_at: now_ms(),
        uploaded_by: caller.actor(),
    };
    let entry = serde_json::to_value(&file).map_err(HttpError::internal)?;
    match data.get_mut("evidence").and_then(Value::as_array_mut) {
        Some(list) => list.push(entry),
        None => data["evidence"] = Value::Array(vec![entry]),
    }
    let row = s
        .icp
        .store
        .update_completion(&app, n, &data)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => missing(),
            other => other.into(),
        })?;
    let info = completion_info(&row).ok_or_else(|| HttpError::internal("unreadable completion"))?;
    Ok((StatusCode::CREATED, Json(info)))
}
