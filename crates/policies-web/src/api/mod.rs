//! The JSON API.

pub mod policies;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    policies::list,
    policies::create,
    policies::show,
    policies::update,
    policies::new_version,
    policies::show_version,
    policies::edit_version,
    policies::submit,
    policies::withdraw,
    policies::decide,
    policies::publish,
    policies::attach,
    policies::acknowledge,
    policies::progress,
    policies::remind,
    policies::review,
    policies::retire,
    policies::compare,
    policies::kinds,
    policies::set_kind,
    policies::public_list,
    policies::public_show,
))]
pub struct Api;
