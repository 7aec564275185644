//! Completions from a learning system: the CSV upload and its outcome (every refused row
//! by line, or what was recorded).

use askama::Template;
use axum::extract::Multipart;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use isms_training::lms::{self, Imported};
use isms_webkit::context::{Ctx, PageCx};
use isms_webkit::shell::{Shell, render};

#[derive(Template)]
#[template(path = "training_import.html")]
struct ImportPage {
    shell: Shell,
    columns: Vec<&'static str>,
}

/// One refused row as the page shows it.
pub struct Problem {
    pub line: String,
    pub field: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "training_import_result.html")]
struct ResultPage {
    shell: Shell,
    problems: Vec<Problem>,
    done: Option<Imported>,
    message: Option<String>,
}

pub async fn form(ctx: Ctx, headers: HeaderMap) -> Response {
    let shell = Shell::new(&ctx, &headers, "training-import-title").crumb("/training/halves", "training-halves-title");
    render(&ImportPage { shell, columns: lms::CSV_COLUMNS.to_vec() })
}

/// Takes the uploaded file (multipart field `file`) and answers with the outcome.
pub async fn upload(PageCx { state, ctx, headers, who }: PageCx, mut mp: Multipart) -> Response {
    let shell = Shell::new(&ctx, &headers, "training-import-title");
    let mut data = None;
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("file") {
            data = field.bytes().await.ok();
            break;
        }
    }
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        let message = Some(shell.t("import-no-file"));
        let mut r = render(&ResultPage { shell, problems: vec![], done: None, message });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    match lms::import_csv(&state.app, &who, &data).await {
        Ok(done) => render(&ResultPage { shell, problems: vec![], done: Some(done), message: None }),
        Err(isms_kernel::AppError::Invalid(errors)) => {
            let problems = errors
                .iter()
                .map(|e| Problem {
                    line: e.args.iter().find(|(k, _)| *k == "line").map(|(_, v)| v.clone()).unwrap_or_default(),
                    field: e.field.clone(),
                    text: shell.message(e.code, &e.args, &e.message),
                })
                .collect();
            let message = Some(shell.tr("import-failed", &[("count", errors.len().to_string())]));
            let mut r = render(&ResultPage { shell, problems, done: None, message });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => isms_webkit::error::page_error(&ctx, e),
    }
}
