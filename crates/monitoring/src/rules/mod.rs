//! The group's detection rules: Sigma rules imported from SigmaHQ folders or archives or
//! written here, each checked before it is kept; per-company and per-source overrides
//! (off, or an exception on one field's value) with a reason and an expiry; and the one
//! compiled engine the pipeline matches events with, rebuilt when the rules change while
//! the previous one keeps working.

use super::{in_scope, scope};
use isms_core::monitoring::Severity;
use isms_core::{FieldError, Permission};
use isms_detect::pattern::Placeholders;
use isms_detect::rule::parse_documents;
use isms_detect::{Engine, Level, LoadReport, LogSourceMap};
use isms_kernel::input::blank_to_none;
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::monitoring::{rule, rule_override, source};
use isms_store::now_ms;
use isms_store::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest rule text.
const MAX_RULE_BYTES: usize = 2 * 1024 * 1024;

/// A rule's place in the compiled engine.
#[derive(Debug, Clone)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub overrides: Vec<Override>,
}

/// An override as the pipeline applies it.
#[derive(Debug, Clone)]
pub struct Override {
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub field: Option<String>,
    /// Compared without case.
    pub value: Option<String>,
    /// End of the expiry day (UTC); `None`: until removed.
    pub until_ms: Option<i64>,
}

impl Override {
    /// Whether this override silences the rule for an event of `source` (company
    /// `company`) at `now_ms`; `field` reads the event's text of a field.
    pub fn applies(&self, company: Option<&str>, source: &str, now_ms: i64, field: &dyn Fn(&str) -> Option<String>) -> bool {
        if self.until_ms.is_some_and(|u| now_ms > u) {
            return false;
        }
        if self.company_id.as_deref().is_some_and(|c| Some(c) != company) || self.source_id.as_deref().is_some_and(|s| s != source) {
            return false;
        }
        match (&self.field, &self.value) {
            (Some(f), Some(v)) => field(f).is_some_and(|t| t.to_lowercase() == *v),
            _ => true,
        }
    }
}

/// The engine of every enabled, valid rule, with what each engine rule stands for.
pub struct Compiled {
    pub engine: Engine,
    pub rules: Vec<RuleMeta>,
}

fn level_code(l: Option<Level>) -> &'static str {
    match l {
        Some(Level::Informational) => "informational",
        Some(Level::Low) => "low",
        Some(Level::High) => "high",
        Some(Level::Critical) => "critical",
        _ => "medium",
    }
}

pub(crate) fn date_end_ms(d: &str) -> Option<i64> {
    let date: jiff::civil::Date = d.parse().ok()?;
    let end = date.to_datetime(jiff::civil::Time::MAX).to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?;
    Some(end.timestamp().as_millisecond())
}

/// The compiled rules, rebuilt when a rule changed here or on another instance. While a
/// rebuild runs, callers keep the previous engine, so events are never held up by it.
pub async fn compiled(app: &App) -> Result<Arc<Compiled>> {
    crate::shared(app).rules.get(app, |app| async move { Ok((build(&app).await?, None)) }).await
}

async fn build(app: &App) -> Result<Compiled> {
    let db = app.store.conn();
    let rows =
        rule::Entity::find().filter(rule::Column::Enabled.eq(true)).filter(rule::Column::Error.is_null()).order_by_asc(rule::Column::FileName).all(db).await?;
    let mut overrides: HashMap<String, Vec<Override>> = HashMap::new();
    for o in rule_override::Entity::find().all(db).await? {
        overrides.entry(o.rule_id.clone()).or_default().push(Override {
            company_id: o.company_id,
            source_id: o.source_id,
            field: o.field,
            value: o.value.map(|v| v.to_lowercase()),
            until_ms: o.expires_on.as_deref().and_then(date_end_ms),
        });
    }
    tokio::task::spawn_blocking(move || {
        let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
        let mut metas = vec![];
        for r in rows {
            let mut report = LoadReport::default();
            let before = engine.len();
            engine.add_rules(&r.file_name, &r.body, &mut report);
            for i in before..engine.len() {
                let rule = engine.rule(i);
                metas.push(RuleMeta {
                    id: r.id.clone(),
                    title: rule.title.clone(),
                    severity: Severity::from_level(Some(level_code(rule.level))),
                    overrides: overrides.get(&r.id).cloned().unwrap_or_default(),
                });
            }
            // A rule that stopped compiling (an engine upgrade) is skipped; the others load.
            if !report.refused.is_empty() {
                tracing::warn!(file = %r.file_name, "detection rule skipped: {}", report.refused[0]);
            }
        }
        engine.finish();
        Compiled { engine, rules: metas }
    })
    .await
    .map_err(|e| AppError::internal(e.to_string()))
}

/// A problem with a rule's text, where it is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = RuleProblem)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub reason: String,
}

/// What a rule's text says about itself.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = RuleChecked)]
pub struct Checked {
    pub uid: Option<String>,
    pub title: String,
    pub level: String,
    pub status: String,
    pub tags: Vec<String>,
    /// Rules in the text (a file may hold several documents).
    pub rules: usize,
    pub problems: Vec<Problem>,
}

/// Reads a rule's text as the engine would: what it is and everything wrong with it.
pub fn check_text(body: &str) -> Checked {
    let mut out = Checked::default();
    if body.len() > MAX_RULE_BYTES {
        out.problems.push(Problem { line: 1, column: 1, kind: "too-large".into(), reason: format!("the rule is larger than {} KiB", MAX_RULE_BYTES / 1024) });
        return out;
    }
    let docs = match parse_documents(body, &Placeholders::new()) {
        Ok(d) => d,
        Err(e) => {
            out.problems.push(Problem { line: e.position.line, column: e.position.column, kind: e.kind.into(), reason: e.reason });
            return out;
        }
    };
    for d in docs {
        match (&d.correlation, &d.rule) {
            (Some(Ok(_)), _) => out.rules += 1,
            (Some(Err(e)), _) | (None, Err(e)) => {
                out.problems.push(Problem { line: e.position.line, column: e.position.column, kind: e.kind.into(), reason: e.reason.clone() })
            }
            (None, Ok(r)) => {
                out.rules += 1;
                if out.title.is_empty() {
                    out.uid = r.id.clone();
                    out.title = r.title.clone();
                    out.level = level_code(r.level).into();
                    out.status = r.status.clone().unwrap_or_default();
                    out.tags = r.tags.clone();
                }
            }
        }
        if out.title.is_empty()
            && let Some(t) = &d.title
        {
            out.title = t.clone();
            out.uid = d.id.clone();
        }
    }
    if out.rules == 0 && out.problems.is_empty() {
        out.problems.push(Problem { line: 1, column: 1, kind: "empty".into(), reason: "the text holds no rule".into() });
    }
    if out.title.is_empty() && out.problems.is_empty() {
        out.problems.push(Problem { line: 1, column: 1, kind: "missing-title".into(), reason: "the rule has no title".into() });
    }
    out.title = out.title.chars().take(300).collect();
    out
}

fn problems_error(problems: &[Problem]) -> AppError {
    AppError::Invalid(
        problems
            .iter()
            .map(|p| {
                FieldError::coded("body", "rule-problem", format!("line {}, column {}: {}", p.line, p.column, p.reason))
                    .arg("line", p.line.to_string())
                    .arg("column", p.column.to_string())
                    .arg("reason", p.reason.clone())
            })
            .collect(),
    )
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: String,
    pub uid: Option<String>,
    pub title: String,
    pub level: String,
    pub status: String,
    /// `sigmahq` (imported) or `custom` (written or edited here).
    pub origin: String,
    pub file_name: String,
    pub enabled: bool,
    pub error: Option<String>,
    pub tags: Vec<String>,
    pub updated_ms: i64,
}

impl From<rule::Model> for RuleView {
    fn from(m: rule::Model) -> Self {
        Self {
            id: m.id,
            uid: m.rule_uid,
            title: m.title,
            level: m.level,
            status: m.status,
            origin: m.origin,
            file_name: m.file_name,
            enabled: m.enabled,
            error: m.error,
            tags: m.tags.split_whitespace().map(str::to_owned).collect(),
            updated_ms: m.updated_ms,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    /// Words of the title, the file name or the rule's id.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    /// `sigmahq` or `custom`.
    #[serde(default)]
    pub origin: Option<String>,
    /// `yes` or `no`.
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub limit: Option<u64>,
}

pub async fn list(app: &App, who: &Principal, q: &RuleQuery) -> Result<Page<RuleView>> {
    who.require(Permission::MonitoringRead)?;
    let mut f = rule::Entity::find();
    if let Some(words) = isms_store::search::cleaned(q.q.as_deref()) {
        use rule::Column as C;
        f = f.filter(isms_store::search::every_word(&[C::Title, C::FileName, C::RuleUid, C::Tags], &words));
    }
    if let Some(l) = blank_to_none(&q.level) {
        f = f.filter(rule::Column::Level.eq(l));
    }
    if let Some(o) = blank_to_none(&q.origin) {
        f = f.filter(rule::Column::Origin.eq(o));
    }
    match q.enabled.as_deref() {
        Some("yes") => f = f.filter(rule::Column::Enabled.eq(true)),
        Some("no") => f = f.filter(rule::Column::Enabled.eq(false)),
        _ => {}
    }
    let db = app.store.conn();
    let total = f.clone().count(db).await?;
    let rows = f
        .order_by_asc(rule::Column::Title)
        .order_by_asc(rule::Column::Id)
        .offset(isms_store::page_offset(q.offset.unwrap_or(0)))
        .limit(q.limit.unwrap_or(50).clamp(1, 500))
        .all(db)
        .await?;
    Ok(Page { items: rows.into_iter().map(RuleView::from).collect(), total })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleDetail {
    pub rule: RuleView,
    pub body: String,
    pub overrides: Vec<OverrideView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OverrideView {
    pub id: String,
    pub company_id: Option<String>,
    pub source_id: Option<String>,
    pub source_name: Option<String>,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
    pub expires_on: Option<String>,
    pub expired: bool,
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<RuleDetail> {
    let s = scope(who, Permission::MonitoringRead)?;
    let db = app.store.conn();
    let m = rule::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    let names: HashMap<String, String> = source::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.name)).collect();
    let now = now_ms();
    let overrides = rule_override::Entity::find()
        .filter(rule_override::Column::RuleId.eq(id.to_owned()))
        .order_by_asc(rule_override::Column::CreatedMs)
        .all(db)
        .await?
        .into_iter()
        // Overrides of companies outside the reader's scope are theirs alone.
        .filter(|o| o.company_id.is_none() || in_scope(&s, o.company_id.as_deref()))
        .map(|o| OverrideView {
            expired: o.expires_on.as_deref().and_then(date_end_ms).is_some_and(|u| now > u),
            source_name: o.source_id.as_ref().and_then(|s| names.get(s).cloned()),
            id: o.id,
            company_id: o.company_id,
            source_id: o.source_id,
            field: o.field,
            value: o.value,
            reason: o.reason,
            expires_on: o.expires_on,
        })
        .collect();
    Ok(RuleDetail { body: m.body.clone(), rule: m.into(), overrides })
}

mod edit;
mod import;
mod overrides;
mod testing;

pub use edit::*;
pub use import::*;
pub use overrides::*;
pub use testing::*;
