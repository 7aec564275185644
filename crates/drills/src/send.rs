//! The sender: each scheduled campaign is held by one instance at a time (a lease on the
//! campaign row); the recipient rows are its outbox. A row is marked `sending` in its own
//! commit before the relay is spoken to and `sent` in the next, so a process killed
//! between the two leaves the row to be sent again by whoever takes the campaign over,
//! with the same Message-ID (a mail client shows a repeat with one Message-ID once). A
//! temporary refusal (4xx, a lost connection) is retried after a growing pause; a
//! permanent one (5xx) marks the recipient bounced. No second ever holds more mails than
//! the campaign's cap: a send starts only a full second after the cap-th last one ended.
//! A pause or a cancel takes effect from the next mail.

use crate::templates::Template;
use isms_core::drills::{CampaignState, DrillKind, EventKind, HEADER, SendState, parse_template, reference, render, wait_ms};
use isms_kernel::{App, AppError, Result};
use isms_store::drills::{campaign, event, profile, recipient};
use isms_store::now_ms;
use isms_store::org::{company, department};
use isms_store::sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one run of the job sends: a little less than the job's period.
pub const RUN_BUDGET: Duration = Duration::from_secs(13);
/// How long a campaign belongs to the instance sending it without being renewed.
pub const LEASE_MS: i64 = 20_000;
const MAX_ATTEMPTS: i32 = 6;
const BATCH: u64 = 50;

/// This process's name as a lease holder.
fn me() -> &'static str {
    static ME: OnceLock<String> = OnceLock::new();
    ME.get_or_init(|| uuid::Uuid::now_v7().to_string())
}

/// Sends what is due in every scheduled campaign for at most `budget`; returns how many
/// mails went out.
pub async fn run(app: &App, budget: Duration) -> Result<u64> {
    run_as(app, budget, me()).await
}

/// [`run`] as the lease holder `owner` (tests play two instances).
pub async fn run_as(app: &App, budget: Duration, owner: &str) -> Result<u64> {
    let deadline = Instant::now() + budget;
    let db = app.store.conn();
    let ids: Vec<String> = campaign::Entity::find()
        .filter(campaign::Column::State.eq(CampaignState::Scheduled.code()))
        .order_by_asc(campaign::Column::LaunchedMs)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut sent = 0;
    for id in ids {
        if Instant::now() >= deadline {
            break;
        }
        if claim(app, &id, owner).await? {
            let r = send_campaign(app, &id, owner, deadline).await;
            release(app, &id, owner).await?;
            sent += r?;
        }
    }
    Ok(sent)
}

/// Takes the campaign's lease, or renews ours. Taking it over from a holder whose lease
/// ran out makes its rows in `sending` ours to send again: that holder is gone.
async fn claim(app: &App, id: &str, owner: &str) -> Result<bool> {
    let now = now_ms();
    let db = app.store.conn();
    let before = campaign::Entity::find_by_id(id.to_owned()).one(db).await?;
    let r = campaign::Entity::update_many()
        .col_expr(campaign::Column::LeaseOwner, Expr::value(owner))
        .col_expr(campaign::Column::LeaseUntilMs, Expr::value(now + LEASE_MS))
        .filter(campaign::Column::Id.eq(id.to_owned()))
        .filter(campaign::Column::State.eq(CampaignState::Scheduled.code()))
        .filter(Condition::any().add(campaign::Column::LeaseUntilMs.lt(now)).add(campaign::Column::LeaseOwner.eq(owner)))
        .exec(db)
        .await?;
    if r.rows_affected != 1 {
        return Ok(false);
    }
    if before.is_some_and(|b| b.lease_owner.as_deref() != Some(owner)) {
        recipient::Entity::update_many()
            .col_expr(recipient::Column::State, Expr::value(SendState::Planned.code()))
            .filter(recipient::Column::CampaignId.eq(id.to_owned()))
            .filter(recipient::Column::State.eq(SendState::Sending.code()))
            .exec(db)
            .await?;
    }
    Ok(true)
}

async fn release(app: &App, id: &str, owner: &str) -> Result<()> {
    campaign::Entity::update_many()
        .col_expr(campaign::Column::LeaseUntilMs, Expr::value(0i64))
        .filter(campaign::Column::Id.eq(id.to_owned()))
        .filter(campaign::Column::LeaseOwner.eq(owner))
        .exec(app.store.conn())
        .await?;
    Ok(())
}

/// What a mail says to one recipient, filled in.
struct Names {
    companies: HashMap<String, (String, Option<String>)>,
    departments: HashMap<String, String>,
}

impl Names {
    async fn load(app: &App) -> Result<Self> {
        let db = app.store.conn();
        let companies = company::Entity::find().all(db).await?.into_iter().map(|c| (c.id, (c.name, c.name_ja))).collect();
        let departments = department::Entity::find().all(db).await?.into_iter().map(|d| (d.id, d.name)).collect();
        Ok(Self { companies, departments })
    }
}

/// The recipient's tracked address: the landing page of a credential lure, the
/// teachable moment otherwise.
pub fn link(base: &str, token: &str) -> String {
    format!("{}/d/{token}", base.trim_end_matches('/'))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Builds one recipient's mail.
fn compose(
    t: &Template,
    c: &campaign::Model,
    envelope_from: &str,
    r: &recipient::Model,
    person_name: &str,
    employee_number: &str,
    names: &Names,
) -> Result<lettre::Message> {
    use lettre::message::header::{ContentType, HeaderName, HeaderValue};
    use lettre::message::{Attachment, Mailbox, MultiPart};
    let text = t.text(&r.lang).ok_or_else(|| AppError::internal("a template without text"))?;
    let url = link(&c.link_base, &r.token);
    let company = names
        .companies
        .get(&r.company_id)
        .map(|(en, ja)| if r.lang == "ja" { ja.clone().unwrap_or_else(|| en.clone()) } else { en.clone() })
        .unwrap_or_default();
    let department = r.department_id.as_ref().and_then(|d| names.departments.get(d)).cloned().unwrap_or_default();
    let today = isms_core::calendar::today().to_string();
    let value = |f: &str| -> String {
        match f {
            "name" => person_name.to_owned(),
            "email" => r.email.clone(),
            "company" => company.clone(),
            "department" => department.clone(),
            "employee_number" => employee_number.to_owned(),
            "link" => url.clone(),
            "sender_name" => t.from_name.clone(),
            "date" => today.clone(),
            "ref" => reference(&r.token),
            _ => String::new(),
        }
    };
    let bad = |e: isms_core::FieldError| AppError::internal(e.message);
    let subject = render(&parse_template("subject", &text.subject).map_err(bad)?, value, |v| v.replace(['\r', '\n'], " "));
    let plain = render(&parse_template("body", &text.body).map_err(bad)?, value, str::to_owned);
    // The HTML part: the same words, the link made clickable, and an image whose fetch is
    // an open (recorded as unreliable).
    let html_text = render(&parse_template("body", &text.body).map_err(bad)?, value, html_escape);
    let html_text = html_text.replace(&html_escape(&url), &format!("<a href=\"{0}\">{0}</a>", html_escape(&url)));
    let html = format!(
        "<!doctype html><html><body><div style=\"font-family:sans-serif\">{}</div><img src=\"{}/o.gif\" width=\"1\" height=\"1\" alt=\"\"></body></html>",
        html_text.replace('\n', "<br>\n"),
        html_escape(&url)
    );
    let from: Mailbox = format!("{} <{}>", t.from_name.replace(['"', '<', '>'], ""), t.from_address).parse().map_err(AppError::internal)?;
    let to: Mailbox = r.email.parse().map_err(AppError::internal)?;
    let envelope =
        lettre::address::Envelope::new(Some(envelope_from.parse().map_err(AppError::internal)?), vec![to.email.clone()]).map_err(AppError::internal)?;
    let mut b = lettre::Message::builder().from(from).to(to).subject(subject).message_id(Some(format!("<{}>", r.message_id))).envelope(envelope);
    if let Some(reply) = &t.reply_to {
        b = b.reply_to(reply.parse().map_err(AppError::internal)?);
    }
    let alternative = MultiPart::alternative_plain_html(plain, html);
    let mut msg = match (t.kind, &t.attachment_name) {
        (DrillKind::Virus, Some(name)) => {
            // The marker: a page that, opened, goes to the recipient's tracked address
            // (and so to the teachable moment). It carries no script and does nothing else.
            let marker = format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={0}/a\"></head><body><a href=\"{0}/a\">{0}/a</a></body></html>",
                html_escape(&url)
            );
            let part = Attachment::new(name.clone()).body(marker, ContentType::TEXT_HTML);
            b.multipart(MultiPart::mixed().multipart(alternative).singlepart(part)).map_err(AppError::internal)?
        }
        _ => b.multipart(alternative).map_err(AppError::internal)?,
    };
    msg.headers_mut().insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str(HEADER), r.token.clone()));
    Ok(msg)
}

/// What one attempt came to.
enum Outcome {
    Sent,
    Retry(String),
    Bounced(String),
}

async fn send_campaign(app: &App, id: &str, owner: &str, deadline: Instant) -> Result<u64> {
    use lettre::AsyncTransport;
    let db = app.store.conn();
    let Some(c) = campaign::Entity::find_by_id(id.to_owned()).one(db).await? else { return Ok(0) };
    let t = crate::templates::load(db, &c.template_id).await?;
    let p = profile::Entity::find_by_id(c.profile_id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    let transport = crate::profiles::transport(app, &p)?;
    let names = Names::load(app).await?;
    let cap = u32::try_from(c.cap).unwrap_or(1);
    // The last sends of this campaign, whoever made them: a run that starts where another
    // stopped (the next tick, another instance) keeps to the same cap.
    let mut last: Vec<i64> = recipient::Entity::find()
        .filter(recipient::Column::CampaignId.eq(id.to_owned()))
        .filter(recipient::Column::SentMs.is_not_null())
        .order_by_desc(recipient::Column::SentMs)
        .limit(u64::from(cap))
        .select_only()
        .column(recipient::Column::SentMs)
        .into_tuple::<Option<i64>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    last.reverse();
    let mut done: VecDeque<i64> = last.into();
    let mut sent = 0u64;
    loop {
        if Instant::now() >= deadline {
            break;
        }
        // Still ours and still to be sent (a pause or a cancel stops the loop here).
        if !claim(app, id, owner).await? {
            break;
        }
        let now = now_ms();
        let due = recipient::Entity::find()
            .filter(recipient::Column::CampaignId.eq(id.to_owned()))
            .filter(recipient::Column::State.eq(SendState::Planned.code()))
            .filter(recipient::Column::NextMs.lte(now))
            .order_by_asc(recipient::Column::NextMs)
            .limit(BATCH)
            .all(db)
            .await?;
        if due.is_empty() {
            finish_if_done(app, id).await?;
            break;
        }
        let people: HashMap<String, isms_store::org::person::Model> = isms_store::org::person::Entity::find()
            .filter(isms_store::org::person::Column::Id.is_in(due.iter().map(|r| r.person_id.clone())))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        for r in due {
            if Instant::now() >= deadline {
                break;
            }
            // Ours to send, and only while the campaign is still to be sent: a row another
            // sender took meanwhile is skipped, and a pause or cancel stops the very next mail.
            let still = Query::select()
                .column(campaign::Column::Id)
                .from(campaign::Entity)
                .and_where(campaign::Column::Id.eq(id.to_owned()))
                .and_where(campaign::Column::State.eq(CampaignState::Scheduled.code()))
                .and_where(campaign::Column::LeaseOwner.eq(owner))
                .to_owned();
            let took = recipient::Entity::update_many()
                .col_expr(recipient::Column::State, Expr::value(SendState::Sending.code()))
                .col_expr(recipient::Column::Attempts, Expr::col(recipient::Column::Attempts).add(1))
                .filter(recipient::Column::Id.eq(r.id.clone()))
                .filter(recipient::Column::State.eq(SendState::Planned.code()))
                .filter(recipient::Column::CampaignId.in_subquery(still))
                .exec(db)
                .await?;
            if took.rows_affected != 1 {
                continue;
            }
            let person = people.get(&r.person_id);
            let msg = compose(
                &t,
                &c,
                &p.envelope_from,
                &r,
                person.map(|p| p.name.as_str()).unwrap_or(""),
                person.map(|p| p.employee_number.as_str()).unwrap_or(""),
                &names,
            );
            let wait = wait_ms(&done, cap, now_ms());
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            }
            let outcome = match msg {
                Err(e) => Outcome::Bounced(e.to_string()),
                Ok(m) => match transport.send(m).await {
                    Ok(_) => Outcome::Sent,
                    Err(e) if e.is_permanent() => Outcome::Bounced(e.to_string()),
                    Err(e) => Outcome::Retry(e.to_string()),
                },
            };
            let end = now_ms();
            done.push_back(end);
            while done.len() > usize::try_from(cap).unwrap_or(1) {
                done.pop_front();
            }
            settle(app, &r, outcome, end).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

async fn settle(app: &App, r: &recipient::Model, outcome: Outcome, at: i64) -> Result<()> {
    let txn = app.store.write().await?;
    let attempts = r.attempts + 1;
    let (state, kind, error, next) = match outcome {
        Outcome::Sent => (SendState::Sent, Some(EventKind::Sent), String::new(), at),
        Outcome::Bounced(e) => (SendState::Bounced, Some(EventKind::Bounced), e, at),
        Outcome::Retry(e) if attempts >= MAX_ATTEMPTS => (SendState::Failed, Some(EventKind::Bounced), e, at),
        // 1, 2, 4 … minutes, at most an hour.
        Outcome::Retry(e) => (SendState::Planned, None, e, at + Ord::min(60_000i64 << (attempts - 1).clamp(0, 6), 3_600_000)),
    };
    recipient::Entity::update_many()
        .col_expr(recipient::Column::State, Expr::value(state.code()))
        .col_expr(recipient::Column::NextMs, Expr::value(next))
        .col_expr(recipient::Column::Error, Expr::value(error.chars().take(1000).collect::<String>()))
        .col_expr(recipient::Column::SentMs, Expr::value(if state == SendState::Sent { Some(at) } else { r.sent_ms }))
        .filter(recipient::Column::Id.eq(r.id.clone()))
        .exec(&txn)
        .await?;
    if let Some(k) = kind {
        event::ActiveModel {
            id: Set(crate::new_id()),
            recipient_id: Set(r.id.clone()),
            campaign_id: Set(r.campaign_id.clone()),
            kind: Set(k.code().into()),
            at_ms: Set(at),
            method: Set(String::new()),
            ip: Set(String::new()),
            agent: Set(String::new()),
            verdict: Set("human".into()),
            reason: Set(None),
            detail: Set(error.chars().take(500).collect()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A campaign with nothing left to send is done.
async fn finish_if_done(app: &App, id: &str) -> Result<()> {
    let db = app.store.conn();
    let left = recipient::Entity::find()
        .filter(recipient::Column::CampaignId.eq(id.to_owned()))
        .filter(recipient::Column::State.is_in([SendState::Planned.code(), SendState::Sending.code()]))
        .limit(1)
        .all(db)
        .await?;
    if left.is_empty() {
        campaign::Entity::update_many()
            .col_expr(campaign::Column::State, Expr::value(CampaignState::Done.code()))
            .col_expr(campaign::Column::UpdatedMs, Expr::value(now_ms()))
            .filter(campaign::Column::Id.eq(id.to_owned()))
            .filter(campaign::Column::State.eq(CampaignState::Scheduled.code()))
            .exec(db)
            .await?;
    }
    Ok(())
}
