//! Take-out requests: an employee's own requests and form; for managers, everything
//! requested or outside in their companies; a request's page with the decision.

use super::Lookup;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets::takeouts::{self, CHANNELS, DecisionInput, Takeout, TakeoutInput};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct ListQ {
    #[serde(default)]
    pub status: String,
}

#[derive(Template)]
#[template(path = "takeouts.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Takeout>,
    q: ListQ,
    look: Lookup,
    show_tabs: bool,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let rows = takeouts::list(&state.app, &who, Some(&q.status), 500).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let show_tabs = who.access.can(isms_core::Permission::AssetsRead);
        let shell = Shell::new(&ctx, &headers, "takeouts-title");
        let r = render(&ListPage { shell, rows, q, look, show_tabs });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "takeout_form.html")]
struct FormPage {
    shell: Shell,
    form: FormState,
    v: TakeoutInput,
    look: Lookup,
    channels: Vec<&'static str>,
}

async fn form_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: TakeoutInput, errors: Vec<isms_core::FieldError>) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), false).await);
    let shell = Shell::new(ctx, headers, "takeout-new-title").crumb("/takeouts", "takeouts-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&FormPage { shell, form, v, look, channels: CHANNELS.to_vec() }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = TakeoutInput { medium: "device".into(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, vec![]).await
}

#[derive(Deserialize, Default)]
pub struct TakeoutForm {
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    medium: String,
    #[serde(default)]
    destination: String,
    #[serde(default)]
    return_by: String,
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<TakeoutForm>) -> Response {
    let input = TakeoutInput {
        category_id: f.category_id,
        asset_id: None,
        what: f.what,
        purpose: f.purpose,
        medium: f.medium,
        destination: f.destination,
        return_by: f.return_by,
    };
    match takeouts::request(&state.app, &who, input.clone()).await {
        Ok(t) => redirect_with_flash(&state, &format!("/takeouts/{}", t.id), "flash-requested", ctx.is_htmx),
        Err(e) => form_page(&state, &ctx, &headers, &who, input, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "takeout.html")]
struct ShowPage {
    shell: Shell,
    t: Takeout,
    look: Lookup,
    requester: Option<String>,
    can_decide: bool,
    can_close: bool,
    form: FormState,
}

async fn show_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let t = isms_webkit::page_try!(ctx, takeouts::get(&state.app, who, id).await);
    let can_decide = t.status == "requested" && takeouts::can_decide(&state.app, who, &t).await.unwrap_or(false);
    let mine = who.user_id.as_deref() == Some(t.requested_by.as_str());
    let can_close = (t.status == "approved" && (mine || who.access.can_for(isms_core::Permission::AssetsManage, t.company_id.parse().ok())))
        || (t.status == "requested" && mine);
    let requester = isms_webkit::page_try!(ctx, isms_org::accounts::person_ids_of(&state.app, vec![t.requested_by.clone()]).await).remove(&t.requested_by);
    let look = isms_webkit::page_try!(ctx, Lookup::with(state, who, ctx.lang.code(), false, [requester.clone()]).await);
    let shell = Shell::new(ctx, headers, "takeout-title").crumb("/takeouts", "takeouts-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, t, look, requester, can_decide, can_close, form }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<DecideForm>) -> Response {
    let input = DecisionInput { approve: f.decision == "approve", note: f.note };
    match takeouts::decide(&state.app, &who, &id, input).await {
        Ok(t) => redirect_with_flash(&state, &format!("/takeouts/{}", t.id), "flash-saved", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn close(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match takeouts::close(&state.app, &who, &id).await {
        Ok(t) => redirect_with_flash(&state, &format!("/takeouts/{}", t.id), "flash-saved", ctx.is_htmx),
        Err(e) => show_page(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e)).await,
    }
}
