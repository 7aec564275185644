//! Compliance: frameworks (shipped, imported or built in the UI) as trees of
//! requirements, the group's controls with their evidence and the requirements they
//! satisfy, the Statement of Applicability per framework and scope, and the compliance
//! assessment that follows from them; the risk register and its treatment (`risks`); and
//! the findings of the upkeep, what every review left overdue (`findings`).
//! `isms_core::compliance` holds the pure rules.

pub mod controls;
pub mod demo;
pub mod findings;
pub mod frameworks;
pub mod risks;
pub mod soa;

use isms_core::{CompanyId, Permission};
use isms_kernel::{AppError, Principal, Result};

pub use controls::{Control, ControlInput};
pub use frameworks::{Framework, Requirement};

/// A Statement of Applicability is made for one company or for the group as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Group,
    Company(String),
}

impl Scope {
    pub fn parse(s: &str) -> Result<Scope> {
        match s.trim() {
            "" | "group" => Ok(Scope::Group),
            c => c.parse::<CompanyId>().map(|_| Scope::Company(c.to_owned())).map_err(|_| AppError::coded("scope", "no-company", "no such company")),
        }
    }

    pub fn key(&self) -> &str {
        match self {
            Scope::Group => "group",
            Scope::Company(c) => c,
        }
    }

    pub fn company(&self) -> Option<&str> {
        match self {
            Scope::Group => None,
            Scope::Company(c) => Some(c),
        }
    }

    /// Whether `who` may read this scope with `p`: the group's statement needs the
    /// permission group-wide, a company's statement within that company.
    pub fn require(&self, who: &Principal, p: Permission) -> Result<()> {
        who.require_for(p, self.company())
    }
}

use isms_kernel::jobs::{HOUR, Job};

/// Compliance's background work: the upkeep findings checked, and reminders of risk
/// reviews, acceptances and actions and of control reviews.
pub fn jobs() -> Vec<Job> {
    vec![
        Job::new("compliance.findings", HOUR, "review findings opened or closed", |app| {
            Box::pin(async move { findings::check(&app).await.map(|c| (c.opened + c.closed) as u64) })
        }),
        Job::new("compliance.risk-reminders", HOUR, "risk and control reminders queued", |app| {
            Box::pin(async move { risks::remind(&app).await.map(|n| n as u64) })
        }),
    ]
}
