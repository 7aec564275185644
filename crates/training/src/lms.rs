//! Completions from a learning system: a CSV export (every row checked first, then all
//! written in one transaction or none), and xAPI statements the system posts (the cmi5
//! verbs `completed`, `passed`, `failed`), each kept once by its id. A completion ends the
//! person's open assignments of the course as one taken here does, and counts for the
//! twice-a-year rule.

use crate::taking::complete;
use isms_core::training::{CompletionSource, LmsVerb, activity_code};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::sea_orm::sea_query::OnConflict;
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use isms_store::training::{completion, course, statement};
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;

/// The columns of a completions file; `employee_number` or `email` names the person.
pub const CSV_COLUMNS: [&str; 6] = ["employee_number", "email", "course_code", "completed_on", "score", "reference"];

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Rows read.
    pub rows: usize,
    /// Completions recorded now.
    pub recorded: usize,
    /// Rows already recorded by an earlier import (the same reference).
    pub known: usize,
}

fn at_line(line: u64, field: &str, code: &'static str, message: &str) -> FieldError {
    FieldError { field: field.into(), message: format!("line {line}: {message}"), code, args: vec![("line", line.to_string())] }
}

/// A person as the file names them, and whether `who` may record for them.
async fn people_by(
    db: &impl ConnectionTrait,
    numbers: Vec<String>,
    emails: Vec<String>,
) -> Result<(HashMap<String, person::Model>, HashMap<String, person::Model>)> {
    let mut by_number = HashMap::new();
    let mut by_email = HashMap::new();
    for chunk in numbers.chunks(500) {
        for p in person::Entity::find().filter(person::Column::EmployeeNumber.is_in(chunk.to_vec())).all(db).await? {
            by_number.insert(p.employee_number.clone(), p);
        }
    }
    for chunk in emails.chunks(500) {
        for p in person::Entity::find().filter(person::Column::Email.is_in(chunk.to_vec())).all(db).await? {
            by_email.insert(p.email.to_lowercase(), p);
        }
    }
    Ok((by_number, by_email))
}

struct Row {
    person: person::Model,
    course: course::Model,
    at_ms: i64,
    score: Option<i32>,
    reference: String,
}

/// Imports a learning system's completions export. One bad row and nothing is recorded;
/// a row recorded before (its reference, or its person, course and date) is counted as
/// known and changes nothing.
pub async fn import_csv(app: &App, who: &Principal, data: &[u8]) -> Result<Imported> {
    who.require(Permission::TrainingManage)?;
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(data);
    let headers = rdr.headers().map_err(|e| AppError::Invalid(vec![at_line(1, "file", "lms-csv-unreadable", &e.to_string())]))?.clone();
    let col: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let mut errors = vec![];
    for h in headers.iter() {
        if !CSV_COLUMNS.contains(&h) {
            errors.push(
                at_line(1, h, "lms-column-unknown", &format!("unknown column; expected {}", CSV_COLUMNS.join(", "))).arg("expected", CSV_COLUMNS.join(", ")),
            );
        }
    }
    for required in ["course_code", "completed_on"] {
        if !col.contains_key(required) {
            errors.push(at_line(1, required, "lms-column-missing", "column is missing"));
        }
    }
    if !col.contains_key("employee_number") && !col.contains_key("email") {
        errors.push(at_line(1, "employee_number", "lms-column-missing", "column is missing"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut records = vec![];
    for rec in rdr.records() {
        match rec {
            Ok(r) => records.push(r),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(at_line(line, "file", "lms-csv-unreadable", &e.to_string()));
            }
        }
        if records.len() > MAX_ROWS {
            errors.push(
                at_line(u64::try_from(MAX_ROWS).unwrap_or(u64::MAX) + 2, "file", "lms-too-many-rows", "the file holds too many rows")
                    .arg("max", MAX_ROWS.to_string()),
            );
            break;
        }
    }
    let get = |r: &csv::StringRecord, name: &str| isms_kernel::sheet::typed(col.get(name).and_then(|&i| r.get(i)).unwrap_or("")).to_owned();
    let db = app.store.conn();
    let (by_number, by_email) =
        people_by(db, records.iter().map(|r| get(r, "employee_number")).collect(), records.iter().map(|r| get(r, "email").to_lowercase()).collect()).await?;
    let courses: HashMap<String, course::Model> = course::Entity::find().all(db).await?.into_iter().map(|c| (c.code.to_uppercase(), c)).collect();
    let today = isms_core::calendar::today();
    let mut rows = vec![];
    let mut seen: HashMap<String, u64> = HashMap::new();
    for r in &records {
        let line = r.position().map(|p| p.line()).unwrap_or(0);
        let number = get(r, "employee_number");
        let email = get(r, "email").to_lowercase();
        let person = if !number.is_empty() { by_number.get(&number) } else { by_email.get(&email) };
        let person = match person {
            Some(p) if who.access.can_for(Permission::TrainingManage, p.company_id.parse().ok()) => Some(p),
            Some(_) | None => {
                let (field, value) = if number.is_empty() { ("email", email.clone()) } else { ("employee_number", number.clone()) };
                let code = if value.is_empty() { "lms-person-missing" } else { "lms-no-person" };
                // A person of a company `who` does not manage reads as unknown: an import
                // file must not tell whether someone exists elsewhere in the group.
                errors.push(at_line(line, field, code, &format!("no person `{value}`")).arg("value", value));
                None
            }
        };
        let code = get(r, "course_code").to_uppercase();
        let course = courses.get(&code).filter(|c| crate::manages(who, c.company_id.as_deref()) || c.company_id.is_none());
        if course.is_none() {
            errors.push(at_line(line, "course_code", "lms-no-course", &format!("no course `{code}`")).arg("value", code.clone()));
        }
        let on = get(r, "completed_on");
        let date = match on.parse::<Date>() {
            Ok(d) if d > today => {
                errors.push(at_line(line, "completed_on", "lms-date-future", "cannot be in the future"));
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(at_line(line, "completed_on", "lms-date", "must be a date (YYYY-MM-DD)").arg("value", on.clone()));
                None
            }
        };
        let score_text = get(r, "score");
        let score = if score_text.is_empty() {
            None
        } else {
            match score_text.parse::<i32>() {
                Ok(s) if (0..=100).contains(&s) => Some(s),
                _ => {
                    errors.push(at_line(line, "score", "lms-score", "must be a whole number from 0 to 100").arg("value", score_text.clone()));
                    None
                }
            }
        };
        if let (Some(c), Some(s)) = (course, score)
            && c.quiz != "[]"
            && s < c.pass_mark
        {
            errors.push(at_line(line, "score", "lms-score-below-pass", "is below the course's pass mark").arg("pass", c.pass_mark.to_string()));
        }
        let (Some(p), Some(c), Some(d)) = (person, course, date) else { continue };
        let given = get(r, "reference");
        let reference = if given.is_empty() { format!("{}:{}:{}", p.employee_number, c.code, d) } else { given.chars().take(200).collect() };
        if let Some(prev) = seen.insert(reference.clone(), line) {
            errors.push(at_line(line, "reference", "lms-also-on-line", &format!("also on line {prev}")).arg("other", prev.to_string()));
        }
        let at_ms = d.at(0, 0, 0, 0).to_zoned_datetime(isms_core::calendar::japan()).map(|z| z.timestamp().as_millisecond()).map_err(AppError::internal)?;
        rows.push(Row { person: p.clone(), course: c.clone(), at_ms, score, reference });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(at_line(2, "file", "lms-no-rows", "the file holds no completions"));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.args.first().and_then(|(_, l)| l.parse::<u64>().ok()).unwrap_or(0));
        return Err(AppError::Invalid(errors));
    }
    let txn = app.store.write().await?;
    let mut known = 0;
    for chunk in rows.chunks(500) {
        known += completion::Entity::find()
            .select_only()
            .column(completion::Column::Id)
            .filter(completion::Column::Source.eq(CompletionSource::Csv.code()))
            .filter(completion::Column::Reference.is_in(chunk.iter().map(|r| r.reference.clone())))
            .into_tuple::<String>()
            .all(&txn)
            .await?
            .len();
    }
    for r in &rows {
        complete(&txn, &r.person, &r.course, CompletionSource::Csv, &r.reference, r.score, r.at_ms).await?;
    }
    let done = Imported { rows: rows.len(), recorded: rows.len() - known, known };
    record(
        app,
        &txn,
        who,
        "training.import.csv",
        "training_completion",
        None,
        None,
        json!({"rows": done.rows, "recorded": done.recorded, "known": done.known}),
    )
    .await?;
    txn.commit().await?;
    Ok(done)
}

/// What one statement did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementOutcome {
    pub id: String,
    /// completed, passed or failed
    pub verb: String,
    /// Whether it completed the course for the person (a statement posted before
    /// completes nothing again).
    pub completed: bool,
    /// Whether the statement was known already.
    pub known: bool,
}

fn bad(path: &str, code: &'static str, message: &str) -> FieldError {
    FieldError { field: path.into(), message: message.into(), code, args: vec![] }
}

struct Read {
    id: String,
    mbox: Option<String>,
    account: Option<String>,
    verb: LmsVerb,
    activity: String,
    score: Option<i32>,
    at_ms: i64,
}

/// Reads one statement, naming the path of what is wrong (`1.actor.mbox`).
fn read(i: usize, v: &Value, errors: &mut Vec<FieldError>) -> Option<Read> {
    let at = |p: &str| format!("{i}.{p}");
    let actor = v.get("actor");
    let mbox = actor.and_then(|a| a.get("mbox")).and_then(Value::as_str).map(|m| m.trim_start_matches("mailto:").trim().to_lowercase());
    let account = actor.and_then(|a| a.get("account")).and_then(|a| a.get("name")).and_then(Value::as_str).map(|s| s.trim().to_owned());
    if mbox.is_none() && account.is_none() {
        errors.push(bad(&at("actor"), "xapi-actor", "must have an mbox or an account name"));
    }
    let verb_id = v.get("verb").and_then(|x| x.get("id")).and_then(Value::as_str).unwrap_or("");
    let verb = LmsVerb::of_iri(verb_id);
    if verb.is_none() {
        errors.push(bad(&at("verb.id"), "xapi-verb", "must be the cmi5 verb completed, passed or failed").arg("value", verb_id));
    }
    let activity = v.get("object").and_then(|o| o.get("id")).and_then(Value::as_str).unwrap_or("").to_owned();
    if activity.is_empty() {
        errors.push(bad(&at("object.id"), "xapi-object", "must name the activity"));
    }
    let score = match v.get("result").and_then(|r| r.get("score")).and_then(|s| s.get("scaled")) {
        None | Some(Value::Null) => None,
        Some(x) => match x.as_f64() {
            Some(f) if (0.0..=1.0).contains(&f) => Some((f * 100.0).floor() as i32),
            _ => {
                errors.push(bad(&at("result.score.scaled"), "xapi-score", "must be a number from 0 to 1"));
                None
            }
        },
    };
    let at_ms = match v.get("timestamp").and_then(Value::as_str) {
        None => now_ms(),
        Some(t) => match t.parse::<jiff::Timestamp>() {
            Ok(ts) if ts.as_millisecond() <= now_ms() + 5 * 60_000 => ts.as_millisecond(),
            Ok(_) => {
                errors.push(bad(&at("timestamp"), "xapi-timestamp-future", "cannot be in the future"));
                0
            }
            Err(_) => {
                errors.push(bad(&at("timestamp"), "xapi-timestamp", "must be an ISO 8601 timestamp with its offset").arg("value", t));
                0
            }
        },
    };
    let id = match v.get("id").and_then(Value::as_str) {
        Some(s) => match uuid::Uuid::parse_str(s) {
            Ok(u) => u.hyphenated().to_string(),
            Err(_) => {
                errors.push(bad(&at("id"), "xapi-id", "must be a UUID").arg("value", s));
                String::new()
            }
        },
        // The same statement posted again without an id is still one: its id is drawn
        // from what it says.
        None => {
            let h = sha2::Sha256::digest(format!("{mbox:?}|{account:?}|{verb_id}|{activity}|{at_ms}").as_bytes());
            let mut b = [0u8; 16];
            b.copy_from_slice(&h[..16]);
            uuid::Builder::from_custom_bytes(b).into_uuid().hyphenated().to_string()
        }
    };
    Some(Read { id, mbox, account, verb: verb?, activity, score, at_ms })
}

/// Records xAPI statements (one object or a list), all or none: a bad statement refuses
/// the request naming its index and field. A statement whose id is known changes nothing.
pub async fn statements(app: &App, who: &Principal, body: &Value) -> Result<Vec<StatementOutcome>> {
    who.require(Permission::TrainingManage)?;
    let list: Vec<&Value> = match body {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![body],
        _ => return Err(AppError::Invalid(vec![bad("body", "xapi-body", "must be a statement or a list of statements")])),
    };
    if list.is_empty() || list.len() > 1000 {
        return Err(AppError::Invalid(vec![bad("body", "xapi-count", "must hold from 1 to 1000 statements").arg("max", "1000")]));
    }
    let mut errors = vec![];
    let read: Vec<Option<Read>> = list.iter().enumerate().map(|(i, v)| read(i, v, &mut errors)).collect();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let read: Vec<Read> = read.into_iter().flatten().collect();
    let txn = app.store.write().await?;
    let (by_number, by_email) =
        people_by(&txn, read.iter().filter_map(|r| r.account.clone()).collect(), read.iter().filter_map(|r| r.mbox.clone()).collect()).await?;
    let courses: HashMap<String, course::Model> = course::Entity::find().all(&txn).await?.into_iter().map(|c| (c.code.to_uppercase(), c)).collect();
    let mut out = vec![];
    for (i, r) in read.iter().enumerate() {
        let p = r.account.as_ref().and_then(|a| by_number.get(a)).or_else(|| r.mbox.as_ref().and_then(|m| by_email.get(m)));
        let Some(p) = p.filter(|p| who.access.can_for(Permission::TrainingManage, p.company_id.parse().ok())) else {
            errors.push(bad(&format!("{i}.actor"), "xapi-no-person", "names no person you manage"));
            continue;
        };
        let code = activity_code(&r.activity).to_uppercase();
        let Some(c) = courses.get(&code) else {
            errors.push(bad(&format!("{i}.object.id"), "xapi-no-course", "names no course (its last segment is the course code)").arg("value", code));
            continue;
        };
        let known = statement::Entity::find_by_id(r.id.clone()).one(&txn).await?;
        if let Some(k) = known {
            if k.person_id != p.id || k.course_id != c.id || k.verb != r.verb.code() {
                errors.push(bad(&format!("{i}.id"), "xapi-id-conflict", "was posted before with other content").arg("value", r.id.clone()));
            }
            out.push(StatementOutcome { id: r.id.clone(), verb: r.verb.code().into(), completed: false, known: true });
            continue;
        }
        let mut completion_id = None;
        if r.verb.completes(c.quiz != "[]") {
            completion_id = Some(complete(&txn, p, c, CompletionSource::Xapi, &r.id, r.score, r.at_ms).await?);
        }
        statement::Entity::insert(statement::ActiveModel {
            id: Set(r.id.clone()),
            person_id: Set(p.id.clone()),
            course_id: Set(c.id.clone()),
            verb: Set(r.verb.code().into()),
            score: Set(r.score),
            at_ms: Set(r.at_ms),
            completion_id: Set(completion_id.clone()),
            received_ms: Set(now_ms()),
        })
        .on_conflict(OnConflict::column(statement::Column::Id).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
        out.push(StatementOutcome { id: r.id.clone(), verb: r.verb.code().into(), completed: completion_id.is_some(), known: false });
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let recorded = out.iter().filter(|o| !o.known).count();
    if recorded > 0 {
        record(
            app,
            &txn,
            who,
            "training.import.xapi",
            "training_completion",
            None,
            None,
            json!({"statements": out.len(), "recorded": recorded, "completed": out.iter().filter(|o| o.completed).count()}),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(out)
}
