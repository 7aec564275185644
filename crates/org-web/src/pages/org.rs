//! Group companies and their departments.

use askama::Template;
use axum::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use isms_kernel::Principal;
use isms_org::org::{self, Company, CompanyInput, Department, DepartmentInput};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    shell: Shell,
    companies: Vec<(Company, Vec<Department>)>,
    form: FormState,
}

async fn view(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, errors: Vec<isms_core::FieldError>) -> Response {
    let app = &state.app;
    let companies = isms_webkit::page_try!(ctx, org::list_companies(app, who).await);
    let departments = isms_webkit::page_try!(ctx, org::list_departments(app, who).await);
    let companies = companies
        .into_iter()
        .map(|c| {
            let deps = departments.iter().filter(|d| d.company_id == c.id).cloned().collect();
            (c, deps)
        })
        .collect();
    let shell = Shell::new(ctx, headers, "org-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let mut r = render(&OrgPage { shell, companies, form });
    if invalid {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    clear_flash(state, r, headers)
}

pub async fn page(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    view(&state, &ctx, &headers, &who, vec![]).await
}

#[derive(Deserialize)]
pub struct CompanyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_ja: String,
}

pub async fn create_company(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<CompanyForm>) -> Response {
    let input = CompanyInput { code: f.code, name: f.name, name_ja: Some(f.name_ja), is_holding: false };
    match org::create_company(&state.app, &who, input).await {
        Ok(_) => redirect_with_flash(&state, "/org", "flash-saved", ctx.is_htmx),
        Err(e) => view(&state, &ctx, &headers, &who, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Deserialize)]
pub struct DepartmentForm {
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
}

pub async fn create_department(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<DepartmentForm>) -> Response {
    let input = DepartmentInput { company_id: f.company_id, code: f.code, name: f.name };
    match org::create_department(&state.app, &who, input).await {
        Ok(_) => redirect_with_flash(&state, "/org", "flash-saved", ctx.is_htmx),
        Err(e) => view(&state, &ctx, &headers, &who, isms_webkit::refusals!(&ctx, e)).await,
    }
}
