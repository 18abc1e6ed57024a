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
