//! PostgreSQL implementation of [`landfall_store::Store`] and [`landfall_store::icp::IcpStore`].
//!
//! Transactions run at `READ COMMITTED`; a read-then-write that must not race takes row locks
//! with `SELECT … FOR UPDATE`, always in the same order (the app row first, then channel rows by
//! ascending id), so concurrent writers queue instead of deadlocking:
//!
//! * `insert_bundle` and `create_channel` lock the app row, so two uploads of one version (or a
//!   channel created twice) are serialised: the second sees the first's committed row.
//! * `update_channels` locks every channel of the batch up front (ascending id), then applies
//!   the moves: concurrent batches never interleave half-applied.
//! * `delete_bundle` locks the app and its channels before checking nothing serves the bundle.
//!
//! Serialization failures, deadlocks and lock timeouts are [`StoreError::Busy`].

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use landfall_store::rows::{
    backend, decode_json as json, device_limit, device_where, encode_json as to_json, msg,
};
use landfall_store::{
    default_flags, now_ms, App, AppKey, AppSettings, AppSettingsPatch, AuditEntry, Bundle,
    BundleVariantRow, CatalogChange, Channel, ChannelChange, ChannelHistoryEntry, ChannelMove,
    Device, DeviceFilter, DeviceOverride, DeviceSeen, DownloadCount, InsertedBundle, NewBundle,
    NewChannel, PointChannel, PoolStatus, RolloutRow, Scope, StatEvent, StatsData, StatsQuery,
    Store, StoreError, StoreResult, Token, SET_BY_DEVICE,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

mod copy;
mod icp;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The highest migration version this binary knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Run the migrations; a database migrated by a newer binary is refused with [`StoreError::TooNew`].
async fn migrate(pool: &PgPool) -> StoreResult<()> {
    match MIGRATOR.run(pool).await {
        Ok(()) => Ok(()),
        Err(sqlx::migrate::MigrateError::VersionMissing(missing)) => {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
                    .fetch_one(pool)
                    .await
                    .unwrap_or(None);
            Err(StoreError::TooNew {
                found: found.unwrap_or(missing).max(missing),
                known: known_schema_version(),
            })
        }
        Err(e) => Err(backend(e)),
    }
}

async fn applied_schema_version(pool: &PgPool) -> StoreResult<i64> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
            .map_err(backend)?;
    Ok(v.unwrap_or(0))
}

/// The PostgreSQL store: one connection pool for reads and writes.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        // serialization_failure, deadlock_detected, lock_not_available, query_canceled
        // (statement/lock timeout).
        sqlx::Error::Database(d)
            if matches!(
                d.code().as_deref(),
                Some("40001" | "40P01" | "55P03" | "57014")
            ) =>
        {
            StoreError::Busy(d.message().to_owned())
        }
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(
            "no database connection could be had in time (is PostgreSQL reachable?)".into(),
        ),
        // The connection broke, or what answered is not speaking the protocol (a cut link
        // closing mid-handshake looks like that).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed => StoreError::Unavailable(e.to_string()),
        _ => backend(e),
    }
}

/// Map a unique-constraint violation to a `Conflict` with a message a person can act on.
fn conflict(message: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    |e| match db(e) {
        StoreError::Conflict(_) => StoreError::Conflict(message()),
        other => other,
    }
}

type Tx = Transaction<'static, Postgres>;

impl PgStore {
    /// Connect (e.g. `postgres://user@host:5432/db`) and run migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url).map_err(backend)?;
        Self::connect_with(opts).await
    }

    /// Connect with explicit options and run migrations.
    pub async fn connect_with(opts: PgConnectOptions) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(db)?;
        migrate(&pool).await?;
        Ok(Self { pool })
    }

    /// The highest migration version applied to the database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        applied_schema_version(&self.pool).await
    }

    /// Close the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin().await
    }

    /// A write transaction that changes what the update check answers for `app_id` (the whole
    /// app, or one device's stored channel): it starts by adding to the catalog change feed, so
    /// the feed's counter row is always the first lock such a transaction takes (no lock-order
    /// cycles on PostgreSQL).
    async fn begin_catalog_write(
        &self,
        app_id: &str,
        device: Option<(&str, Option<i64>)>,
    ) -> StoreResult<Tx> {
        let mut tx = self.begin_write().await.map_err(db)?;
        Self::note_change(&mut tx, app_id, device).await?;
        Ok(tx)
    }

    /// Lock an app's row for the rest of the transaction (serialises that app's uploads and
    /// channel creations). A missing app locks nothing; the write then fails as it would anyway.
    async fn lock_app(tx: &mut Tx, app_id: &str) -> StoreResult<()> {
        sqlx::query("SELECT 1 FROM apps WHERE app_id = $1 FOR UPDATE")
            .bind(app_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Add an entry to the catalog change feed (in the writer's transaction: see
    /// [`Store::catalog_changes`]).
    async fn note_change(
        tx: &mut Transaction<'_, Postgres>,
        app_id: &str,
        device: Option<(&str, Option<i64>)>,
    ) -> StoreResult<()> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO catalog_seq (id, seq) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET seq = catalog_seq.seq + 1 RETURNING seq",
        )
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO catalog_changes (seq, app_id, device_id, channel_id, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seq)
        .bind(app_id)
        .bind(device.map(|d| d.0))
        .bind(device.and_then(|d| d.1))
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Write an audit entry: the next entry of the release log (see
    /// `landfall_store::release_log`).
    async fn audit(
        tx: &mut Transaction<'_, Postgres>,
        app_id: &str,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        Self::chain_entry(tx, app_id, actor, action, &detail).await
    }

    async fn insert_bundle_row(
        tx: &mut Transaction<'_, Postgres>,
        b: NewBundle,
        actor: &str,
    ) -> StoreResult<Bundle> {
        let now = now_ms();
        let variants = to_json(&b.variants);
        let id: i64 = sqlx::query(
            "INSERT INTO bundles (app_id, version, size, sha256, min_update_version, link, comment, variants, \
             created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(&b.app_id)
        .bind(&b.version)
        .bind(b.size as i64)
        .bind(&b.sha256)
        .bind(&b.min_update_version)
        .bind(&b.link)
        .bind(&b.comment)
        .bind(&variants)
        .bind(now)
        .bind(actor)
        .fetch_one(&mut **tx)
        .await
        .map_err(conflict(|| msg::version_exists(&b.app_id, &b.version)))?
        .get(0);
        Self::audit(
            tx,
            &b.app_id,
            actor,
            "bundle_upload",
            serde_json::json!({ "version": b.version, "sha256": b.sha256, "size": b.size,
                "encrypted": b.variants.iter().any(|v| v.key_id.is_some()),
                "external": b.variants.iter().any(|v| v.external_url.is_some()) }),
        )
        .await?;
        Ok(Bundle {
            id,
            app_id: b.app_id,
            version: b.version,
            size: b.size,
            sha256: b.sha256,
            min_update_version: b.min_update_version,
            link: b.link,
            comment: b.comment,
            created_at: now,
            created_by: actor.into(),
            deleted_at: None,
            variants: b.variants,
        })
    }

    async fn insert_channel(
        tx: &mut Transaction<'_, Postgres>,
        c: NewChannel,
        actor: &str,
    ) -> StoreResult<Channel> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO channels (app_id, name, flags, bundle_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING *",
        )
        .bind(&c.app_id)
        .bind(&c.name)
        .bind(to_json(&c.flags))
        .bind(c.bundle_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(conflict(|| msg::channel_exists(&c.app_id, &c.name)))?;
        let channel = channel_row(&row)?;
        sqlx::query("INSERT INTO channel_history (channel_id, bundle_id, at, actor, reason) VALUES ($1, $2, $3, $4, 'create')")
            .bind(channel.id)
            .bind(c.bundle_id)
            .bind(now)
            .bind(actor)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        let target = Self::bundle_name(tx, c.bundle_id).await?;
        Self::audit(
            tx,
            &c.app_id,
            actor,
            "channel_create",
            serde_json::json!({ "channel": c.name, "target": target, "flags": c.flags }),
        )
        .await?;
        Ok(channel)
    }

    /// Apply one change to a channel read in this transaction: history, row, audit.
    async fn apply_change(
        tx: &mut Transaction<'_, Postgres>,
        mut c: Channel,
        change: ChannelChange,
        actor: &str,
    ) -> StoreResult<Channel> {
        let id = c.id;
        let now = now_ms();
        let mut detail = serde_json::json!({ "channel": c.name, "reason": change.reason });
        if let Some(flags) = change.flags {
            detail["flags"] = serde_json::to_value(flags).unwrap_or_default();
            c.flags = flags;
        }
        if let Some(rollout) = change.rollout {
            detail["rollout"] = serde_json::to_value(rollout).unwrap_or_default();
            c.rollout = rollout;
        }
        if let Some(target) = change.target {
            detail["from"] = Self::bundle_name(tx, c.bundle_id).await?.into();
            detail["to"] = Self::bundle_name(tx, target).await?.into();
            c.bundle_id = target;
            sqlx::query("INSERT INTO channel_history (channel_id, bundle_id, at, actor, reason) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(target)
                .bind(now)
                .bind(actor)
                .bind(&change.reason)
                .execute(&mut **tx)
                .await
                .map_err(db)?;
        }
        c.updated_at = now;
        sqlx::query("UPDATE channels SET flags = $1, bundle_id = $2, rollout = $3, updated_at = $4 WHERE id = $5")
            .bind(to_json(&c.flags))
            .bind(c.bundle_id)
            .bind(c.rollout.as_ref().map(to_json))
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        let action = format!(
            "channel_{}",
            if change.reason.is_empty() {
                "update"
            } else {
                &change.reason
            }
        );
        Self::audit(tx, &c.app_id, actor, &action, detail).await?;
        Ok(c)
    }

    /// Store (`Some`) or remove (`None`) a device's one channel assignment; returns whether one
    /// was stored before.
    async fn write_assignment(
        tx: &mut Transaction<'_, Postgres>,
        app_id: &str,
        device_id: &str,
        channel_id: Option<i64>,
        set_by: &str,
    ) -> StoreResult<bool> {
        let existed = sqlx::query(
            "SELECT 1 FROM device_overrides WHERE app_id = $1 AND device_id = $2 FOR UPDATE",
        )
        .bind(app_id)
        .bind(device_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .is_some();
        let q = match channel_id {
            Some(cid) => sqlx::query(
                "INSERT INTO device_overrides (app_id, device_id, channel_id, created_at, set_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app_id, device_id) DO UPDATE SET \
                 channel_id = excluded.channel_id, created_at = excluded.created_at, set_by = excluded.set_by",
            )
            .bind(app_id)
            .bind(device_id)
            .bind(cid)
            .bind(now_ms())
            .bind(set_by),
            None => sqlx::query("DELETE FROM device_overrides WHERE app_id = $1 AND device_id = $2")
                .bind(app_id)
                .bind(device_id),
        };
        q.execute(&mut **tx).await.map_err(db)?;
        Ok(existed)
    }

    async fn bundle_name(
        tx: &mut Transaction<'_, Postgres>,
        id: Option<i64>,
    ) -> StoreResult<String> {
        let Some(id) = id else {
            return Ok("builtin".into());
        };
        let row = sqlx::query("SELECT version FROM bundles WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?;
        Ok(row.get(0))
    }
}

/// The transaction-scoped advisory lock device batches take (an arbitrary, fixed key).
const DEVICE_BATCH_LOCK: i64 = 0x4c46_4445_5649_4345; // "LFDEVICE"

landfall_store::sql_row_mappers!(PgRow);
landfall_store::sql_analytics!(Postgres);
landfall_store::sql_release_log!(PgStore, Postgres);

/// The `WHERE` clause of a [`DeviceFilter`] and its values after the app id
/// ([`landfall_store::rows::device_where`]). A search reads `device_search` (narrow, with trigram
/// indexes where pg_trgm exists), not every device row.
fn device_filter(f: &DeviceFilter) -> (String, Vec<String>) {
    device_where(f, "", |n| {
        format!(
            "device_id IN (SELECT device_id FROM device_search WHERE app_id = $1 \
             AND (device_id ILIKE ${n} OR custom_id ILIKE ${n}))"
        )
    })
}

#[async_trait]
impl Store for PgStore {
    async fn create_app(&self, app_id: &str, name: &str, actor: &str) -> StoreResult<App> {
        let mut tx = self.begin_catalog_write(app_id, None).await?;
        let now = now_ms();
        sqlx::query("INSERT INTO apps (app_id, name, created_at) VALUES ($1, $2, $3)")
            .bind(app_id)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(conflict(|| msg::app_exists(app_id)))?;
        Self::audit(
            &mut tx,
            app_id,
            actor,
            "app_create",
            serde_json::json!({ "name": name }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(App {
            app_id: app_id.into(),
            name: name.into(),
            created_at: now,
            settings: AppSettings::default(),
        })
    }

    async fn get_app(&self, app_id: &str) -> StoreResult<App> {
        sqlx::query("SELECT * FROM apps WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| app_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("app {app_id}")))
    }

    async fn list_apps(&self) -> StoreResult<Vec<App>> {
        let rows = sqlx::query("SELECT * FROM apps ORDER BY app_id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(rows.iter().map(app_row).collect())
    }

    async fn update_app_settings(
        &self,
        app_id: &str,
        patch: AppSettingsPatch,
        actor: &str,
    ) -> StoreResult<App> {
        let mut tx = self.begin_catalog_write(app_id, None).await?;
        let mut app = sqlx::query("SELECT * FROM apps WHERE app_id = $1 FOR UPDATE")
            .bind(app_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .map(|r| app_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("app {app_id}")))?;
        let before = app.settings.clone();
        if let Some(v) = patch.expose_metadata {
            app.settings.expose_metadata = v;
        }
        if let Some(v) = patch.allow_device_custom_id {
            app.settings.allow_device_custom_id = v;
        }
        if let Some(v) = patch.download_base_mainland {
            app.settings.download_base_mainland = v;
        }
        if let Some(v) = patch.download_base_global {
            app.settings.download_base_global = v;
        }
        sqlx::query(
            "UPDATE apps SET expose_metadata = $1, allow_device_custom_id = $2, \
             download_base_mainland = $3, download_base_global = $4 WHERE app_id = $5",
        )
        .bind(app.settings.expose_metadata)
        .bind(app.settings.allow_device_custom_id)
        .bind(&app.settings.download_base_mainland)
        .bind(&app.settings.download_base_global)
        .bind(app_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        Self::audit(
            &mut tx,
            app_id,
            actor,
            "app_settings",
            serde_json::json!({ "from": before, "to": app.settings }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(app)
    }

    async fn add_app_key(
        &self,
        app_id: &str,
        key_id: &str,
        public_pem: &str,
        actor: &str,
    ) -> StoreResult<AppKey> {
        let mut tx = self.begin_catalog_write(app_id, None).await?;
        let now = now_ms();
        sqlx::query("INSERT INTO app_keys (app_id, key_id, public_pem, created_at, created_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(app_id)
            .bind(key_id)
            .bind(public_pem)
            .bind(now)
            .bind(actor)
            .execute(&mut *tx)
            .await
            .map_err(conflict(|| msg::key_exists(app_id, key_id)))?;
        Self::audit(
            &mut tx,
            app_id,
            actor,
            "key_add",
            serde_json::json!({ "key_id": key_id }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(AppKey {
            app_id: app_id.into(),
            key_id: key_id.into(),
            public_pem: public_pem.into(),
            created_at: now,
            created_by: actor.into(),
        })
    }

    async fn list_app_keys(&self, app_id: &str) -> StoreResult<Vec<AppKey>> {
        let rows =
            sqlx::query("SELECT * FROM app_keys WHERE app_id = $1 ORDER BY created_at, key_id")
                .bind(app_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| AppKey {
                app_id: r.get("app_id"),
                key_id: r.get("key_id"),
                public_pem: r.get("public_pem"),
                created_at: r.get("created_at"),
                created_by: r.get("created_by"),
            })
            .collect())
    }

    async fn remove_app_key(&self, app_id: &str, key_id: &str, actor: &str) -> StoreResult<()> {
        let mut tx = self.begin_catalog_write(app_id, None).await?;
        let r = sqlx::query("DELETE FROM app_keys WHERE app_id = $1 AND key_id = $2")
            .bind(app_id)
            .bind(key_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("key {key_id} of {app_id}")));
        }
        Self::audit(
            &mut tx,
            app_id,
            actor,
            "key_remove",
            serde_json::json!({ "key_id": key_id }),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn insert_bundle(
        &self,
        b: NewBundle,
        channel: Option<PointChannel>,
        actor: &str,
    ) -> StoreResult<InsertedBundle> {
        let mut tx = self.begin_catalog_write(&b.app_id, None).await?;
        Self::lock_app(&mut tx, &b.app_id).await?;
        let existing = sqlx::query("SELECT * FROM bundles WHERE app_id = $1 AND version = $2")
            .bind(&b.app_id)
            .bind(&b.version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let (bundle, existed) = match existing {
            Some(row) => {
                let old = bundle_row(&row)?;
                if old.deleted_at.is_some() || old.sha256 != b.sha256 {
                    return Err(StoreError::Conflict(msg::version_other_content(
                        &b.app_id,
                        &b.version,
                        old.deleted_at.is_some(),
                    )));
                }
                (old, true)
            }
            None => (Self::insert_bundle_row(&mut tx, b, actor).await?, false),
        };
        let (channel, channel_created) = match channel {
            None => (None, false),
            Some(p) => {
                let row = sqlx::query(
                    "SELECT * FROM channels WHERE app_id = $1 AND name = $2 FOR UPDATE",
                )
                .bind(&bundle.app_id)
                .bind(&p.name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                match row {
                    Some(row) => {
                        let c = channel_row(&row)?;
                        let end_rollout = p.end_rollout && c.rollout.is_some();
                        if c.bundle_id == Some(bundle.id) && !end_rollout {
                            (Some(c), false)
                        } else {
                            let change = ChannelChange {
                                target: Some(Some(bundle.id)),
                                rollout: end_rollout.then_some(None),
                                reason: "upload".into(),
                                ..Default::default()
                            };
                            (
                                Some(Self::apply_change(&mut tx, c, change, actor).await?),
                                false,
                            )
                        }
                    }
                    None => {
                        let first: i64 =
                            sqlx::query("SELECT COUNT(*) FROM channels WHERE app_id = $1")
                                .bind(&bundle.app_id)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(db)?
                                .get(0);
                        let new = NewChannel {
                            app_id: bundle.app_id.clone(),
                            name: p.name,
                            flags: default_flags(first == 0),
                            bundle_id: Some(bundle.id),
                        };
                        (Some(Self::insert_channel(&mut tx, new, actor).await?), true)
                    }
                }
            }
        };
        tx.commit().await.map_err(db)?;
        Ok(InsertedBundle {
            bundle,
            existed,
            channel,
            channel_created,
        })
    }

    async fn get_bundle(&self, app_id: &str, version: &str) -> StoreResult<Bundle> {
        let row = sqlx::query(
            "SELECT * FROM bundles WHERE app_id = $1 AND version = $2 AND deleted_at IS NULL",
        )
        .bind(app_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("bundle {version} of {app_id}")))?;
        bundle_row(&row)
    }

    async fn get_bundle_by_id(&self, id: i64) -> StoreResult<Bundle> {
        let row = sqlx::query("SELECT * FROM bundles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| StoreError::NotFound(format!("bundle #{id}")))?;
        bundle_row(&row)
    }

    async fn list_bundles(&self, app_id: &str) -> StoreResult<Vec<Bundle>> {
        let rows = sqlx::query(
            "SELECT * FROM bundles WHERE app_id = $1 AND deleted_at IS NULL ORDER BY id DESC",
        )
        .bind(app_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(bundle_row).collect()
    }

    async fn delete_bundle(&self, app_id: &str, version: &str, actor: &str) -> StoreResult<()> {
        let mut tx = self.begin_catalog_write(app_id, None).await?;
        Self::lock_app(&mut tx, app_id).await?;
        let row = sqlx::query(
            "SELECT id FROM bundles WHERE app_id = $1 AND version = $2 AND deleted_at IS NULL",
        )
        .bind(app_id)
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound(format!("bundle {version} of {app_id}")))?;
        let id: i64 = row.get(0);
        let channels =
            sqlx::query(
                "SELECT name, bundle_id, rollout FROM channels WHERE app_id = $1 ORDER BY id FOR UPDATE",
            )
                .bind(app_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db)?;
        for c in channels {
            let rollout: Option<RolloutRow> = match c.get::<Option<&str>, _>("rollout") {
                Some(s) => json(s)?,
                None => None,
            };
            if c.get::<Option<i64>, _>("bundle_id") == Some(id)
                || rollout.is_some_and(|r| r.bundle_id == Some(id))
            {
                return Err(StoreError::Conflict(msg::bundle_served(
                    version,
                    c.get::<&str, _>("name"),
                )));
            }
        }
        sqlx::query("UPDATE bundles SET deleted_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        Self::audit(
            &mut tx,
            app_id,
            actor,
            "bundle_delete",
            serde_json::json!({ "version": version }),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn referenced_blobs(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT variants FROM bundles WHERE deleted_at IS NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let variants: Vec<BundleVariantRow> = json(r.get::<&str, _>(0))?;
            for v in variants {
                out.extend(v.blob_sha256);
                out.extend(v.manifest.into_iter().map(|f| f.blob_sha256));
            }
        }
        Ok(out)
    }

    async fn create_channel(&self, c: NewChannel, actor: &str) -> StoreResult<Channel> {
        let mut tx = self.begin_catalog_write(&c.app_id, None).await?;
        Self::lock_app(&mut tx, &c.app_id).await?;
        let channel = Self::insert_channel(&mut tx, c, actor).await?;
        tx.commit().await.map_err(db)?;
        Ok(channel)
    }

    async fn get_channel(&self, app_id: &str, name: &str) -> StoreResult<Channel> {
        let row = sqlx::query("SELECT * FROM channels WHERE app_id = $1 AND name = $2")
            .bind(app_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| StoreError::NotFound(format!("channel {name} of {app_id}")))?;
        channel_row(&row)
    }

    async fn list_channels(&self, app_id: &str) -> StoreResult<Vec<Channel>> {
        let rows = sqlx::query("SELECT * FROM channels WHERE app_id = $1 ORDER BY name, id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(channel_row).collect()
    }

    async fn update_channels(
        &self,
        moves: Vec<ChannelMove>,
        actor: &str,
    ) -> StoreResult<Vec<Channel>> {
        // The apps whose catalogs change (read before the transaction takes any lock).
        let mut apps: Vec<String> = Vec::new();
        for m in &moves {
            let app: Option<String> =
                sqlx::query_scalar("SELECT app_id FROM channels WHERE id = $1")
                    .bind(m.channel_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
            if let Some(app) = app.filter(|a| !apps.contains(a)) {
                apps.push(app);
            }
        }
        let mut tx = self.begin_write().await.map_err(db)?;
        for app in &apps {
            Self::note_change(&mut tx, app, None).await?;
        }
        let mut ids: Vec<i64> = moves.iter().map(|m| m.channel_id).collect();
        ids.sort_unstable();
        ids.dedup();
        sqlx::query("SELECT id FROM channels WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let mut out = Vec::with_capacity(moves.len());
        for m in moves {
            let id = m.channel_id;
            let row = sqlx::query("SELECT * FROM channels WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("channel #{id}")))?;
            let c = channel_row(&row)?;
            out.push(Self::apply_change(&mut tx, c, m.change, actor).await?);
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn channel_history(&self, channel_id: i64) -> StoreResult<Vec<ChannelHistoryEntry>> {
        let rows =
            sqlx::query("SELECT * FROM channel_history WHERE channel_id = $1 ORDER BY id DESC")
                .bind(channel_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| ChannelHistoryEntry {
                id: r.get("id"),
                channel_id: r.get("channel_id"),
                bundle_id: r.get("bundle_id"),
                at: r.get("at"),
                actor: r.get("actor"),
                reason: r.get("reason"),
            })
            .collect())
    }

    async fn set_override(
        &self,
        app_id: &str,
        device_id: &str,
        channel_id: Option<i64>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self
            .begin_catalog_write(app_id, Some((device_id, channel_id)))
            .await?;
        Self::write_assignment(&mut tx, app_id, device_id, channel_id, actor).await?;
        let detail = serde_json::json!({ "device_id": device_id, "channel_id": channel_id });
        Self::audit(&mut tx, app_id, actor, "device_override", detail).await?;
        tx.commit().await.map_err(db)
    }

    async fn set_device_channel(
        &self,
        app_id: &str,
        device_id: &str,
        channel_id: Option<i64>,
    ) -> StoreResult<bool> {
        let mut tx = self
            .begin_catalog_write(app_id, Some((device_id, channel_id)))
            .await?;
        let existed =
            Self::write_assignment(&mut tx, app_id, device_id, channel_id, SET_BY_DEVICE).await?;
        tx.commit().await.map_err(db)?;
        Ok(existed)
    }

    async fn list_overrides(&self, app_id: &str) -> StoreResult<Vec<DeviceOverride>> {
        let rows = sqlx::query("SELECT * FROM device_overrides WHERE app_id = $1")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| DeviceOverride {
                app_id: r.get("app_id"),
                device_id: r.get("device_id"),
                channel_id: r.get("channel_id"),
                created_at: r.get("created_at"),
                set_by: r.get("set_by"),
            })
            .collect())
    }

    async fn upsert_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        // A fixed order, so two batches touching the same devices cannot deadlock.
        let mut seen: Vec<&DeviceSeen> = seen.iter().collect();
        seen.sort_by(|a, b| (&a.app_id, &a.device_id).cmp(&(&b.app_id, &b.device_id)));
        let mut tx = self.begin_write().await.map_err(db)?;
        // The `device_hours` counters a batch moves (an hour's bucket is shared by every device
        // checking in then) are not in device order: batches of several instances take turns.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(DEVICE_BATCH_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for d in seen {
            sqlx::query(
                "INSERT INTO devices (app_id, device_id, platform, version_build, version_code, version_os, version_name, \
                 plugin_version, custom_id, is_emulator, is_prod, install_source, channel, key_id, first_seen, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
                 ON CONFLICT (app_id, device_id) DO UPDATE SET platform = excluded.platform, \
                 version_build = excluded.version_build, version_code = excluded.version_code, \
                 version_os = excluded.version_os, version_name = excluded.version_name, \
                 plugin_version = excluded.plugin_version, custom_id = excluded.custom_id, \
                 is_emulator = excluded.is_emulator, is_prod = excluded.is_prod, \
                 install_source = excluded.install_source, channel = excluded.channel, key_id = excluded.key_id, \
                 last_seen = GREATEST(devices.last_seen, excluded.last_seen)",
            )
            .bind(&d.app_id)
            .bind(&d.device_id)
            .bind(&d.platform)
            .bind(&d.version_build)
            .bind(&d.version_code)
            .bind(&d.version_os)
            .bind(&d.version_name)
            .bind(&d.plugin_version)
            .bind(&d.custom_id)
            .bind(d.is_emulator)
            .bind(d.is_prod)
            .bind(&d.install_source)
            .bind(&d.channel)
            .bind(&d.key_id)
            .bind(d.seen_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn list_devices(&self, app_id: &str, f: &DeviceFilter) -> StoreResult<Vec<Device>> {
        let (filter, values) = device_filter(f);
        let sql = format!(
            "SELECT * FROM devices WHERE {filter} ORDER BY last_seen DESC LIMIT ${}",
            values.len() + 2
        );
        let mut q = sqlx::query(&sql).bind(app_id);
        for v in &values {
            q = q.bind(v);
        }
        let rows = q
            .bind(device_limit(f))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(rows.iter().map(device_row).collect())
    }

    async fn count_devices(&self, app_id: &str, f: &DeviceFilter) -> StoreResult<u64> {
        let (sql, values) = match landfall_store::rows::device_hours_count(f) {
            Some(counted) => counted,
            None => {
                let (filter, values) = device_filter(f);
                (
                    format!("SELECT COUNT(*) FROM devices WHERE {filter}"),
                    values,
                )
            }
        };
        let mut q = sqlx::query(&sql).bind(app_id);
        for v in &values {
            q = q.bind(v);
        }
        let row = q.fetch_one(&self.pool).await.map_err(db)?;
        Ok(row.get::<i64, _>(0) as u64)
    }

    async fn insert_stats(&self, events: &[StatEvent]) -> StoreResult<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await.map_err(db)?;
        let fresh = insert_stats_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(fresh)
    }

    async fn prune_stats(&self, before_ms: i64) -> StoreResult<u64> {
        prune_stats_in(&self.pool, before_ms).await
    }

    async fn stats_data(&self, app_id: &str, query: &StatsQuery) -> StoreResult<StatsData> {
        stats_data_in(&self.pool, app_id, query).await
    }

    async fn add_downloads(&self, counts: &[DownloadCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await.map_err(db)?;
        add_downloads_in(&mut tx, counts).await?;
        tx.commit().await.map_err(db)
    }

    fn pool_status(&self) -> Vec<PoolStatus> {
        vec![pool_status("main", &self.pool)]
    }

    async fn count_stats(&self, app_id: &str) -> StoreResult<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM stats_events WHERE app_id = $1")
            .bind(app_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.get(0))
    }

    async fn audit_server(
        &self,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        Self::audit(&mut tx, "*", actor, action, detail).await?;
        tx.commit().await.map_err(db)
    }

    async fn catalog_changes(&self, after: i64, limit: i64) -> StoreResult<Vec<CatalogChange>> {
        let rows = sqlx::query(
            "SELECT seq, app_id, device_id, channel_id FROM catalog_changes \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| CatalogChange {
                seq: r.get("seq"),
                app_id: r.get("app_id"),
                device_id: r.get("device_id"),
                channel_id: r.get("channel_id"),
            })
            .collect())
    }

    async fn catalog_seq(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM catalog_seq WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        Ok(seq.unwrap_or(0))
    }

    async fn prune_catalog_changes(&self, before_ms: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let done = sqlx::query("DELETE FROM catalog_changes WHERE at < $1")
            .bind(before_ms)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn list_audit(
        &self,
        app_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE app_id = $1 AND at >= $2 AND at < $3 ORDER BY id",
        )
        .bind(app_id)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.get("id"),
                    app_id: r.get("app_id"),
                    at: r.get("at"),
                    actor: r.get("actor"),
                    action: r.get("action"),
                    detail: json(r.get::<&str, _>("detail"))?,
                })
            })
            .collect()
    }

    async fn create_token(
        &self,
        name: &str,
        token_hash: &str,
        scopes: &[Scope],
        actor: &str,
    ) -> StoreResult<Token> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let row = sqlx::query("INSERT INTO tokens (name, token_hash, scopes, created_at) VALUES ($1, $2, $3, $4) RETURNING *")
            .bind(name)
            .bind(token_hash)
            .bind(to_json(&scopes))
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let token = token_row(&row)?;
        let scopes: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        Self::audit(
            &mut tx,
            "*",
            actor,
            "token_create",
            serde_json::json!({ "id": token.id, "name": token.name, "scopes": scopes }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(token)
    }

    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<Token>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|r| token_row(&r)).transpose()
    }

    async fn list_tokens(&self) -> StoreResult<Vec<Token>> {
        let rows = sqlx::query("SELECT * FROM tokens ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(token_row).collect()
    }

    async fn revoke_token(&self, id: i64, actor: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let r =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("active token #{id}")));
        }
        Self::audit(
            &mut tx,
            "*",
            actor,
            "token_revoke",
            serde_json::json!({ "id": id }),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn release_log(
        &self,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> StoreResult<Vec<landfall_core::release_log::LogEntry>> {
        self.read_entries(after, upto, limit).await
    }

    async fn release_log_state(&self) -> StoreResult<landfall_store::release_log::ReleaseLogState> {
        self.read_state().await
    }

    async fn seal_release_log(&self) -> StoreResult<u64> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let sealed = Self::seal_rows(&mut tx).await?;
        tx.commit().await.map_err(db)?;
        Ok(sealed)
    }

    async fn count_tokens(&self) -> StoreResult<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM tokens")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.get(0))
    }
}

#[cfg(test)]
mod tests;
