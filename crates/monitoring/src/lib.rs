//! Threat monitoring around the clock: event sources and their tokens, the group's
//! detection rules compiled into one engine, the pipeline that evaluates batches of events
//! and writes what matched, and alert triage.
//!
//! The hot path stays out of per-event transactions: a batch is read and matched in
//! memory, and only alerts, their evidence, dead letters and counters are written, several
//! batches to one transaction.

pub mod alerts;
pub mod demo;
pub mod intel;
pub mod oncall;
pub mod pipeline;
pub mod raw;
pub mod rules;
pub mod sources;

use isms_core::Permission;
use isms_kernel::{App, AppError, Principal, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// What the monitoring use cases share in memory: the compiled rules, the indicator set
/// and the sources by token. All are rebuilt from the database when it changes.
pub(crate) struct Shared {
    pub(crate) rules: Versioned<rules::Compiled>,
    pub(crate) intel: Versioned<intel::Compiled>,
    pub(crate) suppressed: Versioned<alerts::Suppressed>,
    pub(crate) oncall: Versioned<oncall::Roster>,
    sources: Mutex<HashMap<String, (Arc<sources::SourceCtx>, i64)>>,
    /// Moves on with every change of a source, so cached tokens are looked up again.
    sources_changed: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            rules: Versioned::new("detection_rules_version"),
            intel: Versioned::new("indicators_version"),
            suppressed: Versioned::new("alert_suppressions_version"),
            oncall: Versioned::new("oncall_version"),
            sources: Default::default(),
            sources_changed: Default::default(),
        }
    }
}

/// How often a stored version is compared with the one built here.
const RECHECK_MS: u64 = 5_000;

/// Something built from the database (the rules' engine, the indicator set) and kept in
/// memory: rebuilt when it changed here or on another instance (a version in the
/// settings), or when it says it is due (an indicator's validity ends). While a rebuild
/// runs, callers keep the previous one, so events are never held up by it.
pub(crate) struct Versioned<T> {
    key: &'static str,
    /// Moves on with every local change.
    changed: AtomicU64,
    slot: RwLock<Option<Arc<Built<T>>>>,
    /// One rebuild at a time.
    building: tokio::sync::Mutex<()>,
    /// When the stored version was last compared.
    checked_ms: AtomicU64,
}

struct Built<T> {
    value: Arc<T>,
    version: String,
    local: u64,
    /// Rebuild after this time even if nothing changed.
    due_ms: Option<i64>,
}

impl<T: Send + Sync + 'static> Versioned<T> {
    fn new(key: &'static str) -> Self {
        Versioned { key, changed: AtomicU64::new(0), slot: RwLock::new(None), building: tokio::sync::Mutex::new(()), checked_ms: AtomicU64::new(0) }
    }

    /// Marks a local change; call after committing `bump` in the same transaction as the change.
    pub(crate) fn changed(&self) {
        self.changed.fetch_add(1, Ordering::SeqCst);
    }

    /// Records a change for the other instances, inside the transaction that makes it.
    pub(crate) async fn bump(&self, txn: &impl isms_store::sea_orm::ConnectionTrait) -> Result<()> {
        isms_store::settings::put(txn, self.key, &uuid::Uuid::now_v7().to_string()).await?;
        Ok(())
    }

    /// The current value; `build` makes a new one and says until when it holds.
    pub(crate) async fn get<F, Fut>(&self, app: &App, build: F) -> Result<Arc<T>>
    where
        F: FnOnce(App) -> Fut,
        Fut: std::future::Future<Output = Result<(T, Option<i64>)>>,
    {
        let local = self.changed.load(Ordering::SeqCst);
        let current = self.slot.read().ok().and_then(|c| c.clone());
        if let Some(c) = &current {
            let now = isms_store::now_ms();
            if c.local == local && c.due_ms.is_none_or(|d| now < d) {
                if (now as u64).saturating_sub(self.checked_ms.load(Ordering::Relaxed)) < RECHECK_MS {
                    return Ok(c.value.clone());
                }
                self.checked_ms.store(now as u64, Ordering::Relaxed);
                if self.stored(app).await? == c.version {
                    return Ok(c.value.clone());
                }
            }
        }
        let _guard = match &current {
            // Someone else is rebuilding: keep using the previous one meanwhile.
            Some(c) => match self.building.try_lock() {
                Ok(g) => g,
                Err(_) => return Ok(c.value.clone()),
            },
            None => self.building.lock().await,
        };
        // Built by another caller while this one waited for the lock.
        if let Some(c) = self.slot.read().ok().and_then(|c| c.clone())
            && c.local == self.changed.load(Ordering::SeqCst)
            && current.as_ref().is_none_or(|old| !Arc::ptr_eq(old, &c))
        {
            return Ok(c.value.clone());
        }
        let local = self.changed.load(Ordering::SeqCst);
        let version = self.stored(app).await?;
        let (value, due_ms) = build(app.clone()).await?;
        let built = Arc::new(Built { value: Arc::new(value), version, local, due_ms });
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some(built.clone());
        }
        self.checked_ms.store(isms_store::now_ms() as u64, Ordering::Relaxed);
        Ok(built.value.clone())
    }

    async fn stored(&self, app: &App) -> Result<String> {
        Ok(isms_store::settings::get(app.store.conn(), self.key).await?.unwrap_or_default())
    }
}

impl Shared {
    pub(crate) fn sources_changed(&self) {
        self.sources_changed.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.sources.lock() {
            m.clear();
        }
    }
}

/// The companies a reader of monitoring reaches with `p` (`None`: all, group records too).
pub(crate) fn scope(who: &Principal, p: Permission) -> Result<Option<Vec<String>>> {
    who.within(p)
}

/// Whether a record of `company` (`None`: the group's) is within `scope`.
pub(crate) fn in_scope(scope: &Option<Vec<String>>, company: Option<&str>) -> bool {
    match (scope, company) {
        (None, _) => true,
        (Some(set), Some(c)) => set.iter().any(|s| s == c),
        (Some(_), None) => false,
    }
}

pub(crate) fn not_found_unless(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(AppError::NotFound) }
}

/// This instance's monitoring state.
pub(crate) fn shared(app: &App) -> Arc<Shared> {
    app.shared::<Shared>()
}

use isms_kernel::jobs::{HOUR, Job, MINUTE, TICK};

/// Monitoring's background work. Silence is an incident in a 24/7 service, and an alert
/// nobody acknowledged calls the next person: both every tick. Feeds are pulled as they
/// fall due (each claimed first), raw events beyond their retention go each minute, old
/// batch keys each hour.
pub fn jobs() -> Vec<Job> {
    vec![
        Job::new("monitoring.silence", TICK, "event sources went silent; alerts raised", |app| {
            Box::pin(async move { sources::check_silence(&app).await.map(|n| n as u64) })
        })
        .warns(),
        Job::new("monitoring.escalation", TICK, "unacknowledged alerts escalated", |app| {
            Box::pin(async move { oncall::escalate_due(&app).await.map(|n| n as u64) })
        })
        .warns(),
        Job::new("monitoring.intel-pull", MINUTE, "threat-intelligence feeds pulled", |app| {
            Box::pin(async move { intel::pull_due(&app).await.map(|n| n as u64) })
        }),
        Job::new("monitoring.raw-retention", MINUTE, "raw events past their retention deleted", |app| Box::pin(async move { raw::prune(&app).await })),
        Job::new("monitoring.batch-keys", HOUR, "old batch keys forgotten", |app| Box::pin(async move { pipeline::prune_keys(&app, 8).await })),
    ]
}
