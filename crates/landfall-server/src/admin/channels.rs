//! `/api/v1/apps/{app}/channels`: channels, their Capgo flags, rollouts, history and rollback.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{
    ChannelFlagsInfo, ChannelFlagsPatch, ChannelInfo, CreateChannel, HistoryEntry, Rollback,
    RolloutInfo, UpdateChannel,
};
use landfall_core::channel::{ChannelFlags, DisableAutoUpdate};
use landfall_store::{
    default_flags, BundleVariantRow, Channel, ChannelChange, DeviceFilter, NewChannel, Role,
    RolloutRow, StoreError,
};

use super::auth::Caller;
use super::bundles::find;
use super::{existing_app, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

fn flags_info(f: &ChannelFlags) -> ChannelFlagsInfo {
    ChannelFlagsInfo {
        public: f.public,
        allow_device_self_set: f.allow_device_self_set,
        ios: f.ios,
        android: f.android,
        electron: f.electron,
        allow_emulator: f.allow_emulator,
        allow_device: f.allow_device,
        allow_dev: f.allow_dev,
        allow_prod: f.allow_prod,
        disable_auto_update: f.disable_auto_update.as_str().to_owned(),
        disable_auto_update_under_native: f.disable_auto_update_under_native,
    }
}

/// Apply a patch of flags.
pub fn apply_flags(mut f: ChannelFlags, p: &ChannelFlagsPatch) -> HttpResult<ChannelFlags> {
    let set = |field: &mut bool, v: Option<bool>| {
        if let Some(v) = v {
            *field = v;
        }
    };
    set(&mut f.public, p.public);
    set(&mut f.allow_device_self_set, p.allow_device_self_set);
    set(&mut f.ios, p.ios);
    set(&mut f.android, p.android);
    set(&mut f.electron, p.electron);
    set(&mut f.allow_emulator, p.allow_emulator);
    set(&mut f.allow_device, p.allow_device);
    set(&mut f.allow_dev, p.allow_dev);
    set(&mut f.allow_prod, p.allow_prod);
    set(
        &mut f.disable_auto_update_under_native,
        p.disable_auto_update_under_native,
    );
    if let Some(d) = &p.disable_auto_update {
        f.disable_auto_update = DisableAutoUpdate::parse(d).ok_or_else(|| {
            HttpError::bad_request(
                "invalid_flag",
                format!("disable_auto_update {d:?} must be one of none, major, minor, patch, version_number"),
            )
        })?;
    }
    Ok(f)
}

async fn bundle_name(s: &Shared, id: Option<i64>) -> HttpResult<String> {
    match id {
        None => Ok("builtin".into()),
        Some(id) => Ok(s.store.get_bundle_by_id(id).await?.version),
    }
}

/// API view of a channel's rollout, with how many known devices run its bundle.
async fn rollout_info(s: &Shared, c: &Channel, r: &RolloutRow) -> HttpResult<RolloutInfo> {
    let bundle = bundle_name(s, r.bundle_id).await?;
    let on_it = DeviceFilter {
        channel: Some(c.name.clone()),
        version_name: Some(bundle.clone()),
        ..Default::default()
    };
    Ok(RolloutInfo {
        devices_on_bundle: Some(s.store.count_devices(&c.app_id, &on_it).await?),
        bundle,
        percent: f64::from(r.basis_points) / 100.0,
        paused: r.paused,
    })
}

/// API view of a channel.
pub async fn channel_info(s: &Shared, c: &Channel) -> HttpResult<ChannelInfo> {
    let rollout = match &c.rollout {
        Some(r) => Some(rollout_info(s, c, r).await?),
        None => None,
    };
    Ok(ChannelInfo {
        id: c.id,
        name: c.name.clone(),
        bundle: bundle_name(s, c.bundle_id).await?,
        flags: flags_info(&c.flags),
        rollout,
        devices: s
            .store
            .count_devices(
                &c.app_id,
                &DeviceFilter {
                    channel: Some(c.name.clone()),
                    ..Default::default()
                },
            )
            .await?,
        created_at: c.created_at,
        updated_at: c.updated_at,
        effect: None,
        ended_rollout: None,
    })
}

/// What devices on a channel get, in words (the answer to every change).
pub fn effect(c: &ChannelInfo) -> String {
    let stable = if c.bundle == "builtin" {
        "builtin (the bundle built into the app)".to_owned()
    } else {
        c.bundle.clone()
    };
    let known = |r: &RolloutInfo| {
        r.devices_on_bundle
            .map(|n| format!(", {n} known"))
            .unwrap_or_default()
    };
    match &c.rollout {
        None => format!("every device on {} gets {stable}", c.name),
        Some(r) if r.percent == 0.0 => format!(
            "the rollout of {} is at 0 % (off): every device on {} gets {stable}",
            r.bundle, c.name
        ),
        Some(r) if r.paused => format!(
            "the rollout of {} is paused: devices already on it keep it{}; every other device on {} gets {stable}",
            r.bundle,
            known(r),
            c.name
        ),
        Some(r) => format!(
            "{} % of devices on {} and those already on {}{} get {}; the others get {stable}",
            r.percent,
            c.name,
            r.bundle,
            known(r),
            r.bundle
        ),
    }
}

/// The answer to a change: the channel, what devices get now, and the rollout it ended.
pub async fn changed_info(
    s: &Shared,
    before: &Channel,
    after: &Channel,
) -> HttpResult<ChannelInfo> {
    let mut info = channel_info(s, after).await?;
    info.effect = Some(effect(&info));
    if after.rollout.is_none() {
        if let Some(r) = &before.rollout {
            info.ended_rollout = Some(rollout_info(s, before, r).await?);
        }
    }
    Ok(info)
}

/// Refuse to point devices at a bundle that devices with the app's keys would reject
/// (`key_id_mismatch`): on an app with registered keys, a bundle needs a variant signed by one of
/// them. (`builtin` is not a bundle: always possible.)
pub async fn check_installable(
    s: &Shared,
    app: &str,
    version: &str,
    variants: &[BundleVariantRow],
) -> HttpResult<()> {
    let keys = s.store.list_app_keys(app).await?;
    let signed = variants.iter().any(|v| {
        v.key_id
            .as_deref()
            .is_some_and(|id| keys.iter().any(|k| k.key_id == id))
    });
    if keys.is_empty() || signed {
        return Ok(());
    }
    Err(HttpError::conflict(
        "bundle_not_signed",
        format!(
            "bundle {} is not signed with a registered key of {app}: devices configured with the key \
             would refuse it (key_id_mismatch) and stay where they are; pick a signed version or builtin",
            landfall_core::clip(version)
        ),
    ))
}

/// Resolve `builtin` or a version to a target bundle id, checked as installable.
async fn target(s: &Shared, app: &str, name: &str) -> HttpResult<Option<i64>> {
    if name == "builtin" {
        return Ok(None);
    }
    let b = find(s, app, name).await?;
    check_installable(s, app, &b.version, &b.variants).await?;
    Ok(Some(b.id))
}

async fn find_channel(s: &Shared, app: &str, name: &str) -> HttpResult<Channel> {
    s.store.get_channel(app, name).await.map_err(|e| match e {
        StoreError::NotFound(_) => HttpError::not_found(
            "channel_not_found",
            format!(
                "channel {} does not exist in {app}; see `landfall channel list {app}`",
                landfall_core::clip(name)
            ),
        ),
        other => other.into(),
    })
}

/// Create a channel.
#[utoipa::path(post, path = "/api/v1/apps/{app}/channels", tag = "channels", request_body = CreateChannel,
    responses((status = 201, body = ChannelInfo), (status = 409, body = landfall_api_types::ApiError)))]
pub async fn create(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<CreateChannel>,
) -> HttpResult<(StatusCode, Json<ChannelInfo>)> {
    caller.require(Some(&app), Role::Admin)?;
    let req = body.parse()?;
    existing_app(&s, &app).await?;
    landfall_core::names::channel_name(&req.name)
        .map_err(|e| HttpError::bad_request("invalid_channel", e.to_string()))?;
    let first = s.store.list_channels(&app).await?.is_empty();
    let flags = apply_flags(default_flags(first), &req.flags)?;
    let bundle_id = target(&s, &app, req.bundle.as_deref().unwrap_or("builtin")).await?;
    let c = s
        .store
        .create_channel(
            NewChannel {
                app_id: app.clone(),
                name: req.name,
                flags,
                bundle_id,
            },
            &caller.actor(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => HttpError::conflict("channel_exists", m),
            other => other.into(),
        })?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok((StatusCode::CREATED, Json(channel_info(&s, &c).await?)))
}

/// List channels.
#[utoipa::path(get, path = "/api/v1/apps/{app}/channels", tag = "channels", responses((status = 200, body = Vec<ChannelInfo>)))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<Vec<ChannelInfo>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    let mut out = Vec::new();
    for c in s.store.list_channels(&app).await? {
        out.push(channel_info(&s, &c).await?);
    }
    Ok(Json(out))
}

/// One channel.
#[utoipa::path(get, path = "/api/v1/apps/{app}/channels/{name}", tag = "channels", responses((status = 200, body = ChannelInfo)))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, name)): Path<(String, String)>,
) -> HttpResult<Json<ChannelInfo>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    Ok(Json(
        channel_info(&s, &find_channel(&s, &app, &name).await?).await?,
    ))
}

/// Change a channel's target, flags or rollout.
#[utoipa::path(patch, path = "/api/v1/apps/{app}/channels/{name}", tag = "channels", request_body = UpdateChannel,
    responses((status = 200, body = ChannelInfo)))]
pub async fn update(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, name)): Path<(String, String)>,
    body: JsonBody<UpdateChannel>,
) -> HttpResult<Json<ChannelInfo>> {
    caller.require(Some(&app), Role::Upload)?;
    let req = body.parse()?;
    let changes_flags =
        req.flags != ChannelFlagsPatch::default() || req.rollout.is_some() || req.end_rollout;
    caller.require(
        Some(&app),
        if changes_flags {
            Role::Admin
        } else {
            Role::Upload
        },
    )?;
    existing_app(&s, &app).await?;
    let c = find_channel(&s, &app, &name).await?;
    let mut change = ChannelChange {
        reason: if req.bundle.is_some() {
            "set"
        } else {
            "update"
        }
        .into(),
        ..Default::default()
    };
    if req.flags != ChannelFlagsPatch::default() {
        change.flags = Some(apply_flags(c.flags, &req.flags)?);
    }
    if let Some(b) = &req.bundle {
        let to = target(&s, &app, b).await?;
        change.target = Some(to);
        // A rollout of the bundle the channel now serves has nothing left to roll out.
        if req.rollout.is_none() && c.rollout.is_some_and(|r| r.bundle_id == to) {
            change.rollout = Some(None);
        }
    }
    if req.end_rollout {
        change.rollout = Some(None);
    } else if let Some(r) = &req.rollout {
        if !(0.0..=100.0).contains(&r.percent) || r.percent.is_nan() {
            return Err(HttpError::bad_request(
                "invalid_rollout",
                "rollout percent must be between 0 and 100",
            ));
        }
        change.rollout = Some(Some(RolloutRow {
            bundle_id: target(&s, &app, &r.bundle).await?,
            basis_points: (r.percent * 100.0).round() as u16,
            paused: r.paused,
        }));
    }
    let updated = s
        .store
        .update_channel(c.id, change, &caller.actor())
        .await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(Json(changed_info(&s, &c, &updated).await?))
}

/// Point the channel back at what it served before (or at `to`).
#[utoipa::path(post, path = "/api/v1/apps/{app}/channels/{name}/rollback", tag = "channels", request_body = Rollback,
    responses((status = 200, body = ChannelInfo), (status = 409, body = landfall_api_types::ApiError)))]
pub async fn rollback(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, name)): Path<(String, String)>,
    body: JsonBody<Rollback>,
) -> HttpResult<Json<ChannelInfo>> {
    caller.require(Some(&app), Role::Upload)?;
    let req = body.parse()?;
    existing_app(&s, &app).await?;
    let c = find_channel(&s, &app, &name).await?;
    let to = match req.to.as_deref() {
        Some(t) => target(&s, &app, t).await?,
        None => {
            let mut previous = None;
            // The newest earlier target that still exists and devices can install.
            for h in s.store.channel_history(c.id).await? {
                if h.bundle_id == c.bundle_id {
                    continue;
                }
                let usable = match h.bundle_id {
                    None => true,
                    Some(id) => {
                        let b = s.store.get_bundle_by_id(id).await?;
                        b.deleted_at.is_none()
                            && check_installable(&s, &app, &b.version, &b.variants)
                                .await
                                .is_ok()
                    }
                };
                if usable {
                    previous = Some(h.bundle_id);
                    break;
                }
            }
            previous.ok_or_else(|| {
                HttpError::conflict(
                    "no_previous_bundle",
                    format!("channel {name} has not served anything else yet; use `--to builtin` or `--to <version>`"),
                )
            })?
        }
    };
    let updated = s
        .store
        .update_channel(
            c.id,
            ChannelChange {
                target: Some(to),
                // A rollback means it: no device keeps getting the rolled-out bundle.
                rollout: c.rollout.is_some().then_some(None),
                reason: "rollback".into(),
                ..Default::default()
            },
            &caller.actor(),
        )
        .await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    Ok(Json(changed_info(&s, &c, &updated).await?))
}

/// Target changes of a channel, newest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/channels/{name}/history", tag = "channels",
    responses((status = 200, body = Vec<HistoryEntry>)))]
pub async fn history(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, name)): Path<(String, String)>,
) -> HttpResult<Json<Vec<HistoryEntry>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    let c = find_channel(&s, &app, &name).await?;
    let mut out = Vec::new();
    for h in s.store.channel_history(c.id).await? {
        out.push(HistoryEntry {
            bundle: bundle_name(&s, h.bundle_id).await?,
            at: h.at,
            actor: h.actor,
            reason: h.reason,
        });
    }
    Ok(Json(out))
}
