//! Storage of the ICP compliance desk: the [`IcpStore`] trait and its rows.
//!
//! Kept apart from [`crate::Store`] so the update path never depends on it. Structured content
//! (the filing record and state machine, incidents, settings) is stored as JSON documents whose
//! shape the server owns (`landfall-icp` types); the store guarantees durability, per-app
//! isolation and optimistic concurrency (`revision`): a write based on a stale read is refused
//! with [`StoreError::Conflict`] instead of silently overwriting someone else's change.
//!
//! Document bytes never live in the database: the caller writes them to a blob store first and
//! then records their sha256 here, so a document row always points at complete, hashed bytes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{StoreError, StoreResult};

/// The filing of one app (record, state machine, history) as a JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpFilingRow {
    pub app_id: String,
    /// Starts at 1, +1 per write.
    pub revision: i64,
    pub data: Value,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A change of the recorded details, appended with the filing write that makes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRecordChange {
    pub reason: Option<String>,
    /// Which parts changed (JSON array of section names).
    pub sections: Value,
    /// The record after the change.
    pub record: Value,
    /// A change filing was opened by it.
    pub change_filing: bool,
}

/// A stored record change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordChangeRow {
    pub id: i64,
    pub app_id: String,
    pub at: i64,
    pub actor: String,
    pub reason: Option<String>,
    pub sections: Value,
    pub record: Value,
    pub change_filing: bool,
}

/// A document to record (its bytes are already in the blob store under `sha256`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIcpDocument {
    pub app_id: String,
    /// Checklist kind (snake_case name).
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    /// Status, flags, expiry … (owned by the server).
    pub meta: Value,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpDocumentRow {
    pub id: i64,
    pub app_id: String,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub meta: Value,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
    /// Removed from the checklist (the row and the bytes are kept for the record).
    pub deleted_at: Option<i64>,
}

/// A completed compliance check to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIcpCompletion {
    pub app_id: String,
    /// Check name (snake_case).
    pub check: String,
    /// `YYYY-MM-DD`.
    pub done_on: String,
    pub notes: String,
    /// Measurements and evidence list (owned by the server).
    pub data: Value,
}

/// A stored completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpCompletionRow {
    pub id: i64,
    pub app_id: String,
    pub check: String,
    pub done_on: String,
    pub notes: String,
    pub data: Value,
    pub created_at: i64,
    pub created_by: String,
}

/// A stored incident (its content is a JSON document owned by the server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpIncidentRow {
    pub id: i64,
    pub app_id: String,
    pub revision: i64,
    pub data: Value,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A per-app JSON setting (`settings`, `emergency`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpSettingRow {
    pub app_id: String,
    pub key: String,
    pub value: Value,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A holiday year loaded by an administrator (the JSON text as given, already validated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpCalendarYearRow {
    pub year: i32,
    pub data: String,
    pub loaded_at: i64,
    pub loaded_by: String,
}

/// Metadata store of the ICP desk. Held as `Arc<dyn IcpStore>`.
#[async_trait]
pub trait IcpStore: Send + Sync + 'static {
    // --- filing
    async fn get_filing(&self, app_id: &str) -> StoreResult<Option<IcpFilingRow>>;
    /// Create (`expected_revision = None`: `Conflict` if one exists) or replace the filing
    /// (`Some(rev)`: `Conflict` unless the stored revision is `rev`), appending `change` to the
    /// record history in the same transaction.
    async fn put_filing(
        &self,
        app_id: &str,
        data: &Value,
        expected_revision: Option<i64>,
        change: Option<&NewRecordChange>,
        actor: &str,
    ) -> StoreResult<IcpFilingRow>;
    /// Oldest first.
    async fn list_record_changes(&self, app_id: &str) -> StoreResult<Vec<RecordChangeRow>>;

    // --- documents
    async fn insert_document(
        &self,
        doc: NewIcpDocument,
        actor: &str,
    ) -> StoreResult<IcpDocumentRow>;
    /// `NotFound` if the id does not belong to the app.
    async fn get_document(&self, app_id: &str, id: i64) -> StoreResult<IcpDocumentRow>;
    /// Oldest first.
    async fn list_documents(
        &self,
        app_id: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<IcpDocumentRow>>;
    async fn update_document(
        &self,
        app_id: &str,
        id: i64,
        meta: &Value,
        actor: &str,
    ) -> StoreResult<IcpDocumentRow>;
    /// Soft delete: the row and its bytes stay for the record and backups.
    async fn delete_document(&self, app_id: &str, id: i64, actor: &str) -> StoreResult<()>;

    // --- compliance checks
    async fn insert_completion(
        &self,
        c: NewIcpCompletion,
        actor: &str,
    ) -> StoreResult<IcpCompletionRow>;
    /// Oldest first.
    async fn list_completions(&self, app_id: &str) -> StoreResult<Vec<IcpCompletionRow>>;
    /// Replace the data of a completion (e.g. to attach evidence).
    async fn update_completion(
        &self,
        app_id: &str,
        id: i64,
        data: &Value,
    ) -> StoreResult<IcpCompletionRow>;

    // --- incidents
    async fn insert_incident(
        &self,
        app_id: &str,
        data: &Value,
        actor: &str,
    ) -> StoreResult<IcpIncidentRow>;
    async fn get_incident(&self, app_id: &str, id: i64) -> StoreResult<IcpIncidentRow>;
    /// Newest first.
    async fn list_incidents(&self, app_id: &str) -> StoreResult<Vec<IcpIncidentRow>>;
    /// `Conflict` unless the stored revision is `expected_revision`.
    async fn update_incident(
        &self,
        app_id: &str,
        id: i64,
        data: &Value,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<IcpIncidentRow>;

    // --- settings
    async fn get_setting(&self, app_id: &str, key: &str) -> StoreResult<Option<IcpSettingRow>>;
    async fn put_setting(
        &self,
        app_id: &str,
        key: &str,
        value: &Value,
        actor: &str,
    ) -> StoreResult<IcpSettingRow>;

    // --- working-day calendar (server-wide)
    async fn list_calendar_years(&self) -> StoreResult<Vec<IcpCalendarYearRow>>;
    /// Add or replace a year.
    async fn put_calendar_year(
        &self,
        year: i32,
        data: &str,
        actor: &str,
    ) -> StoreResult<IcpCalendarYearRow>;

    // --- blobs
    /// Every blob hash an ICP row references (documents and evidence files).
    async fn referenced_icp_blobs(&self) -> StoreResult<Vec<String>>;
}

/// `Conflict` for a write based on a stale revision.
pub fn stale(what: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{what} was changed by someone else meanwhile; read it again and retry"
    ))
}
