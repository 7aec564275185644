//! Frameworks, controls, the Statement of Applicability, the risk register and the
//! findings of the management system's upkeep, over HTTP.

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
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/compliance.ftl")), (Lang::En, include_str!("../locales/en/compliance.ftl"))],
        nav: &[
            Nav { order: 50, href: "/frameworks", key: "nav-compliance", perm: Some(Permission::ComplianceRead) },
            Nav { order: 60, href: "/risks", key: "nav-risks", perm: Some(Permission::RisksRead) },
        ],
        tones: &[
            ("compliance", &[("met", Ok), ("partial", Warn), ("not_met", Bad), ("excluded", Muted)]),
            ("control-status", &[("implemented", Ok), ("in_progress", Warn), ("planned", Muted), ("not_applicable", Muted)]),
            ("rating", &[("low", Ok), ("medium", Warn), ("high", Bad), ("critical", Critical)]),
        ],
        demo: Some(|app, group| Box::pin(isms_compliance::demo::load(app, group))),
        jobs: isms_compliance::jobs,
        ..Module::new("compliance")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{delete, get, post, put};
    use isms_webkit::Need::*;
    t
        // compliance: frameworks, controls, the Statement of Applicability
        .get("/frameworks", Perm(ComplianceRead), get(pages::compliance::list))
        .post("/frameworks/new", Perm(FrameworksManage), post(pages::compliance::create))
        .post("/frameworks/import", Perm(FrameworksManage), post(pages::compliance::import))
        .get("/frameworks/{id}", Perm(ComplianceRead), get(pages::compliance::show))
        .get("/frameworks/{id}/export.csv", Perm(ComplianceRead), get(pages::compliance::export_csv))
        .get("/frameworks/{id}/export.xlsx", Perm(ComplianceRead), get(pages::compliance::export_xlsx))
        .post("/frameworks/{id}/requirements", Perm(FrameworksManage), post(pages::compliance::put_requirement))
        .get("/requirements/{id}", Perm(ComplianceRead), get(pages::compliance::requirement))
        .post("/requirements/{id}/delete", Perm(FrameworksManage), post(pages::compliance::delete_requirement))
        .get("/controls", Perm(ComplianceRead), get(pages::compliance::controls::list))
        .get("/controls/export.csv", Perm(ComplianceRead), get(pages::compliance::controls::export_csv))
        .get("/controls/export.xlsx", Perm(ComplianceRead), get(pages::compliance::controls::export_xlsx))
        .get("/controls/new", Perm(ComplianceManage), get(pages::compliance::controls::new_form))
        .post("/controls/new", Perm(ComplianceManage), post(pages::compliance::controls::create))
        .get("/controls/{id}", Perm(ComplianceRead), get(pages::compliance::controls::show))
        .get("/controls/{id}/edit", Perm(ComplianceManage), get(pages::compliance::controls::edit_form))
        .post("/controls/{id}/edit", Perm(ComplianceManage), post(pages::compliance::controls::update))
        .post("/controls/{id}/review", Perm(ComplianceManage), post(pages::compliance::controls::reviewed))
        .post("/controls/{id}/evidence", Perm(ComplianceManage), post(pages::compliance::controls::add_evidence))
        .get("/controls/{id}/evidence/{evidence}", Perm(ComplianceRead), get(pages::compliance::controls::evidence_file))
        .post("/controls/{id}/evidence/{evidence}/delete", Perm(ComplianceManage), post(pages::compliance::controls::remove_evidence))
        .get("/soa", Perm(ComplianceRead), get(pages::compliance::soa::page))
        .post("/soa/decide", Perm(ComplianceManage), post(pages::compliance::soa::decide))
        .get("/soa/export.xlsx", Perm(ComplianceRead), get(pages::compliance::soa::export_xlsx))
        .get("/soa/export.pdf", Perm(ComplianceRead), get(pages::compliance::soa::export_pdf))
        // findings of the management system's upkeep
        .get("/findings", SignedIn, get(pages::review_findings::list))
        .get("/findings/export.csv", SignedIn, get(pages::review_findings::export_csv))
        .get("/findings/export.xlsx", SignedIn, get(pages::review_findings::export_xlsx))
        .post("/findings/check", Perm(ComplianceManage), post(pages::review_findings::check))
        // the risk register
        .get("/risks", Perm(RisksRead), get(pages::risks::list))
        .get("/risks/export.csv", Perm(RisksRead), get(pages::risks::export_csv))
        .get("/risks/export.xlsx", Perm(RisksRead), get(pages::risks::export_xlsx))
        .get("/risks/matrix", Perm(RisksRead), get(pages::risks::matrix))
        .post("/risks/matrix", Perm(RisksManage), post(pages::risks::set_matrix))
        .get("/risks/new", Perm(RisksManage), get(pages::risks::new_form))
        .post("/risks/new", Perm(RisksManage), post(pages::risks::create))
        .get("/risks/{id}", Perm(RisksRead), get(pages::risks::show))
        .get("/risks/{id}/edit", Perm(RisksManage), get(pages::risks::edit_form))
        .post("/risks/{id}/edit", Perm(RisksManage), post(pages::risks::update))
        .post("/risks/{id}/accept", Perm(RisksRead), post(pages::risks::accept))
        .post("/risks/{id}/status", Perm(RisksManage), post(pages::risks::set_status))
        .post("/risks/{id}/review", Perm(RisksManage), post(pages::risks::reviewed))
        .post("/risks/{id}/actions", Perm(RisksManage), post(pages::risks::add_action))
        .post("/risks/{id}/actions/{action}/done", Perm(RisksRead), post(pages::risks::action_done))
        .get("/api/v1/frameworks", Perm(ComplianceRead), get(api::compliance::list_frameworks))
        .post("/api/v1/frameworks", Perm(FrameworksManage), post(api::compliance::create_framework))
        .post("/api/v1/frameworks/import", Perm(FrameworksManage), post(api::compliance::import_framework))
        .post("/api/v1/framework-mappings/import", Perm(FrameworksManage), post(api::compliance::import_mappings))
        .get("/api/v1/frameworks/{id}", Perm(ComplianceRead), get(api::compliance::show_framework))
        .put("/api/v1/frameworks/{id}/requirements", Perm(FrameworksManage), put(api::compliance::put_requirement))
        .get("/api/v1/frameworks/{id}/soa", Perm(ComplianceRead), get(api::compliance::statement))
        .get("/api/v1/frameworks/{id}/soa/export", Perm(ComplianceRead), get(api::compliance::export))
        .put("/api/v1/frameworks/{id}/soa/{requirement}", Perm(ComplianceManage), put(api::compliance::decide))
        .get("/api/v1/frameworks/{id}/assessment", Perm(ComplianceRead), get(api::compliance::assessment))
        .get("/api/v1/requirements/{id}", Perm(ComplianceRead), get(api::compliance::show_requirement))
        .delete("/api/v1/requirements/{id}", Perm(FrameworksManage), delete(api::compliance::delete_requirement))
        .get("/api/v1/controls", Perm(ComplianceRead), get(api::compliance::list_controls))
        .post("/api/v1/controls", Perm(ComplianceManage), post(api::compliance::create_control))
        .get("/api/v1/controls/{id}", Perm(ComplianceRead), get(api::compliance::show_control))
        .put("/api/v1/controls/{id}", Perm(ComplianceManage), put(api::compliance::update_control))
        .post("/api/v1/controls/{id}/review", Perm(ComplianceManage), post(api::compliance::review_control))
        .post("/api/v1/controls/{id}/evidence/links", Perm(ComplianceManage), post(api::compliance::add_link))
        .post("/api/v1/controls/{id}/evidence/files", Perm(ComplianceManage), post(api::compliance::add_file))
        .delete("/api/v1/controls/{id}/evidence/{evidence}", Perm(ComplianceManage), delete(api::compliance::remove_evidence))
        .get("/api/v1/risks", Perm(RisksRead), get(api::risks::list))
        .post("/api/v1/risks", Perm(RisksManage), post(api::risks::create))
        .get("/api/v1/risks/heatmap", Perm(RisksRead), get(api::risks::heat_map))
        .get("/api/v1/risks/{id}", Perm(RisksRead), get(api::risks::show))
        .put("/api/v1/risks/{id}", Perm(RisksManage), put(api::risks::update))
        .post("/api/v1/risks/{id}/accept", Perm(RisksRead), post(api::risks::accept))
        .post("/api/v1/risks/{id}/status", Perm(RisksManage), post(api::risks::set_status))
        .post("/api/v1/risks/{id}/review", Perm(RisksManage), post(api::risks::review))
        .post("/api/v1/risks/{id}/actions", Perm(RisksManage), post(api::risks::add_action))
        .post("/api/v1/risks/{id}/actions/{action}/done", Perm(RisksRead), post(api::risks::action_done))
        .get("/api/v1/risk-matrix", Perm(RisksRead), get(api::risks::matrix))
        .get("/api/v1/review-findings", SignedIn, get(api::risks::findings))
        .put("/api/v1/risk-matrix", Perm(RisksManage), put(api::risks::set_matrix))
}
