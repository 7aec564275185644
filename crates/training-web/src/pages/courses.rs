//! Courses: the list, a course with its quiz, and the form that writes both (the quiz as
//! text, one line per question or choice).

use askama::Template;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::FieldError;
use isms_core::training::{CourseKind, parse_quiz_text, quiz_text};
use isms_kernel::Principal;
use isms_training::courses::{self, Course, CourseInput};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::lookup::Lookup;
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "training_courses.html")]
struct ListPage {
    shell: Shell,
    rows: Vec<Course>,
    look: Lookup,
    can_create: bool,
}

pub async fn list(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let rows = courses::list(&state.app, &who).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "training-courses-title").crumb("/training", "training-title");
        let can_create = who.access.can(isms_core::Permission::TrainingManage);
        clear_flash(&state, render(&ListPage { shell, rows, look, can_create }), &headers)
    })
}

#[derive(Template)]
#[template(path = "training_course.html")]
struct ShowPage {
    shell: Shell,
    c: Course,
    look: Lookup,
    body: String,
    quiz: String,
    can_edit: bool,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> PageResult {
    Ok({
        let c = courses::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell =
            Shell::new(&ctx, &headers, "training-courses-title").crumb("/training/courses", "training-courses-title").titled(c.title_in(ctx.lang.code()));
        let body = c.text_in(shell.lang()).map(|t| isms_core::policies::markdown::to_html(&t.body)).unwrap_or_default();
        let quiz = quiz_text(&c.quiz);
        let can_edit = courses::can_edit(&who, &c);
        clear_flash(&state, render(&ShowPage { shell, c, look, body, quiz, can_edit }), &headers)
    })
}

/// The course form as typed: every field a string, so a refused form shows what was sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CourseForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub company_id: String,
    #[serde(default)]
    pub duration_minutes: String,
    #[serde(default)]
    pub pass_mark: String,
    #[serde(default)]
    pub max_attempts: String,
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
    pub quiz: String,
}

impl CourseForm {
    fn of(c: &Course) -> Self {
        let text_of = |lang: &str| c.texts.iter().find(|t| t.lang == lang).cloned();
        let (ja, en) = (text_of("ja"), text_of("en"));
        Self {
            code: c.code.clone(),
            kind: c.kind.code().into(),
            company_id: c.company_id.clone().unwrap_or_default(),
            duration_minutes: c.duration_minutes.to_string(),
            pass_mark: c.pass_mark.to_string(),
            max_attempts: c.max_attempts.map(|n| n.to_string()).unwrap_or_default(),
            title_ja: ja.as_ref().map(|t| t.title.clone()).unwrap_or_default(),
            body_ja: ja.as_ref().map(|t| t.body.clone()).unwrap_or_default(),
            video_url_ja: ja.as_ref().map(|t| t.video_url.clone()).unwrap_or_default(),
            title_en: en.as_ref().map(|t| t.title.clone()).unwrap_or_default(),
            body_en: en.as_ref().map(|t| t.body.clone()).unwrap_or_default(),
            video_url_en: en.as_ref().map(|t| t.video_url.clone()).unwrap_or_default(),
            quiz: quiz_text(&c.quiz),
        }
    }

    /// The use case's input, and what the form itself refused (numbers, the quiz text).
    fn input(&self) -> (CourseInput, Vec<FieldError>) {
        let mut errors = vec![];
        let duration_minutes = isms_kernel::input::whole(&mut errors, "duration_minutes", &self.duration_minutes);
        let pass_mark = isms_kernel::input::whole(&mut errors, "pass_mark", &self.pass_mark);
        let max_attempts = isms_kernel::input::whole(&mut errors, "max_attempts", &self.max_attempts);
        let quiz = parse_quiz_text(&self.quiz).unwrap_or_else(|e| {
            errors.extend(e);
            vec![]
        });
        let input = CourseInput {
            code: self.code.clone(),
            kind: self.kind.clone(),
            company_id: Some(self.company_id.clone()),
            duration_minutes,
            pass_mark,
            max_attempts,
            title_ja: self.title_ja.clone(),
            body_ja: self.body_ja.clone(),
            video_url_ja: self.video_url_ja.clone(),
            title_en: self.title_en.clone(),
            body_en: self.body_en.clone(),
            video_url_en: self.video_url_en.clone(),
            quiz,
        };
        (input, errors)
    }
}

#[derive(Template)]
#[template(path = "training_course_form.html")]
struct FormPage {
    shell: Shell,
    v: CourseForm,
    look: Lookup,
    form: FormState,
    kinds: Vec<&'static str>,
    action: String,
    creating: bool,
}

async fn form_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, v: CourseForm, id: Option<&str>, errors: Vec<FieldError>) -> Response {
    let look = isms_webkit::page_try!(ctx, Lookup::load(state, who, ctx.lang.code()).await);
    let shell = Shell::new(ctx, headers, if id.is_some() { "training-course-edit" } else { "training-course-new" })
        .crumb("/training/courses", "training-courses-title");
    let form = FormState::new(&shell, errors).labelled(
        &shell,
        &[
            ("kind", "training-course-kind"),
            ("duration_minutes", "training-duration"),
            ("pass_mark", "training-pass-mark"),
            ("max_attempts", "training-max-attempts"),
            ("title_ja", "training-title-ja"),
            ("title_en", "training-title-en"),
            ("body_ja", "training-body-ja"),
            ("body_en", "training-body-en"),
            ("video_url_ja", "training-video-ja"),
            ("video_url_en", "training-video-en"),
            ("quiz", "training-quiz"),
        ],
    );
    let invalid = !form.errors.is_empty();
    let action = match id {
        Some(id) => format!("/training/courses/{id}/edit"),
        None => "/training/courses/new".into(),
    };
    let kinds = CourseKind::ALL.iter().map(|k| k.code()).collect();
    render_form(&FormPage { shell, v, look, form, kinds, action, creating: id.is_none() }, invalid)
}

pub async fn new_form(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let v = CourseForm { kind: "awareness".into(), duration_minutes: "30".into(), pass_mark: "80".into(), ..Default::default() };
    form_page(&state, &ctx, &headers, &who, v, None, vec![]).await
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let c = isms_webkit::page_try!(&ctx, courses::get(&state.app, &who, &id).await);
    form_page(&state, &ctx, &headers, &who, CourseForm::of(&c), Some(&id), vec![]).await
}

/// The form's own refusals and the use case's, each field named once.
fn merged(mut own: Vec<FieldError>, theirs: Vec<FieldError>) -> Vec<FieldError> {
    for e in theirs {
        if !own.iter().any(|o| o.field == e.field) {
            own.push(e);
        }
    }
    own
}

async fn save(state: WebState, ctx: Ctx, headers: HeaderMap, who: Principal, f: CourseForm, id: Option<String>) -> Response {
    let (input, own) = f.input();
    if !own.is_empty() {
        // Nothing is written; every other refusal is named beside the form's own.
        let errors = merged(own, courses::check(&input));
        return form_page(&state, &ctx, &headers, &who, f, id.as_deref(), errors).await;
    }
    let r = match &id {
        None => courses::create(&state.app, &who, input).await,
        Some(id) => courses::update(&state.app, &who, id, input).await,
    };
    match r {
        Ok(c) => redirect_with_flash(&state, &format!("/training/courses/{}", c.id), "flash-saved", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            form_page(&state, &ctx, &headers, &who, f, id.as_deref(), errors).await
        }
    }
}

pub async fn create(PageCx { state, ctx, headers, who }: PageCx, axum::Form(f): axum::Form<CourseForm>) -> Response {
    save(state, ctx, headers, who, f, None).await
}

pub async fn update(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, axum::Form(f): axum::Form<CourseForm>) -> Response {
    save(state, ctx, headers, who, f, Some(id)).await
}

#[derive(Deserialize)]
pub struct RetireForm {
    #[serde(default)]
    restore: String,
}

pub async fn retire(PageCx { state, ctx, headers: _, who }: PageCx, Path(id): Path<String>, axum::Form(f): axum::Form<RetireForm>) -> Response {
    let r = isms_webkit::page_try!(&ctx, courses::set_retired(&state.app, &who, &id, f.restore.is_empty()).await);
    redirect_with_flash(&state, &format!("/training/courses/{}", r.id), "flash-saved", ctx.is_htmx)
}
