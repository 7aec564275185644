//! Cases: reporting (never blocked by a long form), the CSIRT opening one directly, the
//! register and the record, facts, transitions, notes and members.

use super::{runs, visible};
use isms_core::incidents::clocks::{BreachFacts, Decision, decide};
use isms_core::incidents::{Exposure, Facts, Impact, IncidentType, Status, parse_technique, severity, transition};
use isms_core::{FieldError, Permission};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::accounts::user;
use isms_store::incidents::{affected, company as inc_company, event, incident, member};
use isms_store::now_ms;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: String,
    /// `INC-2026-0001`
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub kind: IncidentType,
    pub status: Status,
    /// 1 (low) to 4 (critical); decided at triage.
    pub severity: Option<i16>,
    pub impact: Option<Impact>,
    pub exposure: Option<Exposure>,
    pub company_id: String,
    pub description: String,
    pub reported_by: Option<String>,
    pub discovered_ms: i64,
    pub reported_ms: i64,
    pub triage_ms: Option<i64>,
    pub contained_ms: Option<i64>,
    pub eradicated_ms: Option<i64>,
    pub recovered_ms: Option<i64>,
    pub review_ms: Option<i64>,
    pub closed_ms: Option<i64>,
    /// `None` until triage answers it.
    pub personal_data: Option<bool>,
    pub customer_data: bool,
    pub facts: BreachFacts,
    pub data_categories: String,
    pub techniques: Vec<String>,
    pub exercise: bool,
    pub root_cause: String,
    pub lessons: String,
    pub actions_note: String,
    pub close_reason: String,
    pub companies: Vec<String>,
    /// Minutes from report to triage, containment and close, once reached.
    pub minutes_to_triage: Option<i64>,
    pub minutes_to_contain: Option<i64>,
    pub minutes_to_close: Option<i64>,
}

fn minutes(from: i64, to: Option<i64>) -> Option<i64> {
    to.map(|t| (t - from).max(0) / 60_000)
}

pub(crate) fn facts_of(m: &incident::Model) -> BreachFacts {
    BreachFacts {
        personal_data: m.personal_data == Some(true),
        sensitive: m.sensitive,
        financial_damage_risk: m.financial_risk,
        unlawful_purpose: m.unlawful_purpose,
        people_affected: m.people_affected,
        strongly_encrypted: m.strongly_encrypted,
        eu_residents: m.eu_residents,
    }
}

fn view(m: incident::Model, companies: Vec<String>) -> Result<Incident> {
    let bad = |e: FieldError| AppError::internal(e.to_string());
    Ok(Incident {
        kind: IncidentType::parse(&m.kind).map_err(bad)?,
        status: Status::parse(&m.status).map_err(bad)?,
        impact: m.impact.as_deref().map(Impact::parse).transpose().map_err(bad)?,
        exposure: m.exposure.as_deref().map(Exposure::parse).transpose().map_err(bad)?,
        facts: facts_of(&m),
        techniques: m.techniques.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        minutes_to_triage: minutes(m.reported_ms, m.triage_ms),
        minutes_to_contain: minutes(m.reported_ms, m.contained_ms),
        minutes_to_close: minutes(m.reported_ms, m.closed_ms),
        companies,
        id: m.id,
        reference: m.r#ref,
        title: m.title,
        severity: m.severity,
        company_id: m.company_id,
        description: m.description,
        reported_by: m.reported_by,
        discovered_ms: m.discovered_ms,
        reported_ms: m.reported_ms,
        triage_ms: m.triage_ms,
        contained_ms: m.contained_ms,
        eradicated_ms: m.eradicated_ms,
        recovered_ms: m.recovered_ms,
        review_ms: m.review_ms,
        closed_ms: m.closed_ms,
        personal_data: m.personal_data,
        customer_data: m.customer_data,
        data_categories: m.data_categories,
        exercise: m.exercise,
        root_cause: m.root_cause,
        lessons: m.lessons,
        actions_note: m.actions_note,
        close_reason: m.close_reason,
    })
}

async fn build(db: &impl ConnectionTrait, rows: Vec<incident::Model>) -> Result<Vec<Incident>> {
    let ids: Vec<String> = rows.iter().map(|i| i.id.clone()).collect();
    let comps = inc_company::Entity::find().filter(inc_company::Column::IncidentId.is_in(ids)).all(db).await?;
    rows.into_iter()
        .map(|m| {
            let c = comps.iter().filter(|c| c.incident_id == m.id).map(|c| c.company_id.clone()).collect();
            view(m, c)
        })
        .collect()
}

/// What anyone can say when something looks wrong: a line and what happened.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReportInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// unauthorized_access, malware, data_leak, loss_theft, phishing, dos, insider, vendor or other; `other` when unsure.
    #[serde(default)]
    pub kind: Option<String>,
    /// When it was noticed (RFC 3339); now when absent.
    #[serde(default)]
    pub discovered_at: Option<String>,
    /// Whether customer information may be involved, as far as the reporter knows.
    #[serde(default)]
    pub customer_data: bool,
    /// For the CSIRT: the company the case belongs to (a reporter's own company otherwise).
    #[serde(default)]
    pub company_id: Option<String>,
    /// For the CSIRT: a drill, never counted in real statistics.
    #[serde(default)]
    pub exercise: bool,
    /// A provisional severity (1–4) set by code that opens a case from something already
    /// graded (an alert); the facts decide it at triage. Never read from a request.
    #[serde(skip)]
    pub severity: Option<i16>,
}

async fn next_ref(db: &impl ConnectionTrait, year: i16) -> Result<String> {
    let prefix = format!("INC-{year}-");
    let last: Option<String> = incident::Entity::find()
        .select_only()
        .column(incident::Column::Ref)
        .filter(incident::Column::Ref.starts_with(prefix.clone()))
        .order_by_desc(incident::Column::Ref)
        .into_tuple()
        .one(db)
        .await?;
    let n = last.and_then(|r| r[prefix.len()..].parse::<u32>().ok()).unwrap_or(0) + 1;
    Ok(format!("{prefix}{n:04}"))
}

/// CSIRT members and CISOs who run cases of `company`.
pub(crate) async fn responders_of(db: &impl ConnectionTrait, company: &str) -> Result<Vec<String>> {
    responders(db, company).await
}

async fn responders(db: &impl ConnectionTrait, company: &str) -> Result<Vec<String>> {
    Ok(isms_store::accounts::holders_of(db, &["csirt_member", "ciso"], Some(company), now_ms()).await?)
}

/// Reports a suspected incident. Only a title is required; the CSIRT is told at once.
pub async fn report(app: &App, who: &Principal, input: ReportInput) -> Result<Incident> {
    let Some(uid) = who.user_id.clone() else { return Err(AppError::Forbidden) };
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    if input.description.chars().count() > 20_000 {
        errors.push(FieldError::coded("description", "too-long", "is longer than 20000 characters").arg("max", "20000"));
    }
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => IncidentType::Other,
        Some(k) => IncidentType::parse(k).map_err(|e| errors.push(e)).unwrap_or(IncidentType::Other),
    };
    let now = now_ms();
    let discovered = match input.discovered_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => now,
        Some(s) => match isms_core::calendar::parse_moment(s) {
            Some(t) if t <= now + 60_000 => t,
            Some(_) => {
                errors.push(FieldError::coded("discovered_at", "date-not-future", "may not be in the future"));
                now
            }
            None => {
                errors.push(FieldError::coded("discovered_at", "moment", format!("`{s}` is not a date and time such as 2026-11-26T09:30")).arg("value", s));
                now
            }
        },
    };
    let txn = app.store.write().await?;
    let me = isms_policies::my_person(&txn, who).await?;
    let runs_cases = who.access.can(Permission::IncidentsManage);
    let company_id = match isms_kernel::input::blank_to_none(&input.company_id) {
        Some(c) if runs_cases => {
            if !who.access.can_for(Permission::IncidentsManage, c.parse().ok()) {
                errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not run incidents of this company"));
            }
            c
        }
        _ => match &me {
            Some(p) => p.company_id.clone(),
            None => {
                errors.push(FieldError::coded("company_id", "required", "is required"));
                String::new()
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let year = isms_core::calendar::zoned_at(now).map(|z| z.year()).unwrap_or(2026);
    let id = uuid::Uuid::now_v7().to_string();
    let r = next_ref(&txn, year).await?;
    let m = incident::Model {
        id: id.clone(),
        r#ref: r.clone(),
        title,
        kind: kind.code().into(),
        status: Status::Reported.code().into(),
        severity: input.severity.filter(|s| (1..=4).contains(s)),
        impact: None,
        exposure: if input.customer_data { Some(Exposure::Customer.code().into()) } else { None },
        company_id: company_id.clone(),
        description: input.description.trim().to_owned(),
        reported_by: Some(uid.clone()),
        reporter_person_id: me.map(|p| p.id),
        discovered_ms: discovered,
        reported_ms: now,
        triage_ms: None,
        contained_ms: None,
        eradicated_ms: None,
        recovered_ms: None,
        review_ms: None,
        closed_ms: None,
        personal_data: None,
        customer_data: input.customer_data,
        sensitive: false,
        financial_risk: false,
        unlawful_purpose: false,
        people_affected: None,
        strongly_encrypted: false,
        eu_residents: false,
        data_categories: String::new(),
        techniques: String::new(),
        exercise: input.exercise && runs_cases,
        root_cause: String::new(),
        lessons: String::new(),
        actions_note: String::new(),
        close_reason: String::new(),
        created_ms: now,
        updated_ms: now,
    };
    let saved = m.into_active_model().insert(&txn).await?;
    inc_company::Entity::insert(inc_company::ActiveModel { incident_id: Set(id.clone()), company_id: Set(company_id.clone()) })
        .exec_without_returning(&txn)
        .await?;
    timeline(&txn, &id, Some(&uid), "status", Status::Reported.code()).await?;
    for r_uid in responders(&txn, &company_id).await? {
        if r_uid != uid {
            let n = Notice::new("incident-reported", json!({"ref": r, "title": saved.title}), format!("/incidents/{id}"));
            notify::to_user(app, &txn, &r_uid, &n).await?;
        }
    }
    if !saved.exercise {
        notify::event(app, &txn, &Notice::new("incident-reported", json!({"ref": r, "title": saved.title}), format!("/incidents/{id}"))).await?;
    }
    // The report's text may hold personal data: the audit entry keeps the particulars only.
    record(app, &txn, who, "incidents.report", "incident", Some(&id), Some(&company_id), json!({"ref": r, "kind": kind, "exercise": saved.exercise})).await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

/// A date and time as typed: RFC 3339, or a local `YYYY-MM-DDTHH:MM` in Japan.
pub(crate) async fn timeline(db: &impl ConnectionTrait, incident_id: &str, actor: Option<&str>, kind: &str, text: &str) -> Result<()> {
    event::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        incident_id: Set(incident_id.to_owned()),
        at_ms: Set(now_ms()),
        actor: Set(actor.map(str::to_owned)),
        kind: Set(kind.into()),
        text: Set(text.to_owned()),
        personal: Set(false),
    }
    .insert(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    #[serde(default)]
    pub status: Option<String>,
    /// `open` for every case not closed.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Include drills.
    #[serde(default)]
    pub exercises: bool,
    /// `reported` (the default, newest first), `reference`, `title`, `severity`, `status` or `company`.
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
}

/// The columns a list of cases sorts by.
const ORDER: &[(&str, incident::Column)] = &[
    ("reported", incident::Column::ReportedMs),
    ("reference", incident::Column::Ref),
    ("title", incident::Column::Title),
    ("severity", incident::Column::Severity),
    ("status", incident::Column::Status),
    ("company", incident::Column::CompanyId),
];

/// Cases the caller may see, newest first unless asked otherwise.
pub async fn list(app: &App, who: &Principal, q: &IncidentQuery) -> Result<Page<Incident>> {
    let db = app.store.conn();
    let cond = match who.access.scope(Permission::IncidentsManage) {
        isms_core::Scope::Group => Condition::all(),
        manage => {
            let mut any = Condition::any();
            let mut clauses = 0;
            if let Some(uid) = &who.user_id {
                let mine = isms_store::sea_orm::sea_query::Query::select()
                    .column(member::Column::IncidentId)
                    .from(member::Entity)
                    .and_where(member::Column::UserId.eq(uid.clone()))
                    .to_owned();
                any = any.add(incident::Column::ReportedBy.eq(uid.clone())).add(incident::Column::Id.in_subquery(mine));
                clauses += 2;
            }
            if let isms_core::Scope::Companies(c) = manage {
                any = any.add(incident::Column::CompanyId.is_in(c.iter().map(|c| c.to_string())));
                clauses += 1;
            }
            // Readers of a company: its cases without personal information.
            let without_personal = Condition::any().add(incident::Column::PersonalData.is_null()).add(incident::Column::PersonalData.eq(false));
            match who.access.scope(Permission::IncidentsRead) {
                isms_core::Scope::Group => {
                    any = any.add(without_personal);
                    clauses += 1;
                }
                isms_core::Scope::Companies(c) => {
                    any = any.add(Condition::all().add(incident::Column::CompanyId.is_in(c.iter().map(|c| c.to_string()))).add(without_personal));
                    clauses += 1;
                }
                isms_core::Scope::Nothing => {}
            }
            if clauses == 0 {
                return Ok(Page { items: vec![], total: 0 });
            }
            any
        }
    };
    let mut sel = incident::Entity::find().filter(cond);
    match q.status.as_deref() {
        Some("open") => sel = sel.filter(incident::Column::Status.ne("closed")),
        Some(s) if !s.is_empty() => sel = sel.filter(incident::Column::Status.eq(s)),
        _ => {}
    }
    if let Some(c) = q.company_id.as_deref().filter(|c| !c.is_empty()) {
        sel = sel.filter(incident::Column::CompanyId.eq(c));
    }
    if !q.exercises {
        sel = sel.filter(incident::Column::Exercise.eq(false));
    }
    let total = sel.clone().count(db).await?;
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let cols = isms_kernel::order::Columns { keys: ORDER, default_desc: true, id: incident::Column::Id };
    let rows =
        isms_kernel::order::ordered(sel, cols, q.sort.as_deref(), q.dir.as_deref())?.offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    Ok(Page { items: build(db, rows).await?, total })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    pub at_ms: i64,
    pub actor: Option<String>,
    /// status, note or facts
    pub kind: String,
    pub text: String,
    /// A note marked as holding personal data (sealed at rest; this reading was logged).
    pub personal: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub decision: Decision,
    pub clocks: Vec<crate::clocks::Clock>,
    pub timeline: Vec<TimelineEntry>,
    pub members: Vec<String>,
    pub assets: Vec<String>,
    pub supports: Vec<String>,
    /// Whether the caller runs this case.
    pub can_run: bool,
    /// Whether the caller may add to the timeline (those who run it, members, the reporter).
    pub can_note: bool,
    pub actions: Vec<crate::followup::Action>,
    pub observables: Vec<crate::followup::Observable>,
    pub evidence: Vec<crate::followup::Evidence>,
    pub tasks: Vec<crate::playbooks::Task>,
    pub releases: Vec<crate::releases::Release>,
}

pub(crate) async fn load(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<incident::Model> {
    let i = incident::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    if !visible(db, who, &i).await? {
        return Err(AppError::NotFound);
    }
    Ok(i)
}

/// The case with its clocks, timeline and members. Reading notes that hold personal data
/// is recorded in the audit trail.
pub async fn get(app: &App, who: &Principal, id: &str) -> Result<IncidentDetail> {
    let db = app.store.conn();
    let i = load(db, who, id).await?;
    let can_run = runs(db, who, &i).await?;
    let can_note = can_run || crate::is_member(db, who, id).await? || (who.user_id.is_some() && who.user_id == i.reported_by);
    let reporter_only = !can_run && !who.access.can_for(Permission::IncidentsRead, i.company_id.parse().ok()) && !crate::is_member(db, who, id).await?;
    let events =
        if reporter_only { vec![] } else { event::Entity::find().filter(event::Column::IncidentId.eq(id)).order_by_asc(event::Column::AtMs).all(db).await? };
    let sealed = events.iter().filter(|e| e.personal).count();
    let mut timeline = vec![];
    for e in events {
        let text = if e.personal { app.fields().open(&e.text)? } else { e.text };
        timeline.push(TimelineEntry { at_ms: e.at_ms, actor: e.actor, kind: e.kind, text, personal: e.personal });
    }
    if sealed > 0 {
        let txn = app.store.write().await?;
        record(app, &txn, who, "incidents.note.view", "incident", Some(id), Some(&i.company_id), json!({"personal_notes": sealed})).await?;
        txn.commit().await?;
    }
    let members = member::Entity::find().filter(member::Column::IncidentId.eq(id)).all(db).await?.into_iter().map(|m| m.user_id).collect();
    let links = affected::Entity::find().filter(affected::Column::IncidentId.eq(id)).all(db).await?;
    let clocks = crate::clocks::named(app, crate::clocks::of(db, id).await?);
    let decision = decide(&facts_of(&i));
    let incident = build(db, vec![i]).await?.remove(0);
    Ok(IncidentDetail {
        incident,
        decision,
        clocks,
        timeline,
        members,
        assets: links.iter().filter(|l| l.target_kind == "asset").map(|l| l.target_id.clone()).collect(),
        supports: links.iter().filter(|l| l.target_kind == "support").map(|l| l.target_id.clone()).collect(),
        actions: if reporter_only { vec![] } else { crate::followup::actions(db, id).await? },
        observables: if reporter_only { vec![] } else { crate::followup::observables_of(db, id).await? },
        evidence: if can_run { crate::followup::evidence_of(db, id).await? } else { vec![] },
        tasks: if reporter_only { vec![] } else { crate::playbooks::tasks_of(db, id).await? },
        releases: if reporter_only { vec![] } else { crate::releases::of(db, id).await? },
        can_run,
        can_note,
    })
}

mod facts;
mod steps;

pub use facts::*;
pub use steps::*;
