//! The isms database: one schema, written once, on SQLite (the embedded default) and on
//! PostgreSQL (for several instances). Entities and queries per domain; use cases and
//! authorization live in `app`.

/// A table as a SeaORM entity without relations: the module, the table, and the columns.
macro_rules! entity {
    ($m:ident, $table:literal, { $($(#[$fm:meta])* $f:ident : $t:ty),+ $(,)? }) => {
        pub mod $m {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                $($(#[$fm])* pub $f: $t),+
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

pub mod accounts;
pub mod assets;
pub mod audit;
pub mod compliance;
pub mod drills;
pub mod incidents;
pub mod migrations;
pub mod monitoring;
pub mod notices;
pub mod org;
pub mod policies;
pub mod search;
pub mod training;

/// An offset into a list as the databases take it: beyond any real list, but within a
/// signed 64-bit number (a larger one is refused by both backends).
pub fn page_offset(offset: u64) -> u64 {
    offset.min(1 << 40)
}
pub mod settings;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use sea_orm;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    Url(String),
}

/// A handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Counts committed write transactions of this instance: caches of what the database
    /// holds compare it to know they are still current.
    generation: Arc<AtomicU64>,
}

/// A write transaction. Committing it moves the store's generation on, which tells
/// in-memory caches (sessions, organisation names) that the database changed.
pub struct WriteTx {
    txn: DatabaseTransaction,
    generation: Arc<AtomicU64>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Options beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// PostgreSQL schema to work in (tests take a fresh one each).
    pub pg_schema: Option<String>,
    pub max_connections: Option<u32>,
}

impl Store {
    pub async fn connect(url: &str, opts: StoreOptions) -> Result<Self, StoreError> {
        let is_sqlite = url.starts_with("sqlite:");
        if !is_sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err(StoreError::Url(redact_url(url)));
        }
        let mut o = ConnectOptions::new(url.to_owned());
        o.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .max_connections(opts.max_connections.unwrap_or(if is_sqlite { 8 } else { 16 }))
            .min_connections(1);
        if is_sqlite {
            o.map_sqlx_sqlite_opts(|s| {
                s.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        if let Some(schema) = &opts.pg_schema {
            o.set_schema_search_path(schema.clone());
        }
        let db = Database::connect(o).await?;
        Ok(Self { db, generation: Arc::new(AtomicU64::new(0)) })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// A transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers queue instead of failing half-way.
    pub async fn write(&self) -> Result<WriteTx, DbErr> {
        Ok(WriteTx { txn: self.begin_immediate().await?, generation: self.generation.clone() })
    }

    async fn begin_immediate(&self) -> Result<DatabaseTransaction, DbErr> {
        self.db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }).await
    }

    /// A read-only view of one moment: everything read through it agrees with everything
    /// else read through it, however many writers commit meanwhile (PostgreSQL:
    /// REPEATABLE READ; SQLite: a deferred transaction, whose first read fixes the view).
    pub async fn snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => TransactionOptions {
                isolation_level: Some(sea_orm::IsolationLevel::RepeatableRead),
                access_mode: Some(sea_orm::AccessMode::ReadOnly),
                ..Default::default()
            },
            _ => TransactionOptions::default(),
        };
        self.db.begin_with_options(options).await
    }

    /// A write transaction for high-rate telemetry (alerts raised by the event pipeline,
    /// ingest counters): committing it leaves the generation alone, so a steady stream of
    /// events does not empty the caches of the other registers. What it writes must not
    /// be cached by generation.
    pub async fn write_quiet(&self) -> Result<WriteTx, DbErr> {
        Ok(WriteTx { txn: self.begin_immediate().await?, generation: Arc::new(AtomicU64::new(0)) })
    }

    /// Moves on with every committed write of this instance.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Applies pending migrations. On PostgreSQL the whole run holds an advisory lock in
    /// one transaction, so two instances starting together apply each migration once.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        migrations::run(&self.db).await
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.ping().await
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.db.close().await
    }
}

/// A database URL for messages: the password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Milliseconds since the Unix epoch, the one way times are stored.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
