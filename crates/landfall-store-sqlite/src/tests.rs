//! The conformance story on a real SQLite file, plus durability across reopen.

use super::*;

#[tokio::test]
async fn conformance_story_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    landfall_store::conformance::story(&store).await;
}

#[tokio::test]
async fn conformance_analytics() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    landfall_store::conformance::analytics(&store).await;
}

#[tokio::test]
async fn users_story_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    landfall_store::conformance::users_story(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_feed_is_gapless_under_racing_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    landfall_store::conformance::catalog_feed(&store).await;
}

#[tokio::test]
async fn release_log_seals_rows_of_an_older_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    landfall_store::conformance::release_log_seals_older_rows_before(&store).await;
    sqlx::query(landfall_store::conformance::LEGACY_AUDIT_ROWS)
        .execute(&store.writer)
        .await
        .unwrap();
    landfall_store::conformance::release_log_seals_older_rows_after(&store).await;
}

#[tokio::test]
async fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("landfall.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .create_app("com.example.app", "Example", "admin")
        .await
        .unwrap();
    store.close().await;
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.list_apps().await.unwrap().len(), 1);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&again.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("landfall.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let known = known_schema_version();
    assert!(known >= 4);
    assert_eq!(store.schema_version().await.unwrap(), known);
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?, 'from the future', TRUE, x'00', 0)",
    )
    .bind(known + 7)
    .execute(&store.writer)
    .await
    .unwrap();
    store.close().await;
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, known: k } if found == known + 7 && k == known),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("version {} > {known}", known + 7)) && msg.contains("upgrade"),
        "{msg}"
    );
}

/// The tables and columns of a migrated SQLite database, from its catalogue.
async fn actual_schema(pool: &SqlitePool) -> Vec<landfall_store::conformance::ActualTable> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut tables = Vec::new();
    for name in names {
        let cols = sqlx::query(&format!("PRAGMA table_info(\"{name}\")"))
            .fetch_all(pool)
            .await
            .unwrap();
        let mut key: Vec<(i64, String)> = Vec::new();
        let mut columns = Vec::new();
        for c in &cols {
            let col: String = c.get("name");
            let pk: i64 = c.get("pk");
            if pk > 0 {
                key.push((pk, col.clone()));
            }
            let notnull: i64 = c.get("notnull");
            let ty: String = c.get("type");
            columns.push((col, ty.to_lowercase(), notnull == 0 && pk == 0));
        }
        key.sort();
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
            .bind(&name)
            .fetch_one(pool)
            .await
            .unwrap();
        let generated = if sql.contains("AUTOINCREMENT") {
            key.iter().map(|(_, k)| k.clone()).collect()
        } else {
            Vec::new()
        };
        tables.push(landfall_store::conformance::ActualTable {
            name,
            columns,
            key: key.into_iter().map(|(_, k)| k).collect(),
            generated,
        });
    }
    tables
}

#[tokio::test]
async fn the_schema_is_the_copy_table_list() {
    use landfall_store::copy::ColumnType;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("landfall.db"))
        .await
        .unwrap();
    let actual = actual_schema(&store.pool).await;
    landfall_store::conformance::check_schema(&actual, |declared, ty| match ty {
        ColumnType::Int | ColumnType::Bool => declared == "integer",
        ColumnType::Text => declared == "text",
    });
}

#[tokio::test]
async fn copy_to_another_file_gives_the_same_rows() {
    use landfall_store::copy::{self, CopyOptions, Quiet};
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(&dir.path().join("a.db")).await.unwrap();
    landfall_store::conformance::copy_fixture(&a, &a).await;
    let b = SqliteStore::open(&dir.path().join("b.db")).await.unwrap();
    let options = CopyOptions {
        batch: 3,
        ..Default::default()
    };
    let report = copy::copy(&a, &b, &options, &mut Quiet).await.unwrap();
    assert!(report.ok(), "{report:#?}");
    for t in &report.tables {
        assert!(t.source_rows > 0, "the fixture leaves {} empty", t.table);
        // Trigger-kept counters are rebuilt by the target, not written.
        let derived = copy::table(t.table).unwrap().derived;
        assert_eq!(
            t.inserted,
            if derived { 0 } else { t.source_rows },
            "{}",
            t.table
        );
    }
    // Ids continue after the copied ones.
    let next = b
        .create_token("new", &"99".repeat(32), &[], "test")
        .await
        .unwrap();
    let max = a.list_tokens().await.unwrap().iter().map(|t| t.id).max();
    assert_eq!(Some(next.id - 1), max);
    // A second copy into the now non-empty file is refused without `resume`.
    let err = copy::copy(&a, &b, &CopyOptions::default(), &mut Quiet)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("table apps holds 2 rows") && err.to_string().contains("--resume"),
        "{err}"
    );
}

#[tokio::test]
async fn a_boolean_column_holding_another_integer_is_refused() {
    use landfall_store::copy::{self, CopyOptions, Quiet};
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(&dir.path().join("a.db")).await.unwrap();
    a.create_app("com.example.app", "Example", "admin")
        .await
        .unwrap();
    sqlx::query("UPDATE apps SET expose_metadata = 2")
        .execute(&a.writer)
        .await
        .unwrap();
    let b = SqliteStore::open(&dir.path().join("b.db")).await.unwrap();
    let err = copy::copy(&a, &b, &CopyOptions::default(), &mut Quiet)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("apps column expose_metadata: holds 2, not 0 or 1"),
        "{err}"
    );
}

// The shared racing-writer and listing cases, each on a fresh file.
landfall_store::store_cases!({
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(
        SqliteStore::open(&dir.path().join("landfall.db"))
            .await
            .unwrap(),
    );
    Some((store, dir))
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn icp_revisions_race() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(
        SqliteStore::open(&dir.path().join("landfall.db"))
            .await
            .unwrap(),
    );
    landfall_store::conformance::races::icp_revisions_race(s.clone(), s).await;
}
