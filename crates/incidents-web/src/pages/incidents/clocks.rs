//! Every running regulatory clock across the cases the reader may see, on one page: the
//! CSIRT's list of what must be reported, to whom and by when.

use super::*;
use isms_incidents::clocks::Clock;

#[derive(Deserialize, Default)]
pub struct ClocksQ {
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    dir: Option<String>,
}

#[derive(Template)]
#[template(path = "incident_clocks.html")]
struct ClocksPage {
    shell: Shell,
    rows: Vec<(Incident, Clock)>,
    look: Lookup,
    list: ListView,
}

impl ClocksPage {
    fn time_left(&self, due: &i64) -> String {
        time_left(&self.shell, *due)
    }
}

pub async fn clocks(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<ClocksQ>) -> PageResult {
    let mut rows = clock_uc::running(&state.app, &who).await.or_page(&ctx)?;
    let look = Lookup::load(&state, &who, ctx.lang.code(), false).await.or_page(&ctx)?;
    let sort = q.sort.as_deref().unwrap_or("due");
    let desc = q.dir.as_deref() == Some("desc");
    match sort {
        "case" => rows.sort_by(|a, b| a.0.reference.cmp(&b.0.reference).then(a.1.due_ms.cmp(&b.1.due_ms))),
        "company" => rows.sort_by(|a, b| look.company(&a.0.company_id).cmp(&look.company(&b.0.company_id)).then(a.1.due_ms.cmp(&b.1.due_ms))),
        _ => rows.sort_by_key(|r| r.1.due_ms),
    }
    if desc {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let list = ListView::new("/incidents/clocks").sorted(sort, q.dir.as_deref().unwrap_or(""), "due").paged(None, total, total.max(1));
    let shell = Shell::new(&ctx, &headers, "running-clocks-title").crumb("/incidents", "incidents-title");
    Ok(render(&ClocksPage { shell, rows, look, list }))
}
