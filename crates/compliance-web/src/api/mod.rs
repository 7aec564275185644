//! The JSON API.

pub mod compliance;
pub mod risks;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    compliance::list_frameworks,
    compliance::create_framework,
    compliance::show_framework,
    compliance::import_framework,
    compliance::import_mappings,
    compliance::put_requirement,
    compliance::show_requirement,
    compliance::delete_requirement,
    compliance::list_controls,
    compliance::create_control,
    compliance::show_control,
    compliance::update_control,
    compliance::review_control,
    compliance::add_link,
    compliance::add_file,
    compliance::remove_evidence,
    compliance::statement,
    compliance::decide,
    compliance::assessment,
    compliance::export,
    risks::list,
    risks::create,
    risks::heat_map,
    risks::show,
    risks::update,
    risks::accept,
    risks::set_status,
    risks::review,
    risks::add_action,
    risks::action_done,
    risks::matrix,
    risks::set_matrix,
    risks::findings,
))]
pub struct Api;
