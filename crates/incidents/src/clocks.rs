//! The regulatory clocks of a case, kept in step with its facts: a duty that starts
//! opens a clock with its deadline, a changed fact moves an open deadline, a duty that no
//! longer applies removes its open clock; a clock marked done stays as the record of when.

use super::cases::facts_of;
use isms_core::incidents::clocks::{ClockKind, custom_deadlines, deadlines};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::incidents::{clock, incident};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Clock {
    pub id: String,
    pub incident_id: String,
    pub kind: ClockKind,
    /// For a configured regime: its code.
    pub regime: Option<String>,
    /// For a configured regime: its name.
    pub name: String,
    pub due_ms: i64,
    pub done_ms: Option<i64>,
    pub done_by: Option<String>,
    pub note: String,
    /// Once ended: `done`, or `not_applicable` (the note says why).
    pub outcome: Option<String>,
    /// Not done and past its deadline.
    pub overdue: bool,
}

fn view(m: clock::Model) -> Result<Clock> {
    let (kind, regime) = match m.kind.strip_prefix("custom:") {
        Some(code) => (ClockKind::Custom, Some(code.to_owned())),
        None => (ClockKind::parse(&m.kind).map_err(|e| AppError::internal(e.to_string()))?, None),
    };
    Ok(Clock {
        overdue: m.done_ms.is_none() && m.due_ms < now_ms(),
        id: m.id,
        incident_id: m.incident_id,
        kind,
        regime,
        name: String::new(),
        due_ms: m.due_ms,
        done_ms: m.done_ms,
        outcome: m.done_ms.map(|_| m.outcome),
        done_by: m.done_by,
        note: m.note,
    })
}

/// Fills in the names of configured regimes.
pub(crate) fn named(app: &App, mut clocks: Vec<Clock>) -> Vec<Clock> {
    for c in &mut clocks {
        if let Some(code) = &c.regime {
            c.name = app.config().regimes.iter().find(|r| &r.code == code).map(|r| r.name.clone()).unwrap_or_else(|| code.clone());
        }
    }
    clocks
}

pub(crate) async fn of(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Clock>> {
    let mut v: Vec<Clock> =
        clock::Entity::find().filter(clock::Column::IncidentId.eq(incident_id)).all(db).await?.into_iter().map(view).collect::<Result<_>>()?;
    // Soonest first; on the same deadline, in the order the duties are listed.
    v.sort_by_key(|c| (c.due_ms, ClockKind::ALL.iter().position(|k| *k == c.kind)));
    Ok(v)
}

/// Brings the case's clocks in line with its facts; returns how many started.
pub(crate) async fn sync(app: &App, db: &impl ConnectionTrait, i: &incident::Model) -> Result<usize> {
    let known = jiff::Timestamp::from_millisecond(i.discovered_ms).map_err(|e| AppError::internal(e.to_string()))?;
    let japan = isms_core::calendar::japan();
    let facts = facts_of(i);
    let due: Vec<(String, i64)> = if i.exercise {
        vec![]
    } else {
        deadlines(&facts, known, &super::rules(app), &japan)
            .into_iter()
            .map(|d| (d.kind.code().to_owned(), d.due.as_millisecond()))
            .chain(custom_deadlines(&facts, known, &app.config().regimes).into_iter().map(|(k, t)| (k, t.as_millisecond())))
            .collect()
    };
    let existing = clock::Entity::find().filter(clock::Column::IncidentId.eq(i.id.clone())).all(db).await?;
    let mut started = 0;
    for (kind, due_ms) in &due {
        let due_ms = *due_ms;
        match existing.iter().find(|c| &c.kind == kind) {
            Some(c) if c.done_ms.is_none() && c.due_ms != due_ms => {
                let mut am = c.clone().into_active_model();
                am.due_ms = Set(due_ms);
                am.update(db).await?;
            }
            Some(_) => {}
            None => {
                clock::ActiveModel {
                    id: Set(uuid::Uuid::now_v7().to_string()),
                    incident_id: Set(i.id.clone()),
                    kind: Set(kind.clone()),
                    due_ms: Set(due_ms),
                    done_ms: Set(None),
                    done_by: Set(None),
                    note: Set(String::new()),
                    outcome: Set("done".into()),
                }
                .insert(db)
                .await?;
                started += 1;
            }
        }
    }
    for c in existing.iter().filter(|c| c.done_ms.is_none() && !due.iter().any(|(k, _)| k == &c.kind)) {
        clock::Entity::delete_by_id(c.id.clone()).exec(db).await?;
    }
    Ok(started)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DoneInput {
    /// What was sent and to whom (e.g. the report's reference number); or, when the duty
    /// does not apply, why.
    #[serde(default)]
    pub note: String,
    /// The duty does not apply to this case (e.g. the data was strongly encrypted): the
    /// note must say why.
    #[serde(default)]
    pub not_applicable: bool,
}

/// Marks a duty done (the report was filed, the individuals were told), or not applicable
/// with the reason.
pub async fn complete(app: &App, who: &Principal, incident_id: &str, clock_id: &str, input: DoneInput) -> Result<Clock> {
    let txn = app.store.write().await?;
    let i = super::cases::load(&txn, who, incident_id).await?;
    if !super::runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    let c = clock::Entity::find_by_id(clock_id.to_owned()).one(&txn).await?.filter(|c| c.incident_id == i.id).ok_or(AppError::NotFound)?;
    if c.done_ms.is_some() {
        return Err(AppError::coded("clock", "clock-done", "this duty is already done"));
    }
    if input.note.chars().count() > 2000 {
        return Err(AppError::coded("note", "too-long", "is longer than 2000 characters").into_with_arg("max", "2000"));
    }
    if input.not_applicable && input.note.trim().is_empty() {
        return Err(AppError::coded("note", "clock-na-reason", "say why this duty does not apply"));
    }
    let outcome = if input.not_applicable { "not_applicable" } else { "done" };
    let kind = c.kind.clone();
    // Running is part of the update's condition: of two requests at once, one ends it.
    let ended = clock::Entity::update_many()
        .col_expr(clock::Column::DoneMs, Expr::value(now_ms()))
        .col_expr(clock::Column::DoneBy, Expr::value(who.user_id.clone()))
        .col_expr(clock::Column::Note, Expr::value(input.note.trim()))
        .col_expr(clock::Column::Outcome, Expr::value(outcome))
        .filter(clock::Column::Id.eq(c.id.clone()))
        .filter(clock::Column::DoneMs.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected != 1 {
        return Err(AppError::coded("clock", "clock-done", "this duty is already done"));
    }
    notify::done(&txn, &format!("clock:{}", c.id)).await?;
    let saved = clock::Entity::find_by_id(c.id).one(&txn).await?.ok_or(AppError::NotFound)?;
    let step = if input.not_applicable { "clock-na" } else { "clock" };
    super::cases::timeline(&txn, incident_id, who.user_id.as_deref(), step, &kind).await?;
    let action = if input.not_applicable { "incidents.clock.not_applicable" } else { "incidents.clock.done" };
    record(app, &txn, who, action, "incident", Some(incident_id), Some(&i.company_id), json!({"clock": kind, "note": saved.note})).await?;
    txn.commit().await?;
    view(saved)
}

/// Running clocks of the cases the caller may see, soonest first.
pub async fn running(app: &App, who: &Principal) -> Result<Vec<(super::Incident, Clock)>> {
    let db = app.store.conn();
    let open = clock::Entity::find().filter(clock::Column::DoneMs.is_null()).order_by_asc(clock::Column::DueMs).all(db).await?;
    let mut out = vec![];
    for c in open {
        let Some(i) = incident::Entity::find_by_id(c.incident_id.clone()).one(db).await? else { continue };
        if super::visible(db, who, &i).await? && (super::runs(db, who, &i).await? || who.access.can(isms_core::Permission::IncidentsRead)) {
            let inc = super::cases::get_view(db, i).await?;
            out.push((inc, named(app, vec![view(c)?]).remove(0)));
        }
    }
    Ok(out)
}

/// Tells those who run a case when a clock is within a day of its deadline, and again
/// when it has passed (each once).
pub async fn remind(app: &App) -> Result<usize> {
    let txn = app.store.write().await?;
    let now = now_ms();
    let soon = clock::Entity::find().filter(clock::Column::DoneMs.is_null()).filter(clock::Column::DueMs.lte(now + 24 * 3_600_000)).all(&txn).await?;
    let mut n = 0;
    for c in soon {
        let Some(i) = incident::Entity::find_by_id(c.incident_id.clone()).one(&txn).await? else { continue };
        let stage = if c.due_ms < now { "overdue" } else { "due" };
        let due = notify::moment(c.due_ms);
        // A configured regime is named by the configuration, a legal clock by the catalogs.
        let name = match c.kind.strip_prefix("custom:") {
            Some(code) => json!(app.config().regimes.iter().find(|r| r.code == code).map(|r| r.name.clone()).unwrap_or_else(|| code.to_owned())),
            None => notify::word(format!("clock-{}", c.kind)),
        };
        let kind = if stage == "due" { "incident-clock-due" } else { "incident-clock-overdue" };
        let event =
            Notice::new(kind, json!({"ref": i.r#ref, "clock": name, "due": due}), format!("/incidents/{}", i.id)).once(format!("clock:{}:{stage}", c.id));
        n += notify::event(app, &txn, &event).await?;
        for uid in super::cases::responders_of(&txn, &i.company_id).await? {
            let notice = Notice::new(
                if stage == "due" { "incident-clock-due" } else { "incident-clock-overdue" },
                json!({"ref": i.r#ref, "clock": name, "due": due}),
                format!("/incidents/{}", i.id),
            )
            .once(format!("clock:{}:{stage}:{uid}", c.id))
            .task(format!("clock:{}", c.id));
            if notify::to_user(app, &txn, &uid, &notice).await? {
                n += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(n)
}
