//! People over JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use isms_org::people::{self, Person, PersonInput};
use isms_store::org::{PeopleQuery, PeopleSort};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Matches name, e-mail or employee number.
    q: Option<String>,
    company_id: Option<String>,
    department_id: Option<String>,
    /// active, on_leave or left
    status: Option<String>,
    /// name, employee_number, company or status
    sort: Option<String>,
    /// asc or desc
    dir: Option<String>,
    offset: Option<u64>,
    /// At most 1000.
    limit: Option<u64>,
}

/// People in the caller's scope.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(ListParams), responses((status = 200, body = Page<Person>), (status = 403, body = Problem)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(p): Query<ListParams>) -> Result<Json<Page<Person>>, ApiError> {
    let sort = match p.sort.as_deref() {
        None | Some("name") => PeopleSort::Name,
        Some("employee_number") => PeopleSort::EmployeeNumber,
        Some("company") => PeopleSort::Company,
        Some("status") => PeopleSort::Status,
        Some(other) => return Err(isms_kernel::AppError::field("sort", format!("`{other}` is not one of name, employee_number, company, status")).into()),
    };
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let offset = p.offset.unwrap_or(0);
    let q = PeopleQuery {
        search: p.q,
        company_id: p.company_id,
        department_id: p.department_id,
        status: p.status,
        sort,
        descending: p.dir.as_deref() == Some("desc"),
        offset,
        limit,
    };
    let r = people::list(&s.app, &who, &q).await?;
    Ok(Json(Page { items: r.items, total: r.total, offset, limit }))
}

/// Adds a person.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = PersonInput, responses((status = 201, body = Person), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<PersonInput>) -> Result<(StatusCode, Json<Person>), ApiError> {
    Ok((StatusCode::CREATED, Json(people::create(&s.app, &who, input).await?)))
}

/// One person (the view is recorded in the audit trail).
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = String, Path)), responses((status = 200, body = Person), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Person>, ApiError> {
    Ok(Json(people::get(&s.app, &who, &id).await?))
}

/// Replaces a person's fields.
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "people", params(("id" = String, Path)), request_body = PersonInput, responses((status = 200, body = Person), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<PersonInput>) -> Result<Json<Person>, ApiError> {
    Ok(Json(people::update(&s.app, &who, &id, input).await?))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
pub struct DeactivateBody {
    /// YYYY-MM-DD; today when absent.
    #[serde(default)]
    left_on: Option<String>,
}

/// Marks a person as having left; their account is disabled at once.
#[utoipa::path(post, path = "/api/v1/people/{id}/deactivate", tag = "people", params(("id" = String, Path)), request_body = DeactivateBody, responses((status = 200, body = Person), (status = 404, body = Problem)))]
pub async fn deactivate(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Person>, axum::response::Response> {
    use axum::response::IntoResponse;
    // The body is optional: an empty one means "left today".
    let b: DeactivateBody = if body.iter().all(u8::is_ascii_whitespace) { DeactivateBody::default() } else { isms_webkit::error::parse_json(&body)? };
    Ok(Json(people::deactivate(&s.app, &who, &id, b.left_on.as_deref()).await.map_err(|e| ApiError(e).into_response())?))
}
