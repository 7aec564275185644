//! Controls: the group's own measures, each with an owner, the companies it covers, a
//! status, an effectiveness review date, evidence (files with a checksum, links, and the
//! published documents linked to it) and the framework requirements it satisfies.

use isms_core::compliance::{ControlStatus, EvidenceKind};
use isms_core::policies::{ReviewStatus, next_review, parse_code, review_status};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::compliance::{control, control_company, control_requirement, evidence, framework, requirement, risk_control};
use isms_store::now_ms;
use isms_store::org::company;
use isms_store::policies::{document, link, version};
use isms_store::sea_orm::sea_query::Query;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod attached;
pub use attached::*;

pub const MAX_EVIDENCE_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Control {
    pub id: String,
    pub code: String,
    pub title: String,
    pub description: String,
    /// The owning company; `None` for a group control.
    pub company_id: Option<String>,
    pub owner_id: Option<String>,
    pub status: ControlStatus,
    pub review_months: i32,
    pub review_due: Option<String>,
    /// not_scheduled, current, due_soon or overdue
    pub review_status: String,
    /// Companies it covers; empty: the whole group (a company's control covers that company).
    pub applies_to: Vec<String>,
    pub requirements: Vec<RequirementRef>,
    /// Files, links and published documents behind it.
    pub evidence_count: u64,
    /// The date of the newest evidence.
    pub latest_evidence: Option<String>,
    /// Implemented, with evidence and its review not overdue: only then does it meet
    /// the requirements it is linked to.
    pub proven: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequirementRef {
    pub id: String,
    pub framework_code: String,
    pub reference: String,
    pub title: String,
}

/// The controls `who` reaches with `p`: group controls with the permission anywhere,
/// a company's controls within that company.
pub(crate) fn visible(who: &Principal, p: Permission) -> Result<Condition> {
    Ok(match who.within(p)? {
        None => Condition::all(),
        Some(set) => Condition::any().add(control::Column::CompanyId.is_null()).add(control::Column::CompanyId.is_in(set)),
    })
}

/// Published documents linked to controls, as (control id, document id, code, title, published date).
async fn linked_documents(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<(String, String, String, String, Option<i64>)>> {
    let links = link::Entity::find().filter(link::Column::TargetKind.eq("control")).filter(link::Column::TargetId.is_in(ids.to_vec())).all(db).await?;
    let docs = document::Entity::find()
        .filter(document::Column::Id.is_in(links.iter().map(|l| l.document_id.clone())))
        .filter(document::Column::CurrentVersionId.is_not_null())
        .filter(document::Column::Retired.eq(false))
        .all(db)
        .await?;
    let versions = version::Entity::find().filter(version::Column::Id.is_in(docs.iter().filter_map(|d| d.current_version_id.clone()))).all(db).await?;
    Ok(links
        .iter()
        .filter_map(|l| {
            let d = docs.iter().find(|d| d.id == l.document_id)?;
            let published = versions.iter().find(|v| Some(&v.id) == d.current_version_id.as_ref()).and_then(|v| v.published_ms);
            Some((l.target_id.clone(), d.id.clone(), d.code.clone(), d.title.clone(), published))
        })
        .collect())
}

fn date_of_ms(ms: i64) -> String {
    isms_core::calendar::date_at(ms).map(|d| d.to_string()).unwrap_or_default()
}

/// Builds the views of `rows` with their companies, requirements and evidence.
pub(crate) async fn build(app: &App, db: &impl ConnectionTrait, rows: Vec<control::Model>) -> Result<Vec<Control>> {
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let comps = control_company::Entity::find().filter(control_company::Column::ControlId.is_in(ids.clone())).all(db).await?;
    let links = control_requirement::Entity::find().filter(control_requirement::Column::ControlId.is_in(ids.clone())).all(db).await?;
    let reqs = requirement::Entity::find().filter(requirement::Column::Id.is_in(links.iter().map(|l| l.requirement_id.clone()))).all(db).await?;
    let fws = framework::Entity::find().all(db).await?;
    let ev: Vec<(String, String)> = evidence::Entity::find()
        .select_only()
        .columns([evidence::Column::ControlId, evidence::Column::EvidenceOn])
        .filter(evidence::Column::ControlId.is_in(ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    let docs = linked_documents(db, &ids).await?;
    let today = isms_core::calendar::today();
    let remind = app.config().remind_days;
    rows.into_iter()
        .map(|c| {
            let status = ControlStatus::parse(&c.status).map_err(|e| AppError::internal(e.to_string()))?;
            let due = c.review_due.as_deref().and_then(|s| s.parse().ok());
            let rs = review_status(due, today, remind);
            let mut dates: Vec<String> = ev.iter().filter(|(id, _)| *id == c.id).map(|(_, d)| d.clone()).collect();
            dates.extend(docs.iter().filter(|d| d.0 == c.id).filter_map(|d| d.4.map(date_of_ms)));
            let mut requirements: Vec<RequirementRef> = links
                .iter()
                .filter(|l| l.control_id == c.id)
                .filter_map(|l| reqs.iter().find(|r| r.id == l.requirement_id))
                .map(|r| RequirementRef {
                    id: r.id.clone(),
                    framework_code: fws.iter().find(|f| f.id == r.framework_id).map(|f| f.code.clone()).unwrap_or_default(),
                    reference: r.reference.clone(),
                    title: r.title.clone(),
                })
                .collect();
            requirements.sort_by(|a, b| (&a.framework_code, &a.reference).cmp(&(&b.framework_code, &b.reference)));
            Ok(Control {
                status,
                review_status: rs.code().into(),
                applies_to: comps.iter().filter(|a| a.control_id == c.id).map(|a| a.company_id.clone()).collect(),
                requirements,
                evidence_count: dates.len() as u64,
                latest_evidence: dates.iter().max().cloned(),
                proven: status == ControlStatus::Implemented && !dates.is_empty() && rs != ReviewStatus::Overdue,
                id: c.id,
                code: c.code,
                title: c.title,
                description: c.description,
                company_id: c.company_id,
                owner_id: c.owner_id,
                review_months: c.review_months,
                review_due: c.review_due,
                created_ms: c.created_ms,
                updated_ms: c.updated_ms,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ControlQuery {
    /// Words in the code or title.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// A company id, or `group` for group controls.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Controls linked to this requirement.
    #[serde(default)]
    pub requirement_id: Option<String>,
    /// `overdue` or `due_soon` effectiveness reviews.
    #[serde(default)]
    pub review: Option<String>,
    /// `code` (the default), `title`, `status`, `company` or `review`.
    #[serde(default)]
    pub sort: Option<String>,
    /// `asc` or `desc`.
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub limit: u64,
}

/// The columns a list of controls sorts by.
const ORDER: &[(&str, control::Column)] = &[
    ("code", control::Column::Code),
    ("title", control::Column::Title),
    ("status", control::Column::Status),
    ("company", control::Column::CompanyId),
    ("review", control::Column::ReviewDue),
];

pub async fn list(app: &App, who: &Principal, q: &ControlQuery) -> Result<Page<Control>> {
    let db = app.store.conn();
    let mut sel = control::Entity::find().filter(visible(who, Permission::ComplianceRead)?);
    if let Some(s) = isms_store::search::cleaned(q.search.as_deref()) {
        sel = sel.filter(isms_store::search::any_contains(&[control::Column::Code, control::Column::Title], &s));
    }
    if let Some(st) = q.status.as_deref().filter(|s| !s.is_empty()) {
        sel = sel.filter(control::Column::Status.eq(ControlStatus::parse(st)?.code()));
    }
    if let Some(c) = q.company_id.as_deref().filter(|c| !c.is_empty()) {
        sel = if c == "group" { sel.filter(control::Column::CompanyId.is_null()) } else { sel.filter(control::Column::CompanyId.eq(c)) };
    }
    if let Some(r) = q.requirement_id.as_deref().filter(|r| !r.is_empty()) {
        let ids = Query::select()
            .column(control_requirement::Column::ControlId)
            .from(control_requirement::Entity)
            .and_where(control_requirement::Column::RequirementId.eq(r))
            .to_owned();
        sel = sel.filter(control::Column::Id.in_subquery(ids));
    }
    let today = isms_core::calendar::today();
    match q.review.as_deref() {
        Some("overdue") => sel = sel.filter(control::Column::ReviewDue.lt(today.to_string())),
        Some("due_soon") => {
            let horizon = today.saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
            sel = sel.filter(control::Column::ReviewDue.gte(today.to_string())).filter(control::Column::ReviewDue.lte(horizon));
        }
        _ => {}
    }
    let total = sel.clone().count(db).await?;
    let limit = if q.limit == 0 { 50 } else { q.limit.min(500) };
    let cols = isms_kernel::order::Columns { keys: ORDER, default_desc: false, id: control::Column::Id };
    let rows =
        isms_kernel::order::ordered(sel, cols, q.sort.as_deref(), q.dir.as_deref())?.offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    Ok(Page { items: build(app, db, rows).await?, total })
}

/// A control's page: the control, its evidence and the risks it treats.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ControlDetail {
    pub control: Control,
    pub evidence: Vec<Evidence>,
    pub risks: Vec<RiskRef>,
    pub can_manage: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ControlEvidence)]
pub struct Evidence {
    /// A stored file or link's id; a document's id for kind `record`.
    pub id: String,
    pub kind: EvidenceKind,
    pub title: String,
    pub url: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub evidence_on: String,
    pub added_by: Option<String>,
    pub added_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskRef {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub residual_score: i32,
}

pub(crate) async fn load(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<control::Model> {
    let c = control::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let seen = who.access.can_for(Permission::ComplianceRead, c.company_id.as_deref().and_then(|x| x.parse().ok()))
        || (c.company_id.is_none() && who.access.can(Permission::ComplianceRead));
    if !seen {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

fn manages(who: &Principal, c: &control::Model) -> bool {
    who.access.can_for(Permission::ComplianceManage, c.company_id.as_deref().and_then(|x| x.parse().ok()))
}

pub(crate) async fn evidence_of(db: &impl ConnectionTrait, ids: &[String]) -> Result<Vec<(String, Evidence)>> {
    let stored = evidence::Entity::find()
        .select_only()
        .columns([
            evidence::Column::Id,
            evidence::Column::ControlId,
            evidence::Column::Kind,
            evidence::Column::Title,
            evidence::Column::Url,
            evidence::Column::FileName,
            evidence::Column::Size,
            evidence::Column::Sha256,
            evidence::Column::EvidenceOn,
            evidence::Column::AddedBy,
            evidence::Column::AddedMs,
        ])
        .filter(evidence::Column::ControlId.is_in(ids.to_vec()))
        .order_by_desc(evidence::Column::EvidenceOn)
        .into_tuple::<(String, String, String, String, String, String, i64, String, String, Option<String>, i64)>()
        .all(db)
        .await?;
    let mut out: Vec<(String, Evidence)> = stored
        .into_iter()
        .map(|(id, control_id, kind, title, url, file_name, size, sha256, evidence_on, added_by, added_ms)| {
            let kind = EvidenceKind::parse(&kind).unwrap_or(EvidenceKind::File);
            (control_id, Evidence { id, kind, title, url, file_name, size, sha256, evidence_on, added_by, added_ms })
        })
        .collect();
    for (control_id, doc_id, code, title, published) in linked_documents(db, ids).await? {
        out.push((
            control_id,
            Evidence {
                url: format!("/policies/{doc_id}"),
                id: doc_id,
                kind: EvidenceKind::Record,
                title: format!("{code} {title}"),
                file_name: String::new(),
                size: 0,
                sha256: String::new(),
                evidence_on: published.map(date_of_ms).unwrap_or_default(),
                added_by: None,
                added_ms: published.unwrap_or(0),
            },
        ));
    }
    Ok(out)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<ControlDetail> {
    let db = app.store.conn();
    let c = load(db, who, id).await?;
    let can_manage = manages(who, &c);
    let evidence = evidence_of(db, std::slice::from_ref(&c.id)).await?.into_iter().map(|(_, e)| e).collect();
    let risks = if who.access.can(Permission::RisksRead) { crate::risks::treated_by(db, who, &c.id).await? } else { vec![] };
    let control = build(app, db, vec![c]).await?.remove(0);
    Ok(ControlDetail { control, evidence, risks, can_manage })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ControlInput {
    /// A short code such as `CTL-024`.
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The owning company; empty for a group control.
    #[serde(default)]
    pub company_id: Option<String>,
    /// The owner's person id or employee number.
    pub owner_id: String,
    /// planned, in_progress, implemented or not_applicable
    pub status: String,
    /// Months between effectiveness reviews (1 to 60); 12 when absent.
    #[serde(default)]
    pub review_months: Option<i32>,
    /// The next review; one interval from today when absent.
    #[serde(default)]
    pub review_due: Option<String>,
    /// Companies it covers; empty: the whole group.
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Requirement ids it satisfies, in any framework.
    #[serde(default)]
    pub requirement_ids: Vec<String>,
}

struct Valid {
    code: String,
    title: String,
    company_id: Option<String>,
    owner_id: String,
    status: ControlStatus,
    review_months: i32,
    review_due: Option<jiff::civil::Date>,
    applies_to: Vec<String>,
    requirement_ids: Vec<String>,
}

async fn validate(db: &impl ConnectionTrait, who: &Principal, input: &ControlInput) -> Result<Valid> {
    let mut errors = vec![];
    let code = parse_code(&input.code).map_err(|e| errors.push(e)).unwrap_or_default();
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    if input.description.chars().count() > 8000 {
        errors.push(FieldError::coded("description", "too-long", "is longer than 8000 characters").arg("max", "8000"));
    }
    let status = ControlStatus::parse(&input.status).map_err(|e| errors.push(e)).unwrap_or(ControlStatus::Planned);
    let review_months = match input.review_months {
        Some(m) if !(1..=60).contains(&m) => {
            errors.push(FieldError::coded("review_months", "between", "must be between 1 and 60").arg("min", "1").arg("max", "60"));
            12
        }
        Some(m) => m,
        None => 12,
    };
    let review_due = isms_kernel::input::date_opt(&mut errors, "review_due", &input.review_due);
    let company_id = isms_kernel::input::blank_to_none(&input.company_id);
    if let Some(c) = &company_id
        && company::Entity::find_by_id(c.clone()).one(db).await?.is_none()
    {
        errors.push(FieldError::coded("company_id", "no-company", "no such company"));
    }
    let owner_id = isms_org::people::required_person(db, "owner_id", &input.owner_id, &mut errors).await?;
    let mut applies_to = isms_kernel::id_list(&input.applies_to);
    for c in &applies_to {
        if company::Entity::find_by_id(c.clone()).one(db).await?.is_none() {
            errors.push(FieldError::coded("applies_to", "no-company", "no such company"));
        } else if company_id.as_ref().is_some_and(|own| own != c) {
            errors.push(FieldError::coded("applies_to", "applies-own-company", "a company's control covers only that company"));
        }
    }
    if let Some(own) = &company_id {
        applies_to = vec![own.clone()];
    }
    let requirement_ids = isms_kernel::id_list(&input.requirement_ids);
    let found = requirement::Entity::find().filter(requirement::Column::Id.is_in(requirement_ids.clone())).count(db).await?;
    if found != requirement_ids.len() as u64 {
        errors.push(FieldError::coded("requirement_ids", "no-requirement", "no such requirement"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if !who.access.can_for(Permission::ComplianceManage, company_id.as_deref().and_then(|c| c.parse().ok())) {
        return Err(AppError::coded("company_id", "company-out-of-scope", "you do not manage controls of this company"));
    }
    Ok(Valid { code, title, company_id, owner_id, status, review_months, review_due, applies_to, requirement_ids })
}

async fn save_relations(db: &impl ConnectionTrait, id: &str, v: &Valid) -> Result<()> {
    control_company::Entity::delete_many().filter(control_company::Column::ControlId.eq(id)).exec(db).await?;
    for c in &v.applies_to {
        control_company::Entity::insert(control_company::ActiveModel { control_id: Set(id.to_owned()), company_id: Set(c.clone()) })
            .exec_without_returning(db)
            .await?;
    }
    control_requirement::Entity::delete_many().filter(control_requirement::Column::ControlId.eq(id)).exec(db).await?;
    for r in &v.requirement_ids {
        control_requirement::Entity::insert(control_requirement::ActiveModel { control_id: Set(id.to_owned()), requirement_id: Set(r.clone()) })
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn code_taken(e: isms_store::sea_orm::DbErr) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => AppError::coded("code", "control-code-taken", "another control has this code"),
        other => other,
    }
}

pub async fn create(app: &App, who: &Principal, input: ControlInput) -> Result<Control> {
    who.require(Permission::ComplianceManage)?;
    let txn = app.store.write().await?;
    let v = validate(&txn, who, &input).await?;
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let due = v.review_due.unwrap_or_else(|| next_review(isms_core::calendar::today(), v.review_months));
    control::Model {
        id: id.clone(),
        code: v.code.clone(),
        title: v.title.clone(),
        description: input.description.trim().to_owned(),
        company_id: v.company_id.clone(),
        owner_id: Some(v.owner_id.clone()),
        status: v.status.code().into(),
        review_months: v.review_months,
        review_due: Some(due.to_string()),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(code_taken)?;
    save_relations(&txn, &id, &v).await?;
    record(app, &txn, who, "compliance.control.create", "control", Some(&id), v.company_id.as_deref(), json!({"after": input})).await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(build(app, db, vec![load(db, who, &id).await?]).await?.remove(0))
}

pub async fn update(app: &App, who: &Principal, id: &str, input: ControlInput) -> Result<Control> {
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !manages(who, &old) {
        return Err(AppError::Forbidden);
    }
    let v = validate(&txn, who, &input).await?;
    let mut am = old.clone().into_active_model();
    am.code = Set(v.code.clone());
    am.title = Set(v.title.clone());
    am.description = Set(input.description.trim().to_owned());
    am.company_id = Set(v.company_id.clone());
    am.owner_id = Set(Some(v.owner_id.clone()));
    am.status = Set(v.status.code().into());
    am.review_months = Set(v.review_months);
    if let Some(d) = v.review_due {
        am.review_due = Set(Some(d.to_string()));
    }
    am.updated_ms = Set(now_ms());
    am.update(&txn).await.map_err(code_taken)?;
    save_relations(&txn, id, &v).await?;
    record(
        app,
        &txn,
        who,
        "compliance.control.update",
        "control",
        Some(id),
        v.company_id.as_deref(),
        json!({"before": {"code": old.code, "title": old.title, "status": old.status, "company_id": old.company_id}, "after": input}),
    )
    .await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(build(app, db, vec![load(db, who, id).await?]).await?.remove(0))
}

/// Records an effectiveness review: the next one falls one interval from today.
pub async fn reviewed(app: &App, who: &Principal, id: &str, note: &str) -> Result<Control> {
    let txn = app.store.write().await?;
    let c = load(&txn, who, id).await?;
    if !manages(who, &c) {
        return Err(AppError::Forbidden);
    }
    let due = next_review(isms_core::calendar::today(), c.review_months).to_string();
    let mut am = c.clone().into_active_model();
    am.review_due = Set(Some(due.clone()));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    isms_kernel::notify::done(&txn, &format!("control-review:{id}")).await?;
    record(
        app,
        &txn,
        who,
        "compliance.control.review",
        "control",
        Some(id),
        c.company_id.as_deref(),
        json!({"before": c.review_due, "after": due, "note": note.trim()}),
    )
    .await?;
    txn.commit().await?;
    let db = app.store.conn();
    Ok(build(app, db, vec![load(db, who, id).await?]).await?.remove(0))
}
