//! The asset register: handling categories and their rules, supporting assets (systems,
//! cloud services, terminals, paper storage), information assets linked to what holds
//! them, the conformance findings kept current on every change, take-out requests, and
//! import/export of the register.

pub mod categories;
pub mod conformance;
pub mod demo;
pub mod register;
pub mod supports;
pub mod takeouts;
pub mod transfer;

use isms_kernel::{AppError, Result};
use isms_store::org::{company, department, person};
use isms_store::sea_orm::ConnectionTrait;
use isms_store::sea_orm::EntityTrait;

pub use categories::{Category, CategoryInput};
pub use conformance::Finding;
pub use register::{Asset, AssetInput};
pub use supports::{Support, SupportInput};

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

use isms_kernel::jobs::{HOUR, Job};

/// The register's background work: reminders of assets due for review.
pub fn jobs() -> Vec<Job> {
    vec![Job::new("assets.review-reminders", HOUR, "asset review reminders queued", |app| {
        Box::pin(async move { register::remind_reviews(&app).await.map(|n| n as u64) })
    })]
}
