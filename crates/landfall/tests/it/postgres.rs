//! `landfall serve --database postgres://…`: the metadata lives in PostgreSQL (a fresh
//! `landfall_test_*` database on `LANDFALL_TEST_POSTGRES`, dropped afterwards), the data dir keeps
//! only the lock, blobs and staging. PostgreSQL unreachable: fail when `CI` is set, else `SKIPPED`.

use crate::support::{update_answer, web_dist, Server};

const APP: &str = "com.example.pg";
const DEVICE: &str = "00000000-0000-4000-8000-00000000a001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_keeps_its_answers_across_a_restart() {
    let Some(db) = crate::support::FreshPg::create("serve_on_postgres").await else {
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
    let mut server = Server::start_full(&[("LANDFALL_LOG", "info")], &["--database", url]).await;
    let log = server.last_log();
    assert!(
        log.contains(&format!("/{db_name}")) && log.contains("stores open"),
        "the log names the database: {log}"
    );
    assert!(!log.contains(url), "the full URL is never logged: {log}");

    let work = tempfile::tempdir().unwrap();
    let dist = web_dist(work.path(), "v1", "one");
    server.cli(&["app", "create", APP]).ok();
    server
        .cli(&[
            "bundle",
            "upload",
            APP,
            &dist,
            "--version",
            "1.0.1",
            "--channel",
            "production",
        ])
        .ok();
    let before = update_answer(&server, APP, DEVICE).await;
    assert_eq!(before["version"], "1.0.1", "{before}");
    let download = before["url"]
        .as_str()
        .unwrap()
        .replace("<base>", &server.url);
    let zip = reqwest::get(&download).await.unwrap();
    assert_eq!(zip.status(), 200, "the blob is served from the data dir");

    assert!(server.terminate().success());
    server.restart().await;
    assert_eq!(
        update_answer(&server, APP, DEVICE).await,
        before,
        "same answer after a restart"
    );

    let data = server.data_dir();
    assert!(
        !data.join("landfall.db").exists(),
        "no SQLite file with --database postgres://"
    );
    assert!(data.join("blobs").is_dir() && data.join("landfall.lock").exists());
}
