//! Notifications: queued inside the transaction of the change that causes them, shown in
//! the recipient's inbox, and delivered by e-mail from the same row (an outbox), so a
//! crash between the change and the e-mail loses nothing. Delivery is at least once: a
//! claim is a lease, and a sender that dies mid-way leaves the row to be sent again.

use crate::{App, AppError, Principal, Result};
use isms_store::accounts::user;
use isms_store::notices::notification;
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::sea_orm::sea_query::{Expr, OnConflict};
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use std::time::Duration;

/// Something to tell someone: the message kind (its catalog entry), its arguments, the
/// page it is about, and a key that keeps a reminder from being sent twice.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: &'static str,
    pub args: serde_json::Value,
    pub link: String,
    pub dedup: Option<String>,
    /// The task this notice asks for, marked done by [`done`] when it is.
    pub task: Option<String>,
}

impl Notice {
    pub fn new(kind: &'static str, args: serde_json::Value, link: impl Into<String>) -> Self {
        Self { kind, args, link: link.into(), dedup: None, task: None }
    }

    pub fn once(mut self, key: impl Into<String>) -> Self {
        self.dedup = Some(key.into());
        self
    }

    /// The notice asks its recipient to do `key` (`policy-approval:<version id>`).
    pub fn task(mut self, key: impl Into<String>) -> Self {
        self.task = Some(key.into());
        self
    }
}

/// An argument shown as the catalog's words for `key` in the reader's language (a
/// state, a severity, a clock's name) rather than as its code.
pub fn word(key: impl Into<String>) -> serde_json::Value {
    serde_json::json!({ "word": key.into() })
}

/// An argument shown as the catalog's message `key` with these arguments (an alert's
/// title in the words of its kind).
pub fn phrase(key: impl Into<String>, args: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "word": key.into(), "args": args })
}

/// An argument shown as a moment in Japan's time zone, `YYYY-MM-DD HH:MM`.
pub fn moment(ms: i64) -> serde_json::Value {
    serde_json::json!({ "ms": ms })
}

/// The arguments as a receiver of JSON events reads them: a word as its catalog key, a
/// moment as milliseconds.
fn plain(args: &serde_json::Value) -> serde_json::Value {
    match args {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    // A phrase keeps its key and arguments; a word is its key, a moment its number.
                    serde_json::Value::Object(o) if o.contains_key("args") => v.clone(),
                    serde_json::Value::Object(o) => o.get("word").or_else(|| o.get("ms")).cloned().unwrap_or_else(|| v.clone()),
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        other => other.clone(),
    }
}

/// Marks every notification that asks for `task`, or for a part of it (`task:…`), done
/// and read, inside the caller's transaction: the task was done, whoever did it. So
/// `policy-approval:<version>:<user>` ends one approver's request and
/// `policy-approval:<version>` every approver's. Returns how many were still open.
pub async fn done(db: &impl ConnectionTrait, task: &str) -> Result<u64> {
    let now = now_ms();
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::DoneMs, Expr::val(now))
        .col_expr(notification::Column::ReadMs, Expr::cust_with_values("COALESCE(read_ms, $1)", [now]))
        .filter(Condition::any().add(notification::Column::TaskKey.eq(task)).add(notification::Column::TaskKey.starts_with(format!("{task}:"))))
        .filter(notification::Column::DoneMs.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

fn row(app: &App, user_id: Option<String>, person_id: Option<String>, email: Option<String>, n: &Notice) -> notification::ActiveModel {
    let email = email.map(|e| e.trim().to_owned()).filter(|e| e.contains('@'));
    let mail = app.config().mail_enabled && email.is_some();
    notification::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(user_id),
        person_id: Set(person_id),
        kind: Set(n.kind.to_owned()),
        args: Set(n.args.to_string()),
        link: Set(n.link.clone()),
        dedup_key: Set(n.dedup.clone()),
        created_ms: Set(now_ms()),
        read_ms: Set(None),
        mail_status: Set(if mail { "pending" } else { "none" }.into()),
        mail_to: Set(if mail { email } else { None }),
        mail_attempts: Set(0),
        next_attempt_ms: Set(None),
        mail_error: Set(String::new()),
        task_key: Set(n.task.clone()),
        done_ms: Set(None),
    }
}

/// Inserts, skipping a row whose dedup key exists already. Returns whether it was new.
async fn insert(db: &impl ConnectionTrait, am: notification::ActiveModel) -> Result<bool> {
    let res = notification::Entity::insert(am)
        .on_conflict(OnConflict::column(notification::Column::DedupKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(res > 0)
}

/// Tells a person: in their inbox if they have an account, and by e-mail to their address.
pub async fn to_person(app: &App, db: &impl ConnectionTrait, person_id: &str, n: &Notice) -> Result<bool> {
    let Some(p) = person::Entity::find_by_id(person_id.to_owned()).one(db).await? else { return Ok(false) };
    if p.status != "active" {
        return Ok(false);
    }
    let account = user::Entity::find().filter(user::Column::PersonId.eq(person_id)).filter(user::Column::Disabled.eq(false)).one(db).await?;
    insert(db, row(app, account.map(|u| u.id), Some(p.id), Some(p.email), n)).await
}

/// Tells the holder of an account (and their person's address, if linked).
pub async fn to_user(app: &App, db: &impl ConnectionTrait, user_id: &str, n: &Notice) -> Result<bool> {
    let Some(u) = user::Entity::find_by_id(user_id.to_owned()).one(db).await? else { return Ok(false) };
    if u.disabled {
        return Ok(false);
    }
    let p = match &u.person_id {
        Some(pid) => person::Entity::find_by_id(pid.clone()).one(db).await?,
        None => None,
    };
    insert(db, row(app, Some(u.id), p.as_ref().map(|p| p.id.clone()), p.map(|p| p.email), n)).await
}

/// One notification as its recipient sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    pub link: String,
    pub created_ms: i64,
    pub read: bool,
    /// The task it asked for is done.
    pub done: bool,
    /// none, pending, sending, sent or failed
    pub mail_status: String,
}

impl From<notification::Model> for Notification {
    fn from(m: notification::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            args: serde_json::from_str(&m.args).unwrap_or(serde_json::Value::Null),
            link: m.link,
            created_ms: m.created_ms,
            read: m.read_ms.is_some(),
            done: m.done_ms.is_some(),
            mail_status: m.mail_status,
        }
    }
}

fn mine(who: &Principal) -> Result<String> {
    who.user_id.clone().ok_or(AppError::Forbidden)
}

/// The caller's notifications, newest first.
pub async fn inbox(app: &App, who: &Principal, unread_only: bool, limit: u64) -> Result<Vec<Notification>> {
    let uid = mine(who)?;
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(uid));
    if unread_only {
        q = q.filter(notification::Column::ReadMs.is_null());
    }
    Ok(q.order_by_desc(notification::Column::CreatedMs).limit(limit.clamp(1, 500)).all(app.store.conn()).await?.into_iter().map(Into::into).collect())
}

/// The header's count, on every page: cached until this instance writes anything (or for
/// a few seconds, for writes made by another instance).
pub async fn unread_count(app: &App, who: &Principal) -> Result<u64> {
    let Some(uid) = &who.user_id else { return Ok(0) };
    let key = format!("unread|{uid}");
    let generation = app.store.generation();
    if let Some(n) = app.caches().count(&key, generation) {
        return Ok(n);
    }
    let n = notification::Entity::find()
        .filter(notification::Column::UserId.eq(uid.clone()))
        .filter(notification::Column::ReadMs.is_null())
        .count(app.store.conn())
        .await?;
    app.caches().put_count(key, generation, n);
    Ok(n)
}

/// Marks one notification (or, with `None`, all of them) read. Only the recipient may.
pub async fn mark_read(app: &App, who: &Principal, id: Option<&str>) -> Result<u64> {
    let uid = mine(who)?;
    let txn = app.store.write().await?;
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadMs, Expr::val(now_ms()))
        .filter(notification::Column::UserId.eq(uid))
        .filter(notification::Column::ReadMs.is_null());
    if let Some(id) = id {
        q = q.filter(notification::Column::Id.eq(id));
    }
    let n = q.exec(&txn).await?.rows_affected;
    txn.commit().await?;
    Ok(n)
}

/// How the instance reaches its SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain SMTP upgraded with STARTTLS (refused if the server does not offer it).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: String,
    pub password: String,
    /// The sender, e.g. `isms <isms@example.com>`.
    pub from: String,
    pub timeout: Duration,
}

/// Sends e-mail over SMTP.
pub struct Mailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Mailer {
    pub fn new(s: &MailSettings) -> std::result::Result<Self, String> {
        use lettre::AsyncSmtpTransport as T;
        use lettre::transport::smtp::authentication::Credentials;
        let from = s.from.parse().map_err(|e| format!("`mail.from`: {e}"))?;
        let mut b = match s.security {
            MailSecurity::Tls => T::<lettre::Tokio1Executor>::relay(&s.host).map_err(|e| format!("`mail.host`: {e}"))?,
            MailSecurity::Starttls => T::<lettre::Tokio1Executor>::starttls_relay(&s.host).map_err(|e| format!("`mail.host`: {e}"))?,
            MailSecurity::None => T::<lettre::Tokio1Executor>::builder_dangerous(&s.host),
        };
        b = b.port(s.port).timeout(Some(s.timeout));
        if !s.username.is_empty() {
            b = b.credentials(Credentials::new(s.username.clone(), s.password.clone()));
        }
        Ok(Self { transport: b.build(), from })
    }

    async fn send(&self, to: &str, subject: &str, body: &str) -> std::result::Result<(), (bool, String)> {
        use lettre::AsyncTransport;
        let to: lettre::message::Mailbox = to.parse().map_err(|e| (true, format!("recipient: {e}")))?;
        let msg = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| (true, e.to_string()))?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            // A permanent refusal (5xx) will not change by trying again.
            Err(e) => Err((e.is_permanent(), e.to_string())),
        }
    }
}

/// Turns a notification into a mail subject and body in the recipient's language.
pub trait Render: Send + Sync {
    fn mail(&self, lang: &str, kind: &str, args: &serde_json::Value, link: &str) -> (String, String);
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// How long a claimed row belongs to one sender before another may take it over.
const LEASE_MS: i64 = 5 * 60 * 1000;
const MAX_ATTEMPTS: i32 = 8;

/// What an outbox row becomes after an attempt: sent; failed for good (a permanent refusal,
/// or the last attempt); or pending again after 1, 2, 4 … minutes, at most six hours.
fn settle(result: std::result::Result<(), (bool, String)>, attempts: i32, out: &mut Delivery, id: &str) -> (&'static str, Option<i64>, String) {
    match result {
        Ok(()) => {
            out.sent += 1;
            ("sent", None, String::new())
        }
        Err((permanent, e)) if permanent || attempts >= MAX_ATTEMPTS => {
            tracing::warn!(row = %id, error = %e, "delivery given up");
            out.failed += 1;
            ("failed", None, e.chars().take(1000).collect())
        }
        Err((_, e)) => {
            tracing::info!(row = %id, error = %e, attempts, "delivery will be retried");
            out.retrying += 1;
            ("pending", Some(now_ms() + (60_000i64 << (attempts - 1).min(9)).min(6 * 3_600_000)), e.chars().take(1000).collect())
        }
    }
}

/// Sends up to `limit` due e-mails. Safe to run on several instances at once.
pub async fn deliver_due(app: &App, mailer: &Mailer, render: &dyn Render, limit: u64) -> Result<Delivery> {
    let db = app.store.conn();
    let now = now_ms();
    let due = Condition::any()
        .add(
            Condition::all()
                .add(notification::Column::MailStatus.eq("pending"))
                .add(Condition::any().add(notification::Column::NextAttemptMs.is_null()).add(notification::Column::NextAttemptMs.lte(now))),
        )
        // A sender that died mid-way: its lease has run out.
        .add(Condition::all().add(notification::Column::MailStatus.eq("sending")).add(notification::Column::NextAttemptMs.lte(now)));
    let rows = notification::Entity::find().filter(due).order_by_asc(notification::Column::CreatedMs).limit(limit).all(db).await?;
    let mut out = Delivery::default();
    for n in rows {
        // Claim: only one sender wins the row in this state.
        let claimed = notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::val("sending"))
            .col_expr(notification::Column::NextAttemptMs, Expr::val(now_ms() + LEASE_MS))
            .filter(notification::Column::Id.eq(n.id.clone()))
            .filter(notification::Column::MailStatus.eq(n.mail_status.clone()))
            .filter(notification::Column::MailAttempts.eq(n.mail_attempts))
            .exec(db)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        let lang = match &n.user_id {
            Some(u) => user::Entity::find_by_id(u.clone()).one(db).await?.and_then(|u| u.locale),
            None => None,
        }
        .unwrap_or_else(|| "ja".into());
        let args: serde_json::Value = serde_json::from_str(&n.args).unwrap_or(serde_json::Value::Null);
        let (subject, body) = render.mail(&lang, &n.kind, &args, &n.link);
        let to = n.mail_to.clone().unwrap_or_default();
        let attempts = n.mail_attempts + 1;
        let (status, next, error) = settle(mailer.send(&to, &subject, &body).await, attempts, &mut out, &n.id);
        notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::val(status))
            .col_expr(notification::Column::NextAttemptMs, Expr::val(next))
            .col_expr(notification::Column::MailAttempts, Expr::val(attempts))
            .col_expr(notification::Column::MailError, Expr::val(error))
            .filter(notification::Column::Id.eq(n.id))
            .exec(db)
            .await?;
    }
    Ok(out)
}

/// A configured receiver of events (a chat tool's incoming webhook, an on-call system):
/// its name and the notice kinds it wants. Its address stays with the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookConfig {
    pub name: String,
    pub events: Vec<String>,
}

/// Queues an event for every hook that wants `n.kind`, in the caller's transaction.
pub async fn event(app: &App, db: &impl ConnectionTrait, n: &Notice) -> Result<usize> {
    use isms_store::notices::webhook;
    let mut queued = 0;
    for h in app.config().webhooks.iter().filter(|h| h.events.iter().any(|e| e == n.kind || e == "*")) {
        let am = webhook::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            hook: Set(h.name.clone()),
            kind: Set(n.kind.to_owned()),
            args: Set(n.args.to_string()),
            link: Set(n.link.clone()),
            dedup_key: Set(n.dedup.as_ref().map(|d| format!("{}:{d}", h.name))),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_ms: Set(None),
            error: Set(String::new()),
            created_ms: Set(now_ms()),
        };
        let res =
            webhook::Entity::insert(am).on_conflict(OnConflict::column(webhook::Column::DedupKey).do_nothing().to_owned()).exec_without_returning(db).await?;
        queued += res as usize;
    }
    Ok(queued)
}

/// How a hook wants its body: `{"text": ...}` for chat tools (Slack, Mattermost, Teams
/// workflows), or the event as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HookFormat {
    #[default]
    Chat,
    Json,
}

#[derive(Debug, Clone)]
pub struct HookTarget {
    pub name: String,
    pub url: String,
    pub format: HookFormat,
    /// The language of the text.
    pub language: String,
}

/// Posts queued events to their hooks.
pub struct HookSender {
    client: reqwest::Client,
    targets: Vec<HookTarget>,
}

impl HookSender {
    pub fn new(targets: Vec<HookTarget>, timeout: Duration) -> std::result::Result<Self, String> {
        let client =
            reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).user_agent("isms").build().map_err(|e| e.to_string())?;
        Ok(Self { client, targets })
    }
}

/// Sends up to `limit` due events. A 2xx answer is delivered; 4xx other than 408/429 fails
/// at once; anything else is retried with growing pauses. Safe on several instances.
pub async fn deliver_hooks(app: &App, sender: &HookSender, render: &dyn Render, limit: u64) -> Result<Delivery> {
    use isms_store::notices::webhook;
    let db = app.store.conn();
    let now = now_ms();
    let due = Condition::any()
        .add(
            Condition::all()
                .add(webhook::Column::Status.eq("pending"))
                .add(Condition::any().add(webhook::Column::NextAttemptMs.is_null()).add(webhook::Column::NextAttemptMs.lte(now))),
        )
        .add(Condition::all().add(webhook::Column::Status.eq("sending")).add(webhook::Column::NextAttemptMs.lte(now)));
    let rows = webhook::Entity::find().filter(due).order_by_asc(webhook::Column::CreatedMs).limit(limit).all(db).await?;
    let mut out = Delivery::default();
    for w in rows {
        let claimed = webhook::Entity::update_many()
            .col_expr(webhook::Column::Status, Expr::val("sending"))
            .col_expr(webhook::Column::NextAttemptMs, Expr::val(now_ms() + LEASE_MS))
            .filter(webhook::Column::Id.eq(w.id.clone()))
            .filter(webhook::Column::Status.eq(w.status.clone()))
            .filter(webhook::Column::Attempts.eq(w.attempts))
            .exec(db)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        let attempts = w.attempts + 1;
        let result = match sender.targets.iter().find(|t| t.name == w.hook) {
            // The hook was removed from the configuration: nothing will ever take it.
            None => Err((true, format!("no hook named `{}` is configured", w.hook))),
            Some(t) => {
                let args: serde_json::Value = serde_json::from_str(&w.args).unwrap_or(serde_json::Value::Null);
                let (subject, body) = render.mail(&t.language, &w.kind, &args, &w.link);
                let text = subject.trim_start_matches("[isms] ").to_owned();
                let url_line = body.lines().find(|l| l.starts_with("http")).unwrap_or("").to_owned();
                let payload = match t.format {
                    HookFormat::Chat => serde_json::json!({"text": format!("{text}\n{url_line}")}),
                    HookFormat::Json => {
                        serde_json::json!({"id": w.id, "kind": w.kind, "args": plain(&args), "text": text, "url": url_line, "created_ms": w.created_ms})
                    }
                };
                match sender.client.post(&t.url).json(&payload).send().await {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => {
                        let s = r.status();
                        let permanent = s.is_client_error() && s != reqwest::StatusCode::REQUEST_TIMEOUT && s != reqwest::StatusCode::TOO_MANY_REQUESTS;
                        Err((permanent, format!("HTTP {s}")))
                    }
                    // The error may name the address, which can hold a token: keep only its kind.
                    Err(e) => Err((
                        false,
                        if e.is_timeout() {
                            "timed out".to_owned()
                        } else if e.is_connect() {
                            "could not connect".to_owned()
                        } else {
                            "request failed".to_owned()
                        },
                    )),
                }
            }
        };
        let (status, next, error) = settle(result, attempts, &mut out, &w.id);
        webhook::Entity::update_many()
            .col_expr(webhook::Column::Status, Expr::val(status))
            .col_expr(webhook::Column::NextAttemptMs, Expr::val(next))
            .col_expr(webhook::Column::Attempts, Expr::val(attempts))
            .col_expr(webhook::Column::Error, Expr::val(error))
            .filter(webhook::Column::Id.eq(w.id))
            .exec(db)
            .await?;
    }
    Ok(out)
}
