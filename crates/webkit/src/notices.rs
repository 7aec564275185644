//! Notification texts: one catalog message per kind (`notice-<kind>`), shown in the inbox
//! and used as the e-mail's subject and first line, with a link back to the page.

use crate::i18n::{Catalogs, Lang};
use std::sync::Arc;

/// The message's arguments as text: a `{"word": key}` argument is the catalog's words
/// for `key` in `lang`, a `{"ms": n}` one a moment in Japan's time zone; anything else
/// is shown as it was stored.
fn args(i18n: &Catalogs, lang: Lang, v: &serde_json::Value) -> Vec<(String, String)> {
    let serde_json::Value::Object(m) = v else { return vec![] };
    m.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => match (o.get("word").and_then(|w| w.as_str()), o.get("ms").and_then(|n| n.as_i64())) {
                    (Some(key), _) => match o.get("args") {
                        Some(inner) => {
                            let inner = args(i18n, lang, inner);
                            let inner: Vec<(&str, String)> = inner.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                            i18n.get_with(lang, key, &inner)
                        }
                        None => i18n.get(lang, key),
                    },
                    (None, Some(ms)) => isms_core::calendar::zoned_at(ms).map(|z| z.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                    _ => v.to_string(),
                },
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// The one-line text of a notification in `lang`.
pub fn text(i18n: &Catalogs, lang: Lang, kind: &str, a: &serde_json::Value) -> String {
    let a = args(i18n, lang, a);
    let a: Vec<(&str, String)> = a.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    i18n.get_with(lang, &format!("notice-{kind}"), &a)
}

/// Renders e-mails from the same catalogs as the pages.
pub struct MailText {
    pub i18n: Arc<Catalogs>,
    pub public_url: String,
}

impl isms_kernel::notify::Render for MailText {
    fn mail(&self, lang: &str, kind: &str, a: &serde_json::Value, link: &str) -> (String, String) {
        let lang = Lang::parse(lang).unwrap_or_default();
        let line = text(&self.i18n, lang, kind, a);
        let subject = format!("[isms] {line}");
        let url = format!("{}{}", self.public_url.trim_end_matches('/'), link);
        let body = format!("{line}\r\n\r\n{url}\r\n\r\n-- \r\n{}\r\n", self.i18n.get(lang, "mail-footer"));
        (subject, body)
    }
}
