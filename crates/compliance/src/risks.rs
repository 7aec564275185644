//! The risk register: risks per company identified against information assets, with
//! threat and vulnerability, inherent and residual scores on the group's matrix, an
//! owner, a treatment with a plan, controls and dated actions, acceptance by the risk
//! owner with reason and expiry, and a review date. Heat-map counts and reminders too.

use crate::controls::RiskRef;
use isms_core::compliance::risk::{Matrix, Rating, RiskStatus, Treatment, check_residual};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::assets::asset;
use isms_store::compliance::{action, control, risk, risk_asset, risk_control};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, Query};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

const MATRIX_KEY: &str = "risk_matrix";

/// The group's matrix (the default 5 × 5 until someone changes it).
pub async fn matrix(app: &App) -> Result<Matrix> {
    Ok(match isms_store::settings::get(app.store.conn(), MATRIX_KEY).await? {
        Some(s) => serde_json::from_str(&s).map_err(|e| AppError::internal(format!("stored risk matrix: {e}")))?,
        None => Matrix::default(),
    })
}

/// Changes the matrix: the group's risk managers only. Existing risks keep their levels
/// and are scored again; a level beyond the new size is refused while a risk uses it.
pub async fn set_matrix(app: &App, who: &Principal, m: Matrix) -> Result<Matrix> {
    if !who.access.can_for(Permission::RisksManage, None) {
        return Err(AppError::Forbidden);
    }
    m.validate().map_err(AppError::Invalid)?;
    let txn = app.store.write().await?;
    let (l, i) = (m.likelihood.len() as i16, m.impact.len() as i16);
    let beyond = risk::Entity::find()
        .filter(
            Condition::any()
                .add(risk::Column::InherentLikelihood.gt(l))
                .add(risk::Column::ResidualLikelihood.gt(l))
                .add(risk::Column::InherentImpact.gt(i))
                .add(risk::Column::ResidualImpact.gt(i)),
        )
        .count(&txn)
        .await?;
    if beyond > 0 {
        return Err(AppError::coded("likelihood", "matrix-in-use", "risks are scored on levels the new matrix does not have")
            .into_with_arg("count", beyond.to_string()));
    }
    let before = matrix(app).await?;
    isms_store::settings::put(&txn, MATRIX_KEY, &serde_json::to_string(&m).map_err(|e| AppError::internal(e.to_string()))?).await?;
    record(app, &txn, who, "risks.matrix.update", "risk_matrix", None, None, json!({"before": before, "after": m})).await?;
    txn.commit().await?;
    Ok(m)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Risk {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub description: String,
    pub company_id: String,
    pub owner_id: Option<String>,
    pub threat: String,
    pub vulnerability: String,
    pub inherent_likelihood: i16,
    pub inherent_impact: i16,
    pub inherent_score: i32,
    pub inherent_rating: Rating,
    pub residual_likelihood: i16,
    pub residual_impact: i16,
    pub residual_score: i32,
    pub residual_rating: Rating,
    /// Why the residual risk is above the inherent one (empty when it is not).
    pub residual_reason: String,
    pub treatment: Treatment,
    pub plan: String,
    pub status: RiskStatus,
    pub accepted_by: Option<String>,
    pub accepted_ms: Option<i64>,
    pub acceptance_reason: String,
    pub acceptance_expires: Option<String>,
    /// The acceptance has run out and needs a new decision.
    pub acceptance_expired: bool,
    pub review_due: Option<String>,
    /// not_scheduled, current, due_soon or overdue
    pub review_status: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

fn view(m: &Matrix, r: risk::Model, today: jiff::civil::Date, remind: i64) -> Risk {
    let due = r.review_due.as_deref().and_then(|s| s.parse().ok());
    let expired =
        r.status == RiskStatus::Accepted.code() && r.acceptance_expires.as_deref().and_then(|s| s.parse::<jiff::civil::Date>().ok()).is_some_and(|d| d < today);
    Risk {
        inherent_rating: m.rating(r.inherent_score as u32),
        residual_rating: m.rating(r.residual_score as u32),
        treatment: Treatment::parse(&r.treatment).unwrap_or(Treatment::Mitigate),
        status: RiskStatus::parse(&r.status).unwrap_or(RiskStatus::Open),
        acceptance_expired: expired,
        review_status: isms_core::policies::review_status(due, today, remind).code().into(),
        id: r.id,
        reference: r.reference,
        title: r.title,
        description: r.description,
        company_id: r.company_id,
        owner_id: r.owner_id,
        threat: r.threat,
        vulnerability: r.vulnerability,
        inherent_likelihood: r.inherent_likelihood,
        inherent_impact: r.inherent_impact,
        inherent_score: r.inherent_score,
        residual_likelihood: r.residual_likelihood,
        residual_impact: r.residual_impact,
        residual_score: r.residual_score,
        residual_reason: r.residual_reason,
        plan: r.plan,
        accepted_by: r.accepted_by,
        accepted_ms: r.accepted_ms,
        acceptance_reason: r.acceptance_reason,
        acceptance_expires: r.acceptance_expires,
        review_due: r.review_due,
        created_ms: r.created_ms,
        updated_ms: r.updated_ms,
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskQuery {
    /// Words in the reference, title, threat or vulnerability.
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub treatment: Option<String>,
    /// The residual rating: low, medium, high or critical.
    #[serde(default)]
    pub rating: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    /// `overdue` or `due_soon` reviews; `expired` acceptances.
    #[serde(default)]
    pub review: Option<String>,
    /// A heat-map cell: residual likelihood and impact.
    #[serde(default)]
    pub likelihood: Option<i16>,
    #[serde(default)]
    pub impact: Option<i16>,
    /// `residual` (the default, highest first), `inherent`, `reference`, `title`, `company` or `review`.
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

async fn filtered(app: &App, who: &Principal, q: &RiskQuery) -> Result<isms_store::sea_orm::Select<risk::Entity>> {
    let mut sel = risk::Entity::find();
    if let Some(set) = who.within(Permission::RisksRead)? {
        sel = sel.filter(risk::Column::CompanyId.is_in(set));
    }
    if let Some(s) = isms_store::search::cleaned(q.search.as_deref()) {
        use risk::Column as C;
        sel = sel.filter(isms_store::search::indexed_contains(
            app.store.conn().get_database_backend(),
            "risks",
            &[C::Reference, C::Title, C::Threat, C::Vulnerability],
            &s,
        ));
    }
    if let Some(c) = q.company_id.as_deref().filter(|c| !c.is_empty()) {
        sel = sel.filter(risk::Column::CompanyId.eq(c));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        sel = sel.filter(risk::Column::Status.eq(RiskStatus::parse(s)?.code()));
    }
    if let Some(t) = q.treatment.as_deref().filter(|s| !s.is_empty()) {
        sel = sel.filter(risk::Column::Treatment.eq(Treatment::parse(t)?.code()));
    }
    if let Some(o) = q.owner_id.as_deref().filter(|s| !s.is_empty()) {
        sel = sel.filter(risk::Column::OwnerId.eq(o));
    }
    if let Some(r) = q.rating.as_deref().filter(|s| !s.is_empty()) {
        let m = matrix(app).await?;
        let b = m.bands;
        let (lo, hi) = match Rating::parse(r)? {
            Rating::Low => (0, b.medium - 1),
            Rating::Medium => (b.medium, b.high - 1),
            Rating::High => (b.high, b.critical - 1),
            Rating::Critical => (b.critical, u32::MAX / 2),
        };
        sel = sel.filter(risk::Column::ResidualScore.gte(lo as i32)).filter(risk::Column::ResidualScore.lte(hi as i32));
    }
    if let Some(l) = q.likelihood {
        sel = sel.filter(risk::Column::ResidualLikelihood.eq(l));
    }
    if let Some(i) = q.impact {
        sel = sel.filter(risk::Column::ResidualImpact.eq(i));
    }
    let today = isms_core::calendar::today();
    match q.review.as_deref() {
        Some("overdue") => sel = sel.filter(risk::Column::Status.ne("closed")).filter(risk::Column::ReviewDue.lt(today.to_string())),
        Some("due_soon") => {
            let horizon = today.saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
            sel = sel
                .filter(risk::Column::Status.ne("closed"))
                .filter(risk::Column::ReviewDue.gte(today.to_string()))
                .filter(risk::Column::ReviewDue.lte(horizon));
        }
        Some("expired") => sel = sel.filter(risk::Column::Status.eq("accepted")).filter(risk::Column::AcceptanceExpires.lt(today.to_string())),
        _ => {}
    }
    Ok(sel)
}

/// The key under which counts and heat maps of one reader's filter are cached.
fn cache_key(kind: &str, who: &Principal, q: &RiskQuery) -> Result<String> {
    Ok(format!(
        "{kind}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        who.within(Permission::RisksRead)?,
        q.search,
        q.company_id,
        q.status,
        q.treatment,
        q.rating,
        q.owner_id,
        q.review,
        q.likelihood,
        q.impact
    ))
}

/// One count or heat map computed at a time when the cache misses, so a burst of
/// readers after a write waits for one computation instead of each running its own.
static MISS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Risks by residual score, the highest first (then the newest reference): the order an
/// index serves, alone or within a company.
/// The columns a list of risks sorts by.
const ORDER: &[(&str, risk::Column)] = &[
    ("residual", risk::Column::ResidualScore),
    ("inherent", risk::Column::InherentScore),
    ("reference", risk::Column::Reference),
    ("title", risk::Column::Title),
    ("company", risk::Column::CompanyId),
    ("review", risk::Column::ReviewDue),
];

pub async fn list(app: &App, who: &Principal, q: &RiskQuery) -> Result<Page<Risk>> {
    let db = app.store.conn();
    let sel = filtered(app, who, q).await?;
    let key = cache_key("risks", who, q)?;
    let generation = app.store.generation();
    let total = match app.caches().count(&key, generation) {
        Some(n) => n,
        None => {
            let _one = MISS.lock().await;
            match app.caches().count(&key, generation) {
                Some(n) => n,
                None => {
                    let n = sel.clone().count(db).await?;
                    app.caches().put_count(key, generation, n);
                    n
                }
            }
        }
    };
    let limit = if q.limit == 0 { 50 } else { q.limit.min(1000) };
    let cols = isms_kernel::order::Columns { keys: ORDER, default_desc: true, id: risk::Column::Id };
    let rows =
        isms_kernel::order::ordered(sel, cols, q.sort.as_deref(), q.dir.as_deref())?.offset(isms_store::page_offset(q.offset)).limit(limit).all(db).await?;
    let m = matrix(app).await?;
    let (today, remind) = (isms_core::calendar::today(), app.config().remind_days);
    Ok(Page { items: rows.into_iter().map(|r| view(&m, r, today, remind)).collect(), total })
}

/// How many risks sit in each cell of the matrix, inherent and residual, for the same
/// filters as the list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeatMap {
    pub matrix: Matrix,
    /// `inherent[l-1][i-1]`: risks with likelihood l and impact i.
    pub inherent: Vec<Vec<u64>>,
    pub residual: Vec<Vec<u64>>,
}

pub async fn heat_map(app: &App, who: &Principal, q: &RiskQuery) -> Result<HeatMap> {
    let m = matrix(app).await?;
    let mut base = q.clone();
    base.likelihood = None;
    base.impact = None;
    let (nl, ni) = (m.likelihood.len(), m.impact.len());
    let mut inherent = vec![vec![0; ni]; nl];
    let mut residual = vec![vec![0; ni]; nl];
    // Counted by the database, one row per occupied cell.
    for (l_col, i_col, grid) in [
        (risk::Column::InherentLikelihood, risk::Column::InherentImpact, &mut inherent),
        (risk::Column::ResidualLikelihood, risk::Column::ResidualImpact, &mut residual),
    ] {
        let key = format!("{}|{l_col:?}", cache_key("heat", who, &base)?);
        let generation = app.store.generation();
        let cells: Vec<(i16, i16, i64)> = match app.caches().cells(&key, generation) {
            Some(c) => c,
            None => {
                let _one = MISS.lock().await;
                match app.caches().cells(&key, generation) {
                    Some(c) => c,
                    None => {
                        let c: Vec<(i16, i16, i64)> = filtered(app, who, &base)
                            .await?
                            .select_only()
                            .column(l_col)
                            .column(i_col)
                            .column_as(Expr::cust("COUNT(*)"), "n")
                            .group_by(l_col)
                            .group_by(i_col)
                            .into_tuple()
                            .all(app.store.conn())
                            .await?;
                        app.caches().put_cells(key, generation, c.clone());
                        c
                    }
                }
            }
        };
        for (l, i, n) in cells {
            if l >= 1 && i >= 1 && (l as usize) <= nl && (i as usize) <= ni {
                grid[l as usize - 1][i as usize - 1] = n as u64;
            }
        }
    }
    Ok(HeatMap { matrix: m, inherent, residual })
}

async fn load(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<risk::Model> {
    let r = risk::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    if !who.access.can_for(Permission::RisksRead, r.company_id.parse().ok()) {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

fn manages(who: &Principal, r: &risk::Model) -> bool {
    who.access.can_for(Permission::RisksManage, r.company_id.parse().ok())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskDetail {
    pub risk: Risk,
    pub controls: Vec<crate::frameworks::ControlRef>,
    pub assets: Vec<AssetRef>,
    pub actions: Vec<Action>,
    pub can_manage: bool,
    /// The caller is the risk owner and may accept it.
    pub can_accept: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssetRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = RiskAction)]
pub struct Action {
    pub id: String,
    pub title: String,
    pub control_id: Option<String>,
    pub owner_id: Option<String>,
    pub due_on: String,
    pub done_ms: Option<i64>,
    pub overdue: bool,
}

async fn is_owner(db: &impl ConnectionTrait, who: &Principal, r: &risk::Model) -> Result<bool> {
    Ok(match (&r.owner_id, isms_policies::my_person(db, who).await?) {
        (Some(o), Some(me)) => *o == me.id,
        _ => false,
    })
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<RiskDetail> {
    let db = app.store.conn();
    let r = load(db, who, id).await?;
    let controls = crate::controls::of_risk(db, &r.id)
        .await?
        .into_iter()
        .map(|c| crate::frameworks::ControlRef { id: c.id, code: c.code, title: c.title, status: c.status })
        .collect();
    let ids = Query::select().column(risk_asset::Column::AssetId).from(risk_asset::Entity).and_where(risk_asset::Column::RiskId.eq(r.id.clone())).to_owned();
    let assets =
        asset::Entity::find().filter(asset::Column::Id.in_subquery(ids)).all(db).await?.into_iter().map(|a| AssetRef { id: a.id, name: a.name }).collect();
    let today = isms_core::calendar::today().to_string();
    let actions = action::Entity::find()
        .filter(action::Column::RiskId.eq(r.id.clone()))
        .order_by_asc(action::Column::DueOn)
        .all(db)
        .await?
        .into_iter()
        .map(|a| Action {
            overdue: a.done_ms.is_none() && a.due_on < today,
            id: a.id,
            title: a.title,
            control_id: a.control_id,
            owner_id: a.owner_id,
            due_on: a.due_on,
            done_ms: a.done_ms,
        })
        .collect();
    let can_manage = manages(who, &r);
    let can_accept = is_owner(db, who, &r).await? && r.status != RiskStatus::Closed.code();
    let m = matrix(app).await?;
    Ok(RiskDetail { risk: view(&m, r, isms_core::calendar::today(), app.config().remind_days), controls, assets, actions, can_manage, can_accept })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RiskInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub company_id: String,
    /// The risk owner's person id or employee number.
    pub owner_id: String,
    #[serde(default)]
    pub threat: String,
    #[serde(default)]
    pub vulnerability: String,
    pub inherent_likelihood: i32,
    pub inherent_impact: i32,
    pub residual_likelihood: i32,
    pub residual_impact: i32,
    /// Required when the residual score is above the inherent one.
    #[serde(default)]
    pub residual_reason: String,
    /// mitigate, accept, transfer or avoid
    pub treatment: String,
    #[serde(default)]
    pub plan: String,
    /// The next review; twelve months from today when absent.
    #[serde(default)]
    pub review_due: Option<String>,
    /// Information assets the risk was identified against (of the same company).
    #[serde(default)]
    pub asset_ids: Vec<String>,
    /// Controls that treat it.
    #[serde(default)]
    pub control_ids: Vec<String>,
}

struct Valid {
    title: String,
    owner_id: String,
    scores: (u32, u32),
    treatment: Treatment,
    review_due: Option<jiff::civil::Date>,
    asset_ids: Vec<String>,
    control_ids: Vec<String>,
}

async fn validate(app: &App, db: &impl ConnectionTrait, who: &Principal, input: &RiskInput) -> Result<Valid> {
    let m = matrix(app).await?;
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    for (field, value, max) in
        [("description", &input.description, 8000), ("threat", &input.threat, 2000), ("vulnerability", &input.vulnerability, 2000), ("plan", &input.plan, 8000)]
    {
        if value.chars().count() > max {
            errors.push(FieldError::coded(field, "too-long", format!("is longer than {max} characters")).arg("max", max.to_string()));
        } else if let Err(e) = isms_core::text::multi_line(field, value) {
            errors.push(e);
        }
    }
    let inherent = m.score("inherent", input.inherent_likelihood, input.inherent_impact).map_err(|e| errors.push(e)).unwrap_or(0);
    let residual = m.score("residual", input.residual_likelihood, input.residual_impact).map_err(|e| errors.push(e)).unwrap_or(0);
    if inherent > 0
        && residual > 0
        && let Err(e) = check_residual(inherent, residual, &input.residual_reason)
    {
        errors.push(e);
    }
    let treatment = Treatment::parse(&input.treatment).map_err(|e| errors.push(e)).unwrap_or(Treatment::Mitigate);
    let review_due = isms_kernel::input::date_opt(&mut errors, "review_due", &input.review_due);
    if input.company_id.trim().is_empty() {
        errors.push(FieldError::coded("company_id", "required", "is required"));
    } else if isms_store::org::company::Entity::find_by_id(input.company_id.trim().to_owned()).one(db).await?.is_none() {
        errors.push(FieldError::coded("company_id", "no-company", "no such company"));
    }
    let owner_id = isms_org::people::required_person(db, "owner_id", &input.owner_id, &mut errors).await?;
    let asset_ids = isms_kernel::id_list(&input.asset_ids);
    // A record the caller may not see is "not found", like everywhere else: a distinct
    // answer would tell them it exists.
    let assets: Vec<_> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(asset_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .filter(|a| who.require_for(Permission::AssetsRead, Some(&a.company_id)).is_ok() || who.require_for(Permission::RisksRead, Some(&a.company_id)).is_ok())
        .collect();
    if assets.len() != asset_ids.len() {
        errors.push(FieldError::coded("asset_ids", "no-asset", "no such information asset"));
    } else if assets.iter().any(|a| a.company_id != input.company_id.trim()) {
        errors.push(FieldError::coded("asset_ids", "asset-other-company", "belongs to another company"));
    }
    let control_ids = isms_kernel::id_list(&input.control_ids);
    let found = match crate::controls::visible(who, Permission::ComplianceRead) {
        Ok(seen) => control::Entity::find().filter(control::Column::Id.is_in(control_ids.clone())).filter(seen).count(db).await?,
        Err(_) => 0,
    };
    if found != control_ids.len() as u64 {
        errors.push(FieldError::coded("control_ids", "no-control", "no such control"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if !who.access.can_for(Permission::RisksManage, input.company_id.trim().parse().ok()) {
        return Err(AppError::coded("company_id", "company-out-of-scope", "you do not manage risks of this company"));
    }
    Ok(Valid { title, owner_id, scores: (inherent, residual), treatment, review_due, asset_ids, control_ids })
}

async fn save_links(db: &impl ConnectionTrait, id: &str, v: &Valid) -> Result<()> {
    risk_asset::Entity::delete_many().filter(risk_asset::Column::RiskId.eq(id)).exec(db).await?;
    for a in &v.asset_ids {
        risk_asset::Entity::insert(risk_asset::ActiveModel { risk_id: Set(id.to_owned()), asset_id: Set(a.clone()) }).exec_without_returning(db).await?;
    }
    risk_control::Entity::delete_many().filter(risk_control::Column::RiskId.eq(id)).exec(db).await?;
    for c in &v.control_ids {
        risk_control::Entity::insert(risk_control::ActiveModel { risk_id: Set(id.to_owned()), control_id: Set(c.clone()) }).exec_without_returning(db).await?;
    }
    Ok(())
}

async fn next_ref(db: &impl ConnectionTrait) -> Result<String> {
    let last: Option<String> = risk::Entity::find()
        .select_only()
        .column(risk::Column::Reference)
        .filter(risk::Column::Reference.starts_with("RSK-"))
        .order_by_desc(risk::Column::Reference)
        .into_tuple()
        .one(db)
        .await?;
    let n = last.and_then(|r| r[4..].parse::<u32>().ok()).unwrap_or(0) + 1;
    Ok(format!("RSK-{n:05}"))
}

pub async fn create(app: &App, who: &Principal, input: RiskInput) -> Result<Risk> {
    who.require(Permission::RisksManage)?;
    let txn = app.store.write().await?;
    let v = validate(app, &txn, who, &input).await?;
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let due = v.review_due.unwrap_or_else(|| isms_core::policies::next_review(isms_core::calendar::today(), 12));
    let reference = next_ref(&txn).await?;
    risk::Model {
        id: id.clone(),
        reference: reference.clone(),
        title: v.title.clone(),
        description: input.description.trim().into(),
        company_id: input.company_id.trim().into(),
        owner_id: Some(v.owner_id.clone()),
        threat: input.threat.trim().into(),
        vulnerability: input.vulnerability.trim().into(),
        inherent_likelihood: input.inherent_likelihood as i16,
        inherent_impact: input.inherent_impact as i16,
        inherent_score: v.scores.0 as i32,
        residual_likelihood: input.residual_likelihood as i16,
        residual_impact: input.residual_impact as i16,
        residual_score: v.scores.1 as i32,
        residual_reason: if v.scores.1 > v.scores.0 { input.residual_reason.trim().into() } else { String::new() },
        treatment: v.treatment.code().into(),
        plan: input.plan.trim().into(),
        status: RiskStatus::Open.code().into(),
        accepted_by: None,
        accepted_ms: None,
        acceptance_reason: String::new(),
        acceptance_expires: None,
        review_due: Some(due.to_string()),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    save_links(&txn, &id, &v).await?;
    record(app, &txn, who, "risks.risk.create", "risk", Some(&id), Some(input.company_id.trim()), json!({"ref": reference, "after": input})).await?;
    txn.commit().await?;
    Ok(get(app, who, &id).await?.risk)
}

/// Changes a risk. A change of scores or treatment ends an acceptance: the owner must
/// accept what the risk is now, not what it was.
pub async fn update(app: &App, who: &Principal, id: &str, input: RiskInput) -> Result<Risk> {
    let txn = app.store.write().await?;
    let old = load(&txn, who, id).await?;
    if !manages(who, &old) {
        return Err(AppError::Forbidden);
    }
    let v = validate(app, &txn, who, &input).await?;
    let rescored = old.inherent_score != v.scores.0 as i32 || old.residual_score != v.scores.1 as i32 || old.treatment != v.treatment.code();
    let mut am = old.clone().into_active_model();
    am.title = Set(v.title.clone());
    am.description = Set(input.description.trim().into());
    am.company_id = Set(input.company_id.trim().into());
    am.owner_id = Set(Some(v.owner_id.clone()));
    am.threat = Set(input.threat.trim().into());
    am.vulnerability = Set(input.vulnerability.trim().into());
    am.inherent_likelihood = Set(input.inherent_likelihood as i16);
    am.inherent_impact = Set(input.inherent_impact as i16);
    am.inherent_score = Set(v.scores.0 as i32);
    am.residual_likelihood = Set(input.residual_likelihood as i16);
    am.residual_impact = Set(input.residual_impact as i16);
    am.residual_score = Set(v.scores.1 as i32);
    am.residual_reason = Set(if v.scores.1 > v.scores.0 { input.residual_reason.trim().into() } else { String::new() });
    am.treatment = Set(v.treatment.code().into());
    am.plan = Set(input.plan.trim().into());
    if let Some(d) = v.review_due {
        am.review_due = Set(Some(d.to_string()));
    }
    let owner_changed = old.owner_id.as_deref() != Some(v.owner_id.as_str());
    if old.status == RiskStatus::Accepted.code() && (rescored || owner_changed) {
        am.status = Set(RiskStatus::Open.code().into());
        am.accepted_by = Set(None);
        am.accepted_ms = Set(None);
        am.acceptance_expires = Set(None);
    }
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    save_links(&txn, id, &v).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.update",
        "risk",
        Some(id),
        Some(input.company_id.trim()),
        json!({"before": {"title": old.title, "inherent": old.inherent_score, "residual": old.residual_score, "treatment": old.treatment, "status": old.status}, "after": input}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Acceptance {
    pub reason: String,
    /// Until when the acceptance holds (at most three years ahead).
    pub expires_on: String,
}

/// The risk owner accepts the residual risk, with a reason and an expiry.
pub async fn accept(app: &App, who: &Principal, id: &str, a: Acceptance) -> Result<Risk> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !is_owner(&txn, who, &r).await? {
        return Err(AppError::coded("owner_id", "risk-owner-only", "only the risk owner accepts a risk"));
    }
    if r.status == RiskStatus::Closed.code() {
        return Err(AppError::coded("status", "risk-closed", "the risk is closed"));
    }
    let mut errors = vec![];
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &a.reason, 2000);
    let today = isms_core::calendar::today();
    let expires = isms_kernel::input::date_opt(&mut errors, "expires_on", &Some(a.expires_on.clone()));
    match expires {
        None if errors.is_empty() => errors.push(FieldError::coded("expires_on", "required", "is required")),
        Some(d) if d <= today => errors.push(FieldError::coded("expires_on", "date-past", "must be after today")),
        Some(d) if d > today.saturating_add(jiff::Span::new().years(3)) => {
            errors.push(FieldError::coded("expires_on", "acceptance-too-long", "at most three years ahead"))
        }
        _ => {}
    }
    let (true, Some(expires)) = (errors.is_empty(), expires) else { return Err(AppError::Invalid(errors)) };
    let expires = expires.to_string();
    let mut am = r.clone().into_active_model();
    am.status = Set(RiskStatus::Accepted.code().into());
    am.accepted_by = Set(who.user_id.clone());
    am.accepted_ms = Set(Some(now_ms()));
    am.acceptance_reason = Set(reason.clone());
    am.acceptance_expires = Set(Some(expires.clone()));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.accept",
        "risk",
        Some(id),
        Some(&r.company_id),
        json!({"residual": r.residual_score, "reason": reason, "expires_on": expires}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

/// Moves a risk to treating or closed (or back to open).
pub async fn set_status(app: &App, who: &Principal, id: &str, status: &str, note: &str) -> Result<Risk> {
    let status = RiskStatus::parse(status)?;
    if status == RiskStatus::Accepted {
        return Err(AppError::coded("status", "risk-owner-only", "only the risk owner accepts a risk"));
    }
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let mut am = r.clone().into_active_model();
    am.status = Set(status.code().into());
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(
        app,
        &txn,
        who,
        "risks.risk.status",
        "risk",
        Some(id),
        Some(&r.company_id),
        json!({"before": r.status, "after": status.code(), "note": note.trim()}),
    )
    .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

/// Records a review of the risk: the next falls twelve months from today.
pub async fn reviewed(app: &App, who: &Principal, id: &str, note: &str) -> Result<Risk> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let due = isms_core::policies::next_review(isms_core::calendar::today(), 12).to_string();
    let mut am = r.clone().into_active_model();
    am.review_due = Set(Some(due.clone()));
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(app, &txn, who, "risks.risk.review", "risk", Some(id), Some(&r.company_id), json!({"before": r.review_due, "after": due, "note": note.trim()}))
        .await?;
    txn.commit().await?;
    Ok(get(app, who, id).await?.risk)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = RiskActionInput)]
pub struct ActionInput {
    pub title: String,
    #[serde(default)]
    pub control_id: Option<String>,
    /// The person doing it (id or employee number); the risk owner when absent.
    #[serde(default)]
    pub owner_id: Option<String>,
    pub due_on: String,
}

pub async fn add_action(app: &App, who: &Principal, id: &str, input: ActionInput) -> Result<Action> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    if !manages(who, &r) {
        return Err(AppError::Forbidden);
    }
    let mut errors = vec![];
    let title = isms_kernel::input::required(&mut errors, "title", &input.title, 300);
    let due = isms_kernel::input::date_opt(&mut errors, "due_on", &Some(input.due_on.clone()));
    if due.is_none() && errors.is_empty() {
        errors.push(FieldError::coded("due_on", "required", "is required"));
    }
    let control_id = isms_kernel::input::blank_to_none(&input.control_id);
    if let Some(c) = &control_id
        && control::Entity::find_by_id(c.clone()).one(&txn).await?.is_none()
    {
        errors.push(FieldError::coded("control_id", "no-control", "no such control"));
    }
    let owner_id = match isms_org::people::resolve_person_ref(&txn, "owner_id", isms_kernel::input::blank_to_none(&input.owner_id)).await {
        Ok(o) => o.or(r.owner_id.clone()),
        Err(AppError::Invalid(e)) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    let (true, Some(due)) = (errors.is_empty(), due) else { return Err(AppError::Invalid(errors)) };
    let due = due.to_string();
    let aid = uuid::Uuid::now_v7().to_string();
    action::ActiveModel {
        id: Set(aid.clone()),
        risk_id: Set(r.id.clone()),
        title: Set(title.clone()),
        control_id: Set(control_id.clone()),
        owner_id: Set(owner_id.clone()),
        due_on: Set(due.clone()),
        done_ms: Set(None),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    record(app, &txn, who, "risks.action.add", "risk", Some(id), Some(&r.company_id), json!({"title": title, "due_on": due, "control_id": control_id})).await?;
    txn.commit().await?;
    Ok(Action { id: aid, title, control_id, owner_id, overdue: due < isms_core::calendar::today().to_string(), due_on: due, done_ms: None })
}

pub async fn complete_action(app: &App, who: &Principal, id: &str, action_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let r = load(&txn, who, id).await?;
    let a = action::Entity::find_by_id(action_id.to_owned()).one(&txn).await?.filter(|a| a.risk_id == r.id).ok_or(AppError::NotFound)?;
    let mine = match (&a.owner_id, isms_policies::my_person(&txn, who).await?) {
        (Some(o), Some(me)) => *o == me.id,
        _ => false,
    };
    if !manages(who, &r) && !mine {
        return Err(AppError::Forbidden);
    }
    if a.done_ms.is_some() {
        return Err(AppError::coded("action", "action-done", "the action is already done"));
    }
    let mut am = a.clone().into_active_model();
    am.done_ms = Set(Some(now_ms()));
    am.update(&txn).await?;
    record(app, &txn, who, "risks.action.done", "risk", Some(id), Some(&r.company_id), json!({"title": a.title})).await?;
    txn.commit().await?;
    Ok(())
}

/// Risks treated by a control that `who` may see.
pub(crate) async fn treated_by(db: &impl ConnectionTrait, who: &Principal, control_id: &str) -> Result<Vec<RiskRef>> {
    let ids =
        Query::select().column(risk_control::Column::RiskId).from(risk_control::Entity).and_where(risk_control::Column::ControlId.eq(control_id)).to_owned();
    let mut sel = risk::Entity::find().filter(risk::Column::Id.in_subquery(ids));
    if let Some(set) = who.within(Permission::RisksRead)? {
        sel = sel.filter(risk::Column::CompanyId.is_in(set));
    }
    Ok(sel
        .order_by_asc(risk::Column::Reference)
        .all(db)
        .await?
        .into_iter()
        .map(|r| RiskRef { id: r.id, reference: r.reference, title: r.title, residual_score: r.residual_score })
        .collect())
}

/// Reminds owners of risk reviews and treatment actions falling due or overdue, and of
/// acceptances that ran out; and control owners of effectiveness reviews. Each reminder
/// goes once per record and date.
pub async fn remind(app: &App) -> Result<usize> {
    let db = app.store.conn();
    let today = isms_core::calendar::today();
    let horizon = today.saturating_add(jiff::Span::new().days(app.config().remind_days)).to_string();
    let mut sent = 0;
    let txn = app.store.write().await?;
    for r in risk::Entity::find().filter(risk::Column::Status.ne("closed")).filter(risk::Column::ReviewDue.lte(horizon.clone())).all(db).await? {
        let (Some(owner), Some(due)) = (&r.owner_id, &r.review_due) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "risk-review-due",
            json!({"risk": format!("{} {}", r.reference, r.title), "due": due}),
            format!("/risks/{}", r.id),
        )
        .once(format!("risk-review:{}:{due}", r.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for r in risk::Entity::find().filter(risk::Column::Status.eq("accepted")).filter(risk::Column::AcceptanceExpires.lt(today.to_string())).all(db).await? {
        let (Some(owner), Some(until)) = (&r.owner_id, &r.acceptance_expires) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "risk-acceptance-expired",
            json!({"risk": format!("{} {}", r.reference, r.title), "due": until}),
            format!("/risks/{}", r.id),
        )
        .once(format!("risk-acceptance:{}:{until}", r.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for a in action::Entity::find().filter(action::Column::DoneMs.is_null()).filter(action::Column::DueOn.lte(horizon.clone())).all(db).await? {
        let Some(owner) = &a.owner_id else { continue };
        let n = isms_kernel::notify::Notice::new("risk-action-due", json!({"action": a.title, "due": a.due_on}), format!("/risks/{}", a.risk_id))
            .once(format!("risk-action:{}:{}", a.id, a.due_on));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    for c in control::Entity::find().filter(control::Column::ReviewDue.lte(horizon)).all(db).await? {
        let (Some(owner), Some(due)) = (&c.owner_id, &c.review_due) else { continue };
        let n = isms_kernel::notify::Notice::new(
            "control-review-due",
            json!({"control": format!("{} {}", c.code, c.title), "due": due}),
            format!("/controls/{}", c.id),
        )
        .once(format!("control-review:{}:{due}", c.id));
        sent += isms_kernel::notify::to_person(app, &txn, owner, &n).await? as usize;
    }
    txn.commit().await?;
    Ok(sent)
}
