//! Records and reporting: the export of every content change (CSV/JSON, date range), the full
//! compliance report (JSON and printable HTML), and the backup archive of every compliance
//! document and record (zip with a JSON manifest).

use std::fmt::Write as _;
use std::io::Write as _;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, TimeZone, Utc};
use landfall_icp::api::{
    BackupCounts, ComplianceReport, ContentChange, ContentChanges, DocumentInfo,
};
use landfall_icp::display::{display_info, escape_html};
use landfall_icp::numbers::ServiceKind;
use landfall_icp::{Finding, Localized};
use landfall_store::Role;
use serde::Deserialize;
use serde_json::json;

use super::public::wants_html;
use super::{authorize, bad, parse_date, sha256_hex, today_or};
use crate::admin::auth::Caller;
use crate::error::{HttpError, HttpResult};
use crate::state::{AppState, Shared};

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Epoch ms of 00:00 China time on `d`.
fn china_midnight_ms(d: NaiveDate) -> i64 {
    china()
        .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

fn china_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&china()).to_rfc3339())
        .unwrap_or_default()
}

/// Content changes (uploads, channel moves, rollbacks, overrides, kill switches) of an app from
/// `from` to `to` inclusive, China dates.
pub(crate) async fn content_changes(
    s: &AppState,
    app: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> HttpResult<Vec<ContentChange>> {
    let end = to.checked_add_days(Days::new(1)).unwrap_or(to);
    Ok(s.store
        .list_audit(app, china_midnight_ms(from), china_midnight_ms(end))
        .await?
        .into_iter()
        .map(|e| ContentChange {
            id: e.id,
            at: e.at,
            at_china: china_time(e.at),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect())
}

/// `?from=&to=&format=`.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

/// One CSV cell (RFC 4180 quoting; formula-looking text is prefixed with `'`).
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The changes as CSV (UTF-8 with BOM, so spreadsheet programs show Chinese text correctly).
pub fn to_csv(changes: &[ContentChange]) -> String {
    let mut out = String::from("\u{feff}id,at_ms,at_china,actor,action,detail\r\n");
    for c in changes {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}\r",
            c.id,
            c.at,
            csv_cell(&c.at_china),
            csv_cell(&c.actor),
            csv_cell(&c.action),
            csv_cell(&c.detail.to_string())
        );
    }
    out
}

/// Export every content change in a date range (`from`/`to` China dates, default: the last 30
/// days) as JSON or CSV.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/export", tag = "icp",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query), ("format" = Option<String>, Query)),
    responses((status = 200, description = "ContentChanges (JSON) or text/csv"), (status = 400, description = "invalid_date / invalid_range")))]
pub async fn export(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let today = s.icp.today();
    let to = match q.to.as_deref() {
        Some(t) if !t.trim().is_empty() => parse_date("to", t)?,
        _ => today,
    };
    let from = match q.from.as_deref() {
        Some(f) if !f.trim().is_empty() => parse_date("from", f)?,
        _ => to.checked_sub_days(Days::new(30)).unwrap_or(to),
    };
    if from > to {
        return Err(bad(
            "invalid_range",
            format!("from ({from}) is after to ({to})"),
            format!("开始日期（{from}）晚于结束日期（{to}）"),
        ));
    }
    let csv = match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some("csv") => true,
        Some("json") => false,
        Some(other) => {
            return Err(bad(
                "invalid_format",
                format!("format `{other}` is not supported; use csv or json"),
                format!("不支持的格式「{other}」，请使用 csv 或 json"),
            ))
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv")),
    };
    let changes = content_changes(&s, &app, from, to).await?;
    if csv {
        let name = format!("{app}-content-changes-{from}-{to}.csv");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    super::documents::content_disposition(&name),
                ),
            ],
            to_csv(&changes),
        )
            .into_response())
    } else {
        Ok(Json(ContentChanges {
            app_id: app,
            from,
            to,
            changes,
        })
        .into_response())
    }
}

// ------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------

/// Builds the full compliance report of an app.
pub(crate) async fn build_report(
    s: &AppState,
    app: &str,
    today: NaiveDate,
) -> HttpResult<ComplianceReport> {
    let app_row = s.store.get_app(app).await?;
    let loaded = super::filing::load(s, app).await?;
    let mut report = ComplianceReport {
        app_id: app.to_owned(),
        app_name: app_row.name,
        generated_at: Utc::now(),
        today,
        filing: None,
        timeline: None,
        timeline_error: None,
        display: None,
        readiness: None,
        hosting: None,
        documents: super::documents::infos(s, app).await?,
        compliance: super::compliance::view_of(s, app, today).await?,
        record_changes: super::filing::record_changes(s, app).await?,
        content_changes: content_changes(
            s,
            app,
            today.checked_sub_days(Days::new(90)).unwrap_or(today),
            today,
        )
        .await?,
        incidents: super::incidents::incidents_of(s, app).await?,
        emergency: super::incidents::emergency_of(s, app).await?,
        settings: super::compliance::settings_of(s, app).await?,
    };
    if let Some((row, doc)) = loaded {
        match super::filing::timeline_of(s, app, &doc, today, None).await {
            Ok(t) => report.timeline = Some(t),
            Err(e) => report.timeline_error = Some(Localized::new(e.message.clone(), e.message)),
        }
        report.display = Some(display_info(
            &doc.record.numbers,
            ServiceKind::App,
            Some(&doc.record.entity.name),
        ));
        report.readiness = Some(landfall_icp::documents::readiness(
            &doc.record,
            &super::documents::records(s, app).await?,
            today,
            None,
        ));
        report.hosting = Some(super::filing::hosting_of(&doc.record));
        report.filing = Some(super::filing::view(app, &row, &doc, vec![]));
    }
    Ok(report)
}

/// `?format=&today=`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub format: Option<String>,
    pub today: Option<String>,
}

/// The full compliance report: filing state and timeline, numbers, readiness, hosting, documents,
/// compliance calendar, changes, incidents (JSON, or printable HTML with `?format=html`).
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/report", tag = "icp",
    params(("format" = Option<String>, Query), ("today" = Option<String>, Query)),
    responses((status = 200, description = "ComplianceReport (JSON) or text/html")))]
pub async fn report(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    authorize(&s, &caller, &app, Role::Read).await?;
    let html = wants_html(q.format.as_deref(), &headers)?;
    let today = today_or(&s.icp, q.today.as_deref())?;
    let r = build_report(&s, &app, today).await?;
    if html {
        Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            report_html(&r),
        )
            .into_response())
    } else {
        Ok(Json(r).into_response())
    }
}

fn e(s: &str) -> String {
    escape_html(s)
}

fn l(x: &Localized) -> String {
    format!("{}<br><span class=\"en\">{}</span>", e(&x.zh), e(&x.en))
}

fn ms(at: i64) -> String {
    china_time(at).replace('T', " ")
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>, empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">{}</p>", e(empty));
        return;
    }
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn findings(out: &mut String, list: &[Finding], empty: &str) {
    table(
        out,
        &["代码 Code", "字段 Field", "说明 Message"],
        list.iter()
            .map(|f| {
                vec![
                    format!("<code>{}</code>", e(&f.code)),
                    e(f.field.as_deref().unwrap_or("")),
                    l(&f.message),
                ]
            })
            .collect(),
        empty,
    );
}

fn enum_text<T: serde::Serialize>(v: &T) -> String {
    e(&super::enum_name(v))
}

/// The printable HTML of a report (every value escaped).
pub fn report_html(r: &ComplianceReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<title>ICP 合规报告 / ICP compliance report — {app}</title>\n<style>\
body{{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;margin:2em;color:#111;font-size:12px}}\
h1{{font-size:20px}}h2{{font-size:15px;border-bottom:1px solid #888;margin-top:1.6em;page-break-after:avoid}}\
table{{border-collapse:collapse;width:100%;margin:.5em 0}}th,td{{border:1px solid #bbb;padding:3px 5px;text-align:left;vertical-align:top}}\
th{{background:#eee}}.en{{color:#555}}.bad{{color:#b00;font-weight:bold}}.ok{{color:#070}}.empty{{color:#777}}\
tr{{page-break-inside:avoid}}@media print{{body{{margin:0}}}}\
</style></head><body>\n<h1>ICP 合规报告 / ICP compliance report</h1>\n\
<p><b>{name}</b> (<code>{app}</code>)<br>生成时间 Generated: {gen} · 报告日期 As of: {today}</p>",
        app = e(&r.app_id),
        name = e(&r.app_name),
        gen = e(&r.generated_at.with_timezone(&china()).to_rfc3339()),
        today = r.today,
    );

    o.push_str("<h2>备案状态 / Filing state</h2>\n");
    match &r.filing {
        None => o.push_str("<p class=\"bad\">尚未记录备案信息 / No filing recorded.</p>\n"),
        Some(f) => {
            let _ = writeln!(
                o,
                "<p>状态 State: <b>{}</b> · 类型 Order: {}{}</p>",
                l(&f.state_label),
                enum_text(&f.order),
                if f.update_required {
                    " · <span class=\"bad\">需要更新（变更备案未获批） / update required (change filing not approved)</span>"
                } else {
                    ""
                }
            );
            let _ = writeln!(
                o,
                "<p>主办单位 Entity: {} · APP: {}</p>",
                e(&f.record.entity.name),
                e(&f.record.app.name)
            );
            if let Some(c) = &f.change {
                let sections: Vec<String> = c.sections.iter().map(enum_text).collect();
                let _ = writeln!(
                    o,
                    "<p>变更备案 Change filing: {} · 发起 opened {} by {}{}</p>",
                    sections.join(", "),
                    e(&c.opened_at.with_timezone(&china()).to_rfc3339()),
                    e(&c.opened_by),
                    c.file_by
                        .map(|d| format!(" · 最迟提交 file by {d}"))
                        .unwrap_or_default()
                );
            }
            o.push_str("<h3>历史 / History</h3>\n");
            table(
                &mut o,
                &[
                    "时间 When",
                    "操作人 Who",
                    "事件 Event",
                    "状态 From → To",
                    "说明 Why",
                ],
                f.filing
                    .history
                    .iter()
                    .map(|h| {
                        vec![
                            e(&h.at.with_timezone(&china()).to_rfc3339()),
                            e(&h.actor),
                            l(&h.event.label()),
                            format!("{} → {}", e(&h.from.label().zh), e(&h.to.label().zh)),
                            {
                                let mut why = e(h.note.as_deref().unwrap_or(""));
                                for reason in &h.reasons {
                                    let _ = write!(
                                        why,
                                        "<br>{}: {}",
                                        e(&reason.field),
                                        e(&reason.error)
                                    );
                                }
                                if let Some(n) = &h.number {
                                    let _ = write!(why, "<br>{}", e(&n.to_string()));
                                }
                                why
                            },
                        ]
                    })
                    .collect(),
                "无 / none",
            );
        }
    }

    o.push_str("<h2>编号与公示 / Numbers and public display</h2>\n");
    match &r.display {
        Some(d) if !d.lines.is_empty() => {
            table(
                &mut o,
                &["项目 Item", "编号 Number", "核验 Verify"],
                d.lines
                    .iter()
                    .map(|line| {
                        vec![
                            l(&line.label),
                            e(&line.value),
                            line.url.as_deref().map(e).unwrap_or_default(),
                        ]
                    })
                    .collect(),
                "",
            );
        }
        _ => o.push_str("<p class=\"empty\">尚无编号 / No numbers yet.</p>\n"),
    }

    o.push_str("<h2>时间预估 / Timeline (working days)</h2>\n");
    if let Some(t) = &r.timeline {
        table(
            &mut o,
            &[
                "阶段 Stage",
                "工作日 Working days",
                "最早完成 Earliest",
                "最晚完成 Latest",
            ],
            t.timeline
                .stages
                .iter()
                .map(|st| {
                    vec![
                        l(&st.label),
                        format!("{}–{}", st.window.min, st.window.max),
                        st.earliest_end.to_string(),
                        st.latest_end.to_string(),
                    ]
                })
                .collect(),
            "无待办阶段 / nothing pending",
        );
    } else if let Some(err) = &r.timeline_error {
        let _ = writeln!(o, "<p class=\"bad\">{}</p>", e(&err.en));
    }

    o.push_str("<h2>提交前检查 / Readiness</h2>\n");
    if let Some(rd) = &r.readiness {
        let _ = writeln!(
            o,
            "<p>{}</p>",
            if rd.ready {
                "<span class=\"ok\">无阻断问题 / no blockers</span>".to_owned()
            } else {
                format!(
                    "<span class=\"bad\">{} 项阻断问题 / {} blocker(s)</span>",
                    rd.blockers.len(),
                    rd.blockers.len()
                )
            }
        );
        findings(&mut o, &rd.blockers, "无阻断问题 / no blockers");
        o.push_str("<h3>提醒 / Warnings</h3>\n");
        findings(&mut o, &rd.warnings, "无 / none");
    }

    o.push_str("<h2>服务器位置 / Hosting</h2>\n");
    if let Some(h) = &r.hosting {
        let rows = h
            .providers
            .iter()
            .flat_map(|p| {
                p.ips.iter().map(move |ip| {
                    vec![e(&p.name), e(&ip.ip), enum_text(&ip.class), l(&ip.message)]
                })
            })
            .collect();
        table(
            &mut o,
            &["接入商 Provider", "IP", "判断 Class", "说明 Note"],
            rows,
            "未记录服务器 / no servers recorded",
        );
    }

    o.push_str("<h2>备案材料 / Documents</h2>\n");
    table(
        &mut o,
        &[
            "#",
            "材料 Document",
            "文件 File",
            "状态 Status",
            "PDF",
            "到期 Expires",
            "sha256",
        ],
        r.documents
            .iter()
            .map(|d: &DocumentInfo| {
                vec![
                    d.id.to_string(),
                    l(&d.title),
                    e(&d.file_name),
                    enum_text(&d.status),
                    if d.is_pdf { "✓" } else { "✗" }.into(),
                    d.expires_on.map(|x| x.to_string()).unwrap_or_default(),
                    format!("<code>{}</code>", e(&d.sha256[..d.sha256.len().min(16)])),
                ]
            })
            .collect(),
        "未上传材料 / no documents uploaded",
    );

    o.push_str("<h2>合规日历 / Compliance calendar</h2>\n");
    let _ = writeln!(
        o,
        "<p>上线日期 Launch: {}{}</p>",
        r.compliance.launch_date,
        if r.compliance.launch_date_assumed {
            " (假定 assumed)"
        } else {
            ""
        }
    );
    table(
        &mut o,
        &["事项 Item", "到期 Due", "状态 Status", "上次完成 Last done"],
        r.compliance
            .items
            .iter()
            .map(|i| {
                let st = enum_text(&i.status);
                vec![
                    l(&i.title),
                    i.due_on.to_string(),
                    if st == "overdue" {
                        format!("<span class=\"bad\">{st}</span>")
                    } else {
                        st
                    },
                    i.last_done.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
        "",
    );

    o.push_str("<h2>备案信息变更 / Changes of the filed details</h2>\n");
    table(
        &mut o,
        &[
            "时间 When",
            "操作人 Who",
            "部分 Sections",
            "变更备案 Change filing",
            "原因 Why",
        ],
        r.record_changes
            .iter()
            .map(|c| {
                vec![
                    e(&ms(c.at)),
                    e(&c.actor),
                    c.sections
                        .iter()
                        .map(enum_text)
                        .collect::<Vec<_>>()
                        .join(", "),
                    if c.change_filing { "✓" } else { "" }.into(),
                    e(c.reason.as_deref().unwrap_or("")),
                ]
            })
            .collect(),
        "无 / none",
    );

    o.push_str("<h2>内容变更记录（近 90 天） / Content changes (last 90 days)</h2>\n");
    table(
        &mut o,
        &["时间 When", "操作人 Who", "操作 Action", "详情 Detail"],
        r.content_changes
            .iter()
            .map(|c| {
                vec![
                    e(&c.at_china.replace('T', " ")),
                    e(&c.actor),
                    e(&c.action),
                    format!("<code>{}</code>", e(&c.detail.to_string())),
                ]
            })
            .collect(),
        "无 / none",
    );

    o.push_str("<h2>安全事件 / Incidents</h2>\n");
    table(
        &mut o,
        &[
            "#",
            "标题 Title",
            "级别 Severity",
            "状态 Status",
            "负责人 Officer",
            "处置 Actions",
        ],
        r.incidents
            .iter()
            .map(|i| {
                vec![
                    i.id.to_string(),
                    e(&i.title),
                    enum_text(&i.severity),
                    enum_text(&i.status),
                    e(i.officer.as_deref().unwrap_or("")),
                    i.actions
                        .iter()
                        .map(|a| format!("{}: {}", e(&a.kind), e(&a.detail)))
                        .collect::<Vec<_>>()
                        .join("<br>"),
                ]
            })
            .collect(),
        "无 / none",
    );

    o.push_str("<h2>应急联系人 / Emergency contacts</h2>\n");
    let em = &r.emergency;
    let mut rows = Vec::new();
    let mut add = |what: &str, c: &landfall_icp::api::Contact| {
        rows.push(vec![
            e(what),
            e(&c.name),
            e(c.role
                .as_deref()
                .or(c.organisation.as_deref())
                .unwrap_or("")),
            e(&c.phone),
            e(c.email.as_deref().unwrap_or("")),
        ]);
    };
    if let Some(c) = &em.compliance_officer {
        add("合规负责人 Compliance officer", c);
    }
    for c in &em.authority_contacts {
        add("主管部门 Authority", c);
    }
    if let Some(c) = &em.provider {
        add("接入商 Provider", c);
    }
    if let Some(c) = &em.legal_counsel {
        add("法律顾问 Legal counsel", c);
    }
    table(
        &mut o,
        &[
            "角色 Role",
            "姓名 Name",
            "单位 Organisation",
            "电话 Phone",
            "邮箱 Email",
        ],
        rows,
        "未设置 / not set up",
    );
    o.push_str("</body></html>\n");
    o
}

// ------------------------------------------------------------------------------------------------
// Backup
// ------------------------------------------------------------------------------------------------

fn zip_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A zip of every compliance document (deleted ones too) and evidence file, with
/// `manifest.json` holding the filing, its history, documents, completions, incidents, the
/// emergency set-up, settings and all content changes. Every file is verified against its
/// sha256 while packing.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/backup", tag = "icp",
    responses((status = 200, description = "application/zip")))]
pub async fn backup(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Response> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let today = s.icp.today();
    let filing = super::filing::load(&s, &app)
        .await?
        .map(|(row, doc)| json!({ "view": super::filing::view(&app, &row, &doc, vec![]), "archived": doc.archived }));
    let documents = s.icp.store.list_documents(&app, true).await?;
    let completions: Vec<_> = s
        .icp
        .store
        .list_completions(&app)
        .await?
        .iter()
        .filter_map(super::compliance::completion_info)
        .collect();
    let incidents = super::incidents::incidents_of(&s, &app).await?;
    let changes = content_changes(
        &s,
        &app,
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today),
        today,
    )
    .await?;

    let staged = tempfile::Builder::new()
        .prefix("icp-backup-")
        .suffix(".zip")
        .tempfile_in(&s.tmp_dir)
        .map_err(HttpError::internal)?;
    let mut writer = zip::ZipWriter::new(staged.reopen().map_err(HttpError::internal)?);
    let now = Utc::now().with_timezone(&china()).naive_local();
    let mut opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    {
        use chrono::{Datelike, Timelike};
        if let Ok(t) = zip::DateTime::from_date_and_time(
            u16::try_from(now.year()).unwrap_or(1980),
            now.month() as u8,
            now.day() as u8,
            now.hour() as u8,
            now.minute() as u8,
            now.second() as u8,
        ) {
            opts = opts.last_modified_time(t);
        }
    }
    let mut counts = BackupCounts::default();
    let mut files = Vec::new();
    let mut problems = Vec::new();

    // (archive path, blob sha256, what)
    let mut wanted: Vec<(String, String, serde_json::Value)> = Vec::new();
    for d in &documents {
        let info = super::documents::info(d);
        wanted.push((
            format!(
                "documents/{:04}-{}-{}",
                d.id,
                zip_name(&d.kind),
                zip_name(&d.file_name)
            ),
            d.sha256.clone(),
            json!({ "document": info, "deleted_at": d.deleted_at }),
        ));
    }
    for c in &completions {
        for (n, ev) in c.evidence.iter().enumerate() {
            wanted.push((
                format!(
                    "evidence/{:04}-{}-{}-{}",
                    c.id,
                    super::enum_name(&c.check),
                    n + 1,
                    zip_name(&ev.file_name)
                ),
                ev.sha256.clone(),
                json!({ "completion": c.id, "evidence": ev }),
            ));
        }
    }
    for (path, sha, what) in wanted {
        let bytes = match read_blob(&s, &sha).await {
            Ok(Some(b)) if sha256_hex(&b) == sha => b,
            Ok(Some(_)) => {
                problems.push(json!({ "path": path, "sha256": sha, "problem": "content does not match its sha256" }));
                continue;
            }
            Ok(None) => {
                problems.push(json!({ "path": path, "sha256": sha, "problem": "file missing from the document store" }));
                continue;
            }
            Err(e) => return Err(HttpError::internal(e)),
        };
        let folder = path.split('/').next().unwrap_or_default().to_owned();
        *counts.files.entry(folder).or_default() += 1;
        let size = bytes.len();
        let p = path.clone();
        writer = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            writer.start_file(p, opts).map_err(std::io::Error::other)?;
            writer.write_all(&bytes)?;
            Ok(writer)
        })
        .await
        .map_err(HttpError::internal)?
        .map_err(HttpError::internal)?;
        files.push(json!({ "path": path, "sha256": sha, "size": size, "of": what }));
    }
    counts.documents = documents.len();
    counts.evidence_files = completions.iter().map(|c| c.evidence.len()).sum();
    counts.incidents = incidents.len();
    counts.completions = completions.len();
    counts.content_changes = changes.len();
    let manifest = json!({
        "format": "landfall-icp-backup/1",
        "app_id": app,
        "generated_at": Utc::now(),
        "counts": counts,
        "files": files,
        "problems": problems,
        "filing": filing,
        "record_changes": super::filing::record_changes(&s, &app).await?,
        "completions": completions,
        "incidents": incidents,
        "emergency": super::incidents::emergency_of(&s, &app).await?,
        "settings": super::compliance::settings_of(&s, &app).await?,
        "content_changes": changes,
    });
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(HttpError::internal)?;
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        writer
            .start_file("manifest.json", opts)
            .map_err(std::io::Error::other)?;
        writer.write_all(&manifest)?;
        let f = writer.finish().map_err(std::io::Error::other)?;
        f.sync_all()?;
        Ok(())
    })
    .await
    .map_err(HttpError::internal)?
    .map_err(HttpError::internal)?;
    // The open handle keeps the bytes readable after the temp path is removed.
    let reader = tokio::fs::File::from_std(staged.reopen().map_err(HttpError::internal)?);
    let len = reader.metadata().await.map_err(HttpError::internal)?.len();
    drop(staged);
    if !problems.is_empty() {
        tracing::error!(app = %app, problems = problems.len(), "ICP backup found missing or damaged files");
    }
    let name = format!("{app}-icp-backup-{today}.zip");
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, len.to_string()),
            (
                header::CONTENT_DISPOSITION,
                super::documents::content_disposition(&name),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response())
}

async fn read_blob(s: &AppState, sha: &str) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt;
    let Some(mut blob) = s.icp.documents.open(sha, 0, None).await? else {
        return Ok(None);
    };
    let mut buf = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
    blob.body.read_to_end(&mut buf).await?;
    Ok(Some(buf))
}
