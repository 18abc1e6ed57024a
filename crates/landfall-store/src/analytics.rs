//! Stats ingestion and the report queries, shared by every SQL backend.
//!
//! Both dialects run the same statements; [`sql_analytics!`](crate::sql_analytics) expands the
//! bodies of `insert_stats`, `prune_stats` and `stats_data` inside each backend crate (which
//! provides `sqlx`, its `db` error mapping and its pool). The rollups kept from the `installs` table
//! (`release_totals`, `adoption`, `install_durations`) are maintained by triggers each backend's
//! migration defines, so they change in the same transaction as the rows they count, whoever writes
//! those rows (stats ingestion or the device recorder).

/// Row counts of ingestion's multi-row statements, largest first (16 parameters a row at most:
/// 1,000 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters). Every
/// batch is cut into slices of exactly these sizes ([`statement_chunks`]), so each table has at
/// most this many distinct statements: each engine prepares them once and reuses them from its
/// statement cache, instead of compiling a new statement of thousands of parameters for every
/// commit whose size differs from the last one.
pub const STATEMENT_ROWS: [usize; 10] = [1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1];

/// `rows` cut into consecutive slices whose lengths are all in [`STATEMENT_ROWS`] (largest that
/// fits first: at most two slices of each size but the largest).
pub fn statement_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let n = STATEMENT_ROWS.iter().copied().find(|&n| n <= rest.len())?;
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

/// How a statement names its parameters: `$1, $2, …` (PostgreSQL), or `?, ?, …` in order (SQLite:
/// there, every `$n` is a name the engine looks up in a list, so binding a statement with
/// thousands of them costs time quadratic in their number — most of a commit's CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    Numbered,
    InOrder,
}

impl Params {
    /// The style for an sqlx database (by its name: "SQLite" binds in order).
    pub fn of(database_name: &str) -> Self {
        if database_name == "SQLite" {
            Params::InOrder
        } else {
            Params::Numbered
        }
    }
}

/// `($1, $2, …), ($n+1, …)` (or `(?, ?, …), …`): `rows` rows of `cols` parameters.
pub fn placeholders(rows: usize, cols: usize, style: Params) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            match style {
                Params::Numbered => out.push_str(&format!("${}", r * cols + c + 1)),
                Params::InOrder => out.push('?'),
            }
        }
        out.push(')');
    }
    out
}

/// Store `rows` events once each, in one statement: an event without a channel gets the one its
/// device last checked in on. Answers the key and channel of each row stored (a row already
/// there, e.g. from a retried batch, answers nothing).
pub fn insert_events_sql(rows: usize, style: Params) -> String {
    format!(
        "INSERT INTO stats_events (app_id, device_id, action, version_name, old_version_name, \
         platform, plugin_version, at, received_at, metadata, version_os, custom_id, is_emulator, \
         is_prod, key_id, channel) \
         SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, \
         v.column8, v.column9, v.column10, v.column11, v.column12, v.column13, v.column14, \
         v.column15, CASE WHEN v.column16 = '' THEN COALESCE((SELECT d.channel FROM devices d \
         WHERE d.app_id = v.column1 AND d.device_id = v.column2), '') ELSE v.column16 END \
         FROM (VALUES {}) AS v WHERE TRUE \
         ON CONFLICT (app_id, device_id, at, action, version_name) DO NOTHING \
         RETURNING app_id, device_id, at, action, version_name, channel",
        placeholders(rows, 16, style)
    )
}

/// Add to days' rollups, `rows` keys (each once).
pub fn add_daily_sql(rows: usize, style: Params) -> String {
    format!(
        "INSERT INTO stats_daily (app_id, day, version_name, action, platform, version_os, \
         plugin_version, channel, events) VALUES {} \
         ON CONFLICT (app_id, day, version_name, action, platform, version_os, plugin_version, \
         channel) DO UPDATE SET events = stats_daily.events + excluded.events",
        placeholders(rows, 9, style)
    )
}

/// Apply [`InstallChange`]s, `rows` devices × bundles (each once), to what is stored: the earliest
/// download start is kept, failures count only before the bundle first ran, the first run counts.
/// (The `installs` triggers count attempts, installs, first tries, adoption and durations.)
pub fn add_installs_sql(rows: usize, style: Params) -> String {
    format!(
        "INSERT INTO installs (app_id, version_name, device_id, started_at, installed_at, \
         failures) VALUES {} ON CONFLICT (app_id, version_name, device_id) DO UPDATE SET \
         started_at = CASE WHEN excluded.started_at IS NOT NULL AND (installs.started_at IS NULL \
         OR installs.started_at > excluded.started_at) THEN excluded.started_at \
         ELSE installs.started_at END, \
         failures = CASE WHEN installs.installed_at IS NULL \
         THEN installs.failures + excluded.failures ELSE installs.failures END, \
         installed_at = COALESCE(installs.installed_at, excluded.installed_at) \
         WHERE (excluded.started_at IS NOT NULL AND (installs.started_at IS NULL \
         OR installs.started_at > excluded.started_at)) OR (installs.installed_at IS NULL \
         AND (excluded.failures > 0 OR excluded.installed_at IS NOT NULL))",
        placeholders(rows, 6, style)
    )
}

/// What an event is stored under (`stats_events_once`): app, device, time, action, version.
pub type EventKey = (String, String, i64, String, String);

/// The key of an event.
pub fn event_key(e: &crate::StatEvent) -> EventKey {
    (
        e.app_id.clone(),
        e.device_id.clone(),
        e.at,
        e.action.clone(),
        e.version_name.clone(),
    )
}

/// What a batch's new events do to one device's install of one bundle, as if applied one by one in
/// time order: the earliest download start, the first run, the failures before it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallChange {
    pub started_at: Option<i64>,
    pub installed_at: Option<i64>,
    pub failures: i64,
}

/// The install changes of new events (in time order), by (app, bundle, device), in key order (the
/// order rows are written: two writers lock them alike).
pub fn install_changes<'a>(
    fresh: impl IntoIterator<Item = &'a crate::StatEvent>,
) -> std::collections::BTreeMap<(String, String, String), InstallChange> {
    use landfall_core::analytics::{event_version, install_step, InstallStep};
    let mut out: std::collections::BTreeMap<(String, String, String), InstallChange> =
        Default::default();
    for e in fresh {
        let step = install_step(&e.action);
        let version = event_version(&e.version_name);
        if step == InstallStep::None || version.is_empty() {
            continue;
        }
        let c = out
            .entry((e.app_id.clone(), version.to_owned(), e.device_id.clone()))
            .or_default();
        match step {
            InstallStep::Started => {
                c.started_at = Some(c.started_at.map_or(e.at, |s| s.min(e.at)));
            }
            InstallStep::Failed if c.installed_at.is_none() => c.failures += 1,
            InstallStep::Ran if c.installed_at.is_none() => c.installed_at = Some(e.at),
            _ => {}
        }
    }
    out
}

/// Raw events older than a time, a slice at a time (the writer is never held for long).
pub const PRUNE_EVENTS: &str = "DELETE FROM stats_events WHERE id IN \
     (SELECT id FROM stats_events WHERE received_at < $1 LIMIT 10000)";

/// Active devices since a time (optionally one channel's): from `device_hours` for the hours after
/// the one holding the time, and from the devices seen within that hour since the time (an index
/// range over at most an hour of check-ins) — the same count as a pass over every device.
pub const ACTIVE_DEVICES: &str = "SELECT CAST((SELECT COALESCE(SUM(devices), 0) FROM device_hours \
     WHERE app_id = $1 AND hour > $2 / 3600000 AND ($3 IS NULL OR channel = $3)) \
     + (SELECT COUNT(*) FROM devices WHERE app_id = $1 AND last_seen >= $2 \
     AND last_seen < ($2 / 3600000 + 1) * 3600000 AND ($3 IS NULL OR channel = $3)) AS BIGINT)";

/// Devices seen since a time, per version (split like [`ACTIVE_DEVICES`]).
pub const VERSIONS: &str = "SELECT version_name, CAST(SUM(n) AS BIGINT) AS n FROM ( \
     SELECT version_name, devices AS n FROM device_hours \
     WHERE app_id = $1 AND hour > $2 / 3600000 AND ($3 IS NULL OR channel = $3) \
     UNION ALL SELECT version_name, 1 AS n FROM devices WHERE app_id = $1 AND last_seen >= $2 \
     AND last_seen < ($2 / 3600000 + 1) * 3600000 AND ($3 IS NULL OR channel = $3)) v \
     GROUP BY version_name HAVING SUM(n) > 0 ORDER BY 2 DESC, 1";

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

/// The rollup key of an event (fields in the order of the table's key, so sorting sorts rows).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
            use $crate::analytics as a;
            let style = a::Params::of(<$db as sqlx::Database>::NAME);
            // In time order, so a download start lands before the `set` it led to and the first
            // of two identical events is the one stored.
            let ordered = a::in_time_order(events);
            let mut stored: std::collections::HashMap<a::EventKey, String> = Default::default();
            for chunk in a::statement_chunks(&ordered) {
                let sql = a::insert_events_sql(chunk.len(), style);
                let mut q = sqlx::query(&sql);
                for e in chunk {
                    q = q
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
                        .bind(&e.channel);
                }
                for r in q.fetch_all(&mut **tx).await.map_err(db)? {
                    let key: a::EventKey = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
                    stored.insert(key, r.get(5));
                }
            }
            // The events just stored (a duplicate within the batch: its first), with channels.
            let mut fresh = Vec::with_capacity(stored.len());
            let mut daily: std::collections::HashMap<a::DailyKey, i64> = Default::default();
            for e in ordered {
                if let Some(channel) = stored.remove(&a::event_key(e)) {
                    *daily.entry(a::DailyKey::of(e, channel)).or_default() += 1;
                    fresh.push(e);
                }
            }
            let installs: Vec<_> = a::install_changes(fresh.iter().copied())
                .into_iter()
                .collect();
            for chunk in a::statement_chunks(&installs) {
                let sql = a::add_installs_sql(chunk.len(), style);
                let mut q = sqlx::query(&sql);
                for ((app, version, device), c) in chunk {
                    q = q
                        .bind(app)
                        .bind(version)
                        .bind(device)
                        .bind(c.started_at)
                        .bind(c.installed_at)
                        .bind(c.failures);
                }
                q.execute(&mut **tx).await.map_err(db)?;
            }
            let mut daily: Vec<_> = daily.into_iter().collect();
            daily.sort_by(|x, y| x.0.cmp(&y.0));
            for chunk in a::statement_chunks(&daily) {
                let sql = a::add_daily_sql(chunk.len(), style);
                let mut q = sqlx::query(&sql);
                for (k, n) in chunk {
                    q = q
                        .bind(&k.app_id)
                        .bind(k.day)
                        .bind(&k.version_name)
                        .bind(&k.action)
                        .bind(&k.platform)
                        .bind(&k.version_os)
                        .bind(&k.plugin_version)
                        .bind(&k.channel)
                        .bind(*n);
                }
                q.execute(&mut **tx).await.map_err(db)?;
            }
            Ok(fresh.len() as u64)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_chunks_cover_every_row_in_order_with_few_sizes() {
        for n in [0usize, 1, 7, 249, 256, 999, 1_000, 1_001, 2_743, 10_000] {
            let rows: Vec<usize> = (0..n).collect();
            let chunks: Vec<&[usize]> = statement_chunks(&rows).collect();
            assert_eq!(chunks.concat(), rows, "{n}");
            assert!(chunks.iter().all(|c| STATEMENT_ROWS.contains(&c.len())));
            for size in &STATEMENT_ROWS[1..] {
                assert!(
                    chunks.iter().filter(|c| c.len() == *size).count() <= 2,
                    "{n}"
                );
            }
        }
    }

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            placeholders(2, 3, Params::Numbered),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholders(2, 2, Params::InOrder), "(?, ?), (?, ?)");
        assert_eq!(Params::of("SQLite"), Params::InOrder);
        assert_eq!(Params::of("PostgreSQL"), Params::Numbered);
    }

    fn ev(device: &str, action: &str, version: &str, at: i64) -> crate::StatEvent {
        crate::StatEvent {
            app_id: "com.a.b".into(),
            device_id: device.into(),
            action: action.into(),
            version_name: version.into(),
            old_version_name: String::new(),
            platform: "ios".into(),
            plugin_version: "7.0.0".into(),
            at,
            received_at: at,
            metadata: None,
            version_os: String::new(),
            custom_id: String::new(),
            is_emulator: false,
            is_prod: true,
            key_id: String::new(),
            channel: String::new(),
        }
    }

    /// As the events would act one by one in time order: the earliest start, the first run,
    /// failures before it only; lifecycle events and events without a bundle change nothing.
    #[test]
    fn install_changes_apply_events_in_time_order() {
        let events = [
            ev("a", "download_zip_start", "1.0.0", 10),
            ev("a", "download_fail", "1.0.0", 11),
            ev("a", "download_zip_start", "1.0.0", 5),
            ev("a", "set", "1.0.0", 20),
            ev("a", "checksum_fail", "1.0.0", 21),
            ev("a", "set", "1.0.0", 30),
            ev("a", "download_manifest_file_fail", "1.0.0:www/app.js", 15),
            ev("b", "update_fail", "1.0.0", 7),
            ev("b", "app_moved_to_foreground", "1.0.0", 8),
            ev("c", "set", "", 9),
        ];
        let ordered = in_time_order(&events);
        let got = install_changes(ordered.iter().copied());
        let key = |d: &str| ("com.a.b".to_owned(), "1.0.0".to_owned(), d.to_owned());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            got[&key("a")],
            InstallChange {
                started_at: Some(5),
                installed_at: Some(20),
                failures: 2,
            }
        );
        assert_eq!(
            got[&key("b")],
            InstallChange {
                started_at: None,
                installed_at: None,
                failures: 1,
            }
        );
    }
}
