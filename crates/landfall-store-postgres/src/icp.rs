//! PostgreSQL implementation of [`landfall_store::icp::IcpStore`] (the `icp_*` tables of
//! `migrations/0001_init.sql`), mirroring `landfall-store-sqlite/src/icp.rs`.
//!
//! Revisioned rows (filings, incidents) are written with `UPDATE … WHERE revision = $expected`,
//! so a write based on a stale read changes nothing and answers `Conflict`.

use async_trait::async_trait;
use landfall_store::icp::{
    stale, IcpCalendarYearRow, IcpCompletionRow, IcpDocumentRow, IcpFilingRow, IcpIncidentRow,
    IcpSettingRow, IcpStore, NewIcpCompletion, NewIcpDocument, NewRecordChange, RecordChangeRow,
};
use landfall_store::{now_ms, StoreError, StoreResult};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{
    change_row, completion_row, db, document_row, filing_row, incident_row, setting_row, PgStore,
};

fn year_row(r: &PgRow) -> IcpCalendarYearRow {
    IcpCalendarYearRow {
        year: r.get("year"),
        data: r.get("data"),
        loaded_at: r.get("loaded_at"),
        loaded_by: r.get("loaded_by"),
    }
}

fn missing(what: String) -> StoreError {
    StoreError::NotFound(what)
}

/// Foreign-key failures mean the app does not exist.
fn app_db(app_id: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| {
        if let sqlx::Error::Database(d) = &e {
            if d.is_foreign_key_violation() {
                return missing(format!("app {app_id}"));
            }
        }
        db(e)
    }
}

#[async_trait]
impl IcpStore for PgStore {
    async fn get_filing(&self, app_id: &str) -> StoreResult<Option<IcpFilingRow>> {
        sqlx::query("SELECT * FROM icp_filings WHERE app_id = $1")
            .bind(app_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| filing_row(&r))
            .transpose()
    }

    async fn put_filing(
        &self,
        app_id: &str,
        data: &Value,
        expected_revision: Option<i64>,
        change: Option<&NewRecordChange>,
        actor: &str,
    ) -> StoreResult<IcpFilingRow> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let now = now_ms();
        let text = data.to_string();
        match expected_revision {
            None => {
                sqlx::query(
                    "INSERT INTO icp_filings (app_id, revision, data, created_at, updated_at, updated_by) \
                     VALUES ($1, 1, $2, $3, $3, $4)",
                )
                .bind(app_id)
                .bind(&text)
                .bind(now)
                .bind(actor)
                .execute(&mut *tx)
                .await
                .map_err(|e| match app_db(app_id)(e) {
                    StoreError::Conflict(_) => stale(&format!("the ICP filing of {app_id}")),
                    other => other,
                })?;
            }
            Some(rev) => {
                let done = sqlx::query(
                    "UPDATE icp_filings SET revision = revision + 1, data = $1, updated_at = $2, updated_by = $3 \
                     WHERE app_id = $4 AND revision = $5",
                )
                .bind(&text)
                .bind(now)
                .bind(actor)
                .bind(app_id)
                .bind(rev)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                if done.rows_affected() == 0 {
                    return Err(stale(&format!("the ICP filing of {app_id}")));
                }
            }
        }
        if let Some(c) = change {
            sqlx::query(
                "INSERT INTO icp_record_changes (app_id, at, actor, reason, sections, record, change_filing) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(app_id)
            .bind(now)
            .bind(actor)
            .bind(&c.reason)
            .bind(c.sections.to_string())
            .bind(c.record.to_string())
            .bind(c.change_filing)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let row = sqlx::query("SELECT * FROM icp_filings WHERE app_id = $1")
            .bind(app_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        let row = filing_row(&row)?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    async fn list_record_changes(&self, app_id: &str) -> StoreResult<Vec<RecordChangeRow>> {
        sqlx::query("SELECT * FROM icp_record_changes WHERE app_id = $1 ORDER BY id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(change_row)
            .collect()
    }

    async fn insert_document(&self, d: NewIcpDocument, actor: &str) -> StoreResult<IcpDocumentRow> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO icp_documents (app_id, kind, file_name, sha256, size, content_type, meta, \
             created_at, created_by, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $9) RETURNING *",
        )
        .bind(&d.app_id)
        .bind(&d.kind)
        .bind(&d.file_name)
        .bind(&d.sha256)
        .bind(d.size as i64)
        .bind(&d.content_type)
        .bind(d.meta.to_string())
        .bind(now)
        .bind(actor)
        .fetch_one(&self.pool)
        .await
        .map_err(app_db(&d.app_id))?;
        document_row(&row)
    }

    async fn get_document(&self, app_id: &str, id: i64) -> StoreResult<IcpDocumentRow> {
        let row = sqlx::query("SELECT * FROM icp_documents WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| missing(format!("document {id} of {app_id}")))?;
        document_row(&row)
    }

    async fn list_documents(
        &self,
        app_id: &str,
        include_deleted: bool,
    ) -> StoreResult<Vec<IcpDocumentRow>> {
        let sql = if include_deleted {
            "SELECT * FROM icp_documents WHERE app_id = $1 ORDER BY id"
        } else {
            "SELECT * FROM icp_documents WHERE app_id = $1 AND deleted_at IS NULL ORDER BY id"
        };
        sqlx::query(sql)
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(document_row)
            .collect()
    }

    async fn update_document(
        &self,
        app_id: &str,
        id: i64,
        meta: &Value,
        actor: &str,
    ) -> StoreResult<IcpDocumentRow> {
        let row = sqlx::query(
            "UPDATE icp_documents SET meta = $1, updated_at = $2, updated_by = $3 \
             WHERE app_id = $4 AND id = $5 AND deleted_at IS NULL RETURNING *",
        )
        .bind(meta.to_string())
        .bind(now_ms())
        .bind(actor)
        .bind(app_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(format!("document {id} of {app_id}")))?;
        document_row(&row)
    }

    async fn delete_document(&self, app_id: &str, id: i64, actor: &str) -> StoreResult<()> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE icp_documents SET deleted_at = $1, updated_at = $1, updated_by = $2 \
             WHERE app_id = $3 AND id = $4 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(actor)
        .bind(app_id)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(missing(format!("document {id} of {app_id}")));
        }
        Ok(())
    }

    async fn insert_completion(
        &self,
        c: NewIcpCompletion,
        actor: &str,
    ) -> StoreResult<IcpCompletionRow> {
        let row = sqlx::query(
            "INSERT INTO icp_completions (app_id, check_kind, done_on, notes, data, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(&c.app_id)
        .bind(&c.check)
        .bind(&c.done_on)
        .bind(&c.notes)
        .bind(c.data.to_string())
        .bind(now_ms())
        .bind(actor)
        .fetch_one(&self.pool)
        .await
        .map_err(app_db(&c.app_id))?;
        completion_row(&row)
    }

    async fn list_completions(&self, app_id: &str) -> StoreResult<Vec<IcpCompletionRow>> {
        sqlx::query("SELECT * FROM icp_completions WHERE app_id = $1 ORDER BY done_on, id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(completion_row)
            .collect()
    }

    async fn update_completion(
        &self,
        app_id: &str,
        id: i64,
        data: &Value,
    ) -> StoreResult<IcpCompletionRow> {
        let row = sqlx::query(
            "UPDATE icp_completions SET data = $1 WHERE app_id = $2 AND id = $3 RETURNING *",
        )
        .bind(data.to_string())
        .bind(app_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or_else(|| missing(format!("completion {id} of {app_id}")))?;
        completion_row(&row)
    }

    async fn insert_incident(
        &self,
        app_id: &str,
        data: &Value,
        actor: &str,
    ) -> StoreResult<IcpIncidentRow> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO icp_incidents (app_id, revision, data, created_at, created_by, updated_at, updated_by) \
             VALUES ($1, 1, $2, $3, $4, $3, $4) RETURNING *",
        )
        .bind(app_id)
        .bind(data.to_string())
        .bind(now)
        .bind(actor)
        .fetch_one(&self.pool)
        .await
        .map_err(app_db(app_id))?;
        incident_row(&row)
    }

    async fn get_incident(&self, app_id: &str, id: i64) -> StoreResult<IcpIncidentRow> {
        let row = sqlx::query("SELECT * FROM icp_incidents WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or_else(|| missing(format!("incident {id} of {app_id}")))?;
        incident_row(&row)
    }

    async fn list_incidents(&self, app_id: &str) -> StoreResult<Vec<IcpIncidentRow>> {
        sqlx::query("SELECT * FROM icp_incidents WHERE app_id = $1 ORDER BY id DESC")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(incident_row)
            .collect()
    }

    async fn update_incident(
        &self,
        app_id: &str,
        id: i64,
        data: &Value,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<IcpIncidentRow> {
        let row = sqlx::query(
            "UPDATE icp_incidents SET revision = revision + 1, data = $1, updated_at = $2, updated_by = $3 \
             WHERE app_id = $4 AND id = $5 AND revision = $6 RETURNING *",
        )
        .bind(data.to_string())
        .bind(now_ms())
        .bind(actor)
        .bind(app_id)
        .bind(id)
        .bind(expected_revision)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some(r) => incident_row(&r),
            None => {
                // Tell "gone" from "stale".
                self.get_incident(app_id, id).await?;
                Err(stale(&format!("incident {id}")))
            }
        }
    }

    async fn get_setting(&self, app_id: &str, key: &str) -> StoreResult<Option<IcpSettingRow>> {
        sqlx::query("SELECT * FROM icp_settings WHERE app_id = $1 AND key = $2")
            .bind(app_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|r| setting_row(&r))
            .transpose()
    }

    async fn put_setting(
        &self,
        app_id: &str,
        key: &str,
        value: &Value,
        actor: &str,
    ) -> StoreResult<IcpSettingRow> {
        let row = sqlx::query(
            "INSERT INTO icp_settings (app_id, key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by RETURNING *",
        )
        .bind(app_id)
        .bind(key)
        .bind(value.to_string())
        .bind(now_ms())
        .bind(actor)
        .fetch_one(&self.pool)
        .await
        .map_err(app_db(app_id))?;
        setting_row(&row)
    }

    async fn list_calendar_years(&self) -> StoreResult<Vec<IcpCalendarYearRow>> {
        Ok(
            sqlx::query("SELECT * FROM icp_calendar_years ORDER BY year")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?
                .iter()
                .map(year_row)
                .collect(),
        )
    }

    async fn put_calendar_year(
        &self,
        year: i32,
        data: &str,
        actor: &str,
    ) -> StoreResult<IcpCalendarYearRow> {
        let row = sqlx::query(
            "INSERT INTO icp_calendar_years (year, data, loaded_at, loaded_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (year) DO UPDATE SET data = excluded.data, loaded_at = excluded.loaded_at, \
             loaded_by = excluded.loaded_by RETURNING *",
        )
        .bind(year)
        .bind(data)
        .bind(now_ms())
        .bind(actor)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(year_row(&row))
    }

    async fn referenced_icp_blobs(&self) -> StoreResult<Vec<String>> {
        let mut out: Vec<String> = sqlx::query_scalar("SELECT DISTINCT sha256 FROM icp_documents")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let evidence: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT DISTINCT e ->> 'sha256' FROM icp_completions, \
             jsonb_array_elements(CASE WHEN jsonb_typeof(data::jsonb -> 'evidence') = 'array' \
             THEN data::jsonb -> 'evidence' ELSE '[]'::jsonb END) AS e",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        out.extend(evidence.into_iter().flatten());
        out.sort();
        out.dedup();
        Ok(out)
    }
}
