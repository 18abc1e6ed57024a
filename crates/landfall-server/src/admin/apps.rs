//! `/api/v1/apps`: create, list and configure apps.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{AppInfo, CreateApp, UpdateApp};
use landfall_store::{App, AppSettingsPatch, Role, StoreError};

use super::auth::Caller;
use super::JsonBody;
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

fn info(s: &crate::state::AppState, a: App) -> AppInfo {
    AppInfo {
        stats_dropped: s.stats.dropped(&a.app_id),
        app_id: a.app_id,
        name: a.name,
        created_at: a.created_at,
        expose_metadata: a.settings.expose_metadata,
        allow_device_custom_id: a.settings.allow_device_custom_id,
        download_base_mainland: a.settings.download_base_mainland.clone(),
        download_base_global: a.settings.download_base_global.clone(),
    }
}

/// Create an app.
#[utoipa::path(post, path = "/api/v1/apps", request_body = CreateApp, tag = "apps",
    responses((status = 201, body = AppInfo), (status = 409, body = landfall_api_types::ApiError)))]
pub async fn create(
    State(s): State<Shared>,
    caller: Caller,
    body: JsonBody<CreateApp>,
) -> HttpResult<(StatusCode, Json<AppInfo>)> {
    caller.require(None, Role::Admin)?;
    let req = body.parse()?;
    landfall_core::names::app_id(&req.app_id)
        .map_err(|e| HttpError::bad_request("invalid_app_id", e.to_string()))?;
    let name = req.name.unwrap_or_else(|| req.app_id.clone());
    let app = s
        .store
        .create_app(&req.app_id, &name, &caller.actor())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => HttpError::conflict("app_exists", m),
            other => other.into(),
        })?;
    s.catalog.reload(s.store.as_ref(), &app.app_id).await?;
    Ok((StatusCode::CREATED, Json(info(&s, app))))
}

/// List the apps this token can read.
#[utoipa::path(get, path = "/api/v1/apps", tag = "apps", responses((status = 200, body = Vec<AppInfo>)))]
pub async fn list(State(s): State<Shared>, caller: Caller) -> HttpResult<Json<Vec<AppInfo>>> {
    let apps = s.store.list_apps().await?;
    Ok(Json(
        apps.into_iter()
            .filter(|a| caller.allows(Some(&a.app_id), Role::Read))
            .map(|a| info(&s, a))
            .collect(),
    ))
}

/// One app.
#[utoipa::path(get, path = "/api/v1/apps/{app}", tag = "apps", responses((status = 200, body = AppInfo)))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<AppInfo>> {
    caller.require(Some(&app), Role::Read)?;
    super::existing_app(&s, &app).await?;
    Ok(Json(info(&s, s.store.get_app(&app).await?)))
}

/// Change an app's switches (`expose_metadata`, `allow_device_custom_id`) and download bases.
#[utoipa::path(patch, path = "/api/v1/apps/{app}", tag = "apps", request_body = UpdateApp,
    responses((status = 200, body = AppInfo), (status = 404, body = landfall_api_types::ApiError)))]
pub async fn update(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<UpdateApp>,
) -> HttpResult<Json<AppInfo>> {
    caller.require(Some(&app), Role::Admin)?;
    let req = body.parse()?;
    super::existing_app(&s, &app).await?;
    let base = |field: &str, v: Option<String>| -> HttpResult<Option<Option<String>>> {
        match v.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(None)),
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                Ok(Some(Some(u.trim_end_matches('/').to_owned())))
            }
            Some(_) => Err(HttpError::bad_request(
                "invalid_download_base",
                format!("{field} must start with https:// (or http://), or be \"\" to clear it"),
            )),
        }
    };
    let patch = AppSettingsPatch {
        expose_metadata: req.expose_metadata,
        allow_device_custom_id: req.allow_device_custom_id,
        download_base_mainland: base("download_base_mainland", req.download_base_mainland)?,
        download_base_global: base("download_base_global", req.download_base_global)?,
    };
    let updated = s
        .store
        .update_app_settings(&app, patch, &caller.actor())
        .await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(Json(info(&s, updated)))
}
