//! `/api/v1/apps/{app}/stats`: release metrics computed from the store's rollups, and
//! `/stats/live`, a server-sent event stream that says when new events for the app committed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures::Stream;
use landfall_api_types::{
    ActionCount, ActiveDevices, AdoptionPoint, BytesServed, FailureBreakdown, InstallCounts,
    KeyCount, Milestones, ReleaseStats, StatsReport, Transfer, VersionShare,
};
use landfall_core::analytics::{
    histogram_quantile, install_step, is_health, rate, share_of, time_reaching, InstallStep,
    DAY_MS, ROLLBACK_ACTION,
};
use landfall_store::{now_ms, ReleaseData, Role, StatsData, StatsQuery};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use super::auth::Caller;
use super::existing_app;
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// Most releases one report covers.
pub const MAX_RELEASES: usize = 50;

/// Query of a stats report.
#[derive(Debug, Default, Deserialize)]
pub struct StatsParams {
    /// `30d`, `12h`, `90m` or an epoch-ms time (default `30d`).
    pub since: Option<String>,
    pub bundle: Option<String>,
    pub channel: Option<String>,
    pub releases: Option<usize>,
}

/// Parse `since`: a duration back from `now` (`30d`, `12h`, `90m`) or an epoch-ms time.
pub fn parse_since(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    let unit = |suffix: char, ms: i64| -> Option<Result<i64, String>> {
        let n = s.strip_suffix(suffix)?;
        Some(
            n.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .and_then(|n| n.checked_mul(ms))
                .filter(|back| *back / DAY_MS <= 3_650)
                .map(|back| now - back)
                .ok_or_else(|| format!("`since={s}`: expected a count like 30d, 12h or 90m")),
        )
    };
    if let Some(r) = unit('d', DAY_MS)
        .or_else(|| unit('h', 3_600_000))
        .or_else(|| unit('m', 60_000))
    {
        return r;
    }
    match s.parse::<i64>() {
        Ok(ms) if (0..=now).contains(&ms) => Ok(ms),
        _ => Err(format!(
            "`since={s}` is neither a duration (30d, 12h, 90m) nor an epoch-ms time in the past"
        )),
    }
}

/// Release metrics of an app.
#[utoipa::path(get, path = "/api/v1/apps/{app}/stats", tag = "stats",
    params(("since" = Option<String>, Query, description = "30d, 12h, 90m or epoch ms (default 30d)"),
           ("bundle" = Option<String>, Query), ("channel" = Option<String>, Query),
           ("releases" = Option<usize>, Query, description = "latest bundles to report on (default 5, at most 50)")),
    responses((status = 200, body = StatsReport), (status = 400, description = "invalid_query")))]
pub async fn report(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> HttpResult<Json<StatsReport>> {
    caller.require(Some(&app), Role::Read)?;
    let Query(p) = params.map_err(|e| HttpError::bad_request("invalid_query", e.body_text()))?;
    existing_app(&s, &app).await?;
    let now = now_ms();
    let since = parse_since(p.since.as_deref().unwrap_or("30d"), now)
        .map_err(|m| HttpError::bad_request("invalid_query", m))?;
    let query = StatsQuery {
        since_ms: since,
        now_ms: now,
        bundle: p.bundle.filter(|b| !b.is_empty()),
        channel: p.channel.filter(|c| !c.is_empty()),
        releases: p.releases.unwrap_or(5).clamp(1, MAX_RELEASES),
    };
    let data = s.store.stats_data(&app, &query).await?;
    Ok(Json(build(&app, &query, data)))
}

fn sorted_counts<K: Ord>(map: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn milestones(f: impl Fn(f64) -> Option<i64>) -> Milestones {
    Milestones {
        p50: f(0.5),
        p90: f(0.9),
        p95: f(0.95),
    }
}

/// Compute the report from the store's aggregates (no IO).
pub fn build(app_id: &str, q: &StatsQuery, data: StatsData) -> StatsReport {
    let seen: u64 = data.versions.iter().map(|(_, n)| n).sum();
    let versions = data
        .versions
        .into_iter()
        .map(|(version_name, devices)| VersionShare {
            share: rate(devices, seen).unwrap_or(0.0),
            version_name,
            devices,
        })
        .collect();

    let mut by_action: HashMap<String, u64> = HashMap::new();
    let mut by_platform: HashMap<String, u64> = HashMap::new();
    let mut by_os: HashMap<String, u64> = HashMap::new();
    let mut by_plugin: HashMap<String, u64> = HashMap::new();
    let mut health: HashMap<String, u64> = HashMap::new();
    let mut per_release: HashMap<&str, HashMap<String, u64>> = HashMap::new();
    for e in &data.events {
        if is_health(&e.action) {
            *health.entry(e.action.clone()).or_default() += e.events;
        }
        if install_step(&e.action) != InstallStep::Failed {
            continue;
        }
        *by_action.entry(e.action.clone()).or_default() += e.events;
        *by_platform.entry(e.platform.clone()).or_default() += e.events;
        let os = format!("{} {}", e.platform, e.version_os).trim().to_owned();
        *by_os.entry(os).or_default() += e.events;
        *by_plugin.entry(e.plugin_version.clone()).or_default() += e.events;
        *per_release
            .entry(e.version_name.as_str())
            .or_default()
            .entry(e.action.clone())
            .or_default() += e.events;
    }
    let keyed = |m: HashMap<String, u64>| {
        sorted_counts(m)
            .into_iter()
            .map(|(key, events)| KeyCount { key, events })
            .collect()
    };
    let actions = |m: HashMap<String, u64>| -> Vec<ActionCount> {
        sorted_counts(m)
            .into_iter()
            .map(|(action, events)| ActionCount { action, events })
            .collect()
    };

    let mut bytes_served = BytesServed::default();
    for d in &data.downloads {
        let t = match d.kind.as_str() {
            "full" => &mut bytes_served.full,
            "delta" => &mut bytes_served.delta,
            _ => continue,
        };
        *t = Transfer {
            requests: t.requests + d.requests,
            bytes: t.bytes + d.bytes,
        };
    }
    let active = data.active_month;
    let releases = data
        .releases
        .into_iter()
        .map(|r| {
            let failures = per_release
                .remove(r.version_name.as_str())
                .unwrap_or_default();
            release(r, active, actions(failures))
        })
        .collect();
    StatsReport {
        app_id: app_id.to_owned(),
        generated_at: q.now_ms,
        since: q.since_ms,
        channel: q.channel.clone(),
        active_devices: ActiveDevices {
            day: data.active_day,
            month: data.active_month,
        },
        versions,
        releases,
        failures: FailureBreakdown {
            by_action: keyed(by_action),
            by_platform: keyed(by_platform),
            by_os: keyed(by_os),
            by_plugin: keyed(by_plugin),
        },
        health: actions(health),
        bytes_served,
    }
}

fn release(r: ReleaseData, active_month: u64, failures: Vec<ActionCount>) -> ReleaseStats {
    let mut total = 0;
    let adoption = r
        .adoption
        .iter()
        .map(|&(at, n)| {
            total += n;
            AdoptionPoint {
                at: at + landfall_core::analytics::ADOPTION_BUCKET_MS,
                devices: total,
                share: rate(total, active_month).unwrap_or(0.0),
            }
        })
        .collect();
    let time_to = milestones(|p| {
        let released = r.released_at?;
        time_reaching(&r.adoption, share_of(active_month, p)).map(|at| (at - released).max(0))
    });
    let rollbacks = failures
        .iter()
        .find(|f| f.action == ROLLBACK_ACTION)
        .map_or(0, |f| f.events);
    ReleaseStats {
        devices: total,
        adoption,
        time_to,
        installs: InstallCounts {
            attempted: r.attempted,
            succeeded: r.installed,
            first_try: r.first_try,
            success_rate: rate(r.installed, r.attempted),
            first_try_rate: rate(r.first_try, r.installed),
        },
        install_duration_ms: milestones(|p| histogram_quantile(&r.durations, p)),
        failures,
        rollbacks,
        version_name: r.version_name,
        released_at: r.released_at,
    }
}

/// Live updates: an `event: stats` (data `{"app_id":…,"commits":n}`, the commits that stored new
/// events of the app) at most once a second, and a keep-alive comment every 15 s.
#[utoipa::path(get, path = "/api/v1/apps/{app}/stats/live", tag = "stats",
    responses((status = 200, content_type = "text/event-stream", description = "`stats` events")))]
pub async fn live(
    State(s): State<Shared>,
    caller: Caller,
    Path(app): Path<String>,
) -> HttpResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Some(&app), Role::Read)?;
    existing_app(&s, &app).await?;
    let rx = s.stats.subscribe();
    let stream = futures::stream::unfold((rx, app), |(mut rx, app)| async move {
        let commits = next_commits(&mut rx, &app).await?;
        let data = serde_json::json!({ "app_id": app, "commits": commits }).to_string();
        Some((Ok(Event::default().event("stats").data(data)), (rx, app)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Wait for a commit of `app`, then count what else commits within a second (at most one event a
/// second per listener). `None` once the server stops.
async fn next_commits(rx: &mut broadcast::Receiver<Arc<str>>, app: &str) -> Option<u64> {
    let mut commits = 0u64;
    while commits == 0 {
        match rx.recv().await {
            Ok(a) if &*a == app => commits += 1,
            Ok(_) => {}
            // Missed some: one of them may have been ours.
            Err(RecvError::Lagged(_)) => commits += 1,
            Err(RecvError::Closed) => return None,
        }
    }
    let window = tokio::time::sleep(Duration::from_secs(1));
    tokio::pin!(window);
    loop {
        tokio::select! {
            _ = &mut window => return Some(commits),
            r = rx.recv() => match r {
                Ok(a) if &*a == app => commits += 1,
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return Some(commits),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_parses_durations_and_times() {
        let now = 100 * DAY_MS;
        assert_eq!(parse_since("30d", now), Ok(70 * DAY_MS));
        assert_eq!(parse_since("12h", now), Ok(now - 12 * 3_600_000));
        assert_eq!(parse_since("90m", now), Ok(now - 90 * 60_000));
        assert_eq!(parse_since("5000", now), Ok(5_000));
        assert!(parse_since("-3d", now).is_err());
        assert!(parse_since("3y", now).is_err());
        assert!(parse_since("99999999999999999d", now).is_err());
        assert!(parse_since(&(now + 1).to_string(), now).is_err());
    }
}
