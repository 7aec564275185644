//! The event pipeline: a batch of events from one source is read and matched in memory
//! against the compiled rules, and what matched (alerts, their evidence), what could not
//! be read (dead letters) and the counters are written by one writer, several batches to
//! one transaction. A batch is answered only after its writes are committed, so a sender
//! that gets no answer sends again and nothing is lost.
//!
//! Memory is bounded: at most `max_inflight` batches are accepted at once; beyond that
//! `submit` answers `Busy` at once and the receiver tells the sender to come back later.

use super::rules::Compiled;
use super::sources::SourceCtx;
use isms_core::monitoring::{AlertState, DEFAULT_GROUP_WINDOW_MS, HOST_FIELDS, Severity, TIME_FIELDS, USER_FIELDS, group_key, joins, truncate_reason};
use isms_detect::Event;
use isms_kernel::{App, AppError, Result};
use isms_store::monitoring::{alert, alert_event, dead_letter, ingest_done};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use isms_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

/// Events kept as evidence per alert; later matches only count.
pub const EVIDENCE_CAP: i64 = 20;
/// Longest raw event kept (evidence and dead letters).
const MAX_RAW: usize = 64 * 1024;
/// Batches written in one transaction at most.
const WRITE_GROUP: usize = 64;

#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Batches accepted at once (read, matched or waiting for the writer).
    pub max_inflight: usize,
    pub group_window_ms: i64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self { max_inflight: 64, group_window_ms: DEFAULT_GROUP_WINDOW_MS }
    }
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// Events read and matched.
    pub accepted: u64,
    /// Events kept aside as dead letters.
    pub malformed: u64,
    /// Alerts raised or added to.
    pub alerts: u64,
    /// The batch had been committed before (delivered again): nothing was written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

#[derive(Debug)]
pub enum SubmitError {
    /// Too much in flight: come back later.
    Busy,
    Failed(AppError),
}

impl From<AppError> for SubmitError {
    fn from(e: AppError) -> Self {
        SubmitError::Failed(e)
    }
}

/// What matched: a detection rule, or a threat-intelligence indicator.
enum Subject {
    Rule(String),
    Indicator { id: String, value: String },
}

impl Subject {
    /// The part of the alert's group key that names what matched.
    fn key(&self) -> String {
        match self {
            Subject::Rule(id) => id.clone(),
            Subject::Indicator { id, .. } => format!("ioc:{id}"),
        }
    }
}

struct Hit {
    subject: Subject,
    title: String,
    severity: Severity,
    host: String,
    user: String,
    at_ms: i64,
    raw: String,
}

/// A batch after matching, ready to be written.
struct Evaluated {
    /// The transport's key of the batch (a stream sequence): a batch whose key is already
    /// recorded was evaluated before and is not written again.
    key: Option<String>,
    source: Arc<SourceCtx>,
    received_ms: i64,
    events: u64,
    malformed: Vec<(String, String)>,
    hits: Vec<Hit>,
    /// Every event, for a source that keeps them: time, host, user and text.
    kept: Vec<(i64, String, String, String)>,
}

struct Job {
    eval: Evaluated,
    reply: oneshot::Sender<std::result::Result<Outcome, String>>,
    _permit: OwnedSemaphorePermit,
}

/// The running pipeline: cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    app: App,
    permits: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Job>,
}

impl Pipeline {
    /// Starts the writer; it runs until every `Pipeline` handle is dropped.
    pub fn start(app: App, config: PipelineConfig) -> Pipeline {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(app.clone(), rx, config.group_window_ms));
        Pipeline { app, permits: Arc::new(Semaphore::new(config.max_inflight.max(1))), tx }
    }

    /// Reads, matches and writes one batch of events of `source` (see [`split_events`]
    /// for the accepted forms). Answers once the results are committed.
    pub async fn submit(&self, source: Arc<SourceCtx>, body: Vec<u8>) -> std::result::Result<Outcome, SubmitError> {
        self.run(source, Input::Body(body), None).await
    }

    /// Like [`submit`](Self::submit) for a batch a transport may deliver more than once
    /// (a JetStream message): `key` names it, and a batch whose key was committed before
    /// is answered without being written again (`Outcome::duplicate`).
    pub async fn submit_keyed(&self, source: Arc<SourceCtx>, body: Vec<u8>, key: String) -> std::result::Result<Outcome, SubmitError> {
        self.run(source, Input::Body(body), Some(key)).await
    }

    /// Like [`submit`](Self::submit) for receivers that frame events themselves (syslog):
    /// one JSON object per entry, and what they had to refuse with the reason.
    pub async fn submit_events(
        &self,
        source: Arc<SourceCtx>,
        events: Vec<Vec<u8>>,
        refused: Vec<(String, String)>,
        key: Option<String>,
    ) -> std::result::Result<Outcome, SubmitError> {
        self.run(source, Input::Events(events, refused), key).await
    }

    async fn run(&self, source: Arc<SourceCtx>, input: Input, key: Option<String>) -> std::result::Result<Outcome, SubmitError> {
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| SubmitError::Busy)?;
        let compiled = super::rules::compiled(&self.app).await?;
        let intel = super::intel::compiled(&self.app).await?;
        let suppressed = super::alerts::suppressed(&self.app).await?;
        let received_ms = now_ms();
        let mut eval = tokio::task::spawn_blocking(move || {
            let mut eval = evaluate(&compiled, &intel, source, input, received_ms);
            // Suppressed alert groups: the events were counted, the matches raise nothing.
            if !suppressed.until.is_empty() {
                let company = eval.source.company_id.clone();
                eval.hits.retain(|h| !suppressed.holds(&group_key(company.as_deref(), &h.subject.key(), &h.host), received_ms));
            }
            eval
        })
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
        eval.key = key;
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { eval, reply, _permit: permit }).map_err(|_| AppError::internal("the pipeline writer stopped"))?;
        match answer.await {
            Ok(Ok(o)) => Ok(o),
            Ok(Err(e)) => Err(SubmitError::Failed(AppError::internal(e))),
            Err(_) => Err(SubmitError::Failed(AppError::internal("the pipeline writer stopped"))),
        }
    }
}

/// Splits a request body into events: a JSON array of objects, one object, or one
/// object per line (NDJSON). Returns the events with their 1-based numbers, and the
/// pieces that are not JSON at all with the reason.
#[allow(clippy::type_complexity)]
pub fn split_events(body: &[u8]) -> (Vec<(usize, &[u8])>, Vec<(usize, &[u8], String)>) {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return (vec![], vec![]);
    }
    if trimmed[0] == b'[' {
        return match serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(trimmed) {
            Ok(items) => (items.into_iter().enumerate().map(|(i, r)| (i + 1, r.get().as_bytes())).collect(), vec![]),
            Err(e) => (vec![], vec![(1, trimmed, format!("not a JSON array of events: {e}"))]),
        };
    }
    // One object per line is the common case; anything else (a pretty-printed object)
    // is read as a stream of JSON values.
    let lines: Vec<&[u8]> = trimmed.split(|&b| b == b'\n').map(|l| l.trim_ascii()).collect();
    let per_line = lines
        .iter()
        .all(|l| l.is_empty() || (l.first() == Some(&b'{') && l.last() == Some(&b'}')) || !l.starts_with(b"{") && !l.ends_with(b"}") && !l.starts_with(b"\""));
    if per_line || lines.len() == 1 {
        let mut good = vec![];
        let mut n = 0;
        for l in lines {
            if l.is_empty() {
                continue;
            }
            n += 1;
            good.push((n, l));
        }
        return (good, vec![]);
    }
    let mut good = vec![];
    let mut stream = serde_json::Deserializer::from_slice(trimmed).into_iter::<&serde_json::value::RawValue>();
    let mut n = 0;
    loop {
        match stream.next() {
            None => return (good, vec![]),
            Some(Ok(r)) => {
                n += 1;
                good.push((n, r.get().as_bytes()));
            }
            Some(Err(e)) => {
                let at = stream.byte_offset().min(trimmed.len());
                return (good, vec![(n + 1, &trimmed[at..], format!("not JSON: {e}"))]);
            }
        }
    }
}

fn raw_text(b: &[u8]) -> String {
    let cut = &b[..b.len().min(MAX_RAW)];
    String::from_utf8_lossy(cut).into_owned()
}

fn text_of(e: &Event, names: &[&str]) -> String {
    names.iter().find_map(|n| e.get(n).and_then(|v| v.as_text()).map(|t| t.into_owned()).filter(|t| !t.is_empty())).unwrap_or_default()
}

/// The event's own time when it carries a believable one (RFC 3339, a civil date-time
/// taken as UTC, or Unix seconds or milliseconds); otherwise when it was received.
fn event_time(e: &Event, received_ms: i64) -> i64 {
    let parsed = TIME_FIELDS.iter().find_map(|n| {
        let v = e.get(n)?;
        if let Some(x) = v.as_number() {
            return Some(if x > 1e11 { x as i64 } else { (x * 1000.0) as i64 });
        }
        let t = v.as_text()?;
        let t = t.trim();
        if let Ok(ts) = t.parse::<jiff::Timestamp>() {
            return Some(ts.as_millisecond());
        }
        let dt: jiff::civil::DateTime = t.replace(' ', "T").parse().ok()?;
        dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond())
    });
    match parsed {
        Some(t) if t <= received_ms + 86_400_000 && t >= received_ms - 366 * 86_400_000 => t,
        _ => received_ms,
    }
}

/// What a receiver hands over: a request body still to be split, or events already framed.
enum Input {
    Body(Vec<u8>),
    Events(Vec<Vec<u8>>, Vec<(String, String)>),
}

fn evaluate(c: &Compiled, intel: &super::intel::Compiled, source: Arc<SourceCtx>, input: Input, received_ms: i64) -> Evaluated {
    let mut found = vec![];
    let mut out = Evaluated { key: None, source: source.clone(), received_ms, events: 0, malformed: vec![], hits: vec![], kept: vec![] };
    let (events, size): (Vec<(usize, &[u8])>, usize) = match &input {
        Input::Body(body) => {
            let (events, bad) = split_events(body);
            for (_, piece, reason) in bad {
                out.malformed.push((reason, raw_text(piece)));
            }
            (events, body.len())
        }
        Input::Events(events, refused) => {
            out.malformed.extend(refused.iter().cloned());
            (events.iter().enumerate().map(|(i, e)| (i + 1, e.as_slice())).collect(), events.iter().map(Vec::len).sum())
        }
    };
    let arena = bumpalo::Bump::with_capacity(size / 2 + 64);
    let mut e = Event::with_capacity(64, 4096);
    for (n, raw) in events {
        if let Err(err) = e.read_json(raw, Some(&arena)) {
            out.malformed.push((truncate_reason(&format!("event {n}: not a JSON object: {err}")), raw_text(raw)));
            continue;
        }
        if source.map.has_prefixes() {
            let copies: Vec<(String, isms_detect::event::Value)> = e.fields().filter_map(|(name, v)| source.map.target(name).map(|t| (t, v.clone()))).collect();
            for (to, v) in copies {
                e.insert(std::borrow::Cow::Owned(to), v);
            }
        } else {
            for (from, to) in &source.map.0 {
                if let Some(v) = e.get(from).cloned() {
                    e.insert(std::borrow::Cow::Owned(to.clone()), v);
                }
            }
        }
        c.engine.prepare(&mut e);
        out.events += 1;
        let detections = c.engine.matches(&e);
        intel.set.match_event(&e, &mut found);
        let mut host = None;
        let mut user = None;
        let mut at = None;
        let mut raw_kept = None;
        if source.keep_raw {
            let h = host.get_or_insert_with(|| text_of(&e, HOST_FIELDS)).clone();
            let u = user.get_or_insert_with(|| text_of(&e, USER_FIELDS)).clone();
            let t = *at.get_or_insert_with(|| event_time(&e, received_ms));
            let r = raw_kept.get_or_insert_with(|| raw_text(raw)).clone();
            out.kept.push((t, h, u, r));
        }
        if detections.is_empty() && found.is_empty() {
            continue;
        }
        let field = |f: &str| e.get(f).and_then(|v| v.as_text()).map(|t| t.into_owned());
        for d in detections {
            let meta = &c.rules[d.rule];
            if meta.overrides.iter().any(|o| o.applies(source.company_id.as_deref(), &source.id, received_ms, &field)) {
                continue;
            }
            let host = host.get_or_insert_with(|| text_of(&e, HOST_FIELDS)).clone();
            let user = user.get_or_insert_with(|| text_of(&e, USER_FIELDS)).clone();
            let at_ms = *at.get_or_insert_with(|| event_time(&e, received_ms));
            let raw = raw_kept.get_or_insert_with(|| raw_text(raw)).clone();
            out.hits.push(Hit { subject: Subject::Rule(meta.id.clone()), title: meta.title.clone(), severity: meta.severity, host, user, at_ms, raw });
        }
        for &n in &found {
            let meta = &intel.meta[n as usize];
            let host = host.get_or_insert_with(|| text_of(&e, HOST_FIELDS)).clone();
            let user = user.get_or_insert_with(|| text_of(&e, USER_FIELDS)).clone();
            let at_ms = *at.get_or_insert_with(|| event_time(&e, received_ms));
            let raw = raw_kept.get_or_insert_with(|| raw_text(raw)).clone();
            let what = if meta.name.is_empty() { meta.feed.clone() } else { format!("{}, {}", meta.name, meta.feed) };
            out.hits.push(Hit {
                subject: Subject::Indicator { id: meta.id.clone(), value: meta.value.clone() },
                title: format!("Threat indicator {} {} ({what})", meta.kind.code(), meta.value),
                severity: meta.severity,
                host,
                user,
                at_ms,
                raw,
            });
        }
    }
    out
}

async fn writer(app: App, mut rx: mpsc::UnboundedReceiver<Job>, window_ms: i64) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < WRITE_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let evals: Vec<&Evaluated> = jobs.iter().map(|j| &j.eval).collect();
        match write(&app, &evals, window_ms).await {
            Ok(outcomes) => {
                for (j, o) in jobs.into_iter().zip(outcomes) {
                    let _ = j.reply.send(Ok(o));
                }
            }
            Err(e) => {
                tracing::error!("writing a batch of events failed: {e}");
                let msg = e.to_string();
                for j in jobs {
                    let _ = j.reply.send(Err(msg.clone()));
                }
            }
        }
    }
}

/// Writes the results of several batches in one transaction. Matches of one rule on one
/// host join the open alert of that group while it is within the window.
async fn write(app: &App, evals: &[&Evaluated], window_ms: i64) -> Result<Vec<Outcome>> {
    let now = now_ms();
    let roster = super::oncall::roster(app).await?;
    let txn = app.store.write_quiet().await?;
    let pg = txn.get_database_backend() == DbBackend::Postgres;
    // Batches delivered again after a crash: recorded keys are skipped, new ones recorded
    // in this same transaction.
    let keys: Vec<String> = evals.iter().filter_map(|e| e.key.clone()).collect();
    let seen: std::collections::HashSet<String> = if keys.is_empty() {
        Default::default()
    } else {
        ingest_done::Entity::find().filter(ingest_done::Column::Key.is_in(keys.clone())).all(&txn).await?.into_iter().map(|d| d.key).collect()
    };
    // The same batch twice in one group (delivered again while the first was queued)
    // counts once too.
    let mut taken = seen;
    let dup: Vec<bool> = evals.iter().map(|e| e.key.as_ref().is_some_and(|k| !taken.insert(k.clone()))).collect();
    let fresh: Vec<String> = evals.iter().zip(&dup).filter(|(_, d)| !**d).filter_map(|(e, _)| e.key.clone()).collect();
    if !fresh.is_empty() {
        let now = now_ms();
        ingest_done::Entity::insert_many(fresh.iter().map(|k| ingest_done::Model { key: k.clone(), done_ms: now }.into_active_model())).exec(&txn).await?;
    }
    let kept: Vec<&Evaluated> = evals.iter().zip(&dup).filter(|(_, d)| !**d).map(|(e, _)| *e).collect();
    let evals = &kept[..];
    write_raw(&txn, evals).await?;
    // Matches grouped by alert key, in the order they came.
    let mut order: Vec<String> = vec![];
    let mut groups: HashMap<String, Vec<(usize, &Hit)>> = HashMap::new();
    for (bi, ev) in evals.iter().enumerate() {
        for h in &ev.hits {
            let key = group_key(ev.source.company_id.as_deref(), &h.subject.key(), &h.host);
            groups.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                vec![]
            });
            if let Some(g) = groups.get_mut(&key) {
                g.push((bi, h));
            }
        }
    }
    let mut sightings: HashMap<String, Seen> = HashMap::new();
    let mut outcomes: Vec<Outcome> =
        evals.iter().map(|e| Outcome { accepted: e.events, malformed: e.malformed.len() as u64, alerts: 0, duplicate: false }).collect();
    for key in order {
        let hits = &groups[&key];
        if pg {
            // Instances writing the same group take turns.
            txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_advisory_xact_lock(hashtext($1))", [key.clone().into()])).await?;
        }
        let first_at = hits.iter().map(|(_, h)| h.at_ms).min().unwrap_or(now);
        let last_at = hits.iter().map(|(_, h)| h.at_ms).max().unwrap_or(now);
        let severity = hits.iter().map(|(_, h)| h.severity).max().unwrap_or(Severity::Medium);
        let open = alert::Entity::find()
            .filter(alert::Column::GroupKey.eq(key.clone()))
            .filter(alert::Column::State.is_in([AlertState::New.code(), AlertState::Acknowledged.code()]))
            .order_by_desc(alert::Column::LastMs)
            .one(&txn)
            .await?;
        let n = hits.len() as i64;
        let (alert_id, seq0) = match open {
            Some(a) if joins(a.last_ms, first_at, window_ms) => {
                let seq0 = a.count;
                let keep_severity = Severity::parse(&a.severity).unwrap_or(Severity::Medium);
                let id = a.id.clone();
                let mut m = a.into_active_model();
                m.count = isms_store::sea_orm::ActiveValue::Set(seq0 + n);
                m.last_ms = isms_store::sea_orm::ActiveValue::Set(std::cmp::max(last_at, *m.last_ms.as_ref()));
                m.severity = isms_store::sea_orm::ActiveValue::Set(keep_severity.max(severity).code().into());
                m.updated_ms = isms_store::sea_orm::ActiveValue::Set(now);
                m.update(&txn).await?;
                (id, seq0)
            }
            _ => {
                let (bi, h0) = hits[0];
                let src = &evals[bi].source;
                let (rule_id, kind) = match &h0.subject {
                    Subject::Rule(id) => (Some(id.clone()), "rule"),
                    Subject::Indicator { .. } => (None, "indicator"),
                };
                let new = super::alerts::NewAlert {
                    company_id: src.company_id.clone(),
                    source_id: Some(src.id.clone()),
                    rule_id,
                    kind,
                    title: h0.title.clone(),
                    severity,
                    host: h0.host.clone(),
                    user_name: h0.user.clone(),
                    group_key: key.clone(),
                    count: n,
                    first_ms: first_at,
                    last_ms: last_at,
                };
                let id = super::alerts::open_alert(app, &txn, &roster, new, now).await?;
                (id, 0)
            }
        };
        let evidence: Vec<alert_event::ActiveModel> = hits
            .iter()
            .enumerate()
            .filter(|(i, _)| seq0 + (*i as i64) < EVIDENCE_CAP)
            .map(|(i, (_, h))| {
                alert_event::Model {
                    alert_id: alert_id.clone(),
                    seq: (seq0 + i as i64) as i32,
                    at_ms: h.at_ms,
                    host: h.host.chars().take(255).collect(),
                    user_name: h.user.chars().take(255).collect(),
                    raw: h.raw.clone(),
                }
                .into_active_model()
            })
            .collect();
        if !evidence.is_empty() {
            alert_event::Entity::insert_many(evidence).exec(&txn).await?;
        }
        for (bi, h) in hits {
            if let Subject::Indicator { id, value } = &h.subject {
                let src = &evals[*bi].source;
                let s = sightings.entry(format!("{id}:{}", src.id)).or_insert_with(|| Seen {
                    indicator_id: id.clone(),
                    company_id: src.company_id.clone(),
                    source_id: src.id.clone(),
                    observed: value.clone(),
                    alert_id: alert_id.clone(),
                    count: 0,
                    first_ms: h.at_ms,
                    last_ms: h.at_ms,
                });
                s.count += 1;
                s.first_ms = std::cmp::min(s.first_ms, h.at_ms);
                s.last_ms = std::cmp::max(s.last_ms, h.at_ms);
                s.alert_id = alert_id.clone();
            }
        }
        let mut counted = vec![];
        for (bi, _) in hits {
            if !counted.contains(bi) {
                counted.push(*bi);
                outcomes[*bi].alerts += 1;
            }
        }
    }
    write_sightings(&txn, sightings, now, pg).await?;
    // Dead letters, then the counters of each source.
    let letters: Vec<dead_letter::ActiveModel> = evals
        .iter()
        .flat_map(|ev| {
            ev.malformed.iter().map(|(reason, raw)| {
                dead_letter::Model {
                    id: uuid::Uuid::now_v7().to_string(),
                    source_id: Some(ev.source.id.clone()),
                    company_id: ev.source.company_id.clone(),
                    received_ms: ev.received_ms,
                    reason: reason.clone(),
                    raw: raw.clone(),
                }
                .into_active_model()
            })
        })
        .collect();
    for chunk in letters.chunks(200) {
        dead_letter::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
    }
    let mut per_source: HashMap<&str, (i64, i64, i64, i64)> = HashMap::new();
    for (ev, o) in evals.iter().zip(&outcomes) {
        let s = per_source.entry(&ev.source.id).or_default();
        s.0 += o.accepted as i64;
        s.1 += o.malformed as i64;
        s.2 += o.alerts as i64;
        s.3 = std::cmp::max(s.3, ev.received_ms);
    }
    use isms_store::monitoring::{ingest_minute, source};
    for (id, (events, malformed, alerts, last)) in per_source {
        source::Entity::update_many()
            .col_expr(source::Column::EventsTotal, Expr::col(source::Column::EventsTotal).add(events))
            .col_expr(source::Column::MalformedTotal, Expr::col(source::Column::MalformedTotal).add(malformed))
            .col_expr(source::Column::LastEventMs, Expr::val(last))
            .col_expr(source::Column::SilentSinceMs, Expr::val(Option::<i64>::None))
            .filter(source::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        let minute = now / 60_000;
        let stmt = Query::insert()
            .into_table(ingest_minute::Entity)
            .columns([
                ingest_minute::Column::SourceId,
                ingest_minute::Column::Minute,
                ingest_minute::Column::Events,
                ingest_minute::Column::Malformed,
                ingest_minute::Column::Alerts,
            ])
            .values_panic([id.into(), minute.into(), events.into(), malformed.into(), alerts.into()])
            .on_conflict(
                OnConflict::columns([ingest_minute::Column::SourceId, ingest_minute::Column::Minute])
                    .value(ingest_minute::Column::Events, Expr::col((ingest_minute::Entity, ingest_minute::Column::Events)).add(Expr::cust("excluded.events")))
                    .value(
                        ingest_minute::Column::Malformed,
                        Expr::col((ingest_minute::Entity, ingest_minute::Column::Malformed)).add(Expr::cust("excluded.malformed")),
                    )
                    .value(ingest_minute::Column::Alerts, Expr::col((ingest_minute::Entity, ingest_minute::Column::Alerts)).add(Expr::cust("excluded.alerts")))
                    .to_owned(),
            )
            .to_owned();
        txn.execute(&stmt).await?;
    }
    txn.commit().await?;
    // Answers in the order the batches came, duplicates included.
    let mut fresh_outcomes = outcomes.into_iter();
    Ok(dup.iter().map(|d| if *d { Outcome { duplicate: true, ..Default::default() } } else { fresh_outcomes.next().unwrap_or_default() }).collect())
}

/// Indicator matches of one indicator in one source's events, to add to its sighting.
struct Seen {
    indicator_id: String,
    company_id: Option<String>,
    source_id: String,
    observed: String,
    alert_id: String,
    count: i64,
    first_ms: i64,
    last_ms: i64,
}

/// Adds matches to the sightings (one per indicator and source, counted up).
/// The raw events of sources that keep them, in the batch's transaction.
async fn write_raw(txn: &impl ConnectionTrait, evals: &[&Evaluated]) -> Result<()> {
    use isms_store::monitoring::raw_event;
    use isms_store::sea_orm::ActiveValue::Set;
    let mut rows: Vec<raw_event::ActiveModel> = evals
        .iter()
        .flat_map(|ev| {
            ev.kept.iter().map(|(at, host, user, body)| raw_event::ActiveModel {
                id: Set(uuid::Uuid::now_v7().to_string()),
                company_id: Set(ev.source.company_id.clone()),
                source_id: Set(ev.source.id.clone()),
                received_ms: Set(ev.received_ms),
                event_ms: Set(*at),
                host: Set(host.chars().take(255).collect()),
                user_name: Set(user.chars().take(255).collect()),
                bytes: Set(body.len() as i32),
                body: Set(body.clone()),
            })
        })
        .collect();
    // A few hundred rows per statement stays within every backend's bound parameters.
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(256));
        raw_event::Entity::insert_many(std::mem::replace(&mut rows, rest)).exec_without_returning(txn).await?;
    }
    Ok(())
}

async fn write_sightings(txn: &impl ConnectionTrait, seen: HashMap<String, Seen>, now: i64, pg: bool) -> Result<()> {
    use isms_store::monitoring::sighting::{Column as C, Entity};
    // Batches may arrive out of order: the last sighting is the latest event's time.
    let latest = if pg { "GREATEST(sightings.last_ms, excluded.last_ms)" } else { "max(sightings.last_ms, excluded.last_ms)" };
    if seen.is_empty() {
        return Ok(());
    }
    // An indicator removed since the set was built (a feed deleted, a revocation) has no
    // sighting; its alert stands.
    use isms_store::monitoring::indicator;
    let ids: Vec<String> = seen.values().map(|s| s.indicator_id.clone()).collect();
    let live: std::collections::HashSet<String> = indicator::Entity::find()
        .select_only()
        .column(indicator::Column::Id)
        .filter(indicator::Column::Id.is_in(ids))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    for (key, s) in seen.into_iter().filter(|(_, s)| live.contains(&s.indicator_id)) {
        let stmt = Query::insert()
            .into_table(Entity)
            .columns([C::Id, C::SightingKey, C::IndicatorId, C::CompanyId, C::SourceId, C::AlertId, C::Observed, C::Count, C::FirstMs, C::LastMs, C::CreatedMs])
            .values_panic([
                uuid::Uuid::now_v7().to_string().into(),
                key.into(),
                s.indicator_id.into(),
                s.company_id.into(),
                Some(s.source_id).into(),
                Some(s.alert_id).into(),
                s.observed.chars().take(2048).collect::<String>().into(),
                s.count.into(),
                s.first_ms.into(),
                s.last_ms.into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(C::SightingKey)
                    .value(C::Count, Expr::col((Entity, C::Count)).add(Expr::cust("excluded.count")))
                    .value(C::LastMs, Expr::cust(latest))
                    .value(C::AlertId, Expr::cust("excluded.alert_id"))
                    .to_owned(),
            )
            .to_owned();
        txn.execute(&stmt).await?;
    }
    Ok(())
}

/// Forgets batch keys older than `days` (the transport keeps nothing that old to deliver
/// again). Returns how many were removed.
pub async fn prune_keys(app: &App, days: i64) -> Result<u64> {
    let r = ingest_done::Entity::delete_many().filter(ingest_done::Column::DoneMs.lt(now_ms() - days * 86_400_000)).exec(app.store.conn()).await?;
    Ok(r.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_into_events() {
        let (g, b) = split_events(br#"{"a":1}"#);
        assert_eq!((g.len(), b.len()), (1, 0));
        let (g, b) = split_events(b"{\"a\":1}\n\n{\"b\":2}\nnot json\n");
        assert_eq!(g.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(b.is_empty(), "a bad line is an event that fails to read, so it is counted");
        let (g, b) = split_events(br#"[{"a":1},{"b":2}]"#);
        assert_eq!((g.len(), b.len()), (2, 0));
        let (g, b) = split_events(b"[{\"a\":1},");
        assert_eq!((g.len(), b.len()), (0, 1));
        let (g, b) = split_events(b"{\n  \"a\": 1,\n  \"b\": {\"c\": 2}\n}\n{\n \"d\": 3\n}");
        assert_eq!((g.len(), b.len()), (2, 0), "pretty-printed objects read as a stream");
        let (g, b) = split_events(b"{\n  \"a\": 1,\n  \"b\": ");
        assert_eq!((g.len(), b.len()), (0, 1));
        assert_eq!(split_events(b"  \n ").0.len(), 0);
    }
}
