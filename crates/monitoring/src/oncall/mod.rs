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

use crate::{in_scope, not_found_unless, scope};
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
    crate::shared(app).oncall.get(app, |app| async move { Ok((load(app.store.conn()).await?, None)) }).await
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
    /// `rule`, `indicator` or `silence`: whether the title is said in the catalog's words.
    pub kind: &'a str,
    pub title: &'a str,
    pub host: &'a str,
}

/// The alert's title as a notice argument: an indicator's match or a silent source in
/// the catalog's words for its kind, a rule's title as written.
fn title_arg(a: &Paged) -> serde_json::Value {
    match a.kind {
        "indicator" => notify::phrase("alert-title-indicator", json!({"what": a.title})),
        "silence" => notify::phrase("alert-title-silence", json!({"source": a.title})),
        _ => json!(a.title),
    }
}

fn notice(kind: &'static str, a: &Paged, rotation: &str, reason: &str, user: &str) -> Notice {
    Notice::new(
        kind,
        json!({"title": title_arg(a), "severity": isms_kernel::notify::word(format!("severity-{}", a.severity.code())), "host": a.host, "rotation": rotation, "reason": reason}),
        format!("/monitoring/alerts/{}", a.alert_id),
    )
    .once(format!("page:{}:{rotation}:{reason}:{user}", a.alert_id))
    .task(format!("alert:{}", a.alert_id))
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
        let paged = Paged { alert_id: &a.id, company_id: a.company_id.as_deref(), severity, kind: &a.kind, title: &a.title, host: &a.host };
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

mod edit;
mod rotations;

pub use edit::*;
pub use rotations::*;
