//! Per-request context: who is asking (session cookie or API token), in which language and
//! time zone, and the CSRF check every state-changing request passes before any handler.
//! Also the security headers every response carries.

use crate::WebState;
use crate::i18n::Lang;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode, request::Parts};
use axum::middleware::Next;
use axum::response::Response;
use isms_kernel::{AppError, Principal};
use isms_org::accounts::{self, SessionInfo};

pub const SESSION_COOKIE: &str = "isms_session";
pub const PRE_COOKIE: &str = "isms_pre";
pub const LANG_COOKIE: &str = "isms_lang";

#[derive(Clone)]
pub struct Ctx {
    /// A fully signed-in user or an API token.
    pub principal: Option<Principal>,
    /// A session that still owes its second factor.
    pub pending: Option<Principal>,
    pub session: Option<SessionInfo>,
    pub lang: Lang,
    pub tz: jiff::tz::TimeZone,
    /// The token forms must echo back.
    pub csrf: String,
    pub path_and_query: String,
    pub is_api: bool,
    pub is_htmx: bool,
    pub bearer: bool,
    pub i18n: std::sync::Arc<crate::i18n::Catalogs>,
    /// Unread notifications of the signed-in user, counted for full page loads only.
    pub unread: u64,
    /// The main navigation the modules registered, in order.
    pub nav: std::sync::Arc<[crate::Nav]>,
    pub tones: std::sync::Arc<crate::tone::Tones>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The acting principal of a route that requires one (the route table has checked).
pub struct Who(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ctx = parts.extensions.get::<Ctx>().ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
        ctx.principal.clone().or_else(|| ctx.pending.clone()).map(Who).ok_or(StatusCode::UNAUTHORIZED)
    }
}

/// What a signed-in page handler starts from: the application, the request's context, its
/// headers (for htmx and flash cookies) and who is acting. One extractor instead of four.
pub struct PageCx {
    pub state: WebState,
    pub ctx: Ctx,
    pub headers: HeaderMap,
    pub who: Principal,
}

impl FromRequestParts<WebState> for PageCx {
    type Rejection = StatusCode;
    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let ctx = parts.extensions.get::<Ctx>().cloned().ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
        let who = ctx.principal.clone().or_else(|| ctx.pending.clone()).ok_or(StatusCode::UNAUTHORIZED)?;
        Ok(PageCx { state: state.clone(), ctx, headers: parts.headers.clone(), who })
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(state: &WebState, name: &str, value: &str, max_age_secs: Option<i64>, http_only: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if state.config.secure_cookies() {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age_secs {
        c.push_str(&format!("; Max-Age={a}"));
    }
    // Built from our own ASCII tokens only; cannot fail.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Decides every redirect target that comes from a request (`next`, `back`, a
/// `Referer`): a path on this site, or `/`. Browsers drop tabs and newlines from an
/// address and read `\` as `/`, so `/<tab>/evil.example` would leave the site: any
/// control character, space, backslash or non-ASCII byte sends the browser home instead.
pub fn local_path(raw: &str) -> String {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && raw.parse::<axum::http::uri::PathAndQuery>().is_ok();
    if ok { raw.to_owned() } else { "/".into() }
}

pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The client's address as the middleware resolved it (peer address, or the first
/// `X-Forwarded-For` hop when the deployment says a proxy in front is trusted).
#[derive(Clone, Debug)]
pub struct ClientIp(pub Option<String>);

pub fn meta_of(headers: &HeaderMap, ip: &ClientIp) -> accounts::ClientMeta {
    accounts::ClientMeta { ip: ip.0.clone(), user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned) }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientIp>().cloned().unwrap_or(ClientIp(None)))
    }
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Constant-time comparison, so a CSRF token cannot be guessed byte by byte from timings.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn middleware(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let headers = &parts.headers;
    let path = parts.uri.path().to_owned();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.clone());
    let is_api = path.starts_with("/api/");
    let is_htmx = headers.contains_key("hx-request");
    let app = &state.app;
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()).map(|s| s.split(',').next().unwrap_or("").trim().to_owned());
    let client_ip = ClientIp(if state.config.trust_proxy { forwarded.or(peer) } else { peer });

    let mut principal = None;
    let mut pending = None;
    let mut session = None;
    let mut bearer = false;
    let mut clear_session = false;
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")) {
        bearer = true;
        // An event source's token is checked by the event receiver itself.
        let source_token = token.trim().starts_with(isms_core::monitoring::SOURCE_TOKEN_PREFIX);
        match if source_token { Err(AppError::Unauthenticated) } else { accounts::token_principal(app, token.trim()).await } {
            Ok(p) => principal = Some(p),
            Err(AppError::Unauthenticated) => {}
            Err(e) => return crate::error::internal(&e),
        }
    } else if let Some(token) = cookie(headers, SESSION_COOKIE) {
        match accounts::session_principal(app, token).await {
            Ok((p, info)) => {
                if info.complete {
                    principal = Some(p);
                } else {
                    pending = Some(p);
                }
                session = Some(info);
            }
            Err(AppError::Unauthenticated) => clear_session = true,
            Err(e) => return crate::error::internal(&e),
        }
    }

    let who = principal.as_ref().or(pending.as_ref());
    let lang = who
        .and_then(|p| p.locale.as_deref())
        .and_then(Lang::parse)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language))
        .unwrap_or_default();
    let tz = who.and_then(|p| p.time_zone.as_deref()).and_then(|z| jiff::tz::TimeZone::get(z).ok()).unwrap_or_else(isms_core::calendar::japan);

    // The token forms echo: the session's, or for signed-out forms a double-submit cookie.
    let mut new_pre = None;
    let csrf = match &session {
        Some(s) => s.csrf_token.clone(),
        None => match cookie(headers, PRE_COOKIE) {
            Some(v) if v.len() >= 16 => v.to_owned(),
            _ => {
                let t = isms_kernel::random_token(24);
                new_pre = Some(t.clone());
                t
            }
        },
    };

    let mut body = body;
    // The event receiver never reads a session, so a forged request gains nothing there.
    if !is_safe(&parts.method) && !bearer && path != "/api/v1/events" {
        let cross_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        let header_ok = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).is_some_and(|v| same(v, &csrf));
        let mut ok = header_ok && new_pre.is_none();
        let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !ok && is_form && new_pre.is_none() {
            match to_bytes(body, state.config.max_body_bytes).await {
                Ok(bytes) => {
                    ok = form_field(&bytes, "_csrf").is_some_and(|v| same(&v, &csrf));
                    body = Body::from(bytes);
                }
                Err(_) => return crate::error::problem(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large", vec![]),
            }
        }
        if !cross_site && !ok && clear_session && !is_api {
            // The session ran out while the form was open: nothing is done, and the
            // browser goes to sign in and then back to the page it was on (whose form
            // keeps what was typed, see app.js).
            let back = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.split_once("://").map(|(_, rest)| rest).and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned())))
                .map(|p| local_path(&p))
                .unwrap_or_else(|| "/".into());
            let to = format!("/login?next={}", url_encode(&back));
            use axum::response::IntoResponse;
            let mut resp =
                if is_htmx { ([("HX-Redirect", to)], StatusCode::UNAUTHORIZED).into_response() } else { axum::response::Redirect::to(&to).into_response() };
            resp.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", Some(0), true));
            return resp;
        }
        if cross_site || !ok {
            let ctx = Ctx {
                principal,
                pending,
                session,
                lang,
                tz,
                csrf,
                path_and_query,
                is_api,
                is_htmx,
                bearer,
                i18n: state.i18n.clone(),
                unread: 0,
                nav: state.nav.clone(),
                tones: state.tones.clone(),
            };
            let mut resp = crate::error::csrf_failed(&state, &ctx);
            if let Some(t) = new_pre {
                resp.headers_mut().append(header::SET_COOKIE, set_cookie(&state, PRE_COOKIE, &t, None, true));
            }
            return resp;
        }
    }

    let unread = match &principal {
        Some(p) if !is_api && !is_htmx && parts.method == axum::http::Method::GET && p.user_id.is_some() => {
            isms_kernel::notify::unread_count(&state.app, p).await.unwrap_or(0)
        }
        _ => 0,
    };
    let ctx = Ctx {
        principal,
        pending,
        session,
        lang,
        tz,
        csrf,
        path_and_query,
        is_api,
        is_htmx,
        bearer,
        i18n: state.i18n.clone(),
        unread,
        nav: state.nav.clone(),
        tones: state.tones.clone(),
    };
    parts.extensions.insert(ctx);
    parts.extensions.insert(client_ip);
    let req = Request::from_parts(parts, body);
    let mut resp = next.run(req).await;
    if is_api {
        resp = as_problem(resp).await;
    }
    let h = resp.headers_mut();
    if let Some(t) = new_pre {
        h.append(header::SET_COOKIE, set_cookie(&state, PRE_COOKIE, &t, None, true));
    }
    if clear_session {
        h.append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", Some(0), true));
    }
    security_headers(h, &path);
    resp
}

/// The API answers every refusal as problem+json: a plain-text refusal from the
/// framework itself (a query string or path segment that does not parse, a body it could
/// not take) becomes one, its text the detail.
async fn as_problem(resp: Response) -> Response {
    let plain = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.starts_with("text/plain"));
    if !resp.status().is_client_error() || !plain {
        return resp;
    }
    let status = resp.status();
    let text = to_bytes(resp.into_body(), 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "media_type",
        StatusCode::METHOD_NOT_ALLOWED => "method",
        _ => "bad_request",
    };
    crate::error::problem(status, code, if text.is_empty() { status.canonical_reason().unwrap_or("refused") } else { &text }, vec![])
}

fn security_headers(h: &mut HeaderMap, path: &str) {
    // The API reference page is third-party markup with inline styles; it gets its own,
    // still script-tight, policy.
    let csp = if path.starts_with("/api/docs") {
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    } else {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    };
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        if !h.contains_key(k) {
            h.insert(k, HeaderValue::from_static(v));
        }
    };
    set(h, "content-security-policy", csp);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "permissions-policy", "camera=(), microphone=(), geolocation=()");
    if !path.starts_with("/static/") {
        set(h, "cache-control", "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_decode() {
        assert_eq!(form_field(b"a=1&_csrf=ab%2Bc+d", "_csrf").as_deref(), Some("ab+c d"));
        assert_eq!(form_field(b"_csrf=", "_csrf").as_deref(), Some(""));
        assert_eq!(form_field(b"x=%", "x").as_deref(), Some("%"));
        assert_eq!(form_field(b"", "x"), None);
    }

    #[test]
    fn comparison() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
