//! The caller's notifications as JSON.

use axum::Json;
use axum::extract::{Query, State};
use isms_kernel::notify::{self, Notification};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::ApiError;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Only those not read yet.
    #[serde(default)]
    unread: bool,
    limit: Option<u64>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(InboxParams), responses((status = 200, body = Vec<Notification>), (status = 401, body = Problem)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(p): Query<InboxParams>) -> Result<Json<Vec<Notification>>, ApiError> {
    Ok(Json(notify::inbox(&s.app, &who, p.unread, p.limit.unwrap_or(50)).await?))
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct ReadInput {
    /// One notification; all of the caller's when absent.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ReadResult {
    pub marked: u64,
}

/// Marks one or all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = ReadInput, responses((status = 200, body = ReadResult)))]
pub async fn read(
    State(s): State<WebState>,
    Who(who): Who,
    isms_webkit::error::ApiJson(input): isms_webkit::error::ApiJson<ReadInput>,
) -> Result<Json<ReadResult>, ApiError> {
    Ok(Json(ReadResult { marked: notify::mark_read(&s.app, &who, input.id.as_deref()).await? }))
}
