//! The group's gateways and scanners: the built-in lists for reading, and the group's own
//! networks and user-agent words, one per line, for whoever manages drills group-wide.

use askama::Template;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::FieldError;
use isms_drills::scanners::{self, Scanners};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render_form};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScannersForm {
    #[serde(default)]
    pub nets: String,
    #[serde(default)]
    pub agents: String,
}

#[derive(Template)]
#[template(path = "drills_scanners.html")]
struct Page {
    shell: Shell,
    v: ScannersForm,
    built_in: Scanners,
    form: FormState,
    can_edit: bool,
}

async fn page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: Option<ScannersForm>, errors: Vec<FieldError>) -> Response {
    let v = match v {
        Some(v) => v,
        None => {
            let s = isms_webkit::page_try!(ctx, scanners::get(state.app.store.conn()).await);
            ScannersForm { nets: s.nets.join("\n"), agents: s.agents.join("\n") }
        }
    };
    let shell = Shell::new(ctx, headers, "drills-scanners-title").crumb("/drills", "maildrills-title");
    let form = FormState::new(&shell, errors).labelled(&shell, &[("nets", "drills-scanner-nets"), ("agents", "drills-scanner-agents")]);
    let invalid = !form.errors.is_empty();
    let can_edit = isms_drills::manages(who, None);
    render_form(&Page { shell, v, built_in: scanners::built_in(), form, can_edit }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = page(&state, &ctx, &headers, &who, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn save(PageCx { state, ctx, headers, who }: PageCx, axum::Form(f): axum::Form<ScannersForm>) -> Response {
    match scanners::set(&state.app, &who, &f.nets, &f.agents).await {
        Ok(_) => redirect_with_flash(&state, "/drills/scanners", "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            page(&state, &ctx, &headers, &who, Some(f), errors).await
        }
    }
}
