//! `GET /icp/{app_id}` (no authentication): the app's filing numbers for its About page, as JSON
//! (default) or an escaped HTML snippet (`?format=html` or `Accept: text/html`), with Chinese and
//! English text and links to the MIIT filing system and the public-security query page.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_icp::api::PublicFiling;
use landfall_icp::display::display_info;
use landfall_icp::filing::FilingState;
use landfall_icp::numbers::ServiceKind;
use landfall_icp::Localized;
use landfall_store::StoreError;
use serde::Deserialize;

use super::{bad, bilingual};
use crate::error::HttpError;
use crate::state::Shared;

/// `?format=json|html`.
#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

fn not_filed(app: &str) -> HttpError {
    bilingual(
        StatusCode::NOT_FOUND,
        "not_filed",
        &Localized::new(
            format!("no ICP filing is published for {app}"),
            format!("{app} 暂无公开的备案信息"),
        ),
    )
}

/// Whether the client asked for HTML.
pub(crate) fn wants_html(format: Option<&str>, headers: &HeaderMap) -> Result<bool, HttpError> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some("html") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(bad(
            "invalid_format",
            format!("format `{other}` is not supported; use json or html"),
            format!("不支持的格式「{other}」，请使用 json 或 html"),
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("text/html")))),
    }
}

/// The public display of an app's filing.
pub async fn display(
    State(s): State<Shared>,
    Path(app): Path<String>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let html = wants_html(q.format.as_deref(), &headers)?;
    match s.store.get_app(&app).await {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) => return Err(not_filed(&app)),
        Err(e) => return Err(e.into()),
    }
    let Some((_, doc)) = super::filing::load(&s, &app).await? else {
        return Err(not_filed(&app));
    };
    if matches!(
        doc.filing.state,
        FilingState::Cancelled | FilingState::Abandoned
    ) {
        return Err(not_filed(&app));
    }
    let info = display_info(
        &doc.record.numbers,
        ServiceKind::App,
        Some(&doc.record.entity.name),
    );
    if info.filing_number.is_none()
        && info.licence_number.is_none()
        && info.public_security_number.is_none()
    {
        return Err(not_filed(&app));
    }
    let common = [
        (
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ),
        (header::VARY, HeaderValue::from_static("Accept")),
    ];
    if html {
        Ok((
            common,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            info.html,
        )
            .into_response())
    } else {
        Ok((
            common,
            Json(PublicFiling {
                app_id: app,
                display: info,
            }),
        )
            .into_response())
    }
}
