//! Copying a whole metadata database between engines (`landfall migrate db`), engine-agnostic.
//!
//! [`TABLES`] is the one list of every table, in dependency order, with its columns, key and
//! generated id: both backends check in their tests that their schema is exactly this list, so a
//! future table cannot be silently skipped. Rows travel as [`Value`]s whose encoding is the same on
//! every engine (SQLite's `INTEGER` 0/1 and PostgreSQL's `BOOLEAN` are both [`Value::Bool`]), so
//! SQLite → PostgreSQL → SQLite gives the same rows.
//!
//! [`copy`] reads the source in ONE consistent snapshot ([`TableCopy::snapshot`]), writes the target
//! in batches that skip rows whose key is already there (so an interrupted copy can be re-run with
//! `resume`), resets generated ids, then [`verify`]s per table: row counts and a SHA-256 over the
//! rows in key order ([`Value::encode`]) must be equal on both sides.

use std::cmp::Ordering;
use std::fmt;
use std::ops::ControlFlow;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::{StoreError, StoreResult};

/// How a column's values travel between engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// 64-bit integer (SQLite `INTEGER`, PostgreSQL `BIGINT`/`INTEGER`).
    Int,
    /// Boolean (SQLite `INTEGER` holding 0 or 1, PostgreSQL `BOOLEAN`).
    Bool,
    /// UTF-8 text, JSON documents included (`TEXT` on both).
    Text,
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub nullable: bool,
}

/// One table: its columns in order, the primary-key columns, and the generated id (if any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// Primary-key column names (rows are copied and hashed in this order).
    pub key: &'static [&'static str],
    /// The id column the engine generates (SQLite `AUTOINCREMENT`, PostgreSQL `BIGSERIAL`).
    pub generated_id: Option<&'static str>,
    /// Kept by the engine's triggers from the tables before it (the analytics counters over
    /// `installs`): never written by a copy — copying its sources rebuilds it — but verified.
    pub derived: bool,
}

impl Table {
    /// Positions of the key columns in a row.
    pub fn key_positions(&self) -> Vec<usize> {
        self.key
            .iter()
            .filter_map(|k| self.columns.iter().position(|c| c.name == *k))
            .collect()
    }

    /// The key of `row` (its key columns' values).
    pub fn key_of(&self, row: &[Value]) -> Vec<Value> {
        self.key_positions()
            .into_iter()
            .filter_map(|i| row.get(i).cloned())
            .collect()
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Look a table of [`TABLES`] up by name.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Int,
        nullable: false,
    }
}
const fn int_null(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Int,
        nullable: true,
    }
}
const fn text(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Text,
        nullable: false,
    }
}
const fn text_null(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Text,
        nullable: true,
    }
}
const fn boolean(name: &'static str) -> Column {
    Column {
        name,
        ty: ColumnType::Bool,
        nullable: false,
    }
}

/// Every table of the metadata schema, parents before children (foreign keys hold at every step).
pub static TABLES: &[Table] = &[
    Table {
        name: "apps",
        columns: &[
            text("app_id"),
            text("name"),
            int("created_at"),
            boolean("expose_metadata"),
            boolean("allow_device_custom_id"),
            text_null("download_base_mainland"),
            text_null("download_base_global"),
        ],
        key: &["app_id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "bundles",
        columns: &[
            int("id"),
            text("app_id"),
            text("version"),
            int("size"),
            text("sha256"),
            text_null("min_update_version"),
            text_null("link"),
            text_null("comment"),
            text("variants"),
            int("created_at"),
            text("created_by"),
            int_null("deleted_at"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "channels",
        columns: &[
            int("id"),
            text("app_id"),
            text("name"),
            text("flags"),
            int_null("bundle_id"),
            text_null("rollout"),
            int("created_at"),
            int("updated_at"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "channel_history",
        columns: &[
            int("id"),
            int("channel_id"),
            int_null("bundle_id"),
            int("at"),
            text("actor"),
            text("reason"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "device_overrides",
        columns: &[
            text("app_id"),
            text("device_id"),
            int("channel_id"),
            int("created_at"),
            text("set_by"),
        ],
        key: &["app_id", "device_id"],
        generated_id: None,
        derived: false,
    },
    // Before `devices`: a device row's trigger adds to `installs` only when the row is not there.
    Table {
        name: "installs",
        columns: &[
            text("app_id"),
            text("version_name"),
            text("device_id"),
            int_null("started_at"),
            int_null("installed_at"),
            int("failures"),
        ],
        key: &["app_id", "version_name", "device_id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "release_totals",
        columns: &[
            text("app_id"),
            text("version_name"),
            int("attempted"),
            int("installed"),
            int("first_try"),
        ],
        key: &["app_id", "version_name"],
        generated_id: None,
        derived: true,
    },
    Table {
        name: "adoption",
        columns: &[
            text("app_id"),
            text("version_name"),
            int("bucket"),
            int("devices"),
        ],
        key: &["app_id", "version_name", "bucket"],
        generated_id: None,
        derived: true,
    },
    Table {
        name: "install_durations",
        columns: &[
            text("app_id"),
            text("version_name"),
            int("bucket"),
            int("devices"),
        ],
        key: &["app_id", "version_name", "bucket"],
        generated_id: None,
        derived: true,
    },
    Table {
        name: "devices",
        columns: &[
            text("app_id"),
            text("device_id"),
            text("platform"),
            text("version_build"),
            text("version_code"),
            text("version_os"),
            text("version_name"),
            text("plugin_version"),
            text("custom_id"),
            boolean("is_emulator"),
            boolean("is_prod"),
            text("install_source"),
            text("channel"),
            text("key_id"),
            int("first_seen"),
            int("last_seen"),
        ],
        key: &["app_id", "device_id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "device_hours",
        columns: &[
            text("app_id"),
            int("hour"),
            text("version_name"),
            text("channel"),
            int("devices"),
        ],
        key: &["app_id", "hour", "version_name", "channel"],
        generated_id: None,
        derived: true,
    },
    Table {
        name: "stats_events",
        columns: &[
            int("id"),
            text("app_id"),
            text("device_id"),
            text("action"),
            text("version_name"),
            text("old_version_name"),
            text("platform"),
            text("plugin_version"),
            int("at"),
            int("received_at"),
            text_null("metadata"),
            text("version_os"),
            text("custom_id"),
            boolean("is_emulator"),
            boolean("is_prod"),
            text("key_id"),
            text("channel"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "stats_daily",
        columns: &[
            text("app_id"),
            int("day"),
            text("version_name"),
            text("action"),
            text("platform"),
            text("version_os"),
            text("plugin_version"),
            text("channel"),
            int("events"),
        ],
        key: &[
            "app_id",
            "day",
            "version_name",
            "action",
            "platform",
            "version_os",
            "plugin_version",
            "channel",
        ],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "downloads_daily",
        columns: &[
            text("app_id"),
            int("day"),
            text("kind"),
            int("requests"),
            int("bytes"),
        ],
        key: &["app_id", "day", "kind"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "audit_log",
        columns: &[
            int("id"),
            text("app_id"),
            int("at"),
            text("actor"),
            text("action"),
            text("detail"),
            int_null("seq"),
            text_null("prev_hash"),
            text_null("hash"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "audit_chain",
        columns: &[int("id"), int("seq"), text("head")],
        key: &["id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "tokens",
        columns: &[
            int("id"),
            text("name"),
            text("token_hash"),
            text("scopes"),
            int("created_at"),
            int_null("revoked_at"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "users",
        columns: &[
            text("username"),
            text("password_hash"),
            int("created_at"),
            text("created_by"),
            int("password_changed_at"),
            int_null("disabled_at"),
        ],
        key: &["username"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "user_roles",
        columns: &[text("username"), text("app"), text("role")],
        key: &["username", "app"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "sessions",
        columns: &[
            text("id_hash"),
            text("username"),
            text("csrf_token"),
            int("created_at"),
            int("last_seen_at"),
            int("expires_at"),
        ],
        key: &["id_hash"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "app_keys",
        columns: &[
            text("app_id"),
            text("key_id"),
            text("public_pem"),
            int("created_at"),
            text("created_by"),
        ],
        key: &["app_id", "key_id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "icp_filings",
        columns: &[
            text("app_id"),
            int("revision"),
            text("data"),
            int("created_at"),
            int("updated_at"),
            text("updated_by"),
        ],
        key: &["app_id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "icp_record_changes",
        columns: &[
            int("id"),
            text("app_id"),
            int("at"),
            text("actor"),
            text_null("reason"),
            text("sections"),
            text("record"),
            boolean("change_filing"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "icp_documents",
        columns: &[
            int("id"),
            text("app_id"),
            text("kind"),
            text("file_name"),
            text("sha256"),
            int("size"),
            text("content_type"),
            text("meta"),
            int("created_at"),
            text("created_by"),
            int("updated_at"),
            text("updated_by"),
            int_null("deleted_at"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "icp_completions",
        columns: &[
            int("id"),
            text("app_id"),
            text("check_kind"),
            text("done_on"),
            text("notes"),
            text("data"),
            int("created_at"),
            text("created_by"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "icp_incidents",
        columns: &[
            int("id"),
            text("app_id"),
            int("revision"),
            text("data"),
            int("created_at"),
            text("created_by"),
            int("updated_at"),
            text("updated_by"),
        ],
        key: &["id"],
        generated_id: Some("id"),
        derived: false,
    },
    Table {
        name: "icp_settings",
        columns: &[
            text("app_id"),
            text("key"),
            text("value"),
            int("updated_at"),
            text("updated_by"),
        ],
        key: &["app_id", "key"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "icp_calendar_years",
        columns: &[
            int("year"),
            text("data"),
            int("loaded_at"),
            text("loaded_by"),
        ],
        key: &["year"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "catalog_seq",
        columns: &[int("id"), int("seq")],
        key: &["id"],
        generated_id: None,
        derived: false,
    },
    Table {
        name: "catalog_changes",
        columns: &[
            int("seq"),
            text("app_id"),
            text_null("device_id"),
            int_null("channel_id"),
            int("at"),
        ],
        key: &["seq"],
        generated_id: None,
        derived: false,
    },
];

/// Tables an engine keeps for itself, never copied (migration bookkeeping, SQLite's sequences,
/// and the device search index: SQLite's FTS5 table and its shadow tables, PostgreSQL's narrow
/// copy of the device ids — rebuilt by triggers as the devices are copied).
pub const ENGINE_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "sqlite_sequence",
    "device_search",
    "device_search_config",
    "device_search_content",
    "device_search_data",
    "device_search_docsize",
    "device_search_idx",
];

/// One value of a row, encoded the same whatever the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Value {
    /// The canonical encoding hashed by [`verify`]: a tag byte, then the value (integers as 8
    /// big-endian bytes, text as its 8-byte big-endian length then its UTF-8 bytes).
    pub fn encode(&self, out: &mut impl Digest) {
        match self {
            Value::Null => out.update([0u8]),
            Value::Int(i) => {
                out.update([1u8]);
                out.update(i.to_be_bytes());
            }
            Value::Bool(b) => out.update([2u8, u8::from(*b)]),
            Value::Text(s) => {
                out.update([3u8]);
                out.update((s.len() as u64).to_be_bytes());
                out.update(s.as_bytes());
            }
        }
    }

    /// The order keys are copied in: integers numerically, text byte-wise (SQLite's `BINARY`,
    /// PostgreSQL's `COLLATE "C"`). Null sorts first (keys are never null).
    pub fn key_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) => 2,
                Value::Text(_) => 3,
            }
        }
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => rank(self).cmp(&rank(other)),
        }
    }

    /// Whether this value may be stored in `column`.
    pub fn fits(&self, column: &Column) -> bool {
        matches!(
            (self, column.ty),
            (Value::Int(_), ColumnType::Int)
                | (Value::Bool(_), ColumnType::Bool)
                | (Value::Text(_), ColumnType::Text)
        ) || (matches!(self, Value::Null) && column.nullable)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => write!(f, "{:?}", landfall_core::clip(s)),
        }
    }
}

/// Compare two keys (same table) in copy order.
pub fn key_cmp(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.key_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn show_key(key: &[Value]) -> String {
    let parts: Vec<String> = key.iter().map(ToString::to_string).collect();
    parts.join(", ")
}

/// One row: the values of [`Table::columns`], in order.
pub type Row = Vec<Value>;

/// A consistent read view of a database (one read transaction for its whole life).
#[async_trait]
pub trait TableRead: Send {
    /// Rows of `table` in key order, starting after `after` (a key) when given, at most `limit`.
    async fn read_rows(
        &mut self,
        table: &Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> StoreResult<Vec<Row>>;
    /// How many rows `table` holds.
    async fn count(&mut self, table: &Table) -> StoreResult<u64>;
}

/// Whole-table access for copying between engines, implemented by every backend.
#[async_trait]
pub trait TableCopy: Send + Sync {
    /// Begin a consistent snapshot of the whole database (reads only).
    async fn snapshot(&self) -> StoreResult<Box<dyn TableRead>>;
    /// Insert `rows` (ids as given) in one transaction, skipping rows whose primary key is already
    /// there; returns how many were inserted.
    async fn write_rows(&self, table: &Table, rows: &[Row]) -> StoreResult<u64>;
    /// After rows were inserted with explicit ids: make the next generated id of `table` larger
    /// than every id it holds.
    async fn reset_generated_id(&self, table: &Table) -> StoreResult<()>;
}

/// Why a copy stopped.
#[derive(Debug, Error)]
pub enum CopyError {
    #[error("reading the source: {0}")]
    Source(#[source] StoreError),
    #[error("writing the target: {0}")]
    Target(#[source] StoreError),
    #[error(
        "the target is not empty (table {table} holds {rows} rows): copy into an empty database, \
         or pass --resume to continue an interrupted copy of this same source"
    )]
    TargetNotEmpty { table: &'static str, rows: u64 },
    #[error(
        "the target is not an interrupted copy of this source: table {table} row ({key}) {what}; \
         nothing was written (copy into an empty database instead)"
    )]
    NotACopy {
        table: &'static str,
        key: String,
        what: &'static str,
    },
    #[error("table {table}: row {position} does not fit the schema: {problem}")]
    BadRow {
        table: &'static str,
        position: u64,
        problem: String,
    },
    #[error(
        "table {table}: the {side} returned keys out of order (at ({key})); its text ordering is \
         not byte-wise"
    )]
    KeyOrder {
        table: &'static str,
        side: &'static str,
        key: String,
    },
    #[error(
        "table {table}: the {side} counts {counted} rows but a scan in key order read {scanned}"
    )]
    Scan {
        table: &'static str,
        side: &'static str,
        counted: u64,
        scanned: u64,
    },
    #[error("interrupted while copying table {table}; re-run with --resume to continue")]
    Interrupted { table: &'static str },
}

/// What [`copy`] reports as it goes (progress bars, log lines). Returning `Break` from
/// [`Progress::batch`] stops the copy with [`CopyError::Interrupted`] (a test hook, or Ctrl-C).
pub trait Progress: Send {
    /// Before copying `table`: how many rows the source holds.
    fn table_started(&mut self, _table: &'static str, _source_rows: u64) {}
    /// After a batch was written: `read` rows read from the source, `inserted` of them new.
    fn batch(&mut self, _table: &'static str, _read: u64, _inserted: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After `table` was copied.
    fn table_done(&mut self, _table: &'static str, _inserted: u64) {}
    /// Verification of `table` started.
    fn verifying(&mut self, _table: &'static str) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// Copy options.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Accept a non-empty target if it holds only rows of this same source (an interrupted copy).
    pub resume: bool,
    /// Rows per read and per write transaction.
    pub batch: u32,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            resume: false,
            batch: 500,
        }
    }
}

/// One table's verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCheck {
    pub table: &'static str,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_sha256: String,
    pub target_sha256: String,
    /// Rows this run inserted (0 when only verifying).
    pub inserted: u64,
}

impl TableCheck {
    /// Counts and hashes agree.
    pub fn ok(&self) -> bool {
        self.source_rows == self.target_rows && self.source_sha256 == self.target_sha256
    }
}

/// The per-table result of a copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub tables: Vec<TableCheck>,
}

impl Report {
    /// Every table matches.
    pub fn ok(&self) -> bool {
        self.tables.iter().all(TableCheck::ok)
    }

    /// Tables that differ.
    pub fn mismatched(&self) -> Vec<&'static str> {
        self.tables
            .iter()
            .filter(|t| !t.ok())
            .map(|t| t.table)
            .collect()
    }
}

/// Reads one table in key order, batch by batch, checking the order and every row's shape.
struct Cursor<'a> {
    read: &'a mut dyn TableRead,
    table: &'static Table,
    side: &'static str,
    batch: u32,
    buf: std::vec::IntoIter<Row>,
    last: Option<Vec<Value>>,
    position: u64,
    done: bool,
}

impl<'a> Cursor<'a> {
    fn new(
        read: &'a mut dyn TableRead,
        table: &'static Table,
        side: &'static str,
        batch: u32,
    ) -> Self {
        Self {
            read,
            table,
            side,
            batch: batch.max(1),
            buf: Vec::new().into_iter(),
            last: None,
            position: 0,
            done: false,
        }
    }

    fn wrap(&self, e: StoreError) -> CopyError {
        if self.side == "source" {
            CopyError::Source(e)
        } else {
            CopyError::Target(e)
        }
    }

    /// The next batch (empty at the end).
    async fn next_batch(&mut self) -> Result<Vec<Row>, CopyError> {
        let rest: Vec<Row> = std::mem::take(&mut self.buf).collect();
        if !rest.is_empty() {
            return Ok(rest);
        }
        if self.done {
            return Ok(Vec::new());
        }
        let rows = self
            .read
            .read_rows(self.table, self.last.as_deref(), self.batch)
            .await
            .map_err(|e| self.wrap(e))?;
        if rows.len() < self.batch as usize {
            self.done = true;
        }
        for row in &rows {
            self.position += 1;
            check_row(self.table, row, self.position)?;
            let key = self.table.key_of(row);
            if let Some(last) = &self.last {
                if key_cmp(last, &key) != Ordering::Less {
                    return Err(CopyError::KeyOrder {
                        table: self.table.name,
                        side: self.side,
                        key: show_key(&key),
                    });
                }
            }
            self.last = Some(key);
        }
        Ok(rows)
    }

    async fn next(&mut self) -> Result<Option<Row>, CopyError> {
        if let Some(row) = self.buf.next() {
            return Ok(Some(row));
        }
        let batch = self.next_batch().await?;
        self.buf = batch.into_iter();
        Ok(self.buf.next())
    }
}

fn check_row(table: &'static Table, row: &[Value], position: u64) -> Result<(), CopyError> {
    if row.len() != table.columns.len() {
        return Err(CopyError::BadRow {
            table: table.name,
            position,
            problem: format!("{} values for {} columns", row.len(), table.columns.len()),
        });
    }
    for (v, c) in row.iter().zip(table.columns) {
        if !v.fits(c) {
            return Err(CopyError::BadRow {
                table: table.name,
                position,
                problem: format!("column {} cannot hold {v}", c.name),
            });
        }
    }
    Ok(())
}

/// Copy every table of `source` into `target`, then [`verify`] them.
///
/// Without `resume` the target must be empty. With `resume` every row it holds must equal the
/// source's row with the same key (what an interrupted copy leaves); rows already there are
/// skipped. The returned report says per table whether counts and hashes agree; a mismatch is not
/// an error here (the caller prints the report and fails).
pub async fn copy(
    source: &dyn TableCopy,
    target: &dyn TableCopy,
    options: &CopyOptions,
    progress: &mut dyn Progress,
) -> Result<Report, CopyError> {
    let mut snap = source.snapshot().await.map_err(CopyError::Source)?;
    {
        let mut existing = target.snapshot().await.map_err(CopyError::Target)?;
        for table in TABLES {
            let rows = existing.count(table).await.map_err(CopyError::Target)?;
            if rows == 0 {
                continue;
            }
            if !options.resume {
                return Err(CopyError::TargetNotEmpty {
                    table: table.name,
                    rows,
                });
            }
            if table.derived {
                // Counters over the rows already copied: verified once the copy is complete.
                continue;
            }
            check_is_part_of(snap.as_mut(), existing.as_mut(), table, options.batch).await?;
        }
    }
    let mut inserted = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        if table.derived {
            inserted.push(0);
            continue;
        }
        let total = snap.count(table).await.map_err(CopyError::Source)?;
        progress.table_started(table.name, total);
        let mut cursor = Cursor::new(snap.as_mut(), table, "source", options.batch);
        let mut new = 0;
        loop {
            let rows = cursor.next_batch().await?;
            if rows.is_empty() {
                break;
            }
            let added = target
                .write_rows(table, &rows)
                .await
                .map_err(CopyError::Target)?;
            new += added;
            if progress
                .batch(table.name, rows.len() as u64, added)
                .is_break()
            {
                return Err(CopyError::Interrupted { table: table.name });
            }
        }
        if table.generated_id.is_some() {
            target
                .reset_generated_id(table)
                .await
                .map_err(CopyError::Target)?;
        }
        progress.table_done(table.name, new);
        inserted.push(new);
    }
    let mut report = verify_with(snap.as_mut(), target, options.batch, progress).await?;
    for (check, new) in report.tables.iter_mut().zip(inserted) {
        check.inserted = new;
    }
    Ok(report)
}

/// Every row of `table` in `target` equals the source's row with the same key.
async fn check_is_part_of(
    source: &mut dyn TableRead,
    target: &mut dyn TableRead,
    table: &'static Table,
    batch: u32,
) -> Result<(), CopyError> {
    let mut src = Cursor::new(source, table, "source", batch);
    let mut dst = Cursor::new(target, table, "target", batch);
    let mut s = src.next().await?;
    while let Some(t) = dst.next().await? {
        let t_key = table.key_of(&t);
        loop {
            match &s {
                Some(row) if key_cmp(&table.key_of(row), &t_key) == Ordering::Less => {
                    s = src.next().await?;
                }
                _ => break,
            }
        }
        let what = match &s {
            Some(row) if key_cmp(&table.key_of(row), &t_key) == Ordering::Equal => {
                if *row == t {
                    s = src.next().await?;
                    continue;
                }
                "differs from the source's"
            }
            _ => "is not in the source",
        };
        return Err(CopyError::NotACopy {
            table: table.name,
            key: show_key(&t_key),
            what,
        });
    }
    Ok(())
}

async fn digest(
    read: &mut dyn TableRead,
    table: &'static Table,
    side: &'static str,
    batch: u32,
) -> Result<(u64, String), CopyError> {
    let mut cursor = Cursor::new(read, table, side, batch);
    let mut hash = Sha256::new();
    let mut rows = 0u64;
    loop {
        let batch = cursor.next_batch().await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            rows += 1;
            for v in row {
                v.encode(&mut hash);
            }
        }
    }
    Ok((rows, hex::encode(hash.finalize())))
}

async fn verify_with(
    source: &mut dyn TableRead,
    target: &dyn TableCopy,
    batch: u32,
    progress: &mut dyn Progress,
) -> Result<Report, CopyError> {
    let mut dst = target.snapshot().await.map_err(CopyError::Target)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        progress.verifying(table.name);
        let (scanned_source, source_sha256) = digest(source, table, "source", batch).await?;
        let (scanned_target, target_sha256) = digest(dst.as_mut(), table, "target", batch).await?;
        // Counted with COUNT(*): a row the key-ordered scan missed would show here (and in the hash).
        let source_rows = source.count(table).await.map_err(CopyError::Source)?;
        let target_rows = dst.count(table).await.map_err(CopyError::Target)?;
        for (side, counted, scanned) in [
            ("source", source_rows, scanned_source),
            ("target", target_rows, scanned_target),
        ] {
            if counted != scanned {
                return Err(CopyError::Scan {
                    table: table.name,
                    side,
                    counted,
                    scanned,
                });
            }
        }
        tables.push(TableCheck {
            table: table.name,
            source_rows,
            target_rows,
            source_sha256,
            target_sha256,
            inserted: 0,
        });
    }
    Ok(Report { tables })
}

/// Compare every table of two databases (counts and content hashes), each read in one snapshot.
pub async fn verify(source: &dyn TableCopy, target: &dyn TableCopy) -> Result<Report, CopyError> {
    let mut snap = source.snapshot().await.map_err(CopyError::Source)?;
    verify_with(
        snap.as_mut(),
        target,
        CopyOptions::default().batch,
        &mut Quiet,
    )
    .await
}

/// The SQL both engines run, built from [`TABLES`] (identifiers quoted; `$n` placeholders).
pub mod sql {
    use super::{ColumnType, Table};

    fn quote(name: &str) -> String {
        format!("\"{name}\"")
    }

    /// A column in a select list (`int_cast`: how an integer column is read, e.g. `::BIGINT`).
    fn select_column(name: &str, ty: ColumnType, int_cast: &str) -> String {
        match ty {
            ColumnType::Int if !int_cast.is_empty() => format!("{}{int_cast}", quote(name)),
            _ => quote(name),
        }
    }

    /// A key column in `ORDER BY`/comparisons: text with `text_collation` (e.g. ` COLLATE "C"`).
    fn key_column(table: &Table, name: &str, text_collation: &str) -> String {
        match table.column(name).map(|c| c.ty) {
            Some(ColumnType::Text) => format!("{}{text_collation}", quote(name)),
            _ => quote(name),
        }
    }

    /// `SELECT cols FROM t [WHERE (key) > ($1, …)] ORDER BY key LIMIT $n`.
    pub fn select(table: &Table, after: bool, text_collation: &str, int_cast: &str) -> String {
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| select_column(c.name, c.ty, int_cast))
            .collect();
        let keys: Vec<String> = table
            .key
            .iter()
            .map(|k| key_column(table, k, text_collation))
            .collect();
        let mut s = format!("SELECT {} FROM {}", cols.join(", "), quote(table.name));
        let n = table.key.len();
        if after {
            let params: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
            s.push_str(&format!(
                " WHERE ({}) > ({})",
                keys.join(", "),
                params.join(", ")
            ));
        }
        let limit = if after { n + 1 } else { 1 };
        s.push_str(&format!(" ORDER BY {} LIMIT ${limit}", keys.join(", ")));
        s
    }

    /// `SELECT COUNT(*) FROM t`.
    pub fn count(table: &Table) -> String {
        format!("SELECT COUNT(*) FROM {}", quote(table.name))
    }

    /// `INSERT INTO t (cols) VALUES (…), … ON CONFLICT (key) DO NOTHING` for `rows` rows.
    pub fn insert(table: &Table, rows: usize) -> String {
        let cols: Vec<String> = table.columns.iter().map(|c| quote(c.name)).collect();
        let width = cols.len();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let ps: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", ps.join(", "))
            })
            .collect();
        let keys: Vec<String> = table.key.iter().map(|k| quote(k)).collect();
        format!(
            "INSERT INTO {} ({}) VALUES {} ON CONFLICT ({}) DO NOTHING",
            quote(table.name),
            cols.join(", "),
            tuples.join(", "),
            keys.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_and_generated_id_is_a_column_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for t in TABLES {
            assert!(names.insert(t.name), "{} listed twice", t.name);
            assert_eq!(t.key_positions().len(), t.key.len(), "{}", t.name);
            if let Some(id) = t.generated_id {
                assert_eq!(t.key, [id], "{}", t.name);
                assert_eq!(t.column(id).map(|c| c.ty), Some(ColumnType::Int));
            }
            for k in t.key {
                assert!(!t.column(k).unwrap().nullable, "{}.{k}", t.name);
            }
        }
    }

    #[test]
    fn keys_order_like_the_engines() {
        let t = |s: &str| Value::Text(s.into());
        assert_eq!(
            t("B").key_cmp(&t("a")),
            Ordering::Less,
            "byte-wise, not case-folded"
        );
        assert_eq!(t("é").key_cmp(&t("z")), Ordering::Greater);
        assert_eq!(Value::Int(-1).key_cmp(&Value::Int(2)), Ordering::Less);
        assert_eq!(
            key_cmp(&[t("a"), t("b")], &[t("a"), t("c")]),
            Ordering::Less
        );
    }

    #[test]
    fn the_encoding_tells_values_apart() {
        let h = |vals: &[Value]| {
            let mut d = Sha256::new();
            for v in vals {
                v.encode(&mut d);
            }
            hex::encode(d.finalize())
        };
        let t = |s: &str| Value::Text(s.into());
        assert_ne!(h(&[t("ab"), t("")]), h(&[t("a"), t("b")]));
        assert_ne!(h(&[Value::Null]), h(&[t("")]));
        assert_ne!(h(&[Value::Int(1)]), h(&[Value::Bool(true)]));
        assert_ne!(h(&[Value::Int(0)]), h(&[Value::Null]));
    }

    #[test]
    fn sql_is_built_from_the_list() {
        let t = table("device_overrides").unwrap();
        assert_eq!(
            sql::select(t, true, " COLLATE \"C\"", ""),
            "SELECT \"app_id\", \"device_id\", \"channel_id\", \"created_at\", \"set_by\" FROM \
             \"device_overrides\" WHERE (\"app_id\" COLLATE \"C\", \"device_id\" COLLATE \"C\") > \
             ($1, $2) ORDER BY \"app_id\" COLLATE \"C\", \"device_id\" COLLATE \"C\" LIMIT $3"
        );
        let t = table("icp_calendar_years").unwrap();
        assert_eq!(
            sql::insert(t, 2),
            "INSERT INTO \"icp_calendar_years\" (\"year\", \"data\", \"loaded_at\", \"loaded_by\") \
             VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) ON CONFLICT (\"year\") DO NOTHING"
        );
    }
}
