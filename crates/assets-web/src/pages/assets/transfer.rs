//! Export of the filtered register as CSV and XLSX, and import of either with a preview
//! first. Export and import share their columns, so an export can be edited and imported.

use super::Lookup;
use super::register::ListQ;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use isms_assets::register;
use isms_assets::transfer::{self, COLUMNS, HOLDER_SEPARATOR, Preview};
use isms_kernel::AppError;
use isms_org::people::{ImportError, ImportFailure, ImportSummary};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, render};

/// The most rows one export holds; the filter narrows a larger register.
pub const EXPORT_LIMIT: u64 = 100_000;

async fn rows(state: &WebState, ctx: &Ctx, who: &isms_kernel::Principal, q: &ListQ) -> Result<Vec<Vec<String>>, AppError> {
    let mut f = q.to_query(EXPORT_LIMIT);
    f.offset = 0;
    let page = register::list(&state.app, who, &f).await?;
    let look = Lookup::with(state, who, ctx.lang.code(), true, page.items.iter().map(|a| a.owner_id.clone())).await?;
    // The import's columns, in its order, so an export can be edited and imported again.
    let mut out = vec![COLUMNS.map(str::to_owned).to_vec()];
    for a in page.items {
        out.push(vec![
            a.name.clone(),
            look.category_code(&a.category_id),
            if a.customer_information { "yes" } else { "no" }.into(),
            look.company(&a.company_id),
            look.department_code(&a.department_id),
            look.person_number(&a.owner_id),
            a.medium.code().into(),
            a.volume.map(|v| v.to_string()).unwrap_or_default(),
            a.review_due.clone().unwrap_or_default(),
            a.review_months.to_string(),
            a.supports.iter().map(|s| look.support(s)).collect::<Vec<_>>().join(&format!("{HOLDER_SEPARATOR} ")),
            a.description.clone(),
        ]);
    }
    Ok(out)
}

pub async fn export_csv(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<ListQ>) -> Response {
    let rows = isms_webkit::page_try!(&ctx, rows(&state, &ctx, &who, &q).await);
    isms_webkit::download::csv("assets.csv", &rows)
}

pub async fn export_xlsx(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Query(q): Query<ListQ>) -> PageResult {
    Ok({
        let rows = rows(&state, &ctx, &who, &q).await.or_page(&ctx)?;
        isms_webkit::download::xlsx("assets.xlsx", "assets", &rows).or_page(&ctx)?
    })
}

#[derive(askama::Template)]
#[template(path = "assets_import.html")]
struct ImportPage {
    shell: Shell,
    columns: Vec<&'static str>,
}

pub async fn import_form(ctx: Ctx, headers: HeaderMap) -> Response {
    let shell = Shell::new(&ctx, &headers, "assets-import-title").crumb("/assets", "assets-title");
    render(&ImportPage { shell, columns: COLUMNS.to_vec() })
}

#[derive(askama::Template)]
#[template(path = "assets_import_result.html")]
struct ImportResult {
    shell: Shell,
    errors: Vec<ImportError>,
    message: Option<String>,
    preview: Option<Preview>,
    staged: String,
    summary: Option<ImportSummary>,
}

impl ImportResult {
    fn new(shell: Shell) -> Self {
        Self { shell, errors: vec![], message: None, preview: None, staged: String::new(), summary: None }
    }
}

fn refused(shell: Shell, failure: ImportFailure, ctx: &Ctx) -> Response {
    match failure {
        ImportFailure::Rows(errors) => {
            let message = Some(shell.tr("import-failed", &[("count", errors.len().to_string())]));
            let mut r = render(&ImportResult { errors, message, ..ImportResult::new(shell) });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        ImportFailure::App(e) => isms_webkit::error::page_error(ctx, e),
    }
}

/// Takes the uploaded file (multipart field `file`), checks it, keeps it and answers with
/// the preview and a button to commit, or with every problem and nothing kept.
pub async fn import(PageCx { state, ctx, headers, who }: PageCx, mut mp: Multipart) -> Response {
    let shell = Shell::new(&ctx, &headers, "assets-import-title");
    let mut upload = None;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload").to_owned();
            if let Ok(b) = field.bytes().await {
                upload = Some((name, b));
            }
            break;
        }
    }
    let Some((name, data)) = upload.filter(|(_, d)| !d.is_empty()) else {
        let message = Some(shell.t("import-no-file"));
        let mut r = render(&ImportResult { message, ..ImportResult::new(shell) });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    match transfer::stage(&state.app, &who, &name, &data).await {
        Ok((staged, preview)) => render(&ImportResult { preview: Some(preview), staged, ..ImportResult::new(shell) }),
        Err(f) => refused(shell, f, &ctx),
    }
}

pub async fn commit(PageCx { state, ctx, headers, who }: PageCx, Path(id): Path<String>) -> Response {
    let shell = Shell::new(&ctx, &headers, "assets-import-title");
    match transfer::commit_staged(&state.app, &who, &id).await {
        Ok(summary) => render(&ImportResult { summary: Some(summary), ..ImportResult::new(shell) }),
        Err(f) => refused(shell, f, &ctx),
    }
}
