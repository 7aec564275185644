//! The dashboard: what the signed-in user can reach, at a glance.

use super::shell::{Shell, clear_flash, render};
use askama::Template;
use axum::response::Response;
use isms_core::Permission;
use isms_webkit::context::PageCx;

pub use isms_webkit::Tile;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    tiles: Vec<Tile>,
    roles: Vec<String>,
}

pub async fn dashboard(PageCx { state, ctx, headers, who }: PageCx) -> Response {
    let shell = Shell::new(&ctx, &headers, "home-title");
    let app = &state.app;
    let mut tiles = vec![];
    if who.access.can(Permission::PeopleRead) {
        let q = isms_store::org::PeopleQuery { limit: 1, status: Some("active".into()), ..Default::default() };
        if let Ok(p) = isms_app::people::list(app, &who, &q).await {
            tiles.push(Tile { href: "/people?status=active", label: shell.t("tile-people"), value: p.total.to_string(), note: None, bars: vec![] });
        }
    }
    if who.access.can(Permission::OrgRead)
        && let Ok(c) = isms_app::org::list_companies(app, &who).await
    {
        tiles.push(Tile { href: "/org", label: shell.t("tile-companies"), value: c.len().to_string(), note: None, bars: vec![] });
    }
    if who.access.can(Permission::AssetsRead) {
        let q = isms_store::assets::FindingQuery { status: Some("open".into()), customer_information: Some(true), limit: 1, ..Default::default() };
        if let Ok(p) = isms_app::assets::conformance::list(app, &who, &q).await {
            tiles.push(Tile {
                href: "/assets/findings?status=open&customer=yes",
                label: shell.t("tile-open-findings"),
                value: p.total.to_string(),
                note: None,
                bars: vec![],
            });
        }
    }
    if let Ok(due) = isms_app::assets::register::reviews_due(app, &who, isms_assets_web::pages::assets::register::REVIEW_HORIZON_DAYS).await
        && !due.is_empty()
    {
        tiles.push(Tile { href: "/assets/reviews", label: shell.t("tile-reviews-due"), value: due.len().to_string(), note: None, bars: vec![] });
    }
    if let Ok(n) = isms_app::assets::takeouts::awaiting_decision(app, &who).await
        && n > 0
    {
        tiles.push(Tile { href: "/takeouts?status=requested", label: shell.t("tile-takeouts-awaiting"), value: n.to_string(), note: None, bars: vec![] });
    }
    if who.access.can(Permission::IncidentsManage)
        && let Ok(s) = isms_app::incidents::drills::schedule(app, &who).await
        && s.gaps.contains(&s.current)
    {
        // Only this half can be missing its drill; the next one is still to plan, which
        // the drills page says, so it is a note here and never counted.
        let half = |g: &isms_app::incidents::drills::Half| shell.tr(if g.half == 1 { "fiscal-half-1" } else { "fiscal-half-2" }, &[("y", g.year.to_string())]);
        let next = s.gaps.iter().find(|g| **g != s.current);
        tiles.push(Tile {
            href: "/incidents/drills",
            label: shell.tr("tile-drills-this-half", &[("half", half(&s.current))]),
            value: "0".into(),
            note: next.map(|g| shell.tr("tile-drills-next-unplanned", &[("half", half(g))])),
            bars: vec![],
        });
    }
    if let Ok(p) = isms_app::findings::list(app, &who, &isms_app::findings::FindingQuery { limit: 1, ..Default::default() }).await
        && p.total > 0
    {
        tiles.push(Tile { href: "/findings", label: shell.t("tile-review-findings"), value: p.total.to_string(), note: None, bars: vec![] });
    }
    if who.access.can(Permission::MonitoringRead)
        && let Ok(t) = isms_app::monitoring::alerts::open_by_severity(app, &who).await
    {
        let urgent: u64 = t.iter().filter(|(s, _)| *s >= isms_core::monitoring::Severity::High).map(|(_, n)| n).sum();
        tiles.push(Tile { href: "/monitoring?severity=high", label: shell.t("tile-urgent-alerts"), value: urgent.to_string(), note: None, bars: vec![] });
    }
    if who.access.can(Permission::RisksRead) {
        let q = isms_app::risks::RiskQuery { rating: Some("critical".into()), limit: 1, ..Default::default() };
        if let Ok(p) = isms_app::risks::list(app, &who, &q).await {
            tiles.push(Tile { href: "/risks?rating=critical", label: shell.t("tile-critical-risks"), value: p.total.to_string(), note: None, bars: vec![] });
        }
        let q = isms_app::risks::RiskQuery { review: Some("overdue".into()), limit: 1, ..Default::default() };
        if let Ok(p) = isms_app::risks::list(app, &who, &q).await
            && p.total > 0
        {
            tiles.push(Tile {
                href: "/risks?review=overdue",
                label: shell.t("tile-risk-reviews-overdue"),
                value: p.total.to_string(),
                note: None,
                bars: vec![],
            });
        }
    }
    if who.access.can(Permission::ComplianceRead) {
        let q = isms_app::compliance::controls::ControlQuery { review: Some("overdue".into()), limit: 1, ..Default::default() };
        if let Ok(p) = isms_app::compliance::controls::list(app, &who, &q).await
            && p.total > 0
        {
            tiles.push(Tile {
                href: "/controls?review=overdue",
                label: shell.t("tile-control-reviews-overdue"),
                value: p.total.to_string(),
                note: None,
                bars: vec![],
            });
        }
    }
    if who.access.can(Permission::IncidentsRead)
        && let Ok(n) = isms_app::incidents::cases::open_count(app, &who).await
    {
        tiles.push(Tile { href: "/incidents?status=open", label: shell.t("tile-open-incidents"), value: n.to_string(), note: None, bars: vec![] });
    }
    if let Ok(clocks) = isms_app::incidents::clocks::running(app, &who).await
        && let Some((_, c)) = clocks.first()
    {
        // The same list the running-clocks page shows, so the count and the page agree.
        tiles.push(Tile {
            href: "/incidents/clocks",
            label: shell.tr("tile-running-clocks", &[("next", shell.time(&c.due_ms))]),
            value: clocks.len().to_string(),
            note: None,
            bars: vec![],
        });
    }
    if who.access.can(Permission::IncidentsRead)
        && let Ok(a) = isms_app::incidents::followup::overdue_actions(app, &who).await
        && !a.is_empty()
    {
        tiles.push(Tile { href: "/incidents?status=closed", label: shell.t("tile-overdue-actions"), value: a.len().to_string(), note: None, bars: vec![] });
    }
    if let Ok(docs) = isms_app::policies::reading::to_acknowledge(app, &who).await
        && !docs.is_empty()
    {
        tiles.push(Tile { href: "/policies", label: shell.t("tile-documents-to-read"), value: docs.len().to_string(), note: None, bars: vec![] });
    }
    if let Ok(v) = isms_app::policies::versions::awaiting_my_decision(app, &who).await
        && !v.is_empty()
    {
        tiles.push(Tile {
            href: "/policies?status=in_review",
            label: shell.t("tile-approvals-awaiting"),
            value: v.len().to_string(),
            note: None,
            bars: vec![],
        });
    }
    if who.access.can(Permission::PoliciesRead)
        && let Ok(n) = isms_app::policies::reading::overdue_reviews(app, &who).await
    {
        tiles.push(Tile { href: "/policies?status=overdue", label: shell.t("tile-document-reviews-overdue"), value: n.to_string(), note: None, bars: vec![] });
    }
    if who.access.can(Permission::AuditRead) {
        let q = isms_store::audit::AuditQuery { limit: 1, ..Default::default() };
        if let Ok((_, total)) = isms_app::audit::list(app, &who, &q).await {
            tiles.push(Tile { href: "/audit", label: shell.t("tile-audit"), value: total.to_string(), note: None, bars: vec![] });
        }
    }
    // The modules that bring their own tiles (the rest are above, from before modules could).
    for m in crate::modules() {
        if let Some(load) = m.tiles {
            match load(&state, &who, &shell).await {
                Ok(t) => tiles.extend(t),
                Err(e) => return isms_webkit::error::page_error(&ctx, e),
            }
        }
    }
    let roles = who
        .access
        .grants()
        .iter()
        .map(|g| {
            let scope = match g.company {
                None => shell.t("scope-group"),
                Some(_) => shell.t("scope-company"),
            };
            format!("{} ({scope})", shell.t(&format!("role-{}", g.role.code().replace('_', "-"))))
        })
        .collect();
    let r = render(&HomePage { shell, tiles, roles });
    clear_flash(&state, r, &headers)
}
