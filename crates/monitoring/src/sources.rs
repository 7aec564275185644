//! Event sources: what sends events, for which company, with which field mapping, and
//! how long it may stay quiet. Each source has its own token (shown once, stored hashed);
//! events sent with it belong to the source's company.

use super::{in_scope, not_found_unless, scope};
use isms_core::monitoring::{FieldMap, SourceKind, is_silent};
use isms_core::{FieldError, Permission};
use isms_kernel::input::{blank_to_none, required};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::monitoring::source;
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Source tokens start with this, so the API's token check can tell them from user tokens.
pub const TOKEN_PREFIX: &str = isms_core::monitoring::SOURCE_TOKEN_PREFIX;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub company_id: Option<String>,
    pub kind: SourceKind,
    /// The token's first characters (the token itself is shown once).
    pub token_hint: String,
    /// One `from = to` per line: event fields copied under the names rules use.
    pub field_map: String,
    /// Longest expected gap between events, in seconds; silence beyond it raises an alert.
    pub expected_secs: Option<i64>,
    pub enabled: bool,
    pub last_event_ms: Option<i64>,
    pub events_total: i64,
    pub malformed_total: i64,
    /// Silent now: no event within the expected gap.
    pub silent: bool,
    /// Keeps its raw events for search, not only those that raised alerts.
    pub keep_raw: bool,
    pub created_ms: i64,
}

impl From<source::Model> for Source {
    fn from(m: source::Model) -> Self {
        let silent = m.enabled && is_silent(m.last_event_ms, m.created_ms, m.expected_secs, now_ms());
        Self {
            id: m.id,
            name: m.name,
            company_id: m.company_id,
            kind: SourceKind::parse(&m.kind).unwrap_or(SourceKind::Json),
            token_hint: m.token_hint,
            field_map: m.field_map,
            expected_secs: m.expected_secs,
            enabled: m.enabled,
            last_event_ms: m.last_event_ms,
            events_total: m.events_total,
            malformed_total: m.malformed_total,
            silent,
            keep_raw: m.keep_raw,
            created_ms: m.created_ms,
        }
    }
}

/// A source as the pipeline needs it, looked up by token.
#[derive(Debug, Clone)]
pub struct SourceCtx {
    pub id: String,
    pub name: String,
    pub company_id: Option<String>,
    pub kind: SourceKind,
    pub map: FieldMap,
    pub keep_raw: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SourceInput {
    pub name: String,
    /// Empty for the group's own systems.
    #[serde(default)]
    pub company_id: Option<String>,
    /// windows, syslog, firewall, edr, cloud or json.
    pub kind: String,
    /// Empty: the kind's default mapping.
    #[serde(default)]
    pub field_map: Option<String>,
    /// Seconds; empty or 0 when silence is normal.
    #[serde(default)]
    pub expected_secs: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Keep every raw event for search (within the retention), not only those that matched.
    #[serde(default)]
    pub keep_raw: bool,
}

fn yes() -> bool {
    true
}

impl Default for SourceInput {
    fn default() -> Self {
        Self { name: String::new(), company_id: None, kind: String::new(), field_map: None, expected_secs: None, enabled: true, keep_raw: false }
    }
}

/// A created source with its token, which is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    pub source: Source,
    pub token: String,
}

struct Checked {
    name: String,
    company_id: Option<String>,
    kind: SourceKind,
    map: FieldMap,
    expected_secs: Option<i64>,
}

fn check(who: &Principal, input: &SourceInput) -> Result<Checked> {
    let mut errors = vec![];
    let name = required(&mut errors, "name", &input.name, 120);
    let company_id = blank_to_none(&input.company_id);
    if !who.access.can_for(Permission::MonitoringManage, company_id.as_deref().and_then(|c| c.parse().ok())) {
        errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not manage monitoring of this company"));
    }
    let kind = SourceKind::parse(&input.kind).map_err(|e| errors.push(e)).unwrap_or(SourceKind::Json);
    let map = match input.field_map.as_deref().map(str::trim) {
        None | Some("") => FieldMap::default_for(kind),
        Some(text) => FieldMap::parse(text).map_err(|e| errors.extend(e)).unwrap_or_default(),
    };
    let expected_secs = match input.expected_secs {
        None | Some(0) => None,
        Some(s) if (60..=31 * 86_400).contains(&s) => Some(s),
        Some(_) => {
            errors.push(FieldError::coded("expected_secs", "between", "must be between 60 and 2678400 seconds").arg("min", "60").arg("max", "2678400"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Checked { name, company_id, kind, map, expected_secs })
}

fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", isms_kernel::random_token(24))
}

pub async fn create(app: &App, who: &Principal, input: SourceInput) -> Result<Issued> {
    who.require(Permission::MonitoringManage)?;
    let c = check(who, &input)?;
    let token = new_token();
    let now = now_ms();
    let txn = app.store.write().await?;
    let m = source::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: c.name,
        company_id: c.company_id,
        kind: c.kind.code().into(),
        token_hash: isms_kernel::token_hash(&token),
        token_hint: token.chars().take(TOKEN_PREFIX.len() + 4).collect(),
        field_map: c.map.to_text(),
        expected_secs: c.expected_secs,
        enabled: input.enabled,
        last_event_ms: None,
        events_total: 0,
        malformed_total: 0,
        silent_since_ms: None,
        created_ms: now,
        updated_ms: now,
        keep_raw: input.keep_raw,
    };
    let m = m.into_active_model().insert(&txn).await.map_err(|e| name_taken(e.into()))?;
    record(app, &txn, who, "monitoring.source.create", "event_source", Some(&m.id), m.company_id.as_deref(), json!({"name": m.name, "kind": m.kind})).await?;
    txn.commit().await?;
    super::shared(app).sources_changed();
    Ok(Issued { source: m.into(), token })
}

fn name_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict { .. } => AppError::coded("name", "taken", "is already taken"),
        e => e,
    }
}

pub async fn update(app: &App, who: &Principal, id: &str, input: SourceInput) -> Result<Source> {
    let c = check(who, &input)?;
    let txn = app.store.write().await?;
    let m = source::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    let before = json!({"name": m.name, "company_id": m.company_id, "kind": m.kind, "field_map": m.field_map, "expected_secs": m.expected_secs, "enabled": m.enabled, "keep_raw": m.keep_raw});
    let mut a = m.into_active_model();
    a.name = Set(c.name);
    a.company_id = Set(c.company_id);
    a.kind = Set(c.kind.code().into());
    a.field_map = Set(c.map.to_text());
    a.expected_secs = Set(c.expected_secs);
    a.enabled = Set(input.enabled);
    a.keep_raw = Set(input.keep_raw);
    a.silent_since_ms = Set(None);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await.map_err(|e| name_taken(e.into()))?;
    let after = json!({"name": m.name, "company_id": m.company_id, "kind": m.kind, "field_map": m.field_map, "expected_secs": m.expected_secs, "enabled": m.enabled, "keep_raw": m.keep_raw});
    record(app, &txn, who, "monitoring.source.update", "event_source", Some(&m.id), m.company_id.as_deref(), json!({"before": before, "after": after})).await?;
    txn.commit().await?;
    super::shared(app).sources_changed();
    Ok(m.into())
}

/// A new token; the old one stops working at once.
pub async fn rotate_token(app: &App, who: &Principal, id: &str) -> Result<Issued> {
    let token = new_token();
    let txn = app.store.write().await?;
    let m = source::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::MonitoringManage, m.company_id.as_deref())?;
    let mut a = m.into_active_model();
    a.token_hash = Set(isms_kernel::token_hash(&token));
    a.token_hint = Set(token.chars().take(TOKEN_PREFIX.len() + 4).collect());
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    record(app, &txn, who, "monitoring.source.rotate", "event_source", Some(&m.id), m.company_id.as_deref(), json!({})).await?;
    txn.commit().await?;
    super::shared(app).sources_changed();
    Ok(Issued { source: m.into(), token })
}

pub async fn list(app: &App, who: &Principal) -> Result<Vec<Source>> {
    let s = scope(who, Permission::MonitoringRead)?;
    let all = source::Entity::find().order_by_asc(source::Column::Name).all(app.store.conn()).await?;
    Ok(all.into_iter().filter(|m| in_scope(&s, m.company_id.as_deref())).map(Source::from).collect())
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Source> {
    let s = scope(who, Permission::MonitoringRead)?;
    let m = source::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    not_found_unless(in_scope(&s, m.company_id.as_deref()))?;
    Ok(m.into())
}

/// How long a looked-up token stays valid in memory: a source disabled or re-keyed on
/// another instance stops being accepted here within this time.
const TOKEN_TTL_MS: i64 = 10_000;

impl From<source::Model> for SourceCtx {
    fn from(m: source::Model) -> Self {
        SourceCtx {
            id: m.id,
            name: m.name,
            company_id: m.company_id,
            kind: SourceKind::parse(&m.kind).unwrap_or(SourceKind::Json),
            map: FieldMap::parse(&m.field_map).unwrap_or_default(),
            keep_raw: m.keep_raw,
        }
    }
}

/// One source found by `find`, remembered under `key` for [`TOKEN_TTL_MS`]. A disabled
/// source counts as missing when `enabled_only`.
async fn lookup(
    app: &App,
    key: String,
    find: isms_store::sea_orm::Select<source::Entity>,
    enabled_only: bool,
    missing: fn() -> AppError,
) -> Result<Arc<SourceCtx>> {
    let now = now_ms();
    let shared = super::shared(app);
    if let Some((ctx, at)) = shared.sources.lock().ok().and_then(|m| m.get(&key).cloned())
        && now - at < TOKEN_TTL_MS
    {
        return Ok(ctx);
    }
    let changed = shared.sources_changed.load(std::sync::atomic::Ordering::SeqCst);
    let m = find.one(app.store.conn()).await?.ok_or_else(missing)?;
    if enabled_only && !m.enabled {
        return Err(missing());
    }
    let ctx = Arc::new(SourceCtx::from(m));
    // A change made while this lookup ran must not be overwritten by the older answer.
    if shared.sources_changed.load(std::sync::atomic::Ordering::SeqCst) == changed
        && let Ok(mut map) = shared.sources.lock()
    {
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(key, (ctx.clone(), now));
    }
    Ok(ctx)
}

/// The enabled source a token belongs to. `Unauthenticated` for anything else.
pub async fn authenticate(app: &App, token: &str) -> Result<Arc<SourceCtx>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(AppError::Unauthenticated);
    }
    let hash = isms_kernel::token_hash(token);
    lookup(app, hash.clone(), source::Entity::find().filter(source::Column::TokenHash.eq(hash)), true, || AppError::Unauthenticated).await
}

/// A source by id, for workers reading batches a receiver queued: disabled or not, since
/// its batches were accepted while it was enabled.
pub async fn by_id(app: &App, id: &str) -> Result<Arc<SourceCtx>> {
    lookup(app, format!("id:{id}"), source::Entity::find_by_id(id.to_owned()), false, || AppError::NotFound).await
}

/// An enabled source by name, for receivers configured on the server (syslog listeners).
/// Looked up again after the same time as tokens, so a disabled source stops receiving.
pub async fn by_name(app: &App, name: &str) -> Result<Arc<SourceCtx>> {
    lookup(app, format!("name:{name}"), source::Entity::find().filter(source::Column::Name.eq(name.to_owned())), true, || AppError::NotFound).await
}

/// Sources silent beyond their expected gap get one alert each (until they speak again).
/// Returns how many alerts were raised.
pub async fn check_silence(app: &App) -> Result<usize> {
    let now = now_ms();
    let candidates = source::Entity::find()
        .filter(source::Column::Enabled.eq(true))
        .filter(source::Column::ExpectedSecs.is_not_null())
        .filter(source::Column::SilentSinceMs.is_null())
        .all(app.store.conn())
        .await?;
    let mut raised = 0;
    for m in candidates {
        if !is_silent(m.last_event_ms, m.created_ms, m.expected_secs, now) {
            continue;
        }
        let roster = super::oncall::roster(app).await?;
        let txn = app.store.write_quiet().await?;
        // Claim the silent period first: of several instances checking at once, only the
        // one whose update finds it unclaimed raises the alert.
        let claimed = source::Entity::update_many()
            .col_expr(source::Column::SilentSinceMs, isms_store::sea_orm::sea_query::Expr::val(now))
            .filter(source::Column::Id.eq(m.id.clone()))
            .filter(source::Column::SilentSinceMs.is_null())
            .filter(match m.last_event_ms {
                Some(t) => source::Column::LastEventMs.eq(t),
                None => source::Column::LastEventMs.is_null(),
            })
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed != 1 {
            txn.rollback().await?;
            continue;
        }
        super::alerts::raise_silence(app, &txn, &roster, &m, now).await?;
        txn.commit().await?;
        raised += 1;
    }
    Ok(raised)
}

/// Page of dead letters (events kept aside as malformed) of the sources in scope.
pub async fn dead_letters(app: &App, who: &Principal, source_id: Option<&str>, limit: u64) -> Result<Page<DeadLetter>> {
    use isms_store::monitoring::dead_letter;
    use isms_store::sea_orm::{PaginatorTrait, QuerySelect};
    let s = scope(who, Permission::MonitoringRead)?;
    let mut q = dead_letter::Entity::find();
    if let Some(set) = &s {
        q = q.filter(dead_letter::Column::CompanyId.is_in(set.clone()));
    }
    if let Some(id) = source_id {
        q = q.filter(dead_letter::Column::SourceId.eq(id.to_owned()));
    }
    let total = q.clone().count(app.store.conn()).await?;
    let rows = q.order_by_desc(dead_letter::Column::ReceivedMs).limit(limit.clamp(1, 500)).all(app.store.conn()).await?;
    Ok(Page {
        items: rows.into_iter().map(|d| DeadLetter { id: d.id, source_id: d.source_id, received_ms: d.received_ms, reason: d.reason, raw: d.raw }).collect(),
        total,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: String,
    pub source_id: Option<String>,
    pub received_ms: i64,
    pub reason: String,
    /// The event as received (cut at 64 KiB).
    pub raw: String,
}
