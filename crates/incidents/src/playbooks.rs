//! Playbooks: kept in versions (an edit makes a new version; cases keep the tasks of the
//! version they started), matched to a case by type and severity, and started on a case
//! to create its tasks and tell the people the severity calls for.

use super::cases::load;
use super::runs;
use isms_core::incidents::IncidentType;
use isms_core::incidents::playbooks::{TaskTemplate, defaults, escalation, fits, parse_tasks};
use isms_core::{FieldError, Permission};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::{role_grant, user};
use isms_store::incidents::{playbook, task};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Playbook {
    pub id: String,
    pub code: String,
    pub version: i32,
    pub name: String,
    pub kind: Option<String>,
    pub min_severity: i16,
    pub tasks: Vec<TaskTemplate>,
    /// The tasks as edited: `hours | role | task` per line.
    pub tasks_text: String,
    pub created_ms: i64,
}

fn view(m: playbook::Model) -> Playbook {
    let tasks = parse_tasks(&m.tasks).unwrap_or_default();
    Playbook {
        id: m.id,
        code: m.code,
        version: m.version,
        name: m.name,
        kind: m.kind,
        min_severity: m.min_severity,
        tasks,
        tasks_text: m.tasks,
        created_ms: m.created_ms,
    }
}

/// Loads the shipped playbooks once, when none exist.
pub async fn ensure_defaults(app: &App) -> Result<()> {
    let txn = app.store.write().await?;
    if playbook::Entity::find().one(&txn).await?.is_some() {
        return Ok(());
    }
    for (code, name, kind, min, tasks) in defaults() {
        playbook::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            code: Set(code.into()),
            version: Set(1),
            name: Set(name.into()),
            kind: Set(kind.map(str::to_owned)),
            min_severity: Set(min),
            tasks: Set(tasks.into()),
            latest: Set(true),
            created_by: Set(None),
            created_ms: Set(now_ms()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The playbooks in use (latest versions).
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Playbook>> {
    who.require(Permission::IncidentsRead)?;
    Ok(playbook::Entity::find()
        .filter(playbook::Column::Latest.eq(true))
        .order_by_asc(playbook::Column::Code)
        .all(app.store.conn())
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// Every version of one playbook, newest first.
pub async fn history(app: &App, who: &Principal, code: &str) -> Result<Vec<Playbook>> {
    who.require(Permission::IncidentsRead)?;
    let v: Vec<Playbook> = playbook::Entity::find()
        .filter(playbook::Column::Code.eq(code))
        .order_by_desc(playbook::Column::Version)
        .all(app.store.conn())
        .await?
        .into_iter()
        .map(view)
        .collect();
    if v.is_empty() { Err(AppError::NotFound) } else { Ok(v) }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlaybookInput {
    /// Short code, e.g. `PB-RANSOM`; an existing code gets a new version.
    pub code: String,
    pub name: String,
    /// The incident type it is for; empty for any.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default = "one")]
    pub min_severity: i16,
    /// One task per line: `hours | role | task`.
    pub tasks: String,
}

fn one() -> i16 {
    1
}

/// Saves a playbook as a new version (group-wide incident managers only: the manual is the group's).
pub async fn save(app: &App, who: &Principal, input: PlaybookInput) -> Result<Playbook> {
    if !who.access.can_for(Permission::IncidentsManage, None) {
        return Err(AppError::Forbidden);
    }
    let mut errors = vec![];
    let code = isms_core::policies::parse_code(&input.code).map_err(|e| errors.push(e)).unwrap_or_default();
    let name = isms_kernel::input::required(&mut errors, "name", &input.name, 200);
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => IncidentType::parse(k).map_err(|e| errors.push(e)).ok().map(|k| k.code().to_owned()),
        None => None,
    };
    if !(1..=4).contains(&input.min_severity) {
        errors.push(FieldError::coded("min_severity", "between", "must be between 1 and 4").arg("min", "1").arg("max", "4"));
    }
    if let Err(e) = parse_tasks(&input.tasks) {
        errors.extend(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let last = playbook::Entity::find().filter(playbook::Column::Code.eq(code.clone())).order_by_desc(playbook::Column::Version).one(&txn).await?;
    let version = last.as_ref().map(|l| l.version + 1).unwrap_or(1);
    playbook::Entity::update_many().col_expr(playbook::Column::Latest, Expr::val(false)).filter(playbook::Column::Code.eq(code.clone())).exec(&txn).await?;
    let saved = playbook::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        code: Set(code.clone()),
        version: Set(version),
        name: Set(name),
        kind: Set(kind),
        min_severity: Set(input.min_severity),
        tasks: Set(input.tasks.replace("\r\n", "\n").trim().to_owned()),
        latest: Set(true),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now_ms()),
    }
    .insert(&txn)
    .await?;
    record(app, &txn, who, "incidents.playbook.save", "playbook", Some(&saved.id), None, json!({"code": code, "version": version})).await?;
    txn.commit().await?;
    Ok(view(saved))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub role: String,
    pub due_ms: i64,
    pub done_ms: Option<i64>,
    pub done_by: Option<String>,
    /// Once ended: `done` or `cancelled` (with the reason).
    pub outcome: Option<String>,
    pub reason: String,
    pub overdue: bool,
}

pub async fn tasks_of(db: &impl ConnectionTrait, incident_id: &str) -> Result<Vec<Task>> {
    let now = now_ms();
    Ok(task::Entity::find()
        .filter(task::Column::IncidentId.eq(incident_id))
        .order_by_asc(task::Column::DueMs)
        .all(db)
        .await?
        .into_iter()
        .map(|t| Task {
            overdue: t.done_ms.is_none() && t.due_ms < now,
            id: t.id,
            title: t.title,
            role: t.role,
            due_ms: t.due_ms,
            outcome: t.done_ms.map(|_| t.outcome),
            done_ms: t.done_ms,
            done_by: t.done_by,
            reason: t.reason,
        })
        .collect())
}

/// The playbooks that fit the case, best first (its own type before "any").
pub async fn suggestions(app: &App, who: &Principal, incident_id: &str) -> Result<Vec<Playbook>> {
    let db = app.store.conn();
    let i = load(db, who, incident_id).await?;
    let mut v: Vec<Playbook> = list(app, who).await?.into_iter().filter(|p| fits(p.kind.as_deref(), p.min_severity, &i.kind, i.severity)).collect();
    v.sort_by_key(|p| (p.kind.is_none(), std::cmp::Reverse(p.min_severity)));
    Ok(v)
}

/// Starts a playbook on a case: its tasks are created with their deadlines, and the
/// people the severity calls for are told.
pub async fn start(app: &App, who: &Principal, incident_id: &str, playbook_id: &str) -> Result<Vec<Task>> {
    let txn = app.store.write().await?;
    let i = load(&txn, who, incident_id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    if i.status == "closed" {
        return Err(AppError::coded("status", "incident-closed", "a closed case does not change"));
    }
    let p = playbook::Entity::find_by_id(playbook_id.to_owned())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::coded("playbook_id", "no-playbook", "no such playbook"))?;
    if task::Entity::find().filter(task::Column::IncidentId.eq(i.id.clone())).filter(task::Column::PlaybookId.eq(p.id.clone())).one(&txn).await?.is_some() {
        return Err(AppError::coded("playbook_id", "playbook-started", "this playbook is already running on the case"));
    }
    let tasks = parse_tasks(&p.tasks).map_err(AppError::Invalid)?;
    let now = now_ms();
    for t in &tasks {
        task::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            incident_id: Set(i.id.clone()),
            playbook_id: Set(Some(p.id.clone())),
            title: Set(t.title.clone()),
            role: Set(t.role.code().into()),
            due_ms: Set(now + t.hours * 3_600_000),
            done_ms: Set(None),
            done_by: Set(None),
            created_ms: Set(now),
            outcome: Set("done".into()),
            reason: Set(String::new()),
        }
        .insert(&txn)
        .await?;
    }
    // Internal escalation: the roles the severity calls for, for this company or the group.
    let roles: Vec<String> = escalation(i.severity).into_iter().map(|r| r.code().to_owned()).collect();
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::Role.is_in(roles))
        .filter(Condition::any().add(role_grant::Column::CompanyId.is_null()).add(role_grant::Column::CompanyId.eq(i.company_id.clone())))
        .all(&txn)
        .await?;
    let mut told: Vec<String> = grants.into_iter().map(|g| g.user_id).collect();
    told.sort();
    told.dedup();
    for uid in told.iter().filter(|u| Some(*u) != who.user_id.as_ref()) {
        if user::Entity::find_by_id(uid.clone()).one(&txn).await?.is_some_and(|u| !u.disabled) {
            let n = Notice::new(
                "incident-escalated",
                json!({"ref": i.r#ref, "title": i.title, "severity": i.severity.map(|s| notify::word(format!("incident-severity-{s}"))).unwrap_or_else(|| json!("—")), "playbook": p.name}),
                format!("/incidents/{}", i.id),
            );
            notify::to_user(app, &txn, uid, &n).await?;
        }
    }
    if !i.exercise {
        let n = Notice::new(
            "incident-escalated",
            json!({"ref": i.r#ref, "title": i.title, "severity": i.severity.map(|s| notify::word(format!("incident-severity-{s}"))).unwrap_or_else(|| json!("—")), "playbook": p.name}),
            format!("/incidents/{}", i.id),
        );
        notify::event(app, &txn, &n).await?;
    }
    super::cases::timeline(&txn, &i.id, who.user_id.as_deref(), "playbook", &format!("{} v{}", p.name, p.version)).await?;
    record(
        app,
        &txn,
        who,
        "incidents.playbook.start",
        "incident",
        Some(&i.id),
        Some(&i.company_id),
        json!({"playbook": p.code, "version": p.version, "tasks": tasks.len(), "told": told.len()}),
    )
    .await?;
    txn.commit().await?;
    tasks_of(app.store.conn(), incident_id).await
}

/// Marks a task done.
pub async fn complete_task(app: &App, who: &Principal, incident_id: &str, task_id: &str) -> Result<()> {
    end_task(app, who, incident_id, task_id, None).await
}

/// Cancels a task that the case does not need, with the reason (kept on the task, the
/// timeline and the audit trail).
pub async fn cancel_task(app: &App, who: &Principal, incident_id: &str, task_id: &str, reason: &str) -> Result<()> {
    let mut errors = vec![];
    let reason = isms_kernel::input::required_text(&mut errors, "reason", reason, 2000);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    end_task(app, who, incident_id, task_id, Some(&reason)).await
}

async fn end_task(app: &App, who: &Principal, incident_id: &str, task_id: &str, cancelled: Option<&str>) -> Result<()> {
    let txn = app.store.write().await?;
    let i = load(&txn, who, incident_id).await?;
    if !runs(&txn, who, &i).await? {
        return Err(AppError::Forbidden);
    }
    let t = task::Entity::find_by_id(task_id.to_owned()).one(&txn).await?.filter(|t| t.incident_id == i.id).ok_or(AppError::NotFound)?;
    if t.done_ms.is_some() {
        return Err(AppError::coded("task", "task-done", "this task is already done"));
    }
    let title = t.title.clone();
    // Open is part of the update's condition: of two requests at once, one ends the task.
    let ended = task::Entity::update_many()
        .col_expr(task::Column::DoneMs, Expr::value(now_ms()))
        .col_expr(task::Column::DoneBy, Expr::value(who.user_id.clone()))
        .col_expr(task::Column::Outcome, Expr::value(if cancelled.is_some() { "cancelled" } else { "done" }))
        .col_expr(task::Column::Reason, Expr::value(cancelled.unwrap_or_default()))
        .filter(task::Column::Id.eq(t.id.clone()))
        .filter(task::Column::DoneMs.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected != 1 {
        return Err(AppError::coded("task", "task-done", "this task is already done"));
    }
    let (step, action) = if cancelled.is_some() { ("task-cancelled", "incidents.task.cancel") } else { ("task", "incidents.task.done") };
    super::cases::timeline(&txn, &i.id, who.user_id.as_deref(), step, &title).await?;
    record(app, &txn, who, action, "incident", Some(&i.id), Some(&i.company_id), json!({"task": title, "reason": cancelled.unwrap_or_default()})).await?;
    txn.commit().await?;
    Ok(())
}
