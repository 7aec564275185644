//! One version of a document: its text, state, approvals and files; the draft editor with
//! a preview; the lifecycle buttons (submit, withdraw, approve or reject, publish); the
//! side-by-side comparison of two versions; and file upload and download.

use super::after;
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use isms_core::policies::diff::Row;
use isms_kernel::Principal;
use isms_policies::Version;
use isms_policies::documents::{self, DocumentDetail};
use isms_policies::versions::{self, DecisionInput, VersionInput};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::download::download_parts;
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{FormState, Shell, clear_flash, redirect_with_flash, render, render_form};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "policy_version.html")]
struct VersionPage {
    shell: Shell,
    d: DocumentDetail,
    v: Version,
    html: String,
    can_decide: bool,
    previous: Option<i32>,
    approvers: HashMap<String, String>,
    form: FormState,
}

impl VersionPage {
    fn who(&self, id: &str) -> String {
        self.approvers.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }
}

async fn version_page(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, n: i32, errors: Vec<isms_core::FieldError>) -> Response {
    let d = isms_webkit::page_try!(ctx, documents::get(&state.app, who, id).await);
    let Some(v) = d.versions.iter().find(|v| v.number == n).cloned() else {
        return isms_webkit::error::page_error(ctx, isms_kernel::AppError::NotFound);
    };
    let can_decide = versions::can_decide(&state.app, who, id, n).await.unwrap_or(false);
    let previous = d.versions.iter().filter(|o| o.number < n).map(|o| o.number).max();
    let ids: Vec<String> = v.approvals.iter().map(|a| a.user_id.clone()).chain(v.created_by.clone()).collect();
    let approvers = isms_webkit::page_try!(ctx, isms_org::accounts::display_names(&state.app, &ids).await);
    let html = isms_core::policies::markdown::to_html(&v.body);
    let shell = Shell::new(ctx, headers, "policy-version-title")
        .crumb("/policies", "policies-title")
        .crumb_text(&format!("/policies/{id}"), &format!("{} {}", d.document.code, d.document.title))
        .titled(shell_title(ctx, &d, n));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&VersionPage { shell, d, v, html, can_decide, previous, approvers, form }, invalid)
}

fn shell_title(ctx: &Ctx, d: &DocumentDetail, n: i32) -> String {
    format!("{} {}", d.document.code, ctx.i18n.get_with(ctx.lang, "version-n", &[("n", n.to_string())]))
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path((id, n)): Path<(String, i32)>) -> Response {
    let r = version_page(&state, &ctx, &headers, &who, &id, n, vec![]).await;
    clear_flash(&state, r, &headers)
}

async fn done(state: &WebState, ctx: &Ctx, headers: &HeaderMap, who: &Principal, id: &str, n: i32, r: isms_kernel::Result<Version>, flash: &str) -> Response {
    match r {
        Ok(_) => redirect_with_flash(state, &format!("/policies/{id}/versions/{n}"), flash, ctx.is_htmx),
        Err(e) => version_page(state, ctx, headers, who, id, n, isms_webkit::refusals!(ctx, e)).await,
    }
}

pub async fn submit(PageCx { state, ctx, headers, who }: PageCx, Path((id, n)): Path<(String, i32)>) -> Response {
    let r = versions::submit(&state.app, &who, &id, n).await;
    done(&state, &ctx, &headers, &who, &id, n, r, "flash-submitted").await
}

pub async fn withdraw(PageCx { state, ctx, headers, who }: PageCx, Path((id, n)): Path<(String, i32)>) -> Response {
    let r = versions::withdraw(&state.app, &who, &id, n).await;
    done(&state, &ctx, &headers, &who, &id, n, r, "flash-saved").await
}

pub async fn publish(PageCx { state, ctx, headers, who }: PageCx, Path((id, n)): Path<(String, i32)>) -> Response {
    match versions::publish(&state.app, &who, &id, n).await {
        Ok(_) => redirect_with_flash(&state, &format!("/policies/{id}"), "flash-published", ctx.is_htmx),
        Err(e) => done(&state, &ctx, &headers, &who, &id, n, Err(e), "").await,
    }
}

#[derive(Deserialize, Default)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    Form(f): Form<DecideForm>,
) -> Response {
    let r = versions::decide(&state.app, &who, &id, n, DecisionInput { approve: f.decision == "approve", note: f.note }).await;
    done(&state, &ctx, &headers, &who, &id, n, r, "flash-saved").await
}

#[derive(Template)]
#[template(path = "policy_version_form.html")]
struct EditPage {
    shell: Shell,
    form: FormState,
    id: String,
    n: i32,
    v: VersionInput,
    preview: String,
    attachments: Vec<isms_policies::versions::Attachment>,
    decision_note: String,
}

async fn edit_page(
    state: &WebState,
    ctx: &Ctx,
    headers: &HeaderMap,
    who: &Principal,
    id: &str,
    n: i32,
    input: Option<VersionInput>,
    errors: Vec<isms_core::FieldError>,
) -> Response {
    let d = match documents::get(&state.app, who, id).await {
        Ok(d) if d.can_manage => d,
        Ok(_) => return isms_webkit::error::page_error(ctx, isms_kernel::AppError::Forbidden),
        Err(e) => return isms_webkit::error::page_error(ctx, e),
    };
    let Some(cur) = d.versions.iter().find(|v| v.number == n).cloned() else {
        return isms_webkit::error::page_error(ctx, isms_kernel::AppError::NotFound);
    };
    if cur.state != isms_core::policies::VersionState::Draft {
        // A version past draft is frozen: its page says so and offers a new version.
        return redirect_with_flash(state, &format!("/policies/{id}/versions/{n}"), "flash-frozen", ctx.is_htmx);
    }
    let v = input.unwrap_or(VersionInput { title: cur.title.clone(), body: cur.body.clone(), summary: cur.summary.clone() });
    let preview = isms_core::policies::markdown::to_html(&v.body);
    let shell = Shell::new(ctx, headers, "policy-edit-version-title")
        .crumb("/policies", "policies-title")
        .crumb_text(&format!("/policies/{id}"), &format!("{} {}", d.document.code, d.document.title))
        .titled(shell_title(ctx, &d, n));
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    render_form(&EditPage { shell, form, id: id.to_owned(), n, v, preview, attachments: cur.attachments, decision_note: cur.decision_note }, invalid)
}

pub async fn edit_form(PageCx { state, ctx, headers, who }: PageCx, Path((id, n)): Path<(String, i32)>) -> Response {
    let r = edit_page(&state, &ctx, &headers, &who, &id, n, None, vec![]).await;
    clear_flash(&state, r, &headers)
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    summary: String,
}

pub async fn edit(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    Form(f): Form<EditForm>,
) -> Response {
    let input = VersionInput { title: f.title, body: f.body, summary: f.summary };
    match versions::edit(&state.app, &who, &id, n, input.clone()).await {
        Ok(_) => redirect_with_flash(&state, &format!("/policies/{id}/versions/{n}"), "flash-saved", ctx.is_htmx),
        Err(e) => edit_page(&state, &ctx, &headers, &who, &id, n, Some(input), isms_webkit::refusals!(&ctx, e)).await,
    }
}

/// The rendered Markdown of what is being typed (an htmx fragment).
pub async fn preview(Form(f): Form<EditForm>) -> Response {
    Html(isms_core::policies::markdown::to_html(&f.body)).into_response()
}

pub async fn upload(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path((id, n)): Path<(String, i32)>,
    mut mp: Multipart,
) -> Response {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_owned();
            match field.bytes().await {
                Ok(b) => file = Some((name, b.to_vec())),
                Err(_) => {
                    return isms_webkit::error::page_error(
                        &ctx,
                        isms_kernel::AppError::coded("file", "file-too-large", "the file is too large").into_with_arg("max", "20"),
                    );
                }
            }
        }
    }
    let Some((name, bytes)) = file else {
        return edit_page(&state, &ctx, &headers, &who, &id, n, None, vec![isms_core::FieldError::coded("file", "required", "is required")]).await;
    };
    match versions::attach(&state.app, &who, &id, n, &name, bytes).await {
        Ok(_) => redirect_with_flash(&state, &format!("/policies/{id}/versions/{n}/edit"), "flash-saved", ctx.is_htmx),
        Err(e) => edit_page(&state, &ctx, &headers, &who, &id, n, None, isms_webkit::refusals!(&ctx, e)).await,
    }
}

pub async fn detach(PageCx { state, ctx, headers, who }: PageCx, Path((id, n, file)): Path<(String, i32, String)>) -> Response {
    match versions::detach(&state.app, &who, &id, n, &file).await {
        Ok(()) => redirect_with_flash(&state, &format!("/policies/{id}/versions/{n}/edit"), "flash-saved", ctx.is_htmx),
        Err(e) => after(&state, &ctx, &headers, &who, &id, Err(e), "").await,
    }
}

/// A file as a download: never shown inline, so a crafted file cannot run in the page's origin.
pub fn download(f: isms_store::policies::attachment::Model) -> Response {
    download_parts(&f.file_name, &f.content_type, f.data, Some(&f.sha256))
}

/// An attachment of a version, to whoever may read the document.
pub async fn file(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path((id, file)): Path<(String, String)>) -> Response {
    let f = isms_webkit::page_try!(&ctx, versions::file(&state.app, &who, &id, &file).await);
    download(f)
}

#[derive(Deserialize, Default)]
pub struct CompareQ {
    #[serde(default)]
    a: Option<i32>,
    #[serde(default)]
    b: Option<i32>,
}

#[derive(Template)]
#[template(path = "policy_compare.html")]
struct ComparePage {
    shell: Shell,
    id: String,
    left: Version,
    right: Version,
    rows: Vec<Row>,
    numbers: Vec<i32>,
}

impl ComparePage {
    fn kind(&self, r: &Row) -> &'static str {
        match r.kind {
            isms_core::policies::diff::RowKind::Same => "same",
            isms_core::policies::diff::RowKind::Changed => "changed",
            isms_core::policies::diff::RowKind::Added => "added",
            isms_core::policies::diff::RowKind::Removed => "removed",
        }
    }
}

pub async fn compare(
    State(state): State<WebState>,
    ctx: Ctx,
    headers: HeaderMap,
    Who(who): Who,
    Path(id): Path<String>,
    Query(q): Query<CompareQ>,
) -> PageResult {
    Ok({
        let d = documents::get(&state.app, &who, &id).await.or_page(&ctx)?;
        let numbers: Vec<i32> = d.versions.iter().map(|v| v.number).collect();
        let newest = numbers.first().copied().unwrap_or(1);
        let b = q.b.unwrap_or(newest);
        let a = q.a.unwrap_or_else(|| numbers.iter().copied().filter(|n| *n < b).max().unwrap_or(b));
        let (left, right, rows) = versions::compare(&state.app, &who, &id, a, b).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "policy-compare-title")
            .crumb("/policies", "policies-title")
            .crumb_text(&format!("/policies/{id}"), &format!("{} {}", d.document.code, d.document.title));
        render(&ComparePage { shell, id, left, right, rows, numbers })
    })
}
