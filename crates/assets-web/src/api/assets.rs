//! The asset register over JSON: information assets, supporting assets (systems and
//! media), handling categories, conformance findings, take-out requests and import.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_assets::conformance::{self, AcceptInput, RecheckSummary};
use isms_assets::register;
use isms_assets::takeouts::{self, DecisionInput, Takeout, TakeoutInput};
use isms_assets::transfer::{self, Preview};
use isms_assets::{Asset, AssetInput, Category, CategoryInput, Finding, Support, SupportInput, categories, supports};
use isms_kernel::AppError;
use isms_org::people::ImportSummary;
use isms_store::assets::{AssetQuery, AssetSort, FindingQuery, SupportQuery};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem, import_problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::Deserialize;

fn limits(offset: Option<u64>, limit: Option<u64>) -> (u64, u64) {
    (offset.unwrap_or(0), limit.unwrap_or(100).clamp(1, 1000))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetParams {
    /// Matches name or description.
    q: Option<String>,
    company_id: Option<String>,
    category_id: Option<String>,
    /// true: customer information only; false: everything else.
    customer_information: Option<bool>,
    owner_id: Option<String>,
    /// electronic or paper
    medium: Option<String>,
    /// Only assets whose review falls due before this date (YYYY-MM-DD).
    review_before: Option<String>,
    /// name, company, category or review_due
    sort: Option<String>,
    /// asc or desc
    dir: Option<String>,
    offset: Option<u64>,
    /// At most 1000.
    limit: Option<u64>,
}

/// Information assets in the caller's scope.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", params(AssetParams), responses((status = 200, body = Page<Asset>), (status = 403, body = Problem)))]
pub async fn list_assets(State(s): State<WebState>, Who(who): Who, Query(p): Query<AssetParams>) -> Result<Json<Page<Asset>>, ApiError> {
    let sort = match p.sort.as_deref() {
        None | Some("name") => AssetSort::Name,
        Some("company") => AssetSort::Company,
        Some("category") => AssetSort::Category,
        Some("review_due") => AssetSort::ReviewDue,
        Some(other) => return Err(AppError::field("sort", format!("`{other}` is not one of name, company, category, review_due")).into()),
    };
    let (offset, limit) = limits(p.offset, p.limit);
    let query = AssetQuery {
        search: p.q,
        company_id: p.company_id,
        category_id: p.category_id,
        customer_information: p.customer_information,
        owner_id: p.owner_id,
        medium: p.medium,
        review_before: p.review_before,
        sort,
        descending: p.dir.as_deref() == Some("desc"),
        offset,
        limit,
    };
    let r = register::list(&s.app, &who, &query).await?;
    Ok(Json(Page { items: r.items, total: r.total, offset, limit }))
}

/// Adds an information asset; its findings are checked at once.
#[utoipa::path(post, path = "/api/v1/assets", tag = "assets", request_body = AssetInput, responses((status = 201, body = Asset), (status = 422, body = Problem)))]
pub async fn create_asset(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<AssetInput>) -> Result<(StatusCode, Json<Asset>), ApiError> {
    Ok((StatusCode::CREATED, Json(register::create(&s.app, &who, input).await?)))
}

/// One information asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Asset), (status = 404, body = Problem)))]
pub async fn show_asset(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Asset>, ApiError> {
    Ok(Json(register::get(&s.app, &who, &id).await?))
}

/// Replaces an information asset's fields and holders.
#[utoipa::path(put, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)), request_body = AssetInput, responses((status = 200, body = Asset), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_asset(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssetInput>,
) -> Result<Json<Asset>, ApiError> {
    Ok(Json(register::update(&s.app, &who, &id, input).await?))
}

/// Deletes an information asset (refused while it is outside the company).
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_asset(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    register::delete(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The owner (or a manager of the company's assets) confirms the asset's review.
#[utoipa::path(post, path = "/api/v1/assets/{id}/review", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Asset), (status = 404, body = Problem)))]
pub async fn review_asset(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Asset>, ApiError> {
    Ok(Json(register::confirm_review(&s.app, &who, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// true: check the file and answer with what it would do, writing nothing.
    dry_run: Option<bool>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    /// What the file would do (dry run) or did.
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<Preview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<ImportSummary>,
}

/// Imports the register from the request body, a CSV or XLSX file with the export's
/// columns; every row is checked first and one bad row imports nothing.
#[utoipa::path(post, path = "/api/v1/assets/import", tag = "assets", params(ImportParams), request_body(content = String, content_type = "text/csv"), responses((status = 200, body = ImportOutcome), (status = 422, body = Problem)))]
pub async fn import_assets(
    State(s): State<WebState>,
    Who(who): Who,
    Query(p): Query<ImportParams>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let xlsx = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("spreadsheetml"));
    let name = if xlsx { "upload.xlsx" } else { "upload.csv" };
    if p.dry_run.unwrap_or(false) {
        match transfer::preview(&s.app, &who, name, &body).await {
            Ok(preview) => Json(ImportOutcome { preview: Some(preview), summary: None }).into_response(),
            Err(f) => import_problem(f),
        }
    } else {
        match transfer::import(&s.app, &who, name, &body).await {
            Ok(summary) => Json(ImportOutcome { preview: None, summary: Some(summary) }).into_response(),
            Err(f) => import_problem(f),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupportParams {
    /// Matches name, location or description.
    q: Option<String>,
    company_id: Option<String>,
    /// system, cloud_service, terminal or paper_storage
    kind: Option<String>,
    offset: Option<u64>,
    limit: Option<u64>,
}

/// Systems, cloud services, terminals and paper storage in the caller's scope.
#[utoipa::path(get, path = "/api/v1/supporting-assets", tag = "assets", params(SupportParams), responses((status = 200, body = Page<Support>), (status = 403, body = Problem)))]
pub async fn list_supports(State(s): State<WebState>, Who(who): Who, Query(p): Query<SupportParams>) -> Result<Json<Page<Support>>, ApiError> {
    let (offset, limit) = limits(p.offset, p.limit);
    let r = supports::list(&s.app, &who, &SupportQuery { search: p.q, company_id: p.company_id, kind: p.kind, offset, limit }).await?;
    Ok(Json(Page { items: r.items, total: r.total, offset, limit }))
}

/// Adds a system, cloud service, terminal or paper storage.
#[utoipa::path(post, path = "/api/v1/supporting-assets", tag = "assets", request_body = SupportInput, responses((status = 201, body = Support), (status = 422, body = Problem)))]
pub async fn create_support(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<SupportInput>) -> Result<(StatusCode, Json<Support>), ApiError> {
    Ok((StatusCode::CREATED, Json(supports::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/supporting-assets/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Support), (status = 404, body = Problem)))]
pub async fn show_support(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Support>, ApiError> {
    Ok(Json(supports::get(&s.app, &who, &id).await?))
}

/// Replaces a holder's facts; every asset it holds is re-checked.
#[utoipa::path(put, path = "/api/v1/supporting-assets/{id}", tag = "assets", params(("id" = String, Path)), request_body = SupportInput, responses((status = 200, body = Support), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_support(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SupportInput>,
) -> Result<Json<Support>, ApiError> {
    Ok(Json(supports::update(&s.app, &who, &id, input).await?))
}

/// Deletes a holder that holds no asset.
#[utoipa::path(delete, path = "/api/v1/supporting-assets/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_support(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    supports::delete(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The group's handling categories and their rules.
#[utoipa::path(get, path = "/api/v1/handling-categories", tag = "assets", responses((status = 200, body = Vec<Category>)))]
pub async fn list_categories(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Category>>, ApiError> {
    Ok(Json(categories::list(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/handling-categories", tag = "assets", request_body = CategoryInput, responses((status = 201, body = Category), (status = 422, body = Problem)))]
pub async fn create_category(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    Ok((StatusCode::CREATED, Json(categories::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/handling-categories/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Category), (status = 404, body = Problem)))]
pub async fn show_category(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Category>, ApiError> {
    Ok(Json(categories::get(&s.app, &who, &id).await?))
}

/// Replaces a category's rules; every asset of the category is re-checked.
#[utoipa::path(put, path = "/api/v1/handling-categories/{id}", tag = "assets", params(("id" = String, Path)), request_body = CategoryInput, responses((status = 200, body = Category), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_category(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CategoryInput>,
) -> Result<Json<Category>, ApiError> {
    Ok(Json(categories::update(&s.app, &who, &id, input).await?))
}

/// Deletes a category nothing uses.
#[utoipa::path(delete, path = "/api/v1/handling-categories/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_category(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    categories::delete(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingParams {
    company_id: Option<String>,
    /// open, accepted or resolved; all when absent.
    status: Option<String>,
    /// A rule code, e.g. cloud-not-approved.
    rule: Option<String>,
    asset_id: Option<String>,
    support_id: Option<String>,
    customer_information: Option<bool>,
    offset: Option<u64>,
    limit: Option<u64>,
}

/// Conformance findings in the caller's scope, the most severe first.
#[utoipa::path(get, path = "/api/v1/asset-findings", tag = "assets", params(FindingParams), responses((status = 200, body = Page<Finding>), (status = 403, body = Problem)))]
pub async fn list_findings(State(s): State<WebState>, Who(who): Who, Query(p): Query<FindingParams>) -> Result<Json<Page<Finding>>, ApiError> {
    let (offset, limit) = limits(p.offset, p.limit);
    let q = FindingQuery {
        company_id: p.company_id,
        status: p.status,
        rule: p.rule,
        asset_id: p.asset_id,
        support_id: p.support_id,
        customer_information: p.customer_information,
        offset,
        limit,
    };
    let r = conformance::list(&s.app, &who, &q).await?;
    Ok(Json(Page { items: r.items, total: r.total, offset, limit }))
}

#[utoipa::path(get, path = "/api/v1/asset-findings/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Finding), (status = 404, body = Problem)))]
pub async fn show_finding(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Finding>, ApiError> {
    Ok(Json(conformance::get(&s.app, &who, &id).await?))
}

/// Accepts an open finding as an exception; the caller is the approver.
#[utoipa::path(post, path = "/api/v1/asset-findings/{id}/accept", tag = "assets", params(("id" = String, Path)), request_body = AcceptInput, responses((status = 200, body = Finding), (status = 422, body = Problem)))]
pub async fn accept_finding(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AcceptInput>,
) -> Result<Json<Finding>, ApiError> {
    Ok(Json(conformance::accept(&s.app, &who, &id, input).await?))
}

/// Re-checks the finding's subject and resolves it, or says which rule still breaks.
#[utoipa::path(post, path = "/api/v1/asset-findings/{id}/resolve", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Finding), (status = 422, body = Problem)))]
pub async fn resolve_finding(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Finding>, ApiError> {
    Ok(Json(conformance::resolve(&s.app, &who, &id).await?))
}

/// Re-checks every asset of the companies the caller manages.
#[utoipa::path(post, path = "/api/v1/asset-findings/recheck", tag = "assets", responses((status = 200, body = RecheckSummary), (status = 403, body = Problem)))]
pub async fn recheck(State(s): State<WebState>, Who(who): Who) -> Result<Json<RecheckSummary>, ApiError> {
    Ok(Json(conformance::recheck_all(&s.app, &who).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TakeoutParams {
    /// requested, outside (approved, not returned), returned, rejected or withdrawn
    status: Option<String>,
    limit: Option<u64>,
}

/// The caller's own take-out requests and those of the companies whose assets they read.
#[utoipa::path(get, path = "/api/v1/takeouts", tag = "assets", params(TakeoutParams), responses((status = 200, body = Vec<Takeout>)))]
pub async fn list_takeouts(State(s): State<WebState>, Who(who): Who, Query(p): Query<TakeoutParams>) -> Result<Json<Vec<Takeout>>, ApiError> {
    Ok(Json(takeouts::list(&s.app, &who, p.status.as_deref(), p.limit.unwrap_or(100)).await?))
}

/// Asks to take information of a category that needs approval outside the company.
#[utoipa::path(post, path = "/api/v1/takeouts", tag = "assets", request_body = TakeoutInput, responses((status = 201, body = Takeout), (status = 422, body = Problem)))]
pub async fn request_takeout(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<TakeoutInput>) -> Result<(StatusCode, Json<Takeout>), ApiError> {
    Ok((StatusCode::CREATED, Json(takeouts::request(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/takeouts/{id}", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Takeout), (status = 404, body = Problem)))]
pub async fn show_takeout(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Takeout>, ApiError> {
    Ok(Json(takeouts::get(&s.app, &who, &id).await?))
}

/// Approves or rejects a request (never one's own).
#[utoipa::path(post, path = "/api/v1/takeouts/{id}/decision", tag = "assets", params(("id" = String, Path)), request_body = DecisionInput, responses((status = 200, body = Takeout), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn decide_takeout(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<Takeout>, ApiError> {
    Ok(Json(takeouts::decide(&s.app, &who, &id, input).await?))
}

/// Records the return of what was taken out, or withdraws an undecided request.
#[utoipa::path(post, path = "/api/v1/takeouts/{id}/close", tag = "assets", params(("id" = String, Path)), responses((status = 200, body = Takeout), (status = 422, body = Problem)))]
pub async fn close_takeout(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Takeout>, ApiError> {
    Ok(Json(takeouts::close(&s.app, &who, &id).await?))
}
