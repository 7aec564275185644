//! Threat intelligence as JSON: feeds, importing a feed file, pulling a TAXII feed,
//! indicators, sightings, and sightings as a STIX 2.1 bundle to share back.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_detect::intel::Tlp;
use isms_kernel::AppError;
use isms_monitoring::intel::{self, Feed, FeedInput, ImportReport, Indicator, IndicatorQuery, Sighting};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/intel/feeds", tag = "intel", responses((status = 200, body = Vec<Feed>)))]
pub async fn list_feeds(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Feed>>, ApiError> {
    Ok(Json(intel::list_feeds(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/intel/feeds", tag = "intel", request_body = FeedInput, responses((status = 201, body = Feed), (status = 422, body = Problem)))]
pub async fn create_feed(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<FeedInput>) -> Result<(StatusCode, Json<Feed>), ApiError> {
    Ok((StatusCode::CREATED, Json(intel::create_feed(&s.app, &who, input).await?)))
}

/// A feed with its health: the last good pull, the error of the last failed one, and the
/// first refusals of the last pull or import.
#[utoipa::path(get, path = "/api/v1/intel/feeds/{id}", tag = "intel", params(("id" = String, Path)), responses((status = 200, body = Feed), (status = 404, body = Problem)))]
pub async fn show_feed(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Feed>, ApiError> {
    Ok(Json(intel::get_feed(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/intel/feeds/{id}", tag = "intel", params(("id" = String, Path)), request_body = FeedInput, responses((status = 200, body = Feed), (status = 422, body = Problem)))]
pub async fn update_feed(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<FeedInput>) -> Result<Json<Feed>, ApiError> {
    Ok(Json(intel::update_feed(&s.app, &who, &id, input).await?))
}

/// Removes the feed with its indicators and their sightings.
#[utoipa::path(delete, path = "/api/v1/intel/feeds/{id}", tag = "intel", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_feed(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    intel::delete_feed(&s.app, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// stix, misp-json, misp-csv or text; empty: guessed from the file.
    #[serde(default)]
    pub format: Option<String>,
    /// Remove the feed's indicators the file does not hold.
    #[serde(default)]
    pub replace: bool,
}

/// Imports a feed file sent as the request body (a STIX 2.1 bundle, a MISP JSON or CSV
/// export, or free text). Entries that cannot be used are listed with where and why.
#[utoipa::path(post, path = "/api/v1/intel/feeds/{id}/import", tag = "intel", params(("id" = String, Path), ImportQuery), request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem)))]
pub async fn import(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(intel::import(&s.app, &who, &id, &body, q.format.as_deref(), q.replace).await?))
}

/// Pulls a TAXII feed now. A failure is kept on the feed and answered as 422 with the reason.
#[utoipa::path(post, path = "/api/v1/intel/feeds/{id}/pull", tag = "intel", params(("id" = String, Path)), responses((status = 200, body = ImportReport), (status = 422, body = Problem)))]
pub async fn pull(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(intel::pull_now(&s.app, &who, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/intel/indicators", tag = "intel", params(IndicatorQuery), responses((status = 200, body = Page<Indicator>)))]
pub async fn list_indicators(State(s): State<WebState>, Who(who): Who, Query(q): Query<IndicatorQuery>) -> Result<Json<Page<Indicator>>, ApiError> {
    let p = intel::list_indicators(&s.app, &who, &q).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.page * 100, limit: 100 }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SightingQuery {
    #[serde(default)]
    pub indicator_id: Option<String>,
    #[serde(default)]
    pub alert_id: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/intel/sightings", tag = "intel", params(SightingQuery), responses((status = 200, body = Vec<Sighting>)))]
pub async fn list_sightings(State(s): State<WebState>, Who(who): Who, Query(q): Query<SightingQuery>) -> Result<Json<Vec<Sighting>>, ApiError> {
    Ok(Json(intel::sightings(&s.app, &who, q.indicator_id.as_deref(), q.alert_id.as_deref(), q.limit.unwrap_or(100).clamp(1, 1000)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The widest TLP shared: clear, green (default) or amber. Amber+strict and red never leave.
    #[serde(default)]
    pub max_tlp: Option<String>,
    /// Only sightings last seen at or after this time (ms since the epoch).
    #[serde(default)]
    pub since_ms: Option<i64>,
}

/// Sightings as a STIX 2.1 bundle (`application/stix+json`) to share back with the ISAC.
#[utoipa::path(get, path = "/api/v1/intel/sightings/stix", tag = "intel", params(ExportQuery), responses((status = 200, description = "a STIX 2.1 bundle", content_type = "application/stix+json"), (status = 422, body = Problem)))]
pub async fn export_sightings(State(s): State<WebState>, Who(who): Who, Query(q): Query<ExportQuery>) -> Result<Response, ApiError> {
    let tlp = match q.max_tlp.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Tlp::Green,
        Some(t) => Tlp::parse(t).ok_or_else(|| {
            AppError::coded("max_tlp", "one-of", format!("`{t}` is not one of clear, green, amber")).into_with_arg("expected", "clear, green, amber")
        })?,
    };
    let bundle = intel::export_sightings(&s.app, &who, tlp, q.since_ms).await?;
    Ok(([(header::CONTENT_TYPE, "application/stix+json;version=2.1")], Json(bundle)).into_response())
}
