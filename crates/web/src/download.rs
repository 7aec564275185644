//! Files handed to the browser as downloads: every CSV export goes through
//! `isms_app::sheet::csv`, the one writer that keeps formulas from running.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Rows as a CSV download.
pub fn csv(name: &str, rows: &[Vec<String>]) -> Response {
    file(name, "text/csv; charset=utf-8", isms_app::sheet::csv(rows))
}

/// A generated file as a download.
pub fn file(name: &str, content_type: &str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body).into_response()
}
