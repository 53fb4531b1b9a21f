//! Storage: one contract above two backends.
//!
//! [`Db`] is the storage contract. It is an enum over an SQLite pool and a PostgreSQL pool;
//! every query is written once, in portable SQL (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`), and [`with_pool!`](crate::with_pool) compiles the same body once per backend. The few
//! statements that differ (row locking, advisory locks) say so where they are.
//!
//! Each feature adds its use-case-shaped methods to `Db` in its own `queries.rs`; the story
//! tests in `tests/storage_story.rs` walk them on both backends.

mod timestamp;
pub mod versioned;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use timestamp::Timestamp;

/// Runs `$body` against whichever pool `$db` holds, binding it to `$pool`.
///
/// The body is compiled twice, once per backend, so it must be written in SQL both accept.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// A connection pool for the configured backend: the storage contract's receiver.
#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default: one file in the data directory.
    Sqlite(SqlitePool),
    /// For practices running several instances against one server.
    Postgres(PgPool),
}

/// Which backend a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite through sqlx's bundled libsqlite3.
    Sqlite,
    /// PostgreSQL 13 or newer.
    Postgres,
}

/// Errors of the storage layer. Callers see only whether a row was missing, conflicted or the
/// database failed; SQL text and values never travel up (they could hold clinical data).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint refused the write (for example an email already in use).
    #[error("a record with the same unique value already exists")]
    Conflict,
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Sqlx(#[source] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be understood (for example an unknown role name).
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Conflict,
            _ => DbError::Sqlx(err),
        }
    }
}

/// Shorthand for storage results.
pub type DbResult<T> = Result<T, DbError>;

/// The migrations for SQLite, embedded at compile time.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// The migrations for PostgreSQL, embedded at compile time; same names as SQLite's.
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens the database named by `database_url`, or the SQLite file `tend.db` in `data_dir`.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> DbResult<Db> {
        match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_lazy_with(options);
                Ok(Db::Postgres(pool))
            }
            Some(url) => {
                let options = SqliteConnectOptions::from_str(url)?;
                Self::open_sqlite(options).await
            }
            None => {
                let options = SqliteConnectOptions::new().filename(data_dir.join("tend.db"));
                Self::open_sqlite(options).await
            }
        }
    }

    /// Opens SQLite with the settings Tend relies on: WAL so readers never block the writer,
    /// foreign keys enforced, a busy timeout instead of immediate `SQLITE_BUSY`, and
    /// `synchronous = FULL` so an acknowledged write survives `kill -9` and power loss.
    async fn open_sqlite(options: SqliteConnectOptions) -> DbResult<Db> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Reads straight from the page cache through a memory map instead of a read()
            // call per page, and keep 32 MB of pages per connection (SQLite's default is 2 MB):
            // a directory search touches thousands of rows scattered through the file.
            .pragma("mmap_size", "268435456")
            .pragma("cache_size", "-32768");
        // A small pool: SQLite has one writer; more connections only queue on its lock.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration for this backend.
    pub async fn migrate(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Answers whether the database accepts a trivial query (for `/readyz`).
    pub async fn ping(&self) -> DbResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection; used on graceful shutdown.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Creates a fresh UUIDv7: time-ordered, generated by the application on both backends.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
