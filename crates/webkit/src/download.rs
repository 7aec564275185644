//! Files handed to the browser as downloads: every CSV export goes through
//! `isms_kernel::sheet::csv`, the one writer that keeps formulas from running.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Rows as a CSV download, UTF-8 with a byte-order mark so that Excel reads Japanese
/// as Japanese (the product's imports skip the mark).
pub fn csv(name: &str, rows: &[Vec<String>]) -> Response {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(isms_kernel::sheet::csv(rows));
    file(name, "text/csv; charset=utf-8", body)
}

/// Rows as an XLSX download (one sheet, its header row bold). A writer failure is an
/// internal error with its cause kept.
pub fn xlsx(name: &str, sheet: &str, rows: &[Vec<String>]) -> Result<Response, isms_kernel::AppError> {
    let body = isms_kernel::sheet::xlsx(sheet, rows).map_err(|e| isms_kernel::AppError::internal(format!("xlsx {name}: {e}")))?;
    Ok(file(name, isms_kernel::sheet::CONTENT_TYPE, body))
}

/// A report as an XLSX download: what it is and when it was made above the table (the
/// heading `title_key` in the reader's language), for reading rather than importing.
pub fn report(ctx: &crate::context::Ctx, name: &str, sheet: &str, title_key: &str, rows: &[Vec<String>]) -> Result<Response, isms_kernel::AppError> {
    let now = jiff::Timestamp::now();
    let at = ctx.tz.to_datetime(now).strftime("%Y-%m-%d %H:%M").to_string();
    let tz = ctx.tz.iana_name().unwrap_or("UTC").to_owned();
    let title = vec![ctx.i18n.get(ctx.lang, title_key), ctx.i18n.get_with(ctx.lang, "export-made-at", &[("at", at), ("tz", tz)])];
    let body = isms_kernel::sheet::report(sheet, &title, rows).map_err(|e| isms_kernel::AppError::internal(format!("xlsx {name}: {e}")))?;
    Ok(file(name, isms_kernel::sheet::CONTENT_TYPE, body))
}

/// A generated file as a download.
pub fn file(name: &str, content_type: &str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], body).into_response()
}

/// A file as an attachment: its name kept in UTF-8 beside an ASCII fallback, and its
/// SHA-256 (given, or computed here) in `X-Checksum-SHA256`.
pub fn download_parts(name: &str, content_type: &str, data: Vec<u8>, sha256: Option<&str>) -> Response {
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::context::url_encode(name));
    let sha = sha256.map(str::to_owned).unwrap_or_else(|| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    });
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::HeaderName::from_static("x-checksum-sha256"), sha),
        ],
        data,
    )
        .into_response()
}
