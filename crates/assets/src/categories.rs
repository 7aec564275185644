//! Handling categories: the group's classes of information and the rules for each. Only
//! the CISO changes them; every change re-checks the assets of the category.

use super::conformance::{self, Target};
use isms_core::assets::{Disposal, Egress, HandlingRules, default_categories};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::assets::{asset, category, cloud_approval, takeout};
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_ja: Option<String>,
    pub description: String,
    pub rules: HandlingRules,
}

impl Category {
    /// The name in the reader's language.
    pub fn name_in(&self, lang: &str) -> &str {
        match (&self.name_ja, lang) {
            (Some(ja), "ja") if !ja.is_empty() => ja,
            _ => &self.name,
        }
    }
}

impl TryFrom<category::Model> for Category {
    type Error = AppError;
    fn try_from(m: category::Model) -> Result<Self> {
        let bad = |e: FieldError| AppError::internal(format!("category {}: {e}", m.code));
        let rules = HandlingRules {
            customer_information: m.customer_information,
            personal_information: m.personal_information,
            need_to_know: m.need_to_know,
            access_roles: m.access_roles.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            on_premises: m.on_premises,
            approved_cloud: m.approved_cloud,
            terminals: m.terminals,
            paper_locked: m.paper_locked,
            take_out: Egress::parse(&m.take_out).map_err(bad)?,
            remote_work: Egress::parse(&m.remote_work).map_err(bad)?,
            email_outside: Egress::parse(&m.email_outside).map_err(bad)?,
            removable_media: Egress::parse(&m.removable_media).map_err(bad)?,
            encrypt_at_rest: m.encrypt_at_rest,
            encrypt_in_transit: m.encrypt_in_transit,
            mfa: m.mfa,
            access_logging: m.access_logging,
            retention_months: m.retention_months.map(|v| v.max(0) as u32),
            disposal: Disposal::parse(&m.disposal).map_err(bad)?,
        };
        Ok(Self { id: m.id, code: m.code, name: m.name, name_ja: m.name_ja, description: m.description, rules })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CategoryInput {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_ja: Option<String>,
    #[serde(default)]
    pub description: String,
    pub rules: HandlingRules,
}

fn validate(input: &CategoryInput) -> std::result::Result<(String, String), Vec<FieldError>> {
    let mut errors = vec![];
    let code = match isms_core::org::Code::parse("code", &input.code) {
        Ok(c) => c.as_str().to_owned(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    if let Err(e) = input.rules.validate() {
        errors.extend(e);
    }
    if errors.is_empty() { Ok((code, name)) } else { Err(errors) }
}

fn model(id: String, code: String, name: String, input: &CategoryInput, created_ms: i64) -> category::Model {
    let r = &input.rules;
    category::Model {
        id,
        code,
        name,
        name_ja: isms_kernel::input::blank_to_none(&input.name_ja),
        description: input.description.trim().to_owned(),
        customer_information: r.customer_information,
        personal_information: r.personal_information,
        need_to_know: r.need_to_know,
        access_roles: r.access_roles.join(","),
        on_premises: r.on_premises,
        approved_cloud: r.approved_cloud,
        terminals: r.terminals,
        paper_locked: r.paper_locked,
        take_out: r.take_out.code().into(),
        remote_work: r.remote_work.code().into(),
        email_outside: r.email_outside.code().into(),
        removable_media: r.removable_media.code().into(),
        encrypt_at_rest: r.encrypt_at_rest,
        encrypt_in_transit: r.encrypt_in_transit,
        mfa: r.mfa,
        access_logging: r.access_logging,
        retention_months: r.retention_months.map(|m| m as i32),
        disposal: r.disposal.code().into(),
        created_ms,
        updated_ms: now_ms(),
    }
}

/// The categories as last read, for 30 seconds at most: nearly every asset page shows them.
struct Cached(isms_kernel::cache::Slot<Vec<Category>>);

impl Default for Cached {
    fn default() -> Self {
        Cached(isms_kernel::cache::Slot::new(std::time::Duration::from_secs(30)))
    }
}

/// Every category. Categories are the group's, so anyone who reads assets or requests a
/// take-out reads them.
pub async fn list(app: &App, _who: &Principal) -> Result<Vec<Category>> {
    let generation = app.store.generation();
    let shared = app.shared::<Cached>();
    if let Some(c) = shared.0.get(generation) {
        return Ok(c);
    }
    let c = all(app.store.conn()).await?;
    shared.0.put(generation, c.clone());
    Ok(c)
}

pub(crate) async fn all(db: &impl ConnectionTrait) -> Result<Vec<Category>> {
    category::Entity::find()
        .order_by_desc(category::Column::CustomerInformation)
        .order_by_desc(category::Column::PersonalInformation)
        .order_by_asc(category::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(Category::try_from)
        .collect()
}

pub async fn get(app: &App, _who: &Principal, id: &str) -> Result<Category> {
    category::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?.try_into()
}

pub async fn create(app: &App, who: &Principal, input: CategoryInput) -> Result<Category> {
    who.require(Permission::CategoriesManage)?;
    let (code, name) = validate(&input).map_err(AppError::Invalid)?;
    let txn = app.store.write().await?;
    let m = model(isms_core::CompanyId::new().to_string(), code, name, &input, now_ms());
    let saved = m.into_active_model().insert(&txn).await.map_err(|e| unique_code(e.into()))?;
    record(app, &txn, who, "assets.category.create", "handling_category", Some(&saved.id), None, json!({"after": input})).await?;
    txn.commit().await?;
    saved.try_into()
}

pub async fn update(app: &App, who: &Principal, id: &str, input: CategoryInput) -> Result<Category> {
    who.require(Permission::CategoriesManage)?;
    let (code, name) = validate(&input).map_err(AppError::Invalid)?;
    let txn = app.store.write().await?;
    let old = category::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let before: Category = old.clone().try_into()?;
    let mut am = model(old.id.clone(), code, name, &input, old.created_ms).into_active_model();
    am.id = isms_store::sea_orm::ActiveValue::Unchanged(old.id.clone());
    let saved = am.reset_all().update(&txn).await.map_err(|e| unique_code(e.into()))?;
    if before.rules.customer_information != input.rules.customer_information {
        asset::Entity::update_many()
            .col_expr(asset::Column::CustomerInformation, isms_store::sea_orm::sea_query::Expr::val(input.rules.customer_information))
            .filter(asset::Column::CategoryId.eq(saved.id.clone()))
            .exec(&txn)
            .await?;
    }
    record(app, &txn, who, "assets.category.update", "handling_category", Some(&saved.id), None, json!({"before": before, "after": input})).await?;
    conformance::recheck(app, &txn, who, Target::Category(saved.id.clone())).await?;
    txn.commit().await?;
    saved.try_into()
}

/// Deletes a category nothing refers to; one in use is refused with what still uses it.
pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<()> {
    who.require(Permission::CategoriesManage)?;
    let txn = app.store.write().await?;
    let old = category::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let assets = asset::Entity::find().filter(asset::Column::CategoryId.eq(id)).count(&txn).await?;
    let approvals = cloud_approval::Entity::find().filter(cloud_approval::Column::CategoryId.eq(id)).count(&txn).await?;
    let takeouts = takeout::Entity::find().filter(takeout::Column::CategoryId.eq(id)).count(&txn).await?;
    if assets + approvals + takeouts > 0 {
        return Err(AppError::Invalid(vec![
            FieldError::coded(
                "category",
                "category-in-use",
                format!("is still used by {assets} asset(s), {approvals} cloud approval(s) and {takeouts} take-out request(s)"),
            )
            .arg("assets", assets.to_string())
            .arg("approvals", approvals.to_string())
            .arg("takeouts", takeouts.to_string()),
        ]));
    }
    category::Entity::delete_by_id(old.id.clone()).exec(&txn).await?;
    record(app, &txn, who, "assets.category.delete", "handling_category", Some(&old.id), None, json!({"code": old.code})).await?;
    txn.commit().await?;
    Ok(())
}

fn unique_code(e: AppError) -> AppError {
    match e {
        AppError::Conflict { .. } => AppError::coded("code", "code-taken", "another category has this code"),
        other => other,
    }
}

/// Installs the shipped categories when there are none yet. Returns how many it added.
pub async fn ensure_defaults(app: &App) -> Result<usize> {
    let db = app.store.conn();
    if category::Entity::find().count(db).await? > 0 {
        return Ok(0);
    }
    let who = Principal::system();
    let txn = app.store.write().await?;
    let defaults = default_categories();
    for (code, name, name_ja, rules) in &defaults {
        let input =
            CategoryInput { code: (*code).into(), name: (*name).into(), name_ja: Some((*name_ja).into()), description: String::new(), rules: rules.clone() };
        let m = model(isms_core::CompanyId::new().to_string(), (*code).into(), (*name).into(), &input, now_ms());
        let saved = m.into_active_model().insert(&txn).await?;
        record(app, &txn, &who, "assets.category.create", "handling_category", Some(&saved.id), None, json!({"after": input, "shipped": true})).await?;
    }
    txn.commit().await?;
    Ok(defaults.len())
}
