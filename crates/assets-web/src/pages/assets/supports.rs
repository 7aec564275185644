//! Supporting assets: the list by kind, the record page with what it holds and its
//! findings, the form with the security facts the check reads, and deletion.

use super::{Lookup, checked, none_if_empty};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets::{Asset, Finding, Support, SupportInput, supports};
use isms_core::Permission;
use isms_kernel::Principal;
use isms_store::assets::{FindingQuery, SupportQuery};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::ListView;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQ {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub page: Option<u64>,
}

pub const PAGE_SIZE: u64 = 100;

impl ListQ {
    /// The list's state for its pager.
    pub fn view(&self, total: u64) -> ListView {
        ListView::new("/assets/supports").filter("q", &self.q).filter("company", &self.company).filter("kind", &self.kind).paged(self.page, total, PAGE_SIZE)
    }
}

#[derive(Template)]
#[template(path = "supports_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Support>,
    list: ListView,
    q: ListQ,
    look: Lookup,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let page = q.page.unwrap_or(1).max(1);
        let sq = SupportQuery {
            search: none_if_empty(&q.q),
            company_id: none_if_empty(&q.company),
            kind: none_if_empty(&q.kind),
            offset: (page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        };
        let result = supports::list(&state.app, &who, &sq).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "supports-title");
        let list = q.view(result.total);
        let r = render(&ListPage { shell, rows: result.items, list, q, look });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "support.html")]
struct ShowPage {
    shell: Shell,
    s: Support,
    look: Lookup,
    held: Vec<Asset>,
    findings: Vec<Finding>,
    can_manage: bool,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let s = supports::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let held = isms_assets::register::held_by(&state.app, &who, &s.id).await.or_page(&ctx)?;
        let fq = FindingQuery { support_id: Some(s.id.clone()), limit: 200, ..Default::default() };
        let findings = isms_assets::conformance::list(&state.app, &who, &fq).await.or_page(&ctx)?.items;
        let look = Lookup::with(&state, &who, ctx.lang.code(), false, [s.owner_id.clone()]).await.or_page(&ctx)?;
        let can_manage = who.access.can_for(Permission::AssetsManage, s.company_id.parse().ok());
        let shell = Shell::new(&ctx, &headers, "support-title").crumb("/assets/supports", "supports-title").titled(s.name.clone());
        let r = render(&ShowPage { shell, s, look, held, findings, can_manage });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "support_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: SupportInput,
    look: Lookup,
    action: String,
}

fn parse_form(body: &[u8]) -> SupportInput {
    let mut v = SupportInput::default();
    let mut patched = String::new();
    let mut owner = String::new();
    for (k, val) in form_urlencoded::parse(body) {
        let on = checked(&Some(val.to_string()));
        match k.as_ref() {
            "company_id" => v.company_id = val.into_owned(),
            "kind" => v.kind = val.into_owned(),
            "name" => v.name = val.into_owned(),
            "description" => v.description = val.into_owned(),
            "owner_id" => owner = val.into_owned(),
            "location" => v.location = val.into_owned(),
            "patched_on" => patched = val.into_owned(),
            "internet_exposed" => v.internet_exposed = on,
            "mfa" => v.mfa = on,
            "access_logging" => v.access_logging = on,
            "encrypted_at_rest" => v.encrypted_at_rest = on,
            "encrypted_in_transit" => v.encrypted_in_transit = on,
            "endpoint_protection" => v.endpoint_protection = on,
            "zero_trust" => v.zero_trust = on,
            "locked" => v.locked = on,
            "approved_categories" => v.approved_categories.push(val.into_owned()),
            _ => {}
        }
    }
    v.patched_on = Some(patched);
    v.owner_id = Some(owner);
    v
}

async fn form_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: SupportInput,
    action: String,
    title: &str,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), false).await);
    let shell = Shell::new(ctx, headers, title).crumb("/assets/supports", "supports-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, look, action }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = SupportInput { kind: "system".into(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, "/assets/supports/new".into(), "support-new-title", vec![]).await
}

/// The owner field takes an employee number; ids pass through.
async fn owner_ref(state: &WebState, v: &mut SupportInput) -> Result<(), isms_kernel::AppError> {
    let raw = v.owner_id.clone().unwrap_or_default();
    v.owner_id = isms_org::people::resolve_person_ref(state.app.store.conn(), "owner_id", none_if_empty(&raw)).await?;
    Ok(())
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let typed = parse_form(&body);
    let mut input = typed.clone();
    let r = match owner_ref(&state, &mut input).await {
        Ok(()) => supports::create(&state.app, &who, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(s) => redirect_with_flash(&state, &format!("/assets/supports/{}", s.id), "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, typed, "/assets/supports/new".into(), "support-new-title", isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let s = supports::get(&state.app, &who, &id).await.or_page(&ctx)?;
        who.require_for(Permission::AssetsManage, Some(&s.company_id)).or_page(&ctx)?;
        let look = Lookup::with(&state, &who, ctx.lang.code(), false, [s.owner_id.clone()]).await.or_page(&ctx)?;
        let v = SupportInput {
            owner_id: Some(look.person_number(&s.owner_id)),
            company_id: s.company_id,
            kind: s.kind.code().into(),
            name: s.name,
            description: s.description,
            location: s.location,
            internet_exposed: s.internet_exposed,
            mfa: s.mfa,
            access_logging: s.access_logging,
            encrypted_at_rest: s.encrypted_at_rest,
            encrypted_in_transit: s.encrypted_in_transit,
            endpoint_protection: s.endpoint_protection,
            patched_on: s.patched_on,
            zero_trust: s.zero_trust,
            locked: s.locked,
            approved_categories: s.approved_categories,
        };
        form_page(&state, &ctx, &headers, &who, v, format!("/assets/supports/{id}/edit"), "support-edit-title", vec![]).await
    })
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let typed = parse_form(&body);
    let mut input = typed.clone();
    let r = match owner_ref(&state, &mut input).await {
        Ok(()) => supports::update(&state.app, &who, &id, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(s) => redirect_with_flash(&state, &format!("/assets/supports/{}", s.id), "flash-saved", ctx.is_htmx),
        Err(e) => {
            form_page(&state, &ctx, &headers, &who, typed, format!("/assets/supports/{id}/edit"), "support-edit-title", isms_webkit::refusals!(&ctx, e)).await
        }
    }
}

pub async fn delete(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    match supports::delete(&state.app, &who, &id).await {
        Ok(()) => redirect_with_flash(&state, "/assets/supports", "flash-deleted", ctx.is_htmx),
        Err(isms_kernel::AppError::Invalid(errs)) => isms_webkit::shell::refusal(&ctx, &errs),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}
