//! `/api/v1/apps/{app}/devices`: recorded devices, admin channel overrides, and the audit log.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{
    AuditInfo, DeviceExplanation, DeviceInfo, ExplainedRollout, OverrideInfo, ReplacedOverride,
    SetOverride,
};
use landfall_store::{DeviceFilter, Role};
use serde::Deserialize;

use super::auth::Caller;
use super::{existing_app, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// Query of the device list.
#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    pub search: Option<String>,
    pub channel: Option<String>,
    pub version: Option<String>,
    pub platform: Option<String>,
    pub limit: Option<u32>,
}

/// How long a device listing waits for a recorder round to finish (one round can write a large
/// backlog) before it reads anyway.
const RECORDER_STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// List devices, most recently seen first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/devices", tag = "devices",
    params(("search" = Option<String>, Query), ("channel" = Option<String>, Query), ("version" = Option<String>, Query),
           ("platform" = Option<String>, Query), ("limit" = Option<u32>, Query)),
    responses((status = 200, body = Vec<DeviceInfo>)))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<DeviceQuery>,
) -> HttpResult<Json<Vec<DeviceInfo>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    // Check-ins still in the write buffer count too: wait (never write) while the recorder's
    // rounds write what was pending at this call; read anyway if it stalls.
    s.devices.caught_up(RECORDER_STALL).await;
    let filter = DeviceFilter {
        search: q.search,
        channel: q.channel,
        version_name: q.version,
        platform: q.platform,
        limit: q.limit.unwrap_or(100).clamp(1, 10_000),
    };
    let channels: HashMap<i64, String> = s
        .store
        .list_channels(&app)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut overrides: HashMap<String, (String, String, i64)> = s
        .store
        .list_overrides(&app)
        .await?
        .into_iter()
        .filter_map(|o| {
            channels
                .get(&o.channel_id)
                .map(|n| (o.device_id, (n.clone(), o.set_by, o.created_at)))
        })
        .collect();
    let devices = s.store.list_devices(&app, &filter).await?;
    Ok(Json(
        devices
            .into_iter()
            .map(|d| {
                let stored = overrides.remove(&d.last.device_id);
                device_info(d, stored)
            })
            .collect(),
    ))
}

fn device_info(d: landfall_store::Device, stored: Option<(String, String, i64)>) -> DeviceInfo {
    DeviceInfo {
        override_set_by: stored.as_ref().map(|o| o.1.clone()),
        override_at: stored.as_ref().map(|o| o.2),
        override_channel: stored.map(|o| o.0),
        device_id: d.last.device_id,
        custom_id: d.last.custom_id,
        platform: d.last.platform,
        version_name: d.last.version_name,
        version_build: d.last.version_build,
        version_code: d.last.version_code,
        version_os: d.last.version_os,
        plugin_version: d.last.plugin_version,
        is_emulator: d.last.is_emulator,
        is_prod: d.last.is_prod,
        install_source: d.last.install_source,
        channel: d.last.channel,
        first_seen: d.first_seen,
        last_seen: d.last.seen_at,
    }
}

/// Why a device gets what it gets: its last check-in replayed against the channels as they are
/// now — the channel and why, the rollout bucket against the share, the target, and the rule that
/// answered. A device that last resolved to a channel other than its override and the public
/// channel asked for it itself (`defaultChannel`), and is explained so.
#[utoipa::path(get, path = "/api/v1/apps/{app}/devices/{device_id}/explain", tag = "devices",
    responses((status = 200, body = DeviceExplanation), (status = 400, body = landfall_api_types::ApiError),
              (status = 404, body = landfall_api_types::ApiError)))]
pub async fn explain(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, device_id)): Path<(String, String)>,
) -> HttpResult<Json<DeviceExplanation>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    let device_id = check_device(&device_id)?;
    s.devices.caught_up(RECORDER_STALL).await;
    let not_seen = || {
        HttpError::not_found(
            "device_not_found",
            format!("device {device_id} has not checked in with {app}; see `landfall device list {app}`"),
        )
    };
    let found = s
        .store
        .list_devices(
            &app,
            &DeviceFilter {
                search: Some(device_id.clone()),
                limit: 100,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .find(|d| d.last.device_id == device_id)
        .ok_or_else(not_seen)?;
    let view = s.catalog.app(&app).ok_or_else(not_seen)?;
    let override_channel = view.overrides.get(&device_id).copied();
    let last = &found.last;
    let mut info = landfall_core::plugin::InfoObject {
        platform: Some(last.platform.clone()),
        device_id: Some(last.device_id.clone()),
        app_id: Some(app.clone()),
        custom_id: Some(last.custom_id.clone()),
        version_build: Some(last.version_build.clone()),
        version_code: Some(last.version_code.clone()),
        version_os: Some(last.version_os.clone()),
        version_name: Some(last.version_name.clone()),
        plugin_version: Some(last.plugin_version.clone()),
        is_emulator: Some(last.is_emulator),
        is_prod: Some(last.is_prod),
        key_id: (!last.key_id.is_empty()).then(|| last.key_id.clone()),
        ..Default::default()
    }
    .validate()
    .map_err(|e| {
        HttpError::conflict(
            "device_not_explainable",
            format!(
                "the stored check-in of {device_id} cannot be replayed: {}",
                e.message
            ),
        )
    })?;
    let public =
        landfall_core::decide::public_channel(&info, &view.channels).map(|c| c.name.as_str());
    if override_channel.is_none()
        && !last.channel.is_empty()
        && public != Some(last.channel.as_str())
    {
        info.default_channel = Some(last.channel.clone());
    }
    let e = landfall_core::explain::explain(&info, &view.channels, override_channel);
    let (answer, bundle, error, kind, message) = match e.answer {
        landfall_core::explain::Answer::Update { bundle } => {
            ("update", Some(bundle), None, None, None)
        }
        landfall_core::explain::Answer::RevertToBuiltin => {
            ("revert_to_builtin", None, None, None, None)
        }
        landfall_core::explain::Answer::NoUpdate {
            error,
            kind,
            message,
        } => ("no_update", None, Some(error), Some(kind), Some(message)),
    };
    let stored = override_channel.and_then(|id| {
        view.channels
            .iter()
            .find(|c| c.id == id)
            .map(|c| (c.name.clone(), String::new(), 0))
    });
    let mut device = device_info(found, stored);
    // The list shows who stored an override; here only which channel.
    device.override_set_by = None;
    device.override_at = None;
    Ok(Json(DeviceExplanation {
        device,
        channel_rule: e.channel.as_ref().map(|c| {
            match c.rule {
                landfall_core::explain::ChannelRule::Override => "override",
                landfall_core::explain::ChannelRule::DeviceChoice => "device_choice",
                landfall_core::explain::ChannelRule::Public => "public",
            }
            .to_owned()
        }),
        channel_bundle: e.channel.as_ref().map(|c| c.bundle.clone()),
        channel: e.channel.map(|c| c.name),
        rollout: e.rollout.map(|r| ExplainedRollout {
            percent: f64::from(r.basis_points) / 100.0,
            bundle: r.bundle,
            paused: r.paused,
            bucket: r.bucket,
            threshold: r.basis_points,
            already_on: r.already_on,
            chosen: r.chosen,
        }),
        target: e.target,
        answer: answer.to_owned(),
        bundle,
        error,
        kind,
        message,
    }))
}

fn check_device(id: &str) -> HttpResult<String> {
    if landfall_core::names::is_valid_device_id(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(HttpError::bad_request(
            "invalid_device_id",
            format!(
                "device id {:?} is not a UUID like 6f1c2a9e-3b1d-4c55-9d0e-0a1b2c3d4e5f",
                landfall_core::clip(id)
            ),
        ))
    }
}

/// Force a device onto a channel (any channel, even private or platform-disabled ones).
#[utoipa::path(put, path = "/api/v1/apps/{app}/devices/{device_id}/override", tag = "devices", request_body = SetOverride,
    responses((status = 200, body = OverrideInfo)))]
pub async fn set_override(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, device)): Path<(String, String)>,
    body: JsonBody<SetOverride>,
) -> HttpResult<Json<OverrideInfo>> {
    caller.require(Some(&app), Role::Admin)?;
    let req = body.parse()?;
    existing_app(&s, &app).await?;
    let device = check_device(&device)?;
    let c = s
        .store
        .get_channel(&app, &req.channel)
        .await
        .map_err(|e| match e {
            landfall_store::StoreError::NotFound(_) => HttpError::not_found(
                "channel_not_found",
                format!(
                    "channel {} does not exist in {app}",
                    landfall_core::clip(&req.channel)
                ),
            ),
            other => other.into(),
        })?;
    let channels = s.store.list_channels(&app).await?;
    let replaced = s
        .store
        .list_overrides(&app)
        .await?
        .into_iter()
        .find(|o| o.device_id == device)
        .map(|o| ReplacedOverride {
            channel: channels
                .iter()
                .find(|c| c.id == o.channel_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            set_by: o.set_by,
            at: o.created_at,
        });
    let actor = caller.actor();
    s.store
        .set_override(&app, &device, Some(c.id), &actor)
        .await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(Json(OverrideInfo {
        device_id: device,
        channel: c.name,
        set_by: actor,
        at: landfall_store::now_ms(),
        replaced,
    }))
}

/// Remove a device's override.
#[utoipa::path(delete, path = "/api/v1/apps/{app}/devices/{device_id}/override", tag = "devices", responses((status = 204)))]
pub async fn clear_override(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, device)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    caller.require(Some(&app), Role::Admin)?;
    existing_app(&s, &app).await?;
    let device = check_device(&device)?;
    s.store
        .set_override(&app, &device, None, &caller.actor())
        .await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of the audit log (epoch milliseconds).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Every content change of an app (uploads, channel moves, rollbacks, overrides), oldest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/audit", tag = "audit",
    params(("from" = Option<i64>, Query), ("to" = Option<i64>, Query)), responses((status = 200, body = Vec<AuditInfo>)))]
pub async fn audit(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    Query(q): Query<AuditQuery>,
) -> HttpResult<Json<Vec<AuditInfo>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    let entries = s
        .store
        .list_audit(&app, q.from.unwrap_or(0), q.to.unwrap_or(i64::MAX))
        .await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditInfo {
                at: e.at,
                actor: e.actor,
                action: e.action,
                detail: e.detail,
            })
            .collect(),
    ))
}
