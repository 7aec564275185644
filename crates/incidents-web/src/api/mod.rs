//! The JSON API.

pub mod incidents;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    incidents::list,
    incidents::report,
    incidents::show,
    incidents::facts,
    incidents::transition,
    incidents::note,
    incidents::member,
    incidents::clock_done,
    incidents::running,
    incidents::add_action,
    incidents::step_action,
    incidents::overdue_actions,
    incidents::add_observables,
    incidents::add_evidence,
    incidents::hand_over,
    incidents::list_playbooks,
    incidents::playbook_history,
    incidents::save_playbook,
    incidents::start_playbook,
    incidents::task_done,
    incidents::task_cancel,
    incidents::kpis,
    incidents::drills,
    incidents::plan_drill,
    incidents::draft_release,
    incidents::edit_release,
    incidents::approve_release,
    incidents::mark_released,
))]
pub struct Api;
