//! Accounts and roles over JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use isms_core::{Permission, Role};
use isms_org::accounts::{self, GrantView, NewUser, UserView};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::Serialize;

/// Accounts in the caller's scope.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = Vec<UserView>), (status = 403, body = Problem)))]
pub async fn list(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(accounts::list_users(&s.app, &who).await?))
}

/// Creates an account with its role grants.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUser, responses((status = 201, body = UserView), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<NewUser>) -> Result<(StatusCode, Json<UserView>), ApiError> {
    Ok((StatusCode::CREATED, Json(accounts::create_user(&s.app, &who, input).await?)))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = String, Path)), responses((status = 200, body = UserView), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<UserView>, ApiError> {
    Ok(Json(accounts::get_user(&s.app, &who, &id).await?))
}

/// Replaces an account's role grants.
#[utoipa::path(put, path = "/api/v1/users/{id}/grants", tag = "accounts", params(("id" = String, Path)), request_body = Vec<GrantView>, responses((status = 200, body = UserView), (status = 403, body = Problem)))]
pub async fn set_grants(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(grants): ApiJson<Vec<GrantView>>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(accounts::set_grants(&s.app, &who, &id, grants).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleInfo {
    pub role: Role,
    pub privileged: bool,
    pub permissions: Vec<Permission>,
}

/// The roles and what each may do (the permission table).
#[utoipa::path(get, path = "/api/v1/roles", tag = "accounts", responses((status = 200, body = Vec<RoleInfo>)))]
pub async fn roles() -> Json<Vec<RoleInfo>> {
    Json(Role::ALL.iter().map(|r| RoleInfo { role: *r, privileged: r.is_privileged(), permissions: r.permissions().to_vec() }).collect())
}
