//! Around the clock: on-call rotations, the paging of new alerts, and escalation.
//!
//! A rotation answers for the alerts of one company (or, without a company, of every
//! company) from a severity up. When such an alert opens, the person on call is paged in
//! the same transaction: a row in `alert_pages`, a notification in their inbox and by
//! e-mail, and an `alert-page` event for the configured webhooks (an on-call or chat
//! system). If the alert is still new after the rotation's minutes, the escalation loop
//! pages the next person in turn and the CSIRT lead. Every page is kept with the alert.
//! Members are accounts that may triage the rotation's alerts, so whoever is paged can
//! acknowledge.

use super::{in_scope, not_found_unless, scope};
use isms_core::monitoring::{AlertState, Severity};
use isms_core::oncall::{Cover, Rota, check_cover, check_rota};
use isms_core::{FieldError, Permission};
use isms_kernel::input::{blank_to_none, required, required_text};
use isms_kernel::notify::{self, Notice};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::accounts::user;
use isms_store::monitoring::{alert, cover, page, rotation, rotation_member};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;

/// One rotation in memory, as paging needs it.
pub(crate) struct Rotating {
    id: String,
    name: String,
    company_id: Option<String>,
    min: Severity,
    ack_ms: i64,
    lead: Option<String>,
    rota: Rota<String>,
}

/// The enabled rotations, rebuilt when one changes (here or on another instance).
#[derive(Default)]
pub(crate) struct Roster {
    rotations: Vec<Rotating>,
}

impl Roster {
    /// The rotations that answer for an alert of `company` and `severity`.
    fn answering<'a>(&'a self, company: Option<&'a str>, severity: Severity) -> impl Iterator<Item = &'a Rotating> + 'a {
        self.rotations.iter().filter(move |r| severity >= r.min && (r.company_id.is_none() || r.company_id.as_deref() == company))
    }
}

pub(crate) async fn roster(app: &App) -> Result<std::sync::Arc<Roster>> {
    super::shared(app).oncall.get(app, |app| async move { Ok((load(app.store.conn()).await?, None)) }).await
}

/// The schedules of these rotations: members in turn order and covers not yet over.
async fn rotas(db: &impl ConnectionTrait, rows: &[rotation::Model], now: i64) -> Result<HashMap<String, Rota<String>>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut out: HashMap<String, Rota<String>> =
        rows.iter().map(|r| (r.id.clone(), Rota { anchor_ms: r.anchor_ms, shift_ms: r.shift_hours as i64 * HOUR, members: vec![], covers: vec![] })).collect();
    for m in rotation_member::Entity::find()
        .filter(rotation_member::Column::RotationId.is_in(ids.clone()))
        .order_by_asc(rotation_member::Column::Position)
        .all(db)
        .await?
    {
        if let Some(r) = out.get_mut(&m.rotation_id) {
            r.members.push(m.user_id);
        }
    }
    for c in cover::Entity::find().filter(cover::Column::RotationId.is_in(ids)).filter(cover::Column::UntilMs.gt(now)).all(db).await? {
        if let Some(r) = out.get_mut(&c.rotation_id) {
            r.covers.push(Cover { person: c.user_id, from_ms: c.from_ms, until_ms: c.until_ms });
        }
    }
    Ok(out)
}

async fn load(db: &impl ConnectionTrait) -> Result<Roster> {
    let rows = rotation::Entity::find().filter(rotation::Column::Enabled.eq(true)).order_by_asc(rotation::Column::Name).all(db).await?;
    let mut rotas = rotas(db, &rows, now_ms()).await?;
    let rotations = rows
        .into_iter()
        .map(|r| Rotating {
            rota: rotas.remove(&r.id).unwrap_or(Rota { anchor_ms: r.anchor_ms, shift_ms: HOUR, members: vec![], covers: vec![] }),
            id: r.id,
            name: r.name,
            company_id: r.company_id,
            min: Severity::parse(&r.min_severity).unwrap_or(Severity::High),
            ack_ms: r.ack_minutes as i64 * MINUTE,
            lead: r.lead_user_id,
        })
        .collect();
    Ok(Roster { rotations })
}

/// What paging needs to know of a new alert.
pub(crate) struct Paged<'a> {
    pub alert_id: &'a str,
    pub company_id: Option<&'a str>,
    pub severity: Severity,
    pub title: &'a str,
    pub host: &'a str,
}

fn notice(kind: &'static str, a: &Paged, rotation: &str, reason: &str, user: &str) -> Notice {
    Notice::new(
        kind,
        json!({"title": a.title, "severity": a.severity.code(), "host": a.host, "rotation": rotation, "reason": reason}),
        format!("/monitoring/alerts/{}", a.alert_id),
    )
    .once(format!("page:{}:{rotation}:{reason}:{user}", a.alert_id))
}

/// Pages one person for an alert (inside the caller's transaction): the page row, their
/// inbox and e-mail, and the webhooks. Returns whether they could be told (an account
/// disabled since it joined the rotation cannot).
async fn page_one(app: &App, txn: &impl ConnectionTrait, a: &Paged<'_>, r: &Rotating, user_id: &str, reason: &'static str, now: i64) -> Result<bool> {
    let kind = if reason == "on_call" { "alert-page" } else { "alert-escalated" };
    let n = notice(kind, a, &r.name, reason, user_id);
    let told = notify::to_user(app, txn, user_id, &n).await?;
    // The hook gets whom to call, so an on-call or telephony system can reach them.
    let who = user::Entity::find_by_id(user_id.to_owned()).one(txn).await?;
    let mut hook = n.clone();
    if let (Some(u), Some(args)) = (who, hook.args.as_object_mut()) {
        args.insert("user".into(), json!(if u.display_name.is_empty() { u.username } else { u.display_name }));
    }
    notify::event(app, txn, &hook).await?;
    // The first page waits for an acknowledgement; somebody who cannot be told is passed
    // over at once.
    let escalate_ms = (reason == "on_call").then_some(if told { now + r.ack_ms } else { now });
    page::Model {
        id: uuid::Uuid::now_v7().to_string(),
        alert_id: a.alert_id.to_owned(),
        rotation_id: Some(r.id.clone()),
        company_id: a.company_id.map(str::to_owned),
        user_id: user_id.to_owned(),
        reason: reason.into(),
        paged_ms: now,
        escalate_ms,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    Ok(told)
}

/// Pages the person on call of every rotation answering for a new alert. Runs inside the
/// transaction that opens the alert, so an alert is never committed unpaged.
pub(crate) async fn page_new(app: &App, txn: &impl ConnectionTrait, roster: &Roster, a: &Paged<'_>, now: i64) -> Result<usize> {
    let mut paged = 0;
    for r in roster.answering(a.company_id, a.severity) {
        let Some(shift) = r.rota.on_call(now) else { continue };
        page_one(app, txn, a, r, &shift.person, "on_call", now).await?;
        paged += 1;
    }
    Ok(paged)
}

/// Escalates every alert whose acknowledgement is overdue: pages the next person in turn
/// and the rotation's lead. Each due page is claimed first, so with several instances an
/// alert escalates once. Returns how many alerts escalated.
pub async fn escalate_due(app: &App) -> Result<usize> {
    let now = now_ms();
    let due = page::Entity::find().filter(page::Column::EscalateMs.lte(now)).order_by_asc(page::Column::EscalateMs).limit(200).all(app.store.conn()).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let roster = roster(app).await?;
    let mut escalated = 0;
    for p in due {
        let txn = app.store.write().await?;
        let claimed = page::Entity::update_many()
            .col_expr(page::Column::EscalateMs, Expr::val(Option::<i64>::None))
            .filter(page::Column::Id.eq(p.id.clone()))
            .filter(page::Column::EscalateMs.eq(p.escalate_ms))
            .exec(&txn)
            .await?
            .rows_affected;
        let a = alert::Entity::find_by_id(p.alert_id.clone()).one(&txn).await?;
        let rot = roster.rotations.iter().find(|r| Some(&r.id) == p.rotation_id.as_ref());
        let (Some(a), Some(r), 1) = (a, rot, claimed) else {
            txn.commit().await?;
            continue;
        };
        if a.state != AlertState::New.code() {
            txn.commit().await?;
            continue;
        }
        let severity = Severity::parse(&a.severity).unwrap_or(Severity::Medium);
        let paged = Paged { alert_id: &a.id, company_id: a.company_id.as_deref(), severity, title: &a.title, host: &a.host };
        let mut called = vec![p.user_id.clone()];
        // Whoever is on call now if not yet called (the shift may have changed hands, or a
        // cover begun), else the next in turn.
        let next = match r.rota.on_call(now).map(|s| s.person) {
            Some(p) if !called.contains(&p) => Some(p),
            _ => r.rota.next_after(now),
        };
        if let Some(next) = next.filter(|n| !called.contains(n)) {
            page_one(app, &txn, &paged, r, &next, "next", now).await?;
            called.push(next);
        }
        if let Some(lead) = r.lead.clone().filter(|l| !called.contains(l)) {
            page_one(app, &txn, &paged, r, &lead, "lead", now).await?;
        }
        txn.commit().await?;
        escalated += 1;
    }
    Ok(escalated)
}

// ----- reading and changing rotations -----

/// Someone in a rotation, with the name to show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub name: String,
}

/// Who is on call, from when until when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnCall {
    pub user_id: String,
    pub name: String,
    /// A cover stands in for the scheduled member.
    pub covered: bool,
    pub from_ms: i64,
    pub until_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rotation {
    pub id: String,
    pub name: String,
    /// `None`: answers for every company's alerts.
    pub company_id: Option<String>,
    pub min_severity: Severity,
    pub ack_minutes: i32,
    pub shift_hours: i32,
    pub anchor_ms: i64,
    pub lead: Option<Member>,
    pub enabled: bool,
    /// In turn order.
    pub members: Vec<Member>,
    pub on_call: Option<OnCall>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoverView {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub from_ms: i64,
    pub until_ms: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageView {
    pub id: String,
    pub alert_id: String,
    pub alert_title: String,
    pub rotation_id: Option<String>,
    pub rotation: String,
    pub user_id: String,
    pub name: String,
    /// `on_call`, `next` or `lead`.
    pub reason: String,
    pub paged_ms: i64,
    /// When the next people are called if the alert is still new.
    pub escalate_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RotationDetail {
    pub rotation: Rotation,
    /// The next shifts, from the current one.
    pub upcoming: Vec<OnCall>,
    /// Covers not yet over.
    pub covers: Vec<CoverView>,
    /// The latest pages.
    pub pages: Vec<PageView>,
}

async fn names(db: &impl ConnectionTrait, ids: impl IntoIterator<Item = String>) -> Result<HashMap<String, String>> {
    let ids: Vec<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, if u.display_name.is_empty() { u.username } else { u.display_name }))
        .collect())
}

fn member(names: &HashMap<String, String>, id: &str) -> Member {
    Member { user_id: id.to_owned(), name: names.get(id).cloned().unwrap_or_else(|| id.to_owned()) }
}

async fn build(db: &impl ConnectionTrait, rows: Vec<rotation::Model>, now: i64) -> Result<Vec<(Rotation, Rota<String>)>> {
    let mut rotas = rotas(db, &rows, now).await?;
    let mut people: Vec<String> = rotas.values().flat_map(|r| r.members.iter().cloned().chain(r.covers.iter().map(|c| c.person.clone()))).collect();
    people.extend(rows.iter().filter_map(|r| r.lead_user_id.clone()));
    let names = names(db, people).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let rota = rotas.remove(&r.id).unwrap_or(Rota { anchor_ms: r.anchor_ms, shift_ms: HOUR, members: vec![], covers: vec![] });
            let on_call = rota.on_call(now).map(|s| OnCall {
                name: member(&names, &s.person).name,
                user_id: s.person,
                covered: s.covered,
                from_ms: s.from_ms,
                until_ms: s.until_ms,
            });
            let view = Rotation {
                id: r.id,
                name: r.name,
                company_id: r.company_id,
                min_severity: Severity::parse(&r.min_severity).unwrap_or(Severity::High),
                ack_minutes: r.ack_minutes,
                shift_hours: r.shift_hours,
                anchor_ms: r.anchor_ms,
                lead: r.lead_user_id.as_deref().map(|l| member(&names, l)),
                enabled: r.enabled,
                members: rota.members.iter().map(|m| member(&names, m)).collect(),
                on_call,
                updated_ms: r.updated_ms,
            };
            (view, rota)
        })
        .collect())
}

/// The rotations within the reader's companies (group-wide ones for group-wide readers).
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Rotation>> {
    let sc = scope(who, Permission::MonitoringRead)?;
    let db = app.store.conn();
    let rows: Vec<rotation::Model> =
        rotation::Entity::find().order_by_asc(rotation::Column::Name).all(db).await?.into_iter().filter(|r| in_scope(&sc, r.company_id.as_deref())).collect();
    Ok(build(db, rows, now_ms()).await?.into_iter().map(|(v, _)| v).collect())
}

async fn visible(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<rotation::Model> {
    let sc = scope(who, Permission::MonitoringRead)?;
    let m = rotation::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&sc, m.company_id.as_deref()))?;
    Ok(m)
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<RotationDetail> {
    let db = app.store.conn();
    let m = visible(db, who, id).await?;
    let now = now_ms();
    let (rotation, rota) = build(db, vec![m], now).await?.remove(0);
    let covers = cover::Entity::find()
        .filter(cover::Column::RotationId.eq(id))
        .filter(cover::Column::UntilMs.gt(now))
        .order_by_asc(cover::Column::FromMs)
        .all(db)
        .await?;
    let pages = page::Entity::find().filter(page::Column::RotationId.eq(id)).order_by_desc(page::Column::PagedMs).limit(30).all(db).await?;
    let mut ids: Vec<String> = covers.iter().map(|c| c.user_id.clone()).collect();
    ids.extend(pages.iter().map(|p| p.user_id.clone()));
    ids.extend(rota.members.iter().cloned());
    let names = names(db, ids).await?;
    let upcoming = rota
        .upcoming(now, 8)
        .into_iter()
        .map(|s| OnCall { name: member(&names, &s.person).name, user_id: s.person, covered: s.covered, from_ms: s.from_ms, until_ms: s.until_ms })
        .collect();
    let covers = covers
        .into_iter()
        .map(|c| CoverView { id: c.id, name: member(&names, &c.user_id).name, user_id: c.user_id, from_ms: c.from_ms, until_ms: c.until_ms, reason: c.reason })
        .collect();
    let pages = page_views(db, pages, &names).await?;
    Ok(RotationDetail { rotation, upcoming, covers, pages })
}

async fn page_views(db: &impl ConnectionTrait, pages: Vec<page::Model>, names: &HashMap<String, String>) -> Result<Vec<PageView>> {
    let alert_ids: Vec<String> = pages.iter().map(|p| p.alert_id.clone()).collect();
    let titles: HashMap<String, String> =
        alert::Entity::find().filter(alert::Column::Id.is_in(alert_ids)).all(db).await?.into_iter().map(|a| (a.id, a.title)).collect();
    let rot_ids: Vec<String> = pages.iter().filter_map(|p| p.rotation_id.clone()).collect();
    let rots: HashMap<String, String> =
        rotation::Entity::find().filter(rotation::Column::Id.is_in(rot_ids)).all(db).await?.into_iter().map(|r| (r.id, r.name)).collect();
    Ok(pages
        .into_iter()
        .map(|p| PageView {
            alert_title: titles.get(&p.alert_id).cloned().unwrap_or_default(),
            rotation: p.rotation_id.as_ref().and_then(|r| rots.get(r)).cloned().unwrap_or_default(),
            name: member(names, &p.user_id).name,
            id: p.id,
            alert_id: p.alert_id,
            rotation_id: p.rotation_id,
            user_id: p.user_id,
            reason: p.reason,
            paged_ms: p.paged_ms,
            escalate_ms: p.escalate_ms,
        })
        .collect())
}

/// The pages sent for one alert, oldest first (the alert's visibility is the caller's).
pub async fn pages_of(app: &App, who: &Principal, alert_id: &str) -> Result<Vec<PageView>> {
    let db = app.store.conn();
    let a = alert::Entity::find_by_id(alert_id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&scope(who, Permission::MonitoringRead)?, a.company_id.as_deref()))?;
    let pages = page::Entity::find().filter(page::Column::AlertId.eq(alert_id)).order_by_asc(page::Column::PagedMs).all(db).await?;
    let names = names(db, pages.iter().map(|p| p.user_id.clone())).await?;
    let mut views = page_views(db, pages, &names).await?;
    // An escalation no longer due once the alert is handled.
    if a.state != AlertState::New.code() {
        for v in &mut views {
            v.escalate_ms = None;
        }
    }
    Ok(views)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RotationInput {
    pub name: String,
    /// Empty: the rotation answers for every company's alerts.
    pub company_id: Option<String>,
    /// informational, low, medium, high or critical.
    pub min_severity: String,
    /// Minutes to wait for an acknowledgement before calling the next person and the lead.
    pub ack_minutes: i64,
    /// Length of one shift in hours (168 for weekly).
    pub shift_hours: i64,
    /// When the first member's first shift begins: RFC 3339, or `YYYY-MM-DDTHH:MM` in Japan.
    pub starts: String,
    /// Accounts in turn order.
    pub members: Vec<String>,
    /// The CSIRT lead, called on every escalation.
    pub lead_user_id: Option<String>,
    pub enabled: bool,
}

impl Default for RotationInput {
    fn default() -> Self {
        Self {
            name: String::new(),
            company_id: None,
            min_severity: "high".into(),
            ack_minutes: 15,
            shift_hours: 168,
            starts: String::new(),
            members: vec![],
            lead_user_id: None,
            enabled: true,
        }
    }
}

struct Checked {
    name: String,
    company_id: Option<String>,
    min: Severity,
    anchor_ms: i64,
    members: Vec<String>,
    lead: Option<String>,
}

async fn check(app: &App, who: &Principal, input: &RotationInput) -> Result<Checked> {
    let mut errors = vec![];
    let name = required(&mut errors, "name", &input.name, 120);
    let company_id = blank_to_none(&input.company_id);
    if !who.access.can_for(Permission::MonitoringManage, company_id.as_deref().and_then(|c| c.parse().ok())) {
        errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not manage monitoring of this company"));
    }
    let min = Severity::parse_as("min_severity", &input.min_severity).map_err(|e| errors.push(e)).unwrap_or(Severity::High);
    let members: Vec<String> = input.members.iter().map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect();
    errors.extend(check_rota(input.shift_hours, input.ack_minutes, &members));
    let anchor_ms = match input.starts.trim() {
        "" => {
            errors.push(FieldError::coded("starts", "required", "is required"));
            0
        }
        s => isms_core::calendar::parse_moment(s).unwrap_or_else(|| {
            errors.push(FieldError::coded("starts", "moment", format!("`{s}` is not a date and time such as 2026-11-26T09:30")).arg("value", s));
            0
        }),
    };
    // Whoever is paged must be able to acknowledge: members and lead triage this company's alerts.
    let allowed: Vec<String> = super::alerts::assignable(app, company_id.as_deref()).await?.into_iter().map(|(id, _)| id).collect();
    if let Some((i, _)) = members.iter().enumerate().find(|(_, m)| !allowed.contains(m)) {
        errors.push(
            FieldError::coded("members", "not-assignable", format!("entry {} does not triage alerts of this company", i + 1)).arg("line", (i + 1).to_string()),
        );
    }
    let lead = blank_to_none(&input.lead_user_id);
    match &lead {
        None => errors.push(FieldError::coded("lead_user_id", "required", "is required")),
        Some(l) if !allowed.contains(l) => errors.push(FieldError::coded("lead_user_id", "not-assignable", "does not triage alerts of this company")),
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Checked { name, company_id, min, anchor_ms, members, lead })
}

async fn name_taken(db: &impl ConnectionTrait, name: &str, except: Option<&str>) -> Result<bool> {
    let mut q = rotation::Entity::find().filter(rotation::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(rotation::Column::Id.ne(id));
    }
    Ok(q.one(db).await?.is_some())
}

async fn write_members(txn: &impl ConnectionTrait, rotation_id: &str, members: &[String]) -> Result<()> {
    rotation_member::Entity::delete_many().filter(rotation_member::Column::RotationId.eq(rotation_id)).exec(txn).await?;
    let rows: Vec<rotation_member::ActiveModel> = members
        .iter()
        .enumerate()
        .map(|(i, u)| {
            rotation_member::Model { id: uuid::Uuid::now_v7().to_string(), rotation_id: rotation_id.to_owned(), position: i as i32, user_id: u.clone() }
                .into_active_model()
        })
        .collect();
    if !rows.is_empty() {
        rotation_member::Entity::insert_many(rows).exec_without_returning(txn).await?;
    }
    Ok(())
}

async fn changed(app: &App, txn: &impl ConnectionTrait) -> Result<()> {
    super::shared(app).oncall.bump(txn).await
}

pub async fn create(app: &App, who: &Principal, input: RotationInput) -> Result<Rotation> {
    who.require(Permission::MonitoringManage)?;
    let c = check(app, who, &input).await?;
    let txn = app.store.write().await?;
    if name_taken(&txn, &c.name, None).await? {
        return Err(AppError::coded("name", "taken", "is already taken"));
    }
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    rotation::Model {
        id: id.clone(),
        name: c.name.clone(),
        company_id: c.company_id.clone(),
        min_severity: c.min.code().into(),
        ack_minutes: input.ack_minutes as i32,
        shift_hours: input.shift_hours as i32,
        anchor_ms: c.anchor_ms,
        lead_user_id: c.lead.clone(),
        enabled: input.enabled,
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    write_members(&txn, &id, &c.members).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.create", "oncall_rotation", Some(&id), c.company_id.as_deref(), json!({"after": input})).await?;
    txn.commit().await?;
    super::shared(app).oncall.changed();
    Ok(get(app, who, &id).await?.rotation)
}

pub async fn update(app: &App, who: &Principal, id: &str, input: RotationInput) -> Result<Rotation> {
    let old = visible(app.store.conn(), who, id).await?;
    who.require_for(Permission::MonitoringManage, old.company_id.as_deref())?;
    let c = check(app, who, &input).await?;
    let txn = app.store.write().await?;
    let old = visible(&txn, who, id).await?;
    if name_taken(&txn, &c.name, Some(id)).await? {
        return Err(AppError::coded("name", "taken", "is already taken"));
    }
    let before = json!({"name": old.name, "company_id": old.company_id, "min_severity": old.min_severity, "ack_minutes": old.ack_minutes, "shift_hours": old.shift_hours, "anchor_ms": old.anchor_ms, "lead_user_id": old.lead_user_id, "enabled": old.enabled});
    let mut a = old.into_active_model();
    a.name = Set(c.name);
    a.company_id = Set(c.company_id.clone());
    a.min_severity = Set(c.min.code().into());
    a.ack_minutes = Set(input.ack_minutes as i32);
    a.shift_hours = Set(input.shift_hours as i32);
    a.anchor_ms = Set(c.anchor_ms);
    a.lead_user_id = Set(c.lead);
    a.enabled = Set(input.enabled);
    a.updated_ms = Set(now_ms());
    a.update(&txn).await?;
    write_members(&txn, id, &c.members).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.update", "oncall_rotation", Some(id), c.company_id.as_deref(), json!({"before": before, "after": input})).await?;
    txn.commit().await?;
    super::shared(app).oncall.changed();
    Ok(get(app, who, id).await?.rotation)
}

pub async fn delete(app: &App, who: &Principal, id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let m = visible(&txn, who, id).await?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    rotation::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    changed(app, &txn).await?;
    record(app, &txn, who, "monitoring.oncall.delete", "oncall_rotation", Some(id), m.company_id.as_deref(), json!({"name": m.name})).await?;
    txn.commit().await?;
    super::shared(app).oncall.changed();
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CoverInput {
    /// Who stands in: an account that may triage the rotation's alerts.
    pub user_id: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Japan.
    pub from: String,
    pub until: String,
    pub reason: String,
}

pub async fn add_cover(app: &App, who: &Principal, rotation_id: &str, input: CoverInput) -> Result<CoverView> {
    let r = visible(app.store.conn(), who, rotation_id).await?;
    who.require_for(Permission::MonitoringManage, r.company_id.as_deref())?;
    let mut errors = vec![];
    let allowed = super::alerts::assignable(app, r.company_id.as_deref()).await?;
    let user_id = input.user_id.trim().to_owned();
    let name = allowed.iter().find(|(u, _)| *u == user_id).map(|(_, n)| n.clone());
    if user_id.is_empty() {
        errors.push(FieldError::coded("user_id", "required", "is required"));
    } else if name.is_none() {
        errors.push(FieldError::coded("user_id", "not-assignable", "does not triage alerts of this company"));
    }
    let mut moment = |field: &'static str, s: &str| match s.trim() {
        "" => {
            errors.push(FieldError::coded(field, "required", "is required"));
            None
        }
        s => isms_core::calendar::parse_moment(s).or_else(|| {
            errors.push(FieldError::coded(field, "moment", format!("`{s}` is not a date and time such as 2026-11-26T09:30")).arg("value", s));
            None
        }),
    };
    let from = moment("from", &input.from);
    let until = moment("until", &input.until);
    let reason = required_text(&mut errors, "reason", &input.reason, 500);
    if let (Some(f), Some(u)) = (from, until) {
        errors.extend(check_cover(f, u));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (from, until) = (from.unwrap_or_default(), until.unwrap_or_default());
    let txn = app.store.write().await?;
    visible(&txn, who, rotation_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    cover::Model {
        id: id.clone(),
        rotation_id: rotation_id.to_owned(),
        user_id: user_id.clone(),
        from_ms: from,
        until_ms: until,
        reason: reason.clone(),
        created_by: who.user_id.clone(),
        created_ms: now_ms(),
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    changed(app, &txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.oncall.cover",
        "oncall_rotation",
        Some(rotation_id),
        r.company_id.as_deref(),
        json!({"cover": id, "user_id": user_id, "from_ms": from, "until_ms": until, "reason": reason}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).oncall.changed();
    Ok(CoverView { id, user_id, name: name.unwrap_or_default(), from_ms: from, until_ms: until, reason })
}

pub async fn remove_cover(app: &App, who: &Principal, cover_id: &str) -> Result<()> {
    let txn = app.store.write().await?;
    let c = cover::Entity::find_by_id(cover_id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let r = visible(&txn, who, &c.rotation_id).await?;
    who.require_for(Permission::MonitoringManage, r.company_id.as_deref())?;
    cover::Entity::delete_by_id(cover_id.to_owned()).exec(&txn).await?;
    changed(app, &txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.oncall.uncover",
        "oncall_rotation",
        Some(&r.id),
        r.company_id.as_deref(),
        json!({"cover": cover_id, "user_id": c.user_id, "from_ms": c.from_ms, "until_ms": c.until_ms}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).oncall.changed();
    Ok(())
}
