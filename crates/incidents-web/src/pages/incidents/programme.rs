//! The CSIRT's programme: playbooks, public releases, KPIs and drills.

use super::*;

#[derive(Template)]
#[template(path = "playbooks.html")]
pub(super) struct PlaybooksPage {
    shell: Shell,
    rows: Vec<isms_incidents::playbooks::Playbook>,
    can_edit: bool,
    kinds: Vec<&'static str>,
    form: FormState,
    v: isms_incidents::playbooks::PlaybookInput,
}

pub(super) async fn playbooks_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: isms_incidents::playbooks::PlaybookInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let rows = isms_webkit::page_try!(ctx, isms_incidents::playbooks::list(&state.app, who).await);
    let shell = Shell::new(ctx, headers, "playbooks-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors).labelled(&shell, &[("min_severity", "playbook-min-severity"), ("tasks", "playbook-tasks")]);
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
        Err(e) => playbooks_page(&state, &ctx, &headers, &who, input, isms_webkit::refusals!(&ctx, e)).await,
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
pub(super) struct KpiPage {
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
        let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "kpis-title").crumb("/incidents", "incidents-title");
        render(&KpiPage { shell, k, look })
    })
}

#[derive(Template)]
#[template(path = "drills.html")]
pub(super) struct DrillsPage {
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

pub(super) async fn drills_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, errors: Vec<isms_core::FieldError>) -> Response {
    let s = isms_webkit::page_try!(ctx, isms_incidents::drills::schedule(&state.app, who).await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(state, who, ctx.lang.code(), false).await);
    let shell = Shell::new(ctx, headers, "drills-title").crumb("/incidents", "incidents-title");
    let form = FormState::new(&shell, errors).labelled(&shell, &[("planned_on", "drills-planned-on")]);
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

pub(super) async fn drill_after(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, r: isms_kernel::Result<String>) -> Response {
    match r {
        Ok(to) => redirect_with_flash(state, &to, "flash-saved", ctx.is_htmx),
        Err(e) => drills_page(state, ctx, headers, who, isms_webkit::refusals!(ctx, e)).await,
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
