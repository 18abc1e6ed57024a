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
