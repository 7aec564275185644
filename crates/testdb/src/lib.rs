//! Test kit, database part: a fresh database on SQLite or on PostgreSQL (its own schema
//! per test) and the application on it. Use-case tests in a domain crate need only this;
//! the server part (`isms-testkit`) adds the running web server and signed-in clients.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test kit: a failed step is a failed test")]

pub mod smtp;

use isms_core::Role;
use isms_kernel::{App, AppConfig};
use isms_org::accounts::GrantView;
use isms_org::demo::Group;
use isms_store::sea_orm::ConnectionTrait;
use isms_store::{Store, StoreOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to test: both unless `ISMS_TEST_BACKENDS` names a subset. A PostgreSQL
/// that cannot be reached fails the test; it is never skipped silently.
pub fn backends() -> Vec<Backend> {
    let v = std::env::var("ISMS_TEST_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    v.split(',')
        .filter_map(|b| match b.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" => Some(Backend::Postgres),
            _ => None,
        })
        .collect()
}

pub fn pg_url() -> String {
    std::env::var("ISMS_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub const AUDIT_KEY: &[u8] = b"test-audit-key-0123456789abcdef0123456789";

pub const PASSWORD: &str = "correct horse battery";

/// A fresh database with the schema applied.
pub struct TestDb {
    pub store: Store,
    pub backend: Backend,
    pub url: String,
    pub schema: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let db = TestDb::empty(backend).await;
        db.store.migrate().await.expect("migrate");
        db
    }

    /// A fresh database with no schema at all (for the migration tests).
    pub async fn empty(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, schema) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.path().join("isms.db").display()), None),
            Backend::Postgres => {
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let admin = Store::connect(&pg_url(), StoreOptions { max_connections: Some(1), ..Default::default() })
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for these tests: {e}", pg_url()));
                admin.conn().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
                admin.close().await.ok();
                (pg_url(), Some(schema))
            }
        };
        let store = Store::connect(&url, StoreOptions { pg_schema: schema.clone(), max_connections: Some(8) }).await.expect("connect");
        TestDb { store, backend, url, schema, _dir: dir }
    }

    /// Options to open a second connection pool on the same database.
    pub fn options(&self) -> StoreOptions {
        StoreOptions { pg_schema: self.schema.clone(), max_connections: Some(4) }
    }

    pub fn app(&self) -> App {
        App::new(self.store.clone(), test_config(), AUDIT_KEY.to_vec())
    }

    pub async fn drop_schema(&self) {
        if let Some(s) = &self.schema {
            self.store.conn().execute_unprepared(&format!("DROP SCHEMA {s} CASCADE")).await.ok();
        }
    }
}

/// The application on a fresh database, without a server.
pub struct TestApp {
    pub db: TestDb,
    pub app: App,
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await;
        let app = db.app();
        TestApp { db, app }
    }

    /// Loads the demo group (companies, people, one account per role); a test then loads
    /// the demo records of the modules it needs with their `demo::load`.
    pub async fn group(&self) -> Group {
        isms_org::demo::group(&self.app).await.expect("demo group").expect("a fresh database has no companies")
    }
}

/// Cheap password hashing and short failure pauses: the tests exercise the logic, the
/// benchmarks measure the real cost.
pub fn test_config() -> AppConfig {
    AppConfig { argon2_memory_kib: 1024, argon2_iterations: 1, max_failure_delay_ms: 20, ..AppConfig::default() }
}

/// The current TOTP code for a base32 secret.
pub fn totp_code(secret: &str) -> String {
    totp_code_at(secret, 0)
}

/// The code `offset_secs` from now (a code is accepted once, so a second sign-in within
/// the same 30 seconds uses the next step's code, which clock drift allows).
pub fn totp_code_at(secret: &str, offset_secs: u64) -> String {
    let s = totp_rs::Secret::try_from_base32(secret).expect("secret");
    let t = totp_rs::Builder::new().with_secret(s).build().expect("totp");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    t.generate(now + offset_secs).to_string()
}

pub fn grant(role: Role, company: Option<&str>) -> GrantView {
    GrantView { role, company_id: company.map(str::to_owned), expires_on: None }
}

/// The code of a refusal's first field error (or the error itself when it is not one).
pub fn code_of(e: &isms_kernel::AppError) -> String {
    match e {
        isms_kernel::AppError::Invalid(v) => v[0].code.to_owned(),
        other => format!("{other:?}"),
    }
}
