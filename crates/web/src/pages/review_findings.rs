//! Findings of the management system's upkeep: overdue document, control and risk
//! reviews, expired risk acceptances and overdue treatment actions.

use crate::context::{Ctx, Who};
use crate::pages::assets::Lookup;
use crate::pages::shell::{clear_flash, redirect_with_flash, render, Shell};
use crate::WebState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_app::findings::{self, Finding, FindingQuery};
use isms_core::Permission;

#[derive(Template)]
#[template(path = "review_findings.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Finding>,
    total: u64,
    q: FindingQuery,
    look: Lookup,
    sources: Vec<&'static str>,
    can_check: bool,
}

pub async fn list(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap, Who(who): Who, Query(mut q): Query<FindingQuery>) -> Response {
    q.limit = 200;
    let result = match findings::list(&state.app, &who, &q).await {
        Ok(r) => r,
        Err(e) => return crate::error::page_error(&ctx, e),
    };
    let look = Lookup::load(&state, &who, ctx.lang.code(), false).await;
    let shell = Shell::new(&ctx, &headers, "review-findings-title");
    let can_check = who.access.can(Permission::ComplianceManage);
    let r = render(&ListPage { shell, rows: result.items, total: result.total, q, look, sources: findings::SOURCES.to_vec(), can_check });
    clear_flash(&state, r, &headers)
}

pub async fn check(State(state): State<WebState>, ctx: Ctx, Who(who): Who) -> Response {
    match findings::check_now(&state.app, &who).await {
        Ok(_) => redirect_with_flash(&state, "/findings", "flash-checked", ctx.is_htmx),
        Err(e) => crate::error::page_error(&ctx, e),
    }
}
