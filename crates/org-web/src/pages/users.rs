//! Administration of accounts: the user list, creating users, their role grants, password
//! and second-factor resets, disabling, and API tokens.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use isms_core::Role;
use isms_kernel::Principal;
use isms_org::accounts::{self, GrantView, NewToken, NewUser, TokenView, UserQuery, UserView};
use isms_org::org::Company;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::{ListView, PAGE_SIZE, PageQ, offset_of};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render};
use serde::Deserialize;

pub struct RoleOption {
    pub code: &'static str,
    pub label: String,
}

fn role_options(shell: &Shell) -> Vec<RoleOption> {
    Role::ALL.iter().map(|r| RoleOption { code: r.code(), label: shell.t(&format!("role-{}", r.code().replace('_', "-"))) }).collect()
}

async fn companies(state: &WebState, who: &Principal) -> isms_kernel::Result<Vec<Company>> {
    isms_org::org::list_companies(&state.app, who).await
}

#[derive(Template)]
#[template(path = "users_list.html")]
struct ListPage {
    shell: Shell,
    users: Vec<UserView>,
    companies: Vec<Company>,
    list: ListView,
    q: UserQuery,
}

impl ListPage {
    fn company(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|i| self.companies.iter().find(|c| &c.id == i)).map(|c| c.code.clone()).unwrap_or_else(|| "—".into())
    }
    fn role(&self, r: &Role) -> String {
        self.shell.t(&format!("role-{}", r.code().replace('_', "-")))
    }
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(mut q): Query<UserQuery>,
    Query(p): Query<PageQ>,
) -> PageResult {
    Ok({
        q.limit = PAGE_SIZE;
        q.offset = offset_of(p.page, PAGE_SIZE);
        let page = accounts::users_page(&state.app, &who, &q).await.or_page(&ctx)?;
        let companies = companies(&state, &who).await.or_page(&ctx)?;
        let list = ListView::new("/admin/users")
            .filter("search", q.search.as_deref().unwrap_or(""))
            .sorted(q.sort.as_deref().unwrap_or(""), q.dir.as_deref().unwrap_or(""), "username")
            .paged(p.page, page.total, PAGE_SIZE);
        let shell = Shell::new(&ctx, &headers, "users-title");
        let r = render(&ListPage { shell, users: page.items, companies, list, q });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "user_form.html")]
struct NewPage {
    shell: Shell,
    form: FormState,
    roles: Vec<RoleOption>,
    companies: Vec<Company>,
    username: String,
    display_name: String,
    person_id: String,
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let shell = Shell::new(&ctx, &headers, "user-new-title").crumb("/admin/users", "users-title");
    let roles = role_options(&shell);
    render(&NewPage {
        shell,
        form: FormState::default(),
        roles,
        companies: isms_webkit::page_try!(&ctx, companies(&state, &who).await),
        username: String::new(),
        display_name: String::new(),
        person_id: String::new(),
    })
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    company_id: String,
}

fn grant_from(role: &str, company: &str, expires_on: &str) -> Result<Vec<GrantView>, isms_kernel::AppError> {
    if role.is_empty() {
        return Ok(vec![]);
    }
    let role: Role = role.parse().map_err(isms_kernel::AppError::from)?;
    Ok(vec![GrantView {
        role,
        company_id: (!company.is_empty()).then(|| company.to_owned()),
        expires_on: (!expires_on.is_empty()).then(|| expires_on.to_owned()),
    }])
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<NewUserForm>) -> Response {
    let result = match grant_from(&f.role, &f.company_id, "") {
        Ok(grants) => {
            accounts::create_user(
                &state.app,
                &who,
                NewUser {
                    username: f.username.clone(),
                    display_name: f.display_name.clone(),
                    password: f.password,
                    person_id: Some(f.person_id.clone()),
                    grants,
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(u) => redirect_with_flash(&state, &format!("/admin/users/{}", u.id), "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errs = isms_webkit::refusals!(&ctx, e);
            let shell = Shell::new(&ctx, &headers, "user-new-title").crumb("/admin/users", "users-title");
            let form = FormState::new(&shell, errs);
            let roles = role_options(&shell);
            let mut r = render(&NewPage {
                shell,
                form,
                roles,
                companies: isms_webkit::page_try!(&ctx, companies(&state, &who).await),
                username: f.username,
                display_name: f.display_name,
                person_id: f.person_id,
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct ShowPage {
    shell: Shell,
    u: UserView,
    roles: Vec<RoleOption>,
    companies: Vec<Company>,
    form: FormState,
}

async fn show_view(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let u = isms_webkit::page_try!(ctx, accounts::get_user(&state.app, who, id).await);
    let shell = Shell::new(ctx, headers, "user-title").crumb("/admin/users", "users-title").titled(u.display_name.clone());
    let roles = role_options(&shell);
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let mut r = render(&ShowPage { shell, u, roles, companies: isms_webkit::page_try!(ctx, companies(state, who).await), form });
    if invalid {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    clear_flash(state, r, headers)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    show_view(&state, &ctx, &headers, &who, &id, vec![]).await
}

#[derive(Deserialize, Default)]
pub struct GrantsForm {
    #[serde(default)]
    role: Vec<String>,
    #[serde(default)]
    company_id: Vec<String>,
    #[serde(default)]
    expires_on: Vec<String>,
}

/// The grants form repeats `role` and `company_id`; an empty role drops the row.
pub async fn grants(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
    let f = GrantsForm {
        role: pairs.iter().filter(|(k, _)| k == "role").map(|(_, v)| v.clone()).collect(),
        company_id: pairs.iter().filter(|(k, _)| k == "company_id").map(|(_, v)| v.clone()).collect(),
        expires_on: pairs.iter().filter(|(k, _)| k == "expires_on").map(|(_, v)| v.clone()).collect(),
    };
    let mut grants = vec![];
    for (i, r) in f.role.iter().enumerate() {
        match grant_from(r, f.company_id.get(i).map(String::as_str).unwrap_or(""), f.expires_on.get(i).map(String::as_str).unwrap_or("")) {
            Ok(g) => grants.extend(g),
            Err(e) => return show_view(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e)).await,
        }
    }
    match accounts::set_grants(&state.app, &who, &id, grants).await {
        Ok(_) => redirect_with_flash(&state, &format!("/admin/users/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => show_view(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e)).await,
    }
}

fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[derive(Deserialize, Default)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn password(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Response {
    match accounts::reset_password(&state.app, &who, &id, &f.password).await {
        Ok(()) => redirect_with_flash(&state, &format!("/admin/users/{id}"), "flash-password-reset", ctx.is_htmx),
        Err(e) => show_view(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e)).await,
    }
}

async fn simple(state: &WebState, ctx: &Ctx, id: &str, r: Result<(), isms_kernel::AppError>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/admin/users/{id}"), flash, ctx.is_htmx),
        Err(isms_kernel::AppError::Conflict { .. }) => isms_webkit::shell::error_page(ctx, StatusCode::CONFLICT, "error-own-account"),
        Err(e) => isms_webkit::error::page_error(ctx, e),
    }
}

pub async fn disable(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    let r = accounts::set_disabled(&state.app, &who, &id, true).await;
    simple(&state, &ctx, &id, r, "flash-disabled").await
}

pub async fn enable(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    let r = accounts::set_disabled(&state.app, &who, &id, false).await;
    simple(&state, &ctx, &id, r, "flash-enabled").await
}

pub async fn reset_totp(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    let r = accounts::reset_totp(&state.app, &who, &id).await;
    simple(&state, &ctx, &id, r, "flash-totp-reset").await
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    shell: Shell,
    tokens: Vec<TokenView>,
    roles: Vec<RoleOption>,
    companies: Vec<Company>,
    created: Option<String>,
    form: FormState,
    /// The new-token form: blank but for the default lifetime, or as sent when refused.
    v: TokenForm,
}

#[allow(clippy::too_many_arguments)]
async fn tokens_view(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    created: Option<String>,
    v: TokenForm,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let tokens = isms_webkit::page_try!(ctx, accounts::list_tokens(&state.app, who).await);
    let shell = Shell::new(ctx, headers, "tokens-title");
    let roles = role_options(&shell);
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let mut r = render(&TokensPage { shell, tokens, roles, companies: isms_webkit::page_try!(ctx, companies(state, who).await), created, form, v });
    if invalid {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    clear_flash(state, r, headers)
}

pub async fn tokens(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    tokens_view(&state, &ctx, &headers, &who, None, TokenForm::blank(), vec![]).await
}

#[derive(Deserialize, Default, Clone)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    expires_in_days: String,
}

impl TokenForm {
    fn blank() -> Self {
        TokenForm { expires_in_days: "90".into(), ..Default::default() }
    }
}

pub async fn create_token(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<TokenForm>) -> Response {
    let mut errors = vec![];
    let role = f.role.parse::<Role>().map_err(|e| errors.push(e)).ok();
    let days = isms_kernel::input::whole::<i64>(&mut errors, "expires_in_days", &f.expires_in_days);
    if f.expires_in_days.trim().is_empty() {
        errors.push(isms_core::FieldError::coded("expires_in_days", "days-range", "must be a whole number of days between 1 and 366"));
    }
    let (Some(role), Some(days), true) = (role, days, errors.is_empty()) else {
        return tokens_view(&state, &ctx, &headers, &who, None, f, errors).await;
    };
    let sent = f.clone();
    let input = NewToken { name: f.name, role, companies: if f.company_id.is_empty() { vec![] } else { vec![f.company_id] }, expires_in_days: days };
    match accounts::create_token(&state.app, &who, input).await {
        // The token is shown on this one response and never again.
        Ok((_, token)) => tokens_view(&state, &ctx, &headers, &who, Some(token), TokenForm::blank(), vec![]).await,
        Err(e) => tokens_view(&state, &ctx, &headers, &who, None, sent, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn revoke_token(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    isms_webkit::page_try!(&ctx, accounts::revoke_token(&state.app, &who, &id).await);
    redirect_with_flash(&state, "/admin/tokens", "flash-token-revoked", ctx.is_htmx)
}
