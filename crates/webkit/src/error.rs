//! Errors as HTTP: RFC 9457 problem+json for the API (with a field path for validation
//! errors), an error page for the browser. A 5xx says nothing internal; the detail is logged.

use crate::WebState;
use crate::context::Ctx;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_core::FieldError;
use isms_kernel::AppError;
use serde_json::json;

pub fn problem(status: StatusCode, code: &str, detail: &str, errors: Vec<FieldError>) -> Response {
    let mut body = json!({
        "type": format!("https://isms.invalid/problems/{code}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    });
    if !errors.is_empty() {
        body["errors"] = json!(errors
            .iter()
            .map(|e| json!({"field": e.field, "pointer": format!("/{}", e.field.replace('.', "/")), "message": e.message, "code": if e.code.is_empty() { "invalid" } else { e.code }}))
            .collect::<Vec<_>>());
    }
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

pub fn internal(e: &AppError) -> Response {
    tracing::error!(error = %e, detail = ?e, "internal error");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side; it has been logged", vec![])
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side; it has been logged", vec![])
}

/// The API's error type: every handler under `/api` returns it.
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            AppError::Unauthenticated => problem(StatusCode::UNAUTHORIZED, "unauthenticated", "sign-in or an API token is required", vec![]),
            AppError::Forbidden => problem(StatusCode::FORBIDDEN, "forbidden", "your roles do not allow this, or not for this company", vec![]),
            AppError::NotFound => problem(StatusCode::NOT_FOUND, "not_found", "no such record", vec![]),
            AppError::Invalid(errors) => problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "some fields are not valid", errors),
            AppError::Conflict { message, .. } => problem(StatusCode::CONFLICT, "conflict", &message, vec![]),
            AppError::Locked { retry_after_secs } => {
                let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "locked", "too many failed attempts; try again later", vec![]);
                r.headers_mut().insert(header::RETRY_AFTER, retry_after_secs.into());
                r
            }
            e @ AppError::Internal(_) => internal(&e),
        }
    }
}

/// A JSON body that failed to parse becomes a 422 problem naming where.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_json_type);
        if !json {
            return Err(problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "media_type", "the body must be JSON (Content-Type: application/json)", vec![]));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body could not be read", vec![]))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// `application/json` or any `+json` type, parameters aside.
pub fn is_json_type(v: &str) -> bool {
    let t = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
}

/// One JSON value and nothing after it but white space. Text that is not JSON is a 400;
/// JSON of the wrong shape a 422 naming where.
#[allow(clippy::result_large_err)] // the refusal is the response to send, built once
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let syntax = |e: &serde_json::Error| {
        problem(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the body is not one JSON value",
            vec![FieldError::new("body", format!("{e} (line {}, column {})", e.line(), e.column()))],
        )
    };
    match serde_path_to_error::deserialize(&mut *de) {
        Ok(v) => match de.end() {
            Ok(()) => Ok(v),
            Err(e) => Err(syntax(&e)),
        },
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            let inner = e.into_inner();
            if matches!(inner.classify(), serde_json::error::Category::Data) {
                Err(problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    "the JSON body does not fit",
                    vec![FieldError::new(field, format!("{inner} (line {}, column {})", inner.line(), inner.column()))],
                ))
            } else {
                Err(syntax(&inner))
            }
        }
    }
}

/// What a page handler returns: the page, or the page that says why not. `?` works on
/// any use-case result through [`OrPage::or_page`], which turns the error into the
/// localized error page (a form's refusals are shown in place by the form instead).
pub type PageResult = Result<Response, PageError>;

/// The error page a handler gives up with (already rendered for the reader's language).
pub struct PageError(Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for PageError {
    fn from(r: Response) -> Self {
        PageError(Box::new(r))
    }
}

pub trait OrPage<T> {
    /// The value, or the error page for the reader.
    fn or_page(self, ctx: &Ctx) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, AppError> {
    fn or_page(self, ctx: &Ctx) -> Result<T, PageError> {
        self.map_err(|e| PageError::from(page_error(ctx, e)))
    }
}

/// Page for a request the user may not make.
pub fn forbidden(ctx: &Ctx) -> Response {
    if ctx.is_api {
        return ApiError(AppError::Forbidden).into_response();
    }
    crate::shell::error_page(ctx, StatusCode::FORBIDDEN, "error-forbidden")
}

pub fn csrf_failed(_state: &WebState, ctx: &Ctx) -> Response {
    if ctx.is_api {
        return problem(StatusCode::FORBIDDEN, "csrf", "missing or wrong X-CSRF-Token header (or use an API token)", vec![]);
    }
    crate::shell::error_page(ctx, StatusCode::FORBIDDEN, "error-csrf")
}

/// The page version of an application error (for errors a form does not show in place).
pub fn page_error(ctx: &Ctx, e: AppError) -> Response {
    match e {
        AppError::NotFound => crate::shell::error_page(ctx, StatusCode::NOT_FOUND, "error-not-found"),
        AppError::Forbidden => forbidden(ctx),
        AppError::Unauthenticated => axum::response::Redirect::to("/login").into_response(),
        AppError::Conflict { code, .. } => {
            let key = format!("err-{code}");
            crate::shell::error_page(ctx, StatusCode::CONFLICT, if ctx.i18n.has(ctx.lang, &key) { &key } else { "error-invalid" })
        }
        AppError::Invalid(_) => crate::shell::error_page(ctx, StatusCode::UNPROCESSABLE_ENTITY, "error-invalid"),
        AppError::Locked { .. } => crate::shell::error_page(ctx, StatusCode::TOO_MANY_REQUESTS, "error-locked"),
        e @ AppError::Internal(_) => {
            tracing::error!(error = %e, "internal error");
            crate::shell::error_page(ctx, StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
        }
    }
}

/// In a handler or page helper that answers a plain `Response`: the value of a use-case
/// result, or an early return with the error page for the reader (`ctx` is a `&Ctx`).
/// Handlers that answer a [`PageResult`] use `?` with [`OrPage::or_page`] instead.
#[macro_export]
macro_rules! page_try {
    ($ctx:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::error::page_error($ctx, e),
        }
    };
}

/// In a form handler that answers a plain `Response`: the field errors the form shows in
/// place for a refused submission, or an early return with the error page when the error
/// is not the form's to show (not found, forbidden, a database fault).
#[macro_export]
macro_rules! refusals {
    ($ctx:expr, $e:expr) => {
        $crate::page_try!($ctx, $crate::shell::form_errors($e))
    };
}
