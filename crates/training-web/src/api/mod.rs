//! Training as JSON: one's own assignments and the quiz, courses, campaigns and their
//! progress.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use isms_training::campaigns::{self, Campaign, CampaignInput, CampaignProgress};
use isms_training::courses::{self, Course, CourseInput};
use isms_training::taking::{self, Assignment, MyAssignment, QuizOutcome};
use isms_webkit::WebState;
use isms_webkit::api::Problem;
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    mine,
    assignment,
    mark_read,
    submit_quiz,
    courses,
    create_course,
    course,
    update_course,
    campaigns,
    create_campaign,
    campaign,
    close_campaign,
))]
pub struct Api;

/// The caller's own assignments, open ones first (course titles in the account's language).
#[utoipa::path(get, path = "/api/v1/training/assignments", tag = "training", responses((status = 200, body = Vec<MyAssignment>)))]
pub async fn mine(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<MyAssignment>>, ApiError> {
    let lang = who.locale.clone().unwrap_or_else(|| "ja".into());
    Ok(Json(taking::mine(&s.app, &who, &lang).await?))
}

/// One of the caller's assignments with its course and attempts (anyone else's is not found).
#[utoipa::path(get, path = "/api/v1/training/assignments/{id}", tag = "training", params(("id" = String, Path)), responses((status = 200, body = Assignment), (status = 404, body = Problem)))]
pub async fn assignment(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(taking::open(&s.app, &who, &id).await?))
}

/// Completes a course without a quiz by reading it.
#[utoipa::path(post, path = "/api/v1/training/assignments/{id}/read", tag = "training", params(("id" = String, Path)), responses((status = 200, body = Assignment), (status = 409, body = Problem)))]
pub async fn mark_read(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(taking::mark_read(&s.app, &who, &id).await?))
}

/// Answers to a quiz: for each question, the indexes (from 0) of the choices chosen.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Answers {
    pub answers: Vec<Vec<usize>>,
}

/// One attempt at the quiz; passing completes the course.
#[utoipa::path(post, path = "/api/v1/training/assignments/{id}/quiz", tag = "training", params(("id" = String, Path)), request_body = Answers, responses((status = 200, body = QuizOutcome), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn submit_quiz(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<Answers>,
) -> Result<Json<QuizOutcome>, ApiError> {
    Ok(Json(taking::submit_quiz(&s.app, &who, &id, a.answers).await?))
}

/// The courses the caller reads: the group's and their companies'.
#[utoipa::path(get, path = "/api/v1/training/courses", tag = "training", responses((status = 200, body = Vec<Course>)))]
pub async fn courses(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Course>>, ApiError> {
    Ok(Json(courses::list(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/training/courses", tag = "training", request_body = CourseInput, responses((status = 201, body = Course), (status = 422, body = Problem)))]
pub async fn create_course(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<CourseInput>) -> Result<(StatusCode, Json<Course>), ApiError> {
    Ok((StatusCode::CREATED, Json(courses::create(&s.app, &who, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = String, Path)), responses((status = 200, body = Course), (status = 404, body = Problem)))]
pub async fn course(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Course>, ApiError> {
    Ok(Json(courses::get(&s.app, &who, &id).await?))
}

/// Replaces a course's settings, text and quiz; an edit of the text or quiz is a new revision.
#[utoipa::path(put, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = String, Path)), request_body = CourseInput, responses((status = 200, body = Course), (status = 422, body = Problem)))]
pub async fn update_course(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CourseInput>,
) -> Result<Json<Course>, ApiError> {
    Ok(Json(courses::update(&s.app, &who, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/training/campaigns", tag = "training", responses((status = 200, body = Vec<Campaign>)))]
pub async fn campaigns(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(campaigns::list(&s.app, &who).await?))
}

/// A new campaign and how many people it enrolled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub campaign: Campaign,
    pub enrolled: u64,
}

/// Assigns a course to a population; everyone it reaches today is enrolled at once.
#[utoipa::path(post, path = "/api/v1/training/campaigns", tag = "training", request_body = CampaignInput, responses((status = 201, body = Created), (status = 422, body = Problem)))]
pub async fn create_campaign(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(input): ApiJson<CampaignInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let (campaign, enrolled) = campaigns::create(&s.app, &who, input).await?;
    Ok((StatusCode::CREATED, Json(Created { campaign, enrolled })))
}

/// A campaign with its progress by company and department (within the caller's companies).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignDetail {
    pub campaign: Campaign,
    pub progress: Vec<CampaignProgress>,
}

#[utoipa::path(get, path = "/api/v1/training/campaigns/{id}", tag = "training", params(("id" = String, Path)), responses((status = 200, body = CampaignDetail), (status = 404, body = Problem)))]
pub async fn campaign(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<CampaignDetail>, ApiError> {
    let campaign = campaigns::get(&s.app, &who, &id).await?;
    let progress = campaigns::progress(&s.app, &who, &id).await?;
    Ok(Json(CampaignDetail { campaign, progress }))
}

/// Ends enrolment of joiners; open assignments stay.
#[utoipa::path(post, path = "/api/v1/training/campaigns/{id}/close", tag = "training", params(("id" = String, Path)), responses((status = 200, body = Campaign), (status = 404, body = Problem)))]
pub async fn close_campaign(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::close(&s.app, &who, &id).await?))
}
