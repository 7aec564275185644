//! The management system's documents: policies, regulations, guidelines, the Handbook and
//! procedures, each in versions that pass draft → in review → approved → published →
//! retired (`isms_core::policies` holds the rules); who reads what; approval by each
//! kind's role; acknowledgement campaigns; reviews; and the public pages.

pub mod demo;
pub mod documents;
pub mod reading;
pub mod versions;

use isms_core::policies::{ApprovalRule, DocKind, default_rules};
use isms_core::{Permission, Role};
use isms_kernel::{App, AppError, Principal, Result};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::policies::{applies, document, kind};
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

pub use documents::{Document, DocumentDetail, DocumentInput};
pub use versions::Version;

/// Whether `who` reads every state of `doc`: group documents with the permission at any
/// scope (they apply to every company), a company's documents within that company.
pub(crate) fn reads_all(who: &Principal, doc: &document::Model) -> bool {
    match &doc.company_id {
        None => who.access.can(Permission::PoliciesRead),
        Some(c) => who.access.can_for(Permission::PoliciesRead, c.parse().ok()),
    }
}

/// Whether `who` writes `doc`: group documents need the permission group-wide.
pub(crate) fn manages(who: &Principal, doc: &document::Model) -> bool {
    who.access.can_for(Permission::PoliciesManage, doc.company_id.as_deref().and_then(|c| c.parse().ok()))
}

/// The roles `who` holds for `doc`'s company (group-wide grants count for every company;
/// a company's grant does not count for a group document).
pub(crate) fn roles_for(who: &Principal, doc: &document::Model) -> Vec<Role> {
    who.access
        .grants()
        .iter()
        .filter(|g| g.company.is_none() || (doc.company_id.is_some() && g.company.map(|c| c.to_string()) == doc.company_id))
        .map(|g| g.role)
        .collect()
}

/// The person behind the caller's account, if any.
pub async fn my_person(db: &impl ConnectionTrait, who: &Principal) -> Result<Option<person::Model>> {
    isms_org::people::of_principal(db, who).await
}

/// The companies a document applies to; empty means the whole group.
pub(crate) async fn applies_to(db: &impl ConnectionTrait, doc_id: &str) -> Result<Vec<String>> {
    Ok(applies::Entity::find().filter(applies::Column::DocumentId.eq(doc_id)).all(db).await?.into_iter().map(|a| a.company_id).collect())
}

/// Whether a published document applies to a person of `company_id`.
pub(crate) async fn applies_to_company(db: &impl ConnectionTrait, doc: &document::Model, company_id: &str) -> Result<bool> {
    let list = applies_to(db, &doc.id).await?;
    Ok(list.is_empty() || list.iter().any(|c| c == company_id))
}

/// The approval rules by kind; missing ones start from the defaults.
pub async fn rules(app: &App) -> Result<Vec<ApprovalRule>> {
    let stored = kind::Entity::find().all(app.store.conn()).await?;
    Ok(default_rules()
        .into_iter()
        .map(|d| match stored.iter().find(|k| k.kind == d.kind.code()) {
            Some(k) => ApprovalRule {
                kind: d.kind,
                approver_role: k.approver_role.parse().unwrap_or(d.approver_role),
                approvals_needed: k.approvals_needed,
                review_months: k.review_months,
            },
            None => d,
        })
        .collect())
}

pub(crate) async fn rule_for(app: &App, kind: DocKind) -> Result<ApprovalRule> {
    rules(app).await?.into_iter().find(|r| r.kind == kind).ok_or(AppError::NotFound)
}

/// Changes who approves a kind: the group's document managers only (the CISO).
pub async fn set_rule(app: &App, who: &Principal, rule: ApprovalRule) -> Result<ApprovalRule> {
    if !who.access.can_for(Permission::PoliciesManage, None) {
        return Err(AppError::Forbidden);
    }
    rule.validate().map_err(AppError::Invalid)?;
    let txn = app.store.write().await?;
    kind::Entity::delete_by_id(rule.kind.code().to_owned()).exec(&txn).await?;
    kind::Entity::insert(kind::ActiveModel {
        kind: Set(rule.kind.code().into()),
        approver_role: Set(rule.approver_role.code().into()),
        approvals_needed: Set(rule.approvals_needed),
        review_months: Set(rule.review_months),
        updated_ms: Set(now_ms()),
    })
    .exec_without_returning(&txn)
    .await?;
    isms_kernel::record(app, &txn, who, "policies.kind.update", "document_kind", Some(rule.kind.code()), None, json!({"after": rule})).await?;
    txn.commit().await?;
    Ok(rule)
}

use isms_kernel::jobs::{HOUR, Job};

/// The documents' background work: weekly reminders to read, and reminders of reviews due.
pub fn jobs() -> Vec<Job> {
    vec![
        Job::new("policies.reading-reminders", HOUR, "reading reminders queued", |app| {
            Box::pin(async move { reading::remind_unacknowledged_weekly(&app).await.map(|n| n as u64) })
        }),
        Job::new("policies.review-reminders", HOUR, "document review reminders queued", |app| {
            Box::pin(async move { reading::remind_reviews(&app).await.map(|n| n as u64) })
        }),
    ]
}
