//! Conformance findings: the register checked against the handling rules. Every change to
//! an asset, a holder or a category re-checks what it touches in the same transaction;
//! a full re-check (daily, or on demand) catches what time alone changes — reviews that
//! fall due, exceptions that expire, take-outs not returned. A breach that goes away
//! resolves its finding; one that comes back reopens it; an accepted exception holds
//! until its expiry.

use isms_core::assets::{AssetFacts, CheckSettings, HandlingRules, Medium, Rule, SupportFacts, SupportKind, check_asset};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::assets::{self as tables, FindingQuery, asset, finding, link, support, takeout};
use isms_store::now_ms;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// A terminal patched longer ago than this is unpatched.
pub const PATCH_MAX_AGE_DAYS: i32 = 60;

/// What a re-check covers.
#[derive(Debug, Clone)]
pub enum Target {
    /// Every asset and take-out (of these companies; `None` for the whole group).
    All(Option<Vec<String>>),
    Assets(Vec<String>),
    /// The assets a holder holds.
    Support(String),
    /// The assets of a category.
    Category(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecheckSummary {
    pub assets: usize,
    pub opened: usize,
    pub reopened: usize,
    pub resolved: usize,
    /// Exceptions whose expiry passed: their findings are open again.
    pub expired: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AssetFinding)]
pub struct Finding {
    pub id: String,
    pub company_id: String,
    pub asset_id: Option<String>,
    pub support_id: Option<String>,
    pub takeout_id: Option<String>,
    /// The rule broken, e.g. `cloud-not-approved`.
    pub rule: String,
    /// 1 low, 2 medium, 3 high, 4 critical.
    pub severity: i16,
    pub customer_information: bool,
    /// open, accepted or resolved
    pub status: String,
    pub opened_ms: i64,
    pub closed_ms: Option<i64>,
    /// Why an exception was accepted.
    pub reason: String,
    pub approved_by: Option<String>,
    pub expires_on: Option<String>,
}

impl From<finding::Model> for Finding {
    fn from(m: finding::Model) -> Self {
        Self {
            id: m.id,
            company_id: m.company_id,
            asset_id: m.asset_id,
            support_id: m.support_id,
            takeout_id: m.takeout_id,
            rule: m.rule,
            severity: m.severity,
            customer_information: m.customer_information,
            status: m.status,
            opened_ms: m.opened_ms,
            closed_ms: m.closed_ms,
            reason: m.reason,
            approved_by: m.approved_by,
            expires_on: m.expires_on,
        }
    }
}

/// An asset as the check reads it, with the holders it is linked to.
struct AssetRow {
    id: String,
    company_id: String,
    category_id: String,
    owner_id: Option<String>,
    medium: String,
    review_due: Option<String>,
    supports: Vec<String>,
}

/// The assets a target covers with their holders, in one query (per chunk of ids): only
/// the columns the check reads, so a whole register of 100,000 loads quickly.
async fn load_assets(db: &impl ConnectionTrait, target: &Target) -> Result<Vec<AssetRow>> {
    use isms_store::sea_orm::sea_query::{Alias, ExprTrait, JoinType, Order, Query as Q};
    let base = || {
        let a = Alias::new("a");
        let l = Alias::new("l");
        let mut q = Q::select();
        q.column((a.clone(), asset::Column::Id))
            .column((a.clone(), asset::Column::CompanyId))
            .column((a.clone(), asset::Column::CategoryId))
            .column((a.clone(), asset::Column::OwnerId))
            .column((a.clone(), asset::Column::Medium))
            .column((a.clone(), asset::Column::ReviewDue))
            .column((l.clone(), link::Column::SupportId))
            .from_as(asset::Entity, a.clone())
            .join_as(JoinType::LeftJoin, link::Entity, l.clone(), Expr::col((l, link::Column::AssetId)).equals((a.clone(), asset::Column::Id)))
            .order_by((a, asset::Column::Id), Order::Asc);
        q
    };
    let a = Alias::new("a");
    let mut statements = vec![];
    match target {
        Target::All(None) => statements.push(base()),
        Target::All(Some(companies)) => statements.push(base().and_where(Expr::col((a, asset::Column::CompanyId)).is_in(companies.iter().cloned())).to_owned()),
        Target::Category(id) => statements.push(base().and_where(Expr::col((a, asset::Column::CategoryId)).eq(id.clone())).to_owned()),
        Target::Support(id) => {
            let held = Q::select().column(link::Column::AssetId).from(link::Entity).and_where(link::Column::SupportId.eq(id.clone())).to_owned();
            statements.push(base().and_where(Expr::col((a, asset::Column::Id)).in_subquery(held)).to_owned());
        }
        Target::Assets(ids) => {
            for chunk in ids.chunks(500) {
                statements.push(base().and_where(Expr::col((a.clone(), asset::Column::Id)).is_in(chunk.iter().cloned())).to_owned());
            }
        }
    }
    let backend = db.get_database_backend();
    let mut out: Vec<AssetRow> = vec![];
    for stmt in statements {
        for row in db.query_all_raw(backend.build(&stmt)).await? {
            let id: String = row.try_get_by_index(0)?;
            let support: Option<String> = row.try_get_by_index(6)?;
            match out.last_mut() {
                Some(last) if last.id == id => last.supports.extend(support),
                _ => out.push(AssetRow {
                    id,
                    company_id: row.try_get_by_index(1)?,
                    category_id: row.try_get_by_index(2)?,
                    owner_id: row.try_get_by_index(3)?,
                    medium: row.try_get_by_index(4)?,
                    review_due: row.try_get_by_index(5)?,
                    supports: support.into_iter().collect(),
                }),
            }
        }
    }
    Ok(out)
}

/// A live (open or accepted) finding as the re-check compares it.
struct LiveFinding {
    id: String,
    rule: String,
    asset_id: Option<String>,
    support_id: Option<String>,
    takeout_id: Option<String>,
    status: String,
    expires_on: Option<String>,
    severity: i16,
}

impl LiveFinding {
    fn subject(&self) -> Option<(Rule, Subject<'_>)> {
        let rule = Rule::parse(&self.rule).ok()?;
        match (&self.takeout_id, &self.asset_id) {
            (Some(t), _) => Some((rule, Subject::Takeout(t))),
            (None, Some(a)) => Some((rule, Subject::Asset(a, self.support_id.as_deref()))),
            (None, None) => None,
        }
    }
}

async fn load_live_findings(db: &impl ConnectionTrait, target: &Target, asset_ids: &[String]) -> Result<Vec<LiveFinding>> {
    use finding::Column as C;
    let select = || {
        finding::Entity::find()
            .select_only()
            .columns([C::Id, C::Rule, C::AssetId, C::SupportId, C::TakeoutId, C::Status, C::ExpiresOn, C::Severity])
            .filter(C::Status.ne("resolved"))
    };
    type Row = (String, String, Option<String>, Option<String>, Option<String>, String, Option<String>, i16);
    let rows: Vec<Row> = match target {
        Target::All(None) => select().into_tuple().all(db).await?,
        Target::All(Some(c)) => select().filter(C::CompanyId.is_in(c.iter().cloned())).into_tuple().all(db).await?,
        _ => in_chunks(asset_ids, |c| select().filter(C::AssetId.is_in(c)).filter(C::TakeoutId.is_null()).into_tuple().all(db)).await?,
    };
    Ok(rows
        .into_iter()
        .map(|(id, rule, asset_id, support_id, takeout_id, status, expires_on, severity)| LiveFinding {
            id,
            rule,
            asset_id,
            support_id,
            takeout_id,
            status,
            expires_on,
            severity,
        })
        .collect())
}

/// What identifies a breach across re-checks: the rule and its subject (an asset and
/// perhaps its holder, or a take-out). Borrowed from the loaded register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject<'a> {
    Asset(&'a str, Option<&'a str>),
    Takeout(&'a str),
}

/// A breach found now, with what a new finding needs.
struct Found<'a> {
    company_id: &'a str,
    severity: i16,
    customer_information: bool,
}

fn key_of(rule: Rule, subject: Subject<'_>) -> String {
    match subject {
        Subject::Asset(asset, support) => format!("{}|{}|{}", rule.code(), asset, support.unwrap_or("")),
        Subject::Takeout(t) => format!("{}|takeout:{t}|", rule.code()),
    }
}

fn support_facts(m: &support::Model, approvals: &HashMap<String, Vec<String>>) -> SupportFacts {
    SupportFacts {
        id: m.id.clone(),
        kind: SupportKind::parse(&m.kind).ok(),
        internet_exposed: m.internet_exposed,
        mfa: m.mfa,
        access_logging: m.access_logging,
        encrypted_at_rest: m.encrypted_at_rest,
        encrypted_in_transit: m.encrypted_in_transit,
        approved_categories: approvals.get(&m.id).cloned().unwrap_or_default(),
        endpoint_protection: m.endpoint_protection,
        patched_on: m.patched_on.as_deref().and_then(|d| d.parse().ok()),
        zero_trust: m.zero_trust,
        locked: m.locked,
    }
}

async fn in_chunks<T, F, Fut>(ids: &[String], mut f: F) -> Result<Vec<T>>
where
    F: FnMut(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = std::result::Result<Vec<T>, isms_store::sea_orm::DbErr>>,
{
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        out.extend(f(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Re-checks `target` inside `txn` and brings the findings up to date. Records one audit
/// entry with the counts when anything changed.
pub(crate) async fn recheck(app: &App, txn: &impl ConnectionTrait, who: &Principal, target: Target) -> Result<RecheckSummary> {
    let clock = std::time::Instant::now();
    let today = isms_core::calendar::today();
    let settings = CheckSettings { today, patch_max_age_days: PATCH_MAX_AGE_DAYS };
    let rules: HashMap<String, HandlingRules> = super::categories::all(txn).await?.into_iter().map(|c| (c.id, c.rules)).collect();

    let whole = matches!(target, Target::All(_));
    let assets = load_assets(txn, &target).await?;
    let asset_ids: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: loaded assets");
    let mut support_ids: Vec<String> = assets.iter().flat_map(|a| a.supports.iter().cloned()).collect::<HashSet<_>>().into_iter().collect();
    support_ids.sort();
    let supports: Vec<support::Model> = if matches!(target, Target::All(None)) {
        support::Entity::find().all(txn).await?
    } else {
        in_chunks(&support_ids, |c| support::Entity::find().filter(support::Column::Id.is_in(c)).all(txn)).await?
    };
    let approvals = if matches!(target, Target::All(None)) {
        let mut all: HashMap<String, Vec<String>> = HashMap::new();
        for a in isms_store::assets::cloud_approval::Entity::find().all(txn).await? {
            all.entry(a.support_id).or_default().push(a.category_id);
        }
        all
    } else {
        super::supports::approvals_of(txn, &support_ids).await?
    };
    let facts: HashMap<&str, SupportFacts> = supports.iter().map(|s| (s.id.as_str(), support_facts(s, &approvals))).collect();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: loaded holders");

    let mut found: FastMap<(Rule, Subject<'_>), Found<'_>> = FastMap::default();
    found.reserve(assets.len() * 2);
    let mut held = vec![];
    for a in &assets {
        let Some(r) = rules.get(&a.category_id) else { continue };
        let f = AssetFacts {
            id: &a.id,
            category_id: &a.category_id,
            owner: a.owner_id.as_deref(),
            medium: Medium::parse(&a.medium).unwrap_or(Medium::Electronic),
            review_due: a.review_due.as_deref().and_then(|d| d.parse().ok()),
        };
        held.clear();
        held.extend(a.supports.iter().filter_map(|s| facts.get(s.as_str())));
        for b in check_asset(&f, r, &held, settings) {
            found.insert(
                (b.rule, Subject::Asset(b.asset_id, b.support_id)),
                Found { company_id: &a.company_id, severity: i16::from(b.severity()), customer_information: b.customer_information },
            );
        }
    }

    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: checked");
    // Take-outs not returned by their date: part of a whole re-check only (time moves them).
    let overdue: Vec<takeout::Model> = match &target {
        Target::All(companies) => {
            let mut q = takeout::Entity::find().filter(takeout::Column::Status.eq("approved")).filter(takeout::Column::ReturnBy.lt(today.to_string()));
            if let Some(c) = companies {
                q = q.filter(takeout::Column::CompanyId.is_in(c.iter().cloned()));
            }
            q.all(txn).await?
        }
        _ => vec![],
    };
    for t in &overdue {
        let customer = rules.get(&t.category_id).is_some_and(|r| r.customer_information);
        found.insert(
            (Rule::ReturnOverdue, Subject::Takeout(&t.id)),
            Found { company_id: &t.company_id, severity: 2 + i16::from(customer), customer_information: customer },
        );
    }

    // The findings that may change: the live ones of these assets (and of take-outs on a
    // whole check). Resolved findings are looked up only for breaches that are new again.
    let existing = load_live_findings(txn, &target, &asset_ids).await?;
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: loaded findings");
    let now = now_ms();
    let today_s = today.to_string();
    let mut summary = RecheckSummary { assets: assets.len(), ..Default::default() };
    let (mut resolve, mut reopen, mut expire) = (vec![], vec![], vec![]);
    let mut known: FastSet<(Rule, Subject<'_>)> = FastSet::default();
    for f in &existing {
        let Some(subject) = f.subject() else { continue };
        known.insert(subject);
        let still = found.get(&subject);
        match (f.status.as_str(), still) {
            (_, None) => resolve.push(f.id.clone()),
            ("accepted", Some(_)) if f.expires_on.as_deref().is_some_and(|e| e < today_s.as_str()) => expire.push(f.id.clone()),
            _ => {}
        }
        if let Some(now_found) = still
            && now_found.severity != f.severity
        {
            finding::Entity::update_many()
                .col_expr(finding::Column::Severity, Expr::val(now_found.severity))
                .col_expr(finding::Column::CustomerInformation, Expr::val(now_found.customer_information))
                .filter(finding::Column::Id.eq(f.id.clone()))
                .exec(txn)
                .await?;
        }
    }
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: compared");
    // Breaches not live: a resolved finding with the same key reopens, the rest are new.
    let fresh: Vec<(String, &(Rule, Subject<'_>))> = found.keys().filter(|k| !known.contains(*k)).map(|k| (key_of(k.0, k.1), k)).collect();
    let mut resolved_keys = HashSet::new();
    for chunk in fresh.chunks(500) {
        let rows: Vec<(String, String)> = finding::Entity::find()
            .select_only()
            .column(finding::Column::Id)
            .column(finding::Column::Key)
            .filter(finding::Column::Key.is_in(chunk.iter().map(|(k, _)| k.clone())))
            .into_tuple()
            .all(txn)
            .await?;
        for (id, key) in rows {
            reopen.push(id);
            resolved_keys.insert(key);
        }
    }
    let new: Vec<&(String, &(Rule, Subject<'_>))> = fresh.iter().filter(|(k, _)| !resolved_keys.contains(k)).collect();
    for chunk in new.chunks(400) {
        let rows = chunk.iter().map(|(key, (rule, subject))| {
            let f = &found[&(*rule, *subject)];
            let (asset_id, support_id, takeout_id) = match subject {
                Subject::Asset(a, s) => (Some((*a).to_owned()), s.map(str::to_owned), None),
                Subject::Takeout(t) => (overdue.iter().find(|x| x.id == *t).and_then(|x| x.asset_id.clone()), None, Some((*t).to_owned())),
            };
            finding::Model {
                id: isms_core::CompanyId::new().to_string(),
                key: key.clone(),
                company_id: f.company_id.to_owned(),
                asset_id,
                support_id,
                takeout_id,
                rule: rule.code().into(),
                severity: f.severity,
                customer_information: f.customer_information,
                status: "open".into(),
                opened_ms: now,
                closed_ms: None,
                reason: String::new(),
                approved_by: None,
                expires_on: None,
                updated_ms: now,
            }
            .into_active_model()
        });
        finding::Entity::insert_many(rows).exec(txn).await?;
    }
    summary.opened = new.len();
    for chunk in resolve.chunks(500) {
        finding::Entity::update_many()
            .col_expr(finding::Column::Status, Expr::val("resolved"))
            .col_expr(finding::Column::ClosedMs, Expr::val(now))
            .col_expr(finding::Column::UpdatedMs, Expr::val(now))
            .filter(finding::Column::Id.is_in(chunk.iter().cloned()))
            .exec(txn)
            .await?;
    }
    summary.resolved = resolve.len();
    for (ids, reopened) in [(&reopen, true), (&expire, false)] {
        for chunk in ids.chunks(500) {
            let mut u = finding::Entity::update_many()
                .col_expr(finding::Column::Status, Expr::val("open"))
                .col_expr(finding::Column::ClosedMs, Expr::val(Option::<i64>::None))
                .col_expr(finding::Column::UpdatedMs, Expr::val(now));
            if reopened {
                u = u.col_expr(finding::Column::OpenedMs, Expr::val(now));
            }
            u.filter(finding::Column::Id.is_in(chunk.iter().cloned())).exec(txn).await?;
        }
    }
    summary.reopened = reopen.len();
    summary.expired = expire.len();
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: wrote findings");
    if whole || summary.opened + summary.reopened + summary.resolved + summary.expired > 0 {
        let (record_id, company) = match &target {
            Target::Assets(ids) if ids.len() == 1 => (Some(ids[0].clone()), assets.first().map(|a| a.company_id.clone())),
            _ => (None, None),
        };
        record(
            app,
            txn,
            who,
            "assets.findings.recheck",
            "information_asset",
            record_id.as_deref(),
            company.as_deref(),
            json!({"target": target.describe(), "summary": summary}),
        )
        .await?;
    }
    // A whole register is a few hundred thousand small strings: freeing them takes longer
    // than the comparison did, so it happens beside the commit instead of before it.
    drop(new);
    drop(fresh);
    drop(known);
    drop(found);
    if whole {
        tokio::task::spawn_blocking(move || drop((assets, existing, supports, approvals, overdue)));
    }
    Ok(summary)
}

impl Target {
    /// What the audit entry says was re-checked (never the whole list of ids).
    fn describe(&self) -> serde_json::Value {
        match self {
            Target::All(None) => json!({"all": true}),
            Target::All(Some(c)) => json!({"companies": c}),
            Target::Assets(ids) => json!({"assets": ids.len()}),
            Target::Support(id) => json!({"support": id}),
            Target::Category(id) => json!({"category": id}),
        }
    }
}

/// Re-checks everything the caller manages, now. Scheduled daily for the whole group.
pub async fn recheck_all(app: &App, who: &Principal) -> Result<RecheckSummary> {
    let within = match who.access.scope(Permission::AssetsManage) {
        isms_core::Scope::Group => None,
        isms_core::Scope::Companies(c) => Some(c.iter().map(|c| c.to_string()).collect()),
        isms_core::Scope::Nothing => return Err(AppError::Forbidden),
    };
    let txn = app.store.write().await?;
    let clock = std::time::Instant::now();
    let s = recheck(app, &txn, who, Target::All(within)).await?;
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: done, committing");
    txn.commit().await?;
    tracing::debug!(ms = clock.elapsed().as_millis() as u64, "recheck: committed");
    Ok(s)
}

pub use isms_kernel::Page;

mod decisions;
pub use decisions::*;

pub async fn list(app: &App, who: &Principal, q: &FindingQuery) -> Result<Page<Finding>> {
    let within = who.within(Permission::AssetsRead)?;
    let db = app.store.conn();
    let rows = tables::findings_page(db, within.as_deref(), q).await?;
    // Counting walks every matching finding; the count for one filter is kept until a write.
    let key = format!("findings|{within:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}", q.company_id, q.status, q.rule, q.asset_id, q.support_id, q.customer_information);
    let generation = app.store.generation();
    let total = app.caches().count_once(key, generation, tables::findings_count(db, within.as_deref(), q)).await?;
    Ok(Page { items: rows.into_iter().map(Finding::from).collect(), total })
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Finding> {
    let m = finding::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?;
    who.require_for(Permission::AssetsRead, Some(&m.company_id)).map_err(|_| AppError::NotFound)?;
    Ok(m.into())
}
