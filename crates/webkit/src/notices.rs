//! Notification texts: one catalog message per kind (`notice-<kind>`), shown in the inbox
//! and used as the e-mail's subject and first line, with a link back to the page.

use crate::i18n::{Catalogs, Lang};
use std::sync::Arc;

fn args(v: &serde_json::Value) -> Vec<(&str, String)> {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                )
            })
            .collect(),
        _ => vec![],
    }
}

/// The one-line text of a notification in `lang`.
pub fn text(i18n: &Catalogs, lang: Lang, kind: &str, a: &serde_json::Value) -> String {
    i18n.get_with(lang, &format!("notice-{kind}"), &args(a))
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
