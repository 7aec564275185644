//! CSIRT drills: planned on a date, run as an exercise case (which never counts in the
//! figures and starts no regulatory clock), and closed with participants and findings.
//! The schedule warns when this fiscal half or the next has none.

use super::cases::{self, ReportInput};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::incidents::drill;
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Drill {
    pub id: String,
    pub title: String,
    pub planned_on: String,
    pub company_id: Option<String>,
    pub incident_id: Option<String>,
    pub participants: String,
    pub findings: String,
    /// planned, running or held
    pub state: String,
}

impl From<drill::Model> for Drill {
    fn from(m: drill::Model) -> Self {
        let state = if !m.findings.trim().is_empty() {
            "held"
        } else if m.incident_id.is_some() {
            "running"
        } else {
            "planned"
        };
        Self {
            state: state.into(),
            id: m.id,
            title: m.title,
            planned_on: m.planned_on,
            company_id: m.company_id,
            incident_id: m.incident_id,
            participants: m.participants,
            findings: m.findings,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    pub drills: Vec<Drill>,
    /// Fiscal halves (this one and the next) without a drill planned or held.
    pub gaps: Vec<Half>,
    /// The fiscal half today falls in: a gap there is a missed drill; a gap in the next
    /// is a drill still to plan.
    pub current: Half,
}

/// A half of the Japanese fiscal year: `year` is the year it starts in April; `half` 1
/// is April–September, 2 is October–March.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Half {
    pub year: i16,
    pub half: u8,
}

fn scope(who: &Principal) -> Result<Condition> {
    Ok(match who.access.scope(Permission::IncidentsRead) {
        isms_core::Scope::Group => Condition::all(),
        isms_core::Scope::Companies(c) => {
            Condition::any().add(drill::Column::CompanyId.is_null()).add(drill::Column::CompanyId.is_in(c.iter().map(|c| c.to_string())))
        }
        isms_core::Scope::Nothing => return Err(AppError::Forbidden),
    })
}

pub async fn schedule(app: &App, who: &Principal) -> Result<Schedule> {
    let rows = drill::Entity::find().filter(scope(who)?).order_by_desc(drill::Column::PlannedOn).all(app.store.conn()).await?;
    let dates: Vec<jiff::civil::Date> = rows.iter().filter_map(|d| d.planned_on.parse().ok()).collect();
    let today = isms_core::calendar::today();
    let gaps = isms_core::incidents::drills::gaps(&dates, today).into_iter().map(|(year, half)| Half { year, half }).collect();
    let (year, half) = isms_core::incidents::drills::half_of(today);
    Ok(Schedule { drills: rows.into_iter().map(Into::into).collect(), gaps, current: Half { year, half } })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlanInput {
    pub title: String,
    /// YYYY-MM-DD
    pub planned_on: String,
    /// Empty for a group-wide drill.
    #[serde(default)]
    pub company_id: Option<String>,
}

pub async fn plan(app: &App, who: &Principal, input: PlanInput) -> Result<Drill> {
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let on = isms_kernel::input::date_opt(&mut errors, "planned_on", &Some(input.planned_on.clone()));
    if on.is_none() && errors.iter().all(|e| e.field != "planned_on") {
        errors.push(FieldError::coded("planned_on", "required", "is required"));
    }
    let company = isms_kernel::input::blank_to_none(&input.company_id);
    if !who.access.can_for(Permission::IncidentsManage, company.as_deref().and_then(|c| c.parse().ok())) {
        return Err(AppError::Forbidden);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let now = now_ms();
    let saved = drill::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        title: Set(title),
        planned_on: Set(on.map(|d| d.to_string()).unwrap_or_default()),
        company_id: Set(company.clone()),
        incident_id: Set(None),
        participants: Set(String::new()),
        findings: Set(String::new()),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    record(app, &txn, who, "incidents.drill.plan", "drill", Some(&saved.id), company.as_deref(), json!({"title": saved.title, "planned_on": saved.planned_on}))
        .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Starts the drill as an exercise case the CSIRT works like a real one.
pub async fn run(app: &App, who: &Principal, drill_id: &str) -> Result<Drill> {
    let d = drill::Entity::find_by_id(drill_id.to_owned()).filter(scope(who)?).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    if d.incident_id.is_some() {
        return Err(AppError::coded("drill", "drill-running", "the drill has already started"));
    }
    let i = cases::report(
        app,
        who,
        ReportInput { title: d.title.clone(), kind: Some("other".into()), company_id: d.company_id.clone(), exercise: true, ..Default::default() },
    )
    .await?;
    if !i.exercise {
        return Err(AppError::Forbidden);
    }
    let txn = app.store.write().await?;
    let mut am = d.into_active_model();
    am.incident_id = Set(Some(i.id.clone()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "incidents.drill.run", "drill", Some(&saved.id), saved.company_id.as_deref(), json!({"incident": i.reference})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OutcomeInput {
    pub participants: String,
    pub findings: String,
}

/// Records who took part and what the drill found.
pub async fn record_outcome(app: &App, who: &Principal, drill_id: &str, input: OutcomeInput) -> Result<Drill> {
    let txn = app.store.write().await?;
    let d = drill::Entity::find_by_id(drill_id.to_owned()).filter(scope(who)?).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !who.access.can_for(Permission::IncidentsManage, d.company_id.as_deref().and_then(|c| c.parse().ok())) {
        return Err(AppError::Forbidden);
    }
    let mut errors = vec![];
    let participants = isms_kernel::input::required_text(&mut errors, "participants", &input.participants, 5_000);
    let findings = isms_kernel::input::required_text(&mut errors, "findings", &input.findings, 20_000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut am = d.into_active_model();
    am.participants = Set(participants);
    am.findings = Set(findings);
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "incidents.drill.outcome", "drill", Some(&saved.id), saved.company_id.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(saved.into())
}
