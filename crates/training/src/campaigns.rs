//! Training campaigns: a course assigned to a population (everyone, companies, departments,
//! roles, recent joiners) with a start and a due date. Creating one enrols everyone it
//! reaches in the same transaction; while it runs, the enrolment job adds joiners (with a
//! grace period after the day they are enrolled) and drops leavers' open assignments.

use crate::{new_id, reads, require_manages};
use isms_core::training::{AssignmentStatus, Candidate, Population, due_for};
use isms_core::{FieldError, Permission, Role};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::{role_grant, user};
use isms_store::now_ms;
use isms_store::org::{department, person};
use isms_store::sea_orm::sea_query::{Expr, OnConflict};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use isms_store::training::{assignment, campaign, course};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub course_id: String,
    pub company_id: Option<String>,
    pub population: Population,
    pub starts_on: String,
    pub due_on: String,
    pub grace_days: i32,
    /// active (enrolling joiners) or closed
    pub status: String,
    pub created_ms: i64,
}

impl From<campaign::Model> for Campaign {
    fn from(m: campaign::Model) -> Self {
        Self {
            population: serde_json::from_str(&m.population).unwrap_or_default(),
            id: m.id,
            title: m.title,
            course_id: m.course_id,
            company_id: m.company_id,
            starts_on: m.starts_on,
            due_on: m.due_on,
            grace_days: m.grace_days,
            status: m.status,
            created_ms: m.created_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CampaignInput {
    pub title: String,
    pub course_id: String,
    /// Empty for a group-wide campaign (which needs the permission group-wide).
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub population: Population,
    /// YYYY-MM-DD; today when blank.
    #[serde(default)]
    pub starts_on: Option<String>,
    /// YYYY-MM-DD
    pub due_on: String,
    /// Days a joiner enrolled after the start has, when later than the due date (default 14).
    #[serde(default)]
    pub grace_days: Option<i32>,
}

/// Counts of one company's (or department's) assignments.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CampaignProgress {
    pub company_id: String,
    pub department_id: Option<String>,
    /// Every assignment that was not dropped.
    pub assigned: u64,
    pub completed: u64,
    /// Not completed and past the due date.
    pub overdue: u64,
}

impl CampaignProgress {
    /// Whole percent completed.
    pub fn percent(&self) -> u64 {
        (self.completed * 100).checked_div(self.assigned).unwrap_or(0)
    }
}

fn scope(who: &Principal) -> Result<Condition> {
    Ok(match who.within(Permission::TrainingRead)? {
        None => Condition::all(),
        Some(list) => Condition::any().add(campaign::Column::CompanyId.is_null()).add(campaign::Column::CompanyId.is_in(list)),
    })
}

pub async fn list(app: &App, who: &Principal) -> Result<Vec<Campaign>> {
    let rows = campaign::Entity::find()
        .filter(scope(who)?)
        .order_by_asc(campaign::Column::Status)
        .order_by_desc(campaign::Column::DueOn)
        .order_by_desc(campaign::Column::Id)
        .all(app.store.conn())
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    let m = campaign::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    if !reads(who, m.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(m.into())
}

/// Whether `who` may close `c` (for the page's button).
pub fn can_manage(who: &Principal, c: &Campaign) -> bool {
    crate::manages(who, c.company_id.as_deref())
}

struct Valid {
    title: String,
    course_id: String,
    company_id: Option<String>,
    population: Population,
    starts_on: Date,
    due_on: Date,
    grace_days: i32,
}

async fn validate(db: &impl ConnectionTrait, input: &CampaignInput) -> Result<Valid> {
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let company_id = isms_kernel::input::blank_to_none(&input.company_id);
    let today = isms_core::calendar::today();
    let starts_on = isms_kernel::input::date_opt(&mut errors, "starts_on", &input.starts_on).unwrap_or(today);
    let due_on = isms_kernel::input::date_opt(&mut errors, "due_on", &Some(input.due_on.clone()));
    if due_on.is_none() && input.due_on.trim().is_empty() {
        errors.push(FieldError::coded("due_on", "required", "is required"));
    }
    if let Some(d) = due_on
        && d < starts_on
    {
        errors.push(FieldError::coded("due_on", "due-before-start", "is before the start"));
    }
    let grace_days = input.grace_days.unwrap_or(14);
    if !(0..=365).contains(&grace_days) {
        errors.push(FieldError::coded("grace_days", "range", "must be between 0 and 365").arg("min", "0").arg("max", "365"));
    }
    if let Some(n) = input.population.joined_within_days
        && !(1..=3650).contains(&n)
    {
        errors.push(FieldError::coded("joined_within_days", "range", "must be between 1 and 3650").arg("min", "1").arg("max", "3650"));
    }
    let mut population = input.population.clone();
    population.companies.retain(|c| !c.trim().is_empty());
    population.departments.retain(|d| !d.trim().is_empty());
    population.companies.sort();
    population.companies.dedup();
    population.departments.sort();
    population.departments.dedup();
    population.roles.sort();
    population.roles.dedup();
    // A company's campaign reaches that company's people only.
    if let Some(c) = &company_id {
        if population.companies.iter().any(|x| x != c) {
            errors.push(FieldError::coded("companies", "campaign-other-company", "a company's campaign reaches only its own people"));
        }
        population.companies = vec![c.clone()];
    }
    if !population.departments.is_empty() {
        let found = department::Entity::find().filter(department::Column::Id.is_in(population.departments.clone())).all(db).await?;
        for d in &population.departments {
            match found.iter().find(|f| &f.id == d) {
                None => errors.push(FieldError::coded("departments", "no-department", "no such department").arg("value", d.clone())),
                Some(f) if !population.companies.is_empty() && !population.companies.contains(&f.company_id) => {
                    errors.push(FieldError::coded("departments", "department-other-company", "belongs to another company").arg("value", f.name.clone()))
                }
                Some(_) => {}
            }
        }
    }
    let course = if input.course_id.trim().is_empty() {
        errors.push(FieldError::coded("course_id", "required", "is required"));
        None
    } else {
        course::Entity::find_by_id(input.course_id.trim().to_owned()).one(db).await?
    };
    match &course {
        None if !input.course_id.trim().is_empty() => errors.push(FieldError::coded("course_id", "no-course", "no such course")),
        Some(c) if c.retired => errors.push(FieldError::coded("course_id", "course-retired", "the course is retired")),
        // A campaign offers the group's courses, or its own company's.
        Some(c) if c.company_id.is_some() && c.company_id != company_id => {
            errors.push(FieldError::coded("course_id", "course-other-company", "the course belongs to another company"))
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Valid { title, course_id: input.course_id.trim().to_owned(), company_id, population, starts_on, due_on: due_on.unwrap_or(starts_on), grace_days })
}

pub async fn create(app: &App, who: &Principal, input: CampaignInput) -> Result<(Campaign, u64)> {
    // Who runs it first: a company administrator's form names their company.
    require_manages(who, isms_kernel::input::blank_to_none(&input.company_id).as_deref())?;
    let txn = app.store.write().await?;
    let v = validate(&txn, &input).await?;
    let now = now_ms();
    let id = new_id();
    let m = campaign::ActiveModel {
        id: Set(id.clone()),
        title: Set(v.title.clone()),
        course_id: Set(v.course_id.clone()),
        company_id: Set(v.company_id.clone()),
        population: Set(serde_json::to_string(&v.population).map_err(AppError::internal)?),
        starts_on: Set(v.starts_on.to_string()),
        due_on: Set(v.due_on.to_string()),
        grace_days: Set(v.grace_days),
        status: Set("active".into()),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    let today = isms_core::calendar::today();
    let enrolled = enrol(&txn, &m, today).await?;
    record(
        app,
        &txn,
        who,
        "training.campaign.create",
        "training_campaign",
        Some(&id),
        v.company_id.as_deref(),
        json!({"title": v.title, "course_id": v.course_id, "population": v.population, "starts_on": v.starts_on.to_string(), "due_on": v.due_on.to_string(), "enrolled": enrolled}),
    )
    .await?;
    txn.commit().await?;
    Ok((m.into(), enrolled))
}

/// Ends a campaign's enrolment: joiners are no longer added. Open assignments stay.
pub async fn close(app: &App, who: &Principal, id: &str) -> Result<Campaign> {
    let txn = app.store.write().await?;
    let m = campaign::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !reads(who, m.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    require_manages(who, m.company_id.as_deref())?;
    let company = m.company_id.clone();
    let mut am = m.into_active_model();
    am.status = Set("closed".into());
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "training.campaign.close", "training_campaign", Some(id), company.as_deref(), json!({})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// The active people of the group `p` reaches today, with their department.
pub async fn resolve(db: &impl ConnectionTrait, p: &Population, today: Date) -> Result<Vec<person::Model>> {
    let mut sel = person::Entity::find().filter(person::Column::Status.eq("active"));
    if !p.companies.is_empty() {
        sel = sel.filter(person::Column::CompanyId.is_in(p.companies.clone()));
    }
    if !p.departments.is_empty() {
        sel = sel.filter(person::Column::DepartmentId.is_in(p.departments.clone()));
    }
    let people = sel.order_by_asc(person::Column::Id).all(db).await?;
    let roles = if p.roles.is_empty() { HashMap::new() } else { roles_of_people(db).await? };
    let none: Vec<Role> = vec![];
    Ok(people
        .into_iter()
        .filter(|m| {
            let c = Candidate {
                company_id: &m.company_id,
                department_id: m.department_id.as_deref(),
                active: m.status == "active",
                joined_on: m.joined_on.as_deref().and_then(|d| d.parse().ok()),
                roles: roles.get(&m.id).unwrap_or(&none),
            };
            p.includes(&c, today)
        })
        .collect())
}

/// The roles each person's enabled account holds now.
async fn roles_of_people(db: &impl ConnectionTrait) -> Result<HashMap<String, Vec<Role>>> {
    let now = now_ms();
    let users: HashMap<String, String> = user::Entity::find()
        .filter(user::Column::Disabled.eq(false))
        .filter(user::Column::PersonId.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|u| u.person_id.map(|p| (u.id, p)))
        .collect();
    let mut out: HashMap<String, Vec<Role>> = HashMap::new();
    let grants = role_grant::Entity::find()
        .filter(Condition::any().add(role_grant::Column::ExpiresMs.is_null()).add(role_grant::Column::ExpiresMs.gt(now)))
        .all(db)
        .await?;
    for g in grants {
        if let (Some(person), Ok(role)) = (users.get(&g.user_id), g.role.parse::<Role>()) {
            out.entry(person.clone()).or_default().push(role);
        }
    }
    Ok(out)
}

/// Enrols whoever `c` reaches today and has no assignment in it yet. Safe to run twice at
/// once: the unique (campaign, person) index lets each person in once.
pub(crate) async fn enrol(db: &impl ConnectionTrait, c: &campaign::Model, today: Date) -> Result<u64> {
    let population: Population = serde_json::from_str(&c.population).map_err(AppError::internal)?;
    let (Ok(start), Ok(due)) = (c.starts_on.parse::<Date>(), c.due_on.parse::<Date>()) else {
        return Err(AppError::internal(format!("campaign {} has unreadable dates", c.id)));
    };
    let have: HashSet<String> = assignment::Entity::find()
        .select_only()
        .column(assignment::Column::PersonId)
        .filter(assignment::Column::CampaignId.eq(c.id.clone()))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let now = now_ms();
    let rows: Vec<assignment::ActiveModel> = resolve(db, &population, today)
        .await?
        .into_iter()
        .filter(|p| !have.contains(&p.id))
        .map(|p| assignment::ActiveModel {
            id: Set(new_id()),
            campaign_id: Set(c.id.clone()),
            course_id: Set(c.course_id.clone()),
            person_id: Set(p.id),
            company_id: Set(p.company_id),
            department_id: Set(p.department_id),
            due_on: Set(due_for(due, start, today, c.grace_days.max(0) as u32).to_string()),
            status: Set(AssignmentStatus::Assigned.code().into()),
            assigned_ms: Set(now),
            completed_ms: Set(None),
            completion_id: Set(None),
        })
        .collect();
    let mut added = 0;
    for chunk in rows.chunks(500) {
        let r = assignment::Entity::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::columns([assignment::Column::CampaignId, assignment::Column::PersonId]).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        added += r;
    }
    Ok(added)
}

/// The enrolment job: joiners into every active campaign that has started, and leavers'
/// open assignments dropped. Returns how many assignments it added or dropped.
pub async fn sync_all(app: &App) -> Result<u64> {
    let today = isms_core::calendar::today();
    // Nothing to enrol or drop without a campaign or an open assignment: no write then.
    let db = app.store.conn();
    let any_campaign = campaign::Entity::find().filter(campaign::Column::Status.eq("active")).one(db).await?.is_some();
    let any_open = assignment::Entity::find().filter(assignment::Column::Status.eq(AssignmentStatus::Assigned.code())).one(db).await?.is_some();
    if !any_campaign && !any_open {
        return Ok(0);
    }
    let txn = app.store.write_quiet().await?;
    let leavers: Vec<String> =
        person::Entity::find().select_only().column(person::Column::Id).filter(person::Column::Status.ne("active")).into_tuple::<String>().all(&txn).await?;
    let mut changed = 0;
    for chunk in leavers.chunks(500) {
        changed += assignment::Entity::update_many()
            .col_expr(assignment::Column::Status, Expr::value(AssignmentStatus::Dropped.code()))
            .filter(assignment::Column::Status.eq(AssignmentStatus::Assigned.code()))
            .filter(assignment::Column::PersonId.is_in(chunk.iter().cloned()))
            .exec(&txn)
            .await?
            .rows_affected;
    }
    let running =
        campaign::Entity::find().filter(campaign::Column::Status.eq("active")).filter(campaign::Column::StartsOn.lte(today.to_string())).all(&txn).await?;
    for c in &running {
        changed += enrol(&txn, c, today).await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Assignments of a campaign by company and department, within `who`'s companies.
pub async fn progress(app: &App, who: &Principal, id: &str) -> Result<Vec<CampaignProgress>> {
    let c = get(app, who, id).await?;
    let within = who.within(Permission::TrainingRead)?;
    let today = isms_core::calendar::today().to_string();
    let db = app.store.conn();
    let mut sel = assignment::Entity::find()
        .select_only()
        .column(assignment::Column::CompanyId)
        .column(assignment::Column::DepartmentId)
        .column(assignment::Column::Status)
        .column(assignment::Column::DueOn)
        .column_as(assignment::Column::Id.count(), "n")
        .filter(assignment::Column::CampaignId.eq(c.id.clone()))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Dropped.code()))
        .group_by(assignment::Column::CompanyId)
        .group_by(assignment::Column::DepartmentId)
        .group_by(assignment::Column::Status)
        .group_by(assignment::Column::DueOn);
    if let Some(list) = within {
        sel = sel.filter(assignment::Column::CompanyId.is_in(list));
    }
    // Due dates are few (the campaign's, and joiners' later ones), so the groups stay few.
    let rows: Vec<(String, Option<String>, String, String, i64)> = sel.into_tuple().all(db).await?;
    let mut by: HashMap<(String, Option<String>), CampaignProgress> = HashMap::new();
    for (company, dept, status, due_on, n) in rows {
        let p =
            by.entry((company.clone(), dept.clone())).or_insert_with(|| CampaignProgress { company_id: company, department_id: dept, ..Default::default() });
        let n = n.max(0) as u64;
        p.assigned += n;
        if status == AssignmentStatus::Completed.code() {
            p.completed += n;
        } else if due_on < today {
            p.overdue += n;
        }
    }
    let mut out: Vec<CampaignProgress> = by.into_values().collect();
    out.sort_by(|a, b| (&a.company_id, &a.department_id).cmp(&(&b.company_id, &b.department_id)));
    Ok(out)
}

/// One person's assignment as the campaign's export lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub person_id: String,
    pub employee_number: String,
    pub name: String,
    pub company_id: String,
    pub department_id: Option<String>,
    pub status: String,
    pub due_on: String,
    pub overdue: bool,
    pub completed_ms: Option<i64>,
}

/// Every assignment of a campaign within `who`'s companies, for the export.
pub async fn rows(app: &App, who: &Principal, id: &str) -> Result<Vec<Row>> {
    let c = get(app, who, id).await?;
    let within = who.within(Permission::TrainingRead)?;
    let db = app.store.conn();
    let mut sel = assignment::Entity::find().filter(assignment::Column::CampaignId.eq(c.id.clone()));
    if let Some(list) = within {
        sel = sel.filter(assignment::Column::CompanyId.is_in(list));
    }
    let list =
        sel.order_by_asc(assignment::Column::CompanyId).order_by_asc(assignment::Column::DepartmentId).order_by_asc(assignment::Column::Id).all(db).await?;
    let ids: Vec<String> = list.iter().map(|a| a.person_id.clone()).collect();
    let names = isms_org::people::names(app, &ids).await?;
    let today = isms_core::calendar::today().to_string();
    Ok(list
        .into_iter()
        .map(|a| {
            let (name, number) = names.get(&a.person_id).cloned().unwrap_or_default();
            Row {
                overdue: a.status == AssignmentStatus::Assigned.code() && a.due_on < today,
                person_id: a.person_id,
                employee_number: number,
                name,
                company_id: a.company_id,
                department_id: a.department_id,
                status: a.status,
                due_on: a.due_on,
                completed_ms: a.completed_ms,
            }
        })
        .collect())
}
