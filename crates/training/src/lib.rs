//! Awareness training: courses (text in Japanese and English, an optional quiz), campaigns
//! that assign a course to a population with a due date, each person's assignment, quiz
//! attempts and completions. `isms_core::training` holds the rules (scoring, who a
//! population reaches, due dates for joiners).

pub mod campaigns;
pub mod courses;
pub mod demo;
pub mod lms;
pub mod reminders;
pub mod rule;
pub mod taking;

use isms_core::Permission;
use isms_kernel::jobs::{HOUR, Job};
use isms_kernel::{AppError, Principal, Result};

pub use campaigns::{Campaign, CampaignInput, CampaignProgress};
pub use courses::{Course, CourseInput};
pub use taking::{Assignment, MyAssignment};

/// Whether `who` reads a record owned by `company` (`None`: the group's, which every
/// holder of the permission reads).
pub(crate) fn reads(who: &Principal, company: Option<&str>) -> bool {
    match company {
        None => who.access.can(Permission::TrainingRead),
        Some(c) => who.access.can_for(Permission::TrainingRead, c.parse().ok()),
    }
}

/// Whether `who` writes a record owned by `company`: the group's need the permission
/// group-wide.
pub(crate) fn manages(who: &Principal, company: Option<&str>) -> bool {
    who.access.can_for(Permission::TrainingManage, company.and_then(|c| c.parse().ok()))
}

pub(crate) fn require_manages(who: &Principal, company: Option<&str>) -> Result<()> {
    if manages(who, company) { Ok(()) } else { Err(AppError::Forbidden) }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The module's background work: enrolling joiners into running campaigns and dropping
/// leavers' open assignments; reminders before and after due dates; the twice-a-year rule.
pub fn jobs() -> Vec<Job> {
    vec![
        Job::new("training.enrolment", HOUR, "training assignments added or dropped", |app| Box::pin(async move { campaigns::sync_all(&app).await })),
        Job::new("training.reminders", HOUR, "training reminders queued", |app| Box::pin(async move { reminders::run(&app).await })),
        Job::new("training.half", HOUR, "half-year training findings raised or closed", |app| Box::pin(async move { rule::run(&app).await })),
    ]
}
