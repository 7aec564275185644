//! E-mail drills as JSON: sending profiles, templates, campaigns (launch, pause, resume,
//! cancel), their results and recipients, and one recipient's trace with its verdicts.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use isms_drills::results::{self, RecipientPage, Results, Trace};
use isms_drills::{Campaign, CampaignInput, Profile, ProfileInput, Template, TemplateInput, campaigns, profiles, templates};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::Deserialize;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_profiles,
    create_profile,
    update_profile,
    list_templates,
    create_template,
    template,
    update_template,
    list_campaigns,
    create_campaign,
    campaign,
    launch,
    pause,
    resume,
    cancel,
    campaign_results,
    campaign_recipients,
    recipient_trace,
    record_report,
    scanners,
    set_scanners,
))]
pub struct Api;

/// The sending profiles the caller reads (passwords are never returned).
#[utoipa::path(get, path = "/api/v1/drills/profiles", tag = "drills", responses((status = 200, body = Vec<Profile>)))]
pub async fn list_profiles(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Profile>>, ApiError> {
    Ok(Json(profiles::list(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/drills/profiles", tag = "drills", request_body = ProfileInput, responses((status = 201, body = Profile), (status = 422, body = Problem)))]
pub async fn create_profile(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<ProfileInput>) -> Result<(StatusCode, Json<Profile>), ApiError> {
    Ok((StatusCode::CREATED, Json(profiles::create(&s.app, &who, input).await?)))
}

/// Replaces a profile; a blank password keeps the stored one.
#[utoipa::path(put, path = "/api/v1/drills/profiles/{id}", tag = "drills", params(("id" = String, Path)), request_body = ProfileInput, responses((status = 200, body = Profile), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_profile(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profiles::update(&s.app, &who, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/drills/templates", tag = "drills", responses((status = 200, body = Vec<Template>)))]
pub async fn list_templates(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Template>>, ApiError> {
    Ok(Json(templates::list(&s.app, &who).await?))
}

/// A lure template; an unknown merge field is refused with the field it is in.
#[utoipa::path(post, path = "/api/v1/drills/templates", tag = "drills", request_body = TemplateInput, responses((status = 201, body = Template), (status = 422, body = Problem)))]
pub async fn create_template(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((StatusCode::CREATED, Json(templates::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/drills/templates/{id}", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Template), (status = 404, body = Problem)))]
pub async fn template(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::get(&s.app, &who, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/drills/templates/{id}", tag = "drills", params(("id" = String, Path)), request_body = TemplateInput, responses((status = 200, body = Template), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_template(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(templates::update(&s.app, &who, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/drills/campaigns", tag = "drills", responses((status = 200, body = Vec<Campaign>)))]
pub async fn list_campaigns(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(campaigns::list(&s.app, &who).await?))
}

/// A draft campaign: nobody is chosen and nothing is sent until it is launched.
#[utoipa::path(post, path = "/api/v1/drills/campaigns", tag = "drills", request_body = CampaignInput, responses((status = 201, body = Campaign), (status = 422, body = Problem)))]
pub async fn create_campaign(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<CampaignInput>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    Ok((StatusCode::CREATED, Json(campaigns::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/drills/campaigns/{id}", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem)))]
pub async fn campaign(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::get(&s.app, &who, &id).await?))
}

/// Chooses the recipients and plans their mails within the window; once.
#[utoipa::path(post, path = "/api/v1/drills/campaigns/{id}/launch", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn launch(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::launch(&s.app, &who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/drills/campaigns/{id}/pause", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn pause(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::pause(&s.app, &who, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/drills/campaigns/{id}/resume", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn resume(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::resume(&s.app, &who, &id).await?))
}

/// Sends nothing more; what was sent is still tracked.
#[utoipa::path(post, path = "/api/v1/drills/campaigns/{id}/cancel", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn cancel(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::cancel(&s.app, &who, &id).await?))
}

/// Counts per company and department; machine requests never count as anyone's.
#[utoipa::path(get, path = "/api/v1/drills/campaigns/{id}/results", tag = "drills", params(("id" = String, Path)), responses((status = 200, body = Results), (status = 404, body = Problem)))]
pub async fn campaign_results(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Results>, ApiError> {
    Ok(Json(results::results(&s.app, &who, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// From 0.
    #[serde(default)]
    pub page: u64,
}

/// A page of 50 recipients; names and addresses only for who runs the campaign.
#[utoipa::path(get, path = "/api/v1/drills/campaigns/{id}/recipients", tag = "drills", params(("id" = String, Path), PageQuery), responses((status = 200, body = RecipientPage), (status = 404, body = Problem)))]
pub async fn campaign_recipients(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<RecipientPage>, ApiError> {
    Ok(Json(results::recipients(&s.app, &who, &id, q.page).await?))
}

/// Every request recorded for one recipient, with the verdict and its reason.
#[utoipa::path(get, path = "/api/v1/drills/campaigns/{id}/recipients/{recipient}/trace", tag = "drills", params(("id" = String, Path), ("recipient" = String, Path)), responses((status = 200, body = Vec<Trace>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn recipient_trace(State(s): State<WebState>, Who(who): Who, Path((id, recipient)): Path<(String, String)>) -> Result<Json<Vec<Trace>>, ApiError> {
    Ok(Json(results::trace(&s.app, &who, &id, &recipient).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = DrillReportInput)]
pub struct ReportInput {
    /// A reported mail's source, a forward of it, or its reference code.
    pub text: String,
}

/// Records a reported drill mail: every recipient it names (by token or reference code)
/// in a campaign the caller runs counts as having reported, the first time.
#[utoipa::path(post, path = "/api/v1/drills/reports", tag = "drills", request_body = ReportInput, responses((status = 200, body = isms_drills::reports::Outcome), (status = 422, body = Problem)))]
pub async fn record_report(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<Json<isms_drills::reports::Outcome>, ApiError> {
    Ok(Json(isms_drills::reports::report(&s.app, &who, &input.text, "api").await?))
}

/// The group's own gateway networks and user-agent words (the built-in ones apply too).
#[utoipa::path(get, path = "/api/v1/drills/scanners", tag = "drills", responses((status = 200, body = isms_drills::scanners::Scanners)))]
pub async fn scanners(State(s): State<WebState>) -> Result<Json<isms_drills::scanners::Scanners>, ApiError> {
    Ok(Json(isms_drills::scanners::get(s.app.store.conn()).await?))
}

/// Replaces the group's own lists; needs drills managed group-wide.
#[utoipa::path(put, path = "/api/v1/drills/scanners", tag = "drills", request_body = isms_drills::scanners::Scanners, responses((status = 200, body = isms_drills::scanners::Scanners), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_scanners(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<isms_drills::scanners::Scanners>,
) -> Result<Json<isms_drills::scanners::Scanners>, ApiError> {
    Ok(Json(isms_drills::scanners::set(&s.app, &who, &input.nets.join("\n"), &input.agents.join("\n")).await?))
}
