//! Findings of the management system's own upkeep: a document review, a control's
//! effectiveness review or a risk review past its date, a risk acceptance run out, a
//! treatment action overdue. Each lapse is one finding (by source, record and due date);
//! a check opens the new ones and closes those that ended. The asset register keeps its
//! conformance findings of its own (`assets::conformance`). A module above this one raises
//! and closes findings of its own source through [`raise`] and [`close`] (training's
//! twice-a-year rule: `training_half`), which the check here leaves alone.

use isms_core::Permission;
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::compliance::{action, control, finding, risk};
use isms_store::now_ms;
use isms_store::policies::document;
use isms_store::sea_orm::sea_query::{Expr, OnConflict};
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewFinding)]
pub struct Finding {
    pub id: String,
    /// document_review, control_review, risk_review, risk_acceptance or risk_action
    pub source: String,
    pub record_id: String,
    pub company_id: Option<String>,
    pub title: String,
    pub due_on: String,
    pub opened_ms: i64,
    pub closed_ms: Option<i64>,
    /// Where the record is.
    pub link: String,
}

/// The permission that reads a source's records.
fn reader(source: &str) -> Permission {
    match source {
        "document_review" => Permission::PoliciesRead,
        "control_review" => Permission::ComplianceRead,
        TRAINING_HALF => Permission::TrainingRead,
        _ => Permission::RisksRead,
    }
}

fn link(source: &str, record_id: &str) -> String {
    match source {
        "document_review" => format!("/policies/{record_id}"),
        "control_review" => format!("/controls/{record_id}"),
        TRAINING_HALF => format!("/training/halves?person={record_id}"),
        _ => format!("/risks/{record_id}"),
    }
}

/// A person who had not completed an awareness course by the last day of a fiscal half
/// (the record is the person; the due date, the half's last day).
pub const TRAINING_HALF: &str = "training_half";

/// The sources the check here keeps.
const OWN: [&str; 5] = ["document_review", "control_review", "risk_review", "risk_acceptance", "risk_action"];

pub const SOURCES: [&str; 6] = ["document_review", "control_review", "risk_review", "risk_acceptance", "risk_action", TRAINING_HALF];

/// Findings `who` may see: for each source, the companies its reading permission reaches
/// (group records — documents and controls of the group — with the permission anywhere).
fn visible(who: &Principal) -> Condition {
    let mut any = Condition::any();
    for s in SOURCES {
        let p = reader(s);
        let scope = match who.access.scope(p) {
            isms_core::Scope::Group => Condition::all(),
            isms_core::Scope::Companies(set) => {
                Condition::any().add(finding::Column::CompanyId.is_null()).add(finding::Column::CompanyId.is_in(set.iter().map(|c| c.to_string())))
            }
            isms_core::Scope::Nothing => continue,
        };
        any = any.add(Condition::all().add(finding::Column::Source.eq(s)).add(scope));
    }
    // Nothing readable: an id is never null.
    if any.is_empty() { Condition::all().add(finding::Column::Id.is_null()) } else { any }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// `open` (the default), `closed` or `all`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
}

pub async fn list(app: &App, who: &Principal, q: &FindingQuery) -> Result<Page<Finding>> {
    let db = app.store.conn();
    let mut sel = finding::Entity::find().filter(visible(who));
    match q.status.as_deref() {
        Some("all") => {}
        Some("closed") => sel = sel.filter(finding::Column::ClosedMs.is_not_null()),
        _ => sel = sel.filter(finding::Column::ClosedMs.is_null()),
    }
    if let Some(s) = q.source.as_deref().filter(|s| !s.is_empty()) {
        if !SOURCES.contains(&s) {
            return Err(AppError::Invalid(vec![
                isms_core::FieldError::coded("source", "one-of", format!("`{s}` is not one of {}", SOURCES.join(", ")))
                    .arg("value", s)
                    .arg("expected", SOURCES.join(", ")),
            ]));
        }
        sel = sel.filter(finding::Column::Source.eq(s));
    }
    if let Some(c) = q.company_id.as_deref().filter(|c| !c.is_empty()) {
        sel = sel.filter(finding::Column::CompanyId.eq(c));
    }
    let total = sel.clone().count(db).await?;
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let rows =
        sel.order_by_asc(finding::Column::DueOn).order_by_asc(finding::Column::Key).offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|f| Finding {
                link: link(&f.source, &f.record_id),
                id: f.id,
                source: f.source,
                record_id: f.record_id,
                company_id: f.company_id,
                title: f.title,
                due_on: f.due_on,
                opened_ms: f.opened_ms,
                closed_ms: f.closed_ms,
            })
            .collect(),
        total,
    })
}

/// A lapse as it stands now.
struct Lapse {
    source: &'static str,
    record_id: String,
    company_id: Option<String>,
    title: String,
    due_on: String,
}

impl Lapse {
    fn key(&self) -> String {
        format!("{}:{}:{}", self.source, self.record_id, self.due_on)
    }
}

async fn lapses(app: &App) -> Result<Vec<Lapse>> {
    let db = app.store.conn();
    let today = isms_core::calendar::today().to_string();
    let mut out = vec![];
    for d in document::Entity::find()
        .filter(document::Column::Retired.eq(false))
        .filter(document::Column::CurrentVersionId.is_not_null())
        .filter(document::Column::ReviewDue.lt(today.clone()))
        .all(db)
        .await?
    {
        out.push(Lapse {
            source: "document_review",
            title: format!("{} {}", d.code, d.title),
            due_on: d.review_due.unwrap_or_default(),
            record_id: d.id,
            company_id: d.company_id,
        });
    }
    for c in control::Entity::find().filter(control::Column::Status.ne("not_applicable")).filter(control::Column::ReviewDue.lt(today.clone())).all(db).await? {
        out.push(Lapse {
            source: "control_review",
            title: format!("{} {}", c.code, c.title),
            due_on: c.review_due.unwrap_or_default(),
            record_id: c.id,
            company_id: c.company_id,
        });
    }
    for r in risk::Entity::find().filter(risk::Column::Status.ne("closed")).filter(risk::Column::ReviewDue.lt(today.clone())).all(db).await? {
        out.push(Lapse {
            source: "risk_review",
            title: format!("{} {}", r.reference, r.title),
            due_on: r.review_due.unwrap_or_default(),
            record_id: r.id,
            company_id: Some(r.company_id),
        });
    }
    for r in risk::Entity::find().filter(risk::Column::Status.eq("accepted")).filter(risk::Column::AcceptanceExpires.lt(today.clone())).all(db).await? {
        out.push(Lapse {
            source: "risk_acceptance",
            title: format!("{} {}", r.reference, r.title),
            due_on: r.acceptance_expires.unwrap_or_default(),
            record_id: r.id,
            company_id: Some(r.company_id),
        });
    }
    let overdue = action::Entity::find().filter(action::Column::DoneMs.is_null()).filter(action::Column::DueOn.lt(today)).all(db).await?;
    let owners: HashMap<String, risk::Model> = risk::Entity::find()
        .filter(risk::Column::Id.is_in(overdue.iter().map(|a| a.risk_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    for a in overdue {
        let Some(r) = owners.get(&a.risk_id) else { continue };
        out.push(Lapse {
            source: "risk_action",
            title: format!("{}: {}", r.reference, a.title),
            due_on: a.due_on,
            record_id: r.id.clone(),
            company_id: Some(r.company_id.clone()),
        });
    }
    Ok(out)
}

/// What a check changed.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
#[schema(as = FindingsChecked)]
pub struct Checked {
    pub opened: usize,
    pub closed: usize,
    pub open: usize,
}

/// Opens a finding for each new lapse and closes those that ended. Idempotent: two
/// instances checking at once only repeat work (the key is unique).
pub async fn check(app: &App) -> Result<Checked> {
    let now_lapses = lapses(app).await?;
    let txn = app.store.write().await?;
    let open: Vec<finding::Model> =
        finding::Entity::find().filter(finding::Column::ClosedMs.is_null()).filter(finding::Column::Source.is_in(OWN)).all(&txn).await?;
    let keys: std::collections::HashSet<String> = now_lapses.iter().map(Lapse::key).collect();
    let mut c = Checked::default();
    let now = now_ms();
    for f in &open {
        if !keys.contains(&f.key) {
            finding::Entity::update_many()
                .col_expr(finding::Column::ClosedMs, isms_store::sea_orm::sea_query::Expr::value(now))
                .filter(finding::Column::Id.eq(f.id.clone()))
                .exec(&txn)
                .await?;
            c.closed += 1;
        }
    }
    let known: std::collections::HashSet<&str> = open.iter().map(|f| f.key.as_str()).collect();
    for l in &now_lapses {
        let key = l.key();
        if known.contains(key.as_str()) {
            continue;
        }
        // A lapse that was closed and came back (a date moved back) reopens.
        if finding::Entity::find().filter(finding::Column::Key.eq(key.clone())).one(&txn).await?.is_some() {
            finding::Entity::update_many()
                .col_expr(finding::Column::ClosedMs, isms_store::sea_orm::sea_query::Expr::value(Option::<i64>::None))
                .filter(finding::Column::Key.eq(key))
                .exec(&txn)
                .await?;
        } else {
            finding::Entity::insert(finding::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                key: Set(key),
                source: Set(l.source.into()),
                record_id: Set(l.record_id.clone()),
                company_id: Set(l.company_id.clone()),
                title: Set(l.title.chars().take(400).collect()),
                due_on: Set(l.due_on.clone()),
                opened_ms: Set(now),
                closed_ms: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
        }
        c.opened += 1;
    }
    c.open = now_lapses.len();
    txn.commit().await?;
    Ok(c)
}

/// A check asked for by someone who keeps the management system's records.
pub async fn check_now(app: &App, who: &Principal) -> Result<Checked> {
    who.require(Permission::ComplianceManage)?;
    let c = check(app).await?;
    let txn = app.store.write().await?;
    record(app, &txn, who, "findings.check", "review_finding", None, None, json!({"opened": c.opened, "closed": c.closed, "open": c.open})).await?;
    txn.commit().await?;
    Ok(c)
}

/// A finding a module above raises from its own rule.
#[derive(Debug, Clone)]
pub struct Raised {
    pub record_id: String,
    pub company_id: Option<String>,
    pub title: String,
    pub due_on: String,
}

/// Opens a finding of `source` for each lapse not yet known (by source, record and due
/// date), inside the caller's transaction, and reopens one that was closed. Returns how
/// many were opened.
pub async fn raise(db: &impl ConnectionTrait, source: &'static str, items: &[Raised]) -> Result<u64> {
    if OWN.contains(&source) || !SOURCES.contains(&source) {
        return Err(AppError::internal(format!("`{source}` is not a source other modules raise")));
    }
    let now = now_ms();
    let mut opened = 0;
    for chunk in items.chunks(400) {
        let keys: Vec<String> = chunk.iter().map(|r| format!("{source}:{}:{}", r.record_id, r.due_on)).collect();
        opened += finding::Entity::update_many()
            .col_expr(finding::Column::ClosedMs, Expr::value(Option::<i64>::None))
            .filter(finding::Column::Key.is_in(keys))
            .filter(finding::Column::ClosedMs.is_not_null())
            .exec(db)
            .await?
            .rows_affected;
        let rows = chunk.iter().map(|r| finding::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            key: Set(format!("{source}:{}:{}", r.record_id, r.due_on)),
            source: Set(source.into()),
            record_id: Set(r.record_id.clone()),
            company_id: Set(r.company_id.clone()),
            title: Set(r.title.chars().take(400).collect()),
            due_on: Set(r.due_on.clone()),
            opened_ms: Set(now),
            closed_ms: Set(None),
        });
        opened +=
            finding::Entity::insert_many(rows).on_conflict(OnConflict::column(finding::Column::Key).do_nothing().to_owned()).exec_without_returning(db).await?;
    }
    Ok(opened)
}

/// The open findings of `source`: (id, record, due date).
pub async fn open_of(db: &impl ConnectionTrait, source: &'static str) -> Result<Vec<(String, String, String)>> {
    Ok(finding::Entity::find()
        .select_only()
        .columns([finding::Column::Id, finding::Column::RecordId, finding::Column::DueOn])
        .filter(finding::Column::Source.eq(source))
        .filter(finding::Column::ClosedMs.is_null())
        .into_tuple()
        .all(db)
        .await?)
}

/// Closes these findings (by id) of `source`, inside the caller's transaction.
pub async fn close(db: &impl ConnectionTrait, source: &'static str, ids: &[String]) -> Result<u64> {
    let mut closed = 0;
    for chunk in ids.chunks(400) {
        closed += finding::Entity::update_many()
            .col_expr(finding::Column::ClosedMs, Expr::value(now_ms()))
            .filter(finding::Column::Source.eq(source))
            .filter(finding::Column::Id.is_in(chunk.to_vec()))
            .filter(finding::Column::ClosedMs.is_null())
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(closed)
}
