//! Information assets: the register list (search, filters, sorting, pages, export), the
//! record page with its holders, findings and history, the form, deletion and review.

use super::{Lookup, none_if_empty};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets::register;
use isms_assets::{Asset, AssetInput, Finding};
use isms_core::Permission;
use isms_kernel::Principal;
use isms_kernel::history::AuditEntry;
use isms_store::assets::{AssetQuery, AssetSort, FindingQuery};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who, url_encode};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;
use std::collections::HashMap;

pub const PAGE_SIZE: u64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQ {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub category: String,
    /// yes, no or empty
    #[serde(default)]
    pub customer: String,
    #[serde(default)]
    pub medium: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: Option<u64>,
}

impl ListQ {
    pub fn to_query(&self, limit: u64) -> AssetQuery {
        AssetQuery {
            search: none_if_empty(&self.q),
            company_id: none_if_empty(&self.company),
            category_id: none_if_empty(&self.category),
            owner_id: none_if_empty(&self.owner),
            medium: none_if_empty(&self.medium),
            customer_information: match self.customer.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            sort: match self.sort.as_str() {
                "company" => AssetSort::Company,
                "category" => AssetSort::Category,
                "review" => AssetSort::ReviewDue,
                _ => AssetSort::Name,
            },
            descending: self.dir == "desc",
            offset: self.page.unwrap_or(1).saturating_sub(1) * limit,
            limit,
            review_before: None,
        }
    }

    /// The list's state for its headings, pager and export links.
    pub fn view(&self, total: u64) -> ListView {
        ListView::new("/assets")
            .swapped_into("assets-table")
            .filter("q", &self.q)
            .filter("company", &self.company)
            .filter("category", &self.category)
            .filter("customer", &self.customer)
            .filter("medium", &self.medium)
            .filter("owner", &self.owner)
            .sorted(&self.sort, &self.dir, "name")
            .paged(self.page, total, PAGE_SIZE)
    }
}

#[derive(Template)]
#[template(path = "assets_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Asset>,
    list: ListView,
    q: ListQ,
    look: Lookup,
}

#[derive(Template)]
#[template(path = "assets_table.html")]
struct ListPartial {
    shell: Shell,
    rows: Vec<Asset>,
    list: ListView,
    look: Lookup,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let result = register::list(&state.app, &who, &q.to_query(PAGE_SIZE)).await.or_page(&ctx)?;
        let look = Lookup::with(&state, &who, ctx.lang.code(), false, result.items.iter().map(|a| a.owner_id.clone())).await.or_page(&ctx)?;
        let list = q.view(result.total);
        let shell = Shell::new(&ctx, &headers, "assets-title");
        let partial = headers.get("hx-target").and_then(|v| v.to_str().ok()) == Some("assets-table");
        let r = if partial {
            render(&ListPartial { shell, rows: result.items, list, look })
        } else {
            render(&ListPage { shell, rows: result.items, list, q, look })
        };
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "asset.html")]
struct ShowPage {
    shell: Shell,
    a: Asset,
    look: Lookup,
    findings: Vec<Finding>,
    history: Vec<AuditEntry>,
    actors: HashMap<String, String>,
    can_review: bool,
}

impl ShowPage {
    fn actor(&self, a: &str) -> String {
        self.shell.actor(&self.actors, a)
    }
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let a = register::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let fq = FindingQuery { asset_id: Some(a.id.clone()), limit: 200, ..Default::default() };
        let findings = isms_assets::conformance::list(&state.app, &who, &fq).await.or_page(&ctx)?.items;
        let history = isms_kernel::history::record_history(&state.app, "information_asset", &a.id).await.or_page(&ctx)?;
        let actors = isms_kernel::history::actor_names(&state.app, &history).await.or_page(&ctx)?;
        let look = Lookup::with(&state, &who, ctx.lang.code(), true, [a.owner_id.clone()]).await.or_page(&ctx)?;
        let can_review = who.access.can_for(Permission::AssetsManage, a.company_id.parse().ok());
        let shell = Shell::new(&ctx, &headers, "asset-title").crumb("/assets", "assets-title").titled(a.name.clone());
        let r = render(&ShowPage { shell, a, look, findings, history, actors, can_review });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "asset_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: AssetInput,
    look: Lookup,
    action: String,
}

#[derive(Deserialize, Default)]
pub struct AssetForm {
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    medium: String,
    #[serde(default)]
    volume: String,
    #[serde(default)]
    review_due: String,
    #[serde(default)]
    review_months: String,
    /// Repeated `supports` fields: taken from the raw body.
    #[serde(skip)]
    supports: Vec<String>,
}

/// Parses the form body by hand: `supports` repeats (a multiple select). A number that is
/// not one is refused beside its field and everything else is kept as sent.
fn parse_form(body: &[u8]) -> (AssetInput, Vec<isms_core::FieldError>) {
    let mut f = AssetForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "company_id" => f.company_id = v,
            "department_id" => f.department_id = v,
            "category_id" => f.category_id = v,
            "name" => f.name = v,
            "description" => f.description = v,
            "owner_id" => f.owner_id = v,
            "medium" => f.medium = v,
            "volume" => f.volume = v,
            "review_due" => f.review_due = v,
            "review_months" => f.review_months = v,
            "supports" => f.supports.push(v),
            _ => {}
        }
    }
    let mut errors = vec![];
    let volume = isms_kernel::input::whole(&mut errors, "volume", &f.volume);
    let review_months = isms_kernel::input::whole(&mut errors, "review_months", &f.review_months);
    let input = AssetInput {
        company_id: f.company_id,
        department_id: Some(f.department_id),
        category_id: f.category_id,
        name: f.name,
        description: f.description,
        owner_id: Some(f.owner_id),
        medium: f.medium,
        volume,
        review_due: Some(f.review_due),
        review_months,
        supports: f.supports,
    };
    (input, errors)
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: AssetInput,
    action: String,
    title: &str,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), true).await);
    let shell = Shell::new(ctx, headers, title).crumb("/assets", "assets-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, look, action }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = AssetInput { medium: "electronic".into(), review_months: Some(12), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, "/assets/new".into(), "asset-new-title", vec![]).await
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, "/assets/new".into(), "asset-new-title", errors).await;
    }
    match register::create(&state.app, &who, input.clone()).await {
        Ok(a) => redirect_with_flash(&state, &format!("/assets/{}", a.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, "/assets/new".into(), "asset-new-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let a = register::get(&state.app, &who, &id).await.or_page(&ctx)?;
        who.require_for(Permission::AssetsManage, Some(&a.company_id)).or_page(&ctx)?;
        let look = Lookup::with(&state, &who, ctx.lang.code(), false, [a.owner_id.clone()]).await.or_page(&ctx)?;
        let v = AssetInput {
            company_id: a.company_id,
            department_id: a.department_id,
            category_id: a.category_id,
            name: a.name,
            description: a.description,
            owner_id: Some(look.person_number(&a.owner_id)),
            medium: a.medium.code().into(),
            volume: a.volume,
            review_due: a.review_due,
            review_months: Some(a.review_months),
            supports: a.supports,
        };
        form_page(&state, &ctx, &headers, &who, v, format!("/assets/{id}/edit"), "asset-edit-title", vec![]).await
    })
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&state, &ctx, &headers, &who, input, format!("/assets/{id}/edit"), "asset-edit-title", errors).await;
    }
    match register::update(&state.app, &who, &id, input.clone()).await {
        Ok(a) => redirect_with_flash(&state, &format!("/assets/{}", a.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, format!("/assets/{id}/edit"), "asset-edit-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn delete(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    match register::delete(&state.app, &who, &id).await {
        Ok(()) => redirect_with_flash(&state, "/assets", "flash-deleted", ctx.is_htmx),
        Err(isms_kernel::AppError::Invalid(errs)) => isms_webkit::shell::refusal(&ctx, &errs),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

/// How far ahead an owner's list of reviews looks.
pub const REVIEW_HORIZON_DAYS: i32 = 60;

#[derive(Template)]
#[template(path = "assets_reviews.html")]
struct ReviewsPage {
    shell: Shell,
    rows: Vec<Asset>,
    look: Lookup,
    today: String,
}

/// The signed-in owner's assets whose review is due soon or overdue, each with its button.
pub async fn my_reviews(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let rows = register::reviews_due(&state.app, &who, REVIEW_HORIZON_DAYS).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "reviews-title");
        let r = render(&ReviewsPage { shell, rows, look, today: isms_core::calendar::today().to_string() });
        clear_flash(&state, r, &headers)
    })
}

pub async fn review(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    match register::confirm_review(&state.app, &who, &id).await {
        // An owner who does not read the register goes back to their list of reviews.
        Ok(a) if !who.access.can_for(Permission::AssetsRead, a.company_id.parse().ok()) => {
            redirect_with_flash(&state, "/assets/reviews", "flash-reviewed", ctx.is_htmx)
        }
        Ok(a) => redirect_with_flash(&state, &format!("/assets/{}", a.id), "flash-reviewed", ctx.is_htmx),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

/// The link to the register filtered by one value.
pub fn filter_link(key: &str, value: &str) -> String {
    format!("/assets?{key}={}", url_encode(value))
}
