//! The addresses a drill mail leads to, reached by anyone with the link: the click
//! (`/d/{token}`: the landing page of a credential lure, otherwise the teachable moment at
//! once), the image that reports an open, the marker attachment's target, the beacon that
//! shows a person is reading, and the landing form's submit, which never carries what was
//! typed. A malformed or unknown token gets a neutral page and records nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use isms_core::drills::{DrillKind, EventKind};
use isms_drills::track::{self, Request, Shown};
use isms_webkit::WebState;
use isms_webkit::context::{ClientIp, Ctx};
use isms_webkit::i18n::Lang;
use isms_webkit::shell::Shell;

#[derive(Template)]
#[template(path = "drill_page.html")]
struct DrillPage {
    shell: Shell,
    /// landing, lesson or neutral
    show: &'static str,
    token: String,
    kind: String,
    /// The template's own words (Markdown made safe), or empty for the catalog's.
    words: String,
}

fn request(method: &str, headers: &HeaderMap, ip: &ClientIp) -> Request {
    Request {
        method: method.to_owned(),
        ip: ip.0.as_deref().and_then(|i| i.parse().ok()),
        agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
    }
}

/// The pages are never cached, indexed or framed, and say nothing to a referrer.
fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", header::HeaderValue::from_static("noindex, nofollow"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    r
}

fn page(ctx: &Ctx, headers: &HeaderMap, shown: Option<&Shown>, show: &'static str) -> Response {
    let mut ctx = ctx.clone();
    if let Some(s) = shown
        && let Some(l) = Lang::parse(&s.lang)
    {
        ctx.lang = l;
    }
    let title = match show {
        "landing" => "drill-landing-title",
        "lesson" => "drill-lesson-title",
        _ => "drill-neutral-title",
    };
    let shell = Shell::new(&ctx, headers, title);
    let words = match (show, shown) {
        ("landing", Some(s)) => isms_core::policies::markdown::to_html(&s.landing),
        ("lesson", Some(s)) => isms_core::policies::markdown::to_html(&s.lesson),
        _ => String::new(),
    };
    let p = DrillPage {
        shell,
        show,
        token: shown.map(|s| s.token.clone()).unwrap_or_default(),
        kind: shown.map(|s| s.kind.code().to_owned()).unwrap_or_default(),
        words,
    };
    let status = if show == "neutral" { StatusCode::NOT_FOUND } else { StatusCode::OK };
    match p.render() {
        Ok(html) => private((status, axum::response::Html(html)).into_response()),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn hit(state: &WebState, token: &str, kind: EventKind, req: &Request, detail: &str) -> Option<Shown> {
    match track::record(&state.app, token, kind, req, detail).await {
        Ok(s) => s,
        Err(e) => {
            // The recipient still sees the page; the fault is logged, never shown.
            tracing::error!(error = %e, "drill tracking failed");
            None
        }
    }
}

/// The click: a credential lure's landing page, otherwise the teachable moment.
pub async fn click(
    State(state): State<WebState>,
    ctx: Ctx,
    ip: ClientIp,
    headers: HeaderMap,
    method: axum::http::Method,
    Path(token): Path<String>,
) -> Response {
    let shown = hit(&state, &token, EventKind::Clicked, &request(method.as_str(), &headers, &ip), "").await;
    match &shown {
        None => page(&ctx, &headers, None, "neutral"),
        Some(s) if s.kind == DrillKind::Credential => page(&ctx, &headers, shown.as_ref(), "landing"),
        Some(_) => page(&ctx, &headers, shown.as_ref(), "lesson"),
    }
}

/// The marker attachment was opened: the teachable moment.
pub async fn attachment(
    State(state): State<WebState>,
    ctx: Ctx,
    ip: ClientIp,
    headers: HeaderMap,
    method: axum::http::Method,
    Path(token): Path<String>,
) -> Response {
    let shown = hit(&state, &token, EventKind::AttachmentOpened, &request(method.as_str(), &headers, &ip), "").await;
    page(&ctx, &headers, shown.as_ref(), if shown.is_some() { "lesson" } else { "neutral" })
}

/// The smallest transparent GIF.
const PIXEL: &[u8] =
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// The image in the HTML part: an open, recorded as unreliable. Always the same image.
pub async fn open(State(state): State<WebState>, ip: ClientIp, headers: HeaderMap, method: axum::http::Method, Path(token): Path<String>) -> Response {
    hit(&state, &token, EventKind::Opened, &request(method.as_str(), &headers, &ip), "").await;
    private(([(header::CONTENT_TYPE, "image/gif")], PIXEL).into_response())
}

/// The teachable moment's beacon: a person has the page in front of them.
pub async fn beacon(State(state): State<WebState>, ip: ClientIp, headers: HeaderMap, Path(token): Path<String>) -> Response {
    hit(&state, &token, EventKind::Beacon, &request("POST", &headers, &ip), "").await;
    StatusCode::NO_CONTENT.into_response()
}

/// The landing form, submitted: only how many fields were filled arrives (the fields
/// have no names); the teachable moment follows at once.
pub async fn submit(State(state): State<WebState>, ctx: Ctx, ip: ClientIp, headers: HeaderMap, Path(token): Path<String>, body: String) -> Response {
    let filled = body
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "filled")
        .and_then(|(_, v)| v.parse::<u32>().ok())
        .map(|n| n.min(20))
        .unwrap_or(0);
    let shown = hit(&state, &token, EventKind::Submitted, &request("POST", &headers, &ip), &format!("fields={filled}")).await;
    page(&ctx, &headers, shown.as_ref(), if shown.is_some() { "lesson" } else { "neutral" })
}
