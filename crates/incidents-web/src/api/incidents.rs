//! Incidents as JSON: report, the register, the case, facts, transitions, notes, members
//! and the regulatory clocks.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use isms_incidents::cases::{self, FactsInput, IncidentQuery, NoteInput, ReportInput, TransitionInput};
use isms_incidents::clocks::{self, Clock, DoneInput};
use isms_incidents::{Incident, IncidentDetail};
use isms_webkit::WebState;
use isms_webkit::api::{Page, Problem};
use isms_webkit::context::Who;
use isms_webkit::error::{ApiError, ApiJson};
use serde::{Deserialize, Serialize};

/// Cases the caller may see (need to know), newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentQuery), responses((status = 200, body = Page<Incident>)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(q): Query<IncidentQuery>) -> Result<Json<Page<Incident>>, ApiError> {
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let p = cases::list(&s.app, &who, &IncidentQuery { limit, ..q.clone() }).await?;
    Ok(Json(Page { items: p.items, total: p.total, offset: q.offset, limit }))
}

/// Reports a suspected incident: only a title is required. The CSIRT is told at once.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = ReportInput, responses((status = 201, body = Incident), (status = 422, body = Problem)))]
pub async fn report(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<ReportInput>) -> Result<(StatusCode, Json<Incident>), ApiError> {
    Ok((StatusCode::CREATED, Json(cases::report(&s.app, &who, input).await?)))
}

/// The case with its clocks and timeline (reading personal notes is logged).
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = String, Path)), responses((status = 200, body = IncidentDetail), (status = 404, body = Problem)))]
pub async fn show(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>) -> Result<Json<IncidentDetail>, ApiError> {
    Ok(Json(cases::get(&s.app, &who, &id).await?))
}

/// Records the facts: severity follows the matrix, the clocks follow the facts.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/facts", tag = "incidents", params(("id" = String, Path)), request_body = FactsInput, responses((status = 200, body = IncidentDetail), (status = 422, body = Problem)))]
pub async fn facts(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FactsInput>,
) -> Result<Json<IncidentDetail>, ApiError> {
    Ok(Json(cases::update_facts(&s.app, &who, &id, input).await?))
}

/// Moves the case one step on; a skipped step is refused with the reason.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transition", tag = "incidents", params(("id" = String, Path)), request_body = TransitionInput, responses((status = 200, body = Incident), (status = 422, body = Problem)))]
pub async fn transition(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> Result<Json<Incident>, ApiError> {
    Ok(Json(cases::transition_to(&s.app, &who, &id, input).await?))
}

/// Adds a note to the timeline; a note holding personal data is sealed at rest.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", params(("id" = String, Path)), request_body = NoteInput, responses((status = 204), (status = 422, body = Problem)))]
pub async fn note(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<NoteInput>) -> Result<StatusCode, ApiError> {
    cases::add_note(&s.app, &who, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct MemberInput {
    pub username: String,
}

/// Adds someone who needs to know.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/members", tag = "incidents", params(("id" = String, Path)), request_body = MemberInput, responses((status = 204), (status = 422, body = Problem)))]
pub async fn member(State(s): State<WebState>, Who(who): Who, Path(id): Path<String>, ApiJson(input): ApiJson<MemberInput>) -> Result<StatusCode, ApiError> {
    cases::add_member(&s.app, &who, &id, &input.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks a regulatory duty done.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/clocks/{clock}/done", tag = "incidents", params(("id" = String, Path), ("clock" = String, Path)), request_body = DoneInput, responses((status = 200, body = Clock), (status = 422, body = Problem)))]
pub async fn clock_done(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, clock)): Path<(String, String)>,
    ApiJson(input): ApiJson<DoneInput>,
) -> Result<Json<Clock>, ApiError> {
    Ok(Json(clocks::complete(&s.app, &who, &id, &clock, input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RunningClock {
    pub incident: Incident,
    pub clock: Clock,
}

/// Every running clock the caller may see, soonest deadline first.
#[utoipa::path(get, path = "/api/v1/incident-clocks", tag = "incidents", responses((status = 200, body = Vec<RunningClock>)))]
pub async fn running(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<RunningClock>>, ApiError> {
    Ok(Json(clocks::running(&s.app, &who).await?.into_iter().map(|(incident, clock)| RunningClock { incident, clock }).collect()))
}

use isms_incidents::followup::{self, Action, ActionInput, ActionStep, Evidence, HandOver, ObservableInput};

/// Adds a corrective action with its owner and due date.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions", tag = "incidents", params(("id" = String, Path)), request_body = ActionInput, responses((status = 201, body = Action), (status = 422, body = Problem)))]
pub async fn add_action(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ActionInput>,
) -> Result<(StatusCode, Json<Action>), ApiError> {
    Ok((StatusCode::CREATED, Json(followup::add_action(&s.app, &who, &id, input).await?)))
}

/// Marks an action done (its owner or the CSIRT) or verified (the CSIRT, not the owner).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/actions/{action}/step", tag = "incidents", params(("id" = String, Path), ("action" = String, Path)), request_body = ActionStep, responses((status = 200, body = Action), (status = 422, body = Problem)))]
pub async fn step_action(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, action)): Path<(String, String)>,
    ApiJson(input): ApiJson<ActionStep>,
) -> Result<Json<Action>, ApiError> {
    Ok(Json(followup::step_action(&s.app, &who, &id, &action, input).await?))
}

/// Corrective actions past their due date and not verified.
#[utoipa::path(get, path = "/api/v1/incident-actions/overdue", tag = "incidents", responses((status = 200, body = Vec<Action>)))]
pub async fn overdue_actions(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Action>>, ApiError> {
    Ok(Json(followup::overdue_actions(&s.app, &who).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Added {
    pub added: usize,
}

/// Adds observables, one per line; a bad line (named) adds nothing.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables", tag = "incidents", params(("id" = String, Path)), request_body = ObservableInput, responses((status = 200, body = Added), (status = 422, body = Problem)))]
pub async fn add_observables(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ObservableInput>,
) -> Result<Json<Added>, ApiError> {
    Ok(Json(Added { added: followup::add_observables(&s.app, &who, &id, input).await? }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    name: String,
    #[serde(default)]
    description: String,
}

/// Stores an evidence file (the request body) with its SHA-256; the chain of custody starts.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence", tag = "incidents", params(("id" = String, Path), EvidenceParams), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 201, body = Evidence), (status = 422, body = Problem)))]
pub async fn add_evidence(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    Query(p): Query<EvidenceParams>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Evidence>), ApiError> {
    Ok((StatusCode::CREATED, Json(followup::add_evidence(&s.app, &who, &id, &p.name, body.to_vec(), &p.description).await?)))
}

/// Records that evidence was handed to someone.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/evidence/{evidence}/hand-over", tag = "incidents", params(("id" = String, Path), ("evidence" = String, Path)), request_body = HandOver, responses((status = 204), (status = 422, body = Problem)))]
pub async fn hand_over(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, ev)): Path<(String, String)>,
    ApiJson(input): ApiJson<HandOver>,
) -> Result<StatusCode, ApiError> {
    followup::hand_over(&s.app, &who, &id, &ev, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

use isms_incidents::playbooks::{self, Playbook, PlaybookInput, Task};

/// The playbooks in use (latest versions).
#[utoipa::path(get, path = "/api/v1/playbooks", tag = "incidents", responses((status = 200, body = Vec<Playbook>)))]
pub async fn list_playbooks(State(s): State<WebState>, Who(who): Who) -> Result<Json<Vec<Playbook>>, ApiError> {
    Ok(Json(playbooks::list(&s.app, &who).await?))
}

/// Every version of a playbook, newest first.
#[utoipa::path(get, path = "/api/v1/playbooks/{code}/versions", tag = "incidents", params(("code" = String, Path)), responses((status = 200, body = Vec<Playbook>), (status = 404, body = Problem)))]
pub async fn playbook_history(State(s): State<WebState>, Who(who): Who, Path(code): Path<String>) -> Result<Json<Vec<Playbook>>, ApiError> {
    Ok(Json(playbooks::history(&s.app, &who, &code).await?))
}

/// Saves a playbook as a new version (an existing code) or a new playbook.
#[utoipa::path(post, path = "/api/v1/playbooks", tag = "incidents", request_body = PlaybookInput, responses((status = 201, body = Playbook), (status = 422, body = Problem)))]
pub async fn save_playbook(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<PlaybookInput>) -> Result<(StatusCode, Json<Playbook>), ApiError> {
    Ok((StatusCode::CREATED, Json(playbooks::save(&s.app, &who, input).await?)))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct StartInput {
    pub playbook_id: String,
}

/// Starts a playbook on a case: its tasks are created and the people the severity calls for are told.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/playbook", tag = "incidents", params(("id" = String, Path)), request_body = StartInput, responses((status = 200, body = Vec<Task>), (status = 422, body = Problem)))]
pub async fn start_playbook(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StartInput>,
) -> Result<Json<Vec<Task>>, ApiError> {
    Ok(Json(playbooks::start(&s.app, &who, &id, &input.playbook_id).await?))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks/{task}/done", tag = "incidents", params(("id" = String, Path), ("task" = String, Path)), responses((status = 204), (status = 422, body = Problem)))]
pub async fn task_done(State(s): State<WebState>, Who(who): Who, Path((id, task)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    playbooks::complete_task(&s.app, &who, &id, &task).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CancelInput {
    /// Why the case does not need the task.
    #[serde(default)]
    pub reason: String,
}

/// Cancels a playbook task the case does not need, with the reason.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks/{task}/cancel", tag = "incidents", params(("id" = String, Path), ("task" = String, Path)), request_body = CancelInput, responses((status = 204), (status = 422, body = Problem)))]
pub async fn task_cancel(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, task)): Path<(String, String)>,
    ApiJson(input): ApiJson<CancelInput>,
) -> Result<StatusCode, ApiError> {
    playbooks::cancel_task(&s.app, &who, &id, &task, &input.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

use isms_incidents::releases::{self, DraftInput, EditInput, Release};

/// Writes a first draft (announcement, customer notice or regulator report) from the case.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/releases", tag = "incidents", params(("id" = String, Path)), request_body = DraftInput, responses((status = 201, body = Release), (status = 422, body = Problem)))]
pub async fn draft_release(
    State(s): State<WebState>,
    Who(who): Who,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<(StatusCode, Json<Release>), ApiError> {
    Ok((StatusCode::CREATED, Json(releases::generate(&s.app, &who, &id, input).await?)))
}

/// Edits a draft; an approved text no longer changes.
#[utoipa::path(put, path = "/api/v1/incidents/{id}/releases/{release}", tag = "incidents", params(("id" = String, Path), ("release" = String, Path)), request_body = EditInput, responses((status = 200, body = Release), (status = 422, body = Problem)))]
pub async fn edit_release(
    State(s): State<WebState>,
    Who(who): Who,
    Path((id, rel)): Path<(String, String)>,
    ApiJson(input): ApiJson<EditInput>,
) -> Result<Json<Release>, ApiError> {
    Ok(Json(releases::edit(&s.app, &who, &id, &rel, input).await?))
}

/// The CISO approves (not whoever last edited it).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/releases/{release}/approve", tag = "incidents", params(("id" = String, Path), ("release" = String, Path)), responses((status = 200, body = Release), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_release(State(s): State<WebState>, Who(who): Who, Path((id, rel)): Path<(String, String)>) -> Result<Json<Release>, ApiError> {
    Ok(Json(releases::approve(&s.app, &who, &id, &rel).await?))
}

/// Records that the approved text went out now.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/releases/{release}/released", tag = "incidents", params(("id" = String, Path), ("release" = String, Path)), responses((status = 200, body = Release), (status = 422, body = Problem)))]
pub async fn mark_released(State(s): State<WebState>, Who(who): Who, Path((id, rel)): Path<(String, String)>) -> Result<Json<Release>, ApiError> {
    Ok(Json(releases::mark_released(&s.app, &who, &id, &rel).await?))
}

/// Mean times by severity and type, cases per company and month, overdue work (drills excluded).
#[utoipa::path(get, path = "/api/v1/incident-kpis", tag = "incidents", responses((status = 200, body = isms_incidents::kpis::Kpis)))]
pub async fn kpis(State(s): State<WebState>, Who(who): Who) -> Result<Json<isms_incidents::kpis::Kpis>, ApiError> {
    Ok(Json(isms_incidents::kpis::compute(&s.app, &who).await?))
}

use isms_incidents::drills::{self as drill_uc, Drill, PlanInput, Schedule};

/// Drills planned and held, with the fiscal halves that have none.
#[utoipa::path(get, path = "/api/v1/drills", tag = "incidents", responses((status = 200, body = Schedule)))]
pub async fn drills(State(s): State<WebState>, Who(who): Who) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(drill_uc::schedule(&s.app, &who).await?))
}

#[utoipa::path(post, path = "/api/v1/drills", tag = "incidents", request_body = PlanInput, responses((status = 201, body = Drill), (status = 422, body = Problem)))]
pub async fn plan_drill(State(s): State<WebState>, Who(who): Who, ApiJson(input): ApiJson<PlanInput>) -> Result<(StatusCode, Json<Drill>), ApiError> {
    Ok((StatusCode::CREATED, Json(drill_uc::plan(&s.app, &who, input).await?)))
}
