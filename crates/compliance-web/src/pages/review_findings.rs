//! Findings of the management system's upkeep: overdue document, control and risk
//! reviews, expired risk acceptances and overdue treatment actions.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use isms_compliance::findings::{self, Finding, FindingQuery};
use isms_core::Permission;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render};

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
    query: String,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(mut q): Query<FindingQuery>) -> PageResult {
    Ok({
        q.limit = 200;
        let result = findings::list(&state.app, &who, &q).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "review-findings-title");
        let can_check = who.access.can(Permission::ComplianceManage);
        let query = ctx.path_and_query.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default();
        let r = render(&ListPage { shell, rows: result.items, total: result.total, q, look, sources: findings::SOURCES.to_vec(), can_check, query });
        clear_flash(&state, r, &headers)
    })
}

async fn export_rows(state: &WebState, ctx: &Ctx, who: &isms_kernel::Principal, q: &FindingQuery) -> isms_kernel::Result<Vec<Vec<String>>> {
    let t = |k: &str| ctx.i18n.get(ctx.lang, k);
    let look = Lookup::load(state, who, ctx.lang.code()).await?;
    let mut q = q.clone();
    q.limit = 500;
    q.offset = 0;
    let mut rows = vec![["col-source", "field-title", "col-company", "field-due-on", "col-opened", "col-closed"].iter().map(|k| t(k)).collect::<Vec<_>>()];
    let when =
        |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|x| x.to_zoned_datetime(ctx.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    loop {
        let page = findings::list(&state.app, who, &q).await?;
        let n = page.items.len() as u64;
        for f in page.items {
            rows.push(vec![
                t(&format!("finding-source-{}", f.source)),
                f.title,
                f.company_id.as_ref().map(|c| look.company(c)).unwrap_or_else(|| t("whole-group")),
                f.due_on,
                when(f.opened_ms),
                f.closed_ms.map(when).unwrap_or_default(),
            ]);
        }
        q.offset += n;
        if n < q.limit || q.offset >= page.total {
            break;
        }
    }
    Ok(rows)
}

pub async fn export_csv(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<FindingQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::download::csv("findings.csv", &rows)
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<FindingQuery>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, export_rows(&state, &ctx, &who, &q).await);
    isms_webkit::page_try!(&ctx, isms_webkit::download::report(&ctx, "findings.xlsx", "findings", "review-findings-title", &rows))
}

pub async fn check(State(state): State<WebState>, ctx: Ctx, Who(who): Who) -> Response {
    isms_webkit::page_try!(&ctx, findings::check_now(&state.app, &who).await);
    redirect_with_flash(&state, "/findings", "flash-checked", ctx.is_htmx)
}
