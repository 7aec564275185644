//! The information asset register over HTTP: assets, supporting assets, handling
//! categories, conformance findings, take-outs, import and export.

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
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/assets.ftl")), (Lang::En, include_str!("../locales/en/assets.ftl"))],
        nav: &[
            Nav { order: 70, href: "/assets", key: "nav-assets", perm: Some(Permission::AssetsRead) },
            Nav { order: 80, href: "/takeouts", key: "nav-takeouts", perm: None },
        ],
        tones: &[
            ("finding", &[("open", Bad), ("accepted", Warn), ("resolved", Ok)]),
            ("takeout", &[("requested", Bad), ("approved", Warn), ("returned", Ok), ("rejected", Muted), ("withdrawn", Muted)]),
            ("import-action", &[("create", Ok), ("update", Info)]),
        ],
        demo: Some(|app, group| Box::pin(isms_assets::demo::load(app, group))),
        jobs: isms_assets::jobs,
        ..Module::new("assets")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{delete, get, post, put};
    use isms_webkit::Need::*;
    t
        // the asset register
        .get("/assets", Perm(AssetsRead), get(pages::assets::register::list))
        .get("/assets/export.csv", Perm(AssetsRead), get(pages::assets::transfer::export_csv))
        .get("/assets/export.xlsx", Perm(AssetsRead), get(pages::assets::transfer::export_xlsx))
        .get("/assets/reviews", SignedIn, get(pages::assets::register::my_reviews))
        .get("/assets/import", Perm(AssetsManage), get(pages::assets::transfer::import_form))
        .post("/assets/import", Perm(AssetsManage), post(pages::assets::transfer::import))
        .post("/assets/import/{id}/commit", Perm(AssetsManage), post(pages::assets::transfer::commit))
        .get("/assets/new", Perm(AssetsManage), get(pages::assets::register::new_form))
        .post("/assets/new", Perm(AssetsManage), post(pages::assets::register::create))
        .get("/assets/supports", Perm(AssetsRead), get(pages::assets::supports::list))
        .get("/assets/supports/new", Perm(AssetsManage), get(pages::assets::supports::new_form))
        .post("/assets/supports/new", Perm(AssetsManage), post(pages::assets::supports::create))
        .get("/assets/supports/{id}", Perm(AssetsRead), get(pages::assets::supports::show))
        .get("/assets/supports/{id}/edit", Perm(AssetsManage), get(pages::assets::supports::edit_form))
        .post("/assets/supports/{id}/edit", Perm(AssetsManage), post(pages::assets::supports::update))
        .post("/assets/supports/{id}/delete", Perm(AssetsManage), post(pages::assets::supports::delete))
        .get("/assets/categories", Perm(AssetsRead), get(pages::assets::categories::list))
        .get("/assets/categories/new", Perm(CategoriesManage), get(pages::assets::categories::new_form))
        .post("/assets/categories/new", Perm(CategoriesManage), post(pages::assets::categories::create))
        .get("/assets/categories/{id}/edit", Perm(CategoriesManage), get(pages::assets::categories::edit_form))
        .post("/assets/categories/{id}/edit", Perm(CategoriesManage), post(pages::assets::categories::update))
        .post("/assets/categories/{id}/delete", Perm(CategoriesManage), post(pages::assets::categories::delete))
        .get("/assets/findings", Perm(AssetsRead), get(pages::assets::findings::list))
        .post("/assets/findings/recheck", Perm(AssetsManage), post(pages::assets::findings::recheck))
        .get("/assets/findings/{id}", Perm(AssetsRead), get(pages::assets::findings::show))
        .post("/assets/findings/{id}/accept", Perm(AssetsManage), post(pages::assets::findings::accept))
        .post("/assets/findings/{id}/resolve", Perm(AssetsManage), post(pages::assets::findings::resolve))
        .get("/assets/{id}", Perm(AssetsRead), get(pages::assets::register::show))
        .get("/assets/{id}/edit", Perm(AssetsManage), get(pages::assets::register::edit_form))
        .post("/assets/{id}/edit", Perm(AssetsManage), post(pages::assets::register::update))
        .post("/assets/{id}/delete", Perm(AssetsManage), post(pages::assets::register::delete))
        .post("/assets/{id}/review", SignedIn, post(pages::assets::register::review))
        .get("/takeouts", SignedIn, get(pages::assets::takeouts::list))
        .get("/takeouts/new", SignedIn, get(pages::assets::takeouts::new_form))
        .post("/takeouts/new", SignedIn, post(pages::assets::takeouts::create))
        .get("/takeouts/{id}", SignedIn, get(pages::assets::takeouts::show))
        .post("/takeouts/{id}/decide", SignedIn, post(pages::assets::takeouts::decide))
        .post("/takeouts/{id}/close", SignedIn, post(pages::assets::takeouts::close))
        .get("/api/v1/assets", Perm(AssetsRead), get(api::assets::list_assets))
        .post("/api/v1/assets", Perm(AssetsManage), post(api::assets::create_asset))
        .post("/api/v1/assets/import", Perm(AssetsManage), post(api::assets::import_assets))
        .get("/api/v1/assets/{id}", Perm(AssetsRead), get(api::assets::show_asset))
        .put("/api/v1/assets/{id}", Perm(AssetsManage), put(api::assets::update_asset))
        .delete("/api/v1/assets/{id}", Perm(AssetsManage), delete(api::assets::delete_asset))
        .post("/api/v1/assets/{id}/review", SignedIn, post(api::assets::review_asset))
        .get("/api/v1/supporting-assets", Perm(AssetsRead), get(api::assets::list_supports))
        .post("/api/v1/supporting-assets", Perm(AssetsManage), post(api::assets::create_support))
        .get("/api/v1/supporting-assets/{id}", Perm(AssetsRead), get(api::assets::show_support))
        .put("/api/v1/supporting-assets/{id}", Perm(AssetsManage), put(api::assets::update_support))
        .delete("/api/v1/supporting-assets/{id}", Perm(AssetsManage), delete(api::assets::delete_support))
        .get("/api/v1/handling-categories", SignedIn, get(api::assets::list_categories))
        .post("/api/v1/handling-categories", Perm(CategoriesManage), post(api::assets::create_category))
        .get("/api/v1/handling-categories/{id}", SignedIn, get(api::assets::show_category))
        .put("/api/v1/handling-categories/{id}", Perm(CategoriesManage), put(api::assets::update_category))
        .delete("/api/v1/handling-categories/{id}", Perm(CategoriesManage), delete(api::assets::delete_category))
        .get("/api/v1/asset-findings", Perm(AssetsRead), get(api::assets::list_findings))
        .post("/api/v1/asset-findings/recheck", Perm(AssetsManage), post(api::assets::recheck))
        .get("/api/v1/asset-findings/{id}", Perm(AssetsRead), get(api::assets::show_finding))
        .post("/api/v1/asset-findings/{id}/accept", Perm(AssetsManage), post(api::assets::accept_finding))
        .post("/api/v1/asset-findings/{id}/resolve", Perm(AssetsManage), post(api::assets::resolve_finding))
        .get("/api/v1/takeouts", SignedIn, get(api::assets::list_takeouts))
        .post("/api/v1/takeouts", SignedIn, post(api::assets::request_takeout))
        .get("/api/v1/takeouts/{id}", SignedIn, get(api::assets::show_takeout))
        .post("/api/v1/takeouts/{id}/decision", SignedIn, post(api::assets::decide_takeout))
        .post("/api/v1/takeouts/{id}/close", SignedIn, post(api::assets::close_takeout))
}
