//! Drill campaigns over HTTP for the security office: the list, and one campaign's
//! results by company and department with its recipients a page at a time (names only
//! for who runs it), and launching, pausing, resuming and cancelling it.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use isms_drills::results::{self, RecipientRow, Results, Tally};
use isms_drills::{Campaign, campaigns, templates};
use isms_webkit::context::PageCx;
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "drills_campaigns.html")]
struct ListPage {
    shell: Shell,
    items: Vec<Campaign>,
    look: Lookup,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    let items = campaigns::list(&state.app, &who).await.or_page(&ctx)?;
    let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "maildrills-title");
    Ok(clear_flash(&state, render(&ListPage { shell, items, look }), &headers))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    pub page: Option<u64>,
}

#[derive(Template)]
#[template(path = "drills_campaign.html")]
struct ShowPage {
    shell: Shell,
    c: Campaign,
    template_name: String,
    r: Results,
    rows: Vec<RecipientRow>,
    list: ListView,
    look: Lookup,
    named: bool,
    can_manage: bool,
}

impl ShowPage {
    fn pct(&self, t: &Tally, n: &i64) -> String {
        format!("{} %", t.percent(*n))
    }
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Query(q): Query<ShowQuery>) -> PageResult {
    let c = campaigns::get(&state.app, &who, &id).await.or_page(&ctx)?;
    let r = results::results(&state.app, &who, &id).await.or_page(&ctx)?;
    let page = q.page.unwrap_or(1).max(1);
    let rows = results::recipients(&state.app, &who, &id, page - 1).await.or_page(&ctx)?;
    let template_name = templates::get(&state.app, &who, &c.template_id).await.map(|t| t.name).unwrap_or_default();
    let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "drills-campaign-title").crumb("/drills", "maildrills-title");
    let list = ListView::new(format!("/drills/campaigns/{id}")).paged(q.page, rows.total, 50);
    let named = campaigns::names_visible(&who, &c);
    let can_manage = c.can_manage(&who);
    Ok(clear_flash(&state, render(&ShowPage { shell, c, template_name, r, rows: rows.items, list, look, named, can_manage }), &headers))
}

async fn act(cx: PageCx, id: String, what: &str) -> Response {
    let PageCx { state, ctx, headers: _, who } = cx;
    let app = &state.app;
    let done = match what {
        "launch" => campaigns::launch(app, &who, &id).await,
        "pause" => campaigns::pause(app, &who, &id).await,
        "resume" => campaigns::resume(app, &who, &id).await,
        _ => campaigns::cancel(app, &who, &id).await,
    };
    isms_webkit::page_try!(&ctx, done);
    let flash = match what {
        "launch" => "flash-drill-launched",
        "pause" => "flash-drill-paused",
        "resume" => "flash-drill-resumed",
        _ => "flash-drill-cancelled",
    };
    redirect_with_flash(&state, &format!("/drills/campaigns/{id}"), flash, ctx.is_htmx)
}

pub async fn launch(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "launch").await
}
pub async fn pause(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "pause").await
}
pub async fn resume(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "resume").await
}
pub async fn cancel(cx: PageCx, Path(id): Path<String>) -> Response {
    act(cx, id, "cancel").await
}
