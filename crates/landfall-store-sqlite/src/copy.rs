//! [`TableCopy`] for SQLite: whole tables as engine-neutral rows (`landfall migrate db`).
//!
//! A snapshot is one deferred read transaction on a reader connection: in WAL mode it sees one
//! consistent state of the file for its whole life, while a server may keep writing. Booleans are
//! `INTEGER` 0/1 here; any other value in a boolean column is refused rather than guessed.

use async_trait::async_trait;
use landfall_store::copy::{sql, ColumnType, Row, Table, TableCopy, TableRead, Value};
use landfall_store::StoreResult;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, Sqlite, Transaction};

use crate::{db, SqliteStore};

struct Snapshot {
    tx: Transaction<'static, Sqlite>,
}

fn bad(table: &Table, column: &str, problem: impl std::fmt::Display) -> landfall_store::StoreError {
    landfall_store::StoreError::Backend(
        format!("table {} column {column}: {problem}", table.name).into(),
    )
}

fn decode(table: &Table, r: &SqliteRow) -> StoreResult<Row> {
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
            ColumnType::Bool => match r
                .try_get::<Option<i64>, _>(i)
                .map_err(|e| bad(table, c.name, e))?
            {
                None => Value::Null,
                Some(0) => Value::Bool(false),
                Some(1) => Value::Bool(true),
                Some(other) => {
                    return Err(bad(table, c.name, format!("holds {other}, not 0 or 1")))
                }
            },
        };
        row.push(v);
    }
    Ok(row)
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind<'q>(q: Query<'q>, ty: ColumnType, v: &Value) -> Query<'q> {
    match (ty, v) {
        (_, Value::Int(i)) => q.bind(*i),
        (_, Value::Bool(b)) => q.bind(i64::from(*b)),
        (_, Value::Text(s)) => q.bind(s.clone()),
        (ColumnType::Text, Value::Null) => q.bind(None::<String>),
        (_, Value::Null) => q.bind(None::<i64>),
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
        let text = sql::select(table, after.is_some(), "", "");
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
impl TableCopy for SqliteStore {
    async fn snapshot(&self) -> StoreResult<Box<dyn TableRead>> {
        // Deferred: the read snapshot starts at the first SELECT and lasts until the drop.
        let tx = self.pool.begin().await.map_err(db)?;
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

    /// SQLite's `AUTOINCREMENT` already moved past every id inserted explicitly (`sqlite_sequence`).
    async fn reset_generated_id(&self, _table: &Table) -> StoreResult<()> {
        Ok(())
    }
}
