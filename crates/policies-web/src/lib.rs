//! The management system's documents over HTTP: policies, regulations, guidelines,
//! procedures, their versions, approval, acknowledgement, and the public pages.

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
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/policies.ftl")), (Lang::En, include_str!("../locales/en/policies.ftl"))],
        nav: &[Nav { order: 40, href: "/policies", key: "nav-policies", perm: None }],
        tones: &[
            ("version", &[("draft", Neutral), ("in_review", Warn), ("approved", Info), ("published", Ok), ("retired", Muted)]),
            ("decision", &[("approve", Ok), ("reject", Bad)]),
        ],
        demo: Some(|app, group| Box::pin(isms_policies::demo::load(app, group))),
        jobs: isms_policies::jobs,
        ..Module::new("policies")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{get, post, put};
    use isms_webkit::Need::*;
    t
        // documents: policies, regulations, guidelines, the Handbook, procedures
        .get("/policies", SignedIn, get(pages::policies::list))
        .get("/policies/new", Perm(PoliciesManage), get(pages::policies::new_form))
        .post("/policies/new", Perm(PoliciesManage), post(pages::policies::create))
        .get("/policies/kinds", Perm(PoliciesRead), get(pages::policies::kinds))
        .post("/policies/kinds", Perm(PoliciesManage), post(pages::policies::set_kind))
        .post("/policies/preview", Perm(PoliciesManage), post(pages::policies::versions::preview))
        .get("/policies/{id}", SignedIn, get(pages::policies::show))
        .get("/policies/{id}/edit", Perm(PoliciesManage), get(pages::policies::edit_form))
        .post("/policies/{id}/edit", Perm(PoliciesManage), post(pages::policies::update))
        .post("/policies/{id}/acknowledge", SignedIn, post(pages::policies::acknowledge))
        .post("/policies/{id}/remind", Perm(PoliciesManage), post(pages::policies::remind))
        .post("/policies/{id}/retire", Perm(PoliciesManage), post(pages::policies::retire))
        .post("/policies/{id}/review", Perm(PoliciesManage), post(pages::policies::review))
        .post("/policies/{id}/versions", Perm(PoliciesManage), post(pages::policies::new_version))
        .get("/policies/{id}/compare", Perm(PoliciesRead), get(pages::policies::versions::compare))
        .get("/policies/{id}/files/{file}", SignedIn, get(pages::policies::versions::file))
        .get("/policies/{id}/versions/{n}", SignedIn, get(pages::policies::versions::show))
        .get("/policies/{id}/versions/{n}/edit", Perm(PoliciesManage), get(pages::policies::versions::edit_form))
        .post("/policies/{id}/versions/{n}/edit", Perm(PoliciesManage), post(pages::policies::versions::edit))
        .post("/policies/{id}/versions/{n}/submit", Perm(PoliciesManage), post(pages::policies::versions::submit))
        .post("/policies/{id}/versions/{n}/withdraw", Perm(PoliciesManage), post(pages::policies::versions::withdraw))
        .post("/policies/{id}/versions/{n}/decide", SignedIn, post(pages::policies::versions::decide))
        .post("/policies/{id}/versions/{n}/publish", Perm(PoliciesManage), post(pages::policies::versions::publish))
        .post("/policies/{id}/versions/{n}/attachments", Perm(PoliciesManage), post(pages::policies::versions::upload))
        .post("/policies/{id}/versions/{n}/attachments/{file}/delete", Perm(PoliciesManage), post(pages::policies::versions::detach))
        .get("/public/policies", Public, get(pages::policies::public::list))
        .get("/public/policies/{code}", Public, get(pages::policies::public::show))
        .get("/public/policies/{code}/files/{file}", Public, get(pages::policies::public::file))
        .get("/api/v1/documents", SignedIn, get(api::policies::list))
        .post("/api/v1/documents", Perm(PoliciesManage), post(api::policies::create))
        .get("/api/v1/documents/{id}", SignedIn, get(api::policies::show))
        .put("/api/v1/documents/{id}", Perm(PoliciesManage), put(api::policies::update))
        .post("/api/v1/documents/{id}/versions", Perm(PoliciesManage), post(api::policies::new_version))
        .get("/api/v1/documents/{id}/versions/{n}", SignedIn, get(api::policies::show_version))
        .put("/api/v1/documents/{id}/versions/{n}", Perm(PoliciesManage), put(api::policies::edit_version))
        .post("/api/v1/documents/{id}/versions/{n}/submit", Perm(PoliciesManage), post(api::policies::submit))
        .post("/api/v1/documents/{id}/versions/{n}/withdraw", Perm(PoliciesManage), post(api::policies::withdraw))
        .post("/api/v1/documents/{id}/versions/{n}/decision", SignedIn, post(api::policies::decide))
        .post("/api/v1/documents/{id}/versions/{n}/publish", Perm(PoliciesManage), post(api::policies::publish))
        .post("/api/v1/documents/{id}/versions/{n}/attachments", Perm(PoliciesManage), post(api::policies::attach))
        .post("/api/v1/documents/{id}/acknowledge", SignedIn, post(api::policies::acknowledge))
        .get("/api/v1/documents/{id}/acknowledgements", Perm(PoliciesRead), get(api::policies::progress))
        .post("/api/v1/documents/{id}/remind", Perm(PoliciesManage), post(api::policies::remind))
        .post("/api/v1/documents/{id}/review", Perm(PoliciesManage), post(api::policies::review))
        .post("/api/v1/documents/{id}/retire", Perm(PoliciesManage), post(api::policies::retire))
        .get("/api/v1/documents/{id}/compare", Perm(PoliciesRead), get(api::policies::compare))
        .get("/api/v1/document-kinds", SignedIn, get(api::policies::kinds))
        .put("/api/v1/document-kinds", Perm(PoliciesManage), put(api::policies::set_kind))
        .get("/api/v1/public/documents", Public, get(api::policies::public_list))
        .get("/api/v1/public/documents/{code}", Public, get(api::policies::public_show))
}
