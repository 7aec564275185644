//! Supporting assets: the systems, cloud services, terminals and paper storage that hold
//! information, with the security facts the conformance check reads. A change re-checks
//! every asset the holder holds.

use super::conformance::{self, Target};
use isms_core::assets::SupportKind;
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::assets::{self as tables, SupportQuery, category, cloud_approval, link, support};
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Support {
    pub id: String,
    pub company_id: String,
    pub kind: SupportKind,
    pub name: String,
    pub description: String,
    pub owner_id: Option<String>,
    /// Data centre, region, building and room, or the user of a terminal.
    pub location: String,
    pub internet_exposed: bool,
    pub mfa: bool,
    pub access_logging: bool,
    /// Disk encryption for terminals.
    pub encrypted_at_rest: bool,
    pub encrypted_in_transit: bool,
    pub endpoint_protection: bool,
    pub patched_on: Option<String>,
    pub zero_trust: bool,
    pub locked: bool,
    /// Cloud services: ids of the categories the service is approved for.
    pub approved_categories: Vec<String>,
}

impl Support {
    pub(crate) fn from_model(m: support::Model, approved_categories: Vec<String>) -> Self {
        Self {
            kind: SupportKind::parse(&m.kind).unwrap_or(SupportKind::System),
            id: m.id,
            company_id: m.company_id,
            name: m.name,
            description: m.description,
            owner_id: m.owner_id,
            location: m.location,
            internet_exposed: m.internet_exposed,
            mfa: m.mfa,
            access_logging: m.access_logging,
            encrypted_at_rest: m.encrypted_at_rest,
            encrypted_in_transit: m.encrypted_in_transit,
            endpoint_protection: m.endpoint_protection,
            patched_on: m.patched_on,
            zero_trust: m.zero_trust,
            locked: m.locked,
            approved_categories,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SupportInput {
    pub company_id: String,
    /// system, cloud_service, terminal or paper_storage
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub internet_exposed: bool,
    #[serde(default)]
    pub mfa: bool,
    #[serde(default)]
    pub access_logging: bool,
    #[serde(default)]
    pub encrypted_at_rest: bool,
    #[serde(default)]
    pub encrypted_in_transit: bool,
    #[serde(default)]
    pub endpoint_protection: bool,
    /// YYYY-MM-DD
    #[serde(default)]
    pub patched_on: Option<String>,
    #[serde(default)]
    pub zero_trust: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub approved_categories: Vec<String>,
}

pub use isms_kernel::Page;

pub async fn list(app: &App, who: &Principal, q: &SupportQuery) -> Result<Page<Support>> {
    let within = who.within(Permission::AssetsRead)?;
    let db = app.store.conn();
    let rows = tables::supports_page(db, within.as_deref(), q).await?;
    let total = tables::supports_count(db, within.as_deref(), q).await?;
    let ids: Vec<String> = rows.iter().filter(|r| r.kind == SupportKind::CloudService.code()).map(|r| r.id.clone()).collect();
    let mut approvals = approvals_of(db, &ids).await?;
    let items = rows.into_iter().map(|m| {
        let a = approvals.remove(&m.id).unwrap_or_default();
        Support::from_model(m, a)
    });
    Ok(Page { items: items.collect(), total })
}

pub(crate) async fn approvals_of(db: &impl ConnectionTrait, ids: &[String]) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for a in cloud_approval::Entity::find().filter(cloud_approval::Column::SupportId.is_in(chunk.iter().cloned())).all(db).await? {
            out.entry(a.support_id).or_default().push(a.category_id);
        }
    }
    Ok(out)
}

/// One holder within the reader's scope; out of scope looks like absent.
pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Support> {
    let db = app.store.conn();
    let m = support::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    let mut a = approvals_of(db, std::slice::from_ref(&m.id)).await?;
    Ok(Support::from_model(m.clone(), a.remove(&m.id).unwrap_or_default()))
}

struct Valid {
    kind: SupportKind,
    name: String,
    patched_on: Option<String>,
    owner_id: Option<String>,
}

fn validate(input: &SupportInput) -> std::result::Result<Valid, Vec<FieldError>> {
    let mut errors = vec![];
    let kind = SupportKind::parse(&input.kind).map_err(|e| errors.push(e)).ok();
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let patched = isms_kernel::input::date_opt(&mut errors, "patched_on", &input.patched_on);
    if input.company_id.trim().is_empty() {
        errors.push(FieldError::coded("company_id", "required", "is required"));
    }
    if input.location.chars().count() > 200 {
        errors.push(FieldError::coded("location", "too-long", "is longer than 200 characters").arg("max", "200"));
    }
    if let Some(k) = kind
        && k != SupportKind::CloudService
        && !input.approved_categories.is_empty()
    {
        errors.push(FieldError::coded("approved_categories", "approvals-cloud-only", "only cloud services are approved for categories"));
    }
    match kind {
        Some(kind) if errors.is_empty() => {
            Ok(Valid { kind, name, patched_on: patched.map(|d| d.to_string()), owner_id: isms_kernel::input::blank_to_none(&input.owner_id) })
        }
        _ => Err(errors),
    }
}

fn to_model(id: String, v: &Valid, input: &SupportInput, created_ms: i64) -> support::Model {
    support::Model {
        id,
        company_id: input.company_id.trim().to_owned(),
        kind: v.kind.code().into(),
        name: v.name.clone(),
        description: input.description.trim().to_owned(),
        owner_id: v.owner_id.clone(),
        location: input.location.trim().to_owned(),
        internet_exposed: input.internet_exposed,
        mfa: input.mfa,
        access_logging: input.access_logging,
        encrypted_at_rest: input.encrypted_at_rest,
        encrypted_in_transit: input.encrypted_in_transit,
        endpoint_protection: input.endpoint_protection,
        patched_on: v.patched_on.clone(),
        zero_trust: input.zero_trust,
        locked: input.locked,
        created_ms,
        updated_ms: now_ms(),
    }
}

async fn set_approvals(db: &impl ConnectionTrait, support_id: &str, categories: &[String]) -> Result<()> {
    cloud_approval::Entity::delete_many().filter(cloud_approval::Column::SupportId.eq(support_id)).exec(db).await?;
    let mut seen = std::collections::BTreeSet::new();
    for c in categories.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !seen.insert(c.to_owned()) {
            continue;
        }
        if category::Entity::find_by_id(c.to_owned()).one(db).await?.is_none() {
            return Err(AppError::Invalid(vec![FieldError::coded("approved_categories", "no-category", format!("no category with id `{c}`")).arg("value", c)]));
        }
        cloud_approval::Model { support_id: support_id.to_owned(), category_id: c.to_owned() }.into_active_model().insert(db).await?;
    }
    Ok(())
}

pub async fn create(app: &App, who: &Principal, input: SupportInput) -> Result<Support> {
    let v = validate(&input).map_err(AppError::Invalid)?;
    who.require_for(Permission::AssetsManage, Some(input.company_id.trim()))?;
    let txn = app.store.write().await?;
    super::check_org(&txn, input.company_id.trim(), None, v.owner_id.as_deref()).await?;
    let saved = to_model(isms_core::CompanyId::new().to_string(), &v, &input, now_ms()).into_active_model().insert(&txn).await.map_err(unique_name)?;
    set_approvals(&txn, &saved.id, &input.approved_categories).await?;
    record(app, &txn, who, "assets.support.create", "supporting_asset", Some(&saved.id), Some(&saved.company_id), json!({"after": input})).await?;
    txn.commit().await?;
    get(app, who, &saved.id).await
}

pub async fn update(app: &App, who: &Principal, id: &str, input: SupportInput) -> Result<Support> {
    let txn = app.store.write().await?;
    let old = support::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&old.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&old.company_id))?;
    // Scope first: a record out of reach looks absent, whatever the body says.
    let v = validate(&input).map_err(AppError::Invalid)?;
    who.require_for(Permission::AssetsManage, Some(input.company_id.trim()))?;
    super::check_org(&txn, input.company_id.trim(), None, v.owner_id.as_deref()).await?;
    let before = Support::from_model(old.clone(), approvals_of(&txn, std::slice::from_ref(&old.id)).await?.remove(&old.id).unwrap_or_default());
    let mut am = to_model(old.id.clone(), &v, &input, old.created_ms).into_active_model().reset_all();
    am.id = Unchanged(old.id.clone());
    let saved = am.update(&txn).await.map_err(unique_name)?;
    set_approvals(&txn, &saved.id, &input.approved_categories).await?;
    record(app, &txn, who, "assets.support.update", "supporting_asset", Some(&saved.id), Some(&saved.company_id), json!({"before": before, "after": input}))
        .await?;
    conformance::recheck(app, &txn, who, Target::Support(saved.id.clone())).await?;
    txn.commit().await?;
    get(app, who, &saved.id).await
}

/// Deletes a holder that holds nothing; one that still holds assets is refused.
pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let old = support::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&old.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&old.company_id))?;
    let held = link::Entity::find().filter(link::Column::SupportId.eq(id)).count(&txn).await?;
    if held > 0 {
        return Err(AppError::Invalid(vec![
            FieldError::coded("support", "support-holds-assets", format!("still holds {held} information asset(s); move them first"))
                .arg("count", held.to_string()),
        ]));
    }
    support::Entity::delete_by_id(old.id.clone()).exec(&txn).await?;
    record(app, &txn, who, "assets.support.delete", "supporting_asset", Some(&old.id), Some(&old.company_id), json!({"name": old.name, "kind": old.kind}))
        .await?;
    txn.commit().await?;
    Ok(())
}

fn unique_name(e: isms_store::sea_orm::DbErr) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("name", "name-taken", "the company already has one by this name"),
        other => other,
    }
}
