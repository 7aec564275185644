//! Operations: liveness, readiness, Prometheus metrics, request accounting, and the
//! static files compiled into the binary.

use crate::WebState;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and the instance is not draining.
pub async fn readyz(State(state): State<WebState>) -> Response {
    if !state.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response();
    }
    match state.app.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// `/metrics` on the main listener: only with the configured bearer token. Without a
/// token configured it is not served here at all (route counts and timings tell an
/// outsider what the instance does).
pub async fn metrics(State(state): State<WebState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !crate::context::same(given.trim(), token) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a bearer token is required").into_response();
    }
    match &state.metrics {
        Some(h) => render_metrics(h),
        None => (StatusCode::NOT_FOUND, "metrics are off").into_response(),
    }
}

pub(crate) fn render_metrics(h: &metrics_exporter_prometheus::PrometheusHandle) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response()
}

/// A request answered before its body was read through (refused on its token, say, with
/// a large batch behind it) ends its connection, and says so with `Connection: close`:
/// otherwise the server drops a keep-alive connection the client still thinks is open,
/// and the client's next request on it fails. Log shippers retry with the same bad token.
pub async fn close_if_unread(req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > 0)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !declared {
        return next.run(req).await;
    }
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(Watched { inner: body, done: done.clone() });
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if !done.load(std::sync::atomic::Ordering::Acquire) {
        resp.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    resp
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: axum::body::Body,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, std::task::Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, std::sync::atomic::Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Counts requests and their latency per route template (never per raw path, which
/// would let a client create unbounded series).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("isms_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("isms_http_request_duration_seconds", "method" => method, "route" => route).record(start.elapsed().as_secs_f64());
    resp
}

const HTMX: &[u8] = include_bytes!("../assets/htmx.min.js");
const CSS: &[u8] = include_bytes!("../assets/app.css");
const JS: &[u8] = include_bytes!("../assets/app.js");

pub async fn static_file(Path(file): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    ([(header::CONTENT_TYPE, ctype), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
