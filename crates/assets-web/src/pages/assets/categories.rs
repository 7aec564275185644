//! Handling categories: every category with its rules side by side (customer information
//! first and marked), and the CISO's form to change them.

use super::checked;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets::{Category, CategoryInput, categories};
use isms_core::FieldError;
use isms_core::assets::{Disposal, Egress, HandlingRules};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};

#[derive(Template)]
#[template(path = "categories.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Category>,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let rows = categories::list(&state.app, &who).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "categories-title");
        let r = render(&ListPage { shell, rows });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "category_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: CategoryInput,
    action: String,
    roles: Vec<&'static str>,
    can_delete: bool,
}

impl FormPage {
    fn has_role(&self, r: &str) -> bool {
        self.v.rules.access_roles.iter().any(|x| x == r)
    }
}

/// The form as typed: booleans from checkboxes, enums by code; bad codes are field errors.
fn parse_form(body: &[u8]) -> (CategoryInput, Vec<FieldError>) {
    let mut errors = vec![];
    let mut r = HandlingRules {
        customer_information: false,
        personal_information: false,
        need_to_know: false,
        access_roles: vec![],
        on_premises: false,
        approved_cloud: false,
        terminals: false,
        paper_locked: false,
        take_out: Egress::Never,
        remote_work: Egress::Never,
        email_outside: Egress::Never,
        removable_media: Egress::Never,
        encrypt_at_rest: false,
        encrypt_in_transit: false,
        mfa: false,
        access_logging: false,
        retention_months: None,
        disposal: Disposal::Delete,
    };
    let (mut code, mut name, mut name_ja, mut description) = (String::new(), String::new(), String::new(), String::new());
    for (k, v) in form_urlencoded::parse(body) {
        let on = checked(&Some(v.to_string()));
        let egress = |field: &str, errors: &mut Vec<FieldError>| Egress::parse_as(field, &v).map_err(|e| errors.push(e)).unwrap_or(Egress::Never);
        match k.as_ref() {
            "code" => code = v.into_owned(),
            "name" => name = v.into_owned(),
            "name_ja" => name_ja = v.into_owned(),
            "description" => description = v.into_owned(),
            "customer_information" => r.customer_information = on,
            "personal_information" => r.personal_information = on,
            "need_to_know" => r.need_to_know = on,
            "access_roles" => r.access_roles.push(v.into_owned()),
            "on_premises" => r.on_premises = on,
            "approved_cloud" => r.approved_cloud = on,
            "terminals" => r.terminals = on,
            "paper_locked" => r.paper_locked = on,
            "take_out" => r.take_out = egress("take_out", &mut errors),
            "remote_work" => r.remote_work = egress("remote_work", &mut errors),
            "email_outside" => r.email_outside = egress("email_outside", &mut errors),
            "removable_media" => r.removable_media = egress("removable_media", &mut errors),
            "encrypt_at_rest" => r.encrypt_at_rest = on,
            "encrypt_in_transit" => r.encrypt_in_transit = on,
            "mfa" => r.mfa = on,
            "access_logging" => r.access_logging = on,
            "retention_months" => r.retention_months = isms_kernel::input::whole(&mut errors, "retention_months", &v),
            "disposal" => r.disposal = Disposal::parse_as("disposal", &v).map_err(|e| errors.push(e)).unwrap_or(Disposal::Delete),
            _ => {}
        }
    }
    (CategoryInput { code, name, name_ja: Some(name_ja), description, rules: r }, errors)
}

fn form_page(ctx: &Ctx, headers: &HeaderMap, v: CategoryInput, action: String, title: &str, errors: Vec<FieldError>, can_delete: bool) -> Response {
    let shell = Shell::new(ctx, headers, title).crumb("/assets/categories", "categories-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let roles = isms_core::Role::ALL.iter().map(|r| r.code()).collect();
    render_form(&FormPage { shell, form, v, action, roles, can_delete }, invalid)
}

pub async fn new_form(ctx: Ctx, headers: HeaderMap) -> Response {
    let (mut v, _) = parse_form(b"");
    v.rules.on_premises = true;
    v.rules.take_out = Egress::WithApproval;
    form_page(&ctx, &headers, v, "/assets/categories/new".into(), "category-new-title", vec![], false)
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    if !errors.is_empty() {
        return form_page(&ctx, &headers, input, "/assets/categories/new".into(), "category-new-title", errors, false);
    }
    match categories::create(&state.app, &who, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, "/assets/categories", "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&ctx, &headers, input, "/assets/categories/new".into(), "category-new-title", isms_webkit::refusals!(&ctx, e), false),
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let c = categories::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let v = CategoryInput { code: c.code, name: c.name, name_ja: c.name_ja, description: c.description, rules: c.rules };
        form_page(&ctx, &headers, v, format!("/assets/categories/{id}/edit"), "category-edit-title", vec![], true)
    })
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_form(&body);
    let action = format!("/assets/categories/{id}/edit");
    if !errors.is_empty() {
        return form_page(&ctx, &headers, input, action, "category-edit-title", errors, true);
    }
    match categories::update(&state.app, &who, &id, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, "/assets/categories", "flash-saved", ctx.is_htmx),
        Err(e) => form_page(&ctx, &headers, input, action, "category-edit-title", isms_webkit::refusals!(&ctx, e), true),
    }
}

pub async fn delete(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    match categories::delete(&state.app, &who, &id).await {
        Ok(()) => redirect_with_flash(&state, "/assets/categories", "flash-deleted", ctx.is_htmx),
        Err(isms_kernel::AppError::Invalid(errs)) => isms_webkit::shell::refusal(&ctx, &errs),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}
