//! Incident response over HTTP: reports, cases, clocks, actions, playbooks, releases,
//! evidence, drills and KPIs.

pub mod api;
pub mod pages;

use isms_core::Permission;
use isms_webkit::i18n::Lang;
use isms_webkit::{Module, Nav, Table};

/// The module as the application assembles it.
pub fn module() -> Module {
    use isms_webkit::tone::Tone::*;
    Module {
        routes,
        openapi: || <api::Api as utoipa::OpenApi>::openapi(),
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/incidents.ftl")), (Lang::En, include_str!("../locales/en/incidents.ftl"))],
        nav: &[Nav { order: 30, href: "/incidents", key: "nav-incidents", perm: None }],
        tones: &[
            ("incident-severity", &[("1", Muted), ("2", Warn), ("3", Bad), ("4", Critical)]),
            (
                "incident-status",
                &[("reported", Bad), ("triage", Warn), ("containment", Info), ("eradication", Info), ("recovery", Info), ("review", Review), ("closed", Ok)],
            ),
            ("action-status", &[("open", Bad), ("done", Warn), ("verified", Ok)]),
            ("release-status", &[("draft", Neutral), ("approved", Info), ("released", Ok)]),
            ("drill", &[("planned", Neutral), ("running", Warn), ("held", Ok)]),
        ],
        demo: Some(|app, group| Box::pin(isms_incidents::demo::load(app, group))),
        jobs: isms_incidents::jobs,
        ..Module::new("incidents")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{get, post, put};
    use isms_webkit::Need::*;
    t
        // incidents
        .get("/incidents", SignedIn, get(pages::incidents::list))
        .get("/incidents/report", SignedIn, get(pages::incidents::report_form))
        .get("/incidents/playbooks", Perm(IncidentsRead), get(pages::incidents::playbooks))
        .get("/incidents/kpis", Perm(IncidentsRead), get(pages::incidents::kpis))
        .get("/incidents/drills", Perm(IncidentsRead), get(pages::incidents::drills))
        .get("/incidents/clocks", SignedIn, get(pages::incidents::clocks))
        .post("/incidents/drills", Perm(IncidentsManage), post(pages::incidents::plan_drill))
        .post("/incidents/drills/{id}/run", Perm(IncidentsManage), post(pages::incidents::run_drill))
        .post("/incidents/drills/{id}/outcome", Perm(IncidentsManage), post(pages::incidents::drill_outcome))
        .post("/incidents/playbooks", Perm(IncidentsManage), post(pages::incidents::save_playbook))
        .post("/incidents/report", SignedIn, post(pages::incidents::report))
        .get("/incidents/{id}", SignedIn, get(pages::incidents::show))
        .post("/incidents/{id}/facts", Perm(IncidentsManage), post(pages::incidents::facts))
        .post("/incidents/{id}/transition", Perm(IncidentsManage), post(pages::incidents::transition))
        .post("/incidents/{id}/notes", SignedIn, post(pages::incidents::note))
        .post("/incidents/{id}/members", Perm(IncidentsManage), post(pages::incidents::member))
        .post("/incidents/{id}/clocks/{clock}/done", Perm(IncidentsManage), post(pages::incidents::clock_done))
        .post("/incidents/{id}/actions", Perm(IncidentsManage), post(pages::incidents::add_action))
        .post("/incidents/{id}/playbook", Perm(IncidentsManage), post(pages::incidents::start_playbook))
        .post("/incidents/{id}/releases", Perm(IncidentsManage), post(pages::incidents::draft_release))
        .post("/incidents/{id}/releases/{release}", Perm(IncidentsManage), post(pages::incidents::release_step))
        .post("/incidents/{id}/tasks/{task}/done", Perm(IncidentsManage), post(pages::incidents::task_done))
        .post("/incidents/{id}/tasks/{task}/cancel", Perm(IncidentsManage), post(pages::incidents::task_cancel))
        .post("/incidents/{id}/actions/{action}/step", SignedIn, post(pages::incidents::step_action))
        .post("/incidents/{id}/observables", Perm(IncidentsManage), post(pages::incidents::add_observables))
        .post("/incidents/{id}/evidence", Perm(IncidentsManage), post(pages::incidents::add_evidence))
        .get("/incidents/{id}/evidence/{evidence}", Perm(IncidentsManage), get(pages::incidents::evidence_file))
        .post("/incidents/{id}/evidence/{evidence}/hand-over", Perm(IncidentsManage), post(pages::incidents::hand_over))
        .get("/api/v1/incidents", SignedIn, get(api::incidents::list))
        .post("/api/v1/incidents", SignedIn, post(api::incidents::report))
        .get("/api/v1/incidents/{id}", SignedIn, get(api::incidents::show))
        .put("/api/v1/incidents/{id}/facts", Perm(IncidentsManage), put(api::incidents::facts))
        .post("/api/v1/incidents/{id}/transition", Perm(IncidentsManage), post(api::incidents::transition))
        .post("/api/v1/incidents/{id}/notes", SignedIn, post(api::incidents::note))
        .post("/api/v1/incidents/{id}/members", Perm(IncidentsManage), post(api::incidents::member))
        .post("/api/v1/incidents/{id}/clocks/{clock}/done", Perm(IncidentsManage), post(api::incidents::clock_done))
        .get("/api/v1/incident-clocks", SignedIn, get(api::incidents::running))
        .post("/api/v1/incidents/{id}/actions", Perm(IncidentsManage), post(api::incidents::add_action))
        .post("/api/v1/incidents/{id}/actions/{action}/step", SignedIn, post(api::incidents::step_action))
        .get("/api/v1/incident-actions/overdue", SignedIn, get(api::incidents::overdue_actions))
        .post("/api/v1/incidents/{id}/observables", Perm(IncidentsManage), post(api::incidents::add_observables))
        .post("/api/v1/incidents/{id}/evidence", Perm(IncidentsManage), post(api::incidents::add_evidence))
        .post("/api/v1/incidents/{id}/evidence/{evidence}/hand-over", Perm(IncidentsManage), post(api::incidents::hand_over))
        .get("/api/v1/playbooks", Perm(IncidentsRead), get(api::incidents::list_playbooks))
        .get("/api/v1/incident-kpis", Perm(IncidentsRead), get(api::incidents::kpis))
        .get("/api/v1/drills", Perm(IncidentsRead), get(api::incidents::drills))
        .post("/api/v1/drills", Perm(IncidentsManage), post(api::incidents::plan_drill))
        .post("/api/v1/playbooks", Perm(IncidentsManage), post(api::incidents::save_playbook))
        .get("/api/v1/playbooks/{code}/versions", Perm(IncidentsRead), get(api::incidents::playbook_history))
        .post("/api/v1/incidents/{id}/playbook", Perm(IncidentsManage), post(api::incidents::start_playbook))
        .post("/api/v1/incidents/{id}/tasks/{task}/done", Perm(IncidentsManage), post(api::incidents::task_done))
        .post("/api/v1/incidents/{id}/tasks/{task}/cancel", Perm(IncidentsManage), post(api::incidents::task_cancel))
        .post("/api/v1/incidents/{id}/releases", Perm(IncidentsManage), post(api::incidents::draft_release))
        .put("/api/v1/incidents/{id}/releases/{release}", Perm(IncidentsManage), put(api::incidents::edit_release))
        .post("/api/v1/incidents/{id}/releases/{release}/approve", Perm(IncidentsManage), post(api::incidents::approve_release))
        .post("/api/v1/incidents/{id}/releases/{release}/released", Perm(IncidentsManage), post(api::incidents::mark_released))
}
