//! Companies and departments over JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use isms_org::org::{self, Company, CompanyInput, Department, DepartmentInput};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};

/// Companies in the caller's scope.
#[utoipa::path(get, path = "/api/v1/companies", tag = "org", responses((status = 200, body = Vec<Company>), (status = 403, body = Problem)))]
pub async fn list_companies(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Company>>, ApiError> {
    Ok(Json(org::list_companies(&s.app, &who).await?))
}

/// Adds a group company.
#[utoipa::path(post, path = "/api/v1/companies", tag = "org", request_body = CompanyInput, responses((status = 201, body = Company), (status = 422, body = Problem)))]
pub async fn create_company(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<CompanyInput>) -> Result<(StatusCode, Json<Company>), ApiError> {
    Ok((StatusCode::CREATED, Json(org::create_company(&s.app, &who, input).await?)))
}

/// Departments of the companies in scope.
#[utoipa::path(get, path = "/api/v1/departments", tag = "org", responses((status = 200, body = Vec<Department>)))]
pub async fn list_departments(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Department>>, ApiError> {
    Ok(Json(org::list_departments(&s.app, &who).await?))
}

/// Adds a department to a company.
#[utoipa::path(post, path = "/api/v1/departments", tag = "org", request_body = DepartmentInput, responses((status = 201, body = Department), (status = 422, body = Problem)))]
pub async fn create_department(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<DepartmentInput>,
) -> Result<(StatusCode, Json<Department>), ApiError> {
    Ok((StatusCode::CREATED, Json(org::create_department(&s.app, &who, input).await?)))
}
