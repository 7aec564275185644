//! Test kit: a fresh database on SQLite or on PostgreSQL (its own schema per test), the
//! real server on a free port, and helpers to act as a user of any role. Tests written
//! once run on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test kit: a failed step is a failed test")]

pub mod hook;
pub mod smtp;
pub mod taxii;

use isms_app::accounts::{GrantView, NewUser};
use isms_app::{App, AppConfig, Principal};
use isms_core::Role;
use isms_store::accounts::{session, user};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};
use isms_store::{Store, StoreOptions};
use std::net::SocketAddr;

pub use isms_web::{Need, RouteSpec};

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
/// The bearer token the test servers ask for on `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

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
        store.migrate().await.expect("migrate");
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

/// Cheap password hashing and short failure pauses: the tests exercise the logic, the
/// benchmarks measure the real cost.
pub fn test_config() -> AppConfig {
    AppConfig { argon2_memory_kib: 1024, argon2_iterations: 1, max_failure_delay_ms: 20, ..AppConfig::default() }
}

/// A running server on a fresh database.
pub struct TestServer {
    pub db: TestDb,
    pub app: App,
    pub addr: SocketAddr,
    pub base: String,
    pub routes: Vec<RouteSpec>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        let db = TestDb::new(backend).await;
        let app = db.app();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let state = isms_web::state(
            app.clone(),
            isms_web::WebConfig {
                public_url: base.clone(),
                max_body_bytes: 8 << 20,
                trust_proxy: false,
                max_event_batch_bytes: 4 << 20,
                max_inflight_batches: 8,
                metrics_token: Some(METRICS_TOKEN.into()),
            },
            None,
        )
        .expect("catalogs");
        let (router, routes) = isms_web::router(state);
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.ok();
        });
        TestServer { db, app, addr, base, routes }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Loads the demo group.
    pub async fn demo(&self) {
        isms_web::demo(&self.app).await.expect("demo data");
    }
}

/// A signed-in browser-like client: cookies kept, CSRF token known.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub cookie: String,
    pub user_id: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// Creates a user with these grants (second factor already set up when the role needs
/// one) and a complete session for them, without going through the sign-in pages.
pub async fn user_session(app: &App, username: &str, grants: Vec<GrantView>, person_id: Option<String>) -> Session {
    let u = isms_app::accounts::create_user(
        app,
        &Principal::system(),
        NewUser { username: username.into(), display_name: username.into(), password: PASSWORD.into(), person_id, grants },
    )
    .await
    .expect("create user");
    let db = app.store.conn();
    let m = user::Entity::find_by_id(u.id.clone()).one(db).await.unwrap().unwrap();
    let mut am = m.into_active_model();
    am.totp_secret = Set(Some(app.fields().seal("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").expect("seal")));
    am.totp_enabled = Set(true);
    am.update(db).await.unwrap();
    session_for(app, &u.id).await
}

/// A new complete session for an existing user.
pub async fn session_for(app: &App, user_id: &str) -> Session {
    let token = isms_app::random_token(32);
    let csrf = isms_app::random_token(24);
    let now = isms_store::now_ms();
    session::Model {
        id: isms_app::token_hash(&token),
        user_id: user_id.into(),
        csrf_token: csrf.clone(),
        second_factor_ok: true,
        created_ms: now,
        last_seen_ms: now,
        expires_ms: now + 3_600_000,
        user_agent: Some("testkit".into()),
        ip: None,
    }
    .into_active_model()
    .insert(app.store.conn())
    .await
    .expect("session");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::COOKIE, format!("isms_session={token}").parse().unwrap());
            h
        })
        .build()
        .unwrap();
    Session { client, csrf, cookie: token, user_id: user_id.into() }
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
