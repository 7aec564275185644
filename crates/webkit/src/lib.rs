//! The web kernel: what every module's pages and API share. The per-request context
//! (who, language, time zone, CSRF), errors as pages and as problem+json, the layout and
//! its components, the message catalogs, form and JSON input, downloads, the route table
//! with what each route needs, and [`Module`], the one way a domain joins the application.

pub mod api;
pub mod context;
pub mod download;
pub mod error;
pub mod i18n;
pub mod input;
pub mod list;
pub mod lookup;
pub mod notices;
pub mod routes;
pub mod shell;
pub mod tone;

use axum::http::Extensions;
use isms_core::Permission;
use isms_kernel::App;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use context::Ctx;
pub use routes::{AppState, Need, RouteSpec, Table};

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

/// An entry of the main navigation: shown to whoever holds `perm` (or everyone signed
/// in), in ascending `order` across modules.
#[derive(Debug, Clone, Copy)]
pub struct Nav {
    pub order: u16,
    pub href: &'static str,
    pub key: &'static str,
    pub perm: Option<Permission>,
}

/// What a module brings to the HTTP application. The binary lists its modules; the route
/// table, the OpenAPI document, the catalogs and the navigation are assembled from them,
/// and the authorization-matrix, OpenAPI and catalog tests read the same list.
pub struct Module {
    pub name: &'static str,
    /// Adds the module's routes, each with what it needs.
    pub routes: fn(Table) -> Table,
    /// The module's part of the OpenAPI document.
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// The module's messages, one Fluent source per language.
    pub catalogs: &'static [(i18n::Lang, &'static str)],
    /// The module's entries in the main navigation.
    pub nav: &'static [Nav],
    /// The tone of each of its states, severities and ratings as badges.
    pub tones: &'static [tone::Family],
    /// The module's part of the demo group, loaded after the organisation in list order.
    pub demo: Option<isms_org::demo::Loader>,
    /// The module's background jobs (reminders, checks, pruning), run by the binary.
    pub jobs: fn() -> Vec<isms_kernel::jobs::Job>,
    /// Sets up what the module's handlers keep for the life of the process (found again
    /// with [`WebState::get`]).
    pub start: fn(&App, &WebConfig, &mut Extensions),
    /// What the module puts on the signed-in user's home page.
    pub tiles: Option<Tiles>,
}

/// A figure on the home page that leads to where it is worked on.
pub struct Tile {
    pub href: &'static str,
    pub label: String,
    pub value: String,
    /// A line under the label, in the label's size.
    pub note: Option<String>,
    /// A share per part (a company), as percent, drawn as meters under the label.
    pub bars: Vec<(String, u32)>,
}

/// A module's tiles for the reader of the home page.
pub type Tiles = for<'a> fn(
    &'a WebState,
    &'a isms_kernel::Principal,
    &'a shell::Shell,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = isms_kernel::Result<Vec<Tile>>> + Send + 'a>>;

fn no_routes(t: Table) -> Table {
    t
}
fn no_api() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
fn no_jobs() -> Vec<isms_kernel::jobs::Job> {
    vec![]
}
fn no_start(_: &App, _: &WebConfig, _: &mut Extensions) {}

impl Module {
    /// A module with nothing yet; fill in what it has with struct update syntax.
    pub const fn new(name: &'static str) -> Self {
        Self { name, routes: no_routes, openapi: no_api, catalogs: &[], nav: &[], tones: &[], demo: None, jobs: no_jobs, start: no_start, tiles: None }
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub i18n: Arc<i18n::Catalogs>,
    pub config: Arc<WebConfig>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The main navigation, from every module, in order.
    pub nav: Arc<[Nav]>,
    /// The badges' tones, from every module and the kernel.
    pub tones: Arc<tone::Tones>,
    extensions: Arc<Extensions>,
    ready: Arc<AtomicBool>,
}

impl WebState {
    pub fn new(app: App, config: WebConfig, metrics: Option<metrics_exporter_prometheus::PrometheusHandle>, modules: &[Module]) -> Result<Self, String> {
        let mut extensions = Extensions::new();
        for m in modules {
            (m.start)(&app, &config, &mut extensions);
        }
        let mut nav: Vec<Nav> = modules.iter().flat_map(|m| m.nav.iter().copied()).collect();
        nav.sort_by_key(|n| n.order);
        Ok(Self {
            app,
            i18n: Arc::new(i18n::Catalogs::of(modules)?),
            config: Arc::new(config),
            metrics,
            nav: nav.into(),
            tones: Arc::new(tone::Tones::load(
                tone::SHARED.iter().map(|f| ("kernel", f)).chain(modules.iter().flat_map(|m| m.tones.iter().map(move |f| (m.name, f)))),
            )?),
            extensions: Arc::new(extensions),
            ready: Arc::new(AtomicBool::new(true)),
        })
    }

    /// What a module set up at start.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
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
