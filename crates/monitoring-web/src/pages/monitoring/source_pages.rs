//! Event source pages: the list, the form, one source with its health and token.

use super::*;

#[derive(Template)]
#[template(path = "monitoring_sources.html")]
pub(super) struct SourcesPage {
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
        let mut errors = vec![];
        let expected_secs = isms_kernel::input::whole::<i64>(&mut errors, "expected_minutes", &self.expected_minutes).map(|m| m.saturating_mul(60));
        if let Some(e) = errors.pop() {
            return Err(e);
        }
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

pub(super) async fn sources_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    v: SourceForm,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let rows = isms_webkit::page_try!(ctx, sources::list(&state.app, who).await);
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
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
        Err(e) => sources_page(&state, &ctx, &headers, &who, v, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "monitoring_source.html")]
pub(super) struct SourcePage {
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
pub(super) async fn source_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    token: Option<String>,
    v: Option<SourceForm>,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let s = isms_webkit::page_try!(ctx, sources::get(&state.app, who, id).await);
    let look = isms_webkit::page_try!(&ctx, Lookup::load(state, who, ctx.lang.code()).await);
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
        Err(e) => source_page(&state, &ctx, &headers, &who, &id, None, Some(v), isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn rotate_token(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let issued = isms_webkit::page_try!(&ctx, sources::rotate_token(&state.app, &who, &id).await);
    source_page(&state, &ctx, &headers, &who, &id, Some(issued.token), None, vec![]).await
}
