//! Taking information outside the company: an employee asks to take or send information
//! of a category that needs approval; a manager of the company's assets (or the asset's
//! owner) decides, never the requester; the register shows what is outside, and a return
//! that is overdue becomes a finding at the next full re-check.

use isms_core::assets::{Egress, HandlingRules};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::user;
use isms_store::assets::{asset, category, finding, takeout};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::sea_orm::sea_query::{Expr, Query};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The ways information leaves, each governed by one rule of the category.
pub const CHANNELS: [&str; 4] = ["device", "removable_media", "email", "paper"];

fn channel_rule(rules: &HandlingRules, channel: &str) -> Egress {
    let by_channel = match channel {
        "device" => rules.remote_work,
        "removable_media" => rules.removable_media,
        "email" => rules.email_outside,
        _ => rules.take_out,
    };
    // The stricter of the channel's rule and the general take-out rule.
    by_channel.min(rules.take_out)
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Takeout {
    pub id: String,
    pub company_id: String,
    pub category_id: String,
    pub asset_id: Option<String>,
    pub what: String,
    pub requested_by: String,
    pub purpose: String,
    /// device, removable_media, email or paper
    pub medium: String,
    pub destination: String,
    pub return_by: String,
    /// requested, approved, rejected, returned or withdrawn
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    pub decision_note: String,
    pub returned_ms: Option<i64>,
    pub created_ms: i64,
    /// Approved, not returned, and past its return date.
    pub overdue: bool,
}

impl From<takeout::Model> for Takeout {
    fn from(m: takeout::Model) -> Self {
        let overdue = m.status == "approved" && m.return_by < isms_core::calendar::today().to_string();
        Self {
            id: m.id,
            company_id: m.company_id,
            category_id: m.category_id,
            asset_id: m.asset_id,
            what: m.what,
            requested_by: m.requested_by,
            purpose: m.purpose,
            medium: m.medium,
            destination: m.destination,
            return_by: m.return_by,
            status: m.status,
            decided_by: m.decided_by,
            decided_ms: m.decided_ms,
            decision_note: m.decision_note,
            returned_ms: m.returned_ms,
            created_ms: m.created_ms,
            overdue,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TakeoutInput {
    pub category_id: String,
    #[serde(default)]
    pub asset_id: Option<String>,
    /// What information, in the requester's words.
    pub what: String,
    pub purpose: String,
    /// device, removable_media, email or paper
    pub medium: String,
    #[serde(default)]
    pub destination: String,
    /// YYYY-MM-DD
    pub return_by: String,
}

/// The requester's person and company.
async fn requester(db: &impl ConnectionTrait, who: &Principal) -> Result<(String, person::Model)> {
    let Some(uid) = who.user_id.clone() else { return Err(AppError::Forbidden) };
    let u = user::Entity::find_by_id(uid.clone()).one(db).await?.ok_or(AppError::Forbidden)?;
    let Some(pid) = u.person_id else {
        return Err(AppError::coded("form", "account-without-person", "your account is not linked to a person of the group"));
    };
    let p = person::Entity::find_by_id(pid).one(db).await?.ok_or(AppError::Forbidden)?;
    Ok((uid, p))
}

pub async fn request(app: &App, who: &Principal, input: TakeoutInput) -> Result<Takeout> {
    let txn = app.store.write().await?;
    let (uid, me) = requester(&txn, who).await?;
    let mut errors = vec![];
    let what = isms_kernel::input::required(&mut errors, "what", &input.what, 300);
    let purpose = isms_kernel::input::required_text(&mut errors, "purpose", &input.purpose, 2000);
    if input.destination.chars().count() > 200 {
        errors.push(FieldError::coded("destination", "too-long", "is longer than 200 characters").arg("max", "200"));
    }
    if !CHANNELS.contains(&input.medium.trim()) {
        errors.push(
            FieldError::coded("medium", "one-of", format!("`{}` is not one of {}", input.medium.trim(), CHANNELS.join(", ")))
                .arg("value", input.medium.trim())
                .arg("expected", CHANNELS.join(", ")),
        );
    }
    let today = isms_core::calendar::today();
    match isms_kernel::input::date_opt(&mut errors, "return_by", &Some(input.return_by.clone())) {
        None if errors.iter().all(|e| e.field != "return_by") => errors.push(FieldError::coded("return_by", "required", "is required")),
        Some(d) if d < today => errors.push(FieldError::coded("return_by", "date-not-past", "may not be in the past")),
        Some(d) if d > today.saturating_add(jiff::Span::new().years(1)) => {
            errors.push(FieldError::coded("return_by", "expiry-within-year", "may be at most a year ahead"))
        }
        _ => {}
    }
    let cat = category::Entity::find_by_id(input.category_id.trim().to_owned()).one(&txn).await?;
    match &cat {
        None => errors.push(FieldError::coded("category_id", "no-category", "no such category")),
        Some(c) => {
            let rules = super::Category::try_from(c.clone())?.rules;
            match channel_rule(&rules, input.medium.trim()) {
                Egress::Never => errors.push(
                    FieldError::coded("category_id", "category-never-leaves", format!("information of `{}` may never leave the company this way", c.name))
                        .arg("category", c.name.clone())
                        .arg("category_ja", c.name_ja.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| c.name.clone())),
                ),
                Egress::Allowed => errors.push(
                    FieldError::coded("category_id", "takeout-not-needed", format!("information of `{}` may leave this way without approval", c.name))
                        .arg("category", c.name.clone())
                        .arg("category_ja", c.name_ja.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| c.name.clone())),
                ),
                Egress::WithApproval => {}
            }
        }
    }
    let asset_id = isms_kernel::input::blank_to_none(&input.asset_id);
    if let Some(a) = &asset_id {
        match asset::Entity::find_by_id(a.clone()).one(&txn).await? {
            Some(m) if m.company_id == me.company_id && Some(&m.category_id) == cat.as_ref().map(|c| &c.id) => {}
            Some(m) if m.company_id == me.company_id => errors.push(FieldError::coded("asset_id", "asset-other-category", "is of another category")),
            _ => errors.push(FieldError::coded("asset_id", "no-asset", "no such asset in your company")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = now_ms();
    let m = takeout::Model {
        id: isms_core::CompanyId::new().to_string(),
        company_id: me.company_id.clone(),
        category_id: input.category_id.trim().to_owned(),
        asset_id,
        what,
        requested_by: uid,
        purpose,
        medium: input.medium.trim().to_owned(),
        destination: input.destination.trim().to_owned(),
        return_by: input.return_by.trim().to_owned(),
        status: "requested".into(),
        decided_by: None,
        decided_ms: None,
        decision_note: String::new(),
        returned_ms: None,
        created_ms: now,
        updated_ms: now,
    };
    let saved = m.into_active_model().insert(&txn).await?;
    record(app, &txn, who, "assets.takeout.request", "takeout", Some(&saved.id), Some(&saved.company_id), json!({"after": input})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Whether `who` may decide on this request: a manager of the company's assets or the
/// linked asset's owner, and never the requester.
async fn may_decide(db: &impl ConnectionTrait, who: &Principal, t: &takeout::Model) -> Result<bool> {
    if who.user_id.as_deref() == Some(t.requested_by.as_str()) {
        return Ok(false);
    }
    if who.access.can_for(Permission::AssetsManage, t.company_id.parse().ok()) {
        return Ok(true);
    }
    let (Some(aid), Some(uid)) = (&t.asset_id, &who.user_id) else { return Ok(false) };
    let owner = asset::Entity::find_by_id(aid.clone()).one(db).await?.and_then(|a| a.owner_id);
    let me = user::Entity::find_by_id(uid.clone()).one(db).await?.and_then(|u| u.person_id);
    Ok(owner.is_some() && owner == me)
}

/// Visible to the requester, the linked asset's owner and readers of the company's assets.
async fn visible(db: &impl ConnectionTrait, who: &Principal, t: &takeout::Model) -> Result<bool> {
    Ok(who.user_id.as_deref() == Some(t.requested_by.as_str())
        || who.access.can_for(Permission::AssetsRead, t.company_id.parse().ok())
        || may_decide(db, who, t).await?)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Takeout> {
    let db = app.store.conn();
    let t = takeout::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    if !visible(db, who, &t).await? {
        return Err(AppError::NotFound);
    }
    Ok(t.into())
}

/// Whether `who` may decide on this request (for showing the buttons).
pub async fn can_decide(app: &App, who: &Principal, t: &Takeout) -> Result<bool> {
    let db = app.store.conn();
    let m = takeout::Entity::find_by_id(t.id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    may_decide(db, who, &m).await
}

/// Requests the caller may see: their own, and those of the companies whose assets they read.
pub async fn list(app: &App, who: &Principal, status: Option<&str>, limit: u64) -> Result<Vec<Takeout>> {
    let mut visible = Condition::any();
    if let Some(uid) = &who.user_id {
        visible = visible.add(takeout::Column::RequestedBy.eq(uid.clone()));
        // Owners decide on requests for their assets, so they see them too.
        if let Some(pid) = user::Entity::find_by_id(uid.clone()).one(app.store.conn()).await?.and_then(|u| u.person_id) {
            let owned = Query::select().column(asset::Column::Id).from(asset::Entity).and_where(asset::Column::OwnerId.eq(pid)).to_owned();
            visible = visible.add(takeout::Column::AssetId.in_subquery(owned));
        }
    }
    let everything = match who.access.scope(Permission::AssetsRead) {
        isms_core::Scope::Group => true,
        isms_core::Scope::Companies(c) => {
            visible = visible.add(takeout::Column::CompanyId.is_in(c.iter().map(|c| c.to_string())));
            false
        }
        isms_core::Scope::Nothing => false,
    };
    if who.user_id.is_none() && !who.access.can(Permission::AssetsRead) {
        return Ok(vec![]);
    }
    let visible = if everything { Condition::all() } else { visible };
    let mut q = takeout::Entity::find().filter(visible);
    match status {
        Some("outside") => q = q.filter(takeout::Column::Status.eq("approved")),
        Some(s) if !s.is_empty() => q = q.filter(takeout::Column::Status.eq(s)),
        _ => {}
    }
    Ok(q.order_by_desc(takeout::Column::CreatedMs).limit(limit.clamp(1, 10_000)).all(app.store.conn()).await?.into_iter().map(Takeout::from).collect())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = TakeoutDecisionInput)]
pub struct DecisionInput {
    pub approve: bool,
    #[serde(default)]
    pub note: String,
}

pub async fn decide(app: &App, who: &Principal, id: &str, input: DecisionInput) -> Result<Takeout> {
    let txn = app.store.write().await?;
    let t = takeout::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !visible(&txn, who, &t).await? {
        return Err(AppError::NotFound);
    }
    if !may_decide(&txn, who, &t).await? {
        return Err(AppError::Forbidden);
    }
    if t.status != "requested" {
        return Err(AppError::coded("takeout", "takeout-decided", format!("was already {}", t.status)));
    }
    if !input.approve && input.note.trim().is_empty() {
        return Err(AppError::coded("note", "rejection-reason", "say why the request is rejected"));
    }
    let mut am = t.into_active_model();
    am.status = Set(if input.approve { "approved" } else { "rejected" }.into());
    am.decided_by = Set(who.user_id.clone());
    am.decided_ms = Set(Some(now_ms()));
    am.decision_note = Set(input.note.trim().to_owned());
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        if input.approve { "assets.takeout.approve" } else { "assets.takeout.reject" },
        "takeout",
        Some(&saved.id),
        Some(&saved.company_id),
        json!({"note": saved.decision_note}),
    )
    .await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// The information is back (or the request is withdrawn before a decision). The requester
/// or a manager of the company's assets records it; an overdue finding resolves.
pub async fn close(app: &App, who: &Principal, id: &str) -> Result<Takeout> {
    let txn = app.store.write().await?;
    let t = takeout::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !visible(&txn, who, &t).await? {
        return Err(AppError::NotFound);
    }
    let mine = who.user_id.as_deref() == Some(t.requested_by.as_str());
    if !mine && !who.access.can_for(Permission::AssetsManage, t.company_id.parse().ok()) {
        return Err(AppError::Forbidden);
    }
    let next = match t.status.as_str() {
        "approved" => "returned",
        "requested" if mine => "withdrawn",
        other => return Err(AppError::coded("takeout", "takeout-closed", format!("is {other}; nothing to close"))),
    };
    let now = now_ms();
    let mut am = t.into_active_model();
    am.status = Set(next.into());
    if next == "returned" {
        am.returned_ms = Set(Some(now));
    }
    am.updated_ms = Set(now);
    let saved = am.update(&txn).await?;
    finding::Entity::update_many()
        .col_expr(finding::Column::Status, Expr::val("resolved"))
        .col_expr(finding::Column::ClosedMs, Expr::val(now))
        .col_expr(finding::Column::UpdatedMs, Expr::val(now))
        .filter(finding::Column::TakeoutId.eq(saved.id.clone()))
        .filter(finding::Column::Status.ne("resolved"))
        .exec(&txn)
        .await?;
    record(app, &txn, who, &format!("assets.takeout.{next}"), "takeout", Some(&saved.id), Some(&saved.company_id), json!({})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// How many requests wait for this user's decision.
pub async fn awaiting_decision(app: &App, who: &Principal) -> Result<usize> {
    let db = app.store.conn();
    let mut n = 0;
    for t in list(app, who, Some("requested"), 10_000).await? {
        let m = takeout::Entity::find_by_id(t.id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
        if may_decide(db, who, &m).await? {
            n += 1;
        }
    }
    Ok(n)
}
