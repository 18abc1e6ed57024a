//! Emergency response: the contact set-up, incidents with a timeline and linked actions, and the
//! kill switch that points every channel of the app at a known-good bundle (or builtin).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use landfall_icp::api::{
    ChannelMove, Contact, EmergencySetup, Incident, IncidentAction, IncidentEvent, IncidentStatus,
    IncidentUpdate, KillSwitch, KillSwitchResult, NewIncident,
};
use landfall_icp::Localized;
use landfall_store::icp::IcpIncidentRow;
use landfall_store::{ChannelChange, ChannelMove as StoreMove, Role, StoreError};

use super::{authorize, bad, bilingual};
use crate::admin::auth::Caller;
use crate::admin::JsonBody;
use crate::error::{HttpError, HttpResult};
use crate::state::{AppState, Shared};

const EMERGENCY_KEY: &str = "emergency";

/// The emergency set-up of an app (empty when never set).
pub(crate) async fn emergency_of(s: &AppState, app: &str) -> HttpResult<EmergencySetup> {
    match s.icp.store.get_setting(app, EMERGENCY_KEY).await? {
        Some(row) => serde_json::from_value(row.value).map_err(HttpError::internal),
        None => Ok(EmergencySetup::default()),
    }
}

fn check_contact(field: &str, c: &Contact) -> HttpResult<()> {
    if c.name.trim().is_empty() {
        return Err(bad(
            "invalid_contact",
            format!("{field}.name is empty"),
            format!("{field}.name 为空"),
        ));
    }
    let digits = c.phone.chars().filter(char::is_ascii_digit).count();
    let allowed = c
        .phone
        .chars()
        .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch));
    if !allowed || !(5..=20).contains(&digits) {
        return Err(bad(
            "invalid_contact",
            format!("{field}.phone `{}` is not a phone number (5–20 digits; +, -, spaces and parentheses allowed)", c.phone),
            format!("{field}.phone「{}」不是电话号码（5–20 位数字，可含 +、-、空格和括号）", c.phone),
        ));
    }
    Ok(())
}

/// The emergency-response set-up.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/emergency", tag = "icp",
    responses((status = 200, description = "EmergencySetup")))]
pub async fn get_emergency(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<EmergencySetup>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    Ok(Json(emergency_of(&s, &app).await?))
}

/// Replace the emergency-response set-up (compliance officer, authority contacts, provider,
/// legal counsel).
#[utoipa::path(put, path = "/api/v1/apps/{app}/icp/emergency", tag = "icp",
    request_body(content = Object, description = "EmergencySetup"),
    responses((status = 200, description = "EmergencySetup"), (status = 400, description = "invalid_contact")))]
pub async fn put_emergency(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<EmergencySetup>,
) -> HttpResult<Json<EmergencySetup>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let req = body.parse()?;
    if let Some(c) = &req.compliance_officer {
        check_contact("compliance_officer", c)?;
    }
    if let Some(c) = &req.provider {
        check_contact("provider", c)?;
    }
    if let Some(c) = &req.legal_counsel {
        check_contact("legal_counsel", c)?;
    }
    for (i, c) in req.authority_contacts.iter().enumerate() {
        check_contact(&format!("authority_contacts[{i}]"), c)?;
    }
    let value = serde_json::to_value(&req).map_err(HttpError::internal)?;
    s.icp
        .store
        .put_setting(&app, EMERGENCY_KEY, &value, &caller.actor())
        .await?;
    Ok(Json(req))
}

fn incident_of(row: &IcpIncidentRow) -> HttpResult<Incident> {
    let mut i: Incident = serde_json::from_value(row.data.clone()).map_err(HttpError::internal)?;
    i.id = row.id;
    Ok(i)
}

/// Every incident of an app, newest first.
pub(crate) async fn incidents_of(s: &AppState, app: &str) -> HttpResult<Vec<Incident>> {
    s.icp
        .store
        .list_incidents(app)
        .await?
        .iter()
        .map(incident_of)
        .collect()
}

fn not_found(app: &str, id: &str) -> HttpError {
    bilingual(
        StatusCode::NOT_FOUND,
        "incident_not_found",
        &Localized::new(
            format!(
                "incident {id} does not exist in {app}; see `landfall icp incident list {app}`"
            ),
            format!("{app} 中不存在事件 {id}"),
        ),
    )
}

async fn find(s: &AppState, app: &str, id: &str) -> HttpResult<IcpIncidentRow> {
    let n: i64 = id.parse().map_err(|_| not_found(app, id))?;
    s.icp.store.get_incident(app, n).await.map_err(|e| match e {
        StoreError::NotFound(_) => not_found(app, id),
        other => other.into(),
    })
}

/// Applies `change` to the stored incident, re-reading and retrying when someone else wrote
/// meanwhile (an action that already happened must always be recorded).
async fn modify(
    s: &AppState,
    app: &str,
    id: &str,
    actor: &str,
    change: impl Fn(&mut Incident),
) -> HttpResult<Incident> {
    let mut attempts = 0;
    loop {
        let row = find(s, app, id).await?;
        let mut incident = incident_of(&row)?;
        change(&mut incident);
        let data = serde_json::to_value(&incident).map_err(HttpError::internal)?;
        match s
            .icp
            .store
            .update_incident(app, row.id, &data, row.revision, actor)
            .await
        {
            Ok(row) => return incident_of(&row),
            Err(StoreError::Conflict(_)) if attempts < 5 => attempts += 1,
            Err(StoreError::Conflict(m)) => return Err(HttpError::conflict("incident_changed", m)),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Open an incident.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/incidents", tag = "icp",
    request_body(content = Object, description = "NewIncident"),
    responses((status = 201, description = "Incident")))]
pub async fn create(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    body: JsonBody<NewIncident>,
) -> HttpResult<(StatusCode, Json<Incident>)> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let req = body.parse()?;
    let title = req.title.trim().to_owned();
    if title.is_empty() {
        return Err(bad(
            "invalid_incident",
            "the incident needs a title",
            "事件需要标题",
        ));
    }
    let now = Utc::now();
    let officer = match req
        .officer
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
    {
        Some(o) => Some(o),
        None => emergency_of(&s, &app)
            .await?
            .compliance_officer
            .map(|c| c.name),
    };
    let actor = caller.actor();
    let incident = Incident {
        id: 0,
        title,
        severity: req.severity,
        status: IncidentStatus::Open,
        officer,
        description: req.description,
        occurred_at: req.occurred_at.unwrap_or(now),
        opened_at: now,
        opened_by: actor.clone(),
        closed_at: None,
        timeline: vec![IncidentEvent {
            at: now,
            actor: actor.clone(),
            kind: "opened".into(),
            note: String::new(),
            status: Some(IncidentStatus::Open),
        }],
        actions: vec![],
    };
    let data = serde_json::to_value(&incident).map_err(HttpError::internal)?;
    let row = s.icp.store.insert_incident(&app, &data, &actor).await?;
    tracing::warn!(app = %app, id = row.id, severity = ?req.severity, "ICP incident opened");
    Ok((StatusCode::CREATED, Json(incident_of(&row)?)))
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/incidents", tag = "icp",
    responses((status = 200, description = "Vec<Incident>")))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Json<Vec<Incident>>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    Ok(Json(incidents_of(&s, &app).await?))
}

/// One incident.
#[utoipa::path(get, path = "/api/v1/apps/{app}/icp/incidents/{id}", tag = "icp",
    responses((status = 200, description = "Incident"), (status = 404, description = "incident_not_found")))]
pub async fn get(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
) -> HttpResult<Json<Incident>> {
    authorize(&s, &caller, &app, Role::Read).await?;
    Ok(Json(incident_of(&find(&s, &app, &id).await?)?))
}

/// Add a note, a linked action and/or a status change to the timeline.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/incidents/{id}/timeline", tag = "icp",
    request_body(content = Object, description = "IncidentUpdate"),
    responses((status = 200, description = "Incident")))]
pub async fn update(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
    body: JsonBody<IncidentUpdate>,
) -> HttpResult<Json<Incident>> {
    authorize(&s, &caller, &app, Role::Admin).await?;
    let req = body.parse()?;
    let note = req.note.trim().to_owned();
    if note.is_empty() && req.status.is_none() && req.action.is_none() {
        return Err(bad(
            "invalid_incident",
            "give a note, a status or an action",
            "请填写备注、状态或处置措施",
        ));
    }
    if let Some(a) = &req.action {
        if a.kind.trim().is_empty() {
            return Err(bad(
                "invalid_incident",
                "action.kind is empty",
                "action.kind 为空",
            ));
        }
    }
    let actor = caller.actor();
    let now = Utc::now();
    let incident = modify(&s, &app, &id, &actor, |i| {
        if let Some(a) = &req.action {
            i.actions.push(IncidentAction {
                at: now,
                actor: actor.clone(),
                kind: a.kind.trim().to_owned(),
                detail: a.detail.clone(),
                channels: vec![],
            });
        }
        if let Some(st) = req.status {
            i.status = st;
            i.closed_at = (st == IncidentStatus::Closed).then_some(now);
        }
        let kind = match (&req.action, req.status) {
            (Some(_), _) => "action",
            (None, Some(_)) => "status",
            (None, None) => "note",
        };
        i.timeline.push(IncidentEvent {
            at: now,
            actor: actor.clone(),
            kind: kind.into(),
            note: match &req.action {
                Some(a) if note.is_empty() => format!("{}: {}", a.kind.trim(), a.detail),
                _ => note.clone(),
            },
            status: req.status,
        });
    })
    .await?;
    Ok(Json(incident))
}

async fn bundle_name(s: &AppState, id: Option<i64>) -> HttpResult<String> {
    match id {
        None => Ok("builtin".into()),
        Some(id) => Ok(s.store.get_bundle_by_id(id).await?.version),
    }
}

/// Point every channel of the app at a known-good bundle version (or `builtin`) in one call,
/// ending progressive rollouts, and record it on the incident.
#[utoipa::path(post, path = "/api/v1/apps/{app}/icp/incidents/{id}/kill-switch", tag = "icp",
    request_body(content = Object, description = "{\"target\": \"1.0.0\" | \"builtin\", \"note\": \"…\"}"),
    responses((status = 200, description = "KillSwitchResult"), (status = 404, description = "bundle_not_found / incident_not_found"),
              (status = 409, description = "bundle_deleted / no_channels")))]
pub async fn kill_switch(
    State(s): State<Shared>,
    caller: Caller,
    Path((app, id)): Path<(String, String)>,
    body: JsonBody<KillSwitch>,
) -> HttpResult<Json<KillSwitchResult>> {
    authorize(&s, &caller, &app, Role::Upload).await?;
    let req = body.parse()?;
    find(&s, &app, &id).await?;
    let target_name = req.target.trim().to_owned();
    let target = if target_name == "builtin" {
        None
    } else {
        let b = crate::admin::bundles::find(&s, &app, &target_name).await?;
        if b.deleted_at.is_some() {
            return Err(HttpError::conflict(
                "bundle_deleted",
                format!("bundle {target_name} was deleted and cannot be served; pick another known-good version or builtin / 该版本已删除，请选择其他可用版本或 builtin"),
            ));
        }
        crate::admin::channels::check_installable(&s, &app, &b.version, &b.variants).await?;
        Some(b.id)
    };
    let channels = s.store.list_channels(&app).await?;
    if channels.is_empty() {
        return Err(HttpError::conflict(
            "no_channels",
            format!("{app} has no channels, so devices get no bundle from this server; nothing to switch / 该应用没有渠道，无需切换"),
        ));
    }
    let actor = caller.actor();
    let mut moves = Vec::with_capacity(channels.len());
    let mut batch = Vec::with_capacity(channels.len());
    for c in channels {
        let rollout_ended = c.rollout.is_some();
        moves.push(ChannelMove {
            channel: c.name,
            from: bundle_name(&s, c.bundle_id).await?,
            to: target_name.clone(),
            rollout_ended,
        });
        batch.push(StoreMove {
            channel_id: c.id,
            change: ChannelChange {
                target: Some(target),
                rollout: rollout_ended.then_some(None),
                reason: "kill_switch".into(),
                ..Default::default()
            },
        });
    }
    // Every channel moves, or none does (one transaction).
    s.store.update_channels(batch, &actor).await?;
    s.catalog.reload(s.store.as_ref(), &app).await?;
    let now = Utc::now();
    let note = req.note.trim().to_owned();
    let detail = format!(
        "all channels → {target_name}{}",
        if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        }
    );
    let incident = modify(&s, &app, &id, &actor, |i| {
        i.actions.push(IncidentAction {
            at: now,
            actor: actor.clone(),
            kind: "kill_switch".into(),
            detail: detail.clone(),
            channels: moves.clone(),
        });
        i.timeline.push(IncidentEvent {
            at: now,
            actor: actor.clone(),
            kind: "kill_switch".into(),
            note: detail.clone(),
            status: None,
        });
    })
    .await?;
    tracing::warn!(app = %app, incident = incident.id, target = %target_name, channels = moves.len(), "kill switch");
    Ok(Json(KillSwitchResult {
        target: target_name,
        channels: moves,
        incident,
    }))
}
