//! The JSON API.

pub mod assets;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    assets::list_assets,
    assets::create_asset,
    assets::show_asset,
    assets::update_asset,
    assets::delete_asset,
    assets::review_asset,
    assets::import_assets,
    assets::list_supports,
    assets::create_support,
    assets::show_support,
    assets::update_support,
    assets::delete_support,
    assets::list_categories,
    assets::create_category,
    assets::show_category,
    assets::update_category,
    assets::delete_category,
    assets::list_findings,
    assets::show_finding,
    assets::accept_finding,
    assets::resolve_finding,
    assets::recheck,
    assets::list_takeouts,
    assets::request_takeout,
    assets::show_takeout,
    assets::decide_takeout,
    assets::close_takeout,
))]
pub struct Api;
