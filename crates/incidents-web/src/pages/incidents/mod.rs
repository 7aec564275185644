//! Incident response pages: the report form anyone can use, the case register, and the
//! case page where the CSIRT records facts, moves the case on, keeps the clocks and the
//! timeline, and adds people who need to know.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_assets_web::pages::assets::Lookup;
use isms_core::Permission;
use isms_core::incidents::{Exposure, Impact, IncidentType, Status, matrix};
use isms_incidents::cases::{self, FactsInput, IncidentQuery, NoteInput, ReportInput, TransitionInput};
use isms_incidents::clocks::{self as clock_uc, DoneInput};
use isms_incidents::{Incident, IncidentDetail};
use isms_kernel::Principal;
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::list::{ListView, PAGE_SIZE, PageQ, offset_of};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;
use std::collections::HashMap;

pub fn kinds() -> Vec<&'static str> {
    IncidentType::ALL.iter().map(|k| k.code()).collect()
}

#[derive(Template)]
#[template(path = "incidents_list.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Incident>,
    list: ListView,
    q: IncidentQuery,
    look: Lookup,
    statuses: Vec<&'static str>,
    runs: bool,
}

pub async fn list(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Query(mut q): Query<IncidentQuery>,
    Query(p): Query<PageQ>,
) -> PageResult {
    Ok({
        q.limit = PAGE_SIZE;
        q.offset = offset_of(p.page, PAGE_SIZE);
        let r = cases::list(&state.app, &who, &q).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "incidents-title");
        let statuses = Status::ALL.iter().map(|s| s.code()).collect();
        let runs = who.access.can(Permission::IncidentsManage);
        let list = ListView::new("/incidents")
            .filter("status", q.status.as_deref().unwrap_or(""))
            .filter("company_id", q.company_id.as_deref().unwrap_or(""))
            .filter("exercises", if q.exercises { "true" } else { "" })
            .sorted(q.sort.as_deref().unwrap_or(""), q.dir.as_deref().unwrap_or(""), "reported")
            .default_descending()
            .paged(p.page, r.total, PAGE_SIZE);
        let page = render(&ListPage { shell, rows: r.items, list, q, look, statuses, runs });
        clear_flash(&state, page, &headers)
    })
}

#[derive(Template)]
#[template(path = "incident_report.html")]
struct ReportPage {
    shell: Shell,
    form: FormState,
    v: ReportInput,
    kinds: Vec<&'static str>,
    runs: bool,
    look: Lookup,
}

async fn report_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: ReportInput, errors: Vec<isms_core::FieldError>) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), false).await);
    let shell = Shell::new(ctx, headers, "incident-report-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors).labelled(
        &shell,
        &[("title", "incident-what"), ("description", "incident-details"), ("discovered_at", "incident-noticed"), ("company_id", "col-company")],
    );
    let invalid = !form.errors.is_empty();
    let runs = who.access.can(Permission::IncidentsManage);
    render_form(&ReportPage { shell, form, v, kinds: kinds(), runs, look }, invalid)
}

pub async fn report_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    report_page(&state, &ctx, &headers, &who, ReportInput::default(), vec![]).await
}

#[derive(Deserialize, Default)]
pub struct ReportForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    discovered_at: String,
    #[serde(default)]
    customer_data: Option<String>,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    exercise: Option<String>,
}

pub async fn report(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<ReportForm>) -> Response {
    let input = ReportInput {
        title: f.title,
        description: f.description,
        kind: Some(f.kind),
        discovered_at: Some(f.discovered_at),
        customer_data: f.customer_data.is_some(),
        company_id: Some(f.company_id),
        exercise: f.exercise.is_some(),
        severity: None,
    };
    match cases::report(&state.app, &who, input.clone()).await {
        Ok(i) => redirect_with_flash(&state, &format!("/incidents/{}", i.id), "flash-reported", ctx.is_htmx),
        Err(e) => report_page(&state, &ctx, &headers, &who, input, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "incident.html")]
struct ShowPage {
    shell: Shell,
    d: IncidentDetail,
    look: Lookup,
    form: FormState,
    names: HashMap<String, String>,
    kinds: Vec<&'static str>,
    next: Vec<&'static str>,
    matrix: Vec<(Impact, Vec<(Exposure, i16)>)>,
    assets: Vec<isms_assets::Asset>,
    playbooks: Vec<isms_incidents::playbooks::Playbook>,
    /// What the facts form shows: the case's facts, or what was sent when it was refused.
    facts: FactsInput,
}

impl ShowPage {
    fn markdown(&self, body: &str) -> String {
        isms_core::policies::markdown::to_html(body)
    }
    /// Clocks still running, for the section menu.
    fn open_clocks(&self) -> usize {
        self.d.clocks.iter().filter(|c| c.done_ms.is_none()).count()
    }
    /// Tasks still open, for the section menu.
    fn open_tasks(&self) -> usize {
        self.d.tasks.iter().filter(|t| t.done_ms.is_none()).count()
    }
    /// Closing is offered but a deadline runs or a task is open: the page lists them.
    fn closing_blocked(&self) -> bool {
        self.next.contains(&"closed") && (self.d.clocks.iter().any(|c| c.done_ms.is_none()) || self.d.tasks.iter().any(|t| t.done_ms.is_none()))
    }
    fn impact_is(&self, i: &Impact) -> bool {
        self.facts.impact.as_deref() == Some(i.code())
    }
    fn member(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
    fn exposure_is(&self, e: &str) -> bool {
        self.facts.exposure.as_deref() == Some(e)
    }
    fn name(&self, id: &Option<String>) -> String {
        id.as_ref().map(|i| self.names.get(i).cloned().unwrap_or_else(|| i.clone())).unwrap_or_default()
    }
    fn time_left(&self, due: &i64) -> String {
        time_left(&self.shell, *due)
    }
}

/// What is left before a deadline (days and hours), or how long it has been passed.
pub(crate) fn time_left(shell: &Shell, due: i64) -> String {
    let mins = (due - isms_store::now_ms()) / 60_000;
    if mins < 0 {
        shell.tr("clock-overdue-by", &[("h", ((-mins) / 60).to_string())])
    } else {
        shell.tr("clock-left", &[("d", (mins / 1440).to_string()), ("h", ((mins % 1440) / 60).to_string())])
    }
}

async fn show_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    case_page(state, ctx, headers, who, id, errors, None).await
}

/// The case page; `sent` is the facts form as it was sent when it was refused, drawn again
/// so that nothing typed is lost.
async fn case_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    errors: Vec<isms_core::FieldError>,
    sent: Option<FactsInput>,
) -> Response {
    let d = isms_webkit::page_try!(ctx, cases::get(&state.app, who, id).await);
    let mut ids: Vec<String> = d.timeline.iter().filter_map(|t| t.actor.clone()).collect();
    ids.extend(d.members.iter().cloned());
    ids.extend(d.clocks.iter().filter_map(|c| c.done_by.clone()));
    ids.extend(d.incident.reported_by.iter().cloned());
    let names = isms_webkit::page_try!(ctx, isms_org::accounts::display_names(&state.app, &ids).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code(), true).await);
    let assets = if d.can_run {
        let q = isms_store::assets::AssetQuery { limit: 1000, ..Default::default() };
        isms_webkit::page_try!(ctx, isms_assets::register::list(&state.app, who, &q).await.map(|p| p.items))
    } else {
        vec![]
    };
    let playbooks = if d.can_run { isms_webkit::page_try!(ctx, isms_incidents::playbooks::suggestions(&state.app, who, id).await) } else { vec![] };
    let next = isms_core::incidents::next_steps(d.incident.status).iter().map(|s| s.code()).collect();
    let shell =
        Shell::new(ctx, headers, "incident-title").crumb("/incidents", "incidents-title").titled(format!("{} {}", d.incident.reference, d.incident.title));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let facts = sent.unwrap_or_else(|| FactsInput::of(&d));
    render_form(&ShowPage { shell, d, look, form, names, kinds: kinds(), next, matrix: matrix(), assets, playbooks, facts }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/incidents/{id}"), flash, ctx.is_htmx),
        Err(e) => show_page(state, ctx, headers, who, id, isms_webkit::refusals!(ctx, e)).await,
    }
}

/// The facts form repeats `companies`, `asset_ids` and `support_ids`, so it is read by hand.
fn parse_facts(body: &[u8]) -> (FactsInput, Vec<isms_core::FieldError>) {
    let mut v = FactsInput::default();
    let mut people = String::new();
    let mut techniques = String::new();
    for (k, val) in form_urlencoded::parse(body) {
        let val = val.into_owned();
        let on = val == "on" || val == "true";
        match k.as_ref() {
            "title" => v.title = val,
            "kind" => v.kind = val,
            "description" => v.description = val,
            "impact" => v.impact = Some(val),
            "exposure" => v.exposure = Some(val),
            "companies" => v.companies.push(val),
            "asset_ids" => v.asset_ids.push(val),
            "support_ids" => v.support_ids.push(val),
            "personal_data" => {
                v.personal_data = match val.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }
            }
            "sensitive" => v.sensitive = on,
            "financial_risk" => v.financial_risk = on,
            "unlawful_purpose" => v.unlawful_purpose = on,
            "strongly_encrypted" => v.strongly_encrypted = on,
            "eu_residents" => v.eu_residents = on,
            "people_affected" => people = val,
            "data_categories" => v.data_categories = val,
            "techniques" => techniques = val,
            "root_cause" => v.root_cause = val,
            "lessons" => v.lessons = val,
            "actions_note" => v.actions_note = val,
            _ => {}
        }
    }
    let mut errors = vec![];
    v.people_affected = isms_kernel::input::whole(&mut errors, "people_affected", &people);
    v.techniques = vec![techniques];
    (v, errors)
}

pub async fn facts(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let (input, errors) = parse_facts(&body);
    let r = if errors.is_empty() {
        cases::update_facts(&state.app, &who, &id, input.clone()).await.map(|_| ())
    } else {
        Err(isms_kernel::AppError::Invalid(errors))
    };
    match r {
        Ok(()) => redirect_with_flash(&state, &format!("/incidents/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => case_page(&state, &ctx, &headers, &who, &id, isms_webkit::refusals!(&ctx, e), Some(input)).await,
    }
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

pub async fn transition(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<MoveForm>,
) -> Response {
    let r = cases::transition_to(&state.app, &who, &id, TransitionInput { to: f.to, reason: f.reason }).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct NoteForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    personal: Option<String>,
}

pub async fn note(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<NoteForm>) -> Response {
    let r = cases::add_note(&state.app, &who, &id, NoteInput { text: f.text, personal: f.personal.is_some() }).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct MemberForm {
    #[serde(default)]
    username: String,
}

pub async fn member(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Form(f): Form<MemberForm>) -> Response {
    let r = cases::add_member(&state.app, &who, &id, &f.username).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct DoneForm {
    #[serde(default)]
    note: String,
    /// A checkbox: the duty does not apply (the note says why).
    #[serde(default)]
    not_applicable: Option<String>,
}

pub async fn clock_done(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, clock)): Path<(String, String)>,
    Form(f): Form<DoneForm>,
) -> Response {
    let r = clock_uc::complete(&state.app, &who, &id, &clock, DoneInput { note: f.note, not_applicable: f.not_applicable.is_some() }).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

mod clocks;
mod followup;
mod programme;

pub use clocks::*;
pub use followup::*;
pub use programme::*;
