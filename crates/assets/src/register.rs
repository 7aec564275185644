//! Information assets: what information, which category, whose, where it is held. Every
//! change re-checks the asset against its category's rules in the same transaction.

use super::conformance::{self, Target};
use isms_core::assets::Medium;
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::user;
use isms_store::assets::{self as tables, AssetQuery, asset, category, link, support};
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Unchanged, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Asset {
    pub id: String,
    pub company_id: String,
    pub department_id: Option<String>,
    pub category_id: String,
    /// From the category: whether this is customer information.
    pub customer_information: bool,
    pub name: String,
    pub description: String,
    pub owner_id: Option<String>,
    pub medium: Medium,
    /// How much, e.g. the number of customer records.
    pub volume: Option<i64>,
    pub review_due: Option<String>,
    pub review_months: i32,
    /// The supporting assets that store or process it.
    pub supports: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssetInput {
    pub company_id: String,
    #[serde(default)]
    pub department_id: Option<String>,
    pub category_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The owner's person id or employee number.
    #[serde(default)]
    pub owner_id: Option<String>,
    /// electronic or paper
    pub medium: String,
    #[serde(default)]
    pub volume: Option<i64>,
    /// YYYY-MM-DD; a year from today when absent.
    #[serde(default)]
    pub review_due: Option<String>,
    /// Months between reviews (1–60); 12 when absent.
    #[serde(default)]
    pub review_months: Option<i32>,
    /// Ids of the supporting assets that hold it.
    #[serde(default)]
    pub supports: Vec<String>,
}

pub use isms_kernel::Page;

pub(crate) async fn build(db: &impl ConnectionTrait, rows: Vec<asset::Model>) -> Result<Vec<Asset>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut links: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for l in link::Entity::find().filter(link::Column::AssetId.is_in(chunk.iter().cloned())).all(db).await? {
            links.entry(l.asset_id).or_default().push(l.support_id);
        }
    }
    Ok(rows
        .into_iter()
        .map(|m| Asset {
            customer_information: m.customer_information,
            supports: links.remove(&m.id).unwrap_or_default(),
            medium: Medium::parse(&m.medium).unwrap_or(Medium::Electronic),
            id: m.id,
            company_id: m.company_id,
            department_id: m.department_id,
            category_id: m.category_id,
            name: m.name,
            description: m.description,
            owner_id: m.owner_id,
            volume: m.volume,
            review_due: m.review_due,
            review_months: m.review_months,
        })
        .collect())
}

pub async fn list(app: &App, who: &Principal, q: &AssetQuery) -> Result<Page<Asset>> {
    let within = who.within(Permission::AssetsRead)?;
    let db = app.store.conn();
    let rows = tables::assets_page(db, within.as_deref(), q).await?;
    let key = format!(
        "assets|{within:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        q.search, q.company_id, q.category_id, q.customer_information, q.owner_id, q.medium, q.review_before
    );
    let generation = app.store.generation();
    let total = app.caches().count_once(key, generation, tables::assets_count(db, within.as_deref(), q)).await?;
    Ok(Page { items: build(db, rows).await?, total })
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Asset> {
    let db = app.store.conn();
    let m = asset::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    Ok(build(db, vec![m]).await?.remove(0))
}

pub(super) struct Valid {
    name: String,
    medium: Medium,
    review_due: String,
    review_months: i32,
    department_id: Option<String>,
}

pub(super) fn validate(input: &AssetInput) -> std::result::Result<Valid, Vec<FieldError>> {
    let mut errors = vec![];
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let medium = Medium::parse_as("medium", &input.medium).map_err(|e| errors.push(e)).ok();
    let review_due = isms_kernel::input::date_opt(&mut errors, "review_due", &input.review_due);
    let review_months = input.review_months.unwrap_or(12);
    if !(1..=60).contains(&review_months) {
        errors.push(FieldError::coded("review_months", "review-months-range", "must be between 1 and 60").arg("value", review_months.to_string()));
    }
    if input.company_id.trim().is_empty() {
        errors.push(FieldError::coded("company_id", "required", "is required"));
    }
    if input.category_id.trim().is_empty() {
        errors.push(FieldError::coded("category_id", "required", "is required"));
    }
    if input.volume.is_some_and(|v| v < 0) {
        errors.push(FieldError::coded("volume", "not-negative", "may not be negative"));
    }
    let review_due =
        review_due.unwrap_or_else(|| isms_core::calendar::today().saturating_add(jiff::Span::new().months(review_months.clamp(1, 60)))).to_string();
    match medium {
        Some(medium) if errors.is_empty() => {
            Ok(Valid { name, medium, review_due, review_months, department_id: isms_kernel::input::blank_to_none(&input.department_id) })
        }
        _ => Err(errors),
    }
}

/// Checks the category and that every holder exists and belongs to the asset's company.
/// Returns the holders and whether the category is customer information.
async fn check_links(db: &impl ConnectionTrait, who: &Principal, input: &AssetInput) -> Result<(Vec<String>, bool)> {
    let Some(cat) = category::Entity::find_by_id(input.category_id.trim().to_owned()).one(db).await? else {
        return Err(AppError::coded("category_id", "no-category", "no such category"));
    };
    let mut ids: Vec<String> = input.supports.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        // One the caller may not see is "not found": another answer would confirm it exists.
        match support::Entity::find_by_id(id.clone()).one(db).await?.filter(|s| who.require_for(Permission::AssetsRead, Some(&s.company_id)).is_ok()) {
            Some(s) if s.company_id == input.company_id.trim() => {}
            Some(_) => {
                return Err(AppError::Invalid(vec![
                    FieldError::coded("supports", "support-other-company", format!("`{id}` belongs to another company")).arg("value", id.clone()),
                ]));
            }
            None => {
                return Err(AppError::Invalid(vec![
                    FieldError::coded("supports", "no-support", format!("no supporting asset `{id}`")).arg("value", id.clone()),
                ]));
            }
        }
    }
    Ok((ids, cat.customer_information))
}

pub(super) async fn set_links(db: &impl ConnectionTrait, asset_id: &str, ids: &[String]) -> Result<()> {
    link::Entity::delete_many().filter(link::Column::AssetId.eq(asset_id)).exec(db).await?;
    for id in ids {
        link::Model { asset_id: asset_id.to_owned(), support_id: id.clone() }.into_active_model().insert(db).await?;
    }
    Ok(())
}

pub(super) fn to_model(id: String, v: &Valid, input: &AssetInput, owner_id: Option<String>, customer_information: bool, created_ms: i64) -> asset::Model {
    asset::Model {
        id,
        company_id: input.company_id.trim().to_owned(),
        department_id: v.department_id.clone(),
        category_id: input.category_id.trim().to_owned(),
        customer_information,
        name: v.name.clone(),
        description: input.description.trim().to_owned(),
        owner_id,
        medium: v.medium.code().into(),
        volume: input.volume,
        review_due: Some(v.review_due.clone()),
        review_months: v.review_months,
        created_ms,
        updated_ms: now_ms(),
    }
}

pub async fn create(app: &App, who: &Principal, input: AssetInput) -> Result<Asset> {
    let v = validate(&input).map_err(AppError::Invalid)?;
    who.require_for(Permission::AssetsManage, Some(input.company_id.trim()))?;
    let txn = app.store.write().await?;
    let owner = isms_org::people::resolve_person_ref(&txn, "owner_id", isms_kernel::input::blank_to_none(&input.owner_id)).await?;
    super::check_org(&txn, input.company_id.trim(), v.department_id.as_deref(), owner.as_deref()).await?;
    let (supports, customer) = check_links(&txn, who, &input).await?;
    let saved =
        to_model(isms_core::CompanyId::new().to_string(), &v, &input, owner, customer, now_ms()).into_active_model().insert(&txn).await.map_err(unique_name)?;
    set_links(&txn, &saved.id, &supports).await?;
    record(app, &txn, who, "assets.asset.create", "information_asset", Some(&saved.id), Some(&saved.company_id), json!({"after": input})).await?;
    conformance::recheck(app, &txn, who, Target::Assets(vec![saved.id.clone()])).await?;
    txn.commit().await?;
    get(app, who, &saved.id).await
}

pub async fn update(app: &App, who: &Principal, id: &str, input: AssetInput) -> Result<Asset> {
    let txn = app.store.write().await?;
    let old = asset::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&old.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&old.company_id))?;
    // Scope first: a record out of reach looks absent, whatever the body says.
    let v = validate(&input).map_err(AppError::Invalid)?;
    who.require_for(Permission::AssetsManage, Some(input.company_id.trim()))?;
    let owner = isms_org::people::resolve_person_ref(&txn, "owner_id", isms_kernel::input::blank_to_none(&input.owner_id)).await?;
    super::check_org(&txn, input.company_id.trim(), v.department_id.as_deref(), owner.as_deref()).await?;
    let (supports, customer) = check_links(&txn, who, &input).await?;
    let before = build(&txn, vec![old.clone()]).await?.remove(0);
    let mut am = to_model(old.id.clone(), &v, &input, owner, customer, old.created_ms).into_active_model().reset_all();
    am.id = Unchanged(old.id.clone());
    let saved = am.update(&txn).await.map_err(unique_name)?;
    set_links(&txn, &saved.id, &supports).await?;
    record(app, &txn, who, "assets.asset.update", "information_asset", Some(&saved.id), Some(&saved.company_id), json!({"before": before, "after": input}))
        .await?;
    conformance::recheck(app, &txn, who, Target::Assets(vec![saved.id.clone()])).await?;
    txn.commit().await?;
    get(app, who, &saved.id).await
}

pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let old = asset::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&old.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&old.company_id))?;
    let open = isms_store::assets::takeout::Entity::find()
        .filter(isms_store::assets::takeout::Column::AssetId.eq(id))
        .filter(isms_store::assets::takeout::Column::Status.is_in(["requested", "approved"]))
        .one(&txn)
        .await?;
    if open.is_some() {
        return Err(AppError::coded("asset", "asset-outside", "is outside the company or requested to leave; close the take-out first"));
    }
    let before = build(&txn, vec![old.clone()]).await?.remove(0);
    isms_store::assets::takeout::Entity::update_many()
        .col_expr(isms_store::assets::takeout::Column::AssetId, isms_store::sea_orm::sea_query::Expr::val(Option::<String>::None))
        .filter(isms_store::assets::takeout::Column::AssetId.eq(id))
        .exec(&txn)
        .await?;
    asset::Entity::delete_by_id(old.id.clone()).exec(&txn).await?;
    record(app, &txn, who, "assets.asset.delete", "information_asset", Some(&old.id), Some(&old.company_id), json!({"before": before})).await?;
    txn.commit().await?;
    Ok(())
}

/// The owner (or a manager of assets) confirms the asset is still as recorded; the next
/// review falls due one interval from today.
pub async fn confirm_review(app: &App, who: &Principal, id: &str) -> Result<Asset> {
    let txn = app.store.write().await?;
    let old = asset::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let is_owner = match (&old.owner_id, &who.user_id) {
        (Some(owner), Some(uid)) => user::Entity::find_by_id(uid.clone()).one(&txn).await?.and_then(|u| u.person_id).as_deref() == Some(owner.as_str()),
        _ => false,
    };
    if !is_owner {
        who.require_for(Permission::AssetsRead, Some(&old.company_id)).map_err(|_| AppError::NotFound)?;
        who.require_for(Permission::AssetsManage, Some(&old.company_id))?;
    }
    let next = isms_core::calendar::today().saturating_add(jiff::Span::new().months(old.review_months.clamp(1, 60))).to_string();
    let mut am = old.clone().into_active_model();
    am.review_due = isms_store::sea_orm::ActiveValue::Set(Some(next.clone()));
    am.updated_ms = isms_store::sea_orm::ActiveValue::Set(now_ms());
    let saved = am.update(&txn).await?;
    isms_kernel::notify::done(&txn, &format!("asset-review:{}", saved.id)).await?;
    record(
        app,
        &txn,
        who,
        "assets.asset.review",
        "information_asset",
        Some(&saved.id),
        Some(&saved.company_id),
        json!({"previous_due": old.review_due, "next_due": next}),
    )
    .await?;
    conformance::recheck(app, &txn, who, Target::Assets(vec![saved.id.clone()])).await?;
    txn.commit().await?;
    Ok(build(app.store.conn(), vec![saved]).await?.remove(0))
}

/// Assets whose owner is this user's person and whose review falls due within `days`
/// (overdue ones included), the most overdue first.
pub async fn reviews_due(app: &App, who: &Principal, days: i32) -> Result<Vec<Asset>> {
    let Some(uid) = &who.user_id else { return Ok(vec![]) };
    let db = app.store.conn();
    let Some(person) = user::Entity::find_by_id(uid.clone()).one(db).await?.and_then(|u| u.person_id) else { return Ok(vec![]) };
    let horizon = isms_core::calendar::today().saturating_add(jiff::Span::new().days(days)).to_string();
    let rows = asset::Entity::find()
        .filter(asset::Column::OwnerId.eq(person))
        .filter(asset::Column::ReviewDue.lte(horizon))
        .order_by_asc(asset::Column::ReviewDue)
        .all(db)
        .await?;
    build(db, rows).await
}

fn unique_name(e: isms_store::sea_orm::DbErr) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("name", "name-taken", "the company already has one by this name"),
        other => other,
    }
}

/// The assets a supporting asset holds, within the reader's scope.
pub async fn held_by(app: &App, who: &Principal, support_id: &str) -> Result<Vec<Asset>> {
    let within = who.within(Permission::AssetsRead)?;
    let db = app.store.conn();
    let ids: Vec<String> = link::Entity::find().filter(link::Column::SupportId.eq(support_id)).all(db).await?.into_iter().map(|l| l.asset_id).collect();
    let mut rows = vec![];
    for chunk in ids.chunks(500) {
        rows.extend(asset::Entity::find().filter(asset::Column::Id.is_in(chunk.iter().cloned())).all(db).await?);
    }
    rows.retain(|a| within.as_ref().is_none_or(|w| w.contains(&a.company_id)));
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    build(db, rows).await
}

/// Names of these assets, for lists of findings and take-outs the reader already sees.
pub async fn names(app: &App, ids: &[String]) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for a in asset::Entity::find().filter(asset::Column::Id.is_in(chunk.iter().cloned())).all(app.store.conn()).await? {
            out.insert(a.id, a.name);
        }
    }
    Ok(out)
}

/// Reminds owners of assets whose review falls due within the reminder window (or is
/// overdue): once per asset and due date, in their inbox and by e-mail. Returns how
/// many reminders were new. Safe to run on several instances: the key makes it once.
///
/// Runs hourly over what may be thousands of assets: reminders already sent are found
/// in one query per page and skipped, so a run with nothing new reads and writes nothing
/// (a write would also end every cache that counts on no write having happened).
pub async fn remind_reviews(app: &App) -> Result<usize> {
    use isms_store::notices::notification;
    use isms_store::sea_orm::QuerySelect;
    let horizon = isms_core::calendar::today().saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
    let db = app.store.conn();
    let mut sent = 0;
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String, Option<String>)> = asset::Entity::find()
            .select_only()
            .column(asset::Column::Id)
            .column(asset::Column::Name)
            .column(asset::Column::ReviewDue)
            .column(asset::Column::OwnerId)
            .filter(asset::Column::ReviewDue.lte(horizon.clone()))
            .filter(asset::Column::OwnerId.is_not_null())
            .filter(asset::Column::Id.gt(after.clone()))
            .order_by_asc(asset::Column::Id)
            .limit(500)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let key = |id: &str, due: &str| format!("asset-review:{id}:{due}");
        let keys: Vec<String> = rows.iter().map(|(id, _, due, _)| key(id, due)).collect();
        let known: std::collections::HashSet<Option<String>> = notification::Entity::find()
            .select_only()
            .column(notification::Column::DedupKey)
            .filter(notification::Column::DedupKey.is_in(keys))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let fresh: Vec<&(String, String, String, Option<String>)> = rows.iter().filter(|(id, _, due, _)| !known.contains(&Some(key(id, due)))).collect();
        if fresh.is_empty() {
            continue;
        }
        let txn = app.store.write().await?;
        for (id, name, due, owner) in fresh {
            let Some(owner) = owner else { continue };
            let n = isms_kernel::notify::Notice::new("asset-review-due", json!({"asset": name, "due": due}), format!("/assets/{id}"))
                .once(key(id, due))
                .task(format!("asset-review:{id}"));
            if isms_kernel::notify::to_person(app, &txn, owner, &n).await? {
                sent += 1;
            }
        }
        txn.commit().await?;
    }
    Ok(sent)
}
