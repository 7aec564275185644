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
    super::shared(app).rules.get(app, |app| async move { Ok((build(&app).await?, None)) }).await
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

/// One file of an import.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = RuleImportReport)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rules edited here keep their local text.
    pub kept_local: Vec<String>,
    pub refused: Vec<ImportRefusal>,
    /// Files that are not rules (not `.yml` or `.yaml`).
    pub skipped: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRefusal {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub kind: String,
    pub reason: String,
}

/// The rule files inside a ZIP archive (a SigmaHQ release, say), by their path in it.
pub fn files_from_zip(bytes: &[u8]) -> Result<Vec<ImportFile>> {
    const MAX_TOTAL: u64 = 256 * 1024 * 1024;
    let bad = |m: String| AppError::coded("file", "archive", m.clone()).into_with_arg("reason", m);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(format!("not a ZIP archive: {e}")))?;
    let mut out = vec![];
    let mut total = 0u64;
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = f.name().map_err(|e| bad(format!("entry {i}: {e}")))?.into_owned();
        if f.is_dir() || !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        total += f.size();
        if total > MAX_TOTAL || f.size() > MAX_RULE_BYTES as u64 {
            return Err(bad(format!("{name}: the archive's rules are too large")));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut f, &mut text).map_err(|e| bad(format!("{name}: {e}")))?;
        out.push(ImportFile { name, text });
    }
    Ok(out)
}

/// Imports rule files: each is checked, and kept only when every rule in it is usable.
/// A rule already here (same Sigma id, or same file name) is updated, unless it was edited
/// here. Refused files are listed with the line and the reason, and change nothing.
pub async fn import(app: &App, who: &Principal, files: Vec<ImportFile>) -> Result<ImportReport> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let mut report = ImportReport::default();
    let mut good = vec![];
    for f in files {
        let name = f.name.trim().trim_start_matches("./").to_owned();
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            report.skipped += 1;
            continue;
        }
        let checked = check_text(&f.text);
        if checked.problems.is_empty() {
            good.push((name, f.text, checked));
        } else {
            for p in checked.problems {
                report.refused.push(ImportRefusal { file: name.clone(), line: p.line, column: p.column, kind: p.kind, reason: p.reason });
            }
        }
    }
    let now = now_ms();
    let txn = app.store.write().await?;
    let existing = rule::Entity::find().all(&txn).await?;
    let mut by_uid: HashMap<String, rule::Model> = HashMap::new();
    let mut by_file: HashMap<String, rule::Model> = HashMap::new();
    for m in existing {
        if let Some(u) = &m.rule_uid {
            by_uid.insert(u.clone(), m.clone());
        }
        by_file.insert(m.file_name.clone(), m);
    }
    for (name, text, c) in good {
        let found = c.uid.as_ref().and_then(|u| by_uid.get(u)).or_else(|| by_file.get(&name)).cloned();
        match found {
            Some(m) if m.origin == "custom" => report.kept_local.push(m.title),
            Some(m) if m.body == text => report.unchanged += 1,
            Some(m) => {
                let mut a = m.into_active_model();
                a.body = Set(text);
                a.title = Set(c.title);
                a.level = Set(c.level);
                a.status = Set(c.status);
                a.tags = Set(c.tags.join(" "));
                a.rule_uid = Set(c.uid);
                a.error = Set(None);
                a.updated_ms = Set(now);
                a.update(&txn).await?;
                report.updated += 1;
            }
            None => {
                if by_file.contains_key(&name) {
                    report.refused.push(ImportRefusal {
                        file: name,
                        line: 1,
                        column: 1,
                        kind: "file-taken".into(),
                        reason: "another rule has this file name".into(),
                    });
                    continue;
                }
                let m = rule::Model {
                    id: uuid::Uuid::now_v7().to_string(),
                    rule_uid: c.uid.clone(),
                    title: c.title,
                    level: c.level,
                    // Deprecated and unsupported rules come in switched off.
                    enabled: !matches!(c.status.as_str(), "deprecated" | "unsupported"),
                    status: c.status,
                    origin: "sigmahq".into(),
                    file_name: name.clone(),
                    body: text,
                    error: None,
                    tags: c.tags.join(" "),
                    created_by: who.user_id.clone(),
                    created_ms: now,
                    updated_ms: now,
                };
                let m = m.into_active_model().insert(&txn).await?;
                if let Some(u) = &m.rule_uid {
                    by_uid.insert(u.clone(), m.clone());
                }
                by_file.insert(name, m);
                report.created += 1;
            }
        }
    }
    super::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rules.import",
        "detection_rule",
        None,
        None,
        json!({"created": report.created, "updated": report.updated, "unchanged": report.unchanged, "refused": report.refused.len(), "kept_local": report.kept_local.len()}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(report)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// The rule in Sigma YAML.
    pub body: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn slug(title: &str) -> String {
    let s: String = title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    let s = s.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    s.chars().take(60).collect()
}

/// A rule written here.
pub async fn create(app: &App, who: &Principal, input: RuleInput) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let c = check_text(&input.body);
    if !c.problems.is_empty() {
        return Err(problems_error(&c.problems));
    }
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    let txn = app.store.write().await?;
    let m = rule::Model {
        file_name: format!("custom/{}_{}.yml", slug(&c.title), &id[id.len() - 8..]),
        id,
        rule_uid: c.uid,
        title: c.title,
        level: c.level,
        status: c.status,
        origin: "custom".into(),
        body: input.body,
        enabled: input.enabled,
        error: None,
        tags: c.tags.join(" "),
        created_by: who.user_id.clone(),
        created_ms: now,
        updated_ms: now,
    };
    let m = m.into_active_model().insert(&txn).await?;
    super::shared(app).rules.bump(&txn).await?;
    record(app, &txn, who, "monitoring.rule.create", "detection_rule", Some(&m.id), None, json!({"title": m.title, "enabled": m.enabled})).await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(m.into())
}

/// A new text for a rule. An imported rule edited here becomes the group's own: later
/// imports leave it alone.
pub async fn update(app: &App, who: &Principal, id: &str, input: RuleInput) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let c = check_text(&input.body);
    if !c.problems.is_empty() {
        return Err(problems_error(&c.problems));
    }
    let txn = app.store.write().await?;
    let m = rule::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let changed_text = m.body != input.body;
    let before = json!({"title": m.title, "enabled": m.enabled, "level": m.level});
    let mut a = m.into_active_model();
    if changed_text {
        a.body = Set(input.body);
        a.origin = Set("custom".into());
    }
    a.title = Set(c.title);
    a.level = Set(c.level);
    a.status = Set(c.status);
    a.tags = Set(c.tags.join(" "));
    a.rule_uid = Set(c.uid);
    a.enabled = Set(input.enabled);
    a.error = Set(None);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    super::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.update",
        "detection_rule",
        Some(&m.id),
        None,
        json!({"before": before, "after": {"title": m.title, "enabled": m.enabled, "level": m.level}, "text_changed": changed_text}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(m.into())
}

pub async fn set_enabled(app: &App, who: &Principal, id: &str, enabled: bool) -> Result<RuleView> {
    if !who.access.can_for(Permission::RulesManage, None) {
        return Err(AppError::Forbidden);
    }
    let txn = app.store.write().await?;
    let m = rule::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let mut a = m.into_active_model();
    a.enabled = Set(enabled);
    a.updated_ms = Set(now_ms());
    let m = a.update(&txn).await?;
    super::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        if enabled { "monitoring.rule.enable" } else { "monitoring.rule.disable" },
        "detection_rule",
        Some(&m.id),
        None,
        json!({"title": m.title}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(m.into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OverrideInput {
    /// The company it applies to; empty: every company (group-wide rule managers only).
    #[serde(default)]
    pub company_id: Option<String>,
    /// The source it applies to; empty: every source of the company.
    #[serde(default)]
    pub source_id: Option<String>,
    /// With `value`: an exception for events whose field has this value. Without: the
    /// rule is off where the override applies.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    pub reason: String,
    /// Last day it applies (YYYY-MM-DD); empty: until removed.
    #[serde(default)]
    pub expires_on: Option<String>,
}

/// Turns a rule off, or makes an exception to it, for a company or a source. Company
/// security administrators tune the rules for their own companies' sources; the group's
/// rule managers anywhere.
pub async fn add_override(app: &App, who: &Principal, rule_id: &str, input: OverrideInput) -> Result<OverrideView> {
    who.require(Permission::MonitoringManage)?;
    let mut errors = vec![];
    let db = app.store.conn();
    let company_id = blank_to_none(&input.company_id);
    let source_id = blank_to_none(&input.source_id);
    let mut company = company_id.clone();
    let mut source_name = None;
    if let Some(sid) = &source_id {
        // A source the caller may not see is "no such source", never "another company's".
        match source::Entity::find_by_id(sid.clone())
            .one(db)
            .await?
            .filter(|s| who.access.can_for(Permission::MonitoringRead, s.company_id.as_deref().and_then(|c| c.parse().ok())))
        {
            Some(s) => {
                if company.is_some() && company != s.company_id {
                    errors.push(FieldError::coded("source_id", "source-company", "the source belongs to another company"));
                }
                company = s.company_id.clone();
                source_name = Some(s.name);
            }
            None => errors.push(FieldError::coded("source_id", "unknown", "no such source")),
        }
    }
    let allowed = match &company {
        None => who.access.can_for(Permission::RulesManage, None),
        Some(c) => who.access.can_for(Permission::RulesManage, None) || who.access.can_for(Permission::MonitoringManage, c.parse().ok()),
    };
    if !allowed {
        errors.push(FieldError::coded("company_id", "company-out-of-scope", "you do not manage monitoring of this company"));
    }
    let field = blank_to_none(&input.field);
    let value = input.value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    if field.is_some() != value.is_some() {
        errors.push(FieldError::coded(if field.is_some() { "value" } else { "field" }, "required", "is required"));
    }
    if field.as_deref().is_some_and(|f| f.chars().count() > 200 || f.contains(char::is_whitespace)) {
        errors.push(FieldError::coded("field", "field-name", "is not a field name"));
    }
    let reason = isms_kernel::input::required_text(&mut errors, "reason", &input.reason, 2000);
    let expires_on = match blank_to_none(&input.expires_on) {
        None => None,
        Some(d) => match d.parse::<jiff::civil::Date>() {
            Ok(date) if date >= isms_core::calendar::today() => Some(date.to_string()),
            Ok(_) => {
                errors.push(FieldError::coded("expires_on", "date-past", "may not be in the past"));
                None
            }
            Err(_) => {
                errors.push(FieldError::coded("expires_on", "date", format!("`{d}` is not a date (YYYY-MM-DD)")).arg("value", d));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let r = rule::Entity::find_by_id(rule_id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    let m = rule_override::Model {
        id: uuid::Uuid::now_v7().to_string(),
        rule_id: r.id.clone(),
        company_id: company,
        source_id,
        field,
        value,
        reason,
        expires_on,
        created_by: who.user_id.clone(),
        created_ms: now_ms(),
    };
    let m = m.into_active_model().insert(&txn).await?;
    super::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.override.add",
        "detection_rule",
        Some(&r.id),
        m.company_id.as_deref(),
        json!({"override": m.id, "source_id": m.source_id, "field": m.field, "value": m.value, "reason": m.reason, "expires_on": m.expires_on}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(OverrideView {
        id: m.id,
        company_id: m.company_id,
        source_id: m.source_id,
        source_name,
        field: m.field,
        value: m.value,
        reason: m.reason,
        expires_on: m.expires_on,
        expired: false,
    })
}

pub async fn remove_override(app: &App, who: &Principal, rule_id: &str, override_id: &str) -> Result<()> {
    who.require(Permission::MonitoringManage)?;
    let txn = app.store.write().await?;
    let o = rule_override::Entity::find_by_id(override_id.to_owned()).one(&txn).await?.filter(|o| o.rule_id == rule_id).ok_or(AppError::NotFound)?;
    let allowed = who.access.can_for(Permission::RulesManage, None)
        || o.company_id.as_deref().is_some_and(|c| who.access.can_for(Permission::MonitoringManage, c.parse().ok()));
    if !allowed {
        return Err(AppError::Forbidden);
    }
    rule_override::Entity::delete_by_id(o.id.clone()).exec(&txn).await?;
    super::shared(app).rules.bump(&txn).await?;
    record(
        app,
        &txn,
        who,
        "monitoring.rule.override.remove",
        "detection_rule",
        Some(rule_id),
        o.company_id.as_deref(),
        json!({"override": o.id, "reason": o.reason}),
    )
    .await?;
    txn.commit().await?;
    super::shared(app).rules.changed();
    Ok(())
}

/// One sample event's result in a rule test.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SampleResult {
    /// 1-based position of the sample.
    pub number: usize,
    pub matched: bool,
    /// Why the sample could not be read.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestOutcome {
    pub problems: Vec<Problem>,
    pub samples: Vec<SampleResult>,
}

/// Runs a rule's text against sample events (a JSON object, an array of them, or one
/// object per line) without keeping anything.
pub fn test(body: &str, samples: &str) -> TestOutcome {
    let c = check_text(body);
    if !c.problems.is_empty() {
        return TestOutcome { problems: c.problems, samples: vec![] };
    }
    let mut engine = Engine::new(LogSourceMap::builtin(), Placeholders::new());
    let mut report = LoadReport::default();
    engine.add_rules("rule.yml", body, &mut report);
    engine.finish();
    let (events, bad) = super::pipeline::split_events(samples.as_bytes());
    let mut out: Vec<SampleResult> = events
        .iter()
        .take(1000)
        .map(|(n, raw)| match engine.event_from_json(raw) {
            Ok(e) => SampleResult { number: *n, matched: !engine.matches(&e).is_empty(), error: None },
            Err(err) => SampleResult { number: *n, matched: false, error: Some(err.to_string()) },
        })
        .collect();
    out.extend(bad.into_iter().map(|(n, _, reason)| SampleResult { number: n, matched: false, error: Some(reason) }));
    out.sort_by_key(|s| s.number);
    TestOutcome { problems: vec![], samples: out }
}
