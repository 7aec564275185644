//! The user's inbox: what the system told them, newest first, with a link to the page it
//! is about; marking one or all read.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use isms_kernel::notify::{self, Notification};
use isms_webkit::WebState;
use isms_webkit::context::{Ctx, PageCx, Who};
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, clear_flash, redirect_with_flash, render};

pub struct Row {
    pub n: Notification,
    pub text: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct InboxPage {
    shell: Shell,
    rows: Vec<Row>,
}

pub async fn inbox(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let list = notify::inbox(&state.app, &who, false, 200).await.or_page(&ctx)?;
        let rows = list.into_iter().map(|n| Row { text: isms_webkit::notices::text(&state.i18n, ctx.lang, &n.kind, &n.args), n }).collect();
        let shell = Shell::new(&ctx, &headers, "notifications-title");
        let r = render(&InboxPage { shell, rows });
        clear_flash(&state, r, &headers)
    })
}

pub async fn read_one(State(state): State<WebState>, ctx: Ctx, Who(who): Who, Path(id): Path<String>) -> Response {
    isms_webkit::page_try!(&ctx, notify::mark_read(&state.app, &who, Some(&id)).await);
    redirect_with_flash(&state, "/notifications", "flash-saved", ctx.is_htmx)
}

pub async fn read_all(State(state): State<WebState>, ctx: Ctx, Who(who): Who) -> Response {
    isms_webkit::page_try!(&ctx, notify::mark_read(&state.app, &who, None).await);
    redirect_with_flash(&state, "/notifications", "flash-saved", ctx.is_htmx)
}
