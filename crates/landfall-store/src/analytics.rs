//! Stats ingestion and the report queries, shared by every SQL backend.
//!
//! Both dialects run the same statements; [`sql_analytics!`](crate::sql_analytics) expands the
//! bodies of `insert_stats`, `prune_stats` and `stats_data` inside each backend crate (which
//! provides `sqlx`, its `db` error mapping and its pool). The rollups kept from the `installs` table
//! (`release_totals`, `adoption`, `install_durations`) are maintained by triggers each backend's
//! migration defines, so they change in the same transaction as the rows they count, whoever writes
//! those rows (stats ingestion or the device recorder).

/// Store an event once; answers the channel it was recorded under (no row: already stored).
pub const INSERT_EVENT: &str =
    "INSERT INTO stats_events (app_id, device_id, action, version_name, \
     old_version_name, platform, plugin_version, at, received_at, metadata, version_os, custom_id, \
     is_emulator, is_prod, key_id, channel) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
     CASE WHEN $16 = '' THEN COALESCE((SELECT d.channel FROM devices d \
     WHERE d.app_id = $1 AND d.device_id = $2), '') ELSE $16 END) \
     ON CONFLICT (app_id, device_id, at, action, version_name) DO NOTHING RETURNING channel";

/// Add to a day's rollup.
pub const ADD_DAILY: &str = "INSERT INTO stats_daily (app_id, day, version_name, action, platform, \
     version_os, plugin_version, channel, events) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (app_id, day, version_name, action, platform, version_os, plugin_version, channel) \
     DO UPDATE SET events = stats_daily.events + excluded.events";

/// A download of the bundle started (keeps the earliest).
pub const INSTALL_STARTED: &str =
    "INSERT INTO installs (app_id, version_name, device_id, started_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (app_id, version_name, device_id) \
     DO UPDATE SET started_at = excluded.started_at \
     WHERE installs.started_at IS NULL OR installs.started_at > excluded.started_at";

/// A failure before the bundle ran.
pub const INSTALL_FAILED: &str =
    "INSERT INTO installs (app_id, version_name, device_id, failures) \
     VALUES ($1, $2, $3, 1) ON CONFLICT (app_id, version_name, device_id) \
     DO UPDATE SET failures = installs.failures + 1 WHERE installs.installed_at IS NULL";

/// The device runs the bundle (the first time counts).
pub const INSTALL_RAN: &str =
    "INSERT INTO installs (app_id, version_name, device_id, installed_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (app_id, version_name, device_id) \
     DO UPDATE SET installed_at = excluded.installed_at WHERE installs.installed_at IS NULL";

/// Raw events older than a time, a slice at a time (the writer is never held for long).
pub const PRUNE_EVENTS: &str = "DELETE FROM stats_events WHERE id IN \
     (SELECT id FROM stats_events WHERE received_at < $1 LIMIT 10000)";

/// Active devices since a time (optionally one channel's).
pub const ACTIVE_DEVICES: &str = "SELECT COUNT(*) FROM devices \
     WHERE app_id = $1 AND last_seen >= $2 AND ($3 IS NULL OR channel = $3)";

/// Devices seen since a time, per version.
pub const VERSIONS: &str = "SELECT version_name, COUNT(*) AS n FROM devices \
     WHERE app_id = $1 AND last_seen >= $2 AND ($3 IS NULL OR channel = $3) \
     GROUP BY version_name ORDER BY n DESC, version_name";

/// The latest bundles (or one), with the first time a channel pointed at each.
pub const RELEASES: &str = "SELECT b.version, b.created_at, \
     (SELECT MIN(h.at) FROM channel_history h WHERE h.bundle_id = b.id) AS first_served \
     FROM bundles b WHERE b.app_id = $1 AND ($2 IS NULL OR b.version = $2) \
     AND ($2 IS NOT NULL OR b.deleted_at IS NULL) \
     ORDER BY b.created_at DESC, b.id DESC LIMIT $3";

/// One bundle's install counters.
pub const RELEASE_TOTALS: &str = "SELECT attempted, installed, first_try FROM release_totals \
     WHERE app_id = $1 AND version_name = $2";

/// One bundle's adoption buckets.
pub const ADOPTION: &str = "SELECT bucket, devices FROM adoption \
     WHERE app_id = $1 AND version_name = $2 ORDER BY bucket";

/// One bundle's install-duration histogram.
pub const DURATIONS: &str = "SELECT bucket, devices FROM install_durations \
     WHERE app_id = $1 AND version_name = $2 ORDER BY bucket";

/// Events per dimension since a day.
pub const EVENTS: &str = "SELECT version_name, action, platform, version_os, plugin_version, \
     CAST(SUM(events) AS BIGINT) AS n FROM stats_daily \
     WHERE app_id = $1 AND day >= $2 AND ($3 IS NULL OR channel = $3) \
     GROUP BY version_name, action, platform, version_os, plugin_version";

/// Add to a day's download tally.
pub const ADD_DOWNLOADS: &str = "INSERT INTO downloads_daily (app_id, day, kind, requests, bytes) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app_id, day, kind) DO UPDATE SET \
     requests = downloads_daily.requests + excluded.requests, \
     bytes = downloads_daily.bytes + excluded.bytes";

/// Download tallies since a day.
pub const DOWNLOADS: &str =
    "SELECT kind, CAST(SUM(requests) AS BIGINT), CAST(SUM(bytes) AS BIGINT) \
     FROM downloads_daily WHERE app_id = $1 AND day >= $2 GROUP BY kind ORDER BY kind";

/// The rollup key of an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DailyKey {
    pub app_id: String,
    pub day: i64,
    pub version_name: String,
    pub action: String,
    pub platform: String,
    pub version_os: String,
    pub plugin_version: String,
    pub channel: String,
}

impl DailyKey {
    /// The key of a stored event (`channel` as stored).
    pub fn of(e: &crate::StatEvent, channel: String) -> Self {
        Self {
            app_id: e.app_id.clone(),
            day: landfall_core::analytics::cst_day(e.at),
            version_name: landfall_core::analytics::event_version(&e.version_name).to_owned(),
            action: e.action.clone(),
            platform: e.platform.clone(),
            version_os: e.version_os.clone(),
            plugin_version: e.plugin_version.clone(),
            channel,
        }
    }
}

/// Events in the order they are applied: by device time, so a download start lands before the
/// `set` it led to.
pub fn in_time_order(events: &[crate::StatEvent]) -> Vec<&crate::StatEvent> {
    let mut v: Vec<_> = events.iter().collect();
    v.sort_by_key(|e| e.at);
    v
}

/// The SQL-store bodies of the analytics methods; expands to inherent functions
/// `insert_stats_in`, `prune_stats_in`, `stats_data_in`, `add_downloads_in` and `pool_status`. Needs `sqlx`, `sqlx::Row` and a
/// `db(sqlx::Error) -> StoreError` in scope.
#[macro_export]
macro_rules! sql_analytics {
    ($db:ty) => {
        async fn insert_stats_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            events: &[$crate::StatEvent],
        ) -> $crate::StoreResult<u64> {
            use landfall_core::analytics::{event_version, install_step, InstallStep};
            use $crate::analytics as a;
            let mut daily: std::collections::HashMap<a::DailyKey, i64> = Default::default();
            let mut fresh = 0u64;
            for e in a::in_time_order(events) {
                let stored: Option<String> = sqlx::query_scalar(a::INSERT_EVENT)
                    .bind(&e.app_id)
                    .bind(&e.device_id)
                    .bind(&e.action)
                    .bind(&e.version_name)
                    .bind(&e.old_version_name)
                    .bind(&e.platform)
                    .bind(&e.plugin_version)
                    .bind(e.at)
                    .bind(e.received_at)
                    .bind(&e.metadata)
                    .bind(&e.version_os)
                    .bind(&e.custom_id)
                    .bind(e.is_emulator)
                    .bind(e.is_prod)
                    .bind(&e.key_id)
                    .bind(&e.channel)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(db)?;
                let Some(channel) = stored else { continue };
                fresh += 1;
                *daily.entry(a::DailyKey::of(e, channel)).or_default() += 1;
                let (sql, at) = match install_step(&e.action) {
                    InstallStep::Started => (a::INSTALL_STARTED, Some(e.at)),
                    InstallStep::Failed => (a::INSTALL_FAILED, None),
                    InstallStep::Ran => (a::INSTALL_RAN, Some(e.at)),
                    InstallStep::None => continue,
                };
                let version = event_version(&e.version_name);
                if version.is_empty() {
                    continue;
                }
                let q = sqlx::query(sql)
                    .bind(&e.app_id)
                    .bind(version)
                    .bind(&e.device_id);
                let q = match at {
                    Some(at) => q.bind(at),
                    None => q,
                };
                q.execute(&mut **tx).await.map_err(db)?;
            }
            for (k, n) in daily {
                sqlx::query(a::ADD_DAILY)
                    .bind(&k.app_id)
                    .bind(k.day)
                    .bind(&k.version_name)
                    .bind(&k.action)
                    .bind(&k.platform)
                    .bind(&k.version_os)
                    .bind(&k.plugin_version)
                    .bind(&k.channel)
                    .bind(n)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
            }
            Ok(fresh)
        }

        async fn stats_data_in(
            pool: &sqlx::Pool<$db>,
            app_id: &str,
            q: &$crate::StatsQuery,
        ) -> $crate::StoreResult<$crate::StatsData> {
            use landfall_core::analytics::{cst_day, DAY_MS};
            use $crate::analytics as a;
            let count = |since: i64| {
                sqlx::query_scalar::<_, i64>(a::ACTIVE_DEVICES)
                    .bind(app_id)
                    .bind(since)
                    .bind(q.channel.as_deref())
                    .fetch_one(pool)
            };
            let active_day = count(q.now_ms - DAY_MS).await.map_err(db)? as u64;
            let active_month = count(q.now_ms - 30 * DAY_MS).await.map_err(db)? as u64;
            let versions = sqlx::query(a::VERSIONS)
                .bind(app_id)
                .bind(q.since_ms)
                .bind(q.channel.as_deref())
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
                .collect();
            let limit = if q.bundle.is_some() {
                1
            } else {
                q.releases as i64
            };
            let bundles = sqlx::query(a::RELEASES)
                .bind(app_id)
                .bind(q.bundle.as_deref())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let mut releases: Vec<(String, Option<i64>)> = bundles
                .iter()
                .map(|r| {
                    let created: i64 = r.get(1);
                    let served: Option<i64> = r.get(2);
                    (r.get::<String, _>(0), Some(served.unwrap_or(created)))
                })
                .collect();
            if let (Some(b), true) = (&q.bundle, releases.is_empty()) {
                // Not an uploaded bundle (builtin, or another server's): its devices still count.
                releases.push((b.clone(), None));
            }
            let mut out = Vec::with_capacity(releases.len());
            for (version, released_at) in releases {
                let totals = sqlx::query(a::RELEASE_TOTALS)
                    .bind(app_id)
                    .bind(&version)
                    .fetch_optional(pool)
                    .await
                    .map_err(db)?;
                let pairs = |sql: &'static str| {
                    let version = version.clone();
                    async move {
                        sqlx::query(sql)
                            .bind(app_id)
                            .bind(&version)
                            .fetch_all(pool)
                            .await
                            .map(|rows| {
                                rows.iter()
                                    .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) as u64))
                                    .collect::<Vec<_>>()
                            })
                    }
                };
                let adoption = pairs(a::ADOPTION)
                    .await
                    .map_err(db)?
                    .into_iter()
                    .map(|(b, n)| (b * landfall_core::analytics::ADOPTION_BUCKET_MS, n))
                    .collect::<Vec<_>>();
                let durations = pairs(a::DURATIONS).await.map_err(db)?;
                let get = |i: usize| totals.as_ref().map_or(0, |r| r.get::<i64, _>(i) as u64);
                let released_at = released_at.or_else(|| adoption.first().map(|(at, _)| *at));
                out.push($crate::ReleaseData {
                    version_name: version,
                    released_at,
                    attempted: get(0),
                    installed: get(1),
                    first_try: get(2),
                    adoption,
                    durations,
                });
            }
            let events = sqlx::query(a::EVENTS)
                .bind(app_id)
                .bind(cst_day(q.since_ms))
                .bind(q.channel.as_deref())
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(|r| $crate::EventCount {
                    version_name: r.get(0),
                    action: r.get(1),
                    platform: r.get(2),
                    version_os: r.get(3),
                    plugin_version: r.get(4),
                    events: r.get::<i64, _>(5) as u64,
                })
                .collect();
            let downloads = sqlx::query(a::DOWNLOADS)
                .bind(app_id)
                .bind(cst_day(q.since_ms))
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(|r| $crate::DownloadCount {
                    app_id: app_id.to_owned(),
                    day: cst_day(q.since_ms),
                    kind: r.get(0),
                    requests: r.get::<i64, _>(1) as u64,
                    bytes: r.get::<i64, _>(2) as u64,
                })
                .collect();
            Ok($crate::StatsData {
                active_day,
                active_month,
                versions,
                releases: out,
                events,
                downloads,
            })
        }

        /// How busy a pool is, for `/metrics`.
        fn pool_status(name: &'static str, pool: &sqlx::Pool<$db>) -> $crate::PoolStatus {
            $crate::PoolStatus {
                name,
                size: pool.size(),
                idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                max: pool.options().get_max_connections(),
            }
        }

        async fn add_downloads_in(
            tx: &mut sqlx::Transaction<'static, $db>,
            counts: &[$crate::DownloadCount],
        ) -> $crate::StoreResult<()> {
            for c in counts {
                sqlx::query($crate::analytics::ADD_DOWNLOADS)
                    .bind(&c.app_id)
                    .bind(c.day)
                    .bind(&c.kind)
                    .bind(i64::try_from(c.requests).unwrap_or(i64::MAX))
                    .bind(i64::try_from(c.bytes).unwrap_or(i64::MAX))
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
            }
            Ok(())
        }

        async fn prune_stats_in(
            pool: &sqlx::Pool<$db>,
            before_ms: i64,
        ) -> $crate::StoreResult<u64> {
            let mut total = 0;
            loop {
                let n = sqlx::query($crate::analytics::PRUNE_EVENTS)
                    .bind(before_ms)
                    .execute(pool)
                    .await
                    .map_err(db)?
                    .rows_affected();
                total += n;
                if n == 0 {
                    return Ok(total);
                }
            }
        }
    };
}
