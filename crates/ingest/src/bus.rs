//! Scale-out through NATS JetStream: receivers publish each batch to a stream (answering
//! the sender once JetStream has stored it), and any number of workers, on any machine
//! sharing the database, consume it through one durable pull consumer. A worker
//! acknowledges a message only after the batch's alerts are committed, and the batch's
//! stream sequence is committed with them: a worker killed mid-stream loses nothing (the
//! unacknowledged message is delivered again) and doubles nothing (the sequence is
//! recognised).

use async_nats::jetstream::{self, AckKind, consumer::AckPolicy, consumer::pull, stream::RetentionPolicy};
use futures_util::StreamExt;
use isms_app::monitoring::pipeline::{Pipeline, SubmitError};
use isms_app::monitoring::sources;
use isms_app::{App, AppError};
use std::sync::Arc;
use std::time::Duration;

/// The stream's default name; its subjects are `<name>.<source id>`.
pub const DEFAULT_STREAM: &str = "ISMS_EVENTS";
/// The durable consumer all workers share.
pub const CONSUMER: &str = "isms-workers";
/// Header naming what a message holds: `body` (a request body: JSON, array or NDJSON) or
/// `refused` (a JSON array of `[reason, raw]` a receiver could not read).
pub const KIND_HEADER: &str = "Isms-Kind";

pub struct Bus {
    js: jetstream::Context,
    stream: String,
    /// The largest message this connection may publish, headers and all (the server's
    /// `max_payload`, 1 MiB unless configured).
    max_payload: usize,
}

/// What publishing a batch stored: how many messages it took and the last one's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub sequence: u64,
    pub parts: usize,
}

/// Room left for the subject and headers in each message.
const HEADROOM: usize = 4096;

impl Bus {
    /// Connects and makes sure the stream exists (a work queue kept on disk: a message
    /// leaves it when a worker acknowledges it).
    pub async fn connect(url: &str, stream: &str) -> Result<Bus, String> {
        if stream.is_empty() || !stream.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(format!("`{stream}` is not a stream name (letters, digits, _ and -)"));
        }
        let client = async_nats::ConnectOptions::new()
            .name("isms")
            .connection_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| format!("NATS at {url}: {e}"))?;
        let max_payload = client.server_info().max_payload;
        let js = jetstream::new(client);
        js.get_or_create_stream(jetstream::stream::Config {
            name: stream.to_owned(),
            subjects: vec![format!("{stream}.>")],
            retention: RetentionPolicy::WorkQueue,
            storage: jetstream::stream::StorageType::File,
            max_age: Duration::from_secs(7 * 86_400),
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("JetStream stream {stream}: {e}"))?;
        Ok(Bus { js, stream: stream.to_owned(), max_payload })
    }

    /// Stores one batch of `source_id`'s events; returns once JetStream has all of it. A
    /// batch larger than a message may be is split between events into parts that each
    /// fit; each part is its own message (so its own key when evaluated) and carries a
    /// message id made from the batch's content, so a sender retrying after a part failed
    /// stores nothing twice within the stream's duplicate window.
    pub async fn publish(&self, source_id: &str, kind: &str, payload: Vec<u8>) -> Result<Published, String> {
        let limit = self.max_payload.saturating_sub(HEADROOM).max(1024);
        if payload.len() <= limit {
            let sequence = self.publish_one(source_id, kind, payload, None).await?;
            return Ok(Published { sequence, parts: 1 });
        }
        if kind != "body" {
            return Err(format!("a {kind} message of {} bytes is larger than the {limit} a message may be", payload.len()));
        }
        let parts = split_body(&payload, limit)?;
        let batch = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            source_id.hash(&mut h);
            payload.hash(&mut h);
            format!("{:016x}{:08x}", h.finish(), payload.len())
        };
        let n = parts.len();
        let mut sequence = 0;
        for (i, part) in parts.into_iter().enumerate() {
            sequence = self.publish_one(source_id, kind, part, Some(format!("{batch}-{i}-{n}"))).await?;
        }
        Ok(Published { sequence, parts: n })
    }

    async fn publish_one(&self, source_id: &str, kind: &str, payload: Vec<u8>, id: Option<String>) -> Result<u64, String> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(KIND_HEADER, kind);
        if let Some(id) = id {
            headers.insert("Nats-Msg-Id", id.as_str());
        }
        let ack = self
            .js
            .publish_with_headers(format!("{}.{source_id}", self.stream), headers, payload.into())
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
        Ok(ack.sequence)
    }

    /// Messages waiting in the stream (published, not yet acknowledged).
    pub async fn pending(&self) -> Result<u64, String> {
        let mut s = self.js.get_stream(&self.stream).await.map_err(|e| e.to_string())?;
        Ok(s.info().await.map_err(|e| e.to_string())?.state.messages)
    }
}

/// Cuts a body into parts of at most `limit` bytes between its events: one event per
/// line when no event spans lines, otherwise JSON arrays (every event is then a JSON
/// value already). What is not JSON goes last as a part of its own, to be kept as a dead
/// letter when evaluated. One event larger than a part is refused.
fn split_body(body: &[u8], limit: usize) -> Result<Vec<Vec<u8>>, String> {
    let (events, bad) = isms_app::monitoring::pipeline::split_events(body);
    let lines = events.iter().all(|(_, e)| !e.contains(&b'\n'));
    let (open, sep, close): (&[u8], &[u8], &[u8]) = if lines { (b"", b"\n", b"") } else { (b"[", b",", b"]") };
    let mut parts = vec![];
    let mut cur: Vec<u8> = open.to_vec();
    let mut in_cur = 0;
    for (n, e) in events {
        if e.len() + open.len() + close.len() > limit {
            return Err(format!("event {n} alone is {} bytes, more than the {limit} a message may be", e.len()));
        }
        if in_cur > 0 && cur.len() + sep.len() + e.len() + close.len() > limit {
            cur.extend_from_slice(close);
            parts.push(std::mem::replace(&mut cur, open.to_vec()));
            in_cur = 0;
        }
        if in_cur > 0 {
            cur.extend_from_slice(sep);
        }
        cur.extend_from_slice(e);
        in_cur += 1;
    }
    if in_cur > 0 {
        cur.extend_from_slice(close);
        parts.push(cur);
    }
    for (_, piece, _) in bad {
        for chunk in piece.chunks(limit) {
            parts.push(chunk.to_vec());
        }
    }
    Ok(parts)
}

/// Consumes the stream until the connection is lost for good: up to 64 messages at a
/// time, each evaluated by the pipeline and acknowledged after its commit.
/// `ack_wait`: how long a delivered message may go unacknowledged before JetStream gives
/// it to another worker (the time a crashed worker's batches wait).
pub async fn run_worker(app: App, pipeline: Pipeline, bus: Arc<Bus>, ack_wait: Duration) -> Result<(), String> {
    let stream = bus.js.get_stream(&bus.stream).await.map_err(|e| e.to_string())?;
    let consumer = stream
        .get_or_create_consumer(
            CONSUMER,
            pull::Config { durable_name: Some(CONSUMER.into()), ack_policy: AckPolicy::Explicit, ack_wait, max_ack_pending: 1024, ..Default::default() },
        )
        .await
        .map_err(|e| format!("JetStream consumer: {e}"))?;
    loop {
        let mut batch = match consumer.fetch().max_messages(64).expires(Duration::from_secs(1)).messages().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "fetching events from JetStream failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut running = tokio::task::JoinSet::new();
        while let Some(m) = batch.next().await {
            match m {
                Ok(m) => {
                    let (app, pipeline) = (app.clone(), pipeline.clone());
                    running.spawn(async move { handle(&app, &pipeline, m).await });
                }
                Err(e) => tracing::warn!(error = %e, "a JetStream message could not be read"),
            }
        }
        while running.join_next().await.is_some() {}
    }
}

async fn handle(app: &App, pipeline: &Pipeline, m: jetstream::Message) {
    let Ok(info) = m.info() else {
        tracing::warn!("a message without JetStream metadata was skipped");
        return;
    };
    let key = format!("{}:{}", info.stream, info.stream_sequence);
    let source_id = m.subject.rsplit('.').next().unwrap_or("").to_owned();
    let kind = m.headers.as_ref().and_then(|h| h.get(KIND_HEADER)).map(|v| v.as_str().to_owned()).unwrap_or_else(|| "body".into());
    let source = match sources::by_id(app, &source_id).await {
        Ok(s) => s,
        Err(AppError::NotFound) => {
            // The source was deleted: nothing can own these events.
            tracing::warn!(source = %source_id, "events of a source that no longer exists were dropped");
            let _ = m.ack_with(AckKind::Term).await;
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "looking up an event source failed; the batch comes again");
            let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            return;
        }
    };
    let r = if kind == "refused" {
        let refused: Vec<(String, String)> = serde_json::from_slice(&m.payload).unwrap_or_default();
        pipeline.submit_events(source, vec![], refused, Some(key)).await
    } else {
        pipeline.submit_keyed(source, m.payload.to_vec(), key).await
    };
    match r {
        Ok(_) => {
            if let Err(e) = m.double_ack().await {
                // Committed but not acknowledged: it comes again and is recognised.
                tracing::warn!(error = %e, "acknowledging a batch failed");
            }
        }
        Err(SubmitError::Busy) => {
            let _ = m.ack_with(AckKind::Nak(Some(Duration::from_millis(200)))).await;
        }
        Err(SubmitError::Failed(e)) => {
            tracing::warn!(error = %e, "a batch could not be written; it comes again");
            let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_body;

    #[test]
    fn a_large_body_splits_between_events_and_keeps_every_one() {
        let lines: Vec<String> = (0..1000).map(|i| format!(r#"{{"n": {i}, "pad": "{}"}}"#, "x".repeat(i % 50))).collect();
        let body = lines.join("\n");
        let parts = split_body(body.as_bytes(), 4096).unwrap();
        assert!(parts.len() > 5 && parts.iter().all(|p| p.len() <= 4096));
        let back: Vec<String> = parts.iter().flat_map(|p| std::str::from_utf8(p).unwrap().lines().map(str::to_owned).collect::<Vec<_>>()).collect();
        assert_eq!(back, lines);
        // A pretty-printed array becomes arrays.
        let pretty = serde_json::to_vec_pretty(&(0..500).map(|i| serde_json::json!({"n": i, "m": "y".repeat(30)})).collect::<Vec<_>>()).unwrap();
        let parts = split_body(&pretty, 2048).unwrap();
        let mut n = 0;
        for p in &parts {
            let v: Vec<serde_json::Value> = serde_json::from_slice(p).unwrap();
            for e in v {
                assert_eq!(e["n"], n);
                n += 1;
            }
        }
        assert_eq!(n, 500);
        assert!(split_body(format!("{{\"big\": \"{}\"}}", "z".repeat(5000)).as_bytes(), 4096).is_err());
    }
}
