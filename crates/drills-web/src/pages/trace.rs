//! One recipient's trace, for who runs the drill: every request to their addresses and
//! every signal, with the verdict and the rule that gave it, so an analyst can see why a
//! click counted or did not.

use askama::Template;
use axum::extract::Path;
use isms_drills::campaigns;
use isms_drills::results::{self, Trace};
use isms_webkit::context::PageCx;
use isms_webkit::error::{OrPage, PageResult};
use isms_webkit::shell::{Shell, clear_flash, render};

#[derive(Template)]
#[template(path = "drills_trace.html")]
struct Page {
    shell: Shell,
    campaign_id: String,
    rows: Vec<Trace>,
}

pub async fn show(PageCx { state, ctx, headers, who }: PageCx, Path((id, recipient)): Path<(String, String)>) -> PageResult {
    let c = campaigns::get(&state.app, &who, &id).await.or_page(&ctx)?;
    let rows = results::trace(&state.app, &who, &id, &recipient).await.or_page(&ctx)?;
    let shell = Shell::new(&ctx, &headers, "drills-trace-title").crumb("/drills", "maildrills-title").crumb_text(&format!("/drills/campaigns/{id}"), &c.name);
    Ok(clear_flash(&state, render(&Page { shell, campaign_id: id, rows }), &headers))
}
