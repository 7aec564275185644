//! Sign-in (password, then the second factor), enrolment of the second factor, sign-out,
//! and the one-time setup of the first administrator.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use isms_kernel::AppError;
use isms_org::accounts::{self, NextStep};
use isms_org::setup;
use isms_webkit::WebState;
use isms_webkit::context::PageCx;
use isms_webkit::context::{self, ClientIp, Ctx, SESSION_COOKIE, Who, meta_of};
use isms_webkit::shell::{FormState, Shell, clear_flash, render};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    error: Option<String>,
    username: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub struct NextQ {
    #[serde(default)]
    next: String,
}

fn safe_next(next: &str) -> String {
    context::local_path(next)
}

pub async fn login_page(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap, Query(q): Query<NextQ>) -> Response {
    if ctx.principal.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    let shell = Shell::new(&ctx, &headers, "login-title");
    let r = render(&LoginPage { shell, error: None, username: String::new(), next: q.next });
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn login_submit(
    State(state): State<WebState>,
    ctx: Ctx,
    ip: ClientIp,
    headers: HeaderMap,
    Query(q): Query<NextQ>,
    Form(f): Form<LoginForm>,
) -> Response {
    match accounts::login(&state.app, &f.username, &f.password, &meta_of(&headers, &ip)).await {
        Ok(out) => {
            let to = match out.next {
                NextStep::Done => safe_next(&q.next),
                // The second factor keeps where the user was going.
                NextStep::Totp if !q.next.is_empty() => format!("/login/totp?next={}", context::url_encode(&safe_next(&q.next))),
                NextStep::Totp => "/login/totp".into(),
                NextStep::EnrolTotp => "/account/totp".into(),
            };
            let mut resp = Redirect::to(&to).into_response();
            let max_age = state.app.config().session_max_hours * 3600;
            resp.headers_mut().append(header::SET_COOKIE, context::set_cookie(&state, SESSION_COOKIE, &out.token, Some(max_age), true));
            resp
        }
        Err(e) => {
            let (status, key) = match e {
                AppError::Locked { .. } => (StatusCode::TOO_MANY_REQUESTS, "login-locked"),
                AppError::Invalid(_) => (StatusCode::UNAUTHORIZED, "login-failed"),
                other => return isms_webkit::error::page_error(&ctx, other),
            };
            let shell = Shell::new(&ctx, &headers, "login-title");
            let error = Some(shell.t(key));
            let mut r = render(&LoginPage { shell, error, username: f.username, next: q.next });
            *r.status_mut() = status;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    shell: Shell,
    error: Option<String>,
    next: String,
}

pub async fn totp_page(ctx: Ctx, headers: HeaderMap, Query(q): Query<NextQ>) -> Response {
    if ctx.principal.is_some() {
        return Redirect::to(&safe_next(&q.next)).into_response();
    }
    if ctx.session.as_ref().is_some_and(|s| s.needs_enrolment) {
        return Redirect::to("/account/totp").into_response();
    }
    render(&TotpPage { shell: Shell::new(&ctx, &headers, "totp-title"), error: None, next: q.next })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

pub async fn totp_submit(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(q): Query<NextQ>,
    Form(f): Form<CodeForm>,
) -> Response {
    match accounts::verify_totp(&state.app, &who, &f.code).await {
        Ok(()) => Redirect::to(&safe_next(&q.next)).into_response(),
        Err(AppError::Locked { .. }) => {
            let mut r = Redirect::to("/login").into_response();
            r.headers_mut().append(header::SET_COOKIE, context::set_cookie(&state, SESSION_COOKIE, "", Some(0), true));
            r
        }
        Err(AppError::Invalid(_)) => {
            let shell = Shell::new(&ctx, &headers, "totp-title");
            let error = Some(shell.t("totp-invalid"));
            let mut r = render(&TotpPage { shell, error, next: q.next });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    shell: Shell,
    secret: String,
    qr_svg: String,
    error: Option<String>,
}

fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build(),
        Err(_) => String::new(),
    }
}

async fn enrol_view(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &isms_kernel::Principal, error: Option<String>) -> Response {
    let enrolment = match accounts::pending_enrolment(&state.app, who).await {
        Ok(Some(e)) => e,
        Ok(None) => match accounts::begin_enrolment(&state.app, who).await {
            Ok(e) => e,
            Err(AppError::Conflict { .. }) => return Redirect::to("/account").into_response(),
            Err(e) => return isms_webkit::error::page_error(ctx, e),
        },
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let shell = Shell::new(ctx, headers, "enrol-title");
    render(&EnrolPage { shell, qr_svg: qr_svg(&enrolment.url), secret: enrolment.secret, error })
}

pub async fn enrol_page(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    enrol_view(&state, &ctx, &headers, &who, None).await
}

pub async fn enrol_submit(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<CodeForm>) -> Response {
    match accounts::confirm_enrolment(&state.app, &who, &f.code).await {
        Ok(()) => isms_webkit::shell::redirect_with_flash(&state, "/", "flash-totp-enrolled", false),
        Err(AppError::Invalid(_)) => {
            let msg = ctx.i18n.get(ctx.lang, "totp-invalid");
            let mut r = enrol_view(&state, &ctx, &headers, &who, Some(msg)).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

pub async fn logout(State(state): State<WebState>, ctx: Ctx, Who(who): Who) -> Response {
    if let Err(e) = accounts::logout(&state.app, &who).await {
        return isms_webkit::error::page_error(&ctx, e);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, context::set_cookie(&state, SESSION_COOKIE, "", Some(0), true));
    r
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    shell: Shell,
    form: FormState,
    token: String,
    username: String,
    display_name: String,
}

pub async fn setup_page(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap, Path(token): Path<String>) -> Response {
    match setup::is_valid(&state.app, &token).await {
        Ok(true) => {}
        Ok(false) => return isms_webkit::shell::error_page(&ctx, StatusCode::NOT_FOUND, "setup-invalid"),
        Err(e) => return isms_webkit::error::page_error(&ctx, e),
    }
    let shell = Shell::new(&ctx, &headers, "setup-title");
    let r = render(&SetupPage { form: FormState::default(), shell, token, username: "admin".into(), display_name: String::new() });
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

pub async fn setup_submit(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap, Path(token): Path<String>, Form(f): Form<SetupForm>) -> Response {
    match setup::complete(&state.app, &token, &f.username, &f.display_name, &f.password).await {
        Ok(_) => isms_webkit::shell::redirect_with_flash(&state, "/login", "flash-setup-done", false),
        Err(AppError::NotFound) => isms_webkit::shell::error_page(&ctx, StatusCode::NOT_FOUND, "setup-invalid"),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            let shell = Shell::new(&ctx, &headers, "setup-title");
            let form = FormState::new(&shell, errors);
            let mut r = render(&SetupPage { shell, form, token, username: f.username, display_name: f.display_name });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
