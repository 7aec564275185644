//! Test kit, server part: the real server on a free port over a fresh database (the
//! database part, `isms-testdb`, is re-exported), and helpers to act as a user of any
//! role. Tests written once run on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test kit: a failed step is a failed test")]

pub mod hook;
pub use isms_testdb::smtp;
pub mod taxii;

use isms_app::accounts::{GrantView, NewUser};
use isms_app::{App, Principal};
use isms_store::accounts::{session, user};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use std::net::SocketAddr;

pub use isms_testdb::*;
pub use isms_web::{Need, RouteSpec};

/// The bearer token the test servers ask for on `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

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
