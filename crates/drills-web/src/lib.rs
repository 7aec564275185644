//! E-mail drills over HTTP: the addresses a drill mail leads to (public, by token), the
//! campaigns and their results for the security office, and the API twins.

pub mod api;
pub mod pages;
pub mod public;

use isms_core::Permission;
use isms_webkit::i18n::Lang;
use isms_webkit::{Module, Nav, Table};

/// The module as the application assembles it.
pub fn module() -> Module {
    use isms_webkit::tone::Tone::*;
    Module {
        routes,
        openapi: || <api::Api as utoipa::OpenApi>::openapi(),
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/drills.ftl")), (Lang::En, include_str!("../locales/en/drills.ftl"))],
        nav: &[Nav { order: 47, href: "/drills", key: "nav-drills", perm: Some(Permission::DrillsRead) }],
        tones: &[
            ("drill-state", &[("draft", Neutral), ("scheduled", Info), ("paused", Warn), ("done", Ok), ("cancelled", Muted)]),
            ("drill-verdict", &[("human", Info), ("machine", Muted), ("pending", Warn), ("unreliable", Neutral)]),
            ("drill-send", &[("planned", Neutral), ("sending", Info), ("sent", Ok), ("bounced", Bad), ("failed", Bad), ("cancelled", Muted)]),
        ],
        jobs: isms_drills::jobs,
        ..Module::new("drills")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{get, post, put};
    use isms_webkit::Need::*;
    t
        // where a drill mail leads: anyone with the link
        .get("/d/{token}", Public, get(public::click))
        .get("/d/{token}/a", Public, get(public::attachment))
        .get("/d/{token}/o.gif", Public, get(public::open))
        .post("/d/{token}/b", Public, post(public::beacon))
        .post("/d/{token}/s", Public, post(public::submit))
        // the security office's pages
        .get("/drills", Perm(DrillsRead), get(pages::list))
        .post("/drills/campaigns", Perm(DrillsManage), post(pages::create))
        .get("/drills/templates", Perm(DrillsRead), get(pages::templates::list))
        .get("/drills/templates/new", Perm(DrillsManage), get(pages::templates::new_form))
        .post("/drills/templates/new", Perm(DrillsManage), post(pages::templates::create))
        .get("/drills/templates/{id}", Perm(DrillsRead), get(pages::templates::show))
        .get("/drills/templates/{id}/edit", Perm(DrillsManage), get(pages::templates::edit_form))
        .post("/drills/templates/{id}/edit", Perm(DrillsManage), post(pages::templates::update))
        .get("/drills/scanners", Perm(DrillsRead), get(pages::scanners::show))
        .post("/drills/scanners", Perm(DrillsManage), post(pages::scanners::save))
        .get("/drills/reports", Perm(DrillsManage), get(pages::reports::form))
        .post("/drills/reports", Perm(DrillsManage), post(pages::reports::submit))
        .get("/drills/profiles", Perm(DrillsRead), get(pages::profiles::list))
        .post("/drills/profiles", Perm(DrillsManage), post(pages::profiles::create))
        .get("/drills/profiles/{id}", Perm(DrillsManage), get(pages::profiles::edit_form))
        .post("/drills/profiles/{id}", Perm(DrillsManage), post(pages::profiles::update))
        .get("/drills/campaigns/{id}", Perm(DrillsRead), get(pages::show))
        .get("/drills/campaigns/{id}/recipients/{recipient}", Perm(DrillsManage), get(pages::trace::show))
        .post("/drills/campaigns/{id}/launch", Perm(DrillsManage), post(pages::launch))
        .post("/drills/campaigns/{id}/pause", Perm(DrillsManage), post(pages::pause))
        .post("/drills/campaigns/{id}/resume", Perm(DrillsManage), post(pages::resume))
        .post("/drills/campaigns/{id}/cancel", Perm(DrillsManage), post(pages::cancel))
        // the API
        .get("/api/v1/drills/profiles", Perm(DrillsRead), get(api::list_profiles))
        .post("/api/v1/drills/profiles", Perm(DrillsManage), post(api::create_profile))
        .put("/api/v1/drills/profiles/{id}", Perm(DrillsManage), put(api::update_profile))
        .get("/api/v1/drills/templates", Perm(DrillsRead), get(api::list_templates))
        .post("/api/v1/drills/templates", Perm(DrillsManage), post(api::create_template))
        .get("/api/v1/drills/templates/{id}", Perm(DrillsRead), get(api::template))
        .put("/api/v1/drills/templates/{id}", Perm(DrillsManage), put(api::update_template))
        .get("/api/v1/drills/campaigns", Perm(DrillsRead), get(api::list_campaigns))
        .post("/api/v1/drills/campaigns", Perm(DrillsManage), post(api::create_campaign))
        .get("/api/v1/drills/campaigns/{id}", Perm(DrillsRead), get(api::campaign))
        .post("/api/v1/drills/campaigns/{id}/launch", Perm(DrillsManage), post(api::launch))
        .post("/api/v1/drills/campaigns/{id}/pause", Perm(DrillsManage), post(api::pause))
        .post("/api/v1/drills/campaigns/{id}/resume", Perm(DrillsManage), post(api::resume))
        .post("/api/v1/drills/campaigns/{id}/cancel", Perm(DrillsManage), post(api::cancel))
        .get("/api/v1/drills/campaigns/{id}/results", Perm(DrillsRead), get(api::campaign_results))
        .get("/api/v1/drills/campaigns/{id}/recipients", Perm(DrillsRead), get(api::campaign_recipients))
        .get("/api/v1/drills/scanners", Perm(DrillsRead), get(api::scanners))
        .put("/api/v1/drills/scanners", Perm(DrillsManage), put(api::set_scanners))
        .post("/api/v1/drills/reports", Perm(DrillsManage), post(api::record_report))
        .get("/api/v1/drills/campaigns/{id}/recipients/{recipient}/trace", Perm(DrillsManage), get(api::recipient_trace))
}
