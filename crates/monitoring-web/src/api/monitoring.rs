//! Threat monitoring as JSON: the event receiver for log shippers, event sources, detection
//! rules with their overrides, alerts and dead letters.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_kernel::AppError;
use isms_monitoring::alerts::{self, Alert, AlertDetail, AlertQuery, AssignInput, EscalateInput, StepInput};
use isms_monitoring::pipeline::{Outcome, SubmitError};
use isms_monitoring::rules::{self, Checked, ImportFile, ImportReport, OverrideInput, OverrideView, RuleDetail, RuleInput, RuleQuery, RuleView, TestOutcome};
use isms_monitoring::sources::{self, DeadLetter, Issued, Source, SourceInput};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::{Ctx, Who};
use isms_webkit::error::{ApiError, ApiJson, problem};
use serde::{Deserialize, Serialize};
use std::io::Read;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

fn too_large(limit: usize) -> Response {
    problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large", &format!("a batch may hold at most {limit} bytes (after decompression); send smaller batches"), vec![])
}

fn retry(status: StatusCode, code: &str, detail: &str, secs: u32) -> Response {
    let mut r = problem(status, code, detail, vec![]);
    r.headers_mut().insert(header::RETRY_AFTER, secs.into());
    r
}

/// Receives events from a log shipper: a JSON object, a JSON array of objects, or one
/// object per line (NDJSON), optionally gzip-compressed (`Content-Encoding: gzip`), with
/// the source's token as `Authorization: Bearer isms_src_…`. Answers once the batch is
/// matched and its alerts are committed; 429 or 503 with `Retry-After` mean "send this
/// batch again later". Events that cannot be read are kept as dead letters and counted.
#[utoipa::path(post, path = "/api/v1/events", tag = "monitoring", request_body(content = String, description = "JSON, JSON array or NDJSON events", content_type = "application/x-ndjson"),
    responses((status = 200, body = Outcome), (status = 202, body = Queued, description = "queued on NATS JetStream for the workers"), (status = 401, body = Problem), (status = 413, body = Problem), (status = 429, body = Problem), (status = 503, body = Problem)),
    security(("source_token" = [])))]
pub async fn ingest(State(s): State<WebState>, headers: HeaderMap, body: Body) -> Response {
    let Some(token) = bearer(&headers) else {
        return problem(StatusCode::UNAUTHORIZED, "unauthenticated", "an event source's token is required (Authorization: Bearer isms_src_…)", vec![]);
    };
    let source = match sources::authenticate(&s.app, token).await {
        Ok(src) => src,
        Err(AppError::Unauthenticated) => return problem(StatusCode::UNAUTHORIZED, "unauthenticated", "the token belongs to no enabled event source", vec![]),
        Err(e) => return ApiError(e).into_response(),
    };
    let limit = s.config.max_event_batch_bytes;
    if headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n > limit) {
        return too_large(limit);
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(limit),
    };
    let gzip = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body = if gzip {
        let mut out = Vec::with_capacity(bytes.len() * 4);
        match flate2::read::GzDecoder::new(&bytes[..]).take(limit as u64 + 1).read_to_end(&mut out) {
            Ok(n) if n > limit => return too_large(limit),
            Ok(_) => out,
            Err(e) => return problem(StatusCode::BAD_REQUEST, "bad_gzip", &format!("the body is not valid gzip: {e}"), vec![]),
        }
    } else {
        bytes.to_vec()
    };
    let Some(ingest) = s.get::<crate::Ingest>() else {
        return retry(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the event receiver is not running", 5);
    };
    if let Some(bus) = ingest.bus.get() {
        return match bus.publish(&source.id, "body", body).await {
            Ok(p) => (StatusCode::ACCEPTED, Json(Queued { queued: true, sequence: p.sequence, parts: p.parts })).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a batch of events could not be queued");
                retry(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the batch could not be queued; send it again", 5)
            }
        };
    }
    match ingest.pipeline.submit(source, body).await {
        Ok(o) => Json(o).into_response(),
        Err(SubmitError::Busy) => retry(StatusCode::TOO_MANY_REQUESTS, "busy", "too many batches in flight; send this batch again after the pause", 1),
        Err(SubmitError::Failed(e)) => {
            tracing::error!(error = %e, "a batch of events could not be written");
            retry(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the batch could not be stored; nothing of it was kept, send it again", 5)
        }
    }
}

/// With NATS JetStream configured: the batch is stored in the stream and the workers
/// evaluate it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub queued: bool,
    /// The place in the stream of its last message.
    pub sequence: u64,
    /// How many messages it took: a batch larger than a message may be is split between
    /// its events.
    pub parts: usize,
}

#[utoipa::path(get, path = "/api/v1/event-sources", tag = "monitoring", responses((status = 200, body = Vec<Source>)))]
pub async fn list_sources(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Source>>, ApiError> {
    Ok(Json(sources::list(&s.app, &who).await?))
}

/// Creates a source; its token is in the answer and never shown again.
#[utoipa::path(post, path = "/api/v1/event-sources", tag = "monitoring", request_body = SourceInput, responses((status = 201, body = Issued), (status = 422, body = Problem)))]
pub async fn create_source(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<SourceInput>) -> Result<(StatusCode, Json<Issued>), ApiError> {
    Ok((StatusCode::CREATED, Json(sources::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/event-sources/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = Source), (status = 404, body = Problem)))]
pub async fn show_source(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Source>, ApiError> {
    Ok(Json(sources::get(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/event-sources/{id}", tag = "monitoring", params(("id" = String, Path)), request_body = SourceInput, responses((status = 200, body = Source), (status = 422, body = Problem)))]
pub async fn update_source(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SourceInput>,
) -> Result<Json<Source>, ApiError> {
    Ok(Json(sources::update(&s.app, &who, &id, input).await?))
}

/// A new token for the source; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/event-sources/{id}/token", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = Issued), (status = 404, body = Problem)))]
pub async fn rotate_token(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Issued>, ApiError> {
    Ok(Json(sources::rotate_token(&s.app, &who, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Events kept aside because they could not be read, newest first.
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "monitoring", params(DeadLetterQuery), responses((status = 200, body = Page<DeadLetter>)))]
pub async fn dead_letters(State(s): State<WebState>, Who(who): Who, Query(q): Query<DeadLetterQuery>) -> Result<Json<Page<DeadLetter>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let p = sources::dead_letters(&s.app, &who, q.source_id.as_deref(), limit).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: 0, limit }))
}

#[utoipa::path(get, path = "/api/v1/detection-rules", tag = "monitoring", params(RuleQuery), responses((status = 200, body = Page<RuleView>)))]
pub async fn list_rules(State(s): State<WebState>, Who(who): Who, Query(q): Query<RuleQuery>) -> Result<Json<Page<RuleView>>, ApiError> {
    let p = rules::list(&s.app, &who, &q).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50).clamp(1, 500) }))
}

/// Writes a rule in Sigma YAML; a problem is refused with its line and column.
#[utoipa::path(post, path = "/api/v1/detection-rules", tag = "monitoring", request_body = RuleInput, responses((status = 201, body = RuleView), (status = 422, body = Problem)))]
pub async fn create_rule(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<RuleInput>) -> Result<(StatusCode, Json<RuleView>), ApiError> {
    Ok((StatusCode::CREATED, Json(rules::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/detection-rules/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = RuleDetail), (status = 404, body = Problem)))]
pub async fn show_rule(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<RuleDetail>, ApiError> {
    Ok(Json(rules::get(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/detection-rules/{id}", tag = "monitoring", params(("id" = String, Path)), request_body = RuleInput, responses((status = 200, body = RuleView), (status = 422, body = Problem)))]
pub async fn update_rule(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<RuleView>, ApiError> {
    Ok(Json(rules::update(&s.app, &who, &id, input).await?))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct FileInput {
    /// The file's path (as in the SigmaHQ repository).
    pub name: String,
    pub text: String,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct ImportInput {
    pub files: Vec<FileInput>,
}

/// Imports rule files; each is kept only when every rule in it can be used.
#[utoipa::path(post, path = "/api/v1/detection-rules/import", tag = "monitoring", request_body = ImportInput, responses((status = 200, body = ImportReport), (status = 403, body = Problem)))]
pub async fn import_rules(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<ImportInput>) -> Result<Json<ImportReport>, ApiError> {
    let files = input.files.into_iter().map(|f| ImportFile { name: f.name, text: f.text }).collect();
    Ok(Json(rules::import(&s.app, &who, files).await?))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct CheckInput {
    pub body: String,
    /// Sample events (JSON, JSON array or NDJSON) to run the rule on.
    #[serde(default)]
    pub samples: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckOutcome {
    pub rule: Checked,
    pub test: Option<TestOutcome>,
}

/// Checks a rule's text and runs it on sample events, keeping nothing.
#[utoipa::path(post, path = "/api/v1/detection-rules/check", tag = "monitoring", request_body = CheckInput, responses((status = 200, body = CheckOutcome)))]
pub async fn check_rule(Who(_who): Who, ApiJson(input): ApiJson<CheckInput>) -> Json<CheckOutcome> {
    let rule = rules::check_text(&input.body);
    let test = input.samples.as_deref().filter(|s| !s.trim().is_empty()).map(|s| rules::test(&input.body, s));
    Json(CheckOutcome { rule, test })
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct EnabledInput {
    pub enabled: bool,
}

#[utoipa::path(post, path = "/api/v1/detection-rules/{id}/enabled", tag = "monitoring", params(("id" = String, Path)), request_body = EnabledInput, responses((status = 200, body = RuleView)))]
pub async fn set_enabled(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EnabledInput>,
) -> Result<Json<RuleView>, ApiError> {
    Ok(Json(rules::set_enabled(&s.app, &who, &id, input.enabled).await?))
}

/// Turns a rule off, or makes an exception to it, for a company or a source.
#[utoipa::path(post, path = "/api/v1/detection-rules/{id}/overrides", tag = "monitoring", params(("id" = String, Path)), request_body = OverrideInput, responses((status = 201, body = OverrideView), (status = 422, body = Problem)))]
pub async fn add_override(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OverrideInput>,
) -> Result<(StatusCode, Json<OverrideView>), ApiError> {
    Ok((StatusCode::CREATED, Json(rules::add_override(&s.app, &who, &id, input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/detection-rules/{id}/overrides/{override}", tag = "monitoring", params(("id" = String, Path), ("override" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_override(State(s): State<WebState>, Who(who): Who, Path((id, o)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    rules::remove_override(&s.app, &who, &id, &o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring", params(AlertQuery), responses((status = 200, body = Page<Alert>)))]
pub async fn list_alerts(State(s): State<WebState>, Who(who): Who, Query(q): Query<AlertQuery>) -> Result<Json<Page<Alert>>, ApiError> {
    let p = alerts::list(&s.app, &who, &q).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50).clamp(1, 500) }))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = AlertDetail), (status = 404, body = Problem)))]
pub async fn show_alert(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<AlertDetail>, ApiError> {
    Ok(Json(alerts::get(&s.app, &who, &id).await?))
}

/// Acknowledges or closes an alert.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/step", tag = "monitoring", params(("id" = String, Path)), request_body = StepInput, responses((status = 200, body = Alert), (status = 422, body = Problem)))]
pub async fn step_alert(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<StepInput>) -> Result<Json<Alert>, ApiError> {
    Ok(Json(alerts::step(&s.app, &who, &id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/assign", tag = "monitoring", params(("id" = String, Path)), request_body = AssignInput, responses((status = 200, body = Alert), (status = 422, body = Problem)))]
pub async fn assign_alert(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssignInput>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(alerts::assign(&s.app, &who, &id, input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Escalated {
    pub alert: Alert,
    pub incident_id: String,
    pub incident_ref: String,
}

/// Opens an incident from the alert (or adds it to the case `incident_id`), with its
/// events attached as evidence and the indicators it saw as observables.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/escalate", tag = "monitoring", params(("id" = String, Path)), request_body = EscalateInput, responses((status = 201, body = Escalated), (status = 422, body = Problem)))]
pub async fn escalate_alert(
    State(s): State<WebState>,
    ctx: Ctx,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EscalateInput>,
) -> Result<(StatusCode, Json<Escalated>), ApiError> {
    let (alert, incident) = alerts::escalate(&s.app, &who, &id, input, |d| {
        (crate::pages::monitoring::alert_case_title(&ctx, d), crate::pages::monitoring::escalation_summary(&ctx, d))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Escalated { alert, incident_id: incident.id, incident_ref: incident.reference })))
}

/// The monitoring dashboard: source rates and health, alerts by state and severity, time
/// to acknowledge.
#[utoipa::path(get, path = "/api/v1/monitoring/overview", tag = "monitoring", responses((status = 200, body = alerts::Overview)))]
pub async fn overview(State(s): State<WebState>, Who(who): Who) -> Result<Json<alerts::Overview>, ApiError> {
    Ok(Json(alerts::overview(&s.app, &who).await?))
}

/// Silences the alerts of this alert's group (same rule or indicator, host and company)
/// with a reason until a day at most 90 days ahead, and closes the alert as benign.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/suppress", tag = "monitoring", params(("id" = String, Path)), request_body = alerts::SuppressInput, responses((status = 201, body = alerts::Suppression), (status = 422, body = Problem)))]
pub async fn suppress_alert(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<alerts::SuppressInput>,
) -> Result<(StatusCode, Json<alerts::Suppression>), ApiError> {
    Ok((StatusCode::CREATED, Json(alerts::suppress(&s.app, &who, &id, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/alerts/{id}/suppressions", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = Vec<alerts::Suppression>)))]
pub async fn alert_suppressions(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Vec<alerts::Suppression>>, ApiError> {
    Ok(Json(alerts::suppressions_of(&s.app, &who, &id).await?))
}

/// Ends a suppression before its last day.
#[utoipa::path(post, path = "/api/v1/alert-suppressions/{id}/lift", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = alerts::Suppression), (status = 404, body = Problem)))]
pub async fn lift_suppression(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<alerts::Suppression>, ApiError> {
    Ok(Json(alerts::lift(&s.app, &who, &id).await?))
}

/// The events that raised alerts (each alert keeps its first 20), newest first, by time,
/// source, host, user and text.
#[utoipa::path(get, path = "/api/v1/alert-events", tag = "monitoring", params(alerts::EventQuery), responses((status = 200, body = Page<alerts::EventHit>), (status = 422, body = Problem)))]
pub async fn search_events(State(s): State<WebState>, Who(who): Who, Query(q): Query<alerts::EventQuery>) -> Result<Json<Page<alerts::EventHit>>, ApiError> {
    let p = alerts::search_events(&s.app, &who, &q).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50).clamp(1, 500) }))
}

/// Recent raw events of the sources that keep them (within the retention), newest first,
/// by time, source, host, user and text.
#[utoipa::path(get, path = "/api/v1/raw-events", tag = "monitoring", params(alerts::EventQuery), responses((status = 200, body = Page<isms_monitoring::raw::RawHit>), (status = 422, body = Problem)))]
pub async fn search_raw_events(
    State(s): State<WebState>,
    Who(who): Who,
    Query(q): Query<alerts::EventQuery>,
) -> Result<Json<Page<isms_monitoring::raw::RawHit>>, ApiError> {
    let p = isms_monitoring::raw::search(&s.app, &who, &q).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset.unwrap_or(0), limit: q.limit.unwrap_or(50).clamp(1, 500) }))
}
