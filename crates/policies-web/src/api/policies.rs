//! Documents as JSON: the register, a document with its versions, the lifecycle actions,
//! acknowledgement, reviews, comparison, the approval rules and the public documents.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use isms_core::policies::ApprovalRule;
use isms_core::policies::diff::Row;
use isms_policies::documents::{self, DocQuery, DocumentDetail, DocumentInput};
use isms_policies::reading::{self, Progress, PublicDocument, ReviewInput};
use isms_policies::versions::{self, Attachment, DecisionInput, VersionInput};
use isms_policies::{Document, Version};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};

/// Documents the caller may see: every state for readers, otherwise the published ones that apply to them.
#[utoipa::path(get, path = "/api/v1/documents", tag = "policies", params(DocQuery), responses((status = 200, body = Page<Document>)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(q): Query<DocQuery>) -> Result<Json<Page<Document>>, ApiError> {
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let p = documents::list(&s.app, &who, &DocQuery { limit, ..q.clone() }).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset, limit }))
}

/// Creates a document with its first draft.
#[utoipa::path(post, path = "/api/v1/documents", tag = "policies", request_body = DocumentInput, responses((status = 201, body = Document), (status = 422, body = Problem)))]
pub async fn create(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<DocumentInput>) -> Result<(StatusCode, Json<Document>), ApiError> {
    Ok((StatusCode::CREATED, Json(documents::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "policies", params(("id" = String, Path)), responses((status = 200, body = DocumentDetail), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<DocumentDetail>, ApiError> {
    Ok(Json(documents::get(&s.app, &who, &id).await?))
}

/// Changes a document's particulars (its text changes through versions).
#[utoipa::path(put, path = "/api/v1/documents/{id}", tag = "policies", params(("id" = String, Path)), request_body = DocumentInput, responses((status = 200, body = Document), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DocumentInput>,
) -> Result<Json<Document>, ApiError> {
    Ok(Json(documents::update(&s.app, &who, &id, input).await?))
}

/// Starts a new draft from the latest version.
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions", tag = "policies", params(("id" = String, Path)), responses((status = 201, body = Version), (status = 422, body = Problem)))]
pub async fn new_version(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<(StatusCode, Json<Version>), ApiError> {
    Ok((StatusCode::CREATED, Json(versions::new_version(&s.app, &who, &id).await?)))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/versions/{n}", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), responses((status = 200, body = Version), (status = 404, body = Problem)))]
pub async fn show_version(State(s): State<WebState>, Who(who): Who, Path((id, n)): Path<(String, i32)>) -> Result<Json<Version>, ApiError> {
    let d = documents::get(&s.app, &who, &id).await?;
    Ok(Json(d.versions.into_iter().find(|v| v.number == n).ok_or(isms_kernel::AppError::NotFound)?))
}

/// Changes a draft's text. Any other state is refused: published versions are frozen.
#[utoipa::path(put, path = "/api/v1/documents/{id}/versions/{n}", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), request_body = VersionInput, responses((status = 200, body = Version), (status = 422, body = Problem)))]
pub async fn edit_version(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    ApiJson(input): ApiJson<VersionInput>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::edit(&s.app, &who, &id, n, input).await?))
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/versions/{n}/submit", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), responses((status = 200, body = Version), (status = 422, body = Problem)))]
pub async fn submit(State(s): State<WebState>, Who(who): Who, Path((id, n)): Path<(String, i32)>) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::submit(&s.app, &who, &id, n).await?))
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/versions/{n}/withdraw", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), responses((status = 200, body = Version), (status = 422, body = Problem)))]
pub async fn withdraw(State(s): State<WebState>, Who(who): Who, Path((id, n)): Path<(String, i32)>) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::withdraw(&s.app, &who, &id, n).await?))
}

/// An approver's decision (the kind's approver role; never the version's author).
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions/{n}/decision", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), request_body = DecisionInput, responses((status = 200, body = Version), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::decide(&s.app, &who, &id, n, input).await?))
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/versions/{n}/publish", tag = "policies", params(("id" = String, Path), ("n" = i32, Path)), responses((status = 200, body = Version), (status = 422, body = Problem)))]
pub async fn publish(State(s): State<WebState>, Who(who): Who, Path((id, n)): Path<(String, i32)>) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::publish(&s.app, &who, &id, n).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileParams {
    /// The file name, ending in .pdf or .docx.
    name: String,
}

/// Attaches a file to a draft: the request body is the file's bytes.
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions/{n}/attachments", tag = "policies", params(("id" = String, Path), ("n" = i32, Path), FileParams), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = Attachment), (status = 422, body = Problem)))]
pub async fn attach(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    Query(p): Query<FileParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    Ok((StatusCode::CREATED, Json(versions::attach(&s.app, &who, &id, n, &p.name, body.to_vec()).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    /// The version whose reading was confirmed.
    pub number: i32,
}

/// The caller confirms reading the version in force.
#[utoipa::path(post, path = "/api/v1/documents/{id}/acknowledge", tag = "policies", params(("id" = String, Path)), responses((status = 200, body = Acknowledged), (status = 422, body = Problem)))]
pub async fn acknowledge(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Acknowledged>, ApiError> {
    Ok(Json(Acknowledged { number: reading::acknowledge(&s.app, &who, &id).await? }))
}

/// Reading confirmations of the version in force, by company and department.
#[utoipa::path(get, path = "/api/v1/documents/{id}/acknowledgements", tag = "policies", params(("id" = String, Path)), responses((status = 200, body = Progress)))]
pub async fn progress(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Progress>, ApiError> {
    Ok(Json(reading::progress(&s.app, &who, &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Reminded {
    pub reminded: usize,
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/remind", tag = "policies", params(("id" = String, Path)), responses((status = 200, body = Reminded)))]
pub async fn remind(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Reminded>, ApiError> {
    Ok(Json(Reminded { reminded: reading::remind_unacknowledged(&s.app, &who, &id).await? }))
}

/// Records a review: no change (the next review date moves) or a new version started.
#[utoipa::path(post, path = "/api/v1/documents/{id}/review", tag = "policies", params(("id" = String, Path)), request_body = ReviewInput, responses((status = 200, body = Document), (status = 422, body = Problem)))]
pub async fn review(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<Document>, ApiError> {
    Ok(Json(reading::review(&s.app, &who, &id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/retire", tag = "policies", params(("id" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn retire(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    versions::retire_document(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    a: i32,
    b: i32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub a: i32,
    pub b: i32,
    pub rows: Vec<Row>,
}

/// Two versions side by side, changed words marked.
#[utoipa::path(get, path = "/api/v1/documents/{id}/compare", tag = "policies", params(("id" = String, Path), CompareParams), responses((status = 200, body = Comparison)))]
pub async fn compare(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, Query(p): Query<CompareParams>) -> Result<Json<Comparison>, ApiError> {
    let (a, b, rows) = versions::compare(&s.app, &who, &id, p.a, p.b).await?;
    Ok(Json(Comparison { a: a.number, b: b.number, rows }))
}

/// Who approves each kind of document.
#[utoipa::path(get, path = "/api/v1/document-kinds", tag = "policies", responses((status = 200, body = Vec<ApprovalRule>)))]
pub async fn kinds(State(s): State<WebState>) -> Result<Json<Vec<ApprovalRule>>, ApiError> {
    Ok(Json(isms_policies::rules(&s.app).await?))
}

/// Changes one kind's rule (group-wide document managers only).
#[utoipa::path(put, path = "/api/v1/document-kinds", tag = "policies", request_body = ApprovalRule, responses((status = 200, body = ApprovalRule), (status = 422, body = Problem)))]
pub async fn set_kind(State(s): State<WebState>, Who(who): Who, ApiJson(rule): ApiJson<ApprovalRule>) -> Result<Json<ApprovalRule>, ApiError> {
    Ok(Json(isms_policies::set_rule(&s.app, &who, rule).await?))
}

/// The publicly disclosed documents (no sign-in).
#[utoipa::path(get, path = "/api/v1/public/documents", tag = "policies", security(()), responses((status = 200, body = Vec<PublicDocument>)))]
pub async fn public_list(State(s): State<WebState>) -> Result<Json<Vec<PublicDocument>>, ApiError> {
    Ok(Json(reading::public_list(&s.app).await?))
}

/// One publicly disclosed document with its text as safe HTML (no sign-in).
#[utoipa::path(get, path = "/api/v1/public/documents/{code}", tag = "policies", security(()), params(("code" = String, Path)), responses((status = 200, body = PublicDocument), (status = 404, body = Problem)))]
pub async fn public_show(State(s): State<WebState>, Path(code): Path<String>) -> Result<Json<PublicDocument>, ApiError> {
    Ok(Json(reading::public_get(&s.app, &code).await?))
}
