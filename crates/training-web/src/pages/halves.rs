//! The twice-a-year rule over HTTP: a half's share trained per company, who is missing
//! (paged, by company, exportable), the figures kept when it closed, and closing by hand a
//! half the server slept through.

use askama::Template;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::Permission;
use isms_core::training::FiscalHalf;
use isms_kernel::Principal;
use isms_training::rule::{self, Standing, Untrained};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render};
use serde::Deserialize;

pub const PAGE_SIZE: u64 = 50;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HalfQuery {
    #[serde(default)]
    pub half: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub page: Option<u64>,
}

impl HalfQuery {
    fn half(&self) -> FiscalHalf {
        FiscalHalf::parse(&self.half).unwrap_or_else(|| FiscalHalf::of(isms_core::calendar::today()))
    }
}

/// A half in the reader's words: `2026年度上期`, `FY2026 H1`.
pub fn half_name(shell: &Shell, h: FiscalHalf) -> String {
    shell.tr(if h.half == 1 { "fiscal-half-1" } else { "fiscal-half-2" }, &[("y", h.year.to_string())])
}

#[derive(Template)]
#[template(path = "training_halves.html")]
struct HalvesPage {
    shell: Shell,
    s: Standing,
    name: String,
    /// The halves to choose from: this one and the three before, (key, name).
    halves: Vec<(String, String)>,
    missing: Vec<Untrained>,
    list: ListView,
    look: Lookup,
    q: HalfQuery,
    /// The half has ended and was not closed, and the reader may close it.
    can_close: bool,
    can_import: bool,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<HalfQuery>) -> PageResult {
    Ok({
        let r = page(&state, &ctx, &headers, &who, q).await?;
        clear_flash(&state, r, &headers)
    })
}

async fn page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, q: HalfQuery) -> PageResult {
    let h = q.half();
    let s = rule::standing(&state.app, who, Some(h)).await.or_page(ctx)?;
    let offset = (q.page.unwrap_or(1).max(1) - 1) * PAGE_SIZE;
    let company = Some(q.company.as_str()).filter(|c| !c.is_empty());
    let person = Some(q.person.as_str()).filter(|c| !c.is_empty());
    let missing = rule::untrained(&state.app, who, Some(h), company, person, offset, PAGE_SIZE).await.or_page(ctx)?;
    let look = Lookup::load(state, who, ctx.lang.code()).await.or_page(ctx)?;
    let shell = Shell::new(ctx, headers, "training-halves-title").crumb("/training", "training-title");
    let now = FiscalHalf::of(isms_core::calendar::today());
    let mut halves = vec![];
    let mut x = now;
    for _ in 0..4 {
        halves.push((x.key(), half_name(&shell, x)));
        x = x.previous();
    }
    let list = ListView::new("/training/halves").filter("half", &s.key).filter("company", &q.company).filter("person", &q.person).paged(
        q.page,
        missing.total,
        PAGE_SIZE,
    );
    let can_close = s.closed.is_none() && h.last_day() < isms_core::calendar::today() && who.access.can_for(Permission::TrainingManage, None);
    let name = half_name(&shell, h);
    let can_import = who.access.can(Permission::TrainingManage);
    Ok(render(&HalvesPage { shell, s, name, halves, missing: missing.items, list, look, q, can_close, can_import }))
}

/// Everyone missing in the half (within the reader's companies, and the company chosen), as CSV.
pub async fn export(PageCx { state, ctx, headers: _, who }: PageCx, Query(q): Query<HalfQuery>) -> Response {
    let h = q.half();
    let company = Some(q.company.as_str()).filter(|c| !c.is_empty());
    let rows = isms_webkit::page_try!(&ctx, rule::untrained(&state.app, &who, Some(h), company, None, 0, u64::MAX).await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(&state, &who, ctx.lang.code()).await);
    let t = |k: &str| ctx.i18n.get(ctx.lang, k);
    let mut out = vec![vec![t("field-employee-number"), t("field-person-name"), t("col-company"), t("field-department-id"), t("training-joined-on")]];
    for r in rows.items {
        out.push(vec![r.employee_number, r.name, look.company(&r.company_id), look.department(&r.department_id), r.joined_on.unwrap_or_default()]);
    }
    isms_webkit::download::csv(&format!("training-untrained-{}.csv", h.key()), &out)
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    pub half: String,
}

pub async fn close(PageCx { state, ctx, headers: _, who }: PageCx, axum::Form(f): axum::Form<CloseForm>) -> Response {
    let Some(h) = FiscalHalf::parse(&f.half) else { return isms_webkit::error::page_error(&ctx, isms_kernel::AppError::NotFound) };
    isms_webkit::page_try!(&ctx, rule::close_now(&state.app, &who, h).await);
    redirect_with_flash(&state, &format!("/training/halves?half={}", h.key()), "flash-training-half-closed", ctx.is_htmx)
}
