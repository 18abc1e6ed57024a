//! The endpoints the unmodified `@capgo/capacitor-updater` plugin calls: `/updates`,
//! `/updates/manifest_size`, `/stats` and `/channel_self` (protocol §2–4).
//!
//! Decisions answer HTTP 200 in the plugin's shapes (`kind` always present on non-updates);
//! malformed input answers 400 in the same shape. Nothing here returns 429.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_core::decide::{decide, public_channel, resolve_channel, Decision, Via};
use landfall_core::plugin::{
    DeviceInfo, InfoObject, Kind, ManifestEntry, PluginError, UpdateAvailable,
};
use landfall_core::version::PluginCaps;
use landfall_store::{now_ms, DeviceSeen, StatEvent};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::Shared;

fn answer(status: StatusCode, e: PluginError) -> Response {
    (status, Json(e)).into_response()
}

/// Longest message sent back to a device: input echoed in messages is clipped.
const MAX_MESSAGE_CHARS: usize = 300;

fn bad_request(error: &'static str, message: impl Into<String>) -> Response {
    let message = message.into();
    answer(
        StatusCode::BAD_REQUEST,
        PluginError::new(
            error,
            landfall_core::clip_with(&message, MAX_MESSAGE_CHARS),
            Kind::Failed,
        ),
    )
}

fn app_not_found(app_id: &str) -> PluginError {
    PluginError::new(
        "app_not_found",
        format!(
            "App {app_id} is not registered on this server: run `landfall app create {app_id}`"
        ),
        Kind::Failed,
    )
}

/// Parse and validate the info object of a JSON body.
fn parse_info(body: &[u8]) -> Result<(DeviceInfo, InfoObject), Response> {
    validate_info(info_json(body)?)
}

/// The info object of a JSON body, not validated yet.
fn info_json(body: &[u8]) -> Result<InfoObject, Response> {
    serde_json::from_slice(body).map_err(|e| {
        bad_request(
            "invalid_json_body",
            format!("the body is not the plugin's JSON object: {e}"),
        )
    })
}

/// Validate a parsed info object; keeps the `channel` the request named.
fn validate_info(raw: InfoObject) -> Result<(DeviceInfo, InfoObject), Response> {
    let keep = InfoObject {
        channel: raw.channel.clone(),
        ..Default::default()
    };
    let device = raw
        .validate()
        .map_err(|e| bad_request(e.error, e.message))?;
    Ok((device, keep))
}

fn seen(device: &DeviceInfo, channel: &str, keep_custom_id: bool) -> DeviceSeen {
    DeviceSeen {
        app_id: device.app_id.clone(),
        device_id: device.device_id.clone(),
        platform: device.platform.as_str().to_owned(),
        version_build: device.version_build_raw.clone(),
        version_code: device.version_code.clone(),
        version_os: device.version_os.clone(),
        version_name: if device.on_builtin {
            "builtin".to_owned()
        } else {
            device.version_name.clone()
        },
        plugin_version: device.plugin_version.to_string(),
        custom_id: if keep_custom_id {
            device.custom_id.clone()
        } else {
            String::new()
        },
        is_emulator: device.is_emulator,
        is_prod: device.is_prod,
        install_source: device.install_source.clone(),
        channel: channel.to_owned(),
        key_id: device.key_id.clone().unwrap_or_default(),
        seen_at: now_ms(),
    }
}

/// `GET /updates` and `GET /stats`: liveness in Capgo's shape.
pub async fn status_ok() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `POST /updates`: the update check.
pub async fn updates(
    State(s): State<Shared>,
    peer: crate::delivery::PeerAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (device, _) = match parse_info(&body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(app) = s.catalog.app(&device.app_id) else {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    };
    let override_channel = app.overrides.get(&device.device_id).copied();
    let outcome = decide(&device, &app.channels, override_channel);
    s.devices.record(seen(
        &device,
        outcome.channel.map(|(c, _)| c.name.as_str()).unwrap_or(""),
        app.settings.allow_device_custom_id,
    ));
    // `link`/`comment` reach devices only where the app exposes them (Capgo's expose_metadata).
    let expose = app.settings.expose_metadata;
    match outcome.decision {
        Decision::Refuse(e) => answer(StatusCode::OK, e),
        Decision::RevertToBuiltin => Json(json!({ "version": "builtin" })).into_response(),
        Decision::Update {
            bundle,
            variant,
            send_manifest,
            send_link,
        } => {
            let base = s.base_url(&headers);
            let plan = s.delivery.plan(&app.settings, peer.0, &headers);
            // Manifest-only bundles still need a parseable url (protocol §2.3a).
            let url = match &variant.url {
                Some(u) => s.delivery.link(&plan, &base, u).await,
                None => format!("{base}/blobs/manifest-only.zip"),
            };
            let manifest = if send_manifest {
                let mut out = Vec::with_capacity(variant.manifest.len());
                for m in &variant.manifest {
                    out.push(ManifestEntry {
                        file_name: m.file_name.clone(),
                        file_hash: m.file_hash.clone(),
                        download_url: s.delivery.link(&plan, &base, &m.download_url).await,
                    });
                }
                Some(out)
            } else {
                None
            };
            let where_from = [(
                "x-landfall-download",
                axum::http::HeaderValue::from_static(plan.header()),
            )];
            (
                where_from,
                Json(UpdateAvailable {
                    version: &bundle.name,
                    url: &url,
                    session_key: &variant.session_key,
                    checksum: &variant.checksum,
                    manifest: manifest.as_deref(),
                    link: bundle.link.as_deref().filter(|_| send_link && expose),
                    comment: bundle.comment.as_deref().filter(|_| send_link && expose),
                }),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct ManifestSizeBody {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    manifest: Vec<ManifestEntry>,
}

/// `POST /updates/manifest_size`: download size of the files a device still misses (§2.7).
pub async fn manifest_size(State(s): State<Shared>, body: Bytes) -> Response {
    let (device, _) = match parse_info(&body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let req: ManifestSizeBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return bad_request(
                "invalid_json_body",
                format!("manifest must be a list of entries: {e}"),
            )
        }
    };
    let Some(app) = s.catalog.app(&device.app_id) else {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    };
    let sizes = req.version.as_deref().and_then(|v| app.file_sizes.get(v));
    let (mut total, mut known, mut unknown) = (0u64, 0u64, 0u64);
    let files: Vec<Value> = req
        .manifest
        .iter()
        .map(|f| match sizes.and_then(|m| m.get(&f.file_name)) {
            Some(size) => {
                total += size;
                known += 1;
                json!({ "file_name": f.file_name, "file_hash": f.file_hash, "download_url": f.download_url, "size": size })
            }
            None => {
                unknown += 1;
                json!({ "file_name": f.file_name, "file_hash": f.file_hash, "download_url": f.download_url, "error": "size_unknown" })
            }
        })
        .collect();
    Json(
        json!({ "totalSize": total, "knownFiles": known, "unknownFiles": unknown, "files": files }),
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatExtra {
    action: Option<String>,
    old_version_name: Option<String>,
    timestamp: Option<i64>,
    metadata: Option<serde_json::Map<String, Value>>,
}

/// `s` cut to at most `max` bytes (on a char boundary), for storing device-sent values.
fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Bytes of metadata kept per stats event (keys and values).
const MAX_METADATA_BYTES: usize = 4_096;

fn parse_stat(v: Value, received_at: i64) -> Result<StatEvent, String> {
    let info: InfoObject =
        serde_json::from_value(v.clone()).map_err(|e| format!("invalid event: {e}"))?;
    let extra: StatExtra = serde_json::from_value(v).map_err(|e| format!("invalid event: {e}"))?;
    let app_id = info.app_id.clone().unwrap_or_default();
    if !landfall_core::names::is_valid_app_id(&app_id) {
        return Err(format!("app_id {app_id:?} is not a reverse-domain id"));
    }
    let device_id = info.device_id.clone().unwrap_or_default();
    if !landfall_core::names::is_valid_device_id(&device_id) {
        return Err(format!("device_id {device_id:?} is not a UUID"));
    }
    let action = extra
        .action
        .filter(|a| !a.is_empty())
        .ok_or("action is required")?;
    let metadata = extra.metadata.map(|m| {
        // At most 30 keys and about 4 KB per event: telemetry must not become a storage sink.
        let mut budget = MAX_METADATA_BYTES;
        let capped: serde_json::Map<String, Value> = m
            .into_iter()
            .take(30)
            .map_while(|(k, v)| {
                let v = match v {
                    Value::String(s) => truncate(&s, 2048),
                    other => truncate(&other.to_string(), 2048),
                };
                let k = truncate(&k, 64);
                budget = budget.checked_sub(k.len() + v.len())?;
                Some((k, Value::String(v)))
            })
            .collect();
        Value::Object(capped).to_string()
    });
    Ok(StatEvent {
        app_id,
        device_id: device_id.to_ascii_lowercase(),
        action: truncate(&action, 64),
        version_name: truncate(info.version_name.as_deref().unwrap_or(""), 256),
        old_version_name: truncate(extra.old_version_name.as_deref().unwrap_or(""), 256),
        platform: truncate(info.platform.as_deref().unwrap_or(""), 16),
        plugin_version: truncate(info.plugin_version.as_deref().unwrap_or(""), 32),
        at: extra.timestamp.filter(|t| *t > 0).unwrap_or(received_at),
        received_at,
        metadata,
        version_os: truncate(info.version_os.as_deref().unwrap_or(""), 64),
        custom_id: truncate(info.custom_id.as_deref().unwrap_or(""), 256),
        is_emulator: info.is_emulator.unwrap_or(false),
        is_prod: info.is_prod.unwrap_or(true),
        key_id: truncate(info.key_id.as_deref().unwrap_or(""), 64),
        // Joined from the device's last check-in when stored.
        channel: String::new(),
    })
}

/// `POST /stats`: one event object or an array of them (protocol §3). Unknown actions are kept.
pub async fn stats(State(s): State<Shared>, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request("invalid_json_body", format!("the body is not JSON: {e}")),
    };
    let now = now_ms();
    let (items, single) = match value {
        Value::Array(items) => (items, false),
        obj @ Value::Object(_) => (vec![obj], true),
        _ => {
            return bad_request(
                "invalid_json_body",
                "send a JSON object or an array of objects",
            )
        }
    };
    if items.len() > 1000 {
        return bad_request("too_many_events", "send at most 1000 events per request");
    }
    let mut events = Vec::with_capacity(items.len());
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match parse_stat(item, now) {
            Ok(mut ev) => {
                let Some(app) = s.catalog.app(&ev.app_id) else {
                    let msg = app_not_found(&ev.app_id).message;
                    if single {
                        return bad_request("app_not_found", msg);
                    }
                    results.push(json!({ "status": "error", "index": index, "error": "app_not_found", "message": msg }));
                    continue;
                };
                // Custom ids are kept only where the app lets devices set them (as for check-ins).
                if !app.settings.allow_device_custom_id {
                    ev.custom_id.clear();
                }
                events.push(ev);
                results.push(json!({ "status": "ok", "index": index }));
            }
            Err(msg) => {
                let msg = landfall_core::clip_with(&msg, MAX_MESSAGE_CHARS).into_owned();
                if single {
                    return bad_request("invalid_event", msg);
                }
                results.push(json!({ "status": "error", "index": index, "error": "invalid_event", "message": msg }));
            }
        }
    }
    // Over-budget events are dropped and counted, never refused (no 429 for devices).
    let events = s.stats.admit(events);
    if let Err(e) = s.stats.store(events).await {
        tracing::warn!(error = %e, "storing stats failed");
        // 5xx: the plugin keeps the batch and retries later.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "stats_unavailable", "message": "stats could not be stored; retry later" })),
        )
            .into_response();
    }
    if single {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        Json(json!({ "status": "ok", "results": results })).into_response()
    }
}

fn channel_error(error: &'static str, message: String) -> Response {
    answer(
        StatusCode::OK,
        PluginError::new(
            error,
            landfall_core::clip_with(&message, MAX_MESSAGE_CHARS),
            Kind::Failed,
        ),
    )
}

/// The app's public channel for the device's platform (what a device without a choice gets).
/// Store (or remove) a legacy device's own channel choice and publish it to the catalog.
async fn store_device_choice(
    s: &Shared,
    device: &DeviceInfo,
    channel_id: Option<i64>,
) -> Result<bool, Response> {
    let existed = s
        .store
        .set_device_channel(&device.app_id, &device.device_id, channel_id)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "storing a device's channel choice failed");
            // 5xx: the plugin reports the failure to the app, which may retry.
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(PluginError::new(
                    "channel_unavailable",
                    "the channel choice could not be stored; retry later",
                    Kind::Failed,
                )),
            )
                .into_response()
        })?;
    s.catalog
        .set_override(&device.app_id, &device.device_id, channel_id)
        .await;
    Ok(existed)
}

/// `POST /channel_self`: may this device choose that channel?
///
/// Plugins ≥ 5.34/6.34/7.34 (and 8.x) keep the choice on the device: this only validates.
/// Older plugins keep nothing locally: the choice is stored here as the device's assignment (one
/// per device, shared with operator overrides, the latest wins), and choosing the platform's
/// public default channel removes it.
pub async fn channel_set(State(s): State<Shared>, body: Bytes) -> Response {
    let (device, extra) = match parse_info(&body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(wanted) = extra.channel.filter(|c| !c.is_empty()) else {
        return bad_request("missing_channel", "channel is required");
    };
    let Some(app) = s.catalog.app(&device.app_id) else {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    };
    let Some(c) = app.channels.iter().find(|c| c.name == wanted) else {
        return channel_error(
            "channel_not_found",
            format!("Cannot find channel {:?}", landfall_core::clip(&wanted)),
        );
    };
    let legacy = !PluginCaps::of(&device.plugin_version).local_channel;
    if legacy && public_channel(&device, &app.channels).is_some_and(|d| d.id == c.id) {
        // Back to the default: the stored assignment (whoever made it) goes.
        return match store_device_choice(&s, &device, None).await {
            Ok(_) => Json(json!({ "status": "ok" })).into_response(),
            Err(r) => r,
        };
    }
    if !c.flags.allow_device_self_set {
        return if c.flags.public {
            channel_error(
                "public_channel_self_set_not_allowed",
                format!(
                    "Channel {wanted} is the public channel; devices get it without setting it"
                ),
            )
        } else {
            channel_error(
                "channel_self_set_not_allowed",
                format!("Channel {wanted} does not allow devices to choose it"),
            )
        };
    }
    if !c.flags.platform_enabled(device.platform) {
        return channel_error(
            "channel_platform_disabled",
            format!("Channel {wanted} is off for {}", device.platform.as_str()),
        );
    }
    if legacy {
        return match store_device_choice(&s, &device, Some(c.id)).await {
            Ok(_) => Json(json!({ "status": "ok" })).into_response(),
            Err(r) => r,
        };
    }
    Json(json!({ "status": "ok", "allowSet": true })).into_response()
}

/// An info object whose empty `version_name`/`version_build` are filled in: `getChannel()` must
/// work for such devices too (as in Capgo); the channel does not depend on the versions.
fn with_versions(mut raw: InfoObject) -> InfoObject {
    let empty = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    if empty(&raw.version_build) {
        raw.version_build = Some("unknown".into());
    }
    if empty(&raw.version_name) {
        raw.version_name = Some("builtin".into());
    }
    raw
}

/// `PUT /channel_self`: the channel this device really resolves to.
pub async fn channel_get(State(s): State<Shared>, body: Bytes) -> Response {
    let raw = match info_json(&body) {
        Ok(raw) => raw,
        Err(r) => return r,
    };
    let (device, _) = match validate_info(with_versions(raw)) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(app) = s.catalog.app(&device.app_id) else {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    };
    let override_channel = app.overrides.get(&device.device_id).copied();
    match resolve_channel(&device, &app.channels, override_channel) {
        Ok((c, via)) => Json(json!({
            "channel": c.name,
            "status": if via == Via::Override { "override" } else { "default" },
            "allowSet": c.flags.allow_device_self_set,
        }))
        .into_response(),
        Err(e) => answer(
            StatusCode::BAD_REQUEST,
            PluginError::new("channel_not_found", e.message, Kind::Failed),
        ),
    }
}

fn info_from_query(q: &HashMap<String, String>) -> InfoObject {
    let s = |k: &str| q.get(k).cloned();
    let b = |k: &str| q.get(k).map(|v| v == "true" || v == "1");
    InfoObject {
        platform: s("platform"),
        device_id: s("device_id"),
        app_id: s("app_id"),
        custom_id: s("custom_id"),
        version_build: s("version_build"),
        version_code: s("version_code"),
        version_os: s("version_os"),
        version_name: s("version_name"),
        plugin_version: s("plugin_version"),
        is_emulator: b("is_emulator"),
        is_prod: b("is_prod"),
        install_source: s("install_source"),
        default_channel: s("defaultChannel"),
        key_id: s("key_id"),
        channel: None,
    }
}

/// The info object of a query string (`GET`/`DELETE /channel_self`).
fn query_info(query: RawQuery) -> Result<InfoObject, Response> {
    let uri = format!("/?{}", query.0.unwrap_or_default())
        .parse()
        .unwrap_or_else(|_| axum::http::Uri::from_static("/"));
    match Query::<HashMap<String, String>>::try_from_uri(&uri) {
        Ok(Query(q)) => Ok(info_from_query(&q)),
        Err(e) => Err(bad_request("invalid_query_parameters", e.body_text())),
    }
}

/// `GET /channel_self?<info>`: channels this device may pick.
pub async fn channel_list(State(s): State<Shared>, query: RawQuery) -> Response {
    let info = match query_info(query) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let device = match info.validate() {
        Ok(d) => d,
        Err(e) => return bad_request(e.error, e.message),
    };
    let Some(app) = s.catalog.app(&device.app_id) else {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    };
    let list: Vec<Value> = app
        .channels
        .iter()
        .filter(|c| {
            let f = &c.flags;
            f.platform_enabled(device.platform)
                && if device.is_emulator { f.allow_emulator } else { f.allow_device }
                && if device.is_prod { f.allow_prod } else { f.allow_dev }
                && (f.public || f.allow_device_self_set)
        })
        .map(|c| json!({ "id": c.id, "name": c.name, "public": c.flags.public, "allow_self_set": c.flags.allow_device_self_set }))
        .collect();
    Json(list).into_response()
}

/// `DELETE /channel_self` (info object in the query string, or a JSON body): legacy plugins
/// remove their stored channel choice; with nothing stored the answer is Capgo's
/// `cannot_override`. Newer plugins keep the choice on the device and get `{"status":"ok"}`.
pub async fn channel_delete(State(s): State<Shared>, query: RawQuery, body: Bytes) -> Response {
    let has_query = query.0.as_deref().is_some_and(|q| !q.is_empty());
    let info = if !has_query && !body.is_empty() {
        info_json(&body)
    } else {
        query_info(query)
    };
    let info = match info {
        Ok(i) => i,
        Err(r) => return r,
    };
    let (device, _) = match validate_info(info) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if s.catalog.app(&device.app_id).is_none() {
        return answer(StatusCode::OK, app_not_found(&device.app_id));
    }
    if PluginCaps::of(&device.plugin_version).local_channel {
        return Json(json!({ "status": "ok" })).into_response();
    }
    match store_device_choice(&s, &device, None).await {
        Ok(true) => Json(json!({ "status": "ok" })).into_response(),
        Ok(false) => channel_error(
            "cannot_override",
            "This device has no stored channel to remove; it uses the default channel".into(),
        ),
        Err(r) => r,
    }
}
