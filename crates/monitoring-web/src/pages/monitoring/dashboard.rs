//! The monitoring dashboard and the event search.

use super::*;

#[derive(Template)]
#[template(path = "monitoring_overview.html")]
pub(super) struct OverviewPage {
    shell: Shell,
    o: isms_monitoring::alerts::Overview,
    look: Lookup,
}

impl OverviewPage {
    fn rate(&self, r: &f64) -> String {
        if *r >= 100.0 { format!("{r:.0}") } else { format!("{r:.2}") }
    }

    fn duration(&self, secs: &Option<i64>) -> String {
        match secs {
            None => "—".into(),
            Some(s) if *s < 120 => self.shell.tr("n-seconds", &[("n", s.to_string())]),
            Some(s) if *s < 7200 => self.shell.tr("n-minutes", &[("n", (s / 60).to_string())]),
            Some(s) => self.shell.tr("n-hours", &[("n", format!("{:.1}", *s as f64 / 3600.0))]),
        }
    }
}

pub async fn overview(PageCx { state, ctx, headers, who }: PageCx) -> PageResult {
    Ok({
        let o = alerts::overview(&state.app, &who).await.or_page(&ctx)?;
        let look = Lookup::load(&state, &who, ctx.lang.code()).await.or_page(&ctx)?;
        let shell = Shell::new(&ctx, &headers, "monitoring-overview-title").crumb("/monitoring", "monitoring-title");
        render(&OverviewPage { shell, o, look })
    })
}

// ---------------------------------------------------------------- event search

#[derive(Template)]
#[template(path = "monitoring_events.html")]
pub(super) struct EventsPage {
    shell: Shell,
    rows: Vec<EventRow>,
    total: u64,
    q: alerts::EventQuery,
    sources: Vec<Source>,
    form: FormState,
    prev: Option<String>,
    next: Option<String>,
    /// All recent raw events, not only those that raised alerts.
    raw: bool,
}

/// One found event: of an alert, or a raw one.
pub(super) struct EventRow {
    at_ms: i64,
    host: String,
    user_name: String,
    raw: String,
    source_id: Option<String>,
    /// The alert it raised: id, title, severity.
    alert: Option<(String, String, &'static str)>,
}

impl EventsPage {
    fn pretty(&self, raw: &str) -> String {
        serde_json::from_str::<serde_json::Value>(raw).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or_else(|| raw.to_owned())
    }

    fn source_name(&self, id: &Option<String>) -> String {
        id.as_ref().and_then(|id| self.sources.iter().find(|s| s.id == *id)).map(|s| s.name.clone()).unwrap_or_default()
    }

    fn action(&self) -> &'static str {
        if self.raw { "/monitoring/raw-events" } else { "/monitoring/events" }
    }
}

/// The events that raised alerts, searched by time, source, host, user and text.
pub async fn events(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<alerts::EventQuery>) -> Response {
    events_page(state, ctx, headers, who, q, false).await
}

/// All recent raw events of the sources that keep them, searched the same way.
pub async fn raw_events(PageCx { state, ctx, headers, who }: PageCx, Query(q): Query<alerts::EventQuery>) -> Response {
    events_page(state, ctx, headers, who, q, true).await
}

pub(super) async fn events_page(state: WebState, ctx: Ctx, headers: HeaderMap, who: Principal, mut q: alerts::EventQuery, raw: bool) -> Response {
    q.limit = Some(PAGE);
    let shell = Shell::new(&ctx, &headers, if raw { "raw-events-title" } else { "events-title" }).crumb("/monitoring", "monitoring-title");
    let found: isms_kernel::Result<isms_kernel::Page<EventRow>> = if raw {
        isms_monitoring::raw::search(&state.app, &who, &q).await.map(|p| isms_kernel::Page {
            total: p.total,
            items: p
                .items
                .into_iter()
                .map(|e| EventRow { at_ms: e.at_ms, host: e.host, user_name: e.user_name, raw: e.raw, source_id: Some(e.source_id), alert: None })
                .collect(),
        })
    } else {
        alerts::search_events(&state.app, &who, &q).await.map(|p| isms_kernel::Page {
            total: p.total,
            items: p
                .items
                .into_iter()
                .map(|e| EventRow {
                    at_ms: e.at_ms,
                    host: e.host,
                    user_name: e.user_name,
                    raw: e.raw,
                    source_id: e.source_id,
                    alert: Some((e.alert_id, e.alert_title, e.severity.code())),
                })
                .collect(),
        })
    };
    let (page, errors) = match found {
        Ok(p) => (p, vec![]),
        Err(e) => (isms_kernel::Page { items: vec![], total: 0 }, isms_webkit::refusals!(&ctx, e)),
    };
    let sources = isms_webkit::page_try!(&ctx, sources::list(&state.app, &who).await);
    let form = FormState::new(&shell, errors);
    let invalid = !form.errors.is_empty();
    let (prev, next) = pager_links(if raw { "/monitoring/raw-events" } else { "/monitoring/events" }, &query_of(&ctx), q.offset.unwrap_or(0), page.total);
    render_form(&EventsPage { shell, rows: page.items, total: page.total, q, sources, form, prev, next, raw }, invalid)
}
