//! `landfall serve --database postgres://…`: the metadata lives in PostgreSQL (a fresh
//! `landfall_test_*` database on `LANDFALL_TEST_POSTGRES`, dropped afterwards), the data dir keeps
//! only the lock, blobs and staging. PostgreSQL unreachable: fail when `CI` is set, else `SKIPPED`.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

use crate::support::{device_info, random_token, web_dist, Server};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const APP: &str = "com.example.pg";
const DEVICE: &str = "00000000-0000-4000-8000-00000000a001";

/// The update answer with the server's base URL replaced (the port changes on restart).
async fn update_answer(server: &Server) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/updates", server.url))
        .json(&device_info(APP, DEVICE, "builtin"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    serde_json::from_str(&body.to_string().replace(&server.url, "<base>")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_keeps_its_answers_across_a_restart() {
    let admin_url =
        std::env::var("LANDFALL_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
    let admin_opts: PgConnectOptions = admin_url.parse().expect("LANDFALL_TEST_POSTGRES is a URL");
    let mut admin = match admin_opts.connect().await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL at {admin_url} is unreachable ({e}); CI must run this test");
            }
            eprintln!("SKIPPED serve_on_postgres: PostgreSQL at {admin_url} is unreachable ({e})");
            return;
        }
    };
    let name = format!("landfall_test_{}", random_token());
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    // The admin URL with its database swapped for the fresh one (query options kept).
    let (before_query, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let base = before_query
        .rsplit_once('/')
        .map_or(before_query, |(b, _)| b);
    let url = if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    };
    let outcome = AssertUnwindSafe(the_story(&url, &name))
        .catch_unwind()
        .await;
    admin
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    let _ = admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
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
    let before = update_answer(&server).await;
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
        update_answer(&server).await,
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
