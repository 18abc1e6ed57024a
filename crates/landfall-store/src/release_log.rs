//! The release log in the database: `audit_log` rows chained by `seq`, `prev_hash` and `hash`
//! (the chain rules are `landfall_core::release_log`), and `audit_chain`, the one row holding the
//! head. Both engines run the same statements ([`sql_release_log!`](crate::sql_release_log)).
//!
//! Writing an entry locks the head row (`INSERT … ON CONFLICT DO UPDATE … RETURNING`: the first
//! write creates it; on PostgreSQL the upsert holds the row lock until commit), computes the hash,
//! inserts the row and moves the head — all in the caller's transaction, after the locks that
//! order its other writes (`catalog_seq` first for every change to what devices receive, then the
//! app's rows). Concurrent writers on PostgreSQL queue on the head and commit entries in `seq`
//! order; SQLite has one writer anyway.

use landfall_core::release_log::{Checkpoint, LogEntry, GENESIS};
use serde::{Deserialize, Serialize};

/// Take (and lock) the chain's head: `(seq, head)`.
pub const LOCK_HEAD: &str = "INSERT INTO audit_chain (id, seq, head) \
     VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000') \
     ON CONFLICT (id) DO UPDATE SET seq = audit_chain.seq RETURNING seq, head";
/// Insert an entry: `app_id, at, actor, action, detail, seq, prev_hash, hash`.
pub const INSERT_ENTRY: &str =
    "INSERT INTO audit_log (app_id, at, actor, action, detail, seq, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Move the head: `seq, head`.
pub const SET_HEAD: &str = "UPDATE audit_chain SET seq = $1, head = $2 WHERE id = 1";
/// Rows written before the chain existed, oldest first.
pub const UNSEALED: &str =
    "SELECT id, app_id, at, actor, action, detail FROM audit_log WHERE seq IS NULL ORDER BY id";
/// Chain one of them: `seq, prev_hash, hash, id`.
pub const SEAL_ROW: &str = "UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4";
/// Entries after `$1` up to `$2` (inclusive), at most `$3`, in chain order.
pub const ENTRIES: &str = "SELECT seq, app_id, at, actor, action, detail, prev_hash, hash \
     FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
/// The head (`seq`, `head`; no row before the first entry).
pub const HEAD: &str = "SELECT seq, head FROM audit_chain WHERE id = 1";
/// Rows outside the chain: no `seq`, or beyond the head (`$1`): count and lowest id.
pub const OUTSIDE: &str = "SELECT COUNT(*), MIN(id) FROM audit_log WHERE seq IS NULL OR seq > $1";

/// The head of the chain and what lies outside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseLogState {
    /// The last entry written (seq 0 and [`GENESIS`] before the first).
    pub head: Checkpoint,
    /// Rows of `audit_log` not in the chain (no `seq`, or beyond the head): written around the
    /// server.
    pub outside: u64,
    /// The lowest id among them.
    pub first_outside_id: Option<i64>,
}

impl ReleaseLogState {
    /// The state of an empty log.
    pub fn empty() -> ReleaseLogState {
        ReleaseLogState {
            head: Checkpoint {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
            outside: 0,
            first_outside_id: None,
        }
    }
}

/// A page of entries, for [`crate::Store::release_log`].
pub type Entries = Vec<LogEntry>;

/// The statements above as inherent functions of a backend's store (`$store`) over its
/// transaction type (`$db`): `chain_entry` (the one way an audit row is written), `seal_rows`,
/// `read_entries` and `read_state`.
#[macro_export]
macro_rules! sql_release_log {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Append an entry to the release log in `tx` (its last statement; see
            /// `landfall_store::release_log`).
            async fn chain_entry(
                tx: &mut sqlx::Transaction<'_, $db>,
                app_id: &str,
                actor: &str,
                action: &str,
                detail: &serde_json::Value,
            ) -> $crate::StoreResult<()> {
                use $crate::release_log as q;
                let (seq, head): (i64, String) = sqlx::query_as(q::LOCK_HEAD)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db)?;
                let detail = detail.to_string();
                let e = landfall_core::release_log::LogEntry::seal(
                    &head,
                    seq + 1,
                    app_id,
                    $crate::now_ms(),
                    actor,
                    action,
                    &detail,
                );
                sqlx::query(q::INSERT_ENTRY)
                    .bind(&e.app_id)
                    .bind(e.at)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.detail)
                    .bind(e.seq)
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                sqlx::query(q::SET_HEAD)
                    .bind(e.seq)
                    .bind(&e.hash)
                    .execute(&mut **tx)
                    .await
                    .map_err(db)?;
                Ok(())
            }

            /// Chain the rows written before the chain existed, oldest first, in `tx`.
            async fn seal_rows(tx: &mut sqlx::Transaction<'_, $db>) -> $crate::StoreResult<u64> {
                use $crate::release_log as q;
                let (mut seq, mut head): (i64, String) = sqlx::query_as(q::LOCK_HEAD)
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(db)?;
                let rows: Vec<(i64, String, i64, String, String, String)> =
                    sqlx::query_as(q::UNSEALED)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(db)?;
                let sealed = rows.len() as u64;
                for (id, app_id, at, actor, action, detail) in rows {
                    seq += 1;
                    let e = landfall_core::release_log::LogEntry::seal(
                        &head, seq, &app_id, at, &actor, &action, &detail,
                    );
                    sqlx::query(q::SEAL_ROW)
                        .bind(e.seq)
                        .bind(&e.prev_hash)
                        .bind(&e.hash)
                        .bind(id)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                    head = e.hash;
                }
                if sealed > 0 {
                    sqlx::query(q::SET_HEAD)
                        .bind(seq)
                        .bind(&head)
                        .execute(&mut **tx)
                        .await
                        .map_err(db)?;
                }
                Ok(sealed)
            }

            /// Entries with `after < seq <= upto`, at most `limit`, in chain order.
            async fn read_entries(
                &self,
                after: i64,
                upto: i64,
                limit: u32,
            ) -> $crate::StoreResult<$crate::release_log::Entries> {
                let rows: Vec<(
                    i64,
                    String,
                    i64,
                    String,
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                )> = sqlx::query_as($crate::release_log::ENTRIES)
                    .bind(after)
                    .bind(upto)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(seq, app_id, at, actor, action, detail, prev_hash, hash)| {
                            landfall_core::release_log::LogEntry {
                                seq,
                                app_id,
                                at,
                                actor,
                                action,
                                detail,
                                prev_hash: prev_hash.unwrap_or_default(),
                                hash: hash.unwrap_or_default(),
                            }
                        },
                    )
                    .collect())
            }

            /// The head and the rows outside the chain.
            async fn read_state(
                &self,
            ) -> $crate::StoreResult<$crate::release_log::ReleaseLogState> {
                use $crate::release_log as q;
                let mut state = q::ReleaseLogState::empty();
                let head: Option<(i64, String)> = sqlx::query_as(q::HEAD)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db)?;
                if let Some((seq, hash)) = head {
                    state.head = landfall_core::release_log::Checkpoint { seq, hash };
                }
                let (outside, first): (i64, Option<i64>) = sqlx::query_as(q::OUTSIDE)
                    .bind(state.head.seq)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db)?;
                state.outside = outside.max(0) as u64;
                state.first_outside_id = first;
                Ok(state)
            }
        }
    };
}
