//! Taking a course: a person's own assignments, reading the course, the quiz and its
//! attempts, and the completion that ends every open assignment of that course.

use crate::courses::{self, Course};
use isms_core::training::{AssignmentStatus, CompletionSource, score};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::org::person;
use isms_store::sea_orm::sea_query::{Expr, OnConflict};
use isms_store::sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use isms_store::training::{assignment, attempt, campaign, completion, course};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyAssignment {
    pub id: String,
    pub campaign_id: String,
    pub campaign_title: String,
    pub course_id: String,
    pub course_title: String,
    pub duration_minutes: i32,
    pub due_on: String,
    /// assigned or completed
    pub status: String,
    pub overdue: bool,
    pub completed_ms: Option<i64>,
}

/// An assignment opened to be taken: the course, and the attempts so far.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assignment {
    pub id: String,
    pub person_id: String,
    pub campaign_title: String,
    pub due_on: String,
    pub status: String,
    pub overdue: bool,
    pub completed_ms: Option<i64>,
    pub course: Course,
    pub attempts: Vec<Attempt>,
    /// `None`: as many as it takes.
    pub attempts_left: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub number: i32,
    pub correct: i32,
    pub total: i32,
    pub percent: i32,
    pub passed: bool,
    pub submitted_ms: i64,
}

impl From<attempt::Model> for Attempt {
    fn from(m: attempt::Model) -> Self {
        Self { number: m.number, correct: m.correct, total: m.total, percent: m.percent, passed: m.passed, submitted_ms: m.submitted_ms }
    }
}

/// What a submitted quiz came to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizOutcome {
    pub attempt: Attempt,
    pub pass_mark: i32,
    pub completed: bool,
    pub attempts_left: Option<i32>,
}

async fn me(db: &impl ConnectionTrait, who: &Principal) -> Result<person::Model> {
    isms_org::people::of_principal(db, who).await?.ok_or(AppError::NotFound)
}

/// The caller's assignments that were not dropped: open ones first, soonest due first;
/// course titles in `lang` (or the other language where the course has only that).
pub async fn mine(app: &App, who: &Principal, lang: &str) -> Result<Vec<MyAssignment>> {
    let db = app.store.conn();
    let Some(p) = isms_org::people::of_principal(db, who).await? else { return Ok(vec![]) };
    let rows = assignment::Entity::find()
        .filter(assignment::Column::PersonId.eq(p.id))
        .filter(assignment::Column::Status.ne(AssignmentStatus::Dropped.code()))
        .order_by_asc(assignment::Column::Status)
        .order_by_asc(assignment::Column::DueOn)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?;
    let course_ids: Vec<String> = rows.iter().map(|a| a.course_id.clone()).collect();
    let campaign_ids: Vec<String> = rows.iter().map(|a| a.campaign_id.clone()).collect();
    let courses = courses::load(db, course::Entity::find().filter(course::Column::Id.is_in(course_ids)).all(db).await?).await?;
    let campaigns = campaign::Entity::find().filter(campaign::Column::Id.is_in(campaign_ids)).all(db).await?;
    let today = isms_core::calendar::today().to_string();
    Ok(rows
        .into_iter()
        .map(|a| {
            let c = courses.iter().find(|c| c.id == a.course_id);
            MyAssignment {
                campaign_title: campaigns.iter().find(|k| k.id == a.campaign_id).map(|k| k.title.clone()).unwrap_or_default(),
                course_title: c.map(|c| c.title_in(lang)).unwrap_or_default(),
                duration_minutes: c.map(|c| c.duration_minutes).unwrap_or(0),
                overdue: a.status == AssignmentStatus::Assigned.code() && a.due_on < today,
                id: a.id,
                campaign_id: a.campaign_id,
                course_id: a.course_id,
                due_on: a.due_on,
                status: a.status,
                completed_ms: a.completed_ms,
            }
        })
        .collect())
}

/// One of the caller's own assignments (anyone else's is not found: a person's training
/// is theirs; progress pages show counts and the export).
pub async fn open(app: &App, who: &Principal, id: &str) -> Result<Assignment> {
    let db = app.store.conn();
    let p = me(db, who).await?;
    let a = assignment::Entity::find_by_id(id.to_owned()).one(db).await?.filter(|a| a.person_id == p.id).ok_or(AppError::NotFound)?;
    if a.status == AssignmentStatus::Dropped.code() {
        return Err(AppError::NotFound);
    }
    detail(db, a).await
}

async fn detail(db: &impl ConnectionTrait, a: assignment::Model) -> Result<Assignment> {
    let course = courses::load_one(db, &a.course_id).await?;
    let k = campaign::Entity::find_by_id(a.campaign_id.clone()).one(db).await?;
    let attempts: Vec<Attempt> = attempt::Entity::find()
        .filter(attempt::Column::AssignmentId.eq(a.id.clone()))
        .order_by_asc(attempt::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let attempts_left = course.max_attempts.map(|m| (m - attempts.len() as i32).max(0));
    let today = isms_core::calendar::today().to_string();
    Ok(Assignment {
        overdue: a.status == AssignmentStatus::Assigned.code() && a.due_on < today,
        id: a.id,
        person_id: a.person_id,
        campaign_title: k.map(|k| k.title).unwrap_or_default(),
        due_on: a.due_on,
        status: a.status,
        completed_ms: a.completed_ms,
        course,
        attempts,
        attempts_left,
    })
}

/// Loads the caller's open assignment inside `txn` for a change.
async fn own_open(db: &impl ConnectionTrait, who: &Principal, id: &str) -> Result<(person::Model, assignment::Model, course::Model)> {
    let p = me(db, who).await?;
    let a = assignment::Entity::find_by_id(id.to_owned()).one(db).await?.filter(|a| a.person_id == p.id).ok_or(AppError::NotFound)?;
    match AssignmentStatus::parse(&a.status) {
        Ok(AssignmentStatus::Completed) => return Err(AppError::conflict("training-already-completed", "this training is completed already")),
        Ok(AssignmentStatus::Dropped) | Err(_) => return Err(AppError::NotFound),
        Ok(AssignmentStatus::Assigned) => {}
    }
    let c = course::Entity::find_by_id(a.course_id.clone()).one(db).await?.ok_or(AppError::NotFound)?;
    Ok((p, a, c))
}

/// Records that `person` completed `course` and ends every open assignment of that
/// course they have. The same (source, reference) twice is one completion.
pub(crate) async fn complete(
    db: &impl ConnectionTrait,
    p: &person::Model,
    c: &course::Model,
    source: CompletionSource,
    reference: &str,
    score: Option<i32>,
    at_ms: i64,
) -> Result<String> {
    let on = isms_core::calendar::date_at(at_ms).map(|d| d.to_string()).unwrap_or_default();
    let id = crate::new_id();
    completion::Entity::insert(completion::ActiveModel {
        id: Set(id.clone()),
        person_id: Set(p.id.clone()),
        course_id: Set(c.id.clone()),
        company_id: Set(p.company_id.clone()),
        completed_on: Set(on),
        completed_ms: Set(at_ms),
        source: Set(source.code().into()),
        reference: Set(reference.to_owned()),
        score: Set(score),
        revision: Set(c.revision),
        created_ms: Set(now_ms()),
    })
    .on_conflict(OnConflict::columns([completion::Column::Source, completion::Column::Reference]).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    let kept = completion::Entity::find()
        .filter(completion::Column::Source.eq(source.code()))
        .filter(completion::Column::Reference.eq(reference))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a completion just written is missing"))?;
    assignment::Entity::update_many()
        .col_expr(assignment::Column::Status, Expr::value(AssignmentStatus::Completed.code()))
        .col_expr(assignment::Column::CompletedMs, Expr::value(at_ms))
        .col_expr(assignment::Column::CompletionId, Expr::value(kept.id.clone()))
        .filter(assignment::Column::PersonId.eq(p.id.clone()))
        .filter(assignment::Column::CourseId.eq(c.id.clone()))
        .filter(assignment::Column::Status.eq(AssignmentStatus::Assigned.code()))
        .exec(db)
        .await?;
    Ok(kept.id)
}

/// Marks a course without a quiz as read. A course with a quiz is completed by passing it.
pub async fn mark_read(app: &App, who: &Principal, id: &str) -> Result<Assignment> {
    let txn = app.store.write().await?;
    let (p, a, c) = own_open(&txn, who, id).await?;
    // An unreadable quiz is a fault, never "no quiz": reading must not stand in for passing.
    let quiz: Vec<isms_core::training::Question> = serde_json::from_str(&c.quiz).map_err(AppError::internal)?;
    if !quiz.is_empty() {
        return Err(AppError::conflict("training-quiz-required", "this course is completed by passing its quiz"));
    }
    let completion = complete(&txn, &p, &c, CompletionSource::Course, &a.id, None, now_ms()).await?;
    record(
        app,
        &txn,
        who,
        "training.complete",
        "training_assignment",
        Some(&a.id),
        Some(&a.company_id),
        json!({"course": c.code, "completion_id": completion}),
    )
    .await?;
    txn.commit().await?;
    detail(app.store.conn(), assignment::Entity::find_by_id(id.to_owned()).one(app.store.conn()).await?.ok_or(AppError::NotFound)?).await
}

/// Scores an attempt at the quiz. Passing completes the course; the last attempt allowed
/// is taken once, however many are sent at the same moment.
pub async fn submit_quiz(app: &App, who: &Principal, id: &str, answers: Vec<Vec<usize>>) -> Result<QuizOutcome> {
    let txn = app.store.write().await?;
    let (p, a, c) = own_open(&txn, who, id).await?;
    let quiz: Vec<isms_core::training::Question> = serde_json::from_str(&c.quiz).map_err(AppError::internal)?;
    if quiz.is_empty() {
        return Err(AppError::conflict("training-no-quiz", "this course has no quiz"));
    }
    let taken = attempt::Entity::find().filter(attempt::Column::AssignmentId.eq(a.id.clone())).count(&txn).await? as i32;
    if let Some(max) = c.max_attempts
        && taken >= max
    {
        return Err(AppError::conflict("training-no-attempts-left", "no attempts are left"));
    }
    let s = score(&quiz, &answers, c.pass_mark.max(0) as u32)?;
    let now = now_ms();
    let number = taken + 1;
    let row = attempt::ActiveModel {
        id: Set(crate::new_id()),
        assignment_id: Set(a.id.clone()),
        number: Set(number),
        answers: Set(serde_json::to_string(&answers).map_err(AppError::internal)?),
        correct: Set(s.correct as i32),
        total: Set(s.total as i32),
        percent: Set(s.percent as i32),
        passed: Set(s.passed),
        submitted_ms: Set(now),
    };
    // Two submissions at once read the same count: the unique (assignment, number) index
    // lets one in; the other is refused as a clash, never a second attempt.
    attempt::Entity::insert(row.clone()).exec_without_returning(&txn).await.map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => AppError::conflict("training-attempt-clash", "another attempt was sent at the same time"),
        other => other,
    })?;
    let completion = if s.passed { Some(complete(&txn, &p, &c, CompletionSource::Course, &a.id, Some(s.percent as i32), now).await?) } else { None };
    record(
        app,
        &txn,
        who,
        "training.quiz.attempt",
        "training_assignment",
        Some(&a.id),
        Some(&a.company_id),
        json!({"course": c.code, "attempt": number, "percent": s.percent, "passed": s.passed, "completion_id": completion}),
    )
    .await?;
    txn.commit().await?;
    Ok(QuizOutcome {
        attempt: Attempt { number, correct: s.correct as i32, total: s.total as i32, percent: s.percent as i32, passed: s.passed, submitted_ms: now },
        pass_mark: c.pass_mark,
        completed: s.passed,
        attempts_left: c.max_attempts.map(|m| (m - number).max(0)),
    })
}
