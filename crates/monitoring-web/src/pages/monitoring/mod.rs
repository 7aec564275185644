//! Threat monitoring pages: the live alert queue, one alert with its events and the
//! analyst's steps, event sources with their tokens and health, and the detection rules
//! with import, an editor that checks as you type and tests on sample events, and
//! per-company or per-source overrides.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::Permission;
use isms_core::monitoring::{Resolution, Severity, SourceKind};
use isms_kernel::Principal;
use isms_monitoring::alerts::{self, Alert, AlertDetail, AlertQuery, AssignInput, EscalateInput, StepInput};
use isms_monitoring::rules::{self, Checked, ImportFile, ImportReport, OverrideInput, RuleDetail, RuleInput, RuleQuery, RuleView, TestOutcome};
use isms_monitoring::sources::{self, Source, SourceInput};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

const PAGE: u64 = 50;

fn query_of(ctx: &Ctx) -> String {
    ctx.path_and_query.split_once('?').map(|(_, q)| q.to_owned()).unwrap_or_default()
}

// ---------------------------------------------------------------- the alert queue

#[derive(Template)]
#[template(path = "monitoring_alerts.html")]
struct QueuePage {
    shell: Shell,
    rows: Vec<Alert>,
    total: u64,
    q: AlertQuery,
    look: Lookup,
    tally: Vec<(Severity, u64)>,
    states: Vec<&'static str>,
    severities: Vec<&'static str>,
    query: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "monitoring_alert_rows.html")]
struct QueueRows {
    shell: Shell,
    rows: Vec<Alert>,
    look: Lookup,
    query: String,
}

fn pager_links(base: &str, query: &str, offset: u64, total: u64) -> (Option<String>, Option<String>) {
    let rest: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("offset=")).collect();
    let link = |o: u64| {
        let mut parts = rest.clone();
        let off = format!("offset={o}");
        parts.push(&off);
        format!("{base}?{}", parts.join("&"))
    };
    let prev = (offset > 0).then(|| link(offset.saturating_sub(PAGE)));
    let next = (offset + PAGE < total).then(|| link(offset + PAGE));
    (prev, next)
}

pub async fn queue(PageCx { state, ctx, headers, who }: PageCx, Query(mut q): Query<AlertQuery>) -> Response {
    q.limit = Some(PAGE);
    let page = isms_webkit::page_try!(&ctx, alerts::list(&state.app, &who, &q).await);
    let tally = isms_webkit::page_try!(&ctx, alerts::open_by_severity(&state.app, &who).await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(&state, &who, ctx.lang.code()).await);
    let shell = Shell::new(&ctx, &headers, "monitoring-title");
    let query = query_of(&ctx);
    let (prev, next) = pager_links("/monitoring", &query, q.offset.unwrap_or(0), page.total);
    let states = vec!["open", "new", "acknowledged", "closed", "escalated", "all"];
    let severities = Severity::ALL.iter().map(|s| s.code()).collect();
    let r = render(&QueuePage { shell, rows: page.items, total: page.total, q, look, tally, states, severities, query, prev, next });
    clear_flash(&state, r, &headers)
}

/// The queue's rows alone: the page asks for them every few seconds.
pub async fn queue_rows(PageCx { state, ctx, headers, who }: PageCx, Query(mut q): Query<AlertQuery>) -> PageResult {
    Ok({
        q.limit = Some(PAGE);
        let page = alerts::list(&state.app, &who, &q).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "monitoring-title");
        render(&QueueRows { shell, rows: page.items, look, query: query_of(&ctx) })
    })
}

// ---------------------------------------------------------------- one alert

#[derive(Template)]
#[template(path = "monitoring_alert.html")]
struct AlertPage {
    /// Open cases the reader runs, for "add to an existing case".
    open_cases: Vec<isms_incidents::Incident>,
    shell: Shell,
    d: AlertDetail,
    look: Lookup,
    form: FormState,
    people: Vec<(String, String)>,
    resolutions: Vec<&'static str>,
    kinds: Vec<&'static str>,
    suppressions: Vec<alerts::Suppression>,
    /// A default last day for a new suppression: a week from today.
    suppress_until: String,
    /// For an indicator's alert: the indicator seen.
    sightings: Vec<isms_monitoring::intel::Sighting>,
    /// Who was paged for the alert.
    pages: Vec<isms_monitoring::oncall::PageView>,
}

impl AlertPage {
    fn suppressed_now(&self) -> bool {
        self.suppressions.iter().any(|s| s.active)
    }

    fn pretty(&self, raw: &str) -> String {
        serde_json::from_str::<serde_json::Value>(raw).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| raw.to_owned())
    }
}

async fn alert_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let d = isms_webkit::page_try!(ctx, alerts::get(&state.app, who, id).await);
    let people = if d.can_manage { isms_webkit::page_try!(ctx, alerts::assignable(&state.app, d.alert.company_id.as_deref()).await) } else { vec![] };
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let shell = Shell::new(ctx, headers, "alert-title").crumb("/monitoring", "monitoring-title").titled(isms_webkit::shell::alert_title(
        &ctx.i18n,
        ctx.lang,
        &d.alert.kind,
        &d.alert.title,
    ));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let resolutions = Resolution::ALL.iter().map(|r| r.code()).collect();
    let kinds = isms_core::incidents::IncidentType::ALL.iter().map(|k| k.code()).collect();
    let suppressions = isms_webkit::page_try!(ctx, alerts::suppressions_of(&state.app, who, id).await);
    let suppress_until = isms_core::calendar::today().checked_add(jiff::Span::new().days(7)).map(|d| d.to_string()).unwrap_or_default();
    let sightings = if d.alert.kind == "indicator" {
        isms_webkit::page_try!(ctx, isms_monitoring::intel::sightings(&state.app, who, None, Some(id), 5).await)
    } else {
        vec![]
    };
    let pages = isms_webkit::page_try!(ctx, isms_monitoring::oncall::pages_of(&state.app, who, id).await);
    let open_cases = if d.can_escalate && d.alert.state.is_open() {
        let q = isms_incidents::cases::IncidentQuery { status: Some("open".into()), limit: 200, ..Default::default() };
        isms_webkit::page_try!(ctx, isms_incidents::cases::list(&state.app, who, &q).await).items
    } else {
        vec![]
    };
    render_form(&AlertPage { open_cases, shell, d, look, form, people, resolutions, kinds, suppressions, suppress_until, sightings, pages }, invalid)
}

pub async fn alert(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = alert_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn after_alert(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/monitoring/alerts/{id}"), flash, ctx.is_htmx),
        Err(e) => alert_page(state, ctx, headers, who, id, isms_webkit::refusals!(ctx, e)).await,
    }
}

pub async fn step(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(input): Form<StepInput>,
) -> Response {
    let r = alerts::step(&state.app, &who, &id, input).await.map(|_| ());
    after_alert(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn assign(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(input): Form<AssignInput>,
) -> Response {
    let r = alerts::assign(&state.app, &who, &id, input).await.map(|_| ());
    after_alert(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn suppress(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(input): Form<alerts::SuppressInput>,
) -> Response {
    let r = alerts::suppress(&state.app, &who, &id, input).await.map(|_| ());
    after_alert(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn lift(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    match alerts::lift(&state.app, &who, &id).await {
        Ok(s) => redirect_with_flash(
            &state,
            &s.alert_id.map(|a| format!("/monitoring/alerts/{a}")).unwrap_or_else(|| "/monitoring".into()),
            "flash-saved",
            ctx.is_htmx,
        ),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

pub async fn escalate(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(input): Form<EscalateInput>,
) -> Response {
    let added = input.incident_id.as_deref().is_some_and(|c| !c.trim().is_empty());
    match alerts::escalate(&state.app, &who, &id, input, |d| (alert_case_title(&ctx, d), escalation_summary(&ctx, d))).await {
        Ok((_, incident)) => {
            let flash = if added { "flash-alert-added" } else { "flash-escalated" };
            redirect_with_flash(&state, &format!("/incidents/{}", incident.id), flash, ctx.is_htmx)
        }
        Err(e) => after_alert(&state, &ctx, &headers, &who, &id, Err(e), "flash-saved").await,
    }
}

/// The title of a case opened from an alert: the alert's title in the reader's words.
pub fn alert_case_title(ctx: &Ctx, d: &alerts::AlertDetail) -> String {
    isms_webkit::shell::alert_title(&ctx.i18n, ctx.lang, &d.alert.kind, &d.alert.title)
}

/// What a case says about the alert it was opened from (or that was added to it): in the
/// reader's language and time zone, with the alert's title rather than its id.
pub fn escalation_summary(ctx: &Ctx, d: &alerts::AlertDetail) -> String {
    let a = &d.alert;
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| ctx.tz.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    let severity = ctx.i18n.get(ctx.lang, &format!("severity-{}", a.severity.code()));
    let or_dash = |s: &str| if s.trim().is_empty() { "—".to_owned() } else { s.to_owned() };
    ctx.i18n.get_with(
        ctx.lang,
        "escalation-summary",
        &[
            ("title", alert_case_title(ctx, d)),
            ("severity", severity),
            ("count", a.count.to_string()),
            ("host", or_dash(&a.host)),
            ("user", or_dash(&a.user_name)),
            ("first", at(a.first_ms)),
            ("last", at(a.last_ms)),
            ("rule", or_dash(d.rule_title.as_deref().unwrap_or(""))),
            ("source", or_dash(d.source_name.as_deref().unwrap_or(""))),
        ],
    )
}

mod dashboard;
mod rule_pages;
mod source_pages;

pub use dashboard::*;
pub use rule_pages::*;
pub use source_pages::*;
