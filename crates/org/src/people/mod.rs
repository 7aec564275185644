//! People of the group: list within scope, view (logged, it is personal data), create,
//! edit, deactivate leavers (their account is disabled at once) and import from CSV
//! all-or-nothing.

use isms_core::org::{Email, EmployeeNumber, EmploymentStatus, Name, parse_date};
use isms_core::{FieldError, Permission, PersonId};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::{api_token, session, user};
use isms_store::now_ms;
use isms_store::org::{self, PeopleQuery, company, department, person};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub id: String,
    pub employee_number: String,
    pub name: String,
    pub email: String,
    pub company_id: String,
    pub department_id: Option<String>,
    pub manager_id: Option<String>,
    pub status: String,
    pub joined_on: Option<String>,
    pub left_on: Option<String>,
}

impl From<person::Model> for Person {
    fn from(m: person::Model) -> Self {
        Self {
            id: m.id,
            employee_number: m.employee_number,
            name: m.name,
            email: m.email,
            company_id: m.company_id,
            department_id: m.department_id,
            manager_id: m.manager_id,
            status: m.status,
            joined_on: m.joined_on,
            left_on: m.left_on,
        }
    }
}

/// What a form or API body gives for a person. Strings as typed; parsing happens here.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PersonInput {
    pub employee_number: String,
    pub name: String,
    pub email: String,
    pub company_id: String,
    #[serde(default)]
    pub department_id: Option<String>,
    /// The manager's id or employee number.
    #[serde(default)]
    pub manager_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub joined_on: Option<String>,
    #[serde(default)]
    pub left_on: Option<String>,
}

pub use isms_kernel::Page;

mod import;
pub use import::*;

pub async fn list(app: &App, who: &Principal, q: &PeopleQuery) -> Result<Page<Person>> {
    let within = who.within(Permission::PeopleRead)?;
    let db = app.store.conn();
    let generation = app.store.generation();
    let rows = org::people_page(db, within.as_deref(), q).await?;
    // Counting scans every matching row; the count for one filter is kept until a write.
    let key = format!("{within:?}|{:?}|{:?}|{:?}|{:?}", q.search, q.company_id, q.department_id, q.status);
    let total = match app.caches().count(&key, generation) {
        Some(n) => n,
        None => {
            let n = org::people_count(db, within.as_deref(), q).await?;
            app.caches().put_count(key, generation, n);
            n
        }
    };
    Ok(Page { items: rows.into_iter().map(Person::from).collect(), total })
}

/// One person. Viewing personal data is recorded in the audit trail.
pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Person> {
    let m = person::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    // Out of scope looks exactly like absent: no one learns that the record exists.
    who.require_for(Permission::PeopleRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    let txn = app.store.write().await?;
    record(app, &txn, who, "people.view", "person", Some(&m.id), Some(&m.company_id), json!({})).await?;
    txn.commit().await?;
    Ok(m.into())
}

struct Valid {
    employee_number: EmployeeNumber,
    name: Name,
    email: Email,
    status: EmploymentStatus,
    joined_on: Option<String>,
    left_on: Option<String>,
}

fn validate(input: &PersonInput) -> std::result::Result<Valid, Vec<FieldError>> {
    let mut errors = vec![];
    let employee_number = EmployeeNumber::parse(&input.employee_number).map_err(|e| errors.push(e)).ok();
    let name = Name::parse("name", &input.name).map_err(|e| errors.push(e)).ok();
    let email = Email::parse(&input.email).map_err(|e| errors.push(e)).ok();
    let status = EmploymentStatus::parse(input.status.as_deref().unwrap_or("")).map_err(|e| errors.push(e)).ok();
    let joined = parse_date("joined_on", input.joined_on.as_deref().unwrap_or("")).map_err(|e| errors.push(e)).ok();
    let left = parse_date("left_on", input.left_on.as_deref().unwrap_or("")).map_err(|e| errors.push(e)).ok();
    if input.company_id.trim().is_empty() {
        errors.push(FieldError::coded("company_id", "required", "is required"));
    }
    if let (Some(Some(j)), Some(Some(l))) = (joined, left)
        && l < j
    {
        errors.push(FieldError::coded("left_on", "left-before-joined", "is before the joining date"));
    }
    match (employee_number, name, email, status, joined, left) {
        (Some(employee_number), Some(name), Some(email), Some(status), Some(j), Some(l)) if errors.is_empty() => {
            Ok(Valid { employee_number, name, email, status, joined_on: j.map(|d| d.to_string()), left_on: l.map(|d| d.to_string()) })
        }
        _ => Err(errors),
    }
}

/// The person behind the caller's account, if any (an API token acts for its issuer).
pub async fn of_principal(db: &impl ConnectionTrait, who: &Principal) -> Result<Option<person::Model>> {
    let Some(uid) = &who.user_id else { return Ok(None) };
    let Some(pid) = user::Entity::find_by_id(uid.clone()).one(db).await?.and_then(|u| u.person_id) else { return Ok(None) };
    Ok(person::Entity::find_by_id(pid).one(db).await?)
}

/// A manager or person may be named by id or by employee number (what people know).
pub async fn resolve_person_ref(db: &impl ConnectionTrait, field: &str, r: Option<String>) -> Result<Option<String>> {
    let Some(r) = r else { return Ok(None) };
    if uuid::Uuid::parse_str(&r).is_ok() {
        return Ok(Some(r));
    }
    match person::Entity::find().filter(person::Column::EmployeeNumber.eq(r.clone())).one(db).await? {
        Some(p) => Ok(Some(p.id)),
        None => Err(AppError::Invalid(vec![FieldError::coded(field, "no-person-number", format!("no person with employee number `{r}`")).arg("value", r)])),
    }
}

/// A required person reference (id or employee number) checked while a form's errors are
/// collected: a missing or unknown one joins `errors` and yields an empty id.
pub async fn required_person(db: &impl ConnectionTrait, field: &str, value: &str, errors: &mut Vec<FieldError>) -> Result<String> {
    match resolve_person_ref(db, field, isms_kernel::input::blank_to_none(&Some(value.to_owned()))).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => {
            errors.push(FieldError::coded(field, "required", "is required"));
            Ok(String::new())
        }
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            Ok(String::new())
        }
        Err(e) => Err(e),
    }
}

/// Checks that department and manager exist and belong where they should.
async fn check_links(db: &impl ConnectionTrait, company_id: &str, department_id: Option<&str>, manager_id: Option<&str>, self_id: Option<&str>) -> Result<()> {
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
    if let Some(m) = manager_id {
        if Some(m) == self_id {
            return Err(AppError::coded("manager_id", "own-manager", "a person cannot be their own manager"));
        }
        if person::Entity::find_by_id(m.to_owned()).one(db).await?.is_none() {
            return Err(AppError::coded("manager_id", "no-person", "no such person"));
        }
    }
    Ok(())
}

pub async fn create(app: &App, who: &Principal, input: PersonInput) -> Result<Person> {
    who.require_for(Permission::PeopleManage, Some(input.company_id.trim()))?;
    let v = validate(&input).map_err(AppError::Invalid)?;
    let department_id = isms_kernel::input::blank_to_none(&input.department_id);
    let txn = app.store.write().await?;
    let manager_id = resolve_person_ref(&txn, "manager_id", isms_kernel::input::blank_to_none(&input.manager_id)).await?;
    check_links(&txn, input.company_id.trim(), department_id.as_deref(), manager_id.as_deref(), None).await?;
    let now = now_ms();
    let saved = person::Model {
        id: PersonId::new().to_string(),
        company_id: input.company_id.trim().into(),
        department_id,
        employee_number: v.employee_number.as_str().into(),
        name: v.name.as_str().into(),
        email: v.email.as_str().into(),
        manager_id,
        status: v.status.code().into(),
        joined_on: v.joined_on,
        left_on: v.left_on,
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(unique_person)?;
    record(app, &txn, who, "people.create", "person", Some(&saved.id), Some(&saved.company_id), json!({"after": summary(&saved)})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

fn unique_person(e: isms_store::sea_orm::DbErr) -> AppError {
    let text = e.to_string();
    match AppError::from(e) {
        AppError::Conflict { .. } if text.contains("email") => AppError::coded("email", "duplicate-email", "another person has this e-mail address"),
        AppError::Conflict { .. } => AppError::coded("employee_number", "duplicate-employee-number", "another person has this employee number"),
        other => other,
    }
}

fn summary(m: &person::Model) -> serde_json::Value {
    // The audit trail keeps what changed, not a second copy of the personal data.
    json!({
        "employee_number": m.employee_number,
        "company_id": m.company_id,
        "department_id": m.department_id,
        "manager_id": m.manager_id,
        "status": m.status,
        "joined_on": m.joined_on,
        "left_on": m.left_on,
    })
}

pub async fn update(app: &App, who: &Principal, id: &str, input: PersonInput) -> Result<Person> {
    let txn = app.store.write().await?;
    let m = person::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::PeopleRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::PeopleManage, Some(&m.company_id))?;
    let v = validate(&input).map_err(AppError::Invalid)?;
    // Moving a person to another company needs the right there too.
    who.require_for(Permission::PeopleManage, Some(input.company_id.trim()))?;
    let department_id = isms_kernel::input::blank_to_none(&input.department_id);
    let manager_id = resolve_person_ref(&txn, "manager_id", isms_kernel::input::blank_to_none(&input.manager_id)).await?;
    check_links(&txn, input.company_id.trim(), department_id.as_deref(), manager_id.as_deref(), Some(id)).await?;
    let before = summary(&m);
    let was_left = m.status == EmploymentStatus::Left.code();
    let mut am = m.into_active_model();
    am.company_id = Set(input.company_id.trim().into());
    am.department_id = Set(department_id);
    am.employee_number = Set(v.employee_number.as_str().into());
    am.name = Set(v.name.as_str().into());
    am.email = Set(v.email.as_str().into());
    am.manager_id = Set(manager_id);
    am.status = Set(v.status.code().into());
    am.joined_on = Set(v.joined_on);
    am.left_on = Set(v.left_on);
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await.map_err(unique_person)?;
    record(app, &txn, who, "people.update", "person", Some(&saved.id), Some(&saved.company_id), json!({"before": before, "after": summary(&saved)})).await?;
    if !was_left && v.status == EmploymentStatus::Left {
        disable_account_of(app, &txn, who, &saved).await?;
    }
    txn.commit().await?;
    Ok(saved.into())
}

/// Marks a person as having left (today, unless a date is given) and disables their account.
pub async fn deactivate(app: &App, who: &Principal, id: &str, left_on: Option<&str>) -> Result<Person> {
    let left = parse_date("left_on", left_on.unwrap_or(""))?.unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let txn = app.store.write().await?;
    let m = person::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::PeopleRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::PeopleManage, Some(&m.company_id))?;
    let before = summary(&m);
    let mut am = m.into_active_model();
    am.status = Set(EmploymentStatus::Left.code().into());
    am.left_on = Set(Some(left.to_string()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "people.deactivate", "person", Some(&saved.id), Some(&saved.company_id), json!({"before": before, "after": summary(&saved)}))
        .await?;
    disable_account_of(app, &txn, who, &saved).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// A leaver's account is disabled, their sessions end and the tokens they issued stop working.
async fn disable_account_of(app: &App, txn: &impl ConnectionTrait, who: &Principal, p: &person::Model) -> Result<()> {
    let Some(u) = user::Entity::find().filter(user::Column::PersonId.eq(p.id.clone())).one(txn).await? else {
        return Ok(());
    };
    let uid = u.id.clone();
    if !u.disabled {
        let mut am = u.into_active_model();
        am.disabled = Set(true);
        am.updated_ms = Set(now_ms());
        am.update(txn).await?;
    }
    session::Entity::delete_many().filter(session::Column::UserId.eq(uid.clone())).exec(txn).await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::Revoked, isms_store::sea_orm::sea_query::Expr::val(true))
        .filter(api_token::Column::IssuedBy.eq(uid.clone()))
        .exec(txn)
        .await?;
    record(app, txn, who, "accounts.user.disable", "user", Some(&uid), Some(&p.company_id), json!({"reason": "person left"})).await?;
    Ok(())
}

/// The columns of a people CSV file, in any order; the first line names them.
pub const CSV_COLUMNS: [&str; 9] =
    ["employee_number", "name", "email", "company_code", "department_code", "manager_employee_number", "status", "joined_on", "left_on"];

/// Names and employee numbers of these people, for showing who owns or asked for a record
/// the reader already sees (not a view of the person's record, so not logged).
pub async fn names(app: &App, ids: &[String]) -> Result<HashMap<String, (String, String)>> {
    use isms_store::sea_orm::QuerySelect;
    // Read the generation before the database: a write committing meanwhile makes the
    // names put below stale at once.
    let generation = app.store.generation();
    let (mut out, missing) = app.caches().person_names(generation, ids);
    if missing.is_empty() {
        return Ok(out);
    }
    let mut looked_up = HashMap::new();
    for chunk in missing.chunks(500) {
        let rows: Vec<(String, String, String)> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::Name)
            .column(person::Column::EmployeeNumber)
            .filter(person::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(app.store.conn())
            .await?;
        for (id, name, number) in rows {
            looked_up.insert(id, (name, number));
        }
    }
    app.caches().put_person_names(generation, &looked_up);
    out.extend(looked_up);
    Ok(out)
}
