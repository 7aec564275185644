//! Alert triage: the queue within scope, one alert with the events that raised it, and the
//! steps an analyst takes (acknowledge, assign, close with a resolution, escalate to an
//! incident with the events attached as evidence).

use super::{in_scope, not_found_unless, scope};
use isms_core::monitoring::{AlertState, Resolution, Severity, Step, next_state};
use isms_core::{FieldError, Permission, Role};
use isms_kernel::input::blank_to_none;
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::accounts::{role_grant, user};
use isms_store::monitoring::{alert, alert_event, rule, source};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, ExprTrait};
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: String,
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub rule_id: Option<String>,
    /// `rule`, `indicator` or `silence`.
    pub kind: String,
    pub title: String,
    pub severity: Severity,
    pub host: String,
    pub user_name: String,
    /// Matching events grouped into this alert.
    pub count: i64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub state: AlertState,
    pub resolution: Option<Resolution>,
    pub assignee_id: Option<String>,
    pub acknowledged_ms: Option<i64>,
    pub closed_ms: Option<i64>,
    pub note: String,
    pub incident_id: Option<String>,
    pub created_ms: i64,
}

impl From<alert::Model> for Alert {
    fn from(m: alert::Model) -> Self {
        Self {
            id: m.id,
            company_id: m.company_id,
            source_id: m.source_id,
            rule_id: m.rule_id,
            kind: m.kind,
            title: m.title,
            severity: Severity::parse(&m.severity).unwrap_or(Severity::Medium),
            host: m.host,
            user_name: m.user_name,
            count: m.count,
            first_ms: m.first_ms,
            last_ms: m.last_ms,
            state: AlertState::parse(&m.state).unwrap_or(AlertState::New),
            resolution: m.resolution.as_deref().and_then(|r| Resolution::parse(r).ok()),
            assignee_id: m.assignee_id,
            acknowledged_ms: m.acknowledged_ms,
            closed_ms: m.closed_ms,
            note: m.note,
            incident_id: m.incident_id,
            created_ms: m.created_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` (new and acknowledged, the default), `all`, or one state.
    #[serde(default)]
    pub state: Option<String>,
    /// This severity and above.
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub source_id: Option<String>,
    /// `me` for alerts assigned to the reader.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Words of the title, host or user.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
}

fn visible(who: &Principal) -> Result<Condition> {
    Ok(match scope(who, Permission::MonitoringRead)? {
        None => Condition::all(),
        Some(set) => Condition::all().add(alert::Column::CompanyId.is_in(set)),
    })
}

/// Newest activity first.
pub async fn list(app: &App, who: &Principal, q: &AlertQuery) -> Result<Page<Alert>> {
    let mut f = alert::Entity::find().filter(visible(who)?);
    match q.state.as_deref().map(str::trim).unwrap_or("open") {
        "" | "open" => f = f.filter(alert::Column::State.is_in([AlertState::New.code(), AlertState::Acknowledged.code()])),
        "all" => {}
        s => f = f.filter(alert::Column::State.eq(AlertState::parse(s)?.code())),
    }
    if let Some(s) = blank_to_none(&q.severity) {
        let min = Severity::parse(&s)?;
        let codes: Vec<&str> = Severity::ALL.iter().filter(|v| **v >= min).map(|v| v.code()).collect();
        f = f.filter(alert::Column::Severity.is_in(codes));
    }
    if let Some(c) = blank_to_none(&q.company_id) {
        f = f.filter(alert::Column::CompanyId.eq(c));
    }
    if let Some(s) = blank_to_none(&q.source_id) {
        f = f.filter(alert::Column::SourceId.eq(s));
    }
    if q.assignee.as_deref() == Some("me") {
        f = f.filter(alert::Column::AssigneeId.eq(who.user_id.clone().unwrap_or_default()));
    }
    if let Some(words) = isms_store::search::cleaned(q.q.as_deref()) {
        f = f.filter(isms_store::search::every_word(&[alert::Column::Title, alert::Column::Host, alert::Column::UserName], &words));
    }
    let db = app.store.conn();
    let total = f.clone().count(db).await?;
    let rows = f
        .order_by_desc(alert::Column::LastMs)
        .order_by_desc(alert::Column::Id)
        .offset(isms_store::page_offset(q.offset.unwrap_or(0)))
        .limit(q.limit.unwrap_or(50).clamp(1, 500))
        .all(db)
        .await?;
    Ok(Page { items: rows.into_iter().map(Alert::from).collect(), total })
}

/// Open alerts by severity, for the dashboard and the queue's header.
pub async fn open_by_severity(app: &App, who: &Principal) -> Result<Vec<(Severity, u64)>> {
    let rows: Vec<(String, i64)> = alert::Entity::find()
        .filter(visible(who)?)
        .filter(alert::Column::State.is_in([AlertState::New.code(), AlertState::Acknowledged.code()]))
        .select_only()
        .column(alert::Column::Severity)
        .column_as(alert::Column::Id.count(), "n")
        .group_by(alert::Column::Severity)
        .into_tuple()
        .all(app.store.conn())
        .await?;
    let mut out: Vec<(Severity, u64)> = Severity::ALL.iter().rev().map(|s| (*s, 0)).collect();
    for (s, n) in rows {
        if let Ok(s) = Severity::parse(&s)
            && let Some(slot) = out.iter_mut().find(|(v, _)| *v == s)
        {
            slot.1 = n as u64;
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertEvent {
    pub seq: i32,
    pub at_ms: i64,
    pub host: String,
    pub user_name: String,
    /// The event as received.
    pub raw: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertDetail {
    pub alert: Alert,
    pub events: Vec<AlertEvent>,
    pub rule_title: Option<String>,
    pub rule_level: Option<String>,
    pub source_name: Option<String>,
    pub assignee_name: Option<String>,
    /// Whether the reader may take steps on it.
    pub can_manage: bool,
    /// Whether the reader may escalate it to an incident.
    pub can_escalate: bool,
}

async fn visible_alert(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<alert::Model> {
    let s = scope(who, Permission::MonitoringRead)?;
    let m = alert::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&s, m.company_id.as_deref()))?;
    Ok(m)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<AlertDetail> {
    let db = app.store.conn();
    let m = visible_alert(db, who, id).await?;
    let events = alert_event::Entity::find()
        .filter(alert_event::Column::AlertId.eq(m.id.clone()))
        .order_by_asc(alert_event::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(|e| AlertEvent { seq: e.seq, at_ms: e.at_ms, host: e.host, user_name: e.user_name, raw: e.raw })
        .collect();
    let r = match &m.rule_id {
        Some(r) => rule::Entity::find_by_id(r.clone()).one(db).await?,
        None => None,
    };
    let source_name = match &m.source_id {
        Some(s) => source::Entity::find_by_id(s.clone()).one(db).await?.map(|s| s.name),
        None => None,
    };
    let assignee_name = match &m.assignee_id {
        Some(u) => isms_org::accounts::display_names(app, std::slice::from_ref(u)).await?.remove(u),
        None => None,
    };
    let company = m.company_id.as_deref().and_then(|c| c.parse().ok());
    let can_manage = who.access.can_for(Permission::MonitoringManage, company);
    let can_escalate = can_manage && who.access.can(Permission::IncidentsManage);
    Ok(AlertDetail {
        rule_title: r.as_ref().map(|r| r.title.clone()),
        rule_level: r.map(|r| r.level),
        source_name,
        assignee_name,
        can_manage,
        can_escalate,
        events,
        alert: m.into(),
    })
}

/// A step the lifecycle refuses, as a field error of `step` (codes `alert-acknowledged`,
/// `alert-not-open`).
fn refused(r: isms_core::monitoring::Refused) -> AppError {
    const FIELD: &str = "step";
    let message = format!("this step is not possible now ({})", r.code());
    AppError::coded(FIELD, r.code(), message)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct StepInput {
    /// `acknowledge` or `close`. (Escalation has its own call.)
    pub step: String,
    /// For `close`: true_positive, false_positive or benign.
    #[serde(default)]
    pub resolution: Option<String>,
    /// For `close`: what was found (required for a true positive not escalated).
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn step(app: &App, who: &Principal, id: &str, input: StepInput) -> Result<Alert> {
    let note = input.note.as_deref().map(str::trim).unwrap_or("").to_owned();
    if note.chars().count() > 4000 {
        return Err(AppError::coded("note", "too-long", "is longer than 4000 characters").into_with_arg("max", "4000"));
    }
    let step = match input.step.trim() {
        "acknowledge" => Step::Acknowledge,
        "close" => {
            let r = blank_to_none(&input.resolution).ok_or_else(|| AppError::coded("resolution", "required", "is required"))?;
            Step::Close(Resolution::parse(&r)?)
        }
        other => {
            return Err(FieldError::coded("step", "one-of", format!("`{other}` is not one of acknowledge, close"))
                .arg("value", other)
                .arg("expected", "acknowledge, close")
                .into());
        }
    };
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    let state = AlertState::parse(&m.state)?;
    let next = next_state(state, step).map_err(refused)?;
    let now = now_ms();
    let mut a = m.clone().into_active_model();
    a.state = Set(next.code().into());
    match step {
        Step::Acknowledge => {
            a.acknowledged_ms = Set(Some(now));
            a.acknowledged_by = Set(who.user_id.clone());
            if m.assignee_id.is_none() {
                a.assignee_id = Set(who.user_id.clone());
            }
        }
        Step::Close(r) => {
            a.resolution = Set(Some(r.code().into()));
            a.closed_ms = Set(Some(now));
            a.closed_by = Set(who.user_id.clone());
            if m.acknowledged_ms.is_none() {
                a.acknowledged_ms = Set(Some(now));
                a.acknowledged_by = Set(who.user_id.clone());
            }
            a.note = Set(note.clone());
        }
        Step::Escalate => {}
    }
    a.updated_ms = Set(now);
    let m = a.update(&txn).await?;
    // Whoever was paged for it need not answer any more: someone has.
    isms_kernel::notify::done(&txn, &format!("alert:{}", m.id)).await?;
    record(
        app,
        &txn,
        who,
        &format!("monitoring.alert.{}", input.step.trim()),
        "alert",
        Some(&m.id),
        m.company_id.as_deref(),
        json!({"from": state.code(), "to": next.code(), "resolution": m.resolution, "note": note}),
    )
    .await?;
    txn.commit().await?;
    Ok(m.into())
}

/// People who may take an alert of `company`: holders of a role that triages alerts there.
pub async fn assignable(app: &App, company: Option<&str>) -> Result<Vec<(String, String)>> {
    let roles: Vec<&str> = Role::ALL.iter().filter(|r| r.grants(Permission::MonitoringManage)).map(|r| r.code()).collect();
    let mut cond = Condition::any().add(role_grant::Column::CompanyId.is_null());
    if let Some(c) = company {
        cond = cond.add(role_grant::Column::CompanyId.eq(c));
    }
    let db = app.store.conn();
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::Role.is_in(roles))
        .filter(cond)
        .filter(Condition::any().add(role_grant::Column::ExpiresMs.is_null()).add(role_grant::Column::ExpiresMs.gt(now_ms())))
        .all(db)
        .await?;
    let ids: Vec<String> = grants.into_iter().map(|g| g.user_id).collect();
    let mut out: Vec<(String, String)> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::Disabled.eq(false))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, if u.display_name.is_empty() { u.username } else { u.display_name }))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignInput {
    /// The account to take the alert; empty to unassign.
    #[serde(default)]
    pub user_id: Option<String>,
}

pub async fn assign(app: &App, who: &Principal, id: &str, input: AssignInput) -> Result<Alert> {
    let target = blank_to_none(&input.user_id);
    let m = visible_alert(app.store.conn(), who, id).await?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    if let Some(t) = &target
        && !assignable(app, m.company_id.as_deref()).await?.iter().any(|(u, _)| u == t)
    {
        return Err(AppError::coded("user_id", "not-assignable", "this person does not triage alerts of this company"));
    }
    let txn = app.store.write().await?;
    let m = visible_alert(&txn, who, id).await?;
    if !AlertState::parse(&m.state)?.is_open() {
        return Err(AppError::coded("user_id", "alert-not-open", "this step is not possible now"));
    }
    let before = m.assignee_id.clone();
    let mut a = m.into_active_model();
    a.assignee_id = Set(target.clone());
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    record(app, &txn, who, "monitoring.alert.assign", "alert", Some(&m.id), m.company_id.as_deref(), json!({"before": before, "after": target})).await?;
    txn.commit().await?;
    Ok(m.into())
}

/// The monitoring dashboard: the sources' recent rates and health, alerts by state and by
/// severity, and how fast alerts are acknowledged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub sources: Vec<SourceRate>,
    /// Alerts by state, all time.
    pub by_state: Vec<(AlertState, u64)>,
    /// Open alerts by severity, most urgent first.
    pub open_by_severity: Vec<(Severity, u64)>,
    /// Acknowledged in the last 30 days: how many, and the median and 90th percentile of
    /// the seconds from the first matching event to acknowledgement.
    pub acknowledged_30d: u64,
    pub tta_median_secs: Option<i64>,
    pub tta_p90_secs: Option<i64>,
    pub silent_sources: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceRate {
    pub id: String,
    pub name: String,
    pub company_id: Option<String>,
    /// Events per second over the last five minutes (the current one so far included).
    pub events_per_second: f64,
    pub events_last_hour: i64,
    pub alerts_last_hour: i64,
    pub silent: bool,
    pub enabled: bool,
    pub last_event_ms: Option<i64>,
}

pub async fn overview(app: &App, who: &Principal) -> Result<Overview> {
    use isms_store::monitoring::ingest_minute;
    let db = app.store.conn();
    let sources = crate::sources::list(app, who).await?;
    let now_minute = now_ms() / 60_000;
    let ids: Vec<String> = sources.iter().map(|s| s.id.clone()).collect();
    let minutes = if ids.is_empty() {
        vec![]
    } else {
        ingest_minute::Entity::find()
            .filter(ingest_minute::Column::SourceId.is_in(ids))
            .filter(ingest_minute::Column::Minute.gte(now_minute - 60))
            .all(db)
            .await?
    };
    let rates = sources
        .iter()
        .map(|s| {
            let mine = minutes.iter().filter(|m| m.source_id == s.id);
            // The last four whole minutes and the current one so far.
            let last5: i64 = mine.clone().filter(|m| m.minute >= now_minute - 4).map(|m| m.events).sum();
            let window_secs = 240.0 + (now_ms() % 60_000) as f64 / 1000.0;
            SourceRate {
                id: s.id.clone(),
                name: s.name.clone(),
                company_id: s.company_id.clone(),
                events_per_second: last5 as f64 / window_secs,
                events_last_hour: mine.clone().map(|m| m.events).sum(),
                alerts_last_hour: mine.map(|m| m.alerts).sum(),
                silent: s.silent,
                enabled: s.enabled,
                last_event_ms: s.last_event_ms,
            }
        })
        .collect::<Vec<_>>();
    let by_state_rows: Vec<(String, i64)> = alert::Entity::find()
        .filter(visible(who)?)
        .select_only()
        .column(alert::Column::State)
        .column_as(alert::Column::Id.count(), "n")
        .group_by(alert::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    let by_state = AlertState::ALL.iter().map(|s| (*s, by_state_rows.iter().find(|(c, _)| c == s.code()).map(|(_, n)| *n as u64).unwrap_or(0))).collect();
    let since = now_ms() - 30 * 86_400_000;
    let mut waits: Vec<i64> = alert::Entity::find()
        .filter(visible(who)?)
        .filter(alert::Column::AcknowledgedMs.gte(since))
        .select_only()
        .column(alert::Column::FirstMs)
        .column(alert::Column::AcknowledgedMs)
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(first, ack)| ack.map(|a| std::cmp::max((a - first) / 1000, 0)))
        .collect();
    waits.sort_unstable();
    let pick = |q: f64| (!waits.is_empty()).then(|| waits[((waits.len() - 1) as f64 * q).round() as usize]);
    Ok(Overview {
        silent_sources: rates.iter().filter(|r| r.silent).count() as u64,
        sources: rates,
        by_state,
        open_by_severity: open_by_severity(app, who).await?,
        acknowledged_30d: waits.len() as u64,
        tta_median_secs: pick(0.5),
        tta_p90_secs: pick(0.9),
    })
}

mod escalation;
mod events;
mod suppression;

pub use escalation::*;
pub use events::*;
pub use suppression::*;
