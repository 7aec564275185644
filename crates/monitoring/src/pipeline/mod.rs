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
                // What matched; pages put it in words ("threat indicator …", `alert-title-indicator`).
                title: format!("{} {} ({what})", meta.kind.code(), meta.value),
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

mod write;

pub use write::prune_keys;
use write::writer;

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
