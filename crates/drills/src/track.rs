//! What a recipient's mail led to: every request to their tracked addresses and every
//! signal (a beacon from the teachable moment, a submitted landing form, a reply, a
//! report) is recorded with the verdict of `isms_core::drills::Judge`, and the recipient's
//! first human click, submit and attachment opening are kept on their row for the results.
//! A token that is malformed or unknown records nothing. Whoever fell for the drill is
//! assigned its remedial course (`crate::remedial`).

use crate::templates::Template;
use isms_core::drills::{DrillKind, EventKind, FOLLOW_UP_MS, Hit, Verdict, is_token};
use isms_kernel::{App, Result};
use isms_store::drills::{campaign, event, recipient};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::net::IpAddr;

/// What the rules read of a request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub ip: Option<IpAddr>,
    pub agent: String,
}

/// What the page answering a tracked request shows: the landing page of a credential
/// lure, or the teachable moment, in the recipient's language.
#[derive(Debug, Clone)]
pub struct Shown {
    pub token: String,
    pub kind: DrillKind,
    pub lang: String,
    pub landing: String,
    pub lesson: String,
    pub from_name: String,
}

/// Records a request or a signal for `token`. `None` when the token is not one of ours:
/// the caller shows a neutral page and nothing was written.
pub async fn record(app: &App, token: &str, kind: EventKind, req: &Request, detail: &str) -> Result<Option<Shown>> {
    if !is_token(token) {
        return Ok(None);
    }
    let db = app.store.conn();
    let Some(r) = recipient::Entity::find().filter(recipient::Column::Token.eq(token)).one(db).await? else { return Ok(None) };
    let Some(c) = campaign::Entity::find_by_id(r.campaign_id.clone()).one(db).await? else { return Ok(None) };
    let t = crate::templates::load(db, &c.template_id).await?;
    let now = now_ms();
    let txn = app.store.write().await?;
    event::ActiveModel {
        id: Set(crate::new_id()),
        recipient_id: Set(r.id.clone()),
        campaign_id: Set(r.campaign_id.clone()),
        kind: Set(kind.code().into()),
        at_ms: Set(now),
        method: Set(req.method.chars().take(16).collect()),
        ip: Set(req.ip.map(|i| i.to_string()).unwrap_or_default()),
        agent: Set(req.agent.chars().take(500).collect()),
        verdict: Set("pending".into()),
        reason: Set(None),
        detail: Set(detail.chars().take(500).collect()),
    }
    .insert(&txn)
    .await?;
    rejudge(app, &txn, &r.id, now).await?;
    txn.commit().await?;
    Ok(Some(shown(&r, &t)))
}

fn shown(r: &recipient::Model, t: &Template) -> Shown {
    let text = t.text(&r.lang);
    Shown {
        token: r.token.clone(),
        kind: t.kind,
        lang: text.map(|x| x.lang.clone()).unwrap_or_else(|| r.lang.clone()),
        landing: text.map(|x| x.landing.clone()).unwrap_or_default(),
        lesson: text.map(|x| x.lesson.clone()).unwrap_or_default(),
        from_name: t.from_name.clone(),
    }
}

/// The verdict as stored.
fn stored(kind: EventKind, v: Verdict) -> (&'static str, Option<&'static str>) {
    match (kind, v) {
        (EventKind::Opened, Verdict::Machine(r)) => ("unreliable", Some(r.code())),
        (EventKind::Opened, _) => ("unreliable", None),
        (_, Verdict::Human) => ("human", None),
        (_, Verdict::Pending) => ("pending", None),
        (_, Verdict::Machine(r)) => ("machine", Some(r.code())),
    }
}

/// Judges a recipient's requests again (a beacon turns the click before it into a
/// person's; time turns a waiting click into a machine's) and keeps the first human time
/// of each signal on the recipient.
pub(crate) async fn rejudge(app: &App, db: &impl ConnectionTrait, recipient_id: &str, now: i64) -> Result<()> {
    // Take the recipient's row first: two signals judged at once (a beacon and a submit)
    // then read each other's events in turn instead of each writing a verdict that misses
    // the other's. A no-op write locks the row on PostgreSQL; SQLite writes one at a time.
    recipient::Entity::update_many()
        .col_expr(recipient::Column::MachineHits, Expr::col(recipient::Column::MachineHits))
        .filter(recipient::Column::Id.eq(recipient_id.to_owned()))
        .exec(db)
        .await?;
    let Some(r) = recipient::Entity::find_by_id(recipient_id.to_owned()).one(db).await? else { return Ok(()) };
    let events = event::Entity::find().filter(event::Column::RecipientId.eq(recipient_id.to_owned())).order_by_asc(event::Column::AtMs).all(db).await?;
    let tracked: Vec<(usize, Hit)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let kind = EventKind::parse(&e.kind).ok()?;
            if matches!(kind, EventKind::Sent | EventKind::Bounced | EventKind::Reported | EventKind::Replied) {
                return None;
            }
            Some((i, Hit { at_ms: e.at_ms, kind, method: e.method.clone(), ip: e.ip.parse().ok(), agent: e.agent.clone() }))
        })
        .collect();
    let hits: Vec<Hit> = tracked.iter().map(|(_, h)| h.clone()).collect();
    let verdicts = crate::scanners::judge(db).await?.judge(&hits, r.sent_ms, r.reported_ms, now);
    let first = |k: EventKind| -> Option<i64> { hits.iter().zip(&verdicts).filter(|(h, v)| h.kind == k && **v == Verdict::Human).map(|(h, _)| h.at_ms).min() };
    let clicked = first(EventKind::Clicked);
    let submitted = first(EventKind::Submitted);
    let attachment = first(EventKind::AttachmentOpened);
    let opened = hits.iter().zip(&verdicts).filter(|(h, v)| h.kind == EventKind::Opened && **v == Verdict::Human).map(|(h, _)| h.at_ms).min();
    let mut machine = 0i32;
    for ((i, h), v) in tracked.iter().zip(&verdicts) {
        let (verdict, reason) = stored(h.kind, *v);
        if matches!(v, Verdict::Machine(_)) {
            machine += 1;
        }
        let e = &events[*i];
        if e.verdict != verdict || e.reason.as_deref() != reason {
            event::Entity::update_many()
                .col_expr(event::Column::Verdict, Expr::value(verdict))
                .col_expr(event::Column::Reason, Expr::value(reason.map(str::to_owned)))
                .filter(event::Column::Id.eq(e.id.clone()))
                .exec(db)
                .await?;
        }
    }
    recipient::Entity::update_many()
        .col_expr(recipient::Column::ClickedMs, Expr::value(clicked))
        .col_expr(recipient::Column::SubmittedMs, Expr::value(submitted))
        .col_expr(recipient::Column::AttachmentMs, Expr::value(attachment))
        .col_expr(recipient::Column::OpenedMs, Expr::value(opened))
        .col_expr(recipient::Column::MachineHits, Expr::value(machine))
        .filter(recipient::Column::Id.eq(recipient_id.to_owned()))
        .exec(db)
        .await?;
    crate::remedial::enrol(app, db, recipient_id).await?;
    Ok(())
}

/// Settles clicks whose wait for a second human signal is over: each becomes a
/// machine's (`no-follow-up`). Returns how many recipients were judged again.
pub async fn settle(app: &App) -> Result<u64> {
    let now = now_ms();
    let db = app.store.conn();
    let waiting: Vec<String> = event::Entity::find()
        .filter(event::Column::Verdict.eq("pending"))
        .filter(event::Column::AtMs.lt(now - FOLLOW_UP_MS))
        .select_only()
        .column(event::Column::RecipientId)
        .distinct()
        .limit(1000)
        .into_tuple()
        .all(db)
        .await?;
    for id in &waiting {
        let txn = app.store.write().await?;
        rejudge(app, &txn, id, now).await?;
        txn.commit().await?;
    }
    Ok(u64::try_from(waiting.len()).unwrap_or(0))
}
