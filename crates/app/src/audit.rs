//! Reading the audit trail within scope, exporting it, and verifying the chain.

use crate::{App, AppError, Principal, Result, record};
use isms_core::Permission;
use isms_core::audit::{Checkpoint, Fault};
pub use isms_kernel::history::{AuditEntry, actor_names, record_history};
use isms_store::audit::{self as store, AuditQuery};
use serde_json::json;
use std::collections::HashMap;

/// Newest first. A reader scoped to companies sees those companies' entries only; the
/// group's own entries (sign-ins, settings) need group-wide audit access.
pub async fn list(app: &App, who: &Principal, q: &AuditQuery) -> Result<(Vec<AuditEntry>, u64)> {
    let within = who.within(Permission::AuditRead)?;
    let q = AuditQuery { hidden: hidden_records(app, who, within.as_deref()).await?, ..q.clone() };
    let (rows, total) = store::list(app.store.conn(), within.as_deref(), &q).await?;
    Ok((rows.into_iter().map(AuditEntry::from).collect(), total))
}

/// Records whose history the reader may not see: need-to-know cases (personal
/// information) of their companies that answer them "not found". Auditors and those who
/// run cases see every entry, as the trail is theirs to check.
async fn hidden_records(app: &App, who: &Principal, within: Option<&[String]>) -> Result<Vec<(String, Vec<String>)>> {
    use isms_store::incidents::incident;
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let auditor = |company: Option<isms_core::CompanyId>| {
        who.access.grants().iter().any(|g| g.role == isms_core::Role::Auditor && (g.company.is_none() || g.company == company))
    };
    let mut find = incident::Entity::find().filter(incident::Column::PersonalData.eq(true));
    if let Some(set) = within {
        find = find.filter(incident::Column::CompanyId.is_in(set.iter().cloned()));
    }
    let db = app.store.conn();
    let mine = crate::incidents::memberships(db, who).await?;
    let hidden = find
        .all(db)
        .await?
        .into_iter()
        .filter(|i| !auditor(i.company_id.parse().ok()) && !crate::incidents::visible_without_membership(who, i) && !mine.contains(&i.id))
        .map(|i| i.id)
        .collect();
    Ok(vec![("incident".to_owned(), hidden)])
}

/// What the trail's records are called, by `(entity, id)`: a case's reference and title,
/// a person's name and number, an account's user name. Records since deleted, or of a
/// kind without a name, are absent (the page shows the id).
pub async fn record_names(app: &App, entries: &[AuditEntry]) -> Result<HashMap<(String, String), String>> {
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut wanted: HashMap<&str, Vec<String>> = HashMap::new();
    for e in entries {
        if let Some(id) = &e.record_id {
            wanted.entry(e.entity.as_str()).or_default().push(id.clone());
        }
    }
    let db = app.store.conn();
    let mut out = HashMap::new();
    macro_rules! names {
        ($kind:literal, $m:path, |$r:ident| $name:expr) => {
            if let Some(ids) = wanted.get($kind) {
                use $m as t;
                for $r in t::Entity::find().filter(t::Column::Id.is_in(ids.iter().cloned())).all(db).await? {
                    out.insert(($kind.to_owned(), $r.id.clone()), $name);
                }
            }
        };
    }
    names!("incident", isms_store::incidents::incident, |r| format!("{} {}", r.r#ref, r.title));
    names!("drill", isms_store::incidents::drill, |r| r.title);
    names!("playbook", isms_store::incidents::playbook, |r| r.name);
    names!("risk", isms_store::compliance::risk, |r| format!("{} {}", r.reference, r.title));
    names!("control", isms_store::compliance::control, |r| format!("{} {}", r.code, r.title));
    names!("framework", isms_store::compliance::framework, |r| r.name);
    names!("requirement", isms_store::compliance::requirement, |r| format!("{} {}", r.reference, r.title));
    names!("review_finding", isms_store::compliance::finding, |r| r.title);
    names!("document", isms_store::policies::document, |r| format!("{} {}", r.code, r.title));
    names!("person", isms_store::org::person, |r| format!("{} ({})", r.name, r.employee_number));
    names!("company", isms_store::org::company, |r| r.name);
    names!("department", isms_store::org::department, |r| r.name);
    names!("user", isms_store::accounts::user, |r| r.username);
    names!("api_token", isms_store::accounts::api_token, |r| r.name);
    names!("information_asset", isms_store::assets::asset, |r| r.name);
    names!("supporting_asset", isms_store::assets::support, |r| r.name);
    names!("handling_category", isms_store::assets::category, |r| r.name);
    names!("alert", isms_store::monitoring::alert, |r| r.title);
    names!("detection_rule", isms_store::monitoring::rule, |r| r.title);
    names!("event_source", isms_store::monitoring::source, |r| r.name);
    names!("intel_feed", isms_store::monitoring::feed, |r| r.name);
    names!("oncall_rotation", isms_store::monitoring::rotation, |r| r.name);
    names!("alert_suppression", isms_store::monitoring::suppression, |r| r.title);
    Ok(out)
}

/// The outcome of a check of the chain from the audit page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainCheck {
    /// Entries verified, when the chain is intact.
    pub verified: Option<u64>,
    /// What is wrong, when it is not: the fault's code and the entries it names.
    pub fault: Option<(String, Vec<(String, String)>)>,
    pub at_ms: i64,
}

/// Verifies the whole chain for a reader with group-wide audit access (the chain spans
/// every company), and records that it was checked and what was found.
pub async fn check_chain(app: &App, who: &Principal) -> Result<ChainCheck> {
    if who.within(Permission::AuditRead)?.is_some() {
        return Err(AppError::Forbidden);
    }
    let r = verify(app, |_, _| {}).await?;
    let check = match r {
        Ok(n) => ChainCheck { verified: Some(n), fault: None, at_ms: isms_store::now_ms() },
        Err(f) => ChainCheck {
            verified: None,
            fault: Some((f.code().to_owned(), f.args().into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            at_ms: isms_store::now_ms(),
        },
    };
    let fault = check.fault.as_ref().map(|(code, _)| code.clone());
    let txn = app.store.write().await?;
    record(app, &txn, who, "audit.verify", "audit_log", None, None, json!({"verified": check.verified, "fault": fault})).await?;
    txn.commit().await?;
    Ok(check)
}

/// The filtered trail for an export (at most 100,000 entries), newest first. The
/// export itself is recorded.
pub async fn export_entries(app: &App, who: &Principal, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let within = who.within(Permission::AuditExport)?;
    let q = AuditQuery { limit: 100_000, hidden: hidden_records(app, who, within.as_deref()).await?, ..q.clone() };
    let (rows, _) = store::list(app.store.conn(), within.as_deref(), &q).await?;
    let txn = app.store.write().await?;
    record(app, &txn, who, "audit.export", "audit_log", None, None, json!({"rows": rows.len()})).await?;
    txn.commit().await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

/// Walks the whole chain in one snapshot of the database, against the checkpoint kept
/// outside it when one is configured: `Ok(Ok(count))` when intact, `Ok(Err(fault))`
/// naming what happened.
pub async fn verify(app: &App, progress: impl FnMut(u64, u64)) -> Result<Result<u64, Fault>> {
    let checkpoint = match read_checkpoint(app) {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let snapshot = app.store.snapshot().await?;
    let r = store::verify(&snapshot, app.audit_key(), checkpoint, progress).await?;
    snapshot.rollback().await?;
    Ok(r)
}

/// The checkpoint in the configured file: none when the file is not configured or not
/// written yet; a fault when it does not verify with the key.
fn read_checkpoint(app: &App) -> std::result::Result<Option<Checkpoint>, Fault> {
    let Some(path) = &app.config().checkpoint_file else { return Ok(None) };
    match std::fs::read_to_string(path) {
        Ok(text) => text.lines().rfind(|l| !l.trim().is_empty()).map(|l| Checkpoint::from_line(app.audit_key(), l)).transpose(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(Fault::CheckpointForged),
    }
}

/// Records the chain's head in the checkpoint file (written aside and renamed, so a
/// crash leaves the old checkpoint or the new one). Only ever forward: a head behind the
/// one recorded, or a file that does not verify, is left for `audit verify` to report.
/// Returns the entry recorded, if a new one was.
pub async fn write_checkpoint(app: &App) -> Result<Option<i64>> {
    let Some(path) = app.config().checkpoint_file.clone() else { return Ok(None) };
    let Some((seq, hash)) = store::current_head(app.store.conn()).await? else { return Ok(None) };
    let known = read_checkpoint(app).map_err(|f| AppError::internal(format!("{}: {f}", path.display())))?;
    if seq == 0 || known.as_ref().is_some_and(|k| k.seq >= seq) {
        return Ok(None);
    }
    let line = Checkpoint { seq, hash, at_ms: isms_store::now_ms() }.to_line(app.audit_key());
    let tmp = path.with_extension("checkpoint-new");
    let io = |e: std::io::Error| AppError::internal(format!("{}: {e}", path.display()));
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    send_checkpoint(app, seq, &line).await?;
    Ok(Some(seq))
}

/// Hooks that want `audit-checkpoint` events (a log collector, a second site) receive the
/// checkpoint line too, at most once per five minutes each, so a copy of the head also
/// lives where whoever holds this machine cannot reach it.
pub const CHECKPOINT_EVENT: &str = "audit-checkpoint";

async fn send_checkpoint(app: &App, seq: i64, line: &str) -> Result<()> {
    if !app.config().webhooks.iter().any(|h| h.events.iter().any(|e| e == CHECKPOINT_EVENT || e == "*")) {
        return Ok(());
    }
    let bucket = isms_store::now_ms() / (5 * 60 * 1000);
    let n = crate::notify::Notice::new(CHECKPOINT_EVENT, serde_json::json!({"seq": seq, "line": line}), "/audit").once(format!("{CHECKPOINT_EVENT}:{bucket}"));
    let txn = app.store.write().await?;
    crate::notify::event(app, &txn, &n).await?;
    txn.commit().await?;
    Ok(())
}

/// The audit chain's head, recorded outside the database every tick.
pub fn jobs() -> Vec<isms_kernel::jobs::Job> {
    use isms_kernel::jobs::{Job, TICK};
    vec![Job::new("audit.checkpoint", TICK, "audit checkpoint written outside the database", |app| {
        Box::pin(async move { write_checkpoint(&app).await.map(|_| 0) })
    })]
}
