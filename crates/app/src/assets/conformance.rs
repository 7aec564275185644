//! Conformance findings: the register checked against the handling rules. Every change to
//! an asset, a holder or a category re-checks what it touches in the same transaction;
//! a full re-check (daily, or on demand) catches what time alone changes — reviews that
//! fall due, exceptions that expire, take-outs not returned. A breach that goes away
//! resolves its finding; one that comes back reopens it; an accepted exception holds
//! until its expiry.

use crate::{record, App, AppError, Principal, Result};
use isms_core::assets::{check_asset, AssetFacts, Breach, CheckSettings, HandlingRules, Medium, Rule, SupportFacts, SupportKind};
use isms_core::{FieldError, Permission};
use isms_store::assets::{self as tables, asset, finding, link, support, takeout, FindingQuery};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A terminal patched longer ago than this is unpatched.
pub const PATCH_MAX_AGE_DAYS: i32 = 60;

/// What a re-check covers.
#[derive(Debug, Clone)]
pub enum Target {
    /// Every asset and take-out (of these companies; `None` for the whole group).
    All(Option<Vec<String>>),
    Assets(Vec<String>),
    /// The assets a holder holds.
    Support(String),
    /// The assets of a category.
    Category(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecheckSummary {
    pub assets: usize,
    pub opened: usize,
    pub reopened: usize,
    pub resolved: usize,
    /// Exceptions whose expiry passed: their findings are open again.
    pub expired: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub id: String,
    pub company_id: String,
    pub asset_id: Option<String>,
    pub support_id: Option<String>,
    pub takeout_id: Option<String>,
    /// The rule broken, e.g. `cloud-not-approved`.
    pub rule: String,
    /// 1 low, 2 medium, 3 high, 4 critical.
    pub severity: i16,
    pub customer_information: bool,
    /// open, accepted or resolved
    pub status: String,
    pub opened_ms: i64,
    pub closed_ms: Option<i64>,
    /// Why an exception was accepted.
    pub reason: String,
    pub approved_by: Option<String>,
    pub expires_on: Option<String>,
}

impl From<finding::Model> for Finding {
    fn from(m: finding::Model) -> Self {
        Self {
            id: m.id,
            company_id: m.company_id,
            asset_id: m.asset_id,
            support_id: m.support_id,
            takeout_id: m.takeout_id,
            rule: m.rule,
            severity: m.severity,
            customer_information: m.customer_information,
            status: m.status,
            opened_ms: m.opened_ms,
            closed_ms: m.closed_ms,
            reason: m.reason,
            approved_by: m.approved_by,
            expires_on: m.expires_on,
        }
    }
}

/// A breach as the findings table keys it, with the company it belongs to.
struct Found {
    key: String,
    company_id: String,
    asset_id: Option<String>,
    support_id: Option<String>,
    takeout_id: Option<String>,
    rule: Rule,
    severity: i16,
    customer_information: bool,
}

fn support_facts(m: &support::Model, approvals: &HashMap<String, Vec<String>>) -> SupportFacts {
    SupportFacts {
        id: m.id.clone(),
        kind: SupportKind::parse(&m.kind).ok(),
        internet_exposed: m.internet_exposed,
        mfa: m.mfa,
        access_logging: m.access_logging,
        encrypted_at_rest: m.encrypted_at_rest,
        encrypted_in_transit: m.encrypted_in_transit,
        approved_categories: approvals.get(&m.id).cloned().unwrap_or_default(),
        endpoint_protection: m.endpoint_protection,
        patched_on: m.patched_on.as_deref().and_then(|d| d.parse().ok()),
        zero_trust: m.zero_trust,
        locked: m.locked,
    }
}

async fn in_chunks<T, F, Fut>(ids: &[String], mut f: F) -> Result<Vec<T>>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Vec<T>, isms_store::sea_orm::DbErr>>,
{
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        out.extend(f(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Re-checks `target` inside `txn` and brings the findings up to date. Records one audit
/// entry with the counts when anything changed.
pub(crate) async fn recheck(app: &App, txn: &impl ConnectionTrait, who: &Principal, target: Target) -> Result<RecheckSummary> {
    let today = super::today();
    let settings = CheckSettings { today, patch_max_age_days: PATCH_MAX_AGE_DAYS };
    let rules: HashMap<String, HandlingRules> = super::categories::all(txn).await?.into_iter().map(|c| (c.id, c.rules)).collect();

    let whole = matches!(target, Target::All(_));
    let assets: Vec<asset::Model> = match &target {
        Target::All(None) => asset::Entity::find().all(txn).await?,
        Target::All(Some(companies)) => asset::Entity::find().filter(asset::Column::CompanyId.is_in(companies.iter().cloned())).all(txn).await?,
        Target::Assets(ids) => in_chunks(ids, |c| asset::Entity::find().filter(asset::Column::Id.is_in(c)).all(txn)).await?,
        Target::Support(id) => {
            let ids: Vec<String> = link::Entity::find().filter(link::Column::SupportId.eq(id.clone())).all(txn).await?.into_iter().map(|l| l.asset_id).collect();
            in_chunks(&ids, |c| asset::Entity::find().filter(asset::Column::Id.is_in(c)).all(txn)).await?
        }
        Target::Category(id) => asset::Entity::find().filter(asset::Column::CategoryId.eq(id.clone())).all(txn).await?,
    };
    let asset_ids: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
    let links: Vec<link::Model> = if matches!(target, Target::All(None)) {
        link::Entity::find().all(txn).await?
    } else {
        in_chunks(&asset_ids, |c| link::Entity::find().filter(link::Column::AssetId.is_in(c)).all(txn)).await?
    };
    let mut support_ids: Vec<String> = links.iter().map(|l| l.support_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    support_ids.sort();
    let supports: Vec<support::Model> = if matches!(target, Target::All(None)) {
        support::Entity::find().all(txn).await?
    } else {
        in_chunks(&support_ids, |c| support::Entity::find().filter(support::Column::Id.is_in(c)).all(txn)).await?
    };
    let approvals = super::supports::approvals_of(txn, &support_ids).await?;
    let facts: HashMap<&str, SupportFacts> = supports.iter().map(|s| (s.id.as_str(), support_facts(s, &approvals))).collect();
    let mut held: HashMap<&str, Vec<&SupportFacts>> = HashMap::new();
    for l in &links {
        if let Some(f) = facts.get(l.support_id.as_str()) {
            held.entry(l.asset_id.as_str()).or_default().push(f);
        }
    }

    let mut found: HashMap<String, Found> = HashMap::new();
    for a in &assets {
        let Some(r) = rules.get(&a.category_id) else { continue };
        let f = AssetFacts {
            id: a.id.clone(),
            category_id: a.category_id.clone(),
            owner: a.owner_id.clone(),
            medium: Medium::parse(&a.medium).unwrap_or(Medium::Electronic),
            review_due: a.review_due.as_deref().and_then(|d| d.parse().ok()),
        };
        let sup = held.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        for b in check_asset(&f, r, sup, settings) {
            found.insert(b.key(), from_breach(b, &a.company_id));
        }
    }

    // Take-outs not returned by their date: part of a whole re-check only (time moves them).
    if let Target::All(companies) = &target {
        let mut q = takeout::Entity::find().filter(takeout::Column::Status.eq("approved")).filter(takeout::Column::ReturnBy.lt(today.to_string()));
        if let Some(c) = companies {
            q = q.filter(takeout::Column::CompanyId.is_in(c.iter().cloned()));
        }
        for t in q.all(txn).await? {
            let customer = rules.get(&t.category_id).is_some_and(|r| r.customer_information);
            let key = format!("{}|takeout:{}|", Rule::ReturnOverdue.code(), t.id);
            found.insert(key.clone(), Found {
                key,
                company_id: t.company_id,
                asset_id: t.asset_id,
                support_id: None,
                takeout_id: Some(t.id),
                rule: Rule::ReturnOverdue,
                severity: 2 + i16::from(customer),
                customer_information: customer,
            });
        }
    }

    // The findings that may change: those of these assets (and take-outs on a whole check).
    let existing: Vec<finding::Model> = match &target {
        Target::All(None) => finding::Entity::find().all(txn).await?,
        Target::All(Some(c)) => finding::Entity::find().filter(finding::Column::CompanyId.is_in(c.iter().cloned())).all(txn).await?,
        _ => in_chunks(&asset_ids, |c| finding::Entity::find().filter(finding::Column::AssetId.is_in(c)).filter(finding::Column::TakeoutId.is_null()).all(txn)).await?,
    };

    let now = now_ms();
    let today_s = today.to_string();
    let mut summary = RecheckSummary { assets: assets.len(), ..Default::default() };
    let (mut resolve, mut reopen, mut expire) = (vec![], vec![], vec![]);
    let mut known = HashSet::new();
    for f in &existing {
        known.insert(f.key.as_str());
        let still = found.get(&f.key);
        match (f.status.as_str(), still) {
            ("open", None) => resolve.push(f.id.clone()),
            ("accepted", None) => resolve.push(f.id.clone()),
            ("accepted", Some(_)) if f.expires_on.as_deref().is_some_and(|e| e < today_s.as_str()) => expire.push(f.id.clone()),
            ("resolved", Some(_)) => reopen.push(f.id.clone()),
            _ => {}
        }
        if let Some(now_found) = still {
            if now_found.severity != f.severity {
                finding::Entity::update_many()
                    .col_expr(finding::Column::Severity, Expr::val(now_found.severity).into())
                    .col_expr(finding::Column::CustomerInformation, Expr::val(now_found.customer_information).into())
                    .filter(finding::Column::Id.eq(f.id.clone()))
                    .exec(txn)
                    .await?;
            }
        }
    }
    let new: Vec<&Found> = found.values().filter(|f| !known.contains(f.key.as_str())).collect();
    for chunk in new.chunks(400) {
        let rows = chunk.iter().map(|f| {
            finding::Model {
                id: isms_core::CompanyId::new().to_string(),
                key: f.key.clone(),
                company_id: f.company_id.clone(),
                asset_id: f.asset_id.clone(),
                support_id: f.support_id.clone(),
                takeout_id: f.takeout_id.clone(),
                rule: f.rule.code().into(),
                severity: f.severity,
                customer_information: f.customer_information,
                status: "open".into(),
                opened_ms: now,
                closed_ms: None,
                reason: String::new(),
                approved_by: None,
                expires_on: None,
                updated_ms: now,
            }
            .into_active_model()
        });
        finding::Entity::insert_many(rows).exec(txn).await?;
    }
    summary.opened = new.len();
    for chunk in resolve.chunks(500) {
        finding::Entity::update_many()
            .col_expr(finding::Column::Status, Expr::val("resolved").into())
            .col_expr(finding::Column::ClosedMs, Expr::val(now).into())
            .col_expr(finding::Column::UpdatedMs, Expr::val(now).into())
            .filter(finding::Column::Id.is_in(chunk.iter().cloned()))
            .exec(txn)
            .await?;
    }
    summary.resolved = resolve.len();
    for (ids, reopened) in [(&reopen, true), (&expire, false)] {
        for chunk in ids.chunks(500) {
            let mut u = finding::Entity::update_many()
                .col_expr(finding::Column::Status, Expr::val("open").into())
                .col_expr(finding::Column::ClosedMs, Expr::val(Option::<i64>::None).into())
                .col_expr(finding::Column::UpdatedMs, Expr::val(now).into());
            if reopened {
                u = u.col_expr(finding::Column::OpenedMs, Expr::val(now).into());
            }
            u.filter(finding::Column::Id.is_in(chunk.iter().cloned())).exec(txn).await?;
        }
    }
    summary.reopened = reopen.len();
    summary.expired = expire.len();
    if whole || summary.opened + summary.reopened + summary.resolved + summary.expired > 0 {
        let (record_id, company) = match &target {
            Target::Assets(ids) if ids.len() == 1 => (Some(ids[0].clone()), assets.first().map(|a| a.company_id.clone())),
            _ => (None, None),
        };
        record(app, txn, who, "assets.findings.recheck", "information_asset", record_id.as_deref(), company.as_deref(), json!({"target": format!("{target:?}"), "summary": summary})).await?;
    }
    Ok(summary)
}

fn from_breach(b: Breach, company_id: &str) -> Found {
    Found {
        key: b.key(),
        company_id: company_id.to_owned(),
        severity: i16::from(b.severity()),
        customer_information: b.customer_information,
        rule: b.rule,
        asset_id: Some(b.asset_id),
        support_id: b.support_id,
        takeout_id: None,
    }
}

/// Re-checks everything the caller manages, now. Scheduled daily for the whole group.
pub async fn recheck_all(app: &App, who: &Principal) -> Result<RecheckSummary> {
    let within = match who.access.scope(Permission::AssetsManage) {
        isms_core::Scope::Group => None,
        isms_core::Scope::Companies(c) => Some(c.iter().map(|c| c.to_string()).collect()),
        isms_core::Scope::Nothing => return Err(AppError::Forbidden),
    };
    let txn = app.store.write().await?;
    let s = recheck(app, &txn, who, Target::All(within)).await?;
    txn.commit().await?;
    Ok(s)
}

pub use crate::Page;

pub async fn list(app: &App, who: &Principal, q: &FindingQuery) -> Result<Page<Finding>> {
    let within = who.within(Permission::AssetsRead)?;
    let db = app.store.conn();
    let rows = tables::findings_page(db, within.as_deref(), q).await?;
    let total = tables::findings_count(db, within.as_deref(), q).await?;
    Ok(Page { items: rows.into_iter().map(Finding::from).collect(), total })
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Finding> {
    let m = finding::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    Ok(m.into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AcceptInput {
    /// Why the breach is tolerated, and what compensates for it.
    pub reason: String,
    /// YYYY-MM-DD, at most a year ahead.
    pub expires_on: String,
}

/// Accepts a finding as an exception. The acting user is the approver. Exceptions on
/// customer information need group-wide authority (the CISO), not a company's.
pub async fn accept(app: &App, who: &Principal, id: &str, input: AcceptInput) -> Result<Finding> {
    let txn = app.store.write().await?;
    let m = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&m.company_id))?;
    if m.customer_information && !who.access.can_for(Permission::AssetsManage, None) {
        return Err(AppError::coded("finding", "customer-exception-needs-ciso", "an exception on customer information is approved group-wide (by the CISO)"));
    }
    let mut errors = vec![];
    let reason = super::required(&mut errors, "reason", &input.reason, 2000);
    if !reason.is_empty() && reason.chars().count() < 10 {
        errors.push(FieldError::coded("reason", "reason-short", "say why in at least 10 characters"));
    }
    let expires = super::date_opt(&mut errors, "expires_on", &Some(input.expires_on.clone()));
    let today = super::today();
    match expires {
        None if errors.iter().all(|e| e.field != "expires_on") => errors.push(FieldError::coded("expires_on", "required", "is required")),
        Some(d) if d <= today => errors.push(FieldError::coded("expires_on", "date-future", "must be after today")),
        Some(d) if d > today.saturating_add(jiff::Span::new().years(1)) => errors.push(FieldError::coded("expires_on", "expiry-within-year", "may be at most a year ahead")),
        _ => {}
    }
    if m.status != "open" {
        errors.push(FieldError::coded("finding", "finding-not-open", format!("is {}, not open", m.status)).arg("status", m.status.clone()));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut am = m.clone().into_active_model();
    am.status = Set("accepted".into());
    am.reason = Set(reason.clone());
    am.approved_by = Set(who.user_id.clone());
    am.expires_on = Set(expires.map(|d| d.to_string()));
    am.updated_ms = Set(now_ms());
    let saved = am.update(&txn).await?;
    record(app, &txn, who, "assets.finding.accept", "asset_finding", Some(&saved.id), Some(&saved.company_id), json!({"rule": saved.rule, "reason": reason, "expires_on": saved.expires_on})).await?;
    txn.commit().await?;
    Ok(saved.into())
}

/// Marks a finding resolved: its subject is re-checked now, and a breach that still holds
/// is refused with the rule it still breaks.
pub async fn resolve(app: &App, who: &Principal, id: &str) -> Result<Finding> {
    let txn = app.store.write().await?;
    let m = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    who.require_for(Permission::AssetsManage, Some(&m.company_id))?;
    let target = match (&m.asset_id, &m.takeout_id) {
        (_, Some(_)) => Target::All(Some(vec![m.company_id.clone()])),
        (Some(a), None) => Target::Assets(vec![a.clone()]),
        (None, None) => return Err(AppError::Internal(format!("finding {} has no subject", m.id))),
    };
    recheck(app, &txn, who, target).await?;
    let now = finding::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if now.status != "resolved" {
        return Err(AppError::Invalid(vec![FieldError::coded("finding", "still-breached", format!("the register still breaks `{}`; change the asset or its holder first", now.rule)).arg("rule", now.rule.clone())]));
    }
    txn.commit().await?;
    Ok(now.into())
}
