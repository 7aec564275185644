//! The user's own account: language and time zone, and their sessions (see and revoke).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use isms_org::accounts::{self, SessionView};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    sessions: Vec<SessionView>,
    locale: String,
    time_zone: String,
    zones: Vec<&'static str>,
}

const ZONES: [&str; 8] =
    ["Asia/Tokyo", "UTC", "Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Singapore", "Australia/Sydney"];

pub async fn page(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let sessions = accounts::my_sessions(&state.app, &who).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "account-title");
        let r = render(&AccountPage {
            shell,
            sessions,
            locale: who.locale.clone().unwrap_or_default(),
            time_zone: who.time_zone.clone().unwrap_or_default(),
            zones: ZONES.to_vec(),
        });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Deserialize)]
pub struct PrefsForm {
    #[serde(default)]
    locale: String,
    #[serde(default)]
    time_zone: String,
}

pub async fn preferences(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Form(f): Form<PrefsForm>) -> Response {
    isms_webkit::page_try!(&ctx, accounts::set_preferences(&state.app, &who, Some(&f.locale), Some(&f.time_zone)).await);
    redirect_with_flash(&state, "/account", "flash-saved", ctx.is_htmx)
}

pub async fn revoke_session(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    isms_webkit::page_try!(&ctx, accounts::revoke_my_session(&state.app, &who, &id).await);
    redirect_with_flash(&state, "/account", "flash-session-revoked", ctx.is_htmx)
}
