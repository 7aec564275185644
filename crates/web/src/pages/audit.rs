//! The audit trail page: filter by actor, action, record and dates, page by keyset, export.

use super::shell::{Shell, render};
use crate::WebState;
use crate::context::Ctx;
use askama::Template;
use axum::extract::Query;
use axum::response::Response;
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

/// The areas an auditor filters by: each is the start of the action codes it records.
pub const AREAS: &[&str] =
    &["auth", "accounts", "people", "org", "audit", "assets", "policies", "incidents", "compliance", "risks", "findings", "monitoring", "settings"];

/// The kinds of record the trail names, each with a label `entity-<kind>`.
pub const ENTITIES: &[&str] = &[
    "user",
    "session",
    "api_token",
    "person",
    "company",
    "department",
    "information_asset",
    "supporting_asset",
    "handling_category",
    "asset_finding",
    "takeout",
    "document",
    "document_kind",
    "incident",
    "drill",
    "playbook",
    "framework",
    "requirement",
    "control",
    "risk",
    "risk_matrix",
    "review_finding",
    "alert",
    "alert_suppression",
    "detection_rule",
    "event_source",
    "intel_feed",
    "sighting",
    "oncall_rotation",
    "audit_log",
];

/// One entry as an auditor reads it: who by name, what in words, on which record by
/// name, in which company, and the details as labelled pairs.
pub struct Row {
    pub e: AuditEntry,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub record: Option<String>,
    pub company: String,
    pub details: Vec<(String, String)>,
}

/// Reads entries for people: the names and words the page and the export show.
struct Reader<'a> {
    shell: &'a Shell,
    actors: HashMap<String, String>,
    records: HashMap<(String, String), String>,
    companies: HashMap<String, String>,
}

impl Reader<'_> {
    fn actor(&self, a: &str) -> String {
        self.shell.actor(&self.actors, a)
    }

    fn entity(&self, kind: &str) -> String {
        let key = format!("entity-{}", kind.replace('_', "-"));
        if self.shell.has(&key) { self.shell.t(&key) } else { kind.to_owned() }
    }

    /// A detail's key in words: the trail's own label, else the form field's, else the key.
    fn key(&self, k: &str) -> String {
        let k = k.replace('_', "-");
        for key in [format!("audit-key-{k}"), format!("field-{k}")] {
            if self.shell.has(&key) {
                return self.shell.t(&key);
            }
        }
        k
    }

    fn value(&self, v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => self.companies.get(s).cloned().unwrap_or_else(|| s.clone()),
            serde_json::Value::Bool(b) => self.shell.t(if *b { "yes" } else { "no" }),
            serde_json::Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => a.iter().map(|x| self.value(x)).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    }

    /// The details as labelled pairs; an object one level down (`before`, `after`) as
    /// pairs of its own, each labelled "after › title".
    fn details(&self, v: &serde_json::Value) -> Vec<(String, String)> {
        let serde_json::Value::Object(m) = v else {
            return if v.is_null() { vec![] } else { vec![(String::new(), v.to_string())] };
        };
        let mut out = vec![];
        for (k, v) in m.iter().filter(|(_, v)| !v.is_null()) {
            match v {
                serde_json::Value::Object(inner) => {
                    let parent = self.key(k);
                    for (k2, v2) in inner.iter().filter(|(_, v)| !v.is_null() && v.as_str() != Some("")) {
                        out.push((format!("{parent} › {}", self.key(k2)), self.value(v2)));
                    }
                }
                v => out.push((self.key(k), self.value(v))),
            }
        }
        out
    }

    fn row(&self, e: AuditEntry) -> Row {
        Row {
            actor: self.actor(&e.actor),
            action: self.shell.action(&e.action),
            entity: self.entity(&e.entity),
            record: e.record_id.as_ref().and_then(|id| self.records.get(&(e.entity.clone(), id.clone())).cloned()),
            company: e.company_id.as_ref().map(|c| self.companies.get(c).cloned().unwrap_or_else(|| c.clone())).unwrap_or_default(),
            details: self.details(&e.detail),
            e,
        }
    }
}

async fn reader<'a>(state: &WebState, who: &isms_app::Principal, shell: &'a Shell, rows: &[AuditEntry]) -> isms_app::Result<Reader<'a>> {
    let actors = audit::actor_names(&state.app, rows).await?;
    let records = audit::record_names(&state.app, rows).await?;
    // A reader who may not see the organisation gets ids, not an error; a failure stays one.
    let companies = match isms_app::org::list_companies(&state.app, who).await {
        Ok(list) => list.into_iter().map(|c| (c.id, c.name)).collect(),
        Err(isms_app::AppError::Forbidden) => HashMap::new(),
        Err(e) => return Err(e),
    };
    Ok(Reader { shell, actors, records, companies })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    rows: Vec<Row>,
    total: u64,
    q: AuditQ,
    next_before: Option<i64>,
    /// The areas and kinds of record to filter by, with their names.
    areas: Vec<(&'static str, String)>,
    entities: Vec<(&'static str, String)>,
    /// The reader may check the chain (group-wide audit access).
    can_check: bool,
    check: Option<audit::ChainCheck>,
}

impl AuditPage {
    fn fault(&self, code: &str, args: &[(String, String)]) -> String {
        let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.shell.tr(&format!("audit-fault-{code}"), &args)
    }
}

async fn page(
    state: &WebState,
    ctx: &Ctx,
    headers: &axum::http::HeaderMap,
    who: &isms_app::Principal,
    q: AuditQ,
    check: Option<audit::ChainCheck>,
) -> PageResult {
    let (rows, total) = audit::list(&state.app, who, &q.to_query(&ctx.tz, PAGE)).await.or_page(ctx)?;
    let next_before = (rows.len() as u64 == PAGE).then(|| rows.last().map(|r| r.seq)).flatten();
    let shell = Shell::new(ctx, headers, "audit-title");
    let read = reader(state, who, &shell, &rows).await.or_page(ctx)?;
    let rows = rows.into_iter().map(|e| read.row(e)).collect();
    let areas = AREAS.iter().map(|a| (*a, shell.t(&format!("audit-area-{a}")))).collect();
    let entities = ENTITIES.iter().map(|k| (*k, read.entity(k))).collect();
    let can_check = who.within(isms_core::Permission::AuditRead).map(|w| w.is_none()).unwrap_or(false);
    drop(read);
    Ok(render(&AuditPage { shell, rows, total, q, next_before, areas, entities, can_check, check }))
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<AuditQ>) -> PageResult {
    page(&state, &ctx, &headers, &who, q, None).await
}

/// Checks the whole chain and shows the result above the trail (group-wide readers).
pub async fn check(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    let result = audit::check_chain(&state.app, &who).await.or_page(&ctx)?;
    page(&state, &ctx, &headers, &who, AuditQ::default(), Some(result)).await
}

/// The filtered trail as CSV, as the page reads it: names, words, times in the reader's
/// time zone with their offset; the codes and ids beside them for machines.
pub async fn export(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<AuditQ>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, audit::export_entries(&state.app, &who, &q.to_query(&ctx.tz, 100_000)).await);
    let shell = Shell::new(&ctx, &headers, "audit-title");
    let read = isms_webkit::page_try!(&ctx, reader(&state, &who, &shell, &rows).await);
    let head = ["seq", "time", "actor", "action", "action-code", "entity", "record", "record-id", "company", "detail", "hash"];
    let mut table = vec![head.iter().map(|h| shell.t(&format!("audit-csv-{h}"))).collect::<Vec<_>>()];
    for e in rows {
        let at = jiff::Timestamp::from_millisecond(e.at_ms)
            .map(|t| t.to_zoned_datetime(ctx.tz.clone()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string())
            .unwrap_or_default();
        let (seq, code, id, hash, raw) = (e.seq, e.action.clone(), e.record_id.clone().unwrap_or_default(), e.hash.clone(), e.detail.to_string());
        let r = read.row(e);
        table.push(vec![seq.to_string(), at, r.actor, r.action, code, r.entity, r.record.unwrap_or_default(), id, r.company, raw, hash]);
    }
    isms_webkit::download::csv("audit.csv", &table)
}
