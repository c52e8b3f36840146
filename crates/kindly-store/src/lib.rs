//! Kindly's records store on SQLite (sqlx, WAL, migrations): tickets, messages, decisions, the
//! handoff queue, resolutions, articles and the vectors of the embedded index.
//!
//! [`SqliteStore`] implements every store port of `kindly-core`. Each write that must be atomic
//! (a triage outcome, a resolution) is one transaction that starts with its conditional write,
//! so that SQLite takes the write lock first and a repeated call changes nothing.

mod accounts;
mod integrations;
mod knowledge;
mod points;
mod queue;
mod rows;
mod studio;
mod ticket_list;
mod tickets;
mod training;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use kindly_core::StoreError;
use sqlx::SqlitePool;

pub use accounts::{Session, TokenOwner, TokenRecord, UserRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
pub use studio::{
    ArticleVersion, AutomationStats, Count, DayCount, GapTicket, IntentCorrection, IntentRow, Verdict,
};

/// The embedded records store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Backend(Box::new(e)))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(backend)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an accepted ticket survives a power cut, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool =
            SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(backend)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(Self { pool })
    }

    /// A write transaction, holding SQLite's write lock from its first statement
    /// (`BEGIN IMMEDIATE`). A deferred transaction that reads first takes the lock only at its
    /// first write, and if another connection is writing then, SQLite answers "database is
    /// locked" at once instead of waiting out the busy timeout (waiting could deadlock). Every
    /// transaction here writes, so every one starts immediate and queues for the lock instead.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
    }

    /// Checks that the database answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    /// SQLite's own consistency check of the whole file (`PRAGMA integrity_check`), on a
    /// connection of its own, opened for the check and closed after it.
    ///
    /// Not on a pooled connection: SQLite's FTS5 (3.46) keeps the structure of the lexical index a
    /// connection last searched, and its part of `integrity_check` uses that copy without first
    /// looking whether another connection has committed since (FTS5's queries and writes do
    /// look). A pooled connection that ran a keyword search before another one changed
    /// `points_fts` reports "malformed inverted index" for an index that is sound. A new
    /// connection has no copy: it checks the file as it is.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.connect_options().connect().await.map_err(backend)?;
        // One row per problem found (SQLite stops at 100), or a single "ok".
        let result = sqlx::query_scalar::<_, String>("PRAGMA integrity_check").fetch_all(&mut conn).await;
        let closed = conn.close().await;
        let problems = result.map_err(backend)?;
        closed.map_err(backend)?;
        if problems == ["ok"] { Ok(()) } else { Err(StoreError::Corrupt(problems.join("; "))) }
    }

    /// Writes a consistent copy of the whole database to `path` (SQLite's `VACUUM INTO`), while
    /// the service keeps running. The copy is one self-contained file: no `-wal` beside it.
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Conflict(format!("{} already exists", path.display())));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Conflict(format!("{} is not a UTF-8 path", path.display())))?;
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
