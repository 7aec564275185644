//! The twice-a-year rule: in each half of the fiscal year every active person completes an
//! awareness course. The standing of a half (share trained per company, who is missing);
//! its close on the half's last day, which keeps the figures, raises a finding in the
//! findings register for each person not trained, and attaches the half to the awareness
//! control (ISO/IEC 27001 A.6.3) as evidence; and the daily upkeep that closes a finding
//! once its person has completed an awareness course or left.

use isms_compliance::findings::{self, Raised, TRAINING_HALF};
use isms_core::Permission;
use isms_core::training::{CourseKind, FiscalHalf, share};
use isms_kernel::{App, AppError, Page, Principal, Result, record};
use isms_store::now_ms;
use isms_store::org::{company, person};
use isms_store::sea_orm::sea_query::OnConflict;
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use isms_store::training::{completion, course, half};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// The hour (Japan time) of a half's last day from which the half is closed: the working
/// day is over and what was completed by then counts.
pub const CLOSE_HOUR: i8 = 18;

/// The framework and requirement the closed halves are evidence for.
pub const EVIDENCE_FOR: (&str, &str) = ("iso27001-2022", "A.6.3");

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyShare {
    pub company_id: String,
    pub company_code: String,
    pub company_name: String,
    /// Active people held to the rule this half.
    pub people: u64,
    pub trained: u64,
    /// Percent, rounded down.
    pub share: u32,
}

/// What was kept when a half closed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosedHalf {
    pub closed_ms: i64,
    pub people: i64,
    pub trained: i64,
    pub findings: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub half: FiscalHalf,
    /// `2026-H2`
    pub key: String,
    pub first_day: String,
    pub last_day: String,
    pub companies: Vec<CompanyShare>,
    pub people: u64,
    pub trained: u64,
    pub share: u32,
    pub closed: Option<ClosedHalf>,
}

/// A person held to the rule who has not completed an awareness course in the half.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Untrained {
    pub person_id: String,
    pub employee_number: String,
    pub name: String,
    pub company_id: String,
    pub department_id: Option<String>,
    pub joined_on: Option<String>,
}

struct Held {
    id: String,
    company_id: String,
    department_id: Option<String>,
    employee_number: String,
    name: String,
    joined_on: Option<String>,
}

/// Active people held to the half's rule, in these companies (`None`: all).
async fn held(db: &impl ConnectionTrait, h: FiscalHalf, companies: Option<&[String]>) -> Result<Vec<Held>> {
    let mut sel = person::Entity::find()
        .select_only()
        .columns([
            person::Column::Id,
            person::Column::CompanyId,
            person::Column::DepartmentId,
            person::Column::EmployeeNumber,
            person::Column::Name,
            person::Column::JoinedOn,
        ])
        .filter(person::Column::Status.eq("active"));
    if let Some(list) = companies {
        sel = sel.filter(person::Column::CompanyId.is_in(list.to_vec()));
    }
    let rows: Vec<(String, String, Option<String>, String, String, Option<String>)> = sel.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter(|(.., joined)| h.holds(joined.as_deref().and_then(|d| d.parse::<Date>().ok())))
        .map(|(id, company_id, department_id, employee_number, name, joined_on)| Held { id, company_id, department_id, employee_number, name, joined_on })
        .collect())
}

/// Everyone who completed an awareness course within the half (from `from` on, when given).
async fn trained(db: &impl ConnectionTrait, first: Date, last: Date) -> Result<HashSet<String>> {
    let awareness: Vec<String> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::Kind.eq(CourseKind::Awareness.code()))
        .into_tuple()
        .all(db)
        .await?;
    if awareness.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<String> = completion::Entity::find()
        .select_only()
        .column(completion::Column::PersonId)
        .distinct()
        .filter(completion::Column::CourseId.is_in(awareness))
        .filter(completion::Column::CompletedOn.gte(first.to_string()))
        .filter(completion::Column::CompletedOn.lte(last.to_string()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

fn tally(people: &[Held], done: &HashSet<String>) -> HashMap<String, (u64, u64)> {
    let mut by: HashMap<String, (u64, u64)> = HashMap::new();
    for p in people {
        let e = by.entry(p.company_id.clone()).or_default();
        e.0 += 1;
        if done.contains(&p.id) {
            e.1 += 1;
        }
    }
    by
}

fn half_or_now(h: Option<FiscalHalf>) -> FiscalHalf {
    h.unwrap_or_else(|| FiscalHalf::of(isms_core::calendar::today()))
}

/// The half's standing in the companies `who` reads training of: the share trained per
/// company as it is now, and the figures kept when it closed.
pub async fn standing(app: &App, who: &Principal, h: Option<FiscalHalf>) -> Result<Standing> {
    let within = who.within(Permission::TrainingRead)?;
    let h = half_or_now(h);
    let db = app.store.conn();
    let people = held(db, h, within.as_deref()).await?;
    let done = trained(db, h.first_day(), h.last_day()).await?;
    let by = tally(&people, &done);
    let names: HashMap<String, company::Model> = company::Entity::find().all(db).await?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut companies: Vec<CompanyShare> = by
        .into_iter()
        .map(|(id, (n, t))| {
            let c = names.get(&id);
            CompanyShare {
                company_code: c.map(|c| c.code.clone()).unwrap_or_default(),
                company_name: c.map(|c| c.name.clone()).unwrap_or_default(),
                company_id: id,
                people: n,
                trained: t,
                share: share(t, n),
            }
        })
        .collect();
    companies.sort_by(|a, b| a.company_code.cmp(&b.company_code));
    let (n, t) = companies.iter().fold((0, 0), |(n, t), c| (n + c.people, t + c.trained));
    let closed = half::Entity::find_by_id(h.key()).one(db).await?.map(|m| ClosedHalf {
        closed_ms: m.closed_ms,
        people: m.people,
        trained: m.trained,
        findings: m.findings,
    });
    Ok(Standing {
        half: h,
        key: h.key(),
        first_day: h.first_day().to_string(),
        last_day: h.last_day().to_string(),
        companies,
        people: n,
        trained: t,
        share: share(t, n),
        closed,
    })
}

/// Who is held to the half's rule and not trained, within `who`'s companies, by company
/// and employee number; narrowed to one company or one person.
pub async fn untrained(
    app: &App,
    who: &Principal,
    h: Option<FiscalHalf>,
    company_id: Option<&str>,
    person_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Page<Untrained>> {
    let within = who.within(Permission::TrainingRead)?;
    let h = half_or_now(h);
    let db = app.store.conn();
    let scope: Option<Vec<String>> = match (company_id, within) {
        (Some(c), Some(list)) => Some(list.into_iter().filter(|x| x == c).collect()),
        (Some(c), None) => Some(vec![c.to_owned()]),
        (None, w) => w,
    };
    let done = trained(db, h.first_day(), h.last_day()).await?;
    let mut rows: Vec<Held> =
        held(db, h, scope.as_deref()).await?.into_iter().filter(|p| !done.contains(&p.id) && person_id.is_none_or(|id| p.id == id)).collect();
    rows.sort_by(|a, b| (&a.company_id, &a.employee_number).cmp(&(&b.company_id, &b.employee_number)));
    let total = rows.len() as u64;
    let limit = if limit == 0 { 50 } else { limit.min(500) };
    let items = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(50))
        .map(|p| Untrained {
            person_id: p.id,
            employee_number: p.employee_number,
            name: p.name,
            company_id: p.company_id,
            department_id: p.department_id,
            joined_on: p.joined_on,
        })
        .collect();
    Ok(Page { items, total })
}

/// Whether `h` is due to close at `now_ms`: from [`CLOSE_HOUR`] on its last day, and for a
/// fortnight after (a server that was down on the day closes it late). A half is never
/// closed before any awareness course existed: a new installation does not open a finding
/// for everyone about a half it never ran.
fn due_to_close(h: FiscalHalf, now_ms: i64, first_course_ms: Option<i64>) -> bool {
    let Some(now) = isms_core::calendar::zoned_at(now_ms) else { return false };
    let today = now.date();
    let last = h.last_day();
    let from_today = today > last || (today == last && now.hour() >= CLOSE_HOUR);
    let late_by = (today - last).get_days();
    let Some(first) = first_course_ms.and_then(isms_core::calendar::date_at) else { return false };
    from_today && late_by <= 14 && first <= last
}

/// What closing did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Closing {
    pub half: String,
    pub people: u64,
    pub trained: u64,
    pub findings: u64,
    pub evidence: u64,
}

/// Closes the half that ends today (from the evening) or ended in the last fortnight, once:
/// the row keyed by the half is written first in the same transaction, so two instances
/// closing at once raise the findings once.
pub async fn close_due(app: &App) -> Result<Vec<Closing>> {
    let now = now_ms();
    let today = isms_core::calendar::today();
    let current = FiscalHalf::of(today);
    let db = app.store.conn();
    let first_course: Option<i64> = course::Entity::find()
        .select_only()
        .column_as(course::Column::CreatedMs.min(), "m")
        .filter(course::Column::Kind.eq(CourseKind::Awareness.code()))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let mut out = vec![];
    for h in [current.previous(), current] {
        if !due_to_close(h, now, first_course) || half::Entity::find_by_id(h.key()).one(db).await?.is_some() {
            continue;
        }
        if let Some(c) = close(app, h).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Closes `h` now, whatever the date (the job decides when). `None` when it was closed
/// already.
pub async fn close(app: &App, h: FiscalHalf) -> Result<Option<Closing>> {
    let txn = app.store.write().await?;
    let claimed = half::Entity::insert(half::ActiveModel { half: Set(h.key()), closed_ms: Set(now_ms()), people: Set(0), trained: Set(0), findings: Set(0) })
        .on_conflict(OnConflict::column(half::Column::Half).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if claimed == 0 {
        return Ok(None);
    }
    let people = held(&txn, h, None).await?;
    let done = trained(&txn, h.first_day(), h.last_day()).await?;
    let missing: Vec<Raised> = people
        .iter()
        .filter(|p| !done.contains(&p.id))
        .map(|p| Raised {
            record_id: p.id.clone(),
            company_id: Some(p.company_id.clone()),
            title: format!("{} {}", p.employee_number, p.name),
            due_on: h.last_day().to_string(),
        })
        .collect();
    let raised = findings::raise(&txn, TRAINING_HALF, &missing).await?;
    let trained_n = people.len() as u64 - missing.len() as u64;
    half::Entity::update_many()
        .col_expr(half::Column::People, isms_store::sea_orm::sea_query::Expr::value(people.len() as i64))
        .col_expr(half::Column::Trained, isms_store::sea_orm::sea_query::Expr::value(i64::try_from(trained_n).unwrap_or(i64::MAX)))
        .col_expr(half::Column::Findings, isms_store::sea_orm::sea_query::Expr::value(missing.len() as i64))
        .filter(half::Column::Half.eq(h.key()))
        .exec(&txn)
        .await?;
    // The title is for every reader at once, so it carries both languages.
    let title = format!(
        "情報セキュリティ研修の修了記録 {}年度{} / Awareness training completions FY{} {}",
        h.year,
        if h.half == 1 { "上期" } else { "下期" },
        h.year,
        if h.half == 1 { "H1" } else { "H2" }
    );
    let evidence = isms_compliance::controls::attach_record(
        &txn,
        EVIDENCE_FOR.0,
        EVIDENCE_FOR.1,
        &title,
        &format!("/training/halves?half={}", h.key()),
        &h.last_day().min(isms_core::calendar::today()).to_string(),
    )
    .await?;
    let c = Closing { half: h.key(), people: people.len() as u64, trained: trained_n, findings: missing.len() as u64, evidence };
    record(
        app,
        &txn,
        &Principal::system(),
        "training.half.close",
        "training_half",
        Some(&h.key()),
        None,
        json!({"people": c.people, "trained": c.trained, "findings": c.findings, "raised": raised, "evidence": c.evidence}),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(c))
}

/// Closes the half now at someone's request (the job does it on the day): for a half that
/// has ended, when the server was down through the fortnight after.
pub async fn close_now(app: &App, who: &Principal, h: FiscalHalf) -> Result<Closing> {
    who.require_for(Permission::TrainingManage, None)?;
    if h.last_day() >= isms_core::calendar::today() {
        return Err(AppError::conflict("training-half-not-ended", "a half is closed on its last day or after"));
    }
    close(app, h).await?.ok_or_else(|| AppError::conflict("training-half-closed", "this half was closed already"))
}

/// Closes the findings of people who have since completed an awareness course (on or after
/// the half began) or left. Returns how many closed.
pub async fn upkeep(app: &App) -> Result<u64> {
    let db = app.store.conn();
    let open = findings::open_of(db, TRAINING_HALF).await?;
    if open.is_empty() {
        return Ok(0);
    }
    let awareness: Vec<String> = course::Entity::find()
        .select_only()
        .column(course::Column::Id)
        .filter(course::Column::Kind.eq(CourseKind::Awareness.code()))
        .into_tuple()
        .all(db)
        .await?;
    let mut ended = vec![];
    for chunk in open.chunks(400) {
        let ids: Vec<String> = chunk.iter().map(|(_, p, _)| p.clone()).collect();
        let active: HashSet<String> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::Id.is_in(ids.clone()))
            .filter(person::Column::Status.eq("active"))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut latest: HashMap<String, String> = HashMap::new();
        let done: Vec<(String, String)> = completion::Entity::find()
            .select_only()
            .columns([completion::Column::PersonId, completion::Column::CompletedOn])
            .filter(completion::Column::PersonId.is_in(ids))
            .filter(completion::Column::CourseId.is_in(awareness.clone()))
            .into_tuple()
            .all(db)
            .await?;
        for (p, on) in done {
            let e = latest.entry(p).or_default();
            if on > *e {
                *e = on;
            }
        }
        for (id, p, due_on) in chunk {
            let first = due_on.parse::<Date>().ok().map(|d| FiscalHalf::of(d).first_day().to_string()).unwrap_or_default();
            if !active.contains(p) || latest.get(p).is_some_and(|on| *on >= first) {
                ended.push(id.clone());
            }
        }
    }
    if ended.is_empty() {
        return Ok(0);
    }
    let txn = app.store.write_quiet().await?;
    let n = findings::close(&txn, TRAINING_HALF, &ended).await?;
    txn.commit().await?;
    Ok(n)
}

/// The daily work of the rule: close a half that is due, then close the findings that ended.
pub async fn run(app: &App) -> Result<u64> {
    let closed = close_due(app).await?;
    let ended = upkeep(app).await?;
    Ok(closed.iter().map(|c| c.findings).sum::<u64>() + ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        isms_core::calendar::parse_moment(s).unwrap()
    }

    #[test]
    fn a_half_closes_on_its_last_evening_and_not_for_a_new_installation() {
        let h = FiscalHalf { year: 2026, half: 1 };
        let course = Some(ms("2026-05-01T09:00"));
        assert!(!due_to_close(h, ms("2026-09-30T17:59"), course));
        assert!(due_to_close(h, ms("2026-09-30T18:00"), course));
        assert!(due_to_close(h, ms("2026-10-14T09:00"), course));
        assert!(!due_to_close(h, ms("2026-10-15T09:00"), course), "a fortnight late is too late: closed by hand");
        assert!(!due_to_close(h, ms("2026-10-01T09:00"), Some(ms("2026-10-01T08:00"))), "no awareness course in the half");
        assert!(!due_to_close(h, ms("2026-10-01T09:00"), None));
    }
}
