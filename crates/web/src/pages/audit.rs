//! The audit trail page: filter by actor, action, record and dates, page by keyset, export.

use super::shell::{Shell, render};
use crate::WebState;
use crate::context::{Ctx, Who};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use isms_app::audit::{self, AuditEntry};
use isms_store::audit::AuditQuery;
use isms_webkit::context::PageCx;
use isms_webkit::error::{OrPage, PageResult};
use serde::Deserialize;
use std::collections::HashMap;

const PAGE: u64 = 100;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQ {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub record: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: Option<i64>,
}

impl AuditQ {
    /// Dates are days in the user's time zone; `to` includes the whole day.
    pub fn to_query(&self, tz: &jiff::tz::TimeZone, limit: u64) -> AuditQuery {
        let day = |s: &str, add: i64| -> Option<i64> {
            let d: jiff::civil::Date = s.trim().parse().ok()?;
            let d = if add > 0 { d.tomorrow().ok()? } else { d };
            d.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp().as_millisecond())
        };
        let none_if_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        AuditQuery {
            actor: None,
            action_prefix: none_if_empty(&self.action),
            entity: none_if_empty(&self.entity),
            record_id: none_if_empty(&self.record),
            from_ms: day(&self.from, 0),
            to_ms: day(&self.to, 1),
            before_seq: self.before,
            limit,
            hidden: vec![],
        }
    }

    pub fn next_link(&self, before: &i64) -> String {
        let enc = crate::context::url_encode;
        format!(
            "?action={}&entity={}&record={}&from={}&to={}&before={before}",
            enc(&self.action),
            enc(&self.entity),
            enc(&self.record),
            enc(&self.from),
            enc(&self.to)
        )
    }

    pub fn export_link(&self) -> String {
        let enc = crate::context::url_encode;
        format!("?action={}&entity={}&record={}&from={}&to={}", enc(&self.action), enc(&self.entity), enc(&self.record), enc(&self.from), enc(&self.to))
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    rows: Vec<AuditEntry>,
    total: u64,
    q: AuditQ,
    actors: HashMap<String, String>,
    next_before: Option<i64>,
}

impl AuditPage {
    fn actor(&self, a: &str) -> String {
        self.actors.get(a).cloned().unwrap_or_else(|| a.to_owned())
    }
    fn detail(&self, e: &AuditEntry) -> String {
        let s = e.detail.to_string();
        if s.chars().count() > 160 { format!("{}…", s.chars().take(160).collect::<String>()) } else { s }
    }
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<AuditQ>) -> PageResult {
    Ok({
        let (rows, total) = audit::list(&state.app, &who, &q.to_query(&ctx.tz, PAGE)).await.or_page(&ctx)?;
        let actors = audit::actor_names(&state.app, &rows).await.or_page(&ctx)?;
        let next_before = (rows.len() as u64 == PAGE).then(|| rows.last().map(|r| r.seq)).flatten();
        let shell = Shell::new(&ctx, &headers, "audit-title");
        render(&AuditPage { shell, rows, total, q, actors, next_before })
    })
}

pub async fn export(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<AuditQ>) -> Response {
    let csv = isms_webkit::page_try!(&ctx, audit::export_csv(&state.app, &who, &q.to_query(&ctx.tz, 100_000)).await);
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\"")], csv).into_response()
}
