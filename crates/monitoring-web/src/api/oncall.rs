//! On-call rotations as JSON: the rotations with who is on call now, one rotation with its
//! next shifts, covers and latest pages, covers, and the pages sent for one alert.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use isms_monitoring::oncall::{self, CoverInput, CoverView, PageView, Rotation, RotationDetail, RotationInput};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};

#[utoipa::path(get, path = "/api/v1/oncall/rotations", tag = "monitoring", responses((status = 200, body = Vec<Rotation>)))]
pub async fn list(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Rotation>>, ApiError> {
    Ok(Json(oncall::list(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/oncall/rotations", tag = "monitoring", request_body = RotationInput, responses((status = 201, body = Rotation), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<RotationInput>) -> Result<(StatusCode, Json<Rotation>), ApiError> {
    Ok((StatusCode::CREATED, Json(oncall::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/oncall/rotations/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = RotationDetail), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<RotationDetail>, ApiError> {
    Ok(Json(oncall::get(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/oncall/rotations/{id}", tag = "monitoring", params(("id" = String, Path)), request_body = RotationInput, responses((status = 200, body = Rotation), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RotationInput>,
) -> Result<Json<Rotation>, ApiError> {
    Ok(Json(oncall::update(&s.app, &who, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/oncall/rotations/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    oncall::delete(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Someone stands in for the scheduled members from one time until another.
#[utoipa::path(post, path = "/api/v1/oncall/rotations/{id}/covers", tag = "monitoring", params(("id" = String, Path)), request_body = CoverInput, responses((status = 201, body = CoverView), (status = 422, body = Problem)))]
pub async fn add_cover(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CoverInput>,
) -> Result<(StatusCode, Json<CoverView>), ApiError> {
    Ok((StatusCode::CREATED, Json(oncall::add_cover(&s.app, &who, &id, input).await?)))
}

#[utoipa::path(delete, path = "/api/v1/oncall/covers/{id}", tag = "monitoring", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_cover(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    oncall::remove_cover(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who was paged for an alert, why and when, and when the next escalation is due.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/pages", tag = "monitoring", params(("id" = String, Path)), responses((status = 200, body = Vec<PageView>), (status = 404, body = Problem)))]
pub async fn alert_pages(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Vec<PageView>>, ApiError> {
    Ok(Json(oncall::pages_of(&s.app, &who, &id).await?))
}
