//! The application's route table: every module's routes (each with what it needs,
//! checked before its handler) and the layers every request passes. The authorization
//! matrix test reads the same table, so a new route cannot escape it.

use crate::{api, context, ops, pages};
use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use isms_webkit::{RouteSpec, Table, WebState};

/// The routes of the assembly itself.
pub(crate) fn own(t: Table) -> Table {
    use axum::routing::{get, post};
    use isms_core::Permission::*;
    use isms_webkit::Need::*;
    t
        // operations and static files
        .get("/healthz", Public, get(ops::healthz))
        .get("/readyz", Public, get(ops::readyz))
        .get("/metrics", MetricsToken, get(ops::metrics))
        .get("/static/{file}", Public, get(ops::static_file))
        .get("/lang/{code}", Public, get(isms_webkit::shell::switch_language))
        .post("/lang/{code}", Public, post(isms_webkit::shell::choose_language))
        .get("/", SignedIn, get(pages::home::dashboard))
        .get("/audit", Perm(AuditRead), get(pages::audit::list))
        .get("/audit/export.csv", Perm(AuditExport), get(pages::audit::export))
        .post("/audit/verify", Perm(AuditRead), post(pages::audit::check))
        // JSON API
        .get("/api/openapi.json", Public, get(api::openapi_json))
        .get("/api/v1/me", SignedIn, get(api::me))
        .get("/api/v1/audit", Perm(AuditRead), get(api::audit::list))
}

pub fn build(state: WebState) -> (Router, Vec<RouteSpec>) {
    let mut t = Table::new();
    for m in crate::modules() {
        t = (m.routes)(t);
    }
    let specs = t.specs;
    let router = t
        .router
        .merge(api::docs_router())
        .fallback(isms_webkit::shell::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), isms_webkit::input::refuse_control_characters))
        .layer(middleware::from_fn_with_state(state.clone(), context::middleware))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(isms_webkit::error::panic_response))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, std::time::Duration::from_secs(120)))
        .layer(middleware::from_fn(ops::track))
        .layer(middleware::from_fn(ops::close_if_unread))
        .with_state(state);
    (router, specs)
}
