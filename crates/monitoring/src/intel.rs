//! Threat intelligence: feeds (TAXII 2.1 collections pulled on a schedule, or STIX, MISP
//! and free-text files imported by hand), their indicators with TLP, confidence and
//! validity, the indicator set every event is checked against, and sightings, which can be
//! shared back with the ISAC as STIX 2.1.
//!
//! A pull or import is all or nothing: a feed that cannot be reached, refuses the
//! credentials or sends something that is not a bundle keeps the indicators of its last
//! good pull, and the reason shows on the feed.

use super::{in_scope, scope};
use isms_core::monitoring::Severity;
use isms_core::{FieldError, Permission};
use isms_detect::intel::feed::{self, FeedIndicator, Format, Parsed};
use isms_detect::intel::{IndicatorSet, Kind, Tlp};
use isms_kernel::input::{blank_to_none, required};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::monitoring::{feed as feed_row, indicator, sighting};
use isms_store::now_ms;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The format code of a feed pulled from a TAXII 2.1 collection.
pub const TAXII: &str = "taxii";
/// Largest file imported at once.
pub const MAX_FEED_BYTES: usize = 64 * 1024 * 1024;
/// Pages of one TAXII pull at most (a feed that never ends is cut off with an error).
const MAX_PAGES: usize = 1000;
/// Refusals kept on the feed to show.
const KEEP_REFUSED: usize = 20;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feed {
    pub id: String,
    pub name: String,
    /// `taxii`, `stix`, `misp-json`, `misp-csv` or `text`.
    pub format: String,
    pub url: Option<String>,
    pub collection: Option<String>,
    /// `none`, `basic` or `bearer`.
    pub auth: String,
    pub username: Option<String>,
    /// A password or token is stored (it is never shown).
    pub has_secret: bool,
    pub default_tlp: String,
    pub default_confidence: i32,
    pub interval_minutes: Option<i32>,
    pub enabled: bool,
    /// TAXII `added_after` of the next pull.
    pub cursor: Option<String>,
    pub next_pull_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
    pub last_ok_ms: Option<i64>,
    pub last_error: Option<String>,
    pub last_added: i64,
    pub last_refused: Vec<String>,
    pub indicator_count: i64,
    pub created_ms: i64,
}

impl From<feed_row::Model> for Feed {
    fn from(m: feed_row::Model) -> Self {
        Feed {
            id: m.id,
            name: m.name,
            format: m.format,
            url: m.url,
            collection: m.collection,
            auth: m.auth,
            username: m.username,
            has_secret: m.secret.is_some(),
            default_tlp: m.default_tlp,
            default_confidence: m.default_confidence,
            interval_minutes: m.interval_minutes,
            enabled: m.enabled,
            cursor: m.cursor,
            next_pull_ms: m.next_pull_ms,
            last_pull_ms: m.last_pull_ms,
            last_ok_ms: m.last_ok_ms,
            last_error: m.last_error,
            last_added: m.last_added,
            last_refused: m.last_refused.lines().map(str::to_string).filter(|l| !l.is_empty()).collect(),
            indicator_count: m.indicator_count,
            created_ms: m.created_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct FeedInput {
    pub name: String,
    /// `taxii`, `stix`, `misp-json`, `misp-csv` or `text`.
    pub format: String,
    /// TAXII: the server's discovery address or an API root.
    #[serde(default)]
    pub url: Option<String>,
    /// TAXII: the collection's id; empty when the API root has one readable collection.
    #[serde(default)]
    pub collection: Option<String>,
    /// `none` (default), `basic` or `bearer`.
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    /// The password or token; empty keeps the stored one.
    #[serde(default)]
    pub secret: Option<String>,
    /// TLP of indicators that carry none: clear, green, amber, amber+strict or red.
    pub default_tlp: String,
    /// Confidence (0–100) of indicators that carry none; empty: 50.
    #[serde(default)]
    pub default_confidence: Option<i32>,
    /// TAXII: minutes between pulls (5–10080); empty: only on request.
    #[serde(default)]
    pub interval_minutes: Option<i32>,
    #[serde(default)]
    pub enabled: bool,
}

/// One indicator as people see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Indicator {
    pub id: String,
    pub feed_id: String,
    pub kind: String,
    pub value: String,
    pub external_id: Option<String>,
    pub name: String,
    pub tlp: String,
    pub confidence: i32,
    pub valid_from_ms: Option<i64>,
    pub valid_until_ms: Option<i64>,
    /// Valid now, so events are checked against it.
    pub active: bool,
    pub updated_ms: i64,
}

impl From<indicator::Model> for Indicator {
    fn from(m: indicator::Model) -> Self {
        let now = now_ms();
        Indicator {
            active: m.valid_from_ms.is_none_or(|f| f <= now) && m.valid_until_ms.is_none_or(|u| u > now),
            id: m.id,
            feed_id: m.feed_id,
            kind: m.kind,
            value: m.value,
            external_id: m.external_id,
            name: m.name,
            tlp: m.tlp,
            confidence: m.confidence,
            valid_from_ms: m.valid_from_ms,
            valid_until_ms: m.valid_until_ms,
            updated_ms: m.updated_ms,
        }
    }
}

/// A sighting: an indicator seen in the events of a source.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sighting {
    pub id: String,
    pub indicator_id: String,
    pub value: String,
    pub kind: String,
    pub tlp: String,
    pub feed_id: String,
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub alert_id: Option<String>,
    pub count: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// What an import or pull did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = IndicatorImportReport)]
pub struct ImportReport {
    pub added: u64,
    pub updated: u64,
    /// Revoked by the feed, or left out of a file that replaces the feed's indicators.
    pub removed: u64,
    /// Entries that are not indicators or not meant for detection.
    pub skipped: u64,
    /// `where: why` of every entry that could not be used.
    pub refused: Vec<String>,
}

const AUTHS: [&str; 3] = ["none", "basic", "bearer"];

struct Checked {
    name: String,
    format: String,
    url: Option<String>,
    collection: Option<String>,
    auth: String,
    username: Option<String>,
    tlp: Tlp,
    confidence: i32,
    interval: Option<i32>,
}

fn check(input: &FeedInput) -> Result<Checked> {
    let mut errors = vec![];
    let name = required(&mut errors, "name", &input.name, 120);
    let format = input.format.trim().to_string();
    if format != TAXII && Format::parse(&format).is_none() {
        errors.push(
            FieldError::coded("format", "one-of", format!("`{format}` is not one of taxii, stix, misp-json, misp-csv, text"))
                .arg("expected", "taxii, stix, misp-json, misp-csv, text"),
        );
    }
    let url = blank_to_none(&input.url);
    if format == TAXII {
        match &url {
            None => errors.push(FieldError::coded("url", "required", "is required")),
            Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048 => {
                errors.push(FieldError::coded("url", "feed-url", "is not an http(s) address"))
            }
            _ => {}
        }
    }
    let auth = blank_to_none(&input.auth).unwrap_or_else(|| "none".into());
    if !AUTHS.contains(&auth.as_str()) {
        errors.push(FieldError::coded("auth", "one-of", format!("`{auth}` is not one of none, basic, bearer")).arg("expected", "none, basic, bearer"));
    }
    let username = blank_to_none(&input.username);
    if auth == "basic" && username.is_none() {
        errors.push(FieldError::coded("username", "required", "is required"));
    }
    let tlp = Tlp::parse(&input.default_tlp).unwrap_or_else(|| {
        errors.push(
            FieldError::coded("default_tlp", "one-of", format!("`{}` is not one of clear, green, amber, amber+strict, red", input.default_tlp))
                .arg("expected", "clear, green, amber, amber+strict, red"),
        );
        Tlp::Amber
    });
    let confidence = input.default_confidence.unwrap_or(50);
    if !(0..=100).contains(&confidence) {
        errors.push(FieldError::coded("default_confidence", "between", "must be between 0 and 100").arg("min", "0").arg("max", "100"));
    }
    let interval = input.interval_minutes.filter(|m| *m != 0);
    if interval.is_some_and(|m| !(5..=10_080).contains(&m)) {
        errors.push(FieldError::coded("interval_minutes", "between", "must be between 5 and 10080 minutes").arg("min", "5").arg("max", "10080"));
    }
    let collection = blank_to_none(&input.collection);
    if collection.as_ref().is_some_and(|c| c.len() > 200) {
        errors.push(FieldError::coded("collection", "too-long", "is longer than 200 characters").arg("max", "200"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(Checked { name, format, url, collection, auth, username, tlp, confidence, interval })
}

fn name_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict { .. } => AppError::coded("name", "taken", "is already taken"),
        e => e,
    }
}

fn audit_view(m: &feed_row::Model) -> Value {
    json!({"name": m.name, "format": m.format, "url": m.url, "collection": m.collection, "auth": m.auth, "username": m.username,
        "default_tlp": m.default_tlp, "default_confidence": m.default_confidence, "interval_minutes": m.interval_minutes, "enabled": m.enabled})
}

pub async fn create_feed(app: &App, who: &Principal, input: FeedInput) -> Result<Feed> {
    who.require(Permission::RulesManage)?;
    let c = check(&input)?;
    let secret = match blank_to_none(&input.secret) {
        Some(s) => Some(app.fields().seal(&s)?),
        None => None,
    };
    let now = now_ms();
    let txn = app.store.write().await?;
    let m = feed_row::Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: c.name,
        format: c.format,
        url: c.url,
        collection: c.collection,
        auth: c.auth,
        username: c.username,
        secret,
        default_tlp: c.tlp.code().into(),
        default_confidence: c.confidence,
        interval_minutes: c.interval,
        enabled: input.enabled,
        cursor: None,
        next_pull_ms: c.interval.map(|_| now),
        claimed_until_ms: None,
        last_pull_ms: None,
        last_ok_ms: None,
        last_error: None,
        last_added: 0,
        last_refused: String::new(),
        indicator_count: 0,
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    }
    .into_active_model()
    .insert(&txn)
    .await
    .map_err(|e| name_taken(e.into()))?;
    record(app, &txn, who, "monitoring.feed.create", "intel_feed", Some(&m.id), None, audit_view(&m)).await?;
    txn.commit().await?;
    Ok(m.into())
}

pub async fn update_feed(app: &App, who: &Principal, id: &str, input: FeedInput) -> Result<Feed> {
    who.require(Permission::RulesManage)?;
    let c = check(&input)?;
    let secret = match blank_to_none(&input.secret) {
        Some(s) => Some(app.fields().seal(&s)?),
        None => None,
    };
    let txn = app.store.write().await?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let before = audit_view(&m);
    let enabled_before = m.enabled;
    let moved = m.url != c.url || m.collection != c.collection;
    let mut a = m.into_active_model();
    a.name = Set(c.name);
    a.format = Set(c.format);
    if moved {
        // Another collection starts from its beginning.
        a.cursor = Set(None);
    }
    a.url = Set(c.url);
    a.collection = Set(c.collection);
    if c.auth == "none" {
        a.secret = Set(None);
    } else if secret.is_some() {
        a.secret = Set(secret);
    }
    a.auth = Set(c.auth);
    a.username = Set(c.username);
    a.default_tlp = Set(c.tlp.code().into());
    a.default_confidence = Set(c.confidence);
    a.interval_minutes = Set(c.interval);
    a.next_pull_ms = Set(c.interval.map(|_| now_ms()));
    a.enabled = Set(input.enabled);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await.map_err(|e| name_taken(e.into()))?;
    record(app, &txn, who, "monitoring.feed.update", "intel_feed", Some(&m.id), None, json!({"before": before, "after": audit_view(&m)})).await?;
    if enabled_before != m.enabled {
        super::shared(app).intel.bump(&txn).await?;
    }
    txn.commit().await?;
    super::shared(app).intel.changed();
    Ok(m.into())
}

/// Removes a feed with its indicators (and their sightings).
pub async fn delete_feed(app: &App, who: &Principal, id: &str) -> Result<()> {
    who.require(Permission::RulesManage)?;
    let txn = app.store.write().await?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let ids: Vec<String> =
        indicator::Entity::find().select_only().column(indicator::Column::Id).filter(indicator::Column::FeedId.eq(id)).into_tuple().all(&txn).await?;
    for chunk in ids.chunks(500) {
        sighting::Entity::delete_many().filter(sighting::Column::IndicatorId.is_in(chunk.to_vec())).exec(&txn).await?;
        indicator::Entity::delete_many().filter(indicator::Column::Id.is_in(chunk.to_vec())).exec(&txn).await?;
    }
    feed_row::Entity::delete_by_id(id.to_owned()).exec(&txn).await?;
    record(app, &txn, who, "monitoring.feed.delete", "intel_feed", Some(id), None, json!({"name": m.name, "indicators": ids.len()})).await?;
    super::shared(app).intel.bump(&txn).await?;
    txn.commit().await?;
    super::shared(app).intel.changed();
    Ok(())
}

pub async fn list_feeds(app: &App, who: &Principal) -> Result<Vec<Feed>> {
    who.require(Permission::MonitoringRead)?;
    Ok(feed_row::Entity::find().order_by_asc(feed_row::Column::Name).all(app.store.conn()).await?.into_iter().map(Feed::from).collect())
}

pub async fn get_feed(app: &App, who: &Principal, id: &str) -> Result<Feed> {
    who.require(Permission::MonitoringRead)?;
    Ok(feed_row::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?.into())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    pub feed_id: Option<String>,
    pub kind: Option<String>,
    /// Part of the value or name.
    pub q: Option<String>,
    #[serde(default)]
    pub page: u64,
}

/// A page of indicators. TLP:RED indicators are shown only to those who manage the feeds:
/// red is for named recipients, not for everyone who reads alerts.
pub async fn list_indicators(app: &App, who: &Principal, q: &IndicatorQuery) -> Result<isms_kernel::Page<Indicator>> {
    who.require(Permission::MonitoringRead)?;
    let mut cond = Condition::all();
    if !who.access.can(Permission::RulesManage) {
        cond = cond.add(indicator::Column::Tlp.ne(Tlp::Red.code()));
    }
    if let Some(f) = blank_to_none(&q.feed_id) {
        cond = cond.add(indicator::Column::FeedId.eq(f));
    }
    if let Some(k) = blank_to_none(&q.kind) {
        cond = cond.add(indicator::Column::Kind.eq(k));
    }
    if let Some(text) = isms_store::search::cleaned(q.q.as_deref()) {
        cond = cond.add(isms_store::search::any_contains(&[indicator::Column::Value, indicator::Column::Name], &text));
    }
    let find = indicator::Entity::find().filter(cond).order_by_desc(indicator::Column::UpdatedMs).order_by_asc(indicator::Column::Id);
    let total = find.clone().count(app.store.conn()).await?;
    let items = find.offset(isms_store::page_offset(q.page.saturating_mul(100))).limit(100).all(app.store.conn()).await?;
    Ok(isms_kernel::Page { items: items.into_iter().map(Indicator::from).collect(), total })
}

fn timestamp_ms(field: &str, t: &Option<String>) -> std::result::Result<Option<i64>, String> {
    match t.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<jiff::Timestamp>().map(|ts| Some(ts.as_millisecond())).map_err(|_| format!("{field} {t:?} is not an RFC 3339 timestamp")),
    }
}

/// Writes what a feed gave: new indicators added, changed ones updated, revoked ones
/// removed (and, with `replace`, every indicator of the feed the file does not hold).
async fn store_parsed(
    app: &App,
    txn: &impl isms_store::sea_orm::ConnectionTrait,
    feed: &feed_row::Model,
    parsed: Parsed,
    replace: bool,
) -> Result<ImportReport> {
    let now = now_ms();
    let default_tlp = Tlp::parse(&feed.default_tlp).unwrap_or(Tlp::Amber);
    let mut report = ImportReport {
        skipped: parsed.skipped as u64,
        refused: parsed.refused.iter().map(|r| format!("{}: {}", r.at, r.reason)).collect(),
        ..Default::default()
    };
    let existing: HashMap<(String, String), indicator::Model> = indicator::Entity::find()
        .filter(indicator::Column::FeedId.eq(feed.id.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| ((m.kind.clone(), m.value.clone()), m))
        .collect();
    let mut seen: std::collections::HashSet<(String, String)> = Default::default();
    let mut fresh = vec![];
    let mut gone = vec![];
    for i in parsed.indicators {
        let FeedIndicator { kind, value, external_id, name, tlp, confidence, valid_from, valid_until, revoked } = i;
        let key = (kind.code().to_string(), value.clone());
        if revoked {
            if let Some(m) = existing.get(&key) {
                gone.push(m.id.clone());
            }
            continue;
        }
        let (from, until) = match (timestamp_ms("valid_from", &valid_from), timestamp_ms("valid_until", &valid_until)) {
            (Ok(f), Ok(u)) => (f, u),
            (Err(e), _) | (_, Err(e)) => {
                report.refused.push(format!("{}: {e}", external_id.as_deref().unwrap_or(&value)));
                continue;
            }
        };
        seen.insert(key.clone());
        let tlp = tlp.unwrap_or(default_tlp).code().to_string();
        let confidence = confidence.map(i32::from).unwrap_or(feed.default_confidence);
        let name: String = name.chars().take(300).collect();
        let external_id = external_id.map(|e| e.chars().take(120).collect::<String>());
        match existing.get(&key) {
            Some(m) => {
                if m.tlp != tlp
                    || m.confidence != confidence
                    || m.valid_from_ms != from
                    || m.valid_until_ms != until
                    || m.name != name
                    || m.external_id != external_id
                {
                    let mut a = m.clone().into_active_model();
                    a.tlp = Set(tlp);
                    a.confidence = Set(confidence);
                    a.valid_from_ms = Set(from);
                    a.valid_until_ms = Set(until);
                    a.name = Set(name);
                    a.external_id = Set(external_id);
                    a.updated_ms = Set(now);
                    a.update(txn).await?;
                    report.updated += 1;
                }
            }
            None => {
                fresh.push(
                    indicator::Model {
                        id: uuid::Uuid::now_v7().to_string(),
                        feed_id: feed.id.clone(),
                        kind: key.0,
                        value,
                        external_id,
                        name,
                        tlp,
                        confidence,
                        valid_from_ms: from,
                        valid_until_ms: until,
                        created_ms: now,
                        updated_ms: now,
                    }
                    .into_active_model(),
                );
            }
        }
    }
    if replace {
        gone.extend(existing.iter().filter(|(k, _)| !seen.contains(*k)).map(|(_, m)| m.id.clone()));
    }
    gone.sort();
    gone.dedup();
    report.added = fresh.len() as u64;
    for chunk in fresh.chunks(500) {
        indicator::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
    }
    for chunk in gone.chunks(500) {
        sighting::Entity::delete_many().filter(sighting::Column::IndicatorId.is_in(chunk.to_vec())).exec(txn).await?;
        indicator::Entity::delete_many().filter(indicator::Column::Id.is_in(chunk.to_vec())).exec(txn).await?;
    }
    report.removed = gone.len() as u64;
    let count = indicator::Entity::find().filter(indicator::Column::FeedId.eq(feed.id.clone())).count(txn).await? as i64;
    feed_row::Entity::update_many()
        .col_expr(feed_row::Column::IndicatorCount, count.into())
        .col_expr(feed_row::Column::LastAdded, (report.added as i64).into())
        .col_expr(feed_row::Column::LastRefused, report.refused.iter().take(KEEP_REFUSED).cloned().collect::<Vec<_>>().join("\n").into())
        .col_expr(feed_row::Column::LastOkMs, Some(now).into())
        .col_expr(feed_row::Column::LastPullMs, Some(now).into())
        .col_expr(feed_row::Column::LastError, Option::<String>::None.into())
        .filter(feed_row::Column::Id.eq(feed.id.clone()))
        .exec(txn)
        .await?;
    super::shared(app).intel.bump(txn).await?;
    Ok(report)
}

/// Imports a file into a feed: `format` or, when `None`, the format the file looks like.
/// With `replace`, the feed's indicators the file does not hold are removed.
pub async fn import(app: &App, who: &Principal, feed_id: &str, bytes: &[u8], format: Option<&str>, replace: bool) -> Result<ImportReport> {
    who.require(Permission::RulesManage)?;
    if bytes.is_empty() {
        return Err(AppError::coded("file", "file-empty", "the file is empty"));
    }
    if bytes.len() > MAX_FEED_BYTES {
        return Err(AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", (MAX_FEED_BYTES / (1024 * 1024)).to_string()));
    }
    let format = match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => Format::parse(f).ok_or_else(|| {
            AppError::coded("format", "one-of", format!("`{f}` is not one of stix, misp-json, misp-csv, text"))
                .into_with_arg("expected", "stix, misp-json, misp-csv, text")
        })?,
        None => Format::guess(bytes),
    };
    let m = feed_row::Entity::find_by_id(feed_id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    let owned = bytes.to_vec();
    let parsed = tokio::task::spawn_blocking(move || feed::parse(format, &owned)).await.map_err(|e| AppError::internal(e.to_string()))?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(reason) => {
            note_failure(app, &m.id, &reason).await?;
            return Err(AppError::coded("file", "feed-file", reason.clone()).into_with_arg("reason", reason));
        }
    };
    let txn = app.store.write().await?;
    let report = store_parsed(app, &txn, &m, parsed, replace).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.feed.import",
        "intel_feed",
        Some(&m.id),
        None,
        json!({"format": format.code(), "added": report.added, "updated": report.updated, "removed": report.removed, "refused": report.refused.len()}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).intel.changed();
    Ok(report)
}

async fn note_failure(app: &App, id: &str, reason: &str) -> Result<()> {
    let txn = app.store.write().await?;
    feed_row::Entity::update_many()
        .col_expr(feed_row::Column::LastError, Some(reason.chars().take(2000).collect::<String>()).into())
        .col_expr(feed_row::Column::LastPullMs, Some(now_ms()).into())
        .filter(feed_row::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The TAXII 2.1 media type.
const TAXII_TYPE: &str = "application/taxii+json;version=2.1";

struct Taxii {
    client: reqwest::Client,
    auth: String,
    username: Option<String>,
    secret: Option<String>,
}

impl Taxii {
    async fn get(&self, url: &str) -> std::result::Result<(Value, Option<String>), String> {
        let mut req = self.client.get(url).header(reqwest::header::ACCEPT, TAXII_TYPE);
        match self.auth.as_str() {
            "basic" => req = req.basic_auth(self.username.clone().unwrap_or_default(), self.secret.clone()),
            "bearer" => req = req.bearer_auth(self.secret.clone().unwrap_or_default()),
            _ => {}
        }
        let resp = req.send().await.map_err(|e| format!("{url} could not be reached: {}", reach_error(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let hint = match status.as_u16() {
                401 => " (the server wants credentials: check the user name and password or token)",
                403 => " (the credentials are not allowed to read this)",
                404 => " (no such API root or collection)",
                _ => "",
            };
            return Err(format!("{url} answered {status}{hint}"));
        }
        let added_last = resp.headers().get("x-taxii-date-added-last").and_then(|v| v.to_str().ok()).map(str::to_string);
        // A page is read up to the largest feed file, never without bound.
        if resp.content_length().is_some_and(|n| n as usize > MAX_FEED_BYTES) {
            return Err(format!("{url} answered more than {} MiB in one page", MAX_FEED_BYTES >> 20));
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: the answer broke off: {e}"))? {
            if body.len() + chunk.len() > MAX_FEED_BYTES {
                return Err(format!("{url} answered more than {} MiB in one page", MAX_FEED_BYTES >> 20));
            }
            body.extend_from_slice(&chunk);
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))?;
        Ok((v, added_last))
    }
}

/// The root cause of a failed request (`Connection refused`, a certificate problem, a
/// timeout), without the layers of wrapping around it.
fn reach_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "no answer in time".into();
    }
    let mut last: &dyn std::error::Error = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

fn join_url(base: &str, rel: &str) -> String {
    if rel.starts_with("http://") || rel.starts_with("https://") {
        return rel.to_string();
    }
    let origin_end = base.find("://").map(|i| i + 3).and_then(|s| base[s..].find('/').map(|j| s + j)).unwrap_or(base.len());
    if rel.starts_with('/') { format!("{}{rel}", &base[..origin_end]) } else { format!("{}/{rel}", base.trim_end_matches('/')) }
}

fn with_slash(u: &str) -> String {
    if u.ends_with('/') { u.to_string() } else { format!("{u}/") }
}

/// Pulls what a TAXII feed added since its cursor: the indicators and the next cursor.
async fn pull_taxii(app: &App, m: &feed_row::Model) -> std::result::Result<(Parsed, Option<String>), String> {
    let secret = match &m.secret {
        Some(s) => Some(app.fields().open(s).map_err(|_| "the stored password or token cannot be read with this instance's key".to_string())?),
        None => None,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent("isms")
        .build()
        .map_err(|e| e.to_string())?;
    let t = Taxii { client, auth: m.auth.clone(), username: m.username.clone(), secret };
    let url = m.url.clone().ok_or("the feed has no address")?;
    // A discovery address lists API roots; an API root describes itself.
    let (doc, _) = t.get(&url).await?;
    let root = if let Some(roots) = doc.get("api_roots").and_then(Value::as_array) {
        let chosen =
            doc.get("default").and_then(Value::as_str).or_else(|| roots.first().and_then(Value::as_str)).ok_or_else(|| format!("{url} lists no API root"))?;
        with_slash(&join_url(&url, chosen))
    } else if doc.get("title").is_some() || doc.get("versions").is_some() {
        with_slash(&url)
    } else {
        return Err(format!("{url} is neither a TAXII 2.1 discovery address nor an API root"));
    };
    let collection = match &m.collection {
        Some(c) => c.clone(),
        None => {
            let (cols, _) = t.get(&format!("{root}collections/")).await?;
            let readable: Vec<&str> = cols
                .get("collections")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|c| c.get("can_read").and_then(Value::as_bool).unwrap_or(true))
                        .filter_map(|c| c.get("id").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            match readable.as_slice() {
                [one] => one.to_string(),
                [] => return Err(format!("{root} has no collection this feed may read")),
                many => return Err(format!("{root} has {} readable collections; choose one: {}", many.len(), many.join(", "))),
            }
        }
    };
    let mut out = Parsed::default();
    let mut cursor = m.cursor.clone();
    let mut next: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let mut q = vec![];
        if let Some(c) = &m.cursor {
            q.push(format!("added_after={}", urlencode(c)));
        }
        if let Some(n) = &next {
            q.push(format!("next={}", urlencode(n)));
        }
        let address = format!("{root}collections/{}/objects/{}{}", urlencode(&collection), if q.is_empty() { "" } else { "?" }, q.join("&"));
        let (env, added_last) = t.get(&address).await?;
        let text = env.to_string();
        let parsed = feed::parse(Format::Stix, text.as_bytes()).map_err(|e| format!("page {page} of {address}: {e}"))?;
        out.indicators.extend(parsed.indicators);
        out.refused.extend(parsed.refused);
        out.skipped += parsed.skipped;
        if added_last.is_some() {
            cursor = added_last;
        }
        next = env.get("next").and_then(Value::as_str).map(str::to_string);
        if !env.get("more").and_then(Value::as_bool).unwrap_or(false) {
            return Ok((out, cursor));
        }
        if next.is_none() && cursor == m.cursor {
            return Err(format!("{address} says there is more but gives no way to ask for it"));
        }
    }
    Err(format!("the feed sent more than {MAX_PAGES} pages in one pull"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pulls one TAXII feed now. A failure is kept on the feed (and returned); the indicators
/// of the last good pull stay.
async fn pull(app: &App, who: &Principal, m: feed_row::Model) -> Result<ImportReport> {
    if m.format != TAXII {
        return Err(AppError::coded("format", "feed-not-taxii", "only TAXII feeds are pulled; import a file instead"));
    }
    match pull_taxii(app, &m).await {
        Ok((parsed, cursor)) => {
            let txn = app.store.write().await?;
            let report = store_parsed(app, &txn, &m, parsed, false).await?;
            feed_row::Entity::update_many()
                .col_expr(feed_row::Column::Cursor, cursor.into())
                .col_expr(feed_row::Column::NextPullMs, m.interval_minutes.map(|i| now_ms() + i as i64 * 60_000).into())
                .col_expr(feed_row::Column::ClaimedUntilMs, Option::<i64>::None.into())
                .filter(feed_row::Column::Id.eq(m.id.clone()))
                .exec(&txn)
                .await?;
            record(
                app,
                &txn,
                who,
                "monitoring.feed.pull",
                "intel_feed",
                Some(&m.id),
                None,
                json!({"added": report.added, "updated": report.updated, "removed": report.removed, "refused": report.refused.len()}),
            )
            .await?;
            txn.commit().await?;
            super::shared(app).intel.changed();
            Ok(report)
        }
        Err(reason) => {
            tracing::warn!(feed = %m.name, "threat-intelligence pull failed: {reason}");
            let txn = app.store.write().await?;
            feed_row::Entity::update_many()
                .col_expr(feed_row::Column::LastError, Some(reason.chars().take(2000).collect::<String>()).into())
                .col_expr(feed_row::Column::LastPullMs, Some(now_ms()).into())
                .col_expr(feed_row::Column::NextPullMs, m.interval_minutes.map(|i| now_ms() + i as i64 * 60_000).into())
                .col_expr(feed_row::Column::ClaimedUntilMs, Option::<i64>::None.into())
                .filter(feed_row::Column::Id.eq(m.id.clone()))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Err(AppError::coded("url", "feed-pull", reason.clone()).into_with_arg("reason", reason))
        }
    }
}

/// Pulls a TAXII feed at once (the feed page's button).
pub async fn pull_now(app: &App, who: &Principal, id: &str) -> Result<ImportReport> {
    who.require(Permission::RulesManage)?;
    let m = feed_row::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    pull(app, who, m).await
}

/// Pulls every enabled TAXII feed whose time has come. Each feed is claimed first, so
/// instances running this at once pull it once. Returns how many feeds were pulled.
pub async fn pull_due(app: &App) -> Result<usize> {
    let now = now_ms();
    let due = feed_row::Entity::find()
        .filter(feed_row::Column::Format.eq(TAXII))
        .filter(feed_row::Column::Enabled.eq(true))
        .filter(feed_row::Column::IntervalMinutes.is_not_null())
        .filter(feed_row::Column::NextPullMs.lte(now))
        .filter(Condition::any().add(feed_row::Column::ClaimedUntilMs.is_null()).add(feed_row::Column::ClaimedUntilMs.lt(now)))
        .all(app.store.conn())
        .await?;
    let mut pulled = 0;
    for m in due {
        let txn = app.store.write().await?;
        let claimed = feed_row::Entity::update_many()
            .col_expr(feed_row::Column::ClaimedUntilMs, Some(now + 10 * 60_000).into())
            .filter(feed_row::Column::Id.eq(m.id.clone()))
            .filter(Condition::any().add(feed_row::Column::ClaimedUntilMs.is_null()).add(feed_row::Column::ClaimedUntilMs.lt(now)))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        if claimed == 1 {
            pulled += 1;
            let _ = pull(app, &Principal::system(), m).await;
        }
    }
    Ok(pulled)
}

/// What the pipeline knows of an indicator.
#[derive(Debug, Clone)]
pub struct Meta {
    pub id: String,
    pub kind: Kind,
    pub value: String,
    pub feed: String,
    pub name: String,
    pub severity: Severity,
}

/// Every valid indicator of every enabled feed, ready to match.
#[derive(Default)]
pub struct Compiled {
    pub set: IndicatorSet,
    pub meta: Vec<Meta>,
}

/// The indicator set, rebuilt when indicators change here or on another instance, and
/// when an indicator's validity begins or ends.
pub async fn compiled(app: &App) -> Result<Arc<Compiled>> {
    super::shared(app).intel.get(app, |app| async move { build(&app).await }).await
}

async fn build(app: &App) -> Result<(Compiled, Option<i64>)> {
    let db = app.store.conn();
    let now = now_ms();
    let feeds: HashMap<String, String> =
        feed_row::Entity::find().filter(feed_row::Column::Enabled.eq(true)).all(db).await?.into_iter().map(|f| (f.id, f.name)).collect();
    if feeds.is_empty() {
        return Ok((Compiled::default(), None));
    }
    let rows = indicator::Entity::find()
        .filter(indicator::Column::FeedId.is_in(feeds.keys().cloned()))
        .filter(Condition::any().add(indicator::Column::ValidUntilMs.is_null()).add(indicator::Column::ValidUntilMs.gt(now)))
        .all(db)
        .await?;
    tokio::task::spawn_blocking(move || {
        let mut c = Compiled::default();
        let mut due: Option<i64> = None;
        for r in rows {
            if let Some(u) = r.valid_until_ms {
                due = Some(due.map_or(u, |d| d.min(u)));
            }
            if let Some(f) = r.valid_from_ms.filter(|f| *f > now) {
                due = Some(due.map_or(f, |d| d.min(f)));
                continue;
            }
            let Some(kind) = Kind::parse(&r.kind) else { continue };
            let n = c.meta.len() as u32;
            if c.set.insert(kind, &r.value, n).is_ok() {
                c.meta.push(Meta {
                    id: r.id,
                    kind,
                    value: r.value,
                    feed: feeds.get(&r.feed_id).cloned().unwrap_or_default(),
                    name: r.name,
                    severity: Severity::from_confidence(r.confidence.clamp(0, 100) as u8),
                });
            }
        }
        (c, due)
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))
}

/// Sightings within the reader's companies, newest first.
pub async fn sightings(app: &App, who: &Principal, indicator_id: Option<&str>, alert_id: Option<&str>, limit: u64) -> Result<Vec<Sighting>> {
    let s = scope(who, Permission::MonitoringRead)?;
    let red_ok = who.access.can(Permission::RulesManage);
    // Scope and TLP are part of the query, so a page of `limit` is full whenever there is
    // that much the reader may see.
    let mut find = sighting::Entity::find().order_by_desc(sighting::Column::LastMs).limit(limit.min(1000));
    if let Some(set) = &s {
        find = find.filter(sighting::Column::CompanyId.is_in(set.clone()));
    }
    if !red_ok {
        let red = isms_store::sea_orm::sea_query::Query::select()
            .column(indicator::Column::Id)
            .from(indicator::Entity)
            .and_where(isms_store::sea_orm::sea_query::ExprTrait::eq(isms_store::sea_orm::sea_query::Expr::col(indicator::Column::Tlp), Tlp::Red.code()))
            .to_owned();
        find = find.filter(sighting::Column::IndicatorId.not_in_subquery(red));
    }
    if let Some(i) = indicator_id {
        find = find.filter(sighting::Column::IndicatorId.eq(i));
    }
    if let Some(a) = alert_id {
        find = find.filter(sighting::Column::AlertId.eq(a));
    }
    let rows = with_indicators(app, find.all(app.store.conn()).await?).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, i)| i.map(|i| (m, i)))
        .map(|(m, i)| Sighting {
            id: m.id,
            indicator_id: m.indicator_id,
            value: i.value,
            kind: i.kind,
            tlp: i.tlp,
            feed_id: i.feed_id,
            company_id: m.company_id,
            source_id: m.source_id,
            alert_id: m.alert_id,
            count: m.count,
            first_ms: m.first_ms,
            last_ms: m.last_ms,
        })
        .collect())
}

/// Each sighting with its indicator.
async fn with_indicators(app: &App, rows: Vec<sighting::Model>) -> Result<Vec<(sighting::Model, Option<indicator::Model>)>> {
    let mut ids: Vec<String> = rows.iter().map(|r| r.indicator_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        for i in indicator::Entity::find().filter(indicator::Column::Id.is_in(chunk.to_vec())).all(app.store.conn()).await? {
            found.insert(i.id.clone(), i);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let i = found.get(&r.indicator_id).cloned();
            (r, i)
        })
        .collect())
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default()
}

/// Sightings as a STIX 2.1 bundle to share back with the ISAC: those of indicators whose
/// TLP is at most `max_tlp` (never amber+strict or red, which stay inside), last seen at
/// or after `since_ms`. Indicators without a STIX id of their own are included, so every
/// sighting points at an object the receiver can read.
pub async fn export_sightings(app: &App, who: &Principal, max_tlp: Tlp, since_ms: Option<i64>) -> Result<Value> {
    who.require(Permission::RulesManage)?;
    if max_tlp > Tlp::Amber {
        return Err(AppError::coded("max_tlp", "tlp-not-shared", "amber+strict and red are not shared outside"));
    }
    let s = scope(who, Permission::RulesManage)?;
    let mut find = sighting::Entity::find().order_by_asc(sighting::Column::FirstMs);
    if let Some(t) = since_ms {
        find = find.filter(sighting::Column::LastMs.gte(t));
    }
    let rows = with_indicators(app, find.all(app.store.conn()).await?).await?;
    let db = app.store.conn();
    let identity_id = match isms_store::settings::get(db, "stix_identity").await? {
        Some(id) => id,
        None => {
            let id = format!("identity--{}", uuid::Uuid::now_v7());
            let txn = app.store.write().await?;
            isms_store::settings::put(&txn, "stix_identity", &id).await?;
            txn.commit().await?;
            id
        }
    };
    use isms_store::org::company;
    let group = company::Entity::find().filter(company::Column::IsHolding.eq(true)).one(db).await?.map(|c| c.name).unwrap_or_else(|| "isms".into());
    let now = iso(now_ms());
    let mut objects = vec![
        json!({"type": "identity", "spec_version": "2.1", "id": identity_id, "created": now, "modified": now, "name": group, "identity_class": "organization"}),
    ];
    let mut included = std::collections::HashSet::new();
    let mut shared = 0;
    for (m, i) in rows {
        let Some(i) = i else { continue };
        let Some(tlp) = Tlp::parse(&i.tlp) else { continue };
        if tlp > max_tlp || !in_scope(&s, m.company_id.as_deref()) {
            continue;
        }
        let marking = tlp.stix_marking().unwrap_or_default();
        let indicator_ref = match i.external_id.as_deref().filter(|e| e.starts_with("indicator--")) {
            Some(e) => e.to_string(),
            None => {
                let id = format!("indicator--{}", i.id);
                if included.insert(id.clone()) {
                    let kind = Kind::parse(&i.kind).unwrap_or(Kind::Domain);
                    let pattern = stix_pattern(kind, &i.value);
                    objects.push(json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": iso(i.created_ms), "modified": iso(i.updated_ms),
                        "name": if i.name.is_empty() { i.value.clone() } else { i.name.clone() }, "pattern": pattern, "pattern_type": "stix",
                        "valid_from": iso(i.valid_from_ms.unwrap_or(i.created_ms)), "created_by_ref": identity_id, "object_marking_refs": [marking]}));
                }
                id
            }
        };
        objects.push(
            json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", m.id), "created": iso(m.created_ms), "modified": iso(m.last_ms),
            "sighting_of_ref": indicator_ref, "first_seen": iso(m.first_ms), "last_seen": iso(m.last_ms), "count": m.count.min(999_999_999),
            "where_sighted_refs": [identity_id], "created_by_ref": identity_id, "object_marking_refs": [marking]}),
        );
        shared += 1;
    }
    let txn = app.store.write().await?;
    record(
        app,
        &txn,
        who,
        "monitoring.sightings.export",
        "sighting",
        None,
        None,
        json!({"max_tlp": max_tlp.code(), "since_ms": since_ms, "sightings": shared}),
    )
    .await?;
    txn.commit().await?;
    Ok(json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::now_v7()), "objects": objects}))
}

/// The STIX pattern of one indicator value.
pub fn stix_pattern(kind: Kind, value: &str) -> String {
    let q = value.replace('\\', "\\\\").replace('\'', "\\'");
    match kind {
        Kind::Ipv4 => format!("[ipv4-addr:value = '{q}']"),
        Kind::Ipv6 => format!("[ipv6-addr:value = '{q}']"),
        Kind::Domain => format!("[domain-name:value = '{q}']"),
        Kind::Url => format!("[url:value = '{q}']"),
        Kind::Email => format!("[email-addr:value = '{q}']"),
        Kind::Md5 => format!("[file:hashes.MD5 = '{q}']"),
        Kind::Sha1 => format!("[file:hashes.'SHA-1' = '{q}']"),
        Kind::Sha256 => format!("[file:hashes.'SHA-256' = '{q}']"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isms_detect::intel::pattern::parse;

    #[test]
    fn exported_patterns_read_back_as_the_indicator() {
        for (k, v) in [
            (Kind::Ipv4, "10.0.0.0/8"),
            (Kind::Sha1, "0011223344556677889900112233445566778899"),
            (Kind::Url, "http://x.example/a'b"),
            (Kind::Email, "a@b.example"),
        ] {
            assert_eq!(parse(&stix_pattern(k, v)).unwrap().indicators().unwrap(), [(k, v.to_string())]);
        }
    }

    #[test]
    fn urls_join() {
        assert_eq!(join_url("https://t.example/taxii2/", "/api1/"), "https://t.example/api1/");
        assert_eq!(join_url("https://t.example/taxii2/", "https://o.example/r/"), "https://o.example/r/");
        assert_eq!(join_url("https://t.example/taxii2", "api1/"), "https://t.example/taxii2/api1/");
    }
}
