//! Incident response: anyone reports, the CSIRT runs the case through its steps (the
//! rules are in `isms_core::incidents`), the facts decide severity and the regulatory
//! clocks, notes that hold personal data are sealed and every reading of them is logged,
//! and need to know decides who sees a case.

pub mod cases;
pub mod clocks;
pub mod demo;
pub mod drills;
pub mod followup;
pub mod kpis;
pub mod playbooks;
pub mod releases;

use isms_core::Permission;
use isms_kernel::{App, Principal, Result};
use isms_store::incidents::{incident, member};
use isms_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub use cases::{Incident, IncidentDetail};

/// Whether `who` may see this case: the reporter; the CSIRT and the CISO
/// (`IncidentsManage`) within scope; company readers for cases without personal
/// information; and anyone added to the case.
pub(crate) async fn visible(db: &impl ConnectionTrait, who: &Principal, i: &incident::Model) -> Result<bool> {
    Ok(visible_without_membership(who, i) || is_member(db, who, &i.id).await?)
}

/// Whether `who` sees the case by reporting it or by role, before asking whether they
/// are on its team.
pub fn visible_without_membership(who: &Principal, i: &incident::Model) -> bool {
    let company = i.company_id.parse().ok();
    (who.user_id.is_some() && who.user_id == i.reported_by)
        || who.access.can_for(Permission::IncidentsManage, company)
        || (i.personal_data != Some(true) && who.access.can_for(Permission::IncidentsRead, company))
}

/// The cases `who` is on the team of, in one query.
pub async fn memberships(db: &impl ConnectionTrait, who: &Principal) -> Result<std::collections::HashSet<String>> {
    let Some(uid) = &who.user_id else { return Ok(Default::default()) };
    Ok(member::Entity::find().filter(member::Column::UserId.eq(uid.clone())).all(db).await?.into_iter().map(|m| m.incident_id).collect())
}

pub(crate) async fn is_member(db: &impl ConnectionTrait, who: &Principal, incident_id: &str) -> Result<bool> {
    let Some(uid) = &who.user_id else { return Ok(false) };
    Ok(member::Entity::find_by_id((incident_id.to_owned(), uid.clone())).one(db).await?.is_some())
}

/// Whether `who` runs this case (moves it, records facts and notes).
pub(crate) async fn runs(db: &impl ConnectionTrait, who: &Principal, i: &incident::Model) -> Result<bool> {
    Ok(who.access.can_for(Permission::IncidentsManage, i.company_id.parse().ok())
        || (who.access.can(Permission::IncidentsManage) && is_member(db, who, &i.id).await?))
}

/// The regulatory targets (configurable later per installation).
pub fn rules(_app: &App) -> isms_core::incidents::clocks::Rules {
    isms_core::incidents::clocks::Rules::default()
}

use isms_kernel::jobs::{HOUR, Job};

/// Incident response's background work: reminders of reporting clocks due and overdue.
pub fn jobs() -> Vec<Job> {
    vec![Job::new("incidents.clock-reminders", HOUR, "incident clock reminders queued", |app| {
        Box::pin(async move { clocks::remind(&app).await.map(|n| n as u64) })
    })]
}
