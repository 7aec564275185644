//! The JSON API.

pub mod intel;
pub mod monitoring;
pub mod oncall;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    monitoring::ingest,
    monitoring::list_sources,
    monitoring::create_source,
    monitoring::show_source,
    monitoring::update_source,
    monitoring::rotate_token,
    monitoring::dead_letters,
    monitoring::list_rules,
    monitoring::create_rule,
    monitoring::show_rule,
    monitoring::update_rule,
    monitoring::import_rules,
    monitoring::check_rule,
    monitoring::set_enabled,
    monitoring::add_override,
    monitoring::remove_override,
    monitoring::list_alerts,
    monitoring::overview,
    monitoring::show_alert,
    monitoring::step_alert,
    monitoring::assign_alert,
    monitoring::escalate_alert,
    monitoring::suppress_alert,
    monitoring::alert_suppressions,
    monitoring::lift_suppression,
    monitoring::search_events,
    monitoring::search_raw_events,
    intel::list_feeds,
    intel::create_feed,
    intel::show_feed,
    intel::update_feed,
    intel::delete_feed,
    intel::import,
    intel::pull,
    intel::list_indicators,
    intel::list_sightings,
    intel::export_sightings,
    oncall::list,
    oncall::create,
    oncall::show,
    oncall::update,
    oncall::delete,
    oncall::add_cover,
    oncall::remove_cover,
    oncall::alert_pages,
))]
pub struct Api;
