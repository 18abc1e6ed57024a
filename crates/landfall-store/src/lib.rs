//! Landfall's storage layer: the metadata [`Store`] trait with its row models, and the [`blob`] store.
//!
//! Implementations live in their own crates (`landfall-store-sqlite`, `landfall-store-postgres`).
//! Every mutating call that changes what devices receive takes an `actor` and writes an audit entry in
//! the same transaction, so the content-change log can never disagree with the data.

pub mod analytics;
pub mod blob;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod copy;
pub mod icp;
mod models;
pub mod release_log;
pub mod rows;
pub mod users;

pub use models::*;

use async_trait::async_trait;
use landfall_core::channel::ChannelFlags;
use thiserror::Error;

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The named thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write conflicts with existing data (duplicate name, still referenced, …).
    #[error("{0}")]
    Conflict(String),
    /// The database stayed busy for too long (another writer held it); retrying later is safe.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The database cannot be reached (down, network, no connection could be had in time);
    /// nothing was written and retrying later is safe.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database holds migrations this binary does not know (a newer Landfall migrated it).
    #[error(
        "this database was migrated by a newer Landfall (version {found} > {known}); upgrade the binary"
    )]
    TooNew {
        /// Highest migration version applied to the database.
        found: i64,
        /// Highest migration version this binary knows.
        known: i64,
    },
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// The metadata store. Held as `Arc<dyn Store>`; it also serves [`users::UserStore`].
#[async_trait]
pub trait Store: users::UserStore + Send + Sync + 'static {
    // --- apps
    async fn create_app(&self, app_id: &str, name: &str, actor: &str) -> StoreResult<App>;
    async fn get_app(&self, app_id: &str) -> StoreResult<App>;
    async fn list_apps(&self) -> StoreResult<Vec<App>>;
    /// Change an app's switches (audited).
    async fn update_app_settings(
        &self,
        app_id: &str,
        patch: AppSettingsPatch,
        actor: &str,
    ) -> StoreResult<App>;

    // --- signing keys
    /// Register a public key; `Conflict` if that key id is already registered for the app.
    async fn add_app_key(
        &self,
        app_id: &str,
        key_id: &str,
        public_pem: &str,
        actor: &str,
    ) -> StoreResult<AppKey>;
    async fn list_app_keys(&self, app_id: &str) -> StoreResult<Vec<AppKey>>;
    async fn remove_app_key(&self, app_id: &str, key_id: &str, actor: &str) -> StoreResult<()>;

    // --- bundles
    /// Insert a bundle and its variants and, in the same transaction, point a channel at it
    /// (creating the channel, public if it is the app's first). `Conflict` if the version name was
    /// ever used in this app for other bytes; the same version with the same `sha256` (a retried
    /// upload whose first answer was lost) inserts nothing and still moves the channel.
    async fn insert_bundle(
        &self,
        new: NewBundle,
        channel: Option<PointChannel>,
        actor: &str,
    ) -> StoreResult<InsertedBundle>;
    async fn get_bundle(&self, app_id: &str, version: &str) -> StoreResult<Bundle>;
    async fn get_bundle_by_id(&self, id: i64) -> StoreResult<Bundle>;
    async fn list_bundles(&self, app_id: &str) -> StoreResult<Vec<Bundle>>;
    /// Soft-delete; `Conflict` while a channel or rollout serves it. The name stays reserved.
    async fn delete_bundle(&self, app_id: &str, version: &str, actor: &str) -> StoreResult<()>;
    /// Every blob hash a live bundle variant references (for garbage collection).
    async fn referenced_blobs(&self) -> StoreResult<Vec<String>>;

    // --- channels
    async fn create_channel(&self, new: NewChannel, actor: &str) -> StoreResult<Channel>;
    async fn get_channel(&self, app_id: &str, name: &str) -> StoreResult<Channel>;
    async fn list_channels(&self, app_id: &str) -> StoreResult<Vec<Channel>>;
    /// Change flags and/or target; a target change appends to the channel's history.
    async fn update_channel(
        &self,
        channel_id: i64,
        change: ChannelChange,
        actor: &str,
    ) -> StoreResult<Channel> {
        let mut moved = self
            .update_channels(vec![ChannelMove { channel_id, change }], actor)
            .await?;
        moved
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("channel #{channel_id}")))
    }
    /// Apply several channel changes in one transaction: all of them or none (the kill switch).
    async fn update_channels(
        &self,
        moves: Vec<ChannelMove>,
        actor: &str,
    ) -> StoreResult<Vec<Channel>>;
    /// Newest first.
    async fn channel_history(&self, channel_id: i64) -> StoreResult<Vec<ChannelHistoryEntry>>;

    // --- devices
    /// Store a device's own channel choice (legacy plugins' `POST`/`DELETE /channel_self`;
    /// `None` removes the stored assignment, whoever made it). Replaces an operator override, as in
    /// Capgo: one assignment per device, the latest wins. Not audited (devices are not operators).
    /// Returns whether an assignment was stored before.
    async fn set_device_channel(
        &self,
        app_id: &str,
        device_id: &str,
        channel_id: Option<i64>,
    ) -> StoreResult<bool>;
    /// Force a device onto a channel (`None` removes the override).
    async fn set_override(
        &self,
        app_id: &str,
        device_id: &str,
        channel_id: Option<i64>,
        actor: &str,
    ) -> StoreResult<()>;
    async fn list_overrides(&self, app_id: &str) -> StoreResult<Vec<DeviceOverride>>;
    /// Record a batch of device check-ins (insert or update, keeping `first_seen`).
    async fn upsert_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()>;
    async fn list_devices(&self, app_id: &str, filter: &DeviceFilter) -> StoreResult<Vec<Device>>;
    /// How many devices match (the filter's `limit` is ignored).
    async fn count_devices(&self, app_id: &str, filter: &DeviceFilter) -> StoreResult<u64>;

    // --- stats and audit
    /// Store events durably with their rollups, in one transaction. An event already stored (same
    /// device, time, action and version: a batch sent again) is skipped. Returns how many were new.
    async fn insert_stats(&self, events: &[StatEvent]) -> StoreResult<u64>;
    /// Delete raw events received before `before_ms` (the rollups stay). Returns how many.
    async fn prune_stats(&self, before_ms: i64) -> StoreResult<u64>;
    /// The aggregates of an app's stats report.
    async fn stats_data(&self, app_id: &str, query: &StatsQuery) -> StoreResult<StatsData>;
    /// Add streamed-download tallies to the daily rollup (`day`, `requests`, `bytes` are summed
    /// into what is there), in one transaction.
    async fn add_downloads(&self, counts: &[DownloadCount]) -> StoreResult<()>;
    /// The connection pools and how busy they are.
    fn pool_status(&self) -> Vec<PoolStatus>;
    async fn count_stats(&self, app_id: &str) -> StoreResult<i64>;
    async fn list_audit(
        &self,
        app_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<AuditEntry>>;

    // --- the release log (every audit entry, hash-chained; see `release_log`)
    /// Entries with `after < seq <= upto`, at most `limit`, in chain order.
    async fn release_log(
        &self,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> StoreResult<Vec<landfall_core::release_log::LogEntry>>;
    /// The chain's head and the rows outside the chain.
    async fn release_log_state(&self) -> StoreResult<release_log::ReleaseLogState>;
    /// Chain the audit rows written before the chain existed (the server calls it at start,
    /// before it writes anything). Returns how many were sealed.
    async fn seal_release_log(&self) -> StoreResult<u64>;

    // --- tokens
    /// Store a token and write `token_create` in the release log, in one transaction.
    async fn create_token(
        &self,
        name: &str,
        token_hash: &str,
        scopes: &[Scope],
        actor: &str,
    ) -> StoreResult<Token>;
    async fn find_token(&self, token_hash: &str) -> StoreResult<Option<Token>>;
    async fn list_tokens(&self) -> StoreResult<Vec<Token>>;
    /// Revoke an active token and write `token_revoke` in the release log, in one transaction.
    async fn revoke_token(&self, id: i64, actor: &str) -> StoreResult<()>;
    async fn count_tokens(&self) -> StoreResult<i64>;
    /// Write a server-wide audit entry (`app_id` = `*`), e.g. a token minted offline.
    async fn audit_server(
        &self,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()>;

    // --- the catalog change feed (several instances on one database)
    /// Changes to what the update check answers with `seq > after`, oldest first, at most
    /// `limit`. Every write that changes an app's catalog adds one in the same transaction
    /// (audited operator writes: the app; stored device channels: that device).
    async fn catalog_changes(&self, after: i64, limit: i64) -> StoreResult<Vec<CatalogChange>>;
    /// The newest change's `seq` (0 before the first).
    async fn catalog_seq(&self) -> StoreResult<i64>;
    /// Forget changes written before `before_ms`; returns how many.
    async fn prune_catalog_changes(&self, before_ms: i64) -> StoreResult<u64>;
}

/// Default flags for a new channel: Capgo's defaults, public when it is the app's first channel.
pub fn default_flags(first_channel: bool) -> ChannelFlags {
    ChannelFlags {
        public: first_channel,
        ..ChannelFlags::default()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
