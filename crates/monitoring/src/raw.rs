//! Recent raw events: a source set to keep them stores every event it sends (not only
//! those that raised alerts) in the batch's own transaction, so they are searchable by
//! time, source, host, user and text. They are kept for a number of days and within a
//! total size; the oldest go first.

use super::alerts::{EventQuery, day_ms};
use isms_core::Permission;
use isms_kernel::input::blank_to_none;
use isms_kernel::{App, Page, Principal, Result};
use isms_store::monitoring::raw_event;
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::{Expr, ExprTrait};
use isms_store::sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

/// How long raw events are kept (a setting of the kernel's `AppConfig`).
pub use isms_kernel::RawRetention as Retention;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RawHit {
    pub id: String,
    pub company_id: Option<String>,
    pub source_id: String,
    pub received_ms: i64,
    /// The event's own time when it carries one, else when it was received.
    pub at_ms: i64,
    pub host: String,
    pub user_name: String,
    pub raw: String,
}

/// Raw events within the reader's companies, newest first.
pub async fn search(app: &App, who: &Principal, q: &EventQuery) -> Result<Page<RawHit>> {
    let (from, to) = (day_ms("from", &q.from, false)?, day_ms("to", &q.to, true)?);
    let mut f = raw_event::Entity::find();
    if let Some(set) = super::scope(who, Permission::MonitoringRead)? {
        f = f.filter(raw_event::Column::CompanyId.is_in(set));
    }
    if let Some(s) = blank_to_none(&q.source_id) {
        f = f.filter(raw_event::Column::SourceId.eq(s));
    }
    if let Some(t) = from {
        f = f.filter(raw_event::Column::EventMs.gte(t));
    }
    if let Some(t) = to {
        f = f.filter(raw_event::Column::EventMs.lte(t));
    }
    f = f.filter(q.text_filter(raw_event::Column::Host, raw_event::Column::UserName, raw_event::Column::Body));
    let db = app.store.conn();
    let total = f.clone().count(db).await?;
    let rows = f
        .order_by_desc(raw_event::Column::EventMs)
        .order_by_desc(raw_event::Column::Id)
        .offset(isms_store::page_offset(q.offset.unwrap_or(0)))
        .limit(q.limit.unwrap_or(50).clamp(1, 500))
        .all(db)
        .await?;
    let items = rows
        .into_iter()
        .map(|r| RawHit {
            id: r.id,
            company_id: r.company_id,
            source_id: r.source_id,
            received_ms: r.received_ms,
            at_ms: r.event_ms,
            host: r.host,
            user_name: r.user_name,
            raw: r.body,
        })
        .collect();
    Ok(Page { items, total })
}

#[derive(Debug, FromQueryResult)]
struct Sized {
    received_ms: i64,
    bytes: i32,
}

#[derive(Debug, FromQueryResult)]
struct Total {
    total: Option<i64>,
}

/// Deletes raw events older than the retention's days, then the oldest until the rest fit
/// its size. Safe on several instances at once (each deletes what is past the bounds).
/// Returns how many went.
pub async fn prune(app: &App) -> Result<u64> {
    let r = app.config().raw_retention;
    let db = app.store.conn();
    let cutoff = now_ms() - r.days * 86_400_000;
    let mut gone = raw_event::Entity::delete_many().filter(raw_event::Column::ReceivedMs.lt(cutoff)).exec(db).await?.rows_affected;
    let total = raw_event::Entity::find()
        .select_only()
        .column_as(Expr::col(raw_event::Column::Bytes).sum().cast_as("BIGINT"), "total")
        .into_model::<Total>()
        .one(db)
        .await?
        .and_then(|t| t.total)
        .unwrap_or(0);
    if total <= r.max_bytes {
        return Ok(gone);
    }
    // Walk the oldest first, from the index alone, until enough is found to go.
    let mut excess = total - r.max_bytes;
    let mut after = i64::MIN;
    let mut until = None;
    'walk: loop {
        let page = raw_event::Entity::find()
            .select_only()
            .column(raw_event::Column::ReceivedMs)
            .column(raw_event::Column::Bytes)
            .filter(raw_event::Column::ReceivedMs.gt(after))
            .order_by_asc(raw_event::Column::ReceivedMs)
            .limit(5_000)
            .into_model::<Sized>()
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.received_ms;
        for s in &page {
            excess -= s.bytes as i64;
            if excess <= 0 {
                until = Some(s.received_ms);
                break 'walk;
            }
        }
        // Rows received in the same millisecond as the page's last: take them whole.
        let same = raw_event::Entity::find()
            .select_only()
            .column(raw_event::Column::ReceivedMs)
            .column(raw_event::Column::Bytes)
            .filter(raw_event::Column::ReceivedMs.eq(after))
            .into_model::<Sized>()
            .all(db)
            .await?;
        let counted = page.iter().filter(|s| s.received_ms == after).count();
        for s in same.iter().skip(counted) {
            excess -= s.bytes as i64;
        }
        if excess <= 0 {
            until = Some(after);
            break;
        }
    }
    if let Some(t) = until {
        gone += raw_event::Entity::delete_many().filter(raw_event::Column::ReceivedMs.lte(t)).exec(db).await?.rows_affected;
    }
    Ok(gone)
}
