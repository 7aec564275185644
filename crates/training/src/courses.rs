//! Courses: their text in Japanese and English (Markdown, a link to a video), an optional
//! quiz with a pass mark and a limit on attempts, and an estimated duration. Each edit of
//! the text or the quiz is a new revision; a completion keeps the revision it was taken on.

use crate::{manages, new_id, reads, require_manages};
use isms_core::training::{CourseKind, Question, check_quiz};
use isms_core::{FieldError, Permission};
use isms_kernel::{App, AppError, Principal, Result, record};
use isms_store::now_ms;
use isms_store::sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use isms_store::training::{course, text};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A course's text in one language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CourseText {
    /// ja or en
    pub lang: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub video_url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Course {
    pub id: String,
    pub code: String,
    pub kind: CourseKind,
    pub company_id: Option<String>,
    pub duration_minutes: i32,
    pub pass_mark: i32,
    pub max_attempts: Option<i32>,
    pub quiz: Vec<Question>,
    pub revision: i32,
    pub retired: bool,
    pub texts: Vec<CourseText>,
    pub updated_ms: i64,
}

impl Course {
    /// The text in `lang`, or in the other language when this one has none.
    pub fn text_in(&self, lang: &str) -> Option<&CourseText> {
        self.texts.iter().find(|t| t.lang == lang).or_else(|| self.texts.first())
    }

    pub fn title_in(&self, lang: &str) -> String {
        self.text_in(lang).map(|t| t.title.clone()).unwrap_or_else(|| self.code.clone())
    }

    pub fn has_quiz(&self) -> bool {
        !self.quiz.is_empty()
    }
}

/// A course as a form or API body gives it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CourseInput {
    pub code: String,
    /// awareness, remedial or specialist
    pub kind: String,
    /// Empty for a group course.
    #[serde(default)]
    pub company_id: Option<String>,
    pub duration_minutes: Option<i32>,
    /// Percent of questions right to pass (default 80).
    #[serde(default)]
    pub pass_mark: Option<i32>,
    /// Blank for as many attempts as it takes.
    #[serde(default)]
    pub max_attempts: Option<i32>,
    #[serde(default)]
    pub title_ja: String,
    #[serde(default)]
    pub body_ja: String,
    #[serde(default)]
    pub video_url_ja: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub body_en: String,
    #[serde(default)]
    pub video_url_en: String,
    #[serde(default)]
    pub quiz: Vec<Question>,
}

fn course_of(m: course::Model, texts: Vec<text::Model>) -> Course {
    let quiz = serde_json::from_str(&m.quiz).unwrap_or_default();
    let mut texts: Vec<CourseText> = texts.into_iter().map(|t| CourseText { lang: t.lang, title: t.title, body: t.body, video_url: t.video_url }).collect();
    texts.sort_by_key(|t| if t.lang == "ja" { 0 } else { 1 });
    Course {
        id: m.id,
        code: m.code,
        kind: CourseKind::parse(&m.kind).unwrap_or(CourseKind::Awareness),
        company_id: m.company_id,
        duration_minutes: m.duration_minutes,
        pass_mark: m.pass_mark,
        max_attempts: m.max_attempts,
        quiz,
        revision: m.revision,
        retired: m.retired,
        texts,
        updated_ms: m.updated_ms,
    }
}

/// Courses with their text, read straight from the tables (no permission check: for
/// callers that checked already).
pub(crate) async fn load(db: &impl ConnectionTrait, rows: Vec<course::Model>) -> Result<Vec<Course>> {
    let ids: Vec<String> = rows.iter().map(|c| c.id.clone()).collect();
    let mut texts: std::collections::HashMap<String, Vec<text::Model>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for t in text::Entity::find().filter(text::Column::CourseId.is_in(chunk.iter().cloned())).all(db).await? {
            texts.entry(t.course_id.clone()).or_default().push(t);
        }
    }
    Ok(rows
        .into_iter()
        .map(|m| {
            let t = texts.remove(&m.id).unwrap_or_default();
            course_of(m, t)
        })
        .collect())
}

pub(crate) async fn load_one(db: &impl ConnectionTrait, id: &str) -> Result<Course> {
    let m = course::Entity::find_by_id(id.to_owned()).one(db).await?.ok_or(AppError::NotFound)?;
    Ok(load(db, vec![m]).await?.remove(0))
}

/// The courses `who` reads: the group's and their companies', retired ones last.
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Course>> {
    let within = who.within(Permission::TrainingRead)?;
    let db = app.store.conn();
    let mut sel = course::Entity::find();
    if let Some(list) = within {
        sel = sel.filter(isms_store::sea_orm::Condition::any().add(course::Column::CompanyId.is_null()).add(course::Column::CompanyId.is_in(list)));
    }
    let rows = sel.order_by_asc(course::Column::Retired).order_by_asc(course::Column::Code).all(db).await?;
    load(db, rows).await
}

pub async fn get(app: &App, who: &Principal, id: &str) -> Result<Course> {
    let c = load_one(app.store.conn(), id).await?;
    if !reads(who, c.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// Whether `who` may edit `c` (for pages that offer the button).
pub fn can_edit(who: &Principal, c: &Course) -> bool {
    manages(who, c.company_id.as_deref())
}

struct Valid {
    code: String,
    kind: CourseKind,
    company_id: Option<String>,
    duration: i32,
    pass_mark: i32,
    max_attempts: Option<i32>,
    texts: Vec<CourseText>,
    quiz: Vec<Question>,
}

fn validate(input: &CourseInput) -> std::result::Result<Valid, Vec<FieldError>> {
    let mut errors = vec![];
    let code = match isms_core::org::Code::parse("code", &input.code) {
        Ok(c) => c.as_str().to_owned(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let kind = CourseKind::parse_as("kind", &input.kind).map_err(|e| errors.push(e)).ok();
    let duration = match input.duration_minutes {
        None => {
            errors.push(FieldError::coded("duration_minutes", "required", "is required"));
            0
        }
        Some(d) if !(1..=600).contains(&d) => {
            errors.push(FieldError::coded("duration_minutes", "range", "must be between 1 and 600").arg("min", "1").arg("max", "600"));
            0
        }
        Some(d) => d,
    };
    let pass_mark = input.pass_mark.unwrap_or(80);
    if !(0..=100).contains(&pass_mark) {
        errors.push(FieldError::coded("pass_mark", "range", "must be between 0 and 100").arg("min", "0").arg("max", "100"));
    }
    if let Some(n) = input.max_attempts
        && !(1..=20).contains(&n)
    {
        errors.push(FieldError::coded("max_attempts", "range", "must be between 1 and 20").arg("min", "1").arg("max", "20"));
    }
    let mut texts = vec![];
    for (lang, title, body, video) in
        [("ja", &input.title_ja, &input.body_ja, &input.video_url_ja), ("en", &input.title_en, &input.body_en, &input.video_url_en)]
    {
        if title.trim().is_empty() && body.trim().is_empty() && video.trim().is_empty() {
            continue;
        }
        let title = isms_kernel::input::required(&mut errors, &format!("title_{lang}"), title, 300);
        if body.chars().count() > 200_000 {
            errors.push(FieldError::coded(format!("body_{lang}"), "too-long", "is longer than 200000 characters").arg("max", "200000"));
        }
        let video = video.trim();
        if !video.is_empty() && !(video.starts_with("https://") || video.starts_with("http://"))
            || video.chars().count() > 500
            || video.contains(char::is_whitespace)
        {
            errors.push(FieldError::coded(format!("video_url_{lang}"), "web-address", "must be an http(s) address"));
        }
        texts.push(CourseText { lang: lang.into(), title, body: body.trim_end().to_owned(), video_url: video.to_owned() });
    }
    if texts.is_empty() {
        errors.push(FieldError::coded("title_ja", "course-no-text", "give the course a title in Japanese or English"));
    }
    errors.extend(check_quiz(&input.quiz));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Valid {
        code,
        kind: kind.unwrap_or(CourseKind::Awareness),
        company_id: isms_kernel::input::blank_to_none(&input.company_id),
        duration,
        pass_mark,
        max_attempts: input.max_attempts,
        texts,
        quiz: input.quiz.clone(),
    })
}

/// What `create` would refuse in `input`, without writing (for a form that refused some
/// fields itself and must name the rest at once).
pub fn check(input: &CourseInput) -> Vec<FieldError> {
    validate(input).err().unwrap_or_default()
}

async fn write_texts(db: &impl ConnectionTrait, course_id: &str, texts: &[CourseText]) -> Result<()> {
    text::Entity::delete_many().filter(text::Column::CourseId.eq(course_id)).exec(db).await?;
    for t in texts {
        text::ActiveModel {
            course_id: Set(course_id.to_owned()),
            lang: Set(t.lang.clone()),
            title: Set(t.title.clone()),
            body: Set(t.body.clone()),
            video_url: Set(t.video_url.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

fn summary(v: &Valid) -> serde_json::Value {
    json!({
        "code": v.code, "kind": v.kind.code(), "company_id": v.company_id, "duration_minutes": v.duration,
        "pass_mark": v.pass_mark, "max_attempts": v.max_attempts, "questions": v.quiz.len(),
        "languages": v.texts.iter().map(|t| t.lang.clone()).collect::<Vec<_>>(),
    })
}

pub async fn create(app: &App, who: &Principal, input: CourseInput) -> Result<Course> {
    let v = validate(&input).map_err(AppError::Invalid)?;
    require_manages(who, v.company_id.as_deref())?;
    let txn = app.store.write().await?;
    if course::Entity::find().filter(course::Column::Code.eq(v.code.clone())).one(&txn).await?.is_some() {
        return Err(AppError::coded("code", "course-code-taken", "another course has this code").into_with_arg("value", v.code.clone()));
    }
    let now = now_ms();
    let id = new_id();
    course::ActiveModel {
        id: Set(id.clone()),
        code: Set(v.code.clone()),
        kind: Set(v.kind.code().into()),
        company_id: Set(v.company_id.clone()),
        duration_minutes: Set(v.duration),
        pass_mark: Set(v.pass_mark),
        max_attempts: Set(v.max_attempts),
        quiz: Set(serde_json::to_string(&v.quiz).map_err(AppError::internal)?),
        revision: Set(1),
        retired: Set(false),
        created_by: Set(who.user_id.clone()),
        created_ms: Set(now),
        updated_ms: Set(now),
    }
    .insert(&txn)
    .await?;
    write_texts(&txn, &id, &v.texts).await?;
    record(app, &txn, who, "training.course.create", "course", Some(&id), v.company_id.as_deref(), summary(&v)).await?;
    txn.commit().await?;
    load_one(app.store.conn(), &id).await
}

/// Replaces a course's settings, text and quiz. Its owner (group or company) stays.
pub async fn update(app: &App, who: &Principal, id: &str, input: CourseInput) -> Result<Course> {
    let txn = app.store.write().await?;
    let m = course::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !reads(who, m.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    require_manages(who, m.company_id.as_deref())?;
    let input = CourseInput { company_id: m.company_id.clone(), ..input };
    let v = validate(&input).map_err(AppError::Invalid)?;
    if v.code != m.code && course::Entity::find().filter(course::Column::Code.eq(v.code.clone())).one(&txn).await?.is_some() {
        return Err(AppError::coded("code", "course-code-taken", "another course has this code").into_with_arg("value", v.code.clone()));
    }
    let before = load(&txn, vec![m.clone()]).await?.remove(0);
    let content_changed = before.texts != v.texts || before.quiz != v.quiz || before.pass_mark != v.pass_mark;
    let mut am = m.into_active_model();
    am.code = Set(v.code.clone());
    am.kind = Set(v.kind.code().into());
    am.duration_minutes = Set(v.duration);
    am.pass_mark = Set(v.pass_mark);
    am.max_attempts = Set(v.max_attempts);
    am.quiz = Set(serde_json::to_string(&v.quiz).map_err(AppError::internal)?);
    if content_changed {
        am.revision = Set(before.revision + 1);
    }
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    write_texts(&txn, id, &v.texts).await?;
    record(
        app,
        &txn,
        who,
        "training.course.update",
        "course",
        Some(id),
        v.company_id.as_deref(),
        json!({"after": summary(&v), "revision": before.revision + i32::from(content_changed)}),
    )
    .await?;
    txn.commit().await?;
    load_one(app.store.conn(), id).await
}

/// Retires a course (or brings it back): a retired course is offered to no new campaign;
/// running assignments keep it.
pub async fn set_retired(app: &App, who: &Principal, id: &str, retired: bool) -> Result<Course> {
    let txn = app.store.write().await?;
    let m = course::Entity::find_by_id(id.to_owned()).one(&txn).await?.ok_or(AppError::NotFound)?;
    if !reads(who, m.company_id.as_deref()) {
        return Err(AppError::NotFound);
    }
    require_manages(who, m.company_id.as_deref())?;
    let company = m.company_id.clone();
    let mut am = m.into_active_model();
    am.retired = Set(retired);
    am.updated_ms = Set(now_ms());
    am.update(&txn).await?;
    record(app, &txn, who, if retired { "training.course.retire" } else { "training.course.restore" }, "course", Some(id), company.as_deref(), json!({}))
        .await?;
    txn.commit().await?;
    load_one(app.store.conn(), id).await
}
