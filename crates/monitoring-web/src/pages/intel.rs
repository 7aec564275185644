//! Threat-intelligence pages: the feeds with their health (last good pull, the error of
//! the last failed one, what was refused), a new feed, one feed with its indicators,
//! import by file or pasted text, pull now, and the sightings to share back as STIX.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use isms_core::{FieldError, Permission};
use isms_detect::intel::{Kind, Tlp, feed::Format};
use isms_kernel::Principal;
use isms_monitoring::intel::{self, Feed, FeedInput, ImportReport, Indicator, IndicatorQuery, Sighting};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render_form};
use serde::Deserialize;

/// The feed form as posted (numbers arrive as text).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    collection: String,
    #[serde(default)]
    auth: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    default_tlp: String,
    #[serde(default)]
    default_confidence: String,
    #[serde(default)]
    interval_minutes: String,
    #[serde(default)]
    enabled: Option<String>,
}

fn number(field: &str, text: &str) -> Result<Option<i32>, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i32>().map(Some).map_err(|_| FieldError::coded(field, "number", format!("`{t}` is not a whole number")).arg("value", t))
}

impl FeedForm {
    fn input(&self) -> Result<FeedInput, FieldError> {
        Ok(FeedInput {
            name: self.name.clone(),
            format: self.format.clone(),
            url: Some(self.url.clone()),
            collection: Some(self.collection.clone()),
            auth: Some(self.auth.clone()),
            username: Some(self.username.clone()),
            secret: Some(self.secret.clone()),
            default_tlp: self.default_tlp.clone(),
            default_confidence: number("default_confidence", &self.default_confidence)?,
            interval_minutes: number("interval_minutes", &self.interval_minutes)?,
            enabled: self.enabled.is_some(),
        })
    }

    fn from_feed(f: &Feed) -> Self {
        FeedForm {
            name: f.name.clone(),
            format: f.format.clone(),
            url: f.url.clone().unwrap_or_default(),
            collection: f.collection.clone().unwrap_or_default(),
            auth: f.auth.clone(),
            username: f.username.clone().unwrap_or_default(),
            secret: String::new(),
            default_tlp: f.default_tlp.clone(),
            default_confidence: f.default_confidence.to_string(),
            interval_minutes: f.interval_minutes.map(|m| m.to_string()).unwrap_or_default(),
            enabled: f.enabled.then(|| "on".into()),
        }
    }
}

/// Codes for the form's selects.
pub struct Choices {
    formats: Vec<&'static str>,
    file_formats: Vec<&'static str>,
    tlps: Vec<&'static str>,
    auths: Vec<&'static str>,
    kinds: Vec<&'static str>,
}

impl Choices {
    fn new() -> Self {
        let file_formats: Vec<&'static str> = Format::ALL.iter().map(|f| f.code()).collect();
        let mut formats = vec![intel::TAXII];
        formats.extend(file_formats.iter().copied());
        Choices {
            formats,
            file_formats,
            tlps: Tlp::ALL.iter().map(|t| t.code()).collect(),
            auths: vec!["none", "basic", "bearer"],
            kinds: Kind::ALL.iter().map(|k| k.code()).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "monitoring_feeds.html")]
struct FeedsPage {
    shell: Shell,
    feeds: Vec<Feed>,
    sightings: Vec<Sighting>,
    form: FormState,
    v: FeedForm,
    c: Choices,
    can_manage: bool,
}

impl FeedsPage {
    fn feed_name(&self, id: &str) -> String {
        self.feeds.iter().find(|f| f.id == id).map(|f| f.name.clone()).unwrap_or_default()
    }
}

async fn feeds_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: FeedForm, errors: Vec<FieldError>) -> Response {
    let feeds = isms_webkit::page_try!(ctx, intel::list_feeds(&state.app, who).await);
    let sightings = isms_webkit::page_try!(ctx, intel::sightings(&state.app, who, None, None, 50).await);
    let shell = Shell::new(ctx, headers, "intel-title").crumb("/monitoring", "monitoring-title");
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let can_manage = who.access.can(Permission::RulesManage);
    render_form(&FeedsPage { shell, feeds, sightings, form, v, c: Choices::new(), can_manage }, invalid)
}

pub async fn feeds(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = FeedForm {
        format: intel::TAXII.into(),
        default_tlp: "amber".into(),
        default_confidence: "50".into(),
        interval_minutes: "60".into(),
        auth: "none".into(),
        enabled: Some("on".into()),
        ..Default::default()
    };
    let r = feeds_page(&state, &ctx, &headers, &who, v, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn create_feed(PageCx { state, ctx, headers, who }: PageCx, Form(v): Form<FeedForm>) -> Response {
    let input = match v.input() {
        Ok(i) => i,
        Err(e) => return feeds_page(&state, &ctx, &headers, &who, v, vec![e]).await,
    };
    match intel::create_feed(&state.app, &who, input).await {
        Ok(f) => redirect_with_flash(&state, &format!("/monitoring/intel/{}", f.id), "flash-saved", ctx.is_htmx),
        Err(e) => feeds_page(&state, &ctx, &headers, &who, v, isms_webkit::refusals!(&ctx, e)).await,
    }
}

#[derive(Template)]
#[template(path = "monitoring_feed.html")]
struct FeedPage {
    shell: Shell,
    f: Feed,
    rows: Vec<Indicator>,
    total: u64,
    q: IndicatorQuery,
    form: FormState,
    v: FeedForm,
    c: Choices,
    report: Option<ImportReport>,
    can_manage: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    page: u64,
}

#[allow(clippy::too_many_arguments)]
async fn feed_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    fq: FeedQuery,
    v: Option<FeedForm>,
    report: Option<ImportReport>,
    errors: Vec<FieldError>,
) -> Response {
    let f = isms_webkit::page_try!(ctx, intel::get_feed(&state.app, who, id).await);
    let q = IndicatorQuery { feed_id: Some(f.id.clone()), kind: fq.kind, q: fq.q, page: fq.page };
    let page = isms_webkit::page_try!(ctx, intel::list_indicators(&state.app, who, &q).await);
    let shell =
        Shell::new(ctx, headers, "feed-title").crumb("/monitoring", "monitoring-title").crumb("/monitoring/intel", "intel-title").titled(f.name.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let can_manage = who.access.can(Permission::RulesManage);
    let v = v.unwrap_or_else(|| FeedForm::from_feed(&f));
    render_form(&FeedPage { shell, f, rows: page.items, total: page.total, q, form, v, c: Choices::new(), report, can_manage }, invalid)
}

pub async fn feed(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, Query(q): Query<FeedQuery>) -> Response {
    let r = feed_page(&state, &ctx, &headers, &who, &id, q, None, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn update_feed(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Form(v): Form<FeedForm>,
) -> Response {
    let r = match v.input() {
        Ok(input) => intel::update_feed(&state.app, &who, &id, input).await.map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(()) => redirect_with_flash(&state, &format!("/monitoring/intel/{id}"), "flash-saved", ctx.is_htmx),
        Err(e) => feed_page(&state, &ctx, &headers, &who, &id, FeedQuery::default(), Some(v), None, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn delete_feed(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    isms_webkit::page_try!(&ctx, intel::delete_feed(&state.app, &who, &id).await);
    redirect_with_flash(&state, "/monitoring/intel", "flash-deleted", ctx.is_htmx)
}

/// What an import or pull answered, shown on the feed page (a failure as a field error).
async fn after_import(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, r: isms_kernel::Result<ImportReport>) -> Response {
    match r {
        Ok(report) => feed_page(state, ctx, headers, who, id, FeedQuery::default(), None, Some(report), vec![]).await,
        Err(e) => feed_page(state, ctx, headers, who, id, FeedQuery::default(), None, None, isms_webkit::refusals!(ctx, e)).await,
    }
}

/// Imports an uploaded file, or pasted text, into the feed.
pub async fn import(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, mut mp: Multipart) -> Response {
    let mut bytes = vec![];
    let mut pasted = String::new();
    let mut format = String::new();
    let mut replace = false;
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let data = match field.bytes().await {
            Ok(b) => b,
            Err(_) => {
                let e = FieldError::coded("file", "file-too-large", "the file is too large").arg("max", (state.config.max_body_bytes / (1 << 20)).to_string());
                return feed_page(&state, &ctx, &headers, &who, &id, FeedQuery::default(), None, None, vec![e]).await;
            }
        };
        match name.as_str() {
            "file" => bytes = data.to_vec(),
            "text" => pasted = String::from_utf8_lossy(&data).into_owned(),
            "format" => format = String::from_utf8_lossy(&data).into_owned(),
            "replace" => replace = true,
            _ => {}
        }
    }
    if bytes.is_empty() {
        bytes = pasted.into_bytes();
    }
    let r = intel::import(&state.app, &who, &id, &bytes, Some(format.as_str()), replace).await;
    after_import(&state, &ctx, &headers, &who, &id, r).await
}

/// Pulls a TAXII feed now. A failed pull is shown by the feed's own status (kept on the
/// feed), not a second time as a form error.
pub async fn pull(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match intel::pull_now(&state.app, &who, &id).await {
        Err(isms_kernel::AppError::Invalid(errs)) if errs.iter().all(|e| e.code == "feed-pull") => {
            feed_page(&state, &ctx, &headers, &who, &id, FeedQuery::default(), None, None, vec![]).await
        }
        r => after_import(&state, &ctx, &headers, &who, &id, r).await,
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    max_tlp: String,
    /// Days back; empty: all.
    #[serde(default)]
    days: String,
}

/// Sightings as a STIX 2.1 bundle file.
pub async fn export(PageCx { state, ctx, headers, who }: PageCx, Form(f): Form<ExportForm>) -> Response {
    let Some(tlp) = Tlp::parse(&f.max_tlp) else {
        let e = FieldError::coded("max_tlp", "one-of", format!("`{}` is not one of clear, green, amber", f.max_tlp)).arg("expected", "clear, green, amber");
        return feeds_page(&state, &ctx, &headers, &who, FeedForm::default(), vec![e]).await;
    };
    let since = match number("days", &f.days) {
        Ok(d) => d.map(|d| isms_store::now_ms() - d.clamp(0, 3650) as i64 * 86_400_000),
        Err(e) => return feeds_page(&state, &ctx, &headers, &who, FeedForm::default(), vec![e]).await,
    };
    match intel::export_sightings(&state.app, &who, tlp, since).await {
        Ok(bundle) => (
            [(header::CONTENT_TYPE, "application/stix+json;version=2.1"), (header::CONTENT_DISPOSITION, "attachment; filename=\"sightings.stix.json\"")],
            serde_json::to_string_pretty(&bundle).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => feeds_page(&state, &ctx, &headers, &who, FeedForm::default(), isms_webkit::refusals!(&ctx, e)).await,
    }
}
