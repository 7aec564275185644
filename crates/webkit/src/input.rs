//! Typed text at the door: no request body of a form or of the JSON API carries a control
//! character into the product, whatever route it is sent to. Line breaks and tabs pass
//! (descriptions and notes have several lines; single-line fields refuse them where they
//! are validated); a NUL, an escape sequence, a DEL or a C1 character is refused with the
//! field that holds it, before any handler runs, so nothing is stored and no route can
//! forget the check.
//!
//! Event batches are data, not typed text, and are left as they come.

use crate::{Ctx, WebState};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use isms_core::FieldError;

/// Routes whose bodies are machine data (received events), not text a person typed.
fn is_data(path: &str) -> bool {
    path == "/api/v1/events" || path.starts_with("/api/v1/events/")
}

fn refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// The first field of a form body that holds a refused character (its name, or the
/// name itself when the name holds one).
pub fn form_field(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, v)| k.chars().any(refused) || v.chars().any(refused)).map(|(k, _)| k.chars().filter(|c| !refused(*c)).collect())
}

/// The path (`supports[2].name`) of the first string of a JSON value that holds a
/// refused character, keys included.
pub fn json_field(value: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.chars().any(refused) => Some(if path.is_empty() { "body".into() } else { path.clone() }),
            serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.chars().filter(|c| !refused(*c)).collect::<String>());
                let found = if k.chars().any(refused) { Some(path.clone()) } else { walk(item, path) };
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
}

/// The middleware: reads a form or JSON body (within the body limit the extractors
/// would apply), refuses it if any text holds a control character, and otherwise hands
/// the same bytes on.
pub async fn refuse_control_characters(State(state): State<WebState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || is_data(req.uri().path()) {
        return next.run(req).await;
    }
    let kind = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let is_form = kind == "application/x-www-form-urlencoded";
    let is_json = crate::error::is_json_type(&kind);
    if !is_form && !is_json {
        return next.run(req).await;
    }
    let limit = state.config.max_body_bytes;
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        // Over the limit (or broken off, when nobody reads the answer): what the body
        // extractors answer too.
        Err(_) => return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than this instance accepts").into_response(),
    };
    let field = if is_form {
        form_field(&bytes)
    } else {
        // A body that is not JSON is left for the handler to refuse with its own message.
        serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| json_field(&v))
    };
    if let Some(field) = field {
        let error = FieldError::coded(field.clone(), "control-characters-in", format!("`{field}` contains control characters; nothing was saved"));
        return match parts.extensions.get::<Ctx>() {
            Some(ctx) if !ctx.is_api => {
                // A person reads the field's label where the catalog has one.
                let key = format!("field-{}", field.replace('_', "-"));
                let label = if state.i18n.has(ctx.lang, &key) { state.i18n.get(ctx.lang, &key) } else { field };
                crate::shell::refusal(ctx, &[error.arg("field", label)])
            }
            _ => crate::error::problem(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "text may not contain control characters",
                vec![error.arg("field", field)],
            ),
        };
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field() {
        assert_eq!(form_field(b"name=ok&description=line%0Aone%09two"), None);
        assert_eq!(form_field(b"name=ok&location=a%00b").as_deref(), Some("location"));
        assert_eq!(form_field(b"name=a%1B%5B31m").as_deref(), Some("name"));
        assert_eq!(form_field("x=a\u{85}b".as_bytes()).as_deref(), Some("x"));
        let v = serde_json::json!({"name": "ok", "supports": [{"note": "fine\nlines"}, {"note": "a\u{7f}"}]});
        assert_eq!(json_field(&v).as_deref(), Some("supports[1].note"));
        assert_eq!(json_field(&serde_json::json!("a\u{0}")).as_deref(), Some("body"));
        assert_eq!(json_field(&serde_json::json!({"ok": 1, "list": ["a", "b"]})), None);
    }
}
