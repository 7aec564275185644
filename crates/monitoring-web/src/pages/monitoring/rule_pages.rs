//! Detection rule pages: the list with import, one rule with its overrides, the editor with its live check.

use super::*;

#[derive(Template)]
#[template(path = "monitoring_rules.html")]
pub(super) struct RulesPage {
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

pub(super) async fn rules_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    mut q: RuleQuery,
    report: Option<ImportReport>,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    q.limit = Some(PAGE);
    let page = isms_webkit::page_try!(ctx, rules::list(&state.app, who, &q).await);
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
    let report = isms_webkit::page_try!(&ctx, rules::import(&state.app, &who, files).await);
    rules_page(&state, &ctx, &headers, &who, RuleQuery::default(), Some(report), vec![]).await
}

#[derive(Template)]
#[template(path = "monitoring_rule.html")]
pub(super) struct RulePage {
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

pub(super) const NEW_RULE: &str = "title: \nid: \nstatus: experimental\ndescription: \nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    CommandLine|contains: ''\n  condition: selection\nlevel: medium\n";

#[allow(clippy::too_many_arguments)]
pub(super) async fn rule_page(
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
    let look = isms_webkit::page_try!(&ctx, Lookup::load(state, who, ctx.lang.code()).await);
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
    let sources = if can_tune { isms_webkit::page_try!(ctx, sources::list(&state.app, who).await) } else { vec![] };
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
        Err(e) => rule_page(&state, &ctx, &headers, &who, None, Some(f.body), OverrideInput::default(), isms_webkit::refusals!(&ctx, e)).await,
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
        Err(e) => rule_page(&state, &ctx, &headers, &who, Some(&id), Some(f.body), OverrideInput::default(), isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    enabled: String,
}

pub async fn set_enabled(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>, Form(f): Form<EnabledForm>) -> Response {
    isms_webkit::page_try!(&ctx, rules::set_enabled(&state.app, &who, &id, f.enabled == "yes").await);
    redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx)
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
        Err(e) => rule_page(&state, &ctx, &headers, &who, Some(&id), None, o, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn remove_override(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, o)): Path<(String, String)>) -> Response {
    isms_webkit::page_try!(&ctx, rules::remove_override(&state.app, &who, &id, &o).await);
    redirect_with_flash(&state, &format!("/monitoring/rules/{id}"), "flash-saved", ctx.is_htmx)
}

#[derive(Template)]
#[template(path = "monitoring_rule_check.html")]
pub(super) struct CheckFragment {
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
