//! [`TableCopy`] for PostgreSQL: whole tables as engine-neutral rows (`landfall migrate db`).
//!
//! A snapshot is one `REPEATABLE READ READ ONLY` transaction. Text keys are ordered and compared
//! `COLLATE "C"` (byte-wise, like SQLite), whatever the database's collation; integer columns are
//! read as `BIGINT` (`icp_calendar_years.year` is `INTEGER`). After rows are copied with their ids,
//! each `BIGSERIAL` sequence is set past the largest id.

use async_trait::async_trait;
use landfall_store::copy::{sql, ColumnType, Row, Table, TableCopy, TableRead, Value};
use landfall_store::StoreResult;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row as _, Transaction};

use crate::{db, PgStore};

const COLLATE_C: &str = " COLLATE \"C\"";

struct Snapshot {
    tx: Transaction<'static, Postgres>,
}

fn bad(table: &Table, column: &str, problem: impl std::fmt::Display) -> landfall_store::StoreError {
    landfall_store::StoreError::Backend(
        format!("table {} column {column}: {problem}", table.name).into(),
    )
}

fn decode(table: &Table, r: &PgRow) -> StoreResult<Row> {
    let mut row = Vec::with_capacity(table.columns.len());
    for (i, c) in table.columns.iter().enumerate() {
        let v = match c.ty {
            ColumnType::Text => r
                .try_get::<Option<String>, _>(i)
                .map_err(|e| bad(table, c.name, e))?
                .map_or(Value::Null, Value::Text),
            ColumnType::Int => r
                .try_get::<Option<i64>, _>(i)
                .map_err(|e| bad(table, c.name, e))?
                .map_or(Value::Null, Value::Int),
            ColumnType::Bool => r
                .try_get::<Option<bool>, _>(i)
                .map_err(|e| bad(table, c.name, e))?
                .map_or(Value::Null, Value::Bool),
        };
        row.push(v);
    }
    Ok(row)
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn bind<'q>(q: Query<'q>, ty: ColumnType, v: &Value) -> Query<'q> {
    match (ty, v) {
        (_, Value::Int(i)) => q.bind(*i),
        (_, Value::Bool(b)) => q.bind(*b),
        (_, Value::Text(s)) => q.bind(s.clone()),
        // A typed NULL: PostgreSQL infers nothing from an untyped parameter.
        (ColumnType::Text, Value::Null) => q.bind(None::<String>),
        (ColumnType::Int, Value::Null) => q.bind(None::<i64>),
        (ColumnType::Bool, Value::Null) => q.bind(None::<bool>),
    }
}

#[async_trait]
impl TableRead for Snapshot {
    async fn read_rows(
        &mut self,
        table: &Table,
        after: Option<&[Value]>,
        limit: u32,
    ) -> StoreResult<Vec<Row>> {
        let text = sql::select(table, after.is_some(), COLLATE_C, "::BIGINT");
        let mut q = sqlx::query(&text);
        for (k, v) in table.key.iter().zip(after.unwrap_or_default()) {
            let ty = table.column(k).map_or(ColumnType::Text, |c| c.ty);
            q = bind(q, ty, v);
        }
        let rows = q
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db)?;
        rows.iter().map(|r| decode(table, r)).collect()
    }

    async fn count(&mut self, table: &Table) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar(&sql::count(table))
            .fetch_one(&mut *self.tx)
            .await
            .map_err(db)?;
        Ok(n.max(0) as u64)
    }
}

#[async_trait]
impl TableCopy for PgStore {
    async fn snapshot(&self) -> StoreResult<Box<dyn TableRead>> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db)?;
        Ok(Box::new(Snapshot { tx }))
    }

    async fn write_rows(&self, table: &Table, rows: &[Row]) -> StoreResult<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let text = sql::insert(table, rows.len());
        let mut q = sqlx::query(&text);
        for row in rows {
            for (c, v) in table.columns.iter().zip(row) {
                q = bind(q, c.ty, v);
            }
        }
        let mut tx = self.begin_write().await.map_err(db)?;
        let done = q.execute(&mut *tx).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn reset_generated_id(&self, table: &Table) -> StoreResult<()> {
        let Some(id) = table.generated_id else {
            return Ok(());
        };
        // Next id = largest + 1 (1 on an empty table).
        let text = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(\"{id}\"), 0) + 1, false) \
             FROM \"{}\"",
            table.name
        );
        sqlx::query(&text)
            .bind(table.name)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }
}
