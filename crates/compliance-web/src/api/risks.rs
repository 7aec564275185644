//! The risk register as JSON: risks, the heat map, acceptance, status, treatment actions
//! and the matrix.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use isms_compliance::risks::{self, Acceptance, Action, ActionInput, HeatMap, Risk, RiskDetail, RiskInput, RiskQuery};
use isms_core::compliance::risk::Matrix;
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};

#[utoipa::path(get, path = "/api/v1/risks", tag = "risks", params(RiskQuery), responses((status = 200, body = Page<Risk>)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(q): Query<RiskQuery>) -> Result<Json<Page<Risk>>, ApiError> {
    let limit = if q.limit == 0 { 50 } else { q.limit.min(1000) };
    let p = risks::list(&s.app, &who, &RiskQuery { limit, ..q.clone() }).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset, limit }))
}

#[utoipa::path(post, path = "/api/v1/risks", tag = "risks", request_body = RiskInput, responses((status = 201, body = Risk), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<RiskInput>) -> Result<(StatusCode, Json<Risk>), ApiError> {
    Ok((StatusCode::CREATED, Json(risks::create(&s.app, &who, input).await?)))
}

/// Counts per cell of the matrix, inherent and residual, for the list's filters.
#[utoipa::path(get, path = "/api/v1/risks/heatmap", tag = "risks", params(RiskQuery), responses((status = 200, body = HeatMap)))]
pub async fn heat_map(State(s): State<WebState>, Who(who): Who, Query(q): Query<RiskQuery>) -> Result<Json<HeatMap>, ApiError> {
    Ok(Json(risks::heat_map(&s.app, &who, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/risks/{id}", tag = "risks", params(("id" = String, Path)), responses((status = 200, body = RiskDetail), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<RiskDetail>, ApiError> {
    Ok(Json(risks::get(&s.app, &who, &id).await?))
}

/// Changes a risk; a new score, treatment or owner ends an acceptance.
#[utoipa::path(put, path = "/api/v1/risks/{id}", tag = "risks", params(("id" = String, Path)), request_body = RiskInput, responses((status = 200, body = Risk), (status = 422, body = Problem)))]
pub async fn update(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<RiskInput>) -> Result<Json<Risk>, ApiError> {
    Ok(Json(risks::update(&s.app, &who, &id, input).await?))
}

/// The risk owner accepts the residual risk until a date.
#[utoipa::path(post, path = "/api/v1/risks/{id}/accept", tag = "risks", params(("id" = String, Path)), request_body = Acceptance, responses((status = 200, body = Risk), (status = 422, body = Problem)))]
pub async fn accept(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(a): ApiJson<Acceptance>) -> Result<Json<Risk>, ApiError> {
    Ok(Json(risks::accept(&s.app, &who, &id, a).await?))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct StatusInput {
    /// open, treating or closed
    pub status: String,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/risks/{id}/status", tag = "risks", params(("id" = String, Path)), request_body = StatusInput, responses((status = 200, body = Risk), (status = 422, body = Problem)))]
pub async fn set_status(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(i): ApiJson<StatusInput>) -> Result<Json<Risk>, ApiError> {
    Ok(Json(risks::set_status(&s.app, &who, &id, &i.status, &i.note).await?))
}

#[derive(Deserialize, Serialize, Default, utoipa::ToSchema)]
#[schema(as = RiskReviewNote)]
pub struct ReviewNote {
    #[serde(default)]
    pub note: String,
}

/// Records a review of the risk; the next falls twelve months from today.
#[utoipa::path(post, path = "/api/v1/risks/{id}/review", tag = "risks", params(("id" = String, Path)), request_body = ReviewNote, responses((status = 200, body = Risk)))]
pub async fn review(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(n): ApiJson<ReviewNote>) -> Result<Json<Risk>, ApiError> {
    Ok(Json(risks::reviewed(&s.app, &who, &id, &n.note).await?))
}

#[utoipa::path(post, path = "/api/v1/risks/{id}/actions", tag = "risks", params(("id" = String, Path)), request_body = ActionInput, responses((status = 201, body = Action), (status = 422, body = Problem)))]
pub async fn add_action(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(i): ApiJson<ActionInput>,
) -> Result<(StatusCode, Json<Action>), ApiError> {
    Ok((StatusCode::CREATED, Json(risks::add_action(&s.app, &who, &id, i).await?)))
}

#[utoipa::path(post, path = "/api/v1/risks/{id}/actions/{action}/done", tag = "risks", params(("id" = String, Path), ("action" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn action_done(State(s): State<WebState>, Who(who): Who, Path((id, a)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    risks::complete_action(&s.app, &who, &id, &a).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/risk-matrix", tag = "risks", responses((status = 200, body = Matrix)))]
pub async fn matrix(State(s): State<WebState>) -> Result<Json<Matrix>, ApiError> {
    Ok(Json(risks::matrix(&s.app).await?))
}

/// Replaces the matrix (levels with their meanings in both languages, band thresholds).
#[utoipa::path(put, path = "/api/v1/risk-matrix", tag = "risks", request_body = Matrix, responses((status = 200, body = Matrix), (status = 422, body = Problem)))]
pub async fn set_matrix(State(s): State<WebState>, Who(who): Who, ApiJson(m): ApiJson<Matrix>) -> Result<Json<Matrix>, ApiError> {
    Ok(Json(risks::set_matrix(&s.app, &who, m).await?))
}

/// Findings of the management system's upkeep the caller may see: overdue document,
/// control and risk reviews, expired acceptances, overdue treatment actions.
#[utoipa::path(get, path = "/api/v1/review-findings", tag = "risks", params(isms_compliance::findings::FindingQuery), responses((status = 200, body = Page<isms_compliance::findings::Finding>)))]
pub async fn findings(
    State(s): State<WebState>,
    Who(who): Who,
    Query(q): Query<isms_compliance::findings::FindingQuery>,
) -> Result<Json<Page<isms_compliance::findings::Finding>>, ApiError> {
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let p = isms_compliance::findings::list(&s.app, &who, &isms_compliance::findings::FindingQuery { limit, ..q.clone() }).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset, limit }))
}
