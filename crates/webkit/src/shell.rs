//! The page shell every page is drawn in: navigation by permission, title and breadcrumbs,
//! flash messages, the user's language and time zone, and the CSRF token for forms.

use crate::WebState;
use crate::context::{self, Ctx, LANG_COOKIE};
use crate::i18n::{Catalogs, Lang};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use isms_core::Permission;
use std::sync::Arc;

pub const FLASH_COOKIE: &str = "isms_flash";

/// The field name of an error about the whole form rather than one field.
const WHOLE_FORM: &str = "form";

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

pub struct Shell {
    pub ctx: Ctx,
    i18n: Arc<Catalogs>,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
    pub user_name: Option<String>,
}

impl Shell {
    pub fn new(ctx: &Ctx, headers: &HeaderMap, title_key: &str) -> Self {
        let i18n = ctx.i18n.clone();
        let lang = ctx.lang;
        let current_path = ctx.path_and_query.split('?').next().unwrap_or("/").to_owned();
        let mut nav = vec![];
        if let Some(p) = &ctx.principal {
            for item in ctx.nav.iter() {
                let (href, key) = (item.href, item.key);
                if item.perm.is_none_or(|perm| p.access.can(perm)) {
                    let current = if href == "/" { current_path == "/" } else { current_path.starts_with(href) };
                    nav.push(NavItem { href, label: i18n.get(lang, key), current });
                }
            }
        }
        let flash = context::cookie(headers, FLASH_COOKIE).filter(|k| k.starts_with("flash-") && i18n.has(lang, k)).map(|k| i18n.get(lang, k));
        let user_name = ctx.principal.as_ref().or(ctx.pending.as_ref()).map(|p| p.name.clone());
        Self { title: i18n.get(lang, title_key), i18n, ctx: ctx.clone(), crumbs: vec![], nav, flash, user_name }
    }

    pub fn crumb(mut self, href: &str, key: &str) -> Self {
        self.crumbs.push((href.to_owned(), self.t(key)));
        self
    }

    pub fn crumb_text(mut self, href: &str, text: &str) -> Self {
        self.crumbs.push((href.to_owned(), text.to_owned()));
        self
    }

    pub fn titled(mut self, title: String) -> Self {
        self.title = title;
        self
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.get(self.ctx.lang, key)
    }

    /// A message in another language than the page's (`ja` or `en`), for a preview of
    /// what someone reading in that language receives.
    pub fn t_in(&self, lang: &str, key: &str) -> String {
        self.i18n.get(Lang::parse(lang).unwrap_or(self.ctx.lang), key)
    }

    pub fn tr(&self, key: &str, args: &[(&str, String)]) -> String {
        self.i18n.get_with(self.ctx.lang, key, args)
    }

    /// An alert's title as a reader reads it: a rule's title as written; an indicator's
    /// match and a silent source's name inside the catalog's words for their kind.
    pub fn alert_title(&self, kind: &str, title: &str) -> String {
        alert_title(&self.i18n, self.ctx.lang, kind, title)
    }

    /// Who did something, as the audit trail names them (`user:<id>`, `token:<id>`,
    /// `system`), by name when `names` has it.
    pub fn actor(&self, names: &std::collections::HashMap<String, String>, a: &str) -> String {
        if a == "system" {
            return self.t("audit-actor-system");
        }
        names.get(a).cloned().unwrap_or_else(|| a.to_owned())
    }

    /// Whether the catalog of the page's language has `key`.
    pub fn has(&self, key: &str) -> bool {
        self.i18n.has(self.ctx.lang, key)
    }

    /// The message for an enumerated value, e.g. `label("status", "left")` → `status-left`.
    pub fn label(&self, prefix: &str, value: &str) -> String {
        self.t(&format!("{prefix}-{value}"))
    }

    /// The tone (`tone-<css>` class) of a code of a badge family.
    pub fn tone(&self, family: &str, code: &str) -> &'static str {
        self.ctx.tones.of(family, code).css()
    }

    /// A TLP level's name by its code (`amber+strict` is not a catalog key as it is).
    pub fn tlp(&self, code: &str) -> String {
        self.t(&format!("tlp-{}", code.replace('+', "-")))
    }

    /// A role's name by its code.
    pub fn role(&self, code: &str) -> String {
        self.t(&format!("role-{}", code.replace('_', "-")))
    }

    /// The label of a form field by its name (`take_out` → `field-take-out`).
    pub fn field_label(&self, name: &str) -> String {
        self.t(&format!("field-{}", name.replace('_', "-")))
    }

    /// The message for a numbered level, e.g. `level("severity", 3)` → `severity-3`.
    pub fn level(&self, prefix: &str, n: &i16) -> String {
        self.t(&format!("{prefix}-{n}"))
    }

    /// A validation message in the reader's language: the catalog's `err-<code>` when
    /// there is one, otherwise the English text as given.
    pub fn message(&self, code: &str, args: &[(&'static str, String)], english: &str) -> String {
        let key = format!("err-{code}");
        if code.is_empty() || !self.i18n.has(self.ctx.lang, &key) {
            return english.to_owned();
        }
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        self.i18n.get_with(self.ctx.lang, &key, &args)
    }

    /// An audit action in words (`people.view` → "Viewed"), or its code when unnamed.
    pub fn action(&self, code: &str) -> String {
        let key = format!("action-{}", code.replace(['.', '_'], "-"));
        if self.i18n.has(self.ctx.lang, &key) { self.t(&key) } else { code.to_owned() }
    }

    pub fn lang(&self) -> &'static str {
        self.ctx.lang.code()
    }

    pub fn other_lang(&self) -> &'static str {
        match self.ctx.lang {
            Lang::Ja => "en",
            Lang::En => "ja",
        }
    }

    pub fn other_lang_label(&self) -> &'static str {
        match self.ctx.lang {
            Lang::Ja => "English",
            Lang::En => "日本語",
        }
    }

    pub fn csrf(&self) -> &str {
        &self.ctx.csrf
    }

    /// `{"X-CSRF-Token": "..."}` for htmx's `hx-headers`.
    pub fn hx_headers(&self) -> String {
        format!("{{\"X-CSRF-Token\": \"{}\"}}", self.ctx.csrf)
    }

    pub fn signed_in(&self) -> bool {
        self.ctx.principal.is_some()
    }

    pub fn can(&self, p: &str) -> bool {
        let perm = match p {
            "org_manage" => Permission::OrgManage,
            "people_manage" => Permission::PeopleManage,
            "users_manage" => Permission::UsersManage,
            "audit_export" => Permission::AuditExport,
            "assets_manage" => Permission::AssetsManage,
            "categories_manage" => Permission::CategoriesManage,
            "drills_manage" => Permission::DrillsManage,
            _ => return false,
        };
        self.ctx.principal.as_ref().is_some_and(|w| w.access.can(perm))
    }

    /// A stored UTC time shown in the user's zone.
    pub fn time(&self, ms: &i64) -> String {
        match jiff::Timestamp::from_millisecond(*ms) {
            Ok(t) => t.to_zoned_datetime(self.ctx.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(),
            Err(_) => String::new(),
        }
    }

    /// A stored UTC time to the second, in the user's zone (a trace of requests).
    pub fn time_seconds(&self, ms: &i64) -> String {
        match jiff::Timestamp::from_millisecond(*ms) {
            Ok(t) => t.to_zoned_datetime(self.ctx.tz.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string(),
            Err(_) => String::new(),
        }
    }

    pub fn time_opt(&self, ms: &Option<i64>) -> String {
        ms.map(|m| self.time(&m)).unwrap_or_else(|| "—".into())
    }

    pub fn tz_name(&self) -> String {
        self.ctx.tz.iana_name().unwrap_or("UTC").to_owned()
    }
}

/// An alert's title in `lang` (see [`Shell::alert_title`]), for pages, cases and mail.
pub fn alert_title(i18n: &crate::i18n::Catalogs, lang: Lang, kind: &str, title: &str) -> String {
    match kind {
        "indicator" => i18n.get_with(lang, "alert-title-indicator", &[("what", title.to_owned())]),
        "silence" => i18n.get_with(lang, "alert-title-silence", &[("source", title.to_owned())]),
        _ => title.to_owned(),
    }
}

/// Renders a template, or a logged 500 if rendering fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page holding a form: 422 when the form came back with errors, so scripts and tests
/// see the refusal, 200 otherwise.
pub fn render_form<T: Template>(t: &T, invalid: bool) -> Response {
    let mut r = render(t);
    if invalid {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

/// Redirect after a successful form, with a flash message shown on the next page.
pub fn redirect_with_flash(state: &WebState, to: &str, flash_key: &str, htmx: bool) -> Response {
    let mut resp = if htmx { ([("HX-Redirect", to.to_owned())], StatusCode::OK).into_response() } else { Redirect::to(to).into_response() };
    resp.headers_mut().append(header::SET_COOKIE, context::set_cookie(state, FLASH_COOKIE, flash_key, Some(10), true));
    resp
}

/// Pages that shown a flash clear it.
pub fn clear_flash(state: &WebState, mut resp: Response, headers: &HeaderMap) -> Response {
    if context::cookie(headers, FLASH_COOKIE).is_some() {
        resp.headers_mut().append(header::SET_COOKIE, context::set_cookie(state, FLASH_COOKIE, "", Some(0), true));
    }
    resp
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    message: String,
}

pub fn error_page(ctx: &Ctx, status: StatusCode, key: &str) -> Response {
    let shell = Shell::new(ctx, &HeaderMap::new(), "error-title");
    let page = ErrorPage { message: shell.t(key), status: status.as_u16(), shell };
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

/// A refused change shown as a page: the reasons, in the reader's language, and a 422.
pub fn refusal(ctx: &Ctx, errors: &[isms_core::FieldError]) -> Response {
    let shell = Shell::new(ctx, &HeaderMap::new(), "error-title");
    let message = errors.iter().map(|e| shell.message(e.code, &e.args, &e.message)).collect::<Vec<_>>().join(" ");
    let page = ErrorPage { message, status: 422, shell };
    let mut r = render(&page);
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

pub async fn not_found(ctx: Ctx) -> Response {
    if ctx.is_api {
        return crate::error::ApiError(isms_kernel::AppError::NotFound).into_response();
    }
    error_page(&ctx, StatusCode::NOT_FOUND, "error-not-found")
}

#[derive(serde::Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Switches the interface language in this browser (a cookie). A GET changes nothing
/// stored: a link from another site may flip a cookie, never an account.
pub async fn switch_language(State(state): State<WebState>, ctx: Ctx, Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    language_switched(&state, &ctx, &code, q.back.as_deref().unwrap_or("/"))
}

/// The language button: stored on the account when signed in (so e-mail follows it),
/// and in the cookie. A POST with the CSRF token like every other change.
pub async fn choose_language(State(state): State<WebState>, ctx: Ctx, Path(code): Path<String>, Form(f): Form<Back>) -> Response {
    if Lang::parse(&code).is_some()
        && let Some(p) = &ctx.principal
        && let Err(e) = isms_org::accounts::set_preferences(&state.app, p, Some(&code), p.time_zone.as_deref()).await
    {
        return crate::error::page_error(&ctx, e);
    }
    language_switched(&state, &ctx, &code, f.back.as_deref().unwrap_or("/"))
}

fn language_switched(state: &WebState, ctx: &Ctx, code: &str, back: &str) -> Response {
    let Some(lang) = Lang::parse(code) else {
        return error_page(ctx, StatusCode::NOT_FOUND, "error-not-found");
    };
    let mut resp = Redirect::to(&context::local_path(back)).into_response();
    resp.headers_mut().append(header::SET_COOKIE, context::set_cookie(state, LANG_COOKIE, lang.code(), Some(365 * 86_400), false));
    resp
}

/// One error of a form, in the reader's language.
pub struct ShownError {
    pub field: String,
    pub label: String,
    pub message: String,
    /// What was typed into the field when the refusal carries it (a number that is not one).
    pub sent: Option<String>,
}

/// Errors of a submitted form, shown beside their fields and summarised at the top.
#[derive(Default)]
pub struct FormState {
    pub errors: Vec<ShownError>,
}

impl FormState {
    pub fn new(shell: &Shell, errors: Vec<isms_core::FieldError>) -> Self {
        let errors = errors
            .into_iter()
            .map(|e| {
                let key = format!("field-{}", e.field.replace('_', "-"));
                let label = if shell.i18n.has(shell.ctx.lang, &key) { shell.t(&key) } else { e.field.clone() };
                let message = shell.message(e.code, &e.args, &e.message);
                let sent = e.args.iter().find(|(k, _)| *k == "value").map(|(_, v)| v.clone());
                ShownError { field: e.field, label, message, sent }
            })
            .collect();
        Self { errors }
    }

    /// Names fields in the error summary as this form labels them (`title` is "What
    /// happened?" on the report form), where a form's words differ from `field-<name>`.
    pub fn labelled(mut self, shell: &Shell, labels: &[(&str, &str)]) -> Self {
        for e in &mut self.errors {
            if let Some((_, key)) = labels.iter().find(|(f, _)| *f == e.field) {
                e.label = shell.t(key);
            }
        }
        self
    }

    pub fn label(&self, field: &str) -> String {
        self.errors.iter().find(|e| e.field == field).map(|e| e.label.clone()).unwrap_or_else(|| field.to_owned())
    }

    /// The attributes that mark a refused field's control: invalid, and described by its
    /// error. Nothing when the field was accepted.
    pub fn aria(&self, field: &str) -> String {
        if self.errors.iter().any(|e| e.field == field) {
            format!(" aria-invalid=\"true\" aria-describedby=\"{}-error\"", escape(field))
        } else {
            String::new()
        }
    }

    /// What was typed into a field that was refused, when its refusal carries it.
    fn sent(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|e| e.field == field).and_then(|e| e.sent.clone())
    }

    /// The value to draw in a typed field (a number): what was typed when the field was
    /// refused, so that nothing typed is lost, otherwise the value read.
    pub fn typed<T: std::fmt::Display>(&self, field: &str, value: &Option<T>) -> String {
        self.sent(field).unwrap_or_else(|| value.as_ref().map(ToString::to_string).unwrap_or_default())
    }

    /// As [`FormState::typed`], for a field that always has a value.
    pub fn typed_or<T: std::fmt::Display>(&self, field: &str, value: T) -> String {
        self.sent(field).unwrap_or_else(|| value.to_string())
    }

    /// The message for one field as escaped HTML, or nothing.
    pub fn error_for(&self, field: &str) -> String {
        self.errors.iter().filter(|e| e.field == field).map(|e| format!("<p class=\"field-error\" id=\"{field}-error\">{}</p>", escape(&e.message))).collect()
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits an application error into form errors (shown in place) or a page error.
pub fn form_errors(e: isms_kernel::AppError) -> Result<Vec<isms_core::FieldError>, isms_kernel::AppError> {
    match e {
        isms_kernel::AppError::Invalid(errs) => Ok(errs),
        // A clash belongs to the whole form; its words come from the code it carries.
        isms_kernel::AppError::Conflict { code, message } => Ok(vec![isms_core::FieldError::coded(WHOLE_FORM, code, message)]),
        other => Err(other),
    }
}
