//! isms over HTTP: server-rendered pages (askama + htmx), the JSON API under `/api/v1`
//! with its OpenAPI document, and the operational endpoints. Authorization is declared per
//! route in one table (`routes`) and enforced by `app`; this crate only translates.

pub mod api;
pub mod context;
pub mod download;
pub mod error;
pub mod i18n;
pub mod input;
pub mod lookup;
pub mod notices;
pub mod ops;
pub mod pages;
pub mod routes;

use isms_app::App;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use context::Ctx;
pub use routes::{Need, RouteSpec};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where users reach this instance, e.g. `https://isms.example.com`; decides whether
    /// cookies are marked `Secure` and how links in messages are written.
    pub public_url: String,
    /// Largest request body accepted (imports included).
    pub max_body_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    /// Largest batch of events one request may carry (after decompression).
    pub max_event_batch_bytes: usize,
    /// Batches of events accepted at once; more are answered 429 with Retry-After.
    pub max_inflight_batches: usize,
    /// The bearer token `/metrics` asks for on this listener; without one it is not
    /// served here (only on the separate metrics address, if configured).
    pub metrics_token: Option<String>,
}

impl WebConfig {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub i18n: Arc<i18n::Catalogs>,
    pub config: Arc<WebConfig>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Where received events go to be matched and their alerts written.
    pub pipeline: isms_app::monitoring::pipeline::Pipeline,
    /// With NATS JetStream configured: batches are queued there for the workers instead.
    pub bus: Option<Arc<isms_ingest::bus::Bus>>,
    ready: Arc<AtomicBool>,
}

impl WebState {
    pub fn new(app: App, config: WebConfig, metrics: Option<metrics_exporter_prometheus::PrometheusHandle>) -> Result<Self, String> {
        let pipeline = isms_app::monitoring::pipeline::Pipeline::start(
            app.clone(),
            isms_app::monitoring::pipeline::PipelineConfig { max_inflight: config.max_inflight_batches, ..Default::default() },
        );
        Ok(Self {
            app,
            i18n: Arc::new(i18n::Catalogs::load()?),
            config: Arc::new(config),
            metrics,
            pipeline,
            bus: None,
            ready: Arc::new(AtomicBool::new(true)),
        })
    }

    /// Marks the instance as draining: `/readyz` answers 503 so a load balancer stops
    /// sending new requests while the ones in flight finish.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

/// The separate metrics listener's application: `/metrics` alone, for an address only
/// the monitoring network reaches.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(move || std::future::ready(ops::render_metrics(&handle))))
}

/// The whole HTTP application and the table of its routes.
pub fn router(state: WebState) -> (axum::Router, Vec<RouteSpec>) {
    routes::build(state)
}
