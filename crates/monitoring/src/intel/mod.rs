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

mod sightings;
mod taxii;

pub use sightings::{Compiled, Meta, compiled, export_sightings, seen_by_alert, sightings, stix_pattern};
pub use taxii::{pull_due, pull_now};

mod feeds;
pub use feeds::*;
