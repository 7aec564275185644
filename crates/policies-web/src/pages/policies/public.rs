//! The public disclosure pages: no sign-in, only public documents' versions in force, in
//! the reader's language with a link to the other language's document, and printable.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use isms_policies::reading::{self, PublicDocument};
use isms_webkit::WebState;
use isms_webkit::context::Ctx;
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, render};

#[derive(Template)]
#[template(path = "public_policies.html")]
struct ListPage {
    shell: Shell,
    docs: Vec<PublicDocument>,
}

/// A publication date in the reader's time zone, as the printed page shows it.
fn date(shell: &Shell, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned_datetime(shell.ctx.tz.clone()).date().to_string()).unwrap_or_default()
}

impl ListPage {
    fn date(&self, ms: &i64) -> String {
        date(&self.shell, *ms)
    }
}

impl ShowPage {
    fn date(&self, ms: &i64) -> String {
        date(&self.shell, *ms)
    }
}

pub async fn list(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap) -> PageResult {
    Ok({
        let all = reading::public_list(&state.app).await.or_page(&ctx)?;
        // The reader's language first; a document without a counterpart shows in its own.
        let lang = ctx.lang.code();
        let docs = all
            .iter()
            .filter(|d| d.language.code() == lang || d.translation_code.as_ref().is_none_or(|t| !all.iter().any(|o| &o.code == t)))
            .cloned()
            .collect();
        let shell = Shell::new(&ctx, &headers, "public-policies-title");
        render(&ListPage { shell, docs })
    })
}

#[derive(Template)]
#[template(path = "public_policy.html")]
struct ShowPage {
    shell: Shell,
    d: PublicDocument,
}

impl ShowPage {
    /// The link to the translation, in the translation's own language.
    fn read_in(&self, t: &isms_policies::reading::Translation) -> &'static str {
        if t.language.code() == "en" { "read-in-en" } else { "read-in-ja" }
    }
    fn lang_name(&self, t: &isms_policies::reading::Translation) -> &'static str {
        if t.language.code() == "en" { "lang-en" } else { "lang-ja" }
    }
}

pub async fn show(State(state): State<WebState>, ctx: Ctx, headers: HeaderMap, Path(code): Path<String>) -> PageResult {
    Ok({
        let d = reading::public_get(&state.app, &code).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "public-policies-title").crumb("/public/policies", "public-policies-title").titled(d.title.clone());
        render(&ShowPage { shell, d })
    })
}

pub async fn file(State(state): State<WebState>, ctx: Ctx, Path((code, id)): Path<(String, String)>) -> Response {
    let f = isms_webkit::page_try!(&ctx, reading::public_file(&state.app, &code, &id).await);
    super::versions::download(f)
}
