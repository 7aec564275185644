//! Threat monitoring around the clock: event sources and their tokens, the group's
//! detection rules compiled into one engine, the pipeline that evaluates batches of events
//! and writes what matched, and alert triage.
//!
//! The hot path stays out of per-event transactions: a batch is read and matched in
//! memory, and only alerts, their evidence, dead letters and counters are written, several
//! batches to one transaction.

pub mod alerts;
pub mod pipeline;
pub mod rules;
pub mod sources;

use crate::{App, AppError, Principal, Result};
use isms_core::Permission;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// What the monitoring use cases share in memory: the compiled rules and the sources by
/// token. Both are rebuilt from the database when it changes.
#[derive(Default)]
pub(crate) struct Shared {
    /// Moves on with every local change of rules or overrides.
    rules_changed: AtomicU64,
    compiled: RwLock<Option<Arc<rules::Compiled>>>,
    /// One rebuild at a time.
    building: tokio::sync::Mutex<()>,
    /// When the stored rules version was last compared (another instance may have
    /// changed the rules).
    checked_ms: AtomicU64,
    sources: Mutex<HashMap<String, (Arc<sources::SourceCtx>, i64)>>,
    /// Moves on with every change of a source, so cached tokens are looked up again.
    sources_changed: AtomicU64,
}

impl Shared {
    pub(crate) fn rules_changed(&self) {
        self.rules_changed.fetch_add(1, Ordering::SeqCst);
    }

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

impl App {
    pub(crate) fn monitoring(&self) -> &Shared {
        &self.inner.monitoring
    }
}
