//! The audit trail as one record's page shows it: its entries, oldest first, and who
//! the actors were. Reading the whole trail with its need-to-know rule is the audit
//! viewer's (in the application crate), which names domains the kernel does not know.

use crate::{App, Result};
use isms_store::audit::{self as store, AuditQuery};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub record_id: Option<String>,
    pub company_id: Option<String>,
    pub detail: serde_json::Value,
    pub hash: String,
}

impl From<store::log::Model> for AuditEntry {
    fn from(m: store::log::Model) -> Self {
        Self {
            seq: m.seq,
            at_ms: m.at_ms,
            actor: m.actor,
            action: m.action,
            entity: m.entity,
            record_id: m.record_id,
            company_id: m.company_id,
            detail: serde_json::from_str(&m.detail).unwrap_or(serde_json::Value::Null),
            hash: m.hash,
        }
    }
}

/// The history of one record, oldest first, for its record page. The caller has already
/// read the record through its own use case, so the reader may see its history.
pub async fn record_history(app: &App, entity: &str, record_id: &str) -> Result<Vec<AuditEntry>> {
    let q = AuditQuery { entity: Some(entity.into()), record_id: Some(record_id.into()), limit: 200, ..Default::default() };
    let (mut rows, _) = store::list(app.store.conn(), None, &q).await?;
    rows.reverse();
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

/// Display names for `user:<id>` actors, for showing the trail to people.
pub async fn actor_names(app: &App, entries: &[AuditEntry]) -> Result<std::collections::HashMap<String, String>> {
    use isms_store::accounts::{api_token, user};
    use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let ids: Vec<String> = entries.iter().filter_map(|e| e.actor.strip_prefix("user:").map(str::to_owned)).collect();
    let tokens: Vec<String> = entries.iter().filter_map(|e| e.actor.strip_prefix("token:").map(str::to_owned)).collect();
    let mut out = std::collections::HashMap::new();
    if !ids.is_empty() {
        for u in user::Entity::find().filter(user::Column::Id.is_in(ids)).all(app.store.conn()).await? {
            let name = if u.display_name.trim().is_empty() { u.username.clone() } else { format!("{} ({})", u.display_name.trim(), u.username) };
            out.insert(format!("user:{}", u.id), name);
        }
    }
    if !tokens.is_empty() {
        for t in api_token::Entity::find().filter(api_token::Column::Id.is_in(tokens)).all(app.store.conn()).await? {
            out.insert(format!("token:{}", t.id), format!("API: {}", t.name));
        }
    }
    Ok(out)
}
