//! Document bodies are Markdown. Rendering lets no raw HTML through: HTML in the source
//! is shown as text, and links or images whose address has a scheme other than http,
//! https or mailto lose the address. The page's Content-Security-Policy is a second wall.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_FOOTNOTES
}

/// Whether a link address is harmless: relative, a fragment, or http(s)/mailto.
pub fn safe_url(url: &str) -> bool {
    // Browsers drop tabs, newlines and leading controls from addresses, so
    // `java\tscript:` must count as `javascript:`.
    let cleaned: String = url.chars().filter(|c| !c.is_ascii_control() && *c != ' ').collect();
    let lower = cleaned.to_ascii_lowercase();
    match lower.find([':', '/', '?', '#']) {
        Some(i) if lower.as_bytes()[i] == b':' => matches!(&lower[..i], "http" | "https" | "mailto"),
        _ => true,
    }
}

/// Markdown to HTML that is safe to place in a page.
pub fn to_html(src: &str) -> String {
    let events = Parser::new_ext(src, options()).map(|ev| match ev {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: CowStr::Borrowed(""), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: CowStr::Borrowed(""), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(src.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The text of a Markdown body without markup, for search and e-mail previews.
pub fn to_plain(src: &str) -> String {
    let mut out = String::new();
    for ev in Parser::new_ext(src, options()) {
        match ev {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableRow | TagEnd::CodeBlock | TagEnd::BlockQuote(_))
                if !out.ends_with('\n') && !out.is_empty() =>
            {
                out.push('\n')
            }
            _ => {}
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        let h = to_html("# Policy\n\n*Customer* information is **never** shared.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(h.contains("<h1>Policy</h1>"));
        assert!(h.contains("<em>Customer</em>"));
        assert!(h.contains("<table>"));
    }

    #[test]
    fn html_and_scripts_render_inert() {
        for src in [
            "<script>alert(1)</script>",
            "hello <img src=x onerror=alert(1)> world",
            "<div onclick=\"steal()\">click</div>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "text\n\n<svg onload=alert(1)>\n",
        ] {
            let h = to_html(src);
            assert!(
                !h.contains('<')
                    || !h.contains("<script")
                        && !h.contains("<img")
                        && !h.contains("<div")
                        && !h.contains("<iframe")
                        && !h.contains("<svg")
                        && !h.contains("<a "),
                "{src} -> {h}"
            );
            assert!(h.contains("&lt;"), "{src} -> {h}");
        }
    }

    #[test]
    fn dangerous_link_targets_are_dropped() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](jav&#x61;script:alert(1))",
            "[x](<java\tscript:alert(1)>)",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "![x](javascript:alert(1))",
            "<javascript:alert(1)>",
        ] {
            let h = to_html(src);
            assert!(!h.to_ascii_lowercase().contains("script:") || !h.contains("href=\"j"), "{src} -> {h}");
            assert!(
                !h.contains("href=\"javascript") && !h.contains("href=\"data") && !h.contains("src=\"javascript") && !h.contains("vbscript:msgbox\""),
                "{src} -> {h}"
            );
        }
        assert!(to_html("[site](https://example.com/a?b#c)").contains("href=\"https://example.com/a?b#c\""));
        assert!(to_html("[mail](mailto:privacy@example.com)").contains("href=\"mailto:privacy@example.com\""));
        assert!(to_html("[rel](/public/policies)").contains("href=\"/public/policies\""));
        assert!(to_html("[frag](#section-2)").contains("href=\"#section-2\""));
    }

    #[test]
    fn plain_text() {
        assert_eq!(to_plain("# Title\n\nSome *text*.\n"), "Title\nSome text.");
    }
}
