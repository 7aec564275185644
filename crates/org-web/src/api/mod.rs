//! The JSON API.

pub mod notices;
pub mod org;
pub mod people;
pub mod users;

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    notices::list,
    notices::read,
    org::list_companies,
    org::create_company,
    org::list_departments,
    org::create_department,
    people::list,
    people::create,
    people::show,
    people::update,
    people::deactivate,
    users::list,
    users::create,
    users::show,
    users::set_grants,
    users::roles,
))]
pub struct Api;
