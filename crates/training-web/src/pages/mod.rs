//! Training pages. Everyone's own: the list of their assignments, the course with its
//! quiz, the certificate. The security office's: courses and campaigns (child modules).

pub mod campaigns;
pub mod courses;
pub mod halves;
pub mod lms;

use askama::Template;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use isms_core::Permission;
use isms_kernel::Principal;
use isms_training::taking::{self, Assignment, MyAssignment};
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use isms_webkit::{Tile, WebState};

/// The state an assignment shows: overdue is `assigned` past its due date.
pub fn shown_state<'a>(status: &'a str, overdue: &bool) -> &'a str {
    if *overdue { "overdue" } else { status }
}

/// The home page's tiles: the reader's training still to do, and for those who read
/// training, the share trained this half per company.
pub async fn tiles(state: &WebState, who: &Principal, shell: &Shell) -> isms_kernel::Result<Vec<Tile>> {
    let mut out = vec![];
    if who.access.can(Permission::TrainingRead) {
        let s = isms_training::rule::standing(&state.app, who, None).await?;
        if s.people > 0 {
            let lowest = s.companies.iter().min_by_key(|c| c.share);
            out.push(Tile {
                href: "/training/halves",
                label: shell.tr("tile-training-share", &[("half", halves::half_name(shell, s.half))]),
                value: format!("{} %", s.share),
                note: lowest
                    .filter(|c| c.share < 100)
                    .map(|c| shell.tr("tile-training-share-lowest", &[("company", c.company_code.clone()), ("share", c.share.to_string())])),
                bars: s.companies.iter().map(|c| (c.company_code.clone(), c.share)).collect(),
            });
        }
    }
    let mine = taking::mine(&state.app, who, shell.lang()).await?;
    let open: Vec<&MyAssignment> = mine.iter().filter(|a| a.status == "assigned").collect();
    if open.is_empty() {
        return Ok(out);
    }
    let overdue = open.iter().filter(|a| a.overdue).count();
    let note = open.iter().map(|a| a.due_on.as_str()).min().map(|d| shell.tr("tile-training-next-due", &[("date", d.to_owned())]));
    out.push(Tile {
        href: "/training",
        label: if overdue > 0 { shell.tr("tile-training-overdue", &[("n", overdue.to_string())]) } else { shell.t("tile-training-open") },
        value: open.len().to_string(),
        note,
        bars: vec![],
    });
    Ok(out)
}

#[derive(Template)]
#[template(path = "training_mine.html")]
struct MinePage {
    shell: Shell,
    rows: Vec<MyAssignment>,
    reads: bool,
}

pub async fn mine(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let rows = taking::mine(&state.app, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "training-title");
        let r = render(&MinePage { shell, rows, reads: who.access.can(Permission::TrainingRead) });
        clear_flash(&state, r, &headers)
    })
}

#[derive(Template)]
#[template(path = "training_assignment.html")]
struct TakePage {
    shell: Shell,
    a: Assignment,
    body: String,
    video_url: String,
    form: FormState,
    /// What was chosen in the refused attempt, per question.
    chosen: Vec<Vec<usize>>,
}

impl TakePage {
    fn prompt(&self, q: &isms_core::training::Question) -> String {
        pick(self.shell.lang(), &q.prompt_ja, &q.prompt_en)
    }
    fn choice(&self, c: &isms_core::training::Choice) -> String {
        pick(self.shell.lang(), &c.text_ja, &c.text_en)
    }
    fn was_chosen(&self, q: &usize, c: &usize) -> bool {
        self.chosen.get(*q).is_some_and(|v| v.contains(c))
    }
    fn can_try(&self) -> bool {
        self.a.status == "assigned" && self.a.attempts_left != Some(0)
    }
}

/// The text in the reader's language, or the other when this one is empty.
fn pick(lang: &str, ja: &str, en: &str) -> String {
    let (first, second) = if lang == "en" { (en, ja) } else { (ja, en) };
    if first.trim().is_empty() { second.to_owned() } else { first.to_owned() }
}

async fn take_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    errors: Vec<isms_core::FieldError>,
    chosen: Vec<Vec<usize>>,
) -> Response {
    let a = isms_webkit::page_try!(ctx, taking::open(&state.app, who, id).await);
    let shell = Shell::new(ctx, headers, "training-title").crumb("/training", "training-title");
    let (title, body, video_url) = match a.course.text_in(shell.lang()) {
        Some(t) => (t.title.clone(), isms_core::policies::markdown::to_html(&t.body), t.video_url.clone()),
        None => (a.course.code.clone(), String::new(), String::new()),
    };
    let shell = shell.titled(title.clone());
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&TakePage { shell, a, body, video_url, form, chosen }, invalid)
}

pub async fn take(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let r = take_page(&state, &ctx, &headers, &who, &id, vec![], vec![]).await;
    clear_flash(&state, r, &headers)
}

pub async fn mark_read(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    match taking::mark_read(&state.app, &who, &id).await {
        Ok(_) => redirect_with_flash(&state, &format!("/training/assignments/{id}"), "flash-training-completed", ctx.is_htmx),
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            take_page(&state, &ctx, &headers, &who, &id, errors, vec![]).await
        }
    }
}

/// Reads the quiz form: `q1`, `q2`, … each with the indexes of the choices ticked.
fn answers(body: &[u8]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![];
    for (k, v) in form_urlencoded::parse(body) {
        let (Some(n), Ok(c)) = (k.strip_prefix('q').and_then(|n| n.parse::<usize>().ok()), v.parse::<usize>()) else { continue };
        if n == 0 || n > isms_core::training::MAX_QUESTIONS {
            continue;
        }
        if out.len() < n {
            out.resize(n, vec![]);
        }
        out[n - 1].push(c);
    }
    out
}

pub async fn submit_quiz(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let chosen = answers(&body);
    match taking::submit_quiz(&state.app, &who, &id, chosen.clone()).await {
        Ok(o) => {
            let flash = if o.completed { "flash-quiz-passed" } else { "flash-quiz-failed" };
            redirect_with_flash(&state, &format!("/training/assignments/{id}"), flash, ctx.is_htmx)
        }
        Err(e) => {
            let errors = isms_webkit::refusals!(&ctx, e);
            take_page(&state, &ctx, &headers, &who, &id, errors, chosen).await
        }
    }
}

/// The certificate of a completed assignment, in Japanese and English on one page.
pub async fn certificate(PageCx { state, ctx, headers: _, who }: PageCx, Path(id): Path<String>) -> Response {
    let a = isms_webkit::page_try!(&ctx, taking::open(&state.app, &who, &id).await);
    let Some(done) = a.completed_ms.filter(|_| a.status == "completed") else {
        return isms_webkit::shell::error_page(&ctx, axum::http::StatusCode::NOT_FOUND, "error-not-found");
    };
    let name = who.name.clone();
    let person = isms_webkit::page_try!(&ctx, isms_org::people::names(&state.app, std::slice::from_ref(&a.person_id)).await);
    let (person_name, number) = person.get(&a.person_id).cloned().unwrap_or((name, String::new()));
    let both = |key: &str| format!("{} / {}", ctx.i18n.get(isms_webkit::i18n::Lang::Ja, key), ctx.i18n.get(isms_webkit::i18n::Lang::En, key));
    let title_ja = a.course.text_in("ja").map(|t| t.title.clone()).unwrap_or_default();
    let title_en = a.course.texts.iter().find(|t| t.lang == "en").map(|t| t.title.clone()).unwrap_or_default();
    let on = isms_core::calendar::date_at(done).map(|d| d.to_string()).unwrap_or_default();
    let score = a.attempts.iter().rev().find(|t| t.passed).map(|t| format!("{} %", t.percent)).unwrap_or_else(|| "—".into());
    let cell = |label: &str, value: String| isms_kernel::pdf::Row::Cells(vec![both(label), value]);
    let doc = isms_kernel::pdf::TableDoc {
        title: both("certificate-title"),
        lines: vec![both("certificate-statement")],
        columns: vec![
            isms_kernel::pdf::Column { heading: both("certificate-item"), weight: 1.0 },
            isms_kernel::pdf::Column { heading: both("certificate-detail"), weight: 2.5 },
        ],
        rows: vec![
            cell("certificate-person", format!("{person_name} ({number})")),
            cell("certificate-course", if title_en.is_empty() || title_en == title_ja { title_ja.clone() } else { format!("{title_ja} / {title_en}") }),
            cell("certificate-course-code", format!("{} (rev. {})", a.course.code, a.course.revision)),
            cell("certificate-completed-on", on),
            cell("certificate-score", score),
            cell("certificate-number", a.id.clone()),
        ],
        page_label: ctx.i18n.get(ctx.lang, "page-n-of-total"),
        language: "ja".into(),
    };
    match isms_kernel::pdf::render(&doc) {
        Ok(pdf) => isms_webkit::download::file(&format!("certificate-{}.pdf", a.course.code), "application/pdf", pdf),
        Err(e) => isms_webkit::error::page_error(&ctx, isms_kernel::AppError::internal(e)),
    }
}
