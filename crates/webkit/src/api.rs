//! What every module's API shares: the problem+json body, a page of results, and the
//! answer to a file import that failed.

use crate::error::{ApiError, problem};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use isms_core::FieldError;
use isms_org::people::ImportFailure;
use serde::Serialize;

/// RFC 9457 problem details.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub pointer: String,
    pub message: String,
    /// A stable code of the refusal (its message in the catalogs is `err-<code>`).
    pub code: String,
}

/// A page of results.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// A file import that failed: each bad row as a field error, or the use case's error.
pub fn import_problem(f: ImportFailure) -> Response {
    match f {
        ImportFailure::Rows(rows) => {
            let errors = rows
                .into_iter()
                .map(|e| FieldError { field: format!("lines.{}.{}", e.line, e.field), message: e.message, code: e.code, args: e.args })
                .collect();
            problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", "the file has problems; nothing was imported", errors)
        }
        ImportFailure::App(e) => ApiError(e).into_response(),
    }
}
