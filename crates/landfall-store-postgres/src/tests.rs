//! The conformance story, durability across a new connection, concurrency and the ICP desk, each
//! on a fresh database of the PostgreSQL at `LANDFALL_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Unreachable: the tests fail when `CI` is set
//! and print `SKIPPED` otherwise.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use landfall_store::icp::IcpStore;
use sqlx::{ConnectOptions, Executor};

use super::*;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Run `body` against a fresh database (its connect options), dropping the database afterwards,
/// also when `body` panics.
async fn with_db<F, Fut>(test: &str, body: F)
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: Future<Output = ()>,
{
    let url = std::env::var("LANDFALL_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.into());
    let admin_opts = PgConnectOptions::from_str(&url).expect("LANDFALL_TEST_POSTGRES is a URL");
    let mut admin = match admin_opts.connect().await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "PostgreSQL at {url} is unreachable ({e}); CI must run the PostgreSQL tests"
                );
            }
            eprintln!("SKIPPED {test}: PostgreSQL at {url} is unreachable ({e})");
            return;
        }
    };
    let name = format!("landfall_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let outcome = AssertUnwindSafe(body(admin_opts.clone().database(&name)))
        .catch_unwind()
        .await;
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test]
async fn conformance_story() {
    with_db("conformance_story", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::story(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn conformance_analytics() {
    with_db("conformance_analytics", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::analytics(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn users_story() {
    with_db("users_story", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::users_story(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_feed_is_gapless_under_racing_writers() {
    with_db("catalog_feed", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::catalog_feed(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn release_log_seals_rows_of_an_older_version() {
    with_db("release_log_seals", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::release_log_seals_older_rows_before(&store).await;
        sqlx::query(landfall_store::conformance::LEGACY_AUDIT_ROWS)
            .execute(&store.pool)
            .await
            .unwrap();
        landfall_store::conformance::release_log_seals_older_rows_after(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn data_survives_a_new_connection() {
    with_db("data_survives_a_new_connection", |opts| async move {
        let store = PgStore::connect_with(opts.clone()).await.unwrap();
        store
            .create_app("com.example.app", "Example", "admin")
            .await
            .unwrap();
        store.put_calendar_year(2027, "{}", "admin").await.unwrap();
        store.close().await;
        // Migrations run again (already applied: nothing to do) and the data is there.
        let again = PgStore::connect_with(opts).await.unwrap();
        assert_eq!(again.list_apps().await.unwrap().len(), 1);
        assert_eq!(again.list_calendar_years().await.unwrap().len(), 1);
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn icp_conformance_story_and_reopen() {
    with_db("icp_conformance_story_and_reopen", |opts| async move {
        let s = PgStore::connect_with(opts.clone()).await.unwrap();
        s.create_app("com.example.app", "Example", "admin")
            .await
            .unwrap();
        landfall_store::conformance::icp_story(&s).await;
        s.close().await;
        let again = PgStore::connect_with(opts).await.unwrap();
        landfall_store::conformance::icp_story_reopened(&again).await;
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn the_schema_is_the_copy_table_list() {
    use landfall_store::conformance::ActualTable;
    use landfall_store::copy::ColumnType;
    with_db("the_schema_is_the_copy_table_list", |opts| async move {
        let store = PgStore::connect_with(opts).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::TEXT FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        let mut actual = Vec::new();
        for name in names {
            let cols = sqlx::query(
                "SELECT column_name::TEXT, data_type::TEXT, is_nullable::TEXT = 'YES', \
                 COALESCE(column_default::TEXT, '') LIKE 'nextval(%' \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(&name)
            .fetch_all(&store.pool)
            .await
            .unwrap();
            let key: Vec<String> = sqlx::query_scalar(
                "SELECT a.attname::TEXT FROM pg_index i \
                 JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON TRUE \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                 WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n",
            )
            .bind(&name)
            .fetch_all(&store.pool)
            .await
            .unwrap();
            actual.push(ActualTable {
                name,
                columns: cols
                    .iter()
                    .map(|c| (c.get(0), c.get(1), c.get(2)))
                    .collect(),
                key,
                generated: cols
                    .iter()
                    .filter(|c| c.get::<bool, _>(3))
                    .map(|c| c.get(0))
                    .collect(),
            });
        }
        landfall_store::conformance::check_schema(&actual, |declared, ty| match ty {
            ColumnType::Int => declared == "bigint" || declared == "integer",
            ColumnType::Bool => declared == "boolean",
            ColumnType::Text => declared == "text",
        });
        store.close().await;
    })
    .await;
}

/// Every row of every table, read through the copy interface.
async fn all_rows(
    store: &dyn landfall_store::copy::TableCopy,
) -> Vec<(&'static str, Vec<landfall_store::copy::Row>)> {
    let mut snap = store.snapshot().await.unwrap();
    let mut out = Vec::new();
    for t in landfall_store::copy::TABLES {
        out.push((t.name, snap.read_rows(t, None, u32::MAX).await.unwrap()));
    }
    out
}

/// What the Store and IcpStore APIs answer about the copied data.
async fn answers<S: Store + IcpStore>(s: &S) -> serde_json::Value {
    let mut apps = Vec::new();
    for app in s.list_apps().await.unwrap() {
        let mut channels = Vec::new();
        for c in s.list_channels(&app.app_id).await.unwrap() {
            let history = s.channel_history(c.id).await.unwrap();
            channels.push(serde_json::json!({ "channel": c, "history": history }));
        }
        apps.push(serde_json::json!({
            "app": app,
            "bundles": s.list_bundles(&app.app_id).await.unwrap(),
            "channels": channels,
            "overrides": s.list_overrides(&app.app_id).await.unwrap(),
            "devices": s.list_devices(&app.app_id, &DeviceFilter::default()).await.unwrap(),
            "keys": s.list_app_keys(&app.app_id).await.unwrap(),
            "stats": s.count_stats(&app.app_id).await.unwrap(),
            "audit": s.list_audit(&app.app_id, i64::MIN, i64::MAX).await.unwrap(),
            "filing": s.get_filing(&app.app_id).await.unwrap(),
            "record_changes": s.list_record_changes(&app.app_id).await.unwrap(),
            "documents": s.list_documents(&app.app_id, true).await.unwrap(),
            "completions": s.list_completions(&app.app_id).await.unwrap(),
            "incidents": s.list_incidents(&app.app_id).await.unwrap(),
        }));
    }
    serde_json::json!({
        "apps": apps,
        "tokens": s.list_tokens().await.unwrap(),
        "server_audit": s.list_audit("*", i64::MIN, i64::MAX).await.unwrap(),
        "calendar": s.list_calendar_years().await.unwrap(),
    })
}

#[tokio::test]
async fn sqlite_to_postgres_and_back_gives_the_same_rows() {
    use landfall_store::copy::{self, CopyOptions, Quiet};
    with_db(
        "sqlite_to_postgres_and_back_gives_the_same_rows",
        |opts| async move {
            let dir = tempfile::tempdir().unwrap();
            let a = landfall_store_sqlite::SqliteStore::open(&dir.path().join("a.db"))
                .await
                .unwrap();
            landfall_store::conformance::copy_fixture(&a, &a).await;
            let pg = PgStore::connect_with(opts).await.unwrap();
            let options = CopyOptions {
                batch: 2,
                ..Default::default()
            };
            let report = copy::copy(&a, &pg, &options, &mut Quiet).await.unwrap();
            assert!(report.ok(), "{report:#?}");
            assert!(
                report.tables.iter().all(|t| t.source_rows > 0),
                "{report:#?}"
            );
            assert_eq!(answers(&pg).await, answers(&a).await);

            let b = landfall_store_sqlite::SqliteStore::open(&dir.path().join("b.db"))
                .await
                .unwrap();
            let back = copy::copy(&pg, &b, &options, &mut Quiet).await.unwrap();
            assert!(back.ok(), "{back:#?}");
            // The same content hashes all the way, and row for row the same SQLite tables.
            let hashes = |r: &copy::Report| {
                r.tables
                    .iter()
                    .map(|t| t.source_sha256.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(hashes(&report), hashes(&back));
            assert_eq!(all_rows(&a).await, all_rows(&b).await);
            assert_eq!(answers(&b).await, answers(&a).await);

            // New rows on PostgreSQL get ids after the copied ones.
            let max = a.list_tokens().await.unwrap().iter().map(|t| t.id).max();
            let t = pg
                .create_token("new", &"98".repeat(32), &[], "test")
                .await
                .unwrap();
            assert_eq!(Some(t.id - 1), max);
            let app = "com.example.zwei";
            let before = pg.list_audit(app, i64::MIN, i64::MAX).await.unwrap();
            let bundle = NewBundle {
                app_id: app.into(),
                version: "3.0.0".into(),
                size: 1,
                sha256: "77".repeat(32),
                min_update_version: None,
                link: None,
                comment: None,
                variants: Vec::new(),
            };
            let point = PointChannel {
                name: "production".into(),
                end_rollout: false,
            };
            pg.insert_bundle(bundle, Some(point), "ci").await.unwrap();
            let after = pg.list_audit(app, i64::MIN, i64::MAX).await.unwrap();
            assert!(
                after.len() > before.len(),
                "new audit entries get fresh ids"
            );
            pg.close().await;
        },
    )
    .await;
}

/// Stops the copy after `batches` batches.
struct StopAfter(u32);
impl landfall_store::copy::Progress for StopAfter {
    fn batch(&mut self, _: &'static str, _: u64, _: u64) -> std::ops::ControlFlow<()> {
        if self.0 == 0 {
            return std::ops::ControlFlow::Break(());
        }
        self.0 -= 1;
        std::ops::ControlFlow::Continue(())
    }
}

#[tokio::test]
async fn an_interrupted_copy_resumes_and_an_unrelated_target_is_refused() {
    use landfall_store::copy::{self, CopyError, CopyOptions, Quiet};
    with_db(
        "an_interrupted_copy_resumes_and_an_unrelated_target_is_refused",
        |opts| async move {
            let dir = tempfile::tempdir().unwrap();
            let a = landfall_store_sqlite::SqliteStore::open(&dir.path().join("a.db"))
                .await
                .unwrap();
            landfall_store::conformance::copy_fixture(&a, &a).await;
            let pg = PgStore::connect_with(opts.clone()).await.unwrap();
            let options = CopyOptions {
                batch: 2,
                resume: false,
            };
            // Stopped in the middle of bundles (the second table: apps took one batch).
            let err = copy::copy(&a, &pg, &options, &mut StopAfter(2))
                .await
                .unwrap_err();
            assert!(
                matches!(err, CopyError::Interrupted { table: "bundles" }),
                "{err}"
            );
            assert_eq!(pg.list_apps().await.unwrap().len(), 2);
            // Again without --resume: refused, naming the table.
            let err = copy::copy(&a, &pg, &options, &mut Quiet).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    CopyError::TargetNotEmpty {
                        table: "apps",
                        rows: 2
                    }
                ),
                "{err}"
            );
            // Resumed (twice: the second finds everything there): the same result.
            let resume = CopyOptions {
                resume: true,
                ..options.clone()
            };
            let report = copy::copy(&a, &pg, &resume, &mut Quiet).await.unwrap();
            assert!(report.ok(), "{report:#?}");
            let apps = report.tables.iter().find(|t| t.table == "apps").unwrap();
            assert_eq!(apps.inserted, 0);
            let again = copy::copy(&a, &pg, &resume, &mut Quiet).await.unwrap();
            assert!(again.ok() && again.tables.iter().all(|t| t.inserted == 0));
            assert_eq!(answers(&pg).await, answers(&a).await);

            // A target whose rows differ from the source's is not an interrupted copy.
            sqlx::query("UPDATE channels SET name = 'renamed' WHERE id = 1")
                .execute(&pg.pool)
                .await
                .unwrap();
            let err = copy::copy(&a, &pg, &resume, &mut Quiet).await.unwrap_err();
            assert!(
                matches!(&err, CopyError::NotACopy { table: "channels", key, .. } if key == "1"),
                "{err}"
            );
            // And one with a row the source lacks (another database's data) neither.
            let b = landfall_store_sqlite::SqliteStore::open(&dir.path().join("b.db"))
                .await
                .unwrap();
            b.create_app("com.other.app", "Other", "admin")
                .await
                .unwrap();
            let err = copy::copy(&a, &b, &resume, &mut Quiet).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("table apps row (\"com.other.app\") is not in the source"),
                "{err}"
            );
            // Verification alone reports the changed table.
            let report = copy::verify(&a, &pg).await.unwrap();
            assert_eq!(report.mismatched(), ["channels"]);
            pg.close().await;
        },
    )
    .await;
}

// The shared racing-writer and listing cases, each on a fresh database (dropped after the case).
landfall_store::store_cases!({
    match crate::testing::FreshDatabase::create("store_cases").await {
        Some(db) => {
            let store: Arc<dyn Store> = Arc::new(PgStore::connect(db.url()).await.unwrap());
            Some((store, db))
        }
        None => None,
    }
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn icp_revisions_race() {
    let Some(db) = crate::testing::FreshDatabase::create("icp_revisions_race").await else {
        return;
    };
    let s = Arc::new(PgStore::connect(db.url()).await.unwrap());
    landfall_store::conformance::races::icp_revisions_race(s.clone(), s).await;
}
