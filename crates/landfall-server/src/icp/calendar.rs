//! The Chinese working-day calendar: built-in data plus years an administrator loads (persisted
//! and reloaded at start). A date in a year that is not loaded is an explicit error.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_core::clip;
use landfall_icp::api::{CalendarInfo, CalendarOverride, DayInfo, WorkingDays, YearLoaded};
use landfall_icp::{HolidayYear, Localized};
use landfall_store::Role;
use serde::Deserialize;

use super::{bad, bilingual, calendar_error, parse_date};
use crate::admin::auth::Caller;
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// `?year=`.
#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    pub year: Option<String>,
}

/// Loaded years, the administrator's overrides, and the holidays of one year.
#[utoipa::path(get, path = "/api/v1/icp/calendar", tag = "icp",
    params(("year" = Option<i32>, Query)),
    responses((status = 200, description = "CalendarInfo"), (status = 422, description = "year_not_loaded")))]
pub async fn info(
    State(s): State<Shared>,
    _caller: Caller,
    Query(q): Query<YearQuery>,
) -> HttpResult<Json<CalendarInfo>> {
    let cal = s.icp.calendar();
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => {
            let n: i32 = y.parse().map_err(|_| {
                bad(
                    "invalid_year",
                    format!("`{y}` is not a year"),
                    format!("「{y}」不是年份"),
                )
            })?;
            Some(cal.year(n).cloned().ok_or_else(|| {
                let loaded = cal.loaded_years();
                let range = match (loaded.first(), loaded.last()) {
                    (Some(a), Some(b)) => format!("{a}–{b}"),
                    _ => "none".into(),
                };
                bilingual(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "year_not_loaded",
                    &Localized::new(
                        format!("no working-day data for {n} (loaded: {range}); load the State Council holiday notice for {n} with `landfall icp calendar load-year {n}.json`"),
                        format!("缺少 {n} 年的节假日数据（已加载：{range}）；请用 `landfall icp calendar load-year {n}.json` 导入国务院办公厅 {n} 年节假日安排"),
                    ),
                )
            })?)
        }
    };
    let overrides = s
        .icp
        .store
        .list_calendar_years()
        .await?
        .into_iter()
        .map(|y| CalendarOverride {
            year: y.year,
            loaded_at: y.loaded_at,
            loaded_by: y.loaded_by,
        })
        .collect();
    Ok(Json(CalendarInfo {
        loaded_years: cal.loaded_years(),
        overrides,
        year,
    }))
}

/// Load (add or replace) one year from JSON, e.g. the 2027 notice once published.
#[utoipa::path(post, path = "/api/v1/icp/calendar/years", tag = "icp",
    request_body(content = Object, description = "{\"year\":2027,\"holidays\":[{\"name\":\"元旦\",\"off\":[\"2027-01-01\"],\"work\":[]}]}"),
    responses((status = 201, description = "YearLoaded"), (status = 400, description = "invalid_calendar")))]
pub async fn load_year(
    State(s): State<Shared>,
    caller: Caller,
    body: Bytes,
) -> HttpResult<(StatusCode, Json<YearLoaded>)> {
    caller.require(None, Role::Admin)?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        bad(
            "invalid_calendar",
            "the holiday data must be UTF-8 JSON",
            "节假日数据必须是 UTF-8 编码的 JSON",
        )
    })?;
    let year = HolidayYear::from_json(text)
        .map_err(|e| bilingual(StatusCode::BAD_REQUEST, "invalid_calendar", &e.localized()))?;
    let _guard = s.icp.calendar_write.lock().await;
    let mut cal = (*s.icp.calendar()).clone();
    let number = year.year;
    // Store the normalised form (validated, grouped), then swap the calendar in.
    let data = serde_json::to_string(&year).map_err(HttpError::internal)?;
    let replaced = cal
        .set_year(year)
        .map_err(|e| bilingual(StatusCode::BAD_REQUEST, "invalid_calendar", &e.localized()))?
        .is_some();
    s.icp
        .store
        .put_calendar_year(number, &data, &caller.actor())
        .await?;
    let loaded_years = cal.loaded_years();
    s.icp.calendar.store(Arc::new(cal));
    tracing::info!(year = number, replaced, "holiday year loaded");
    Ok((
        StatusCode::CREATED,
        Json(YearLoaded {
            year: number,
            replaced,
            loaded_years,
        }),
    ))
}

/// What kind of day a date is.
#[utoipa::path(get, path = "/api/v1/icp/calendar/days/{date}", tag = "icp",
    responses((status = 200, description = "DayInfo"), (status = 422, description = "year_not_loaded")))]
pub async fn day(
    State(s): State<Shared>,
    _caller: Caller,
    Path(date): Path<String>,
) -> HttpResult<Json<DayInfo>> {
    let date = parse_date("date", &date)?;
    let kind = s
        .icp
        .calendar()
        .day_kind(date)
        .map_err(|e| calendar_error(&e))?;
    Ok(Json(DayInfo {
        date,
        working: kind.is_working(),
        kind,
    }))
}

/// `?from=YYYY-MM-DD&days=N`.
#[derive(Debug, Default, Deserialize)]
pub struct WorkingDaysQuery {
    pub from: Option<String>,
    pub days: Option<String>,
}

/// The N-th working day after a date (a non-working start rolls forward first).
#[utoipa::path(get, path = "/api/v1/icp/calendar/working-days", tag = "icp",
    params(("from" = String, Query), ("days" = u32, Query)),
    responses((status = 200, description = "WorkingDays"), (status = 422, description = "year_not_loaded")))]
pub async fn working_days(
    State(s): State<Shared>,
    _caller: Caller,
    Query(q): Query<WorkingDaysQuery>,
) -> HttpResult<Json<WorkingDays>> {
    let from = parse_date("from", q.from.as_deref().unwrap_or_default())?;
    let raw = q.days.as_deref().unwrap_or_default().trim().to_owned();
    let days: u32 = raw.parse().ok().filter(|d| *d <= 3650).ok_or_else(|| {
        bad(
            "invalid_days",
            format!(
                "days `{}` must be a whole number from 0 to 3650",
                clip(&raw)
            ),
            format!("days「{}」必须是 0 到 3650 之间的整数", clip(&raw)),
        )
    })?;
    let cal = s.icp.calendar();
    let date = cal
        .add_working_days(from, days)
        .map_err(|e| calendar_error(&e))?;
    let from_kind = cal.day_kind(from).map_err(|e| calendar_error(&e))?;
    Ok(Json(WorkingDays {
        from,
        days,
        date,
        from_kind,
    }))
}
