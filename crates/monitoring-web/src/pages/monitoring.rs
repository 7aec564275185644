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
use isms_webkit::shell::{FormState, Shell, clear_flash, form_errors, redirect_with_flash, render, render_form};
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
    let (page, tally) = match (alerts::list(&state.app, &who, &q).await, alerts::open_by_severity(&state.app, &who).await) {
        (Ok(p), Ok(t)) => (p, t),
        (Err(e), _) | (_, Err(e)) => return isms_webkit::error::page_error(&ctx, e),
    };
    let look = Lookup::load(&state, &who, ctx.lang.code()).await;
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
        let look = Lookup::load(&state, &who, ctx.lang.code()).await;
        let shell = Shell::new(&ctx, &headers, "monitoring-title");
        render(&QueueRows { shell, rows: page.items, look, query: query_of(&ctx) })
    })
}

// ---------------------------------------------------------------- one alert

#[derive(Template)]
#[template(path = "monitoring_alert.html")]
struct AlertPage {
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
    let d = match alerts::get(&state.app, who, id).await {
        Ok(d) => d,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let people = if d.can_manage { alerts::assignable(&state.app, d.alert.company_id.as_deref()).await.unwrap_or_default() } else { vec![] };
    let look = Lookup::load(state, who, ctx.lang.code()).await;
    let shell = Shell::new(ctx, headers, "alert-title").crumb("/monitoring", "monitoring-title").titled(d.alert.title.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let resolutions = Resolution::ALL.iter().map(|r| r.code()).collect();
    let kinds = isms_core::incidents::IncidentType::ALL.iter().map(|k| k.code()).collect();
    let suppressions = alerts::suppressions_of(&state.app, who, id).await.unwrap_or_default();
    let suppress_until = isms_core::calendar::today().checked_add(jiff::Span::new().days(7)).map(|d| d.to_string()).unwrap_or_default();
    let sightings =
        if d.alert.kind == "indicator" { isms_monitoring::intel::sightings(&state.app, who, None, Some(id), 5).await.unwrap_or_default() } else { vec![] };
    let pages = isms_monitoring::oncall::pages_of(&state.app, who, id).await.unwrap_or_default();
    render_form(&AlertPage { shell, d, look, form, people, resolutions, kinds, suppressions, suppress_until, sightings, pages }, invalid)
}

pub async fn alert(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = alert_page(&state, &ctx, &headers, &who, &id, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn after_alert(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<()>, flash: &str) -> Response {
    match r {
        Ok(()) => redirect_with_flash(state, &format!("/monitoring/alerts/{id}"), flash, ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => alert_page(state, ctx, headers, who, id, errs).await,
            Err(e) => isms_webkit::error::page_error(ctx, e),
        },
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
    match alerts::escalate(&state.app, &who, &id, input).await {
        Ok((_, incident)) => redirect_with_flash(&state, &format!("/incidents/{}", incident.id), "flash-escalated", ctx.is_htmx),
        Err(e) => after_alert(&state, &ctx, &headers, &who, &id, Err(e), "flash-saved").await,
    }
}

// ---------------------------------------------------------------- event sources

#[derive(Template)]
#[template(path = "monitoring_sources.html")]
struct SourcesPage {
    shell: Shell,
    rows: Vec<Source>,
    look: Lookup,
    form: FormState,
    v: SourceForm,
    kinds: Vec<&'static str>,
    can_manage: bool,
}

/// The source form as posted (numbers arrive as text).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    company_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    field_map: String,
    #[serde(default)]
    expected_minutes: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    keep_raw: Option<String>,
}

impl SourceForm {
    fn input(&self) -> Result<SourceInput, isms_core::FieldError> {
        let m = self.expected_minutes.trim();
        let expected_secs = if m.is_empty() {
            None
        } else {
            Some(
                m.parse::<i64>()
                    .map_err(|_| isms_core::FieldError::coded("expected_secs", "number", format!("`{m}` is not a whole number")).arg("value", m))?
                    * 60,
            )
        };
        Ok(SourceInput {
            name: self.name.clone(),
            company_id: Some(self.company_id.clone()),
            kind: self.kind.clone(),
            field_map: Some(self.field_map.clone()),
            expected_secs,
            enabled: self.enabled.is_some(),
            keep_raw: self.keep_raw.is_some(),
        })
    }

    fn from_source(s: &Source) -> Self {
        SourceForm {
            name: s.name.clone(),
            company_id: s.company_id.clone().unwrap_or_default(),
            kind: s.kind.code().into(),
            field_map: s.field_map.clone(),
            expected_minutes: s.expected_secs.map(|x| (x / 60).to_string()).unwrap_or_default(),
            enabled: s.enabled.then(|| "on".into()),
            keep_raw: s.keep_raw.then(|| "on".into()),
        }
    }
}

async fn sources_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: SourceForm, errors: Vec<isms_core::FieldError>) -> Response {
    let rows = match sources::list(&state.app, who).await {
        Ok(r) => r,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let look = Lookup::load(state, who, ctx.lang.code()).await;
    let shell = Shell::new(ctx, headers, "sources-title").crumb("/monitoring", "monitoring-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let kinds = SourceKind::ALL.iter().map(|k| k.code()).collect();
    let can_manage = who.access.can(Permission::MonitoringManage);
    render_form(&SourcesPage { shell, rows, look, form, v, kinds, can_manage }, invalid)
}

pub async fn sources(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = SourceForm { kind: "windows".into(), enabled: Some("on".into()), ..Default::default() };
    let r = sources_page(&state, &ctx, &headers, &who, v, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create_source(PageCx { state, ctx, headers, who }: PageCx, Form(v): Form<SourceForm>) -> Response {
    let input = match v.input() {
        Ok(i) => i,
        Err(e) => return sources_page(&state, &ctx, &headers, &who, v, vec![e]).await,
    };
    match sources::create(&state.app, &who, input).await {
        Ok(issued) => source_page(&state, &ctx, &headers, &who, &issued.source.id, Some(issued.token), None, vec![]).await,
        Err(e) => match form_errors(e) {
            Ok(errs) => sources_page(&state, &ctx, &headers, &who, v, errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

#[derive(Template)]
#[template(path = "monitoring_source.html")]
struct SourcePage {
    shell: Shell,
    s: Source,
    look: Lookup,
    form: FormState,
    v: SourceForm,
    kinds: Vec<&'static str>,
    /// Shown once, right after the source was created or its token replaced.
    token: Option<String>,
    can_manage: bool,
    url: String,
}

#[allow(clippy::too_many_arguments)]
async fn source_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    token: Option<String>,
    v: Option<SourceForm>,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let s = match sources::get(&state.app, who, id).await {
        Ok(s) => s,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let look = Lookup::load(state, who, ctx.lang.code()).await;
    let shell =
        Shell::new(ctx, headers, "source-title").crumb("/monitoring", "monitoring-title").crumb("/monitoring/sources", "sources-title").titled(s.name.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let kinds = SourceKind::ALL.iter().map(|k| k.code()).collect();
    let can_manage = who.access.can_for(Permission::MonitoringManage, s.company_id.as_deref().and_then(|c| c.parse().ok()));
    let v = v.unwrap_or_else(|| SourceForm::from_source(&s));
    let url = format!("{}/api/v1/events", state.config.public_url.trim_end_matches('/'));
    render_form(&SourcePage { shell, s, look, form, v, kinds, token, can_manage, url }, invalid)
}

pub async fn source(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = source_page(&state, &ctx, &headers, &who, &id, None, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn update_source(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(v): Form<SourceForm>,
) -> Response {
    let r = match v.input() {
        Ok(input) => sources::update(&state.app, &who, &id, input).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => redirect_with_flash(&state, &format!("/monitoring/sources/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => source_page(&state, &ctx, &headers, &who, &id, None, Some(v), errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

pub async fn rotate_token(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match sources::rotate_token(&state.app, &who, &id).await {
        Ok(issued) => source_page(&state, &ctx, &headers, &who, &id, Some(issued.token), None, vec![]).await,
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

// ---------------------------------------------------------------- detection rules

#[derive(Template)]
#[template(path = "monitoring_rules.html")]
struct RulesPage {
    shell: Shell,
    rows: Vec<RuleView>,
    total: u64,
    q: RuleQuery,
    levels: Vec<&'static str>,
    can_manage: bool,
    report: Option<ImportReport>,
    form: FormState,
    prev: Option<String>,
    next: Option<String>,
}

async fn rules_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    mut q: RuleQuery,
    report: Option<ImportReport>,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    q.limit = Some(PAGE);
    let page = match rules::list(&state.app, who, &q).await {
        Ok(p) => p,
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let shell = Shell::new(ctx, headers, "rules-title").crumb("/monitoring", "monitoring-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let query = query_of(ctx);
    let (prev, next) = pager_links("/monitoring/rules", &query, q.offset.unwrap_or(0), page.total);
    let levels = Severity::ALL.iter().map(|s| s.code()).collect();
    let can_manage = who.access.can_for(Permission::RulesManage, None);
    render_form(&RulesPage { shell, rows: page.items, total: page.total, q, levels, can_manage, report, form, prev, next }, invalid)
}

pub async fn rules_list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<RuleQuery>) -> Response {
    let r = rules_page(&state, &ctx, &headers, &who, q, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

/// Imports uploaded rule files (several `.yml` files, or a ZIP archive of them).
pub async fn import_rules(PageCx { state, ctx, headers, who }: PageCx, mut mp: Multipart) -> Response {
    let mut files = vec![];
    let mut error = None;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() != Some("files") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(_) => {
                error = Some(
                    isms_core::FieldError::coded("files", "file-too-large", "the file is too large")
                        .arg("max", (state.config.max_body_bytes / (1 << 20)).to_string()),
                );
                break;
            }
        };
        if name.is_empty() && bytes.is_empty() {
            continue;
        }
        if name.to_lowercase().ends_with(".zip") {
            match rules::files_from_zip(&bytes) {
                Ok(f) => files.extend(f),
                Err(isms_kernel::AppError::Invalid(mut v)) => {
                    let mut e = v.remove(0);
                    e.field = "files".into();
                    error = Some(e);
                    break;
                }
                Err(e) => return isms_webkit::error::page_error(&ctx, e),
            }
        } else {
            files.push(ImportFile { name, text: String::from_utf8_lossy(&bytes).into_owned() });
        }
    }
    if error.is_none() && files.is_empty() {
        error = Some(isms_core::FieldError::coded("files", "required", "is required"));
    }
    if let Some(e) = error {
        return rules_page(&state, &ctx, &headers, &who, RuleQuery::default(), None, vec![e]).await;
    }
    match rules::import(&state.app, &who, files).await {
        Ok(report) => rules_page(&state, &ctx, &headers, &who, RuleQuery::default(), Some(report), vec![]).await,
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

#[derive(Template)]
#[template(path = "monitoring_rule.html")]
struct RulePage {
    shell: Shell,
    /// `None` for a new rule.
    d: Option<RuleDetail>,
    body: String,
    enabled: bool,
    form: FormState,
    can_edit: bool,
    can_tune: bool,
    look: Lookup,
    sources: Vec<Source>,
    o: OverrideInput,
}

const NEW_RULE: &str = "title: \nid: \nstatus: experimental\ndescription: \nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    CommandLine|contains: ''\n  condition: selection\nlevel: medium\n";

#[allow(clippy::too_many_arguments)]
async fn rule_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: Option<&str>,
    body: Option<String>,
    o: OverrideInput,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let d = match id {
        Some(id) => match rules::get(&state.app, who, id).await {
            Ok(d) => Some(d),
            Err(e) => return isms_webkit::error::page_error(ctx, e),
        },
        None => None,
    };
    let look = Lookup::load(state, who, ctx.lang.code()).await;
    let shell = Shell::new(ctx, headers, if d.is_some() { "rule-title" } else { "rule-new-title" })
        .crumb("/monitoring", "monitoring-title")
        .crumb("/monitoring/rules", "rules-title");
    let shell = match &d {
        Some(d) => shell.titled(d.rule.title.clone()),
        None => shell,
    };
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let enabled = d.as_ref().is_none_or(|d| d.rule.enabled);
    let body = body.unwrap_or_else(|| d.as_ref().map(|d| d.body.clone()).unwrap_or_else(|| NEW_RULE.to_owned()));
    let can_edit = who.access.can_for(Permission::RulesManage, None);
    let can_tune = d.is_some() && who.access.can(Permission::MonitoringManage);
    let sources = if can_tune { sources::list(&state.app, who).await.unwrap_or_default() } else { vec![] };
    render_form(&RulePage { shell, d, body, enabled, form, can_edit, can_tune, look, sources, o }, invalid)
}

pub async fn rule(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = rule_page(&state, &ctx, &headers, &who, Some(&id), None, OverrideInput::default(), vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn new_rule(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    rule_page(&state, &ctx, &headers, &who, None, None, OverrideInput::default(), vec![]).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    samples: String,
}

pub async fn create_rule(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<RuleForm>) -> Response {
    match rules::create(&state.app, &who, RuleInput { body: f.body.clone(), enabled: f.enabled.is_some() }).await {
        Ok(r) => redirect_with_flash(&state, &format!("/monitoring/rules/{}", r.id), "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => rule_page(&state, &ctx, &headers, &who, None, Some(f.body), OverrideInput::default(), errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

pub async fn update_rule(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(f): Form<RuleForm>,
) -> Response {
    match rules::update(&state.app, &who, &id, RuleInput { body: f.body.clone(), enabled: f.enabled.is_some() }).await {
        Ok(_) => redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => rule_page(&state, &ctx, &headers, &who, Some(&id), Some(f.body), OverrideInput::default(), errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

pub async fn set_enabled(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>, Form(f): Form<EnabledForm>) -> Response {
    match rules::set_enabled(&state.app, &who, &id, f.enabled == "yes").await {
        Ok(_) => redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

pub async fn add_override(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(o): Form<OverrideInput>,
) -> Response {
    match rules::add_override(&state.app, &who, &id, o.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => match form_errors(e) {
            Ok(errs) => rule_page(&state, &ctx, &headers, &who, Some(&id), None, o, errs).await,
            Err(e) => isms_webkit::error::page_error(&ctx, e),
        },
    }
}

pub async fn remove_override(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, o)): Path<(String, String)>) -> Response {
    match rules::remove_override(&state.app, &who, &id, &o).await {
        Ok(()) => redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}

#[derive(Template)]
#[template(path = "monitoring_rule_check.html")]
struct CheckFragment {
    shell: Shell,
    c: Checked,
    test: Option<TestOutcome>,
}

/// The editor's live check: what the text is, its problems, and the samples' results.
pub async fn check_rule(ctx: Ctx, headers: HeaderMap, Form(f): Form<RuleForm>) -> Response {
    let c = rules::check_text(&f.body);
    let test = (!f.samples.trim().is_empty()).then(|| rules::test(&f.body, &f.samples));
    let shell = Shell::new(&ctx, &headers, "rules-title");
    render(&CheckFragment { shell, c, test })
}

// ---------------------------------------------------------------- the dashboard

#[derive(Template)]
#[template(path = "monitoring_overview.html")]
struct OverviewPage {
    shell: Shell,
    o: isms_monitoring::alerts::Overview,
    look: Lookup,
}

impl OverviewPage {
    fn rate(&self, r: &f64) -> String {
        if *r >= 100.0 { format!("{r:.0}") } else { format!("{r:.2}") }
    }

    fn duration(&self, secs: &Option<i64>) -> String {
        match secs {
            None => "—".into(),
            Some(s) if *s < 120 => self.shell.tr("n-seconds", &[("n", s.to_string())]),
            Some(s) if *s < 7200 => self.shell.tr("n-minutes", &[("n", (s / 60).to_string())]),
            Some(s) => self.shell.tr("n-hours", &[("n", format!("{:.1}", *s as f64 / 3600.0))]),
        }
    }
}

pub async fn overview(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let o = alerts::overview(&state.app, &who).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await;
        let shell = Shell::new(&ctx, &headers, "monitoring-overview-title").crumb("/monitoring", "monitoring-title");
        render(&OverviewPage { shell, o, look })
    })
}

// ---------------------------------------------------------------- event search

#[derive(Template)]
#[template(path = "monitoring_events.html")]
struct EventsPage {
    shell: Shell,
    rows: Vec<EventRow>,
    total: u64,
    q: alerts::EventQuery,
    sources: Vec<Source>,
    form: FormState,
    prev: Option<String>,
    next: Option<String>,
    /// All recent raw events, not only those that raised alerts.
    raw: bool,
}

/// One found event: of an alert, or a raw one.
struct EventRow {
    at_ms: i64,
    host: String,
    user_name: String,
    raw: String,
    source_id: Option<String>,
    /// The alert it raised: id, title, severity.
    alert: Option<(String, String, &'static str)>,
}

impl EventsPage {
    fn pretty(&self, raw: &str) -> String {
        serde_json::from_str::<serde_json::Value>(raw).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| raw.to_owned())
    }

    fn source_name(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|id| self.sources.iter().find(|s| s.id == *id)).map(|s| s.name.clone()).unwrap_or_default()
    }

    fn action(&self) -> &'static str {
        if self.raw { "/monitoring/raw-events" } else { "/monitoring/events" }
    }
}

/// The events that raised alerts, searched by time, source, host, user and text.
pub async fn events(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<alerts::EventQuery>) -> Response {
    events_page(state, ctx, headers, who, q, false).await
}

/// All recent raw events of the sources that keep them, searched the same way.
pub async fn raw_events(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<alerts::EventQuery>) -> Response {
    events_page(state, ctx, headers, who, q, true).await
}

async fn events_page(state: WebState, ctx: Ctx, headers: HeaderMap, who: Principal, mut q: alerts::EventQuery, raw: bool) -> Response {
    q.limit = Some(PAGE);
    let shell = Shell::new(&ctx, &headers, if raw { "raw-events-title" } else { "events-title" }).crumb("/monitoring", "monitoring-title");
    let found: isms_kernel::Result<isms_kernel::Page<EventRow>> = if raw {
        isms_monitoring::raw::search(&state.app, &who, &q).await.map(|p| isms_kernel::Page {
            total: p.total,
            items: p
                .items
                .into_iter()
                .map(|e| EventRow { at_ms: e.at_ms, host: e.host, user_name: e.user_name, raw: e.raw, source_id: Some(e.source_id), alert: None })
                .collect(),
        })
    } else {
        alerts::search_events(&state.app, &who, &q).await.map(|p| isms_kernel::Page {
            total: p.total,
            items: p
                .items
                .into_iter()
                .map(|e| EventRow {
                    at_ms: e.at_ms,
                    host: e.host,
                    user_name: e.user_name,
                    raw: e.raw,
                    source_id: e.source_id,
                    alert: Some((e.alert_id, e.alert_title, e.severity.code())),
                })
                .collect(),
        })
    };
    let (page, errors) = match found {
        Ok(p) => (p, vec![]),
        Err(e) => match form_errors(e) {
            Ok(errs) => (isms_kernel::Page { items: vec![], total: 0 }, errs),
            Err(e) => return isms_webkit::error::page_error(&ctx, e),
        },
    };
    let sources = sources::list(&state.app, &who).await.unwrap_or_default();
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let (prev, next) = pager_links(if raw { "/monitoring/raw-events" } else { "/monitoring/events" }, &query_of(&ctx), q.offset.unwrap_or(0), page.total);
    render_form(&EventsPage { shell, rows: page.items, total: page.total, q, sources, form, prev, next, raw }, invalid)
}
