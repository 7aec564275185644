//! Recording reports by hand: the security desk pastes a reported mail (its source, a
//! forward, or the reference code) and sees which drill and recipient it names.

use askama::Template;
use axum::response::Response;
use isms_drills::reports::{self, Outcome};
use isms_webkit::context::PageCx;
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{Shell, clear_flash, render};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "drills_reports.html")]
struct Page {
    shell: Shell,
    text: String,
    outcome: Option<Outcome>,
    look: Lookup,
}

pub async fn form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let look = isms_webkit::page_try!(&ctx, Lookup::load(&state, &who, ctx.lang.code()).await);
    let shell = Shell::new(&ctx, &headers, "drills-reports-title").crumb("/drills", "maildrills-title");
    clear_flash(&state, render(&Page { shell, text: String::new(), outcome: None, look }), &headers)
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    pub text: String,
}

pub async fn submit(PageCx { state, ctx, headers, who }: PageCx, axum::Form(f): axum::Form<ReportForm>) -> Response {
    let outcome = isms_webkit::page_try!(&ctx, reports::report(&state.app, &who, &f.text, "desk").await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(&state, &who, ctx.lang.code()).await);
    let shell = Shell::new(&ctx, &headers, "drills-reports-title").crumb("/drills", "maildrills-title");
    // What was pasted stays when nothing matched, so it can be corrected.
    let text = if outcome.matched.is_empty() { f.text } else { String::new() };
    render(&Page { shell, text, outcome: Some(outcome), look })
}
