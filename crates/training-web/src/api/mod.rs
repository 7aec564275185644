//! Training as JSON: one's own assignments and the quiz, courses, campaigns and their
//! progress.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use isms_training::campaigns::{self, Campaign, CampaignInput, CampaignProgress};
use isms_training::courses::{self, Course, CourseInput};
use isms_training::lms::{self, Imported, StatementOutcome};
use isms_training::rule::{self, Closing, Standing, Untrained};
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
    half,
    half_untrained,
    close_half,
    import_completions,
    xapi_statements,
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

fn half_of(key: &str) -> Result<isms_core::training::FiscalHalf, ApiError> {
    isms_core::training::FiscalHalf::parse(key).ok_or_else(|| isms_kernel::AppError::NotFound.into())
}

/// A fiscal half under the twice-a-year rule: the share trained per company in the
/// caller's companies, and the figures kept when it closed.
#[utoipa::path(get, path = "/api/v1/training/halves/{half}", tag = "training", params(("half" = String, Path, description = "`2026-H1` (April–September) or `2026-H2` (October–March)")), responses((status = 200, body = Standing), (status = 404, body = Problem)))]
pub async fn half(State(s): State<WebState>, Who(who): Who, Path(key): Path<String>) -> Result<Json<Standing>, ApiError> {
    Ok(Json(rule::standing(&s.app, &who, Some(half_of(&key)?)).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UntrainedQuery {
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub offset: u64,
    /// At most 500; 50 when absent.
    #[serde(default)]
    pub limit: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UntrainedPage {
    pub items: Vec<Untrained>,
    pub total: u64,
}

/// Who is held to the half's rule and has not completed an awareness course in it.
#[utoipa::path(get, path = "/api/v1/training/halves/{half}/untrained", tag = "training", params(("half" = String, Path), UntrainedQuery), responses((status = 200, body = UntrainedPage), (status = 404, body = Problem)))]
pub async fn half_untrained(
    State(s): State<WebState>,
    Who(who): Who,
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<UntrainedQuery>,
) -> Result<Json<UntrainedPage>, ApiError> {
    let h = half_of(&key)?;
    let p = rule::untrained(&s.app, &who, Some(h), q.company_id.as_deref().filter(|c| !c.is_empty()), None, q.offset, q.limit).await?;
    Ok(Json(UntrainedPage { items: p.items, total: p.total }))
}

/// Closes a half that has ended and was not closed on its last day (the server was down
/// through the fortnight after): the findings are raised and the evidence attached.
#[utoipa::path(post, path = "/api/v1/training/halves/{half}/close", tag = "training", params(("half" = String, Path)), responses((status = 200, body = Closing), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn close_half(State(s): State<WebState>, Who(who): Who, Path(key): Path<String>) -> Result<Json<Closing>, ApiError> {
    Ok(Json(rule::close_now(&s.app, &who, half_of(&key)?).await?))
}

/// Completions exported by a learning system, as CSV (`employee_number` or `email`,
/// `course_code`, `completed_on`, optional `score` and `reference`). One bad row and
/// nothing is recorded; a row recorded before is counted as known.
#[utoipa::path(post, path = "/api/v1/training/completions", tag = "training", request_body(content = String, content_type = "text/csv"), responses((status = 200, body = Imported), (status = 422, body = Problem)))]
pub async fn import_completions(State(s): State<WebState>, Who(who): Who, body: axum::body::Bytes) -> Result<Json<Imported>, ApiError> {
    Ok(Json(lms::import_csv(&s.app, &who, &body).await?))
}

/// xAPI statements from a learning system: one statement or a list, with the cmi5 verbs
/// `completed`, `passed` and `failed`. The actor is a person by `mbox` (their e-mail) or
/// `account.name` (their employee number); the object's id ends with the course code.
/// All or none: a bad statement refuses the request, naming its index and field. A
/// statement whose id is known changes nothing.
#[utoipa::path(post, path = "/api/v1/training/xapi/statements", tag = "training", request_body(content = Object, description = "an xAPI statement or a list of them"), responses((status = 200, body = Vec<StatementOutcome>), (status = 422, body = Problem)))]
pub async fn xapi_statements(
    State(s): State<WebState>,
    Who(who): Who,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<([(&'static str, &'static str); 1], Json<Vec<StatementOutcome>>), ApiError> {
    Ok(([("x-experience-api-version", "1.0.3")], Json(lms::statements(&s.app, &who, &body).await?)))
}
