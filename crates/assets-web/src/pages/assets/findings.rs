//! Conformance findings: the list (open first, by severity), a finding with its rule in
//! words, accepting it as an exception, resolving it, and a re-check on demand.

use super::{Lookup, none_if_empty};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets::Finding;
use isms_assets::conformance::{self, AcceptInput};
use isms_core::Permission;
use isms_store::assets::FindingQuery;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQ {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub page: Option<u64>,
}

pub const PAGE_SIZE: u64 = 100;

impl ListQ {
    /// The list's state for its pager.
    pub fn view(&self, total: u64) -> ListView {
        ListView::new("/assets/findings")
            .filter("status", self.status())
            .filter("company", &self.company)
            .filter("customer", &self.customer)
            .filter("rule", &self.rule)
            .paged(self.page, total, PAGE_SIZE)
    }

    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("open")
    }
}

#[derive(Template)]
#[template(path = "findings.html")]
struct ListPage {
    shell: Shell,
    findings: Vec<Finding>,
    list: ListView,
    q: ListQ,
    look: Lookup,
    assets: std::collections::HashMap<String, String>,
    rules: Vec<&'static str>,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let page_no = q.page.unwrap_or(1).max(1);
        let fq = FindingQuery {
            status: none_if_empty(q.status()),
            company_id: none_if_empty(&q.company),
            rule: none_if_empty(&q.rule),
            customer_information: match q.customer.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            offset: (page_no - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
            ..Default::default()
        };
        let page = conformance::list(&state.app, &who, &fq).await.or_page(&ctx)?;
        let ids: Vec<String> = page.items.iter().filter_map(|f| f.asset_id.clone()).collect();
        let assets = isms_assets::register::names(&state.app, &ids).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), true).await.or_page(&ctx)?;
        let rules = isms_core::assets::Rule::ALL.iter().map(|r| r.code()).collect();
        let shell = Shell::new(&ctx, &headers, "findings-title");
        let list = q.view(page.total);
        let r = render(&ListPage { shell, findings: page.items, list, q, look, assets, rules });
        clear_flash(&state, r, &headers)
    })
}

impl ListPage {
    fn asset_name(&self, id: &str) -> &str {
        self.assets.get(id).map(String::as_str).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "finding.html")]
struct ShowPage {
    shell: Shell,
    f: Finding,
    look: Lookup,
    asset_name: String,
    form: FormState,
    v: AcceptInput,
    can_manage: bool,
}

async fn show_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &isms_kernel::Principal,
    id: &str,
    v: AcceptInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let f = isms_webkit::page_try!(ctx, conformance::get(&state.app, who, id).await);
    let asset_name = match &f.asset_id {
        Some(a) => isms_webkit::page_try!(ctx, isms_assets::register::names(&state.app, std::slice::from_ref(a)).await).remove(a).unwrap_or_default(),
        None => String::new(),
    };
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), true).await);
    let can_manage = who.access.can_for(Permission::AssetsManage, f.company_id.parse().ok());
    let shell = Shell::new(ctx, headers, "finding-title").crumb("/assets/findings", "findings-title");
    let title = shell.label("rule", &f.rule);
    let shell = shell.titled(title);
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, f, look, asset_name, form, v, can_manage }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, AcceptInput::default(), vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default)]
pub struct AcceptForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires_on: String,
}

pub async fn accept(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<AcceptForm>) -> Response {
    let input = AcceptInput { reason: f.reason, expires_on: f.expires_on };
    match conformance::accept(&state.app, &who, &id, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/assets/findings/{id}"), "flash-accepted", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, input, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn resolve(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match conformance::resolve(&state.app, &who, &id).await {
        Ok(_) => redirect_with_flash(&state, &format!("/assets/findings/{id}"), "flash-resolved", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, AcceptInput::default(), isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn recheck(State(state): State<WebState>, ctx: Ctx, Who(who): Who) -> Response {
    isms_webkit::page_try!(&ctx, conformance::recheck_all(&state.app, &who).await);
    redirect_with_flash(&state, "/assets/findings", "flash-rechecked", ctx.is_htmx)
}
