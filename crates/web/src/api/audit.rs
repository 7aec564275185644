//! The audit trail over JSON.

use super::Problem;
use crate::WebState;
use crate::context::Who;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Query, State};
use isms_app::audit::{self, AuditEntry};
use isms_store::audit::AuditQuery;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// Actions starting with this, e.g. `people.`
    action: Option<String>,
    entity: Option<String>,
    record_id: Option<String>,
    /// `user:<id>`, `token:<id>` or `system`
    actor: Option<String>,
    /// Unix milliseconds, inclusive.
    from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    to_ms: Option<i64>,
    /// Entries before this sequence number (for the next page).
    before_seq: Option<i64>,
    /// At most 1000.
    limit: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: u64,
    /// Pass as `before_seq` for the next (older) page.
    pub next_before_seq: Option<i64>,
}

/// Audit entries, newest first, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(Params), responses((status = 200, body = AuditPage), (status = 403, body = Problem)))]
pub async fn list(State(s): State<WebState>, Who(who): Who, Query(p): Query<Params>) -> Result<Json<AuditPage>, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let q = AuditQuery {
        actor: p.actor,
        action_prefix: p.action,
        entity: p.entity,
        record_id: p.record_id,
        from_ms: p.from_ms,
        to_ms: p.to_ms,
        before_seq: p.before_seq,
        limit,
        hidden: vec![],
    };
    let (items, total) = audit::list(&s.app, &who, &q).await?;
    let next_before_seq = (items.len() as u64 == limit).then(|| items.last().map(|e| e.seq)).flatten();
    Ok(Json(AuditPage { items, total, next_before_seq }))
}
