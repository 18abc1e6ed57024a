//! The metadata engine, chosen by the `database` URL: `sqlite://<path>` (the embedded default,
//! `<data_dir>/landfall.db`) or `postgres://…`/`postgresql://…`.
//!
//! [`open`] builds ONE store object (one pool) and hands it out as both [`Store`] and [`IcpStore`].
//! The URL may carry a password: [`DatabaseUrl`]'s `Debug` and `Display` never show it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use landfall_store::copy::TableCopy;
use landfall_store::icp::IcpStore;
use landfall_store::{Store, StoreResult};

/// Where the metadata lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (a relative path is relative to the working directory).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (may hold a password: never printed).
    Postgres(String),
}

/// A `database` value that is neither form.
#[derive(Debug, thiserror::Error)]
#[error(
    "database {0:?} is not supported: use sqlite://<path> (e.g. sqlite:///srv/landfall/landfall.db) \
     or postgres://user:password@host:5432/dbname (postgresql:// works too)"
)]
pub struct BadDatabaseUrl(String);

impl DatabaseUrl {
    /// The embedded default: `<data_dir>/landfall.db`.
    pub fn default_for(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("landfall.db"))
    }

    /// Parse `sqlite://<path>`, `postgres://…` or `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, BadDatabaseUrl> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if !path.is_empty() {
                return Ok(Self::Sqlite(PathBuf::from(path)));
            }
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        // Never echo what could be a password: only the scheme part.
        let shown = match raw.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => landfall_core::clip(raw).into_owned(),
        };
        Err(BadDatabaseUrl(shown))
    }

    /// Whether this is an SQLite file.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// `postgres://host:port/dbname` (no user, password or query) or `sqlite://<path>`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(raw) => match url::Url::parse(raw) {
                Ok(u) => {
                    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                    let host = u.host_str().unwrap_or("");
                    write!(f, "{}://{host}{port}{}", u.scheme(), u.path())
                }
                // Unparseable (the driver will say why): show nothing that could be a secret.
                Err(_) => f.write_str("postgres://…"),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// One store object behind the storage traits.
#[derive(Clone)]
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    pub icp: Arc<dyn IcpStore>,
    /// Whole-table access (`landfall migrate db`).
    pub copy: Arc<dyn TableCopy>,
    /// Highest migration applied (after this binary's migrations ran).
    pub schema_version: i64,
}

/// Highest migration version this binary knows for the engine of `url`.
pub fn known_schema_version(url: &DatabaseUrl) -> i64 {
    match url {
        DatabaseUrl::Sqlite(_) => landfall_store_sqlite::known_schema_version(),
        DatabaseUrl::Postgres(_) => landfall_store_postgres::known_schema_version(),
    }
}

/// Open the store `url` names and run its migrations (a database migrated by a newer binary is
/// refused with `StoreError::TooNew`). An SQLite file is created private (0600) if missing.
pub async fn open(url: &DatabaseUrl) -> StoreResult<OpenedStore> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(landfall_store::rows::backend)?;
            }
            crate::datadir::precreate_private_file(path).map_err(landfall_store::rows::backend)?;
            let s = Arc::new(landfall_store_sqlite::SqliteStore::open(path).await?);
            let schema_version = s.schema_version().await?;
            Ok(OpenedStore {
                store: s.clone(),
                icp: s.clone(),
                copy: s,
                schema_version,
            })
        }
        DatabaseUrl::Postgres(raw) => {
            let s = Arc::new(landfall_store_postgres::PgStore::connect(raw).await?);
            let schema_version = s.schema_version().await?;
            Ok(OpenedStore {
                store: s.clone(),
                icp: s.clone(),
                copy: s,
                schema_version,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_a_password() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///srv/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/srv/x.db"))
        );
        let pg =
            DatabaseUrl::parse("postgresql://lf:s3cr3t@db.example:5432/landfall?sslmode=require")
                .unwrap();
        assert_eq!(pg.to_string(), "postgresql://db.example:5432/landfall");
        assert!(!format!("{pg:?}").contains("s3cr3t"));
        let pg = DatabaseUrl::parse("postgres://h/db?password=s3cr3t").unwrap();
        assert_eq!(pg.to_string(), "postgres://h/db");
        for bad in ["mysql://u:s3cr3t@h/db", "landfall.db", "sqlite://", ""] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(
                err.contains("sqlite://<path>") && err.contains("postgres://"),
                "{err}"
            );
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}
