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
    /// A heat-map cell: likelihood and impact, residual unless `basis` is `inherent`.
    #[serde(default)]
    pub likelihood: Option<i16>,
    #[serde(default)]
    pub impact: Option<i16>,
    /// Which scores `likelihood` and `impact` read: `residual` (the default) or `inherent`.
    #[serde(default)]
    pub basis: Option<String>,
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
    let (l_col, i_col) = match q.basis.as_deref() {
        None | Some("") | Some("residual") => (risk::Column::ResidualLikelihood, risk::Column::ResidualImpact),
        Some("inherent") => (risk::Column::InherentLikelihood, risk::Column::InherentImpact),
        Some(other) => {
            return Err(AppError::Invalid(vec![
                FieldError::coded("basis", "one-of", "is not residual or inherent").arg("value", other).arg("expected", "residual, inherent"),
            ]));
        }
    };
    if let Some(l) = q.likelihood {
        sel = sel.filter(l_col.eq(l));
    }
    if let Some(i) = q.impact {
        sel = sel.filter(i_col.eq(i));
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
        "{kind}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        who.within(Permission::RisksRead)?,
        q.search,
        q.company_id,
        q.status,
        q.treatment,
        q.rating,
        q.owner_id,
        q.review,
        q.likelihood,
        q.impact,
        q.basis
    ))
}

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
    let total = app.caches().count_once(key, generation, sel.clone().count(db)).await?;
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
    base.basis = None;
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
                let _one = app.caches().one_miss_at_a_time().await;
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

mod decisions;
mod edit;

pub use decisions::*;
pub use edit::*;
