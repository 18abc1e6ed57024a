//! Fresh PostgreSQL databases for tests of every crate (feature `testing`): one per test, on the
//! server `LANDFALL_TEST_POSTGRES` names (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped when the handle goes out of scope.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};

/// The admin URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("LANDFALL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists until this is dropped.
#[derive(Debug)]
pub struct FreshDatabase {
    url: String,
    name: String,
    admin_url: String,
}

impl FreshDatabase {
    /// Create one. PostgreSQL unreachable: panics under CI (`CI` set), else prints
    /// `SKIPPED <test>` and returns `None`.
    pub async fn create(test: &str) -> Option<FreshDatabase> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin_url = admin_url();
        let opts = PgConnectOptions::from_str(&admin_url).expect("LANDFALL_TEST_POSTGRES is a URL");
        let mut admin = match opts.connect().await {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL at {admin_url} is unreachable ({e}); CI must run {test}"
                );
                eprintln!("SKIPPED {test}: PostgreSQL at {admin_url} is unreachable ({e})");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!(
            "landfall_test_{nanos:x}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        // The admin URL with its database swapped for the fresh one (query options kept).
        let (before_query, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
        let base = before_query
            .rsplit_once('/')
            .map_or(before_query, |(b, _)| b);
        let url = match query {
            "" => format!("{base}/{name}"),
            q => format!("{base}/{name}?{q}"),
        };
        Some(FreshDatabase {
            url,
            name,
            admin_url,
        })
    }

    /// Its connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            })
        })
        .join();
    }
}
