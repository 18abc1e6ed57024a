//! `landfall migrate db`: a server's SQLite database copied to PostgreSQL (a fresh
//! `landfall_test_*` database on `LANDFALL_TEST_POSTGRES`, dropped afterwards) serves the same
//! answers and history; a second copy into it is refused; a newer source is refused. PostgreSQL
//! unreachable: fail when `CI` is set, else `SKIPPED`.

use sqlx::{ConnectOptions, Connection, Executor};

use crate::support::{landfall, run, update_answer, web_dist, Server};

const APP: &str = "com.example.moving";
const DEVICE: &str = "00000000-0000-4000-8000-00000000b001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_server_moves_to_postgres_with_its_answers_and_history() {
    let Some(db) = crate::support::FreshPg::create("migrate_db").await else {
        return;
    };
    let name = db
        .url()
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    the_story(db.url(), &name).await;
}

async fn the_story(url: &str, db_name: &str) {
    let mut server = Server::start_on_sqlite().await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    for (v, label) in [("1.0.1", "one"), ("1.0.2", "two")] {
        let dist = web_dist(work.path(), v, label);
        server
            .cli(&[
                "bundle",
                "upload",
                APP,
                &dist,
                "--version",
                v,
                "--channel",
                "production",
            ])
            .ok();
    }
    server
        .cli(&["channel", "set", APP, "production", "--bundle", "1.0.1"])
        .ok();
    let before = update_answer(&server, APP, DEVICE).await;
    assert_eq!(before["version"], "1.0.1", "{before}");
    let audit = server.cli(&["--json", "audit", APP]).ok().json();
    let history = server
        .cli(&["--json", "channel", "history", APP, "production"])
        .ok()
        .json();
    assert!(audit.as_array().unwrap().len() >= 4, "{audit}");
    assert!(server.terminate().success());

    // Copy the stopped server's SQLite file into the empty PostgreSQL database.
    let sqlite = format!(
        "sqlite://{}",
        server.data_dir().join("landfall.db").display()
    );
    let copy = run(landfall().args(["migrate", "db", "--from", &sqlite, "--to", url])).ok();
    for table in [
        "apps",
        "bundles",
        "channel_history",
        "audit_log",
        "icp_calendar_years",
    ] {
        let line = copy
            .stdout
            .lines()
            .find(|l| l.starts_with(table))
            .unwrap_or_else(|| panic!("no summary line for {table}: {copy:#?}"));
        assert!(line.ends_with("ok"), "{line}");
    }
    assert!(copy.stderr.contains("verified copy"), "{copy:#?}");
    assert!(copy.stderr.contains(&format!("/{db_name}")), "{copy:#?}");
    assert!(
        !copy.stderr.contains(url) && !copy.stdout.contains(url),
        "the full URL is never printed: {copy:#?}"
    );

    // A second copy into the same database is refused, naming it and the table.
    let again = run(landfall().args(["migrate", "db", "--from", &sqlite, "--to", url]));
    assert_eq!(again.code, 4, "{again:#?}");
    assert!(
        again.stderr.contains(&format!("/{db_name}"))
            && again.stderr.contains("table apps holds 1 rows")
            && again.stderr.contains("--resume"),
        "{again:#?}"
    );
    // With --resume it finds everything there and verifies again.
    let resumed = run(landfall().args([
        "--json", "migrate", "db", "--from", &sqlite, "--to", url, "--resume",
    ]))
    .ok()
    .json();
    assert_eq!(resumed["ok"], true, "{resumed}");
    assert!(resumed["tables"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["inserted"] == 0 && t["source_sha256"] == t["target_sha256"]));

    // The same data dir (blobs) served from PostgreSQL: same answer, same history.
    server.set_args(&["--database", url]);
    server.restart().await;
    assert_eq!(
        update_answer(&server, APP, DEVICE).await,
        before,
        "same update answer"
    );
    assert_eq!(server.cli(&["--json", "audit", APP]).ok().json(), audit);
    assert_eq!(
        server
            .cli(&["--json", "channel", "history", APP, "production"])
            .ok()
            .json(),
        history
    );
    // And it keeps working: a new upload gets a fresh id on the copied sequences.
    let dist = web_dist(work.path(), "1.0.3", "three");
    server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &dist,
            "--version",
            "1.0.3",
            "--channel",
            "production",
        ])
        .ok();
    assert_eq!(
        update_answer(&server, APP, DEVICE).await["version"],
        "1.0.3"
    );
}

#[tokio::test]
async fn a_source_migrated_by_a_newer_landfall_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("landfall.db");
    let from = format!("sqlite://{}", db.display());
    run(landfall().args(["migrate", "--database", &from])).ok();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .connect()
        .await
        .unwrap();
    conn.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from the future', TRUE, x'00', 0)",
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    let to = format!("sqlite://{}", dir.path().join("copy.db").display());
    let r = run(landfall().args(["migrate", "db", "--from", &from, "--to", &to]));
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains(&format!("cannot open the source {from}"))
            && r.stderr.contains(&format!(
                "version 999 > {}",
                landfall_store_sqlite::known_schema_version()
            ))
            && r.stderr.contains("upgrade the binary"),
        "{r:#?}"
    );
    assert!(!dir.path().join("copy.db").exists(), "nothing written");
}
