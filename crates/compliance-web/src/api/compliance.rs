//! Frameworks, controls, the Statement of Applicability and the assessment as JSON, and
//! the SoA's XLSX and PDF exports.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_compliance::Scope;
use isms_compliance::controls::{self, Control, ControlDetail, ControlInput, ControlQuery, Evidence, LinkInput};
use isms_compliance::frameworks::{
    self, Framework, FrameworkDetail, FrameworkInput, ImportOutcome, ImportTarget, Requirement, RequirementDetail, RequirementInput,
};
use isms_compliance::soa::{self, Decision, Section, SoaRow, Statement};
use isms_core::compliance::Tally;
use isms_webkit::WebState;
use isms_webkit::api::import_problem;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::{Ctx, Who};
use isms_webkit::error::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};

#[utoipa::path(get, path = "/api/v1/frameworks", tag = "compliance", responses((status = 200, body = Vec<Framework>)))]
pub async fn list_frameworks(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Framework>>, ApiError> {
    Ok(Json(frameworks::list(&s.app, &who).await?))
}

/// A framework built by hand; add requirements with `PUT .../requirements`.
#[utoipa::path(post, path = "/api/v1/frameworks", tag = "compliance", request_body = FrameworkInput, responses((status = 201, body = Framework), (status = 422, body = Problem)))]
pub async fn create_framework(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<FrameworkInput>,
) -> Result<(StatusCode, Json<Framework>), ApiError> {
    Ok((StatusCode::CREATED, Json(frameworks::create(&s.app, &who, input).await?)))
}

/// A framework (by id or code) with its requirements in reading order.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}", tag = "compliance", params(("id" = String, Path)), responses((status = 200, body = FrameworkDetail), (status = 404, body = Problem)))]
pub async fn show_framework(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<FrameworkDetail>, ApiError> {
    Ok(Json(frameworks::get(&s.app, &who, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The file's name: it decides the format (`.yaml`, `.yml` or `.csv`).
    file_name: String,
    /// For CSV: the framework's code.
    code: Option<String>,
    /// For CSV into a new framework: its name.
    name: Option<String>,
}

/// Imports a framework in the documented YAML or CSV format (the request body is the
/// file). Known references take the file's text; nothing is removed; one bad line and
/// nothing is imported.
#[utoipa::path(post, path = "/api/v1/frameworks/import", tag = "compliance", params(ImportParams), request_body(content = String, content_type = "text/plain"), responses((status = 200, body = ImportOutcome), (status = 422, body = Problem)))]
pub async fn import_framework(State(s): State<WebState>, Who(who): Who, Query(p): Query<ImportParams>, body: Bytes) -> Response {
    match frameworks::import(&s.app, &who, &p.file_name, &body, &ImportTarget { code: p.code, name: p.name }).await {
        Ok(o) => Json(o).into_response(),
        Err(f) => import_problem(f),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MappingParams {
    /// `.yaml`, `.yml` or `.csv`.
    file_name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Mapped {
    pub mappings: usize,
}

/// Imports mappings between requirements of two frameworks.
#[utoipa::path(post, path = "/api/v1/framework-mappings/import", tag = "compliance", params(MappingParams), request_body(content = String, content_type = "text/plain"), responses((status = 200, body = Mapped), (status = 422, body = Problem)))]
pub async fn import_mappings(State(s): State<WebState>, Who(who): Who, Query(p): Query<MappingParams>, body: Bytes) -> Response {
    match frameworks::import_mappings(&s.app, &who, &p.file_name, &body).await {
        Ok(n) => Json(Mapped { mappings: n }).into_response(),
        Err(f) => import_problem(f),
    }
}

/// Adds a requirement, or changes the one with the same reference.
#[utoipa::path(put, path = "/api/v1/frameworks/{id}/requirements", tag = "compliance", params(("id" = String, Path)), request_body = RequirementInput, responses((status = 200, body = Requirement), (status = 422, body = Problem)))]
pub async fn put_requirement(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RequirementInput>,
) -> Result<Json<Requirement>, ApiError> {
    Ok(Json(frameworks::put_requirement(&s.app, &who, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/requirements/{id}", tag = "compliance", params(("id" = String, Path)), responses((status = 200, body = RequirementDetail), (status = 404, body = Problem)))]
pub async fn show_requirement(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<RequirementDetail>, ApiError> {
    Ok(Json(frameworks::requirement_detail(&s.app, &who, &id).await?))
}

/// Removes a requirement without children or controls.
#[utoipa::path(delete, path = "/api/v1/requirements/{id}", tag = "compliance", params(("id" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn delete_requirement(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    frameworks::delete_requirement(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/controls", tag = "compliance", params(ControlQuery), responses((status = 200, body = Page<Control>)))]
pub async fn list_controls(State(s): State<WebState>, Who(who): Who, Query(q): Query<ControlQuery>) -> Result<Json<Page<Control>>, ApiError> {
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let p = controls::list(&s.app, &who, &ControlQuery { limit, ..q.clone() }).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset, limit }))
}

#[utoipa::path(post, path = "/api/v1/controls", tag = "compliance", request_body = ControlInput, responses((status = 201, body = Control), (status = 422, body = Problem)))]
pub async fn create_control(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<ControlInput>) -> Result<(StatusCode, Json<Control>), ApiError> {
    Ok((StatusCode::CREATED, Json(controls::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/controls/{id}", tag = "compliance", params(("id" = String, Path)), responses((status = 200, body = ControlDetail), (status = 404, body = Problem)))]
pub async fn show_control(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<ControlDetail>, ApiError> {
    Ok(Json(controls::get(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/controls/{id}", tag = "compliance", params(("id" = String, Path)), request_body = ControlInput, responses((status = 200, body = Control), (status = 422, body = Problem)))]
pub async fn update_control(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ControlInput>,
) -> Result<Json<Control>, ApiError> {
    Ok(Json(controls::update(&s.app, &who, &id, input).await?))
}

#[derive(Deserialize, Serialize, Default, utoipa::ToSchema)]
#[schema(as = ControlReviewNote)]
pub struct ReviewNote {
    #[serde(default)]
    pub note: String,
}

/// Records an effectiveness review; the next falls one interval from today.
#[utoipa::path(post, path = "/api/v1/controls/{id}/review", tag = "compliance", params(("id" = String, Path)), request_body = ReviewNote, responses((status = 200, body = Control)))]
pub async fn review_control(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(n): ApiJson<ReviewNote>,
) -> Result<Json<Control>, ApiError> {
    Ok(Json(controls::reviewed(&s.app, &who, &id, &n.note).await?))
}

#[utoipa::path(post, path = "/api/v1/controls/{id}/evidence/links", tag = "compliance", params(("id" = String, Path)), request_body = LinkInput, responses((status = 201, body = Evidence), (status = 422, body = Problem)))]
pub async fn add_link(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LinkInput>,
) -> Result<(StatusCode, Json<Evidence>), ApiError> {
    Ok((StatusCode::CREATED, Json(controls::add_link(&s.app, &who, &id, input).await?)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    name: String,
    #[serde(default)]
    title: String,
    /// The date the evidence speaks for (YYYY-MM-DD); today when absent.
    evidence_on: Option<String>,
}

/// Stores a file as evidence (the body is the file) with its SHA-256.
#[utoipa::path(post, path = "/api/v1/controls/{id}/evidence/files", tag = "compliance", params(("id" = String, Path), EvidenceParams), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = Evidence), (status = 422, body = Problem)))]
pub async fn add_file(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    Query(p): Query<EvidenceParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<Evidence>), ApiError> {
    Ok((StatusCode::CREATED, Json(controls::add_file(&s.app, &who, &id, &p.name, body.to_vec(), &p.title, &p.evidence_on).await?)))
}

#[utoipa::path(delete, path = "/api/v1/controls/{id}/evidence/{evidence}", tag = "compliance", params(("id" = String, Path), ("evidence" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn remove_evidence(State(s): State<WebState>, Who(who): Who, Path((id, e)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    controls::remove_evidence(&s.app, &who, &id, &e).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// A company id, or `group` (the default).
    #[serde(default)]
    scope: Option<String>,
}

fn scope_of(p: &ScopeParams) -> Result<Scope, ApiError> {
    Ok(Scope::parse(p.scope.as_deref().unwrap_or("group"))?)
}

/// The Statement of Applicability of a framework for a scope.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/soa", tag = "compliance", params(("id" = String, Path), ScopeParams), responses((status = 200, body = Statement), (status = 403, body = Problem)))]
pub async fn statement(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, Query(p): Query<ScopeParams>) -> Result<Json<Statement>, ApiError> {
    Ok(Json(soa::statement(&s.app, &who, &id, &scope_of(&p)?).await?))
}

/// Decides whether a requirement applies in a scope; an exclusion needs its justification.
#[utoipa::path(put, path = "/api/v1/frameworks/{id}/soa/{requirement}", tag = "compliance", params(("id" = String, Path), ("requirement" = String, Path), ScopeParams), request_body = Decision, responses((status = 204), (status = 422, body = Problem)))]
pub async fn decide(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, req)): Path<(String, String)>,
    Query(p): Query<ScopeParams>,
    ApiJson(d): ApiJson<Decision>,
) -> Result<StatusCode, ApiError> {
    soa::decide(&s.app, &who, &id, &scope_of(&p)?, &req, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub framework: Framework,
    pub scope: String,
    pub tally: Tally,
    /// Per mille of applicable requirements met, partly met and not met.
    pub met_per_mille: u32,
    pub partial_per_mille: u32,
    pub not_met_per_mille: u32,
    pub sections: Vec<Section>,
    pub gaps: Vec<SoaRow>,
}

/// The compliance assessment: shares met, partly met and not met, by top-level part, and the gap list.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/assessment", tag = "compliance", params(("id" = String, Path), ScopeParams), responses((status = 200, body = Assessment)))]
pub async fn assessment(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, Query(p): Query<ScopeParams>) -> Result<Json<Assessment>, ApiError> {
    let st = soa::statement(&s.app, &who, &id, &scope_of(&p)?).await?;
    let (m, pa, n) = st.tally.per_mille();
    let gaps = st.gaps().cloned().collect();
    Ok(Json(Assessment {
        framework: st.framework,
        scope: st.scope,
        tally: st.tally,
        met_per_mille: m,
        partial_per_mille: pa,
        not_met_per_mille: n,
        sections: st.sections,
        gaps,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    #[serde(default)]
    scope: Option<String>,
    /// `xlsx` or `pdf`.
    format: String,
}

/// The Statement of Applicability as an XLSX workbook or a PDF, in the caller's language.
#[utoipa::path(get, path = "/api/v1/frameworks/{id}/soa/export", tag = "compliance", params(("id" = String, Path), ExportParams), responses((status = 200, content_type = "application/pdf"), (status = 422, body = Problem)))]
pub async fn export(State(s): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>, Query(p): Query<ExportParams>) -> Result<Response, ApiError> {
    let scope = Scope::parse(p.scope.as_deref().unwrap_or("group"))?;
    let st = soa::statement(&s.app, &who, &id, &scope).await?;
    let scope_name = match scope.company() {
        Some(c) => isms_org::org::list_companies(&s.app, &who).await?.into_iter().find(|x| x.id == c).map(|x| x.name).unwrap_or_default(),
        None => ctx.i18n.get(ctx.lang, "whole-group"),
    };
    let l = crate::pages::compliance::soa::labels(&ctx, &st, &scope_name);
    let (body, ct, ext) = match p.format.as_str() {
        "pdf" => (soa::pdf(&st, &l)?, "application/pdf", "pdf"),
        "xlsx" => (soa::xlsx(&st, &l)?, isms_kernel::sheet::CONTENT_TYPE, "xlsx"),
        other => {
            return Err(isms_kernel::AppError::Invalid(vec![
                isms_core::FieldError::coded("format", "one-of", format!("`{other}` is not one of xlsx, pdf")).arg("value", other).arg("expected", "xlsx, pdf"),
            ])
            .into());
        }
    };
    Ok(isms_webkit::download::file(&format!("soa-{}.{ext}", st.framework.code), ct, body))
}
