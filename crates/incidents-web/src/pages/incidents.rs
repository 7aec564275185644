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
use isms_webkit::shell::{FormState, Shell, clear_flash, form_errors, redirect_with_flash, render, render_form};
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
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await;
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
    let look = Lookup::load(state, who, ctx.lang.code(), false).await;
    let shell = Shell::new(ctx, headers, "incident-report-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors);
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
    };
    match cases::report(&state.app, &who, input.clone()).await {
        Ok(i) => redirect_with_flash(&state, &format!("/incidents/{}", i.id), "flash-reported", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => report_page(&state, &ctx, &headers, &who, input, errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
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
}

impl ShowPage {
    fn markdown(&self, body: &str) -> String {
        isms_core::policies::markdown::to_html(body)
    }
    fn impact_is(&self, i: &Impact) -> bool {
        self.d.incident.impact == Some(*i)
    }
    fn member(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
    fn exposure_is(&self, e: &str) -> bool {
        self.d.incident.exposure.map(|x| x.code()) == Some(e)
    }
    fn name(&self, id: &Option<String>) -> String {
        id.as_ref().map(|i| self.names.get(i).cloned().unwrap_or_else(|| i.clone())).unwrap_or_default()
    }
    fn time_left(&self, due: &i64) -> String {
        let mins = (*due - isms_store::now_ms()) / 60_000;
        if mins < 0 {
            self.shell.tr("clock-overdue-by", &[("h", ((-mins) / 60).to_string())])
        } else {
            self.shell.tr("clock-left", &[("d", (mins / 1440).to_string()), ("h", ((mins % 1440) / 60).to_string())])
        }
    }
}

async fn show_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, errors: Vec<isms_core::FieldError>) -> Response {
    let d = match cases::get(&state.app, who, id).await {
        Ok(d) => d,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let mut ids: Vec<String> = d.timeline.iter().filter_map(|t| t.actor.clone()).collect();
    ids.extend(d.members.iter().cloned());
    ids.extend(d.clocks.iter().filter_map(|c| c.done_by.clone()));
    ids.extend(d.incident.reported_by.iter().cloned());
    let names = isms_org::accounts::display_names(&state.app, &ids).await.unwrap_or_default();
    let look = Lookup::load(state, who, ctx.lang.code(), true).await;
    let assets = if d.can_run {
        let q = isms_store::assets::AssetQuery { limit: 1000, ..Default::default() };
        isms_assets::register::list(&state.app, who, &q).await.map(|p| p.items).unwrap_or_default()
    } else {
        vec![]
    };
    let playbooks = if d.can_run { isms_incidents::playbooks::suggestions(&state.app, who, id).await.unwrap_or_default() } else { vec![] };
    let next = match d.incident.status {
        Status::Reported => vec!["triage"],
        Status::Triage => vec!["containment", "closed"],
        Status::Containment => vec!["eradication"],
        Status::Eradication => vec!["recovery"],
        Status::Recovery => vec!["review"],
        Status::Review => vec!["closed"],
        Status::Closed => vec![],
    };
    let shell =
        Shell::new(ctx, headers, "incident-title").crumb("/incidents", "incidents-title").titled(format!("{} {}", d.incident.reference, d.incident.title));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&ShowPage { shell, d, look, form, names, kinds: kinds(), next, matrix: matrix(), assets, playbooks }, invalid)
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = show_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/incidents/{id}"), flash, ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => show_page(state, ctx, headers, who, id, errs).await,
            Err(e) => isms_webkit::error::page_error(ctx, e),
        },
    }
}

/// The facts form repeats `companies`, `asset_ids` and `support_ids`, so it is read by hand.
fn parse_facts(body: &[u8]) -> Result<FactsInput, isms_core::FieldError> {
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
    v.people_affected = match people.trim().replace([',', '_'], "").as_str() {
        "" => None,
        s => Some(
            s.parse::<i64>().map_err(|_| isms_core::FieldError::coded("people_affected", "number", format!("`{s}` is not a whole number")).arg("value", s))?,
        ),
    };
    v.techniques = vec![techniques];
    Ok(v)
}

pub async fn facts(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let r = match parse_facts(&body) {
        Ok(input) => cases::update_facts(&state.app, &who, &id, input).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
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
}

pub async fn clock_done(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, clock)): Path<(String, String)>,
    Form(f): Form<DoneForm>,
) -> Response {
    let r = clock_uc::complete(&state.app, &who, &id, &clock, DoneInput { note: f.note }).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
}

pub async fn add_action(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let input = isms_incidents::followup::ActionInput { title: f.title, owner_id: Some(f.owner_id), due_on: f.due_on };
    let r = isms_incidents::followup::add_action(&state.app, &who, &id, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn step_action(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<StepForm>,
) -> Response {
    let input = isms_incidents::followup::ActionStep { status: f.status, note: f.note };
    let r = isms_incidents::followup::step_action(&state.app, &who, &id, &action, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct ObservablesForm {
    #[serde(default)]
    values: String,
    #[serde(default)]
    note: String,
}

pub async fn add_observables(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<ObservablesForm>,
) -> Response {
    let input = isms_incidents::followup::ObservableInput { values: f.values, kind: None, note: f.note };
    let r = isms_incidents::followup::add_observables(&state.app, &who, &id, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

pub async fn add_evidence(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    mut mp: axum::extract::Multipart,
) -> Response {
    let (mut file, mut description) = (None, String::new());
    while let Ok(Some(field)) = mp.next_field().await {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                match field.bytes().await {
                    Ok(b) => file = Some((name, b.to_vec())),
                    Err(_) => {
                        return after(
                            &state,
                            &ctx,
                            &headers,
                            &who,
                            &id,
                            Err(isms_kernel::AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", "25")),
                            "",
                        )
                        .await;
                    }
                }
            }
            Some("description") => description = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let r = match file {
        Some((name, bytes)) => isms_incidents::followup::add_evidence(&state.app, &who, &id, &name, bytes, &description).await.map(|_| ()),
        None => Err(isms_kernel::AppError::coded("file", "required", "is required")),
    };
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct HandOverForm {
    #[serde(default)]
    party: String,
    #[serde(default)]
    note: String,
}

pub async fn hand_over(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, ev)): Path<(String, String)>,
    Form(f): Form<HandOverForm>,
) -> Response {
    let r = isms_incidents::followup::hand_over(&state.app, &who, &id, &ev, isms_incidents::followup::HandOver { party: f.party, note: f.note }).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

/// Evidence is always a download, never shown in the page's origin; the access is logged.
pub async fn evidence_file(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, ev)): Path<(String, String)>) -> Response {
    use axum::response::IntoResponse;
    match isms_incidents::followup::evidence_file(&state.app, &who, &id, &ev).await {
        Ok(f) => {
            let ascii: String = f.file_name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
            (
                [
                    (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", isms_webkit::context::url_encode(&f.file_name)),
                    ),
                    (axum::http::header::HeaderName::from_static("x-checksum-sha256"), f.sha256.clone()),
                ],
                f.data,
            )
                .into_response()
        }
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

#[derive(Deserialize, Default)]
pub struct StartForm {
    #[serde(default)]
    playbook_id: String,
}

pub async fn start_playbook(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<StartForm>,
) -> Response {
    let r = isms_incidents::playbooks::start(&state.app, &who, &id, &f.playbook_id).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-playbook-started").await
}

pub async fn task_done(PageCx { state, ctx, headers, who }: PageCx, Path((id, task)): Path<(String, String)>) -> Response {
    let r = isms_incidents::playbooks::complete_task(&state.app, &who, &id, &task).await;
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Template)]
#[template(path = "playbooks.html")]
struct PlaybooksPage {
    shell: Shell,
    rows: Vec<isms_incidents::playbooks::Playbook>,
    can_edit: bool,
    kinds: Vec<&'static str>,
    form: FormState,
    v: isms_incidents::playbooks::PlaybookInput,
}

async fn playbooks_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: isms_incidents::playbooks::PlaybookInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let rows = match isms_incidents::playbooks::list(&state.app, who).await {
        Ok(r) => r,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let shell = Shell::new(ctx, headers, "playbooks-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let can_edit = who.access.can_for(Permission::IncidentsManage, None);
    render_form(&PlaybooksPage { shell, rows, can_edit, kinds: kinds(), form, v }, invalid)
}

pub async fn playbooks(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = isms_incidents::playbooks::PlaybookInput { min_severity: 1, ..Default::default() };
    let r = playbooks_page(&state, &ctx, &headers, &who, v, vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default)]
pub struct PlaybookForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    min_severity: String,
    #[serde(default)]
    tasks: String,
}

pub async fn save_playbook(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<PlaybookForm>) -> Response {
    let input = isms_incidents::playbooks::PlaybookInput {
        code: f.code,
        name: f.name,
        kind: Some(f.kind),
        min_severity: f.min_severity.trim().parse().unwrap_or(0),
        tasks: f.tasks,
    };
    match isms_incidents::playbooks::save(&state.app, &who, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, "/incidents/playbooks", "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => playbooks_page(&state, &ctx, &headers, &who, input, errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

#[derive(Deserialize, Default)]
pub struct DraftForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    contact: String,
}

pub async fn draft_release(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<DraftForm>,
) -> Response {
    let input = isms_incidents::releases::DraftInput { kind: f.kind, language: f.language, contact: f.contact };
    let r = isms_incidents::releases::generate(&state.app, &who, &id, input).await.map(|_| ());
    after(&state, &ctx, &headers, &who, &id, r, "flash-saved").await
}

#[derive(Deserialize, Default)]
pub struct ReleaseForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    step: String,
}

pub async fn release_step(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, rel)): Path<(String, String)>,
    Form(f): Form<ReleaseForm>,
) -> Response {
    use isms_incidents::releases as r;
    let res = match f.step.as_str() {
        "approve" => r::approve(&state.app, &who, &id, &rel).await.map(|_| ()),
        "release" => r::mark_released(&state.app, &who, &id, &rel).await.map(|_| ()),
        _ => r::edit(&state.app, &who, &id, &rel, r::EditInput { body: f.body }).await.map(|_| ()),
    };
    after(&state, &ctx, &headers, &who, &id, res, "flash-saved").await
}

#[derive(Template)]
#[template(path = "incident_kpis.html")]
struct KpiPage {
    shell: Shell,
    k: isms_incidents::kpis::Kpis,
    look: Lookup,
}

impl KpiPage {
    fn minutes(&self, m: &Option<i64>) -> String {
        match m {
            None => "—".into(),
            Some(m) if *m < 120 => self.shell.tr("minutes-n", &[("n", m.to_string())]),
            Some(m) if *m < 2 * 1440 => self.shell.tr("hours-n", &[("n", (m / 60).to_string())]),
            Some(m) => self.shell.tr("days-n", &[("n", (m / 1440).to_string())]),
        }
    }
    fn severity(&self, key: &str) -> String {
        key.parse::<i16>().map(|n| self.shell.level("incident-severity", &n)).unwrap_or_else(|_| self.shell.t("unknown"))
    }
}

pub async fn kpis(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let k = isms_incidents::kpis::compute(&state.app, &who).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await;
        let shell = Shell::new(&ctx, &headers, "kpis-title").crumb("/incidents", "incidents-title");
        render(&KpiPage { shell, k, look })
    })
}

#[derive(Template)]
#[template(path = "drills.html")]
struct DrillsPage {
    shell: Shell,
    s: isms_incidents::drills::Schedule,
    look: Lookup,
    can_plan: bool,
    form: FormState,
}

impl DrillsPage {
    fn half_key(&self, g: &isms_incidents::drills::Half) -> &'static str {
        if g.half == 1 { "fiscal-half-1" } else { "fiscal-half-2" }
    }
}

async fn drills_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, errors: Vec<isms_core::FieldError>) -> Response {
    let s = match isms_incidents::drills::schedule(&state.app, who).await {
        Ok(s) => s,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let look = Lookup::load(state, who, ctx.lang.code(), false).await;
    let shell = Shell::new(ctx, headers, "drills-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&DrillsPage { shell, s, look, can_plan: who.access.can(Permission::IncidentsManage), form }, invalid)
}

pub async fn drills(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let r = drills_page(&state, &ctx, &headers, &who, vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default)]
pub struct DrillForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    planned_on: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    participants: String,
    #[serde(default)]
    findings: String,
}

async fn drill_after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, r: isms_kernel::Result<String>) -> Response {
    match r {
        Ok(to) => redirect_with_flash(state, &to, "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => drills_page(state, ctx, headers, who, errs).await,
            Err(e) => isms_webkit::error::page_error(ctx, e),
        },
    }
}

pub async fn plan_drill(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<DrillForm>) -> Response {
    let r = isms_incidents::drills::plan(
        &state.app,
        &who,
        isms_incidents::drills::PlanInput { title: f.title, planned_on: f.planned_on, company_id: Some(f.company_id) },
    )
    .await
    .map(|_| "/incidents/drills".to_owned());
    drill_after(&state, &ctx, &headers, &who, r).await
}

pub async fn run_drill(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = isms_incidents::drills::run(&state.app, &who, &id).await.map(|d| format!("/incidents/{}", d.incident_id.unwrap_or_default()));
    drill_after(&state, &ctx, &headers, &who, r).await
}

pub async fn drill_outcome(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<DrillForm>,
) -> Response {
    let r = isms_incidents::drills::record_outcome(
        &state.app,
        &who,
        &id,
        isms_incidents::drills::OutcomeInput { participants: f.participants, findings: f.findings },
    )
    .await
    .map(|_| "/incidents/drills".to_owned());
    drill_after(&state, &ctx, &headers, &who, r).await
}
