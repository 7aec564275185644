//! The asset register: handling categories and their rules, supporting assets (systems,
//! cloud services, terminals, paper storage), information assets linked to what holds
//! them, the conformance findings kept current on every change, take-out requests, and
//! import/export of the register.

pub mod categories;
pub mod conformance;
pub mod register;
pub mod supports;
pub mod takeouts;
pub mod transfer;

use crate::{AppError, Result};
use isms_core::FieldError;
use isms_store::org::{company, department, person};
use isms_store::sea_orm::ConnectionTrait;
use isms_store::sea_orm::EntityTrait;

pub use categories::{Category, CategoryInput};
pub use conformance::Finding;
pub use register::{Asset, AssetInput};
pub use supports::{Support, SupportInput};

pub(crate) fn blank_to_none(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A single line that must be given (a title, a name): at most `max` characters, no
/// control characters.
pub(crate) fn required(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::coded(field, "required", "is required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
    } else if let Err(e) = isms_core::text::single_line(field, v) {
        errors.push(e);
    }
    v.to_owned()
}

/// Text of one or more lines that must be given (a reason, a note).
pub(crate) fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::coded(field, "required", "is required"));
    } else if v.chars().count() > max {
        errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
    } else if let Err(e) = isms_core::text::multi_line(field, v) {
        errors.push(e);
    }
    v.to_owned()
}

pub(crate) fn date_opt(errors: &mut Vec<FieldError>, field: &str, value: &Option<String>) -> Option<jiff::civil::Date> {
    isms_core::org::parse_date(field, value.as_deref().unwrap_or("")).map_err(|e| errors.push(e)).ok().flatten()
}

/// Today in the group's time zone: review dates and expiries are calendar dates there.
pub fn today() -> jiff::civil::Date {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC)).date()
}

/// Checks that the company exists, the department belongs to it and the owner exists.
pub(crate) async fn check_org(db: &impl ConnectionTrait, company_id: &str, department_id: Option<&str>, owner_id: Option<&str>) -> Result<()> {
    if company::Entity::find_by_id(company_id.to_owned()).one(db).await?.is_none() {
        return Err(AppError::coded("company_id", "no-company", "no such company"));
    }
    if let Some(d) = department_id {
        match department::Entity::find_by_id(d.to_owned()).one(db).await? {
            Some(dep) if dep.company_id == company_id => {}
            Some(_) => return Err(AppError::coded("department_id", "department-other-company", "belongs to another company")),
            None => return Err(AppError::coded("department_id", "no-department", "no such department")),
        }
    }
    if let Some(o) = owner_id
        && person::Entity::find_by_id(o.to_owned()).one(db).await?.is_none()
    {
        return Err(AppError::coded("owner_id", "no-person", "no such person"));
    }
    Ok(())
}
