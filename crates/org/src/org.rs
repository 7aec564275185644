//! Group companies and departments: listing within scope, creating and renaming.

use isms_core::org::{Code, Name};
use isms_core::{CompanyId, DepartmentId, FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::org::{self, company, department};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_ja: Option<String>,
    pub is_holding: bool,
    pub active: bool,
}

impl From<company::Model> for Company {
    fn from(m: company::Model) -> Self {
        Self { id: m.id, code: m.code, name: m.name, name_ja: m.name_ja, is_holding: m.is_holding, active: m.active }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Department {
    pub id: String,
    pub company_id: String,
    pub code: String,
    pub name: String,
}

impl From<department::Model> for Department {
    fn from(m: department::Model) -> Self {
        Self { id: m.id, company_id: m.company_id, code: m.code, name: m.name }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CompanyInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_ja: Option<String>,
    #[serde(default)]
    pub is_holding: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DepartmentInput {
    pub company_id: String,
    pub code: String,
    pub name: String,
}

fn collect<T>(errors: &mut Vec<FieldError>, r: std::result::Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// Every company and department, from the cache while it is current.
async fn all(app: &App) -> Result<(Vec<company::Model>, Vec<department::Model>)> {
    let generation = app.store.generation();
    if let Some(v) = app.caches().org(generation) {
        return Ok(v);
    }
    let v = (org::companies(app.store.conn(), None).await?, org::departments(app.store.conn(), None).await?);
    app.caches().put_org(generation, v.clone());
    Ok(v)
}

fn in_scope(within: &Option<Vec<String>>, company: &str) -> bool {
    within.as_ref().is_none_or(|w| w.iter().any(|c| c == company))
}

pub async fn list_companies(app: &App, who: &Principal) -> Result<Vec<Company>> {
    let within = who.within(Permission::OrgRead)?;
    let (companies, _) = all(app).await?;
    Ok(companies.into_iter().filter(|c| in_scope(&within, &c.id)).map(Company::from).collect())
}

/// The codes of the group's companies by id, for naming the company of a record the
/// reader may already see (an employee's own report or take-out). The group's companies
/// are no secret inside it; what each holds stays behind its permissions.
pub async fn company_codes(app: &App) -> Result<std::collections::HashMap<String, String>> {
    let (companies, _) = all(app).await?;
    Ok(companies.into_iter().map(|c| (c.id, c.code)).collect())
}

pub async fn list_departments(app: &App, who: &Principal) -> Result<Vec<Department>> {
    let within = who.within(Permission::OrgRead)?;
    let (_, departments) = all(app).await?;
    Ok(departments.into_iter().filter(|d| in_scope(&within, &d.company_id)).map(Department::from).collect())
}

pub async fn get_company(app: &App, who: &Principal, id: &str) -> Result<Company> {
    let m = company::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::OrgRead, Some(&m.id)).map_err(|_| AppError::NotFound)?;
    Ok(m.into())
}

pub async fn create_company(app: &App, who: &Principal, input: CompanyInput) -> Result<Company> {
    who.require_for(Permission::OrgManage, None)?;
    let mut errors = vec![];
    let code = collect(&mut errors, Code::parse("code", &input.code));
    let name = collect(&mut errors, Name::parse("name", &input.name));
    let name_ja = match input.name_ja.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => collect(&mut errors, Name::parse("name_ja", s)).map(|n| Some(n.as_str().to_owned())),
        None => Some(None),
    };
    let (Some(code), Some(name), Some(name_ja)) = (code, name, name_ja) else {
        return Err(AppError::Invalid(errors));
    };
    let now = now_ms();
    let m = company::Model {
        id: CompanyId::new().to_string(),
        code: code.as_str().into(),
        name: name.as_str().into(),
        name_ja,
        is_holding: input.is_holding,
        active: true,
        created_ms: now,
        updated_ms: now,
    };
    let txn = app.store.write().await?;
    let saved =
        m.clone().into_active_model().insert(&txn).await.map_err(|e| conflict_on(e, "code", "duplicate-code", "a company with this code already exists"))?;
    record(app, &txn, who, "org.company.create", "company", Some(&saved.id), Some(&saved.id), json!({"after": {"code": saved.code, "name": saved.name}}))
        .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn create_department(app: &App, who: &Principal, input: DepartmentInput) -> Result<Department> {
    who.require_for(Permission::OrgManage, Some(&input.company_id))?;
    let mut errors = vec![];
    let code = collect(&mut errors, Code::parse("code", &input.code));
    let name = collect(&mut errors, Name::parse("name", &input.name));
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::Invalid(errors));
    };
    let txn = app.store.write().await?;
    if company::Entity::find_by_id(input.company_id.clone()).one(&txn).await?.is_none() {
        return Err(AppError::coded("company_id", "no-company", "no such company"));
    }
    let now = now_ms();
    let saved = department::Model {
        id: DepartmentId::new().to_string(),
        company_id: input.company_id,
        code: code.as_str().into(),
        name: name.as_str().into(),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| conflict_on(e, "code", "duplicate-code", "this company already has a department with this code"))?;
    record(
        app,
        &txn,
        who,
        "org.department.create",
        "department",
        Some(&saved.id),
        Some(&saved.company_id),
        json!({"after": {"code": saved.code, "name": saved.name}}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

pub async fn rename_company(app: &App, who: &Principal, id: &str, name: &str, name_ja: Option<&str>) -> Result<Company> {
    who.require_for(Permission::OrgManage, Some(id))?;
    let name = Name::parse("name", name)?;
    let txn = app.store.write().await?;
    let m = company::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let before = json!({"name": m.name, "name_ja": m.name_ja});
    let mut am = m.into_active_model();
    am.name = Set(name.as_str().into());
    am.name_ja = Set(name_ja.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "org.company.update",
        "company",
        Some(&saved.id),
        Some(&saved.id),
        json!({"before": before, "after": {"name": saved.name, "name_ja": saved.name_ja}}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Turns a unique-key violation into an error on the field that caused it.
pub fn conflict_on(e: isms_store::sea_orm::DbErr, field: &str, code: &'static str, message: &str) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded(field, code, message),
        other => other,
    }
}
