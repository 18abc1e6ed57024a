//! The filing record, its state machine with history, change filings, the timeline estimate, and
//! the number and IP checks.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, Days, Utc};
use landfall_core::clip;
use landfall_icp::api::{
    ChangeFiling, ChangeSection, FilingView, HostingProvider, HostingReport, IpCheck, IpCheckItem,
    IpCheckResult, Notice, NumberCheck, NumberCheckResult, RecordChangeInfo, RecordParams,
    TimelineView, TransitionExtras,
};
use landfall_icp::filing::{
    china_date, EventKind, Filing, FilingEvent, FilingRecord, FilingState, HistoryEntry, OrderKind,
    TimelineWindows, TransitionError,
};
use landfall_icp::ip::is_public;
use landfall_icp::numbers::{
    parse_any, AnyNumber, IcpFilingNumber, IcpLicenceNumber, NumberKind, ParseOptions, PsbNumber,
    ServiceKind, MPS_QUERY_URL_PREFIX,
};
use landfall_icp::{IpClass, IpTable, Localized};
use landfall_store::icp::{IcpFilingRow, NewRecordChange};
use landfall_store::{Role, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{authorize, bad, bilingual, calendar_error, china_today, parse_date, today_or};
use crate::admin::auth::Caller;
use crate::error::{HttpError, HttpResult};
use crate::state::{AppState, Shared};

/// What is stored per app (JSON in `icp_filings.data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingDoc {
    /// The details as currently recorded.
    pub record: FilingRecord,
    /// The state machine of the current order, with its history.
    pub filing: Filing,
    /// The details as last approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_record: Option<FilingRecord>,
    /// The open change filing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeFiling>,
    /// Earlier orders that ended (cancelled or abandoned), with their history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub archived: Vec<Filing>,
}

impl FilingDoc {
    /// The recorded details differ from the approved ones, or a change filing is open.
    pub fn update_required(&self) -> bool {
        match &self.filed_record {
            None => false,
            Some(filed) => {
                self.change.is_some()
                    || details_changed(filed, &self.record)
                        .iter()
                        .any(|s| *s != ChangeSection::Numbers)
            }
        }
    }
}

/// Which sections differ between two records.
pub fn details_changed(old: &FilingRecord, new: &FilingRecord) -> Vec<ChangeSection> {
    let mut out = Vec::new();
    if old.entity != new.entity
        || old.filing_province != new.filing_province
        || old.filed_by_agent != new.filed_by_agent
    {
        out.push(ChangeSection::Company);
    }
    if old.app != new.app {
        out.push(ChangeSection::App);
    }
    if old.access != new.access {
        out.push(ChangeSection::Technical);
    }
    if old.numbers != new.numbers {
        out.push(ChangeSection::Numbers);
    }
    out
}

fn all_sections() -> Vec<ChangeSection> {
    vec![
        ChangeSection::Company,
        ChangeSection::App,
        ChangeSection::Technical,
        ChangeSection::Numbers,
    ]
}

/// The stored filing of an app, if any.
pub(crate) async fn load(s: &AppState, app: &str) -> HttpResult<Option<(IcpFilingRow, FilingDoc)>> {
    match s.icp.store.get_filing(app).await? {
        None => Ok(None),
        Some(row) => {
            let doc: FilingDoc =
                serde_json::from_value(row.data.clone()).map_err(HttpError::internal)?;
            Ok(Some((row, doc)))
        }
    }
}

/// The stored filing, or 404 `filing_not_found`.
pub(crate) async fn require(s: &AppState, app: &str) -> HttpResult<(IcpFilingRow, FilingDoc)> {
    load(s, app).await?.ok_or_else(|| {
        bilingual(
            StatusCode::NOT_FOUND,
            "filing_not_found",
            &Localized::new(
                format!("no ICP filing is recorded for {app}; record it first (`landfall icp filing record {app} filing.json`)"),
                format!("{app} 尚未记录 ICP 备案信息，请先录入（`landfall icp filing record {app} filing.json`）"),
            ),
        )
    })
}

async fn save(
    s: &AppState,
    app: &str,
    doc: &FilingDoc,
    expected: Option<i64>,
    change: Option<&NewRecordChange>,
    actor: &str,
) -> HttpResult<IcpFilingRow> {
    let data = serde_json::to_value(doc).map_err(HttpError::internal)?;
    s.icp
        .store
        .put_filing(app, &data, expected, change, actor)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => HttpError::conflict("filing_changed", m),
            other => other.into(),
        })
}

/// API view of a stored filing.
pub(crate) fn view(
    app: &str,
    row: &IcpFilingRow,
    doc: &FilingDoc,
    notices: Vec<Notice>,
) -> FilingView {
    FilingView {
        app_id: app.to_owned(),
        state: doc.filing.state,
        state_label: doc.filing.state.label(),
        order: doc.filing.order,
        update_required: doc.update_required(),
        change: doc.change.clone(),
        record: doc.record.clone(),
        filed_record: doc.filed_record.clone(),
        filing: doc.filing.clone(),
        allowed_events: doc.filing.allowed_events(),
        revision: row.revision,
        updated_at: row.updated_at,
        updated_by: row.updated_by.clone(),
        notices,
    }
}

// ------------------------------------------------------------------------------------------------
// Parsing input with precise messages
// ------------------------------------------------------------------------------------------------

fn number_error(field: &str, e: &landfall_icp::NumberError) -> HttpError {
    let l = e.localized();
    bad(
        "invalid_number",
        format!("{field}: {}", l.en),
        format!("{field}：{}", l.zh),
    )
}

fn options(lenient: bool) -> ParseOptions {
    ParseOptions {
        lenient,
        current_year: Some(china_today().year()),
    }
}

/// Validates and normalises the numbers of a record in place (`numbers.filing`, `numbers.licence`,
/// `numbers.public_security`), returning warnings.
fn normalise_numbers(record: &mut Value, lenient: bool) -> HttpResult<Vec<Notice>> {
    let mut notices = Vec::new();
    let Some(numbers) = record.get_mut("numbers") else {
        return Ok(notices);
    };
    if numbers.is_null() {
        *numbers = Value::Object(Default::default());
        return Ok(notices);
    }
    let Some(map) = numbers.as_object_mut() else {
        return Err(bad(
            "invalid_record",
            "numbers must be an object {\"filing\": …, \"licence\": …, \"public_security\": …}",
            "numbers 必须是对象 {\"filing\": …, \"licence\": …, \"public_security\": …}",
        ));
    };
    let opts = options(lenient);
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let field = format!("numbers.{key}");
        let raw = match &map[&key] {
            Value::Null => {
                map.remove(&key);
                continue;
            }
            Value::String(t) if t.trim().is_empty() => {
                map.remove(&key);
                continue;
            }
            Value::String(t) => t.clone(),
            _ => {
                return Err(bad(
                    "invalid_number",
                    format!("{field} must be a string such as 京ICP备12345678号-1A"),
                    format!("{field} 必须是字符串，例如 京ICP备12345678号-1A"),
                ))
            }
        };
        let (canonical, warnings) =
            match key.as_str() {
                "filing" => IcpFilingNumber::parse_with(&raw, &opts)
                    .map(|p| (p.value.to_string(), p.warnings)),
                "licence" => IcpLicenceNumber::parse_with(&raw, &opts)
                    .map(|p| (p.value.to_string(), p.warnings)),
                "public_security" => {
                    PsbNumber::parse_with(&raw, &opts).map(|p| (p.value.to_string(), p.warnings))
                }
                _ => {
                    return Err(bad(
                        "invalid_record",
                        format!(
                            "{field} is not a number field; use filing, licence or public_security"
                        ),
                        format!("{field} 不是编号字段，应为 filing、licence 或 public_security"),
                    ))
                }
            }
            .map_err(|e| number_error(&field, &e))?;
        for w in warnings {
            let l = w.localized();
            notices.push(Notice::new(
                "number_warning",
                format!("{field}: {}", l.en),
                format!("{field}：{}", l.zh),
            ));
        }
        map.insert(key, Value::String(canonical));
    }
    Ok(notices)
}

/// Checks server IPs before deserialising, so a bad one is named with its position.
fn check_ips(record: &Value) -> HttpResult<()> {
    let Some(access) = record.get("access").and_then(Value::as_array) else {
        return Ok(());
    };
    for (i, a) in access.iter().enumerate() {
        let Some(ips) = a.get("ip_addresses").and_then(Value::as_array) else {
            continue;
        };
        for (j, ip) in ips.iter().enumerate() {
            let text = ip.as_str().unwrap_or_default();
            if text.trim().parse::<IpAddr>().is_err() {
                return Err(bad(
                    "invalid_ip",
                    format!("access[{i}].ip_addresses[{j}]: `{ip}` is not an IPv4 or IPv6 address"),
                    format!("access[{i}].ip_addresses[{j}]：「{ip}」不是 IPv4 或 IPv6 地址"),
                ));
            }
        }
    }
    Ok(())
}

/// Typed parse with the JSON path of the first problem.
pub(crate) fn from_value<T: serde::de::DeserializeOwned>(
    v: Value,
    code: &'static str,
    what: &str,
) -> HttpResult<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        bad(
            code,
            format!("{what}: {at}{inner}"),
            format!("{what}格式有误：{at}{inner}"),
        )
    })
}

/// Parses a JSON body (bytes) into a value with a clear message.
pub(crate) fn json_value(body: &[u8]) -> HttpResult<Value> {
    serde_json::from_slice(body).map_err(|e| {
        bad(
            "invalid_json",
            format!("the body is not valid JSON: {}", clip(&e.to_string())),
            format!("请求体不是有效的 JSON：{}", clip(&e.to_string())),
        )
    })
}

/// A filing record from JSON: numbers validated strictly (or leniently) and normalised, IPs
/// checked, every other field typed with its path in the message.
pub(crate) fn parse_record(mut v: Value, lenient: bool) -> HttpResult<(FilingRecord, Vec<Notice>)> {
    if !v.is_object() {
        return Err(bad(
            "invalid_record",
            "the filing record must be a JSON object with entity, app, access and numbers",
            "备案信息必须是包含 entity、app、access、numbers 的 JSON 对象",
        ));
    }
    let notices = normalise_numbers(&mut v, lenient)?;
    check_ips(&v)?;
    let record: FilingRecord = from_value(v, "invalid_record", "filing record")?;
    Ok((record, notices))
}

// ------------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------------

/// The filing of an app.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/filing", tag = "icp",
    responses((status = 200, description = "FilingView"), (status = 404, description = "filing_not_found")))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<FilingView>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let (row, doc) = require(&s, &app).await?;
    Ok(Json(view(&app, &row, &doc, vec![])))
}

/// Record (create or replace) the filing record. On an active filing, a change to company, app
/// or technical details opens a change filing.
#[utoipa::path(put, path = "/api/v1/apps/{app}/icp/filing", tag = "icp",
    params(("lenient" = Option<bool>, Query), ("reason" = Option<String>, Query),
           ("effective_on" = Option<String>, Query), ("already_filed" = Option<bool>, Query)),
    request_body(content = Object, description = "FilingRecord"),
    responses((status = 200, description = "FilingView"), (status = 201, description = "FilingView (created)"),
              (status = 400, description = "invalid_record / invalid_number / invalid_ip"),
              (status = 409, description = "filing_under_review / filing_changed")))]
pub async fn record(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    params: Result<Query<RecordParams>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> HttpResult<(StatusCode, Json<FilingView>)> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let Query(p) = params.map_err(|e| {
        bad(
            "invalid_query",
            e.body_text(),
            "查询参数有误（lenient、reason、effective_on=YYYY-MM-DD、already_filed）",
        )
    })?;
    let (record, mut notices) = parse_record(json_value(&body)?, p.lenient)?;
    let actor = caller.actor();
    let now = Utc::now();
    let today = china_date(now);
    let reason = p
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);

    let existing = load(&s, &app).await?;
    let (expected, mut doc, created) = match existing {
        Some((row, doc)) if !doc.filing.state.is_terminal() => (Some(row.revision), doc, false),
        Some((row, mut old)) => {
            // A cancelled or abandoned filing: start over, keeping the old order's history.
            let mut archived = std::mem::take(&mut old.archived);
            archived.push(old.filing);
            let doc = new_doc(record.clone(), &p, &actor, now)?;
            (Some(row.revision), FilingDoc { archived, ..doc }, true)
        }
        None => (None, new_doc(record.clone(), &p, &actor, now)?, true),
    };

    let sections;
    let mut opened_change = false;
    if created {
        sections = all_sections();
    } else {
        if p.already_filed {
            return Err(HttpError::conflict(
                "filing_exists",
                format!("{app} already has a filing in state `{}`; already_filed only records a filing that is not tracked yet / 已有备案记录，already_filed 仅用于录入尚未跟踪的已备案服务", doc.filing.state),
            ));
        }
        sections = details_changed(&doc.record, &record);
        let details: Vec<ChangeSection> = sections
            .iter()
            .copied()
            .filter(|s| *s != ChangeSection::Numbers)
            .collect();
        // The issued number belongs to the state machine: the record may not contradict it.
        if let (Some(issued), Some(recorded)) = (&doc.filing.number, &record.numbers.filing) {
            if issued != recorded {
                return Err(bad(
                    "filing_number_mismatch",
                    format!("the issued filing number is {issued}; a different number ({recorded}) is recorded only by approving a filing (`ca_approve` with the new number)"),
                    format!("已下发的备案号为 {issued}；新的备案号（{recorded}）只能通过审核通过（ca_approve）录入"),
                ));
            }
        }
        match doc.filing.state {
            FilingState::Active if !details.is_empty() => {
                doc.filing
                    .apply(FilingEvent::StartChange, &actor, now, reason.as_deref())
                    .map_err(|e| transition_error(&e))?;
                let file_by = p
                    .effective_on
                    .and_then(|d| d.checked_sub_days(Days::new(30)));
                notices.push(change_notice(p.effective_on, file_by, today));
                doc.change = Some(ChangeFiling {
                    sections: details.clone(),
                    opened_at: now,
                    opened_by: actor.clone(),
                    reason: reason.clone(),
                    effective_on: p.effective_on,
                    file_by,
                });
                opened_change = true;
            }
            FilingState::ProviderReview
            | FilingState::QueuedToCa
            | FilingState::SmsVerification
            | FilingState::CaReview
            | FilingState::CancelInProgress
                if !details.is_empty() =>
            {
                let st = doc.filing.state.label();
                return Err(bilingual(
                    StatusCode::CONFLICT,
                    "filing_under_review",
                    &Localized::new(
                        format!("the filing is in `{}`; its details cannot change now (withdraw it first if the order allows, or wait for the decision)", st.en),
                        format!("备案处于「{}」状态，现在不能修改备案信息（如允许请先撤回，或等待审核结果）", st.zh),
                    ),
                ));
            }
            FilingState::Draft if !details.is_empty() => {
                if let Some(c) = doc.change.as_mut() {
                    for d in &details {
                        if !c.sections.contains(d) {
                            c.sections.push(*d);
                        }
                    }
                    c.sections.sort();
                    if p.effective_on.is_some() {
                        c.effective_on = p.effective_on;
                        c.file_by = p
                            .effective_on
                            .and_then(|d| d.checked_sub_days(Days::new(30)));
                        notices.push(change_notice(c.effective_on, c.file_by, today));
                    }
                }
            }
            _ => {}
        }
        if sections.is_empty() {
            notices.push(Notice::new(
                "unchanged",
                "the record is the same as before; nothing changed",
                "备案信息与之前相同，未作修改",
            ));
        }
    }
    doc.record = record;
    if doc.filing.state == FilingState::Active && doc.change.is_none() {
        if let Some(n) = &doc.filing.number {
            doc.record.numbers.filing = Some(n.clone());
        }
    }
    if p.already_filed && created {
        doc.filed_record = Some(doc.record.clone());
    }
    let change = (!sections.is_empty()).then(|| NewRecordChange {
        reason: reason.clone(),
        sections: serde_json::to_value(&sections).unwrap_or_default(),
        record: serde_json::to_value(&doc.record).unwrap_or_default(),
        change_filing: opened_change,
    });
    let row = save(&s, &app, &doc, expected, change.as_ref(), &actor).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&app, &row, &doc, notices))))
}

fn change_notice(
    effective_on: Option<chrono::NaiveDate>,
    file_by: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Notice {
    match (effective_on, file_by) {
        (Some(eff), Some(by)) if today > by => Notice::new(
            "change_notice_late",
            format!("the change takes effect on {eff}, but changes must be filed 30 days in advance (by {by}); file the change filing now and expect questions from the administration"),
            format!("变更将于 {eff} 生效，但备案变更须提前三十日办理（应于 {by} 前）；请立即提交变更备案"),
        ),
        (Some(eff), Some(by)) => Notice::new(
            "change_filing_opened",
            format!("a change filing is open (3–7 working days); file it by {by}, 30 days before the change takes effect on {eff}"),
            format!("已发起变更备案（约 3–7 个工作日）；请于 {by} 前提交，即变更生效日 {eff} 前三十日"),
        ),
        _ => Notice::new(
            "change_filing_opened",
            "a change filing is open (3–7 working days); changes must be filed 30 days before they take effect. The filing shows \"update required\" until the change is approved",
            "已发起变更备案（约 3–7 个工作日）；备案变更须在变更生效前三十日办理。变更获批前备案显示为「需要更新」",
        ),
    }
}

fn new_doc(
    record: FilingRecord,
    p: &RecordParams,
    actor: &str,
    now: chrono::DateTime<Utc>,
) -> HttpResult<FilingDoc> {
    let mut filing = Filing::new(ServiceKind::App, now);
    if p.already_filed {
        let number = record.numbers.filing.clone().ok_or_else(|| {
            bad(
                "missing_number",
                "already_filed needs numbers.filing (the issued app number, e.g. 京ICP备12345678号-1A)",
                "already_filed 需要 numbers.filing（已下发的 APP 备案号，例如 京ICP备12345678号-1A）",
            )
        })?;
        if number.service().map(|s| s.kind) != Some(ServiceKind::App) {
            return Err(bad(
                "invalid_number",
                format!("numbers.filing: {number} is not an app service number (it must end in -NA, e.g. -1A)"),
                format!("numbers.filing：{number} 不是 APP 服务备案号（应以 -NA 结尾，例如 -1A）"),
            ));
        }
        filing.state = FilingState::Active;
        filing.number = Some(number.clone());
        filing.history.push(HistoryEntry {
            at: now,
            actor: actor.to_owned(),
            event: EventKind::CaApprove,
            from: FilingState::Draft,
            to: FilingState::Active,
            order: OrderKind::Initial,
            note: Some("recorded as already filed / 录入已有备案".into()),
            reasons: vec![],
            sms_failure: None,
            number: Some(number),
        });
    }
    Ok(FilingDoc {
        record,
        filing,
        filed_record: None,
        change: None,
        archived: vec![],
    })
}

/// A refused transition: illegal ones are 409, incomplete ones 400.
pub(crate) fn transition_error(e: &TransitionError) -> HttpError {
    let (status, code) = match e {
        TransitionError::Illegal { .. } => (StatusCode::CONFLICT, "illegal_transition"),
        TransitionError::TimeWentBackwards { .. } => (StatusCode::CONFLICT, "clock_skew"),
        _ => (StatusCode::BAD_REQUEST, "invalid_transition"),
    };
    bilingual(status, code, &e.localized())
}

/// Move the filing: `{"event": "submit" | "withdraw" | "provider_approve" | "provider_reject" |
/// "submit_to_ca" | "sms_resent" | "sms_verified" | "sms_failed" | "ca_approve" | "ca_reject" |
/// "start_change" | "abandon" | "request_cancel" | "cancel_approved" | "cancel_withdrawn", …}`.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/filing/transitions", tag = "icp",
    request_body(content = Object, description = "FilingEvent + {note, force}"),
    responses((status = 200, description = "FilingView"), (status = 400, description = "invalid_event / invalid_transition / invalid_number"),
              (status = 409, description = "illegal_transition / filing_not_ready")))]
pub async fn transition(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: Bytes,
) -> HttpResult<Json<FilingView>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let mut v = json_value(&body)?;
    let Some(map) = v.as_object_mut() else {
        return Err(bad(
            "invalid_event",
            "the body must be an object such as {\"event\": \"submit\"}",
            "请求体必须是对象，例如 {\"event\": \"submit\"}",
        ));
    };
    let extras = TransitionExtras {
        note: map
            .remove("note")
            .and_then(|n| n.as_str().map(String::from)),
        force: map
            .remove("force")
            .and_then(|f| f.as_bool())
            .unwrap_or(false),
    };
    if map.get("event").and_then(Value::as_str) == Some("ca_approve") {
        if let Some(Value::String(raw)) = map.get("number") {
            let n = IcpFilingNumber::parse_with(raw, &options(false))
                .map_err(|e| number_error("number", &e))?;
            map.insert("number".into(), Value::String(n.value.to_string()));
        }
    }
    let event: FilingEvent = from_value(v, "invalid_event", "transition")?;
    let (row, mut doc) = require(&s, &app).await?;
    let actor = caller.actor();
    let now = Utc::now();
    let mut notices = Vec::new();

    if event.kind() == EventKind::Submit && doc.filing.state == FilingState::Draft && !extras.force
    {
        let docs = super::documents::records(&s, &app).await?;
        let report = landfall_icp::documents::readiness(&doc.record, &docs, china_date(now), None);
        if !report.ready {
            const SHOWN: usize = 5;
            let n = report.blockers.len();
            let more = n.saturating_sub(SHOWN);
            let list: Vec<String> = report
                .blockers
                .iter()
                .take(SHOWN)
                .map(|b| format!("{} ({})", b.message.en, b.code))
                .collect();
            let list_zh: Vec<String> = report
                .blockers
                .iter()
                .take(SHOWN)
                .map(|b| b.message.zh.clone())
                .collect();
            let (more_en, more_zh) = if more > 0 {
                (format!("; and {more} more"), format!("；另有 {more} 项"))
            } else {
                (String::new(), String::new())
            };
            return Err(bilingual(
                StatusCode::CONFLICT,
                "filing_not_ready",
                &Localized::new(
                    format!("{n} blocker(s) would get the filing rejected: {}{more_en}. Fix them (see `landfall icp readiness`) or submit with force", list.join("; ")),
                    format!("有 {n} 项会导致驳回的问题：{}{more_zh}。请先处理（见 `landfall icp readiness`），或强制提交", list_zh.join("；")),
                ),
            ));
        }
    }

    let kind = event.kind();
    let order_before = doc.filing.order;
    doc.filing
        .apply(event, &actor, now, extras.note.as_deref())
        .map_err(|e| transition_error(&e))?;
    match (kind, doc.filing.state) {
        (EventKind::CaApprove, FilingState::Active) => {
            if let Some(n) = &doc.filing.number {
                doc.record.numbers.filing = Some(n.clone());
            }
            doc.filed_record = Some(doc.record.clone());
            doc.change = None;
        }
        (EventKind::Abandon, FilingState::Active) if order_before == OrderKind::Change => {
            doc.change = None;
            if doc.update_required() {
                notices.push(Notice::new(
                    "update_required",
                    "the change filing was abandoned, but the recorded details still differ from the approved ones: file a change or record the approved details again",
                    "已放弃变更备案，但当前记录与已备案信息仍不一致：请提交变更备案或恢复为已备案信息",
                ));
            }
        }
        (EventKind::StartChange, FilingState::Draft) => {
            let sections = doc
                .filed_record
                .as_ref()
                .map(|f| details_changed(f, &doc.record))
                .unwrap_or_default()
                .into_iter()
                .filter(|s| *s != ChangeSection::Numbers)
                .collect();
            doc.change = Some(ChangeFiling {
                sections,
                opened_at: now,
                opened_by: actor.clone(),
                reason: extras.note.clone(),
                effective_on: None,
                file_by: None,
            });
        }
        _ => {}
    }
    let row = save(&s, &app, &doc, Some(row.revision), None, &actor).await?;
    Ok(Json(view(&app, &row, &doc, notices)))
}

/// Every recorded change of the details, oldest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/filing/changes", tag = "icp",
    responses((status = 200, description = "Vec<RecordChangeInfo>")))]
pub async fn changes(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<Vec<RecordChangeInfo>>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    Ok(Json(record_changes(&s, &app).await?))
}

pub(crate) async fn record_changes(s: &AppState, app: &str) -> HttpResult<Vec<RecordChangeInfo>> {
    Ok(s.icp
        .store
        .list_record_changes(app)
        .await?
        .into_iter()
        .map(|c| RecordChangeInfo {
            id: c.id,
            at: c.at,
            actor: c.actor,
            reason: c.reason,
            sections: serde_json::from_value(c.sections).unwrap_or_default(),
            change_filing: c.change_filing,
        })
        .collect())
}

/// Query of the timeline.
#[derive(Debug, Default, Deserialize)]
pub struct TimelineQuery {
    /// For a draft: the planned submission date (default today).
    pub since: Option<String>,
    pub today: Option<String>,
}

/// The remaining stages of the filing in Chinese working days.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/timeline", tag = "icp",
    params(("since" = Option<String>, Query), ("today" = Option<String>, Query)),
    responses((status = 200, description = "TimelineView"), (status = 422, description = "year_not_loaded")))]
pub async fn timeline(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> HttpResult<Json<TimelineView>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let (_, doc) = require(&s, &app).await?;
    let today = today_or(&s.icp, q.today.as_deref())?;
    Ok(Json(
        timeline_of(&s, &app, &doc, today, q.since.as_deref()).await?,
    ))
}

pub(crate) async fn timeline_of(
    s: &AppState,
    app: &str,
    doc: &FilingDoc,
    today: chrono::NaiveDate,
    since: Option<&str>,
) -> HttpResult<TimelineView> {
    let docs = super::documents::records(s, app).await?;
    let report = landfall_icp::documents::readiness(&doc.record, &docs, today, None);
    let since = match since {
        Some(d) if !d.trim().is_empty() => parse_date("since", d)?,
        _ if doc.filing.state == FilingState::Draft => today,
        _ => china_date(doc.filing.state_since),
    };
    let documents_missing = report.documents_missing && doc.filing.order == OrderKind::Initial;
    let timeline = landfall_icp::filing::estimate(
        &s.icp.calendar(),
        doc.filing.state,
        doc.filing.order,
        since,
        documents_missing,
        &TimelineWindows::default(),
    )
    .map_err(|e| calendar_error(&e))?;
    Ok(TimelineView {
        timeline,
        documents_missing,
        change: doc.change.clone(),
    })
}

fn classify(table: &IpTable, ip: IpAddr) -> IpCheckItem {
    let public = is_public(ip);
    let class = table.classify(ip);
    let message = match (class, public) {
        (_, false) => Localized::new(
            format!("{ip} is not a public address (private, loopback, link-local or reserved); a filed server needs its public IP"),
            format!("{ip} 不是公网地址（内网、回环、链路本地或保留地址），备案须填写服务器公网 IP"),
        ),
        (IpClass::Mainland, _) => Localized::new(
            format!("{ip} is in mainland China"),
            format!("{ip} 位于中国内地"),
        ),
        (IpClass::NotMainland, _) => Localized::new(
            format!("{ip} is outside mainland China (Hong Kong, Macau, Taiwan and overseas servers cannot be filed)"),
            format!("{ip} 不在中国内地（港澳台及境外服务器不能备案）"),
        ),
        (IpClass::Unknown, _) => Localized::new(
            format!("the location of {ip} cannot be determined from the IP data; confirm with the access provider"),
            format!("无法根据 IP 数据判断 {ip} 的位置，请向接入商确认"),
        ),
    };
    IpCheckItem {
        ip: ip.to_string(),
        class,
        public,
        message,
    }
}

/// Classify addresses against the mainland-China table.
#[utoipa::path(post, path = "/api/v1/icp/ip-check", tag = "icp",
    request_body(content = Object, description = "{\"ips\": [\"223.5.5.5\", \"240e::1\"]}"),
    responses((status = 200, description = "IpCheckResult"), (status = 400, description = "invalid_ip")))]
pub async fn ip_check(
    _caller: Caller,
    body: super::super::admin::JsonBody<IpCheck>,
) -> HttpResult<Json<IpCheckResult>> {
    let req = body.parse()?;
    if req.ips.is_empty() {
        return Err(bad(
            "invalid_ip",
            "give at least one IP address",
            "请至少提供一个 IP 地址",
        ));
    }
    if req.ips.len() > 1000 {
        return Err(bad(
            "invalid_ip",
            "at most 1000 addresses per check",
            "每次最多检查 1000 个地址",
        ));
    }
    let table = IpTable::builtin();
    let mut results = Vec::new();
    for text in &req.ips {
        let ip: IpAddr = text.trim().parse().map_err(|_| {
            bad(
                "invalid_ip",
                format!("`{text}` is not an IPv4 or IPv6 address"),
                format!("「{text}」不是 IPv4 或 IPv6 地址"),
            )
        })?;
        results.push(classify(table, ip));
    }
    let all_mainland = results.iter().all(|r| r.class == IpClass::Mainland);
    Ok(Json(IpCheckResult {
        results,
        all_mainland,
    }))
}

pub(crate) fn hosting_of(record: &FilingRecord) -> HostingReport {
    let table = IpTable::builtin();
    let providers: Vec<HostingProvider> = record
        .access
        .iter()
        .map(|a| HostingProvider {
            name: a.name.clone(),
            server_province: a.server_province,
            server_location: a.server_location.clone(),
            ips: a
                .ip_addresses
                .iter()
                .map(|ip| classify(table, *ip))
                .collect(),
        })
        .collect();
    let all_mainland = !providers.is_empty()
        && providers
            .iter()
            .all(|p| !p.ips.is_empty() && p.ips.iter().all(|i| i.class == IpClass::Mainland));
    HostingReport {
        providers,
        all_mainland,
    }
}

/// The recorded server IPs, classified.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/hosting", tag = "icp",
    responses((status = 200, description = "HostingReport")))]
pub async fn hosting(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<HostingReport>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let (_, doc) = require(&s, &app).await?;
    Ok(Json(hosting_of(&doc.record)))
}

/// Validate and normalise one number.
#[utoipa::path(post, path = "/api/v1/icp/numbers/check", tag = "icp",
    request_body(content = Object, description = "{\"number\": \"京ICP备12345678号-1A\", \"kind\": \"filing\", \"lenient\": false}"),
    responses((status = 200, description = "NumberCheckResult"), (status = 400, description = "invalid_number")))]
pub async fn check_number(
    _caller: Caller,
    body: super::super::admin::JsonBody<NumberCheck>,
) -> HttpResult<Json<NumberCheckResult>> {
    let req = body.parse()?;
    let opts = options(req.lenient);
    let any = match req.kind {
        None => parse_any(&req.number, &opts),
        Some(NumberKind::Filing) => {
            IcpFilingNumber::parse_with(&req.number, &opts).map(|p| landfall_icp::numbers::Parsed {
                value: AnyNumber::Filing(p.value),
                normalized: p.normalized,
                warnings: p.warnings,
            })
        }
        Some(NumberKind::Licence) => IcpLicenceNumber::parse_with(&req.number, &opts).map(|p| {
            landfall_icp::numbers::Parsed {
                value: AnyNumber::Licence(p.value),
                normalized: p.normalized,
                warnings: p.warnings,
            }
        }),
        Some(NumberKind::PublicSecurity) => {
            PsbNumber::parse_with(&req.number, &opts).map(|p| landfall_icp::numbers::Parsed {
                value: AnyNumber::PublicSecurity(p.value),
                normalized: p.normalized,
                warnings: p.warnings,
            })
        }
    }
    .map_err(|e| number_error("number", &e))?;
    let (kind, canonical, province, verify_url) = match &any.value {
        AnyNumber::Filing(n) => (
            NumberKind::Filing,
            n.to_string(),
            Some(n.province()),
            landfall_icp::display::MIIT_URL.to_string(),
        ),
        AnyNumber::Licence(n) => (
            NumberKind::Licence,
            n.to_string(),
            n.province(),
            landfall_icp::display::MIIT_URL.to_string(),
        ),
        AnyNumber::PublicSecurity(n) => (
            NumberKind::PublicSecurity,
            n.to_string(),
            Some(n.province()),
            format!("{MPS_QUERY_URL_PREFIX}{}", n.code()),
        ),
    };
    Ok(Json(NumberCheckResult {
        kind,
        normalized: any.normalized,
        canonical,
        province,
        verify_url,
        warnings: any.warnings.iter().map(|w| w.localized()).collect(),
    }))
}

/// Validates and normalises a list of domains (`field[i]` named in the message).
pub(crate) fn check_domain_list(field: &str, list: &[String]) -> HttpResult<Vec<String>> {
    let mut out = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let norm = landfall_icp::filing::record::check_domain(d).map_err(|m| {
            bad(
                "invalid_domain",
                format!("{field}[{i}]: {}", m.en),
                format!("{field}[{i}]：{}", m.zh),
            )
        })?;
        if !out.contains(&norm) {
            out.push(norm);
        }
    }
    Ok(out)
}
