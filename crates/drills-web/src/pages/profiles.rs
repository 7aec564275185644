//! Sending profiles: the list with the form that adds one, and the form that edits one.
//! A password is never shown again: the field is blank, and a blank one keeps what is
//! stored.

use askama::Template;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::{FieldError, Permission};
use isms_drills::{Profile, ProfileInput, profiles};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render_form};
use serde::Deserialize;

/// The profile form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub company_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: String,
    #[serde(default)]
    pub security: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub envelope_from: String,
}

impl ProfileForm {
    fn of(p: &Profile) -> Self {
        Self {
            company_id: p.company_id.clone().unwrap_or_default(),
            name: p.name.clone(),
            host: p.host.clone(),
            port: p.port.to_string(),
            security: p.security.clone(),
            username: p.username.clone(),
            password: String::new(),
            envelope_from: p.envelope_from.clone(),
        }
    }

    fn input(&self) -> ProfileInput {
        ProfileInput {
            company_id: Some(self.company_id.clone()),
            name: self.name.clone(),
            host: self.host.clone(),
            port: Some(self.port.clone()),
            security: self.security.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            envelope_from: self.envelope_from.clone(),
        }
    }
}

pub const SECURITY: [&str; 3] = ["starttls", "tls", "none"];

#[derive(Template)]
#[template(path = "drills_profiles.html")]
struct Page {
    shell: Shell,
    items: Vec<Profile>,
    look: Lookup,
    can_manage: bool,
    v: ProfileForm,
    form: FormState,
    security: [&'static str; 3],
    /// The profile being edited, or none for the list with its form for a new one.
    editing: Option<Profile>,
}

const LABELS: &[(&str, &str)] = &[
    ("company_id", "field-owning-company"),
    ("name", "drills-profile-name"),
    ("host", "drills-host"),
    ("port", "drills-port"),
    ("security", "drills-security"),
    ("username", "drills-username"),
    ("password", "drills-password"),
    ("envelope_from", "drills-envelope-from"),
];

async fn page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: ProfileForm,
    editing: Option<Profile>,
    errors: Vec<FieldError>,
) -> Response {
    let items = isms_webkit::page_try!(ctx, profiles::list(&state.app, who).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let shell = match &editing {
        Some(p) => Shell::new(ctx, headers, "drills-profiles-title").crumb("/drills/profiles", "drills-profiles-title").titled(p.name.clone()),
        None => Shell::new(ctx, headers, "drills-profiles-title").crumb("/drills", "maildrills-title"),
    };
    let form = FormState::new(&shell, errors).labelled(&shell, LABELS);
    let invalid = !form.errors.is_empty();
    let can_manage = who.access.can(Permission::DrillsManage);
    render_form(&Page { shell, items, look, can_manage, v, form, security: SECURITY, editing }, invalid)
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = ProfileForm { port: "587".into(), security: "starttls".into(), ..Default::default() };
    let r = page(&state, &ctx, &headers, &who, v, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, axum::Form(mut f): axum::Form<ProfileForm>) -> Response {
    match profiles::create(&state.app, &who, f.input()).await {
        Ok(_) => redirect_with_flash(&state, "/drills/profiles", "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            // A refused password is not sent back into the page.
            f.password.clear();
            page(&state, &ctx, &headers, &who, f, None, errors).await
        }
    }
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let p = isms_webkit::page_try!(&ctx, profiles::get(&state.app, &who, &id).await);
    let r = page(&state, &ctx, &headers, &who, ProfileForm::of(&p), Some(p), vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, axum::Form(mut f): axum::Form<ProfileForm>) -> Response {
    let p = isms_webkit::page_try!(&ctx, profiles::get(&state.app, &who, &id).await);
    f.company_id = p.company_id.clone().unwrap_or_default();
    match profiles::update(&state.app, &who, &id, f.input()).await {
        Ok(_) => redirect_with_flash(&state, "/drills/profiles", "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            f.password.clear();
            page(&state, &ctx, &headers, &who, f, Some(p), errors).await
        }
    }
}
