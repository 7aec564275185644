//! E-mail drills: sending profiles (an SMTP relay, its credentials sealed), templates of
//! the three lures in Japanese and English, campaigns to a population sent within
//! business hours and a per-second cap, the tracking of each recipient's mail that tells
//! a mail gateway's fetch from a person's click, and the results. `isms_core::drills`
//! holds the rules (merge fields, the window, the cap, the verdicts).

pub mod campaigns;
pub mod profiles;
pub mod remedial;
pub mod reports;
pub mod results;
pub mod scanners;
pub mod send;
pub mod templates;
pub mod track;

use isms_core::Permission;
use isms_kernel::jobs::{Job, TICK};
use isms_kernel::{AppError, Principal, Result};

pub use campaigns::{Campaign, CampaignInput};
pub use profiles::{Profile, ProfileInput};
pub use templates::{Template, TemplateInput};

/// Whether `who` reads a record owned by `company` (`None`: the group's).
pub(crate) fn reads(who: &Principal, company: Option<&str>) -> bool {
    match company {
        None => who.access.can(Permission::DrillsRead),
        Some(c) => who.access.can_for(Permission::DrillsRead, c.parse().ok()),
    }
}

/// Whether `who` writes a record owned by `company`: the group's need the permission
/// group-wide.
pub fn manages(who: &Principal, company: Option<&str>) -> bool {
    who.access.can_for(Permission::DrillsManage, company.and_then(|c| c.parse().ok()))
}

pub(crate) fn require_manages(who: &Principal, company: Option<&str>) -> Result<()> {
    if manages(who, company) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// A record `who` may not read is one that does not exist, for them.
pub(crate) fn require_reads(who: &Principal, company: Option<&str>) -> Result<()> {
    if reads(who, company) { Ok(()) } else { Err(AppError::NotFound) }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fresh recipient token: 130 random bits.
pub(crate) fn new_token() -> String {
    use rand::Rng;
    let mut b = [0u8; 17];
    rand::rng().fill_bytes(&mut b);
    isms_core::drills::token_from(&b)
}

/// The module's background work: sending what is due (each run sends for a little less
/// than the job's period, so one instance at a time holds a campaign), and settling
/// clicks whose wait for a second human signal is over.
pub fn jobs() -> Vec<Job> {
    vec![
        Job::new("drills.send", TICK, "drill mails sent", |app| Box::pin(async move { send::run(&app, send::RUN_BUDGET).await })),
        Job::new("drills.settle", TICK, "drill clicks settled", |app| Box::pin(async move { track::settle(&app).await })),
    ]
}
