//! Scale-out through NATS JetStream: receivers publish each batch to a stream (answering
//! the sender once JetStream has stored it), and any number of workers, on any machine
//! sharing the database, consume it through one durable pull consumer. A worker
//! acknowledges a message only after the batch's alerts are committed, and the batch's
//! stream sequence is committed with them: a worker killed mid-stream loses nothing (the
//! unacknowledged message is delivered again) and doubles nothing (the sequence is
//! recognised).

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, stream::RetentionPolicy, AckKind};
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
}

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
        Ok(Bus { js, stream: stream.to_owned() })
    }

    /// Stores one batch of `source_id`'s events; returns once JetStream has it.
    pub async fn publish(&self, source_id: &str, kind: &str, payload: Vec<u8>) -> Result<u64, String> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(KIND_HEADER, kind);
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

/// Consumes the stream until the connection is lost for good: up to 64 messages at a
/// time, each evaluated by the pipeline and acknowledged after its commit.
/// `ack_wait`: how long a delivered message may go unacknowledged before JetStream gives
/// it to another worker (the time a crashed worker's batches wait).
pub async fn run_worker(app: App, pipeline: Pipeline, bus: Arc<Bus>, ack_wait: Duration) -> Result<(), String> {
    let stream = bus.js.get_stream(&bus.stream).await.map_err(|e| e.to_string())?;
    let consumer = stream
        .get_or_create_consumer(
            CONSUMER,
            pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: AckPolicy::Explicit,
                ack_wait,
                max_ack_pending: 1024,
                ..Default::default()
            },
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
