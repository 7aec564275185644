//! Organisation, people, accounts (sign-in, second factor, users, API tokens) and the
//! notifications inbox, over HTTP.

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
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/org.ftl")), (Lang::En, include_str!("../locales/en/org.ftl"))],
        nav: &[
            Nav { order: 90, href: "/people", key: "nav-people", perm: Some(Permission::PeopleRead) },
            Nav { order: 100, href: "/org", key: "nav-org", perm: Some(Permission::OrgRead) },
            Nav { order: 110, href: "/admin/users", key: "nav-users", perm: Some(Permission::UsersRead) },
            Nav { order: 120, href: "/admin/tokens", key: "nav-tokens", perm: Some(Permission::UsersManage) },
            Nav { order: 140, href: "/account", key: "nav-account", perm: None },
        ],
        tones: &[("status", &[("active", Ok), ("on_leave", Warn), ("left", Bad)])],
        jobs: isms_org::jobs,
        ..Module::new("org")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{get, post, put};
    use isms_webkit::Need::*;
    t
        // sign-in and setup
        .get("/login", Public, get(pages::auth::login_page))
        .post("/login", Public, post(pages::auth::login_submit))
        .get("/login/totp", Pending, get(pages::auth::totp_page))
        .post("/login/totp", Pending, post(pages::auth::totp_submit))
        .post("/logout", Pending, post(pages::auth::logout))
        .get("/setup/{token}", Public, get(pages::auth::setup_page))
        .post("/setup/{token}", Public, post(pages::auth::setup_submit))
        .get("/account/totp", Pending, get(pages::auth::enrol_page))
        .post("/account/totp", Pending, post(pages::auth::enrol_submit))
        .get("/account", SignedIn, get(pages::account::page))
        .post("/account/preferences", SignedIn, post(pages::account::preferences))
        .post("/account/sessions/{id}/revoke", SignedIn, post(pages::account::revoke_session))
        .get("/notifications", SignedIn, get(pages::notices::inbox))
        .post("/notifications/read", SignedIn, post(pages::notices::read_all))
        .post("/notifications/{id}/read", SignedIn, post(pages::notices::read_one))
        // organisation
        .get("/org", Perm(OrgRead), get(pages::org::page))
        .post("/org/companies", Perm(OrgManage), post(pages::org::create_company))
        .post("/org/departments", Perm(OrgManage), post(pages::org::create_department))
        .get("/people", Perm(PeopleRead), get(pages::people::list))
        .get("/people/export.csv", Perm(PeopleRead), get(pages::people::export))
        .get("/people/new", Perm(PeopleManage), get(pages::people::new_form))
        .post("/people/new", Perm(PeopleManage), post(pages::people::create))
        .get("/people/import", Perm(PeopleManage), get(pages::people::import_form))
        .post("/people/import", Perm(PeopleManage), post(pages::people::import))
        .get("/people/{id}", Perm(PeopleRead), get(pages::people::show))
        .get("/people/{id}/edit", Perm(PeopleManage), get(pages::people::edit_form))
        .post("/people/{id}/edit", Perm(PeopleManage), post(pages::people::update))
        .post("/people/{id}/deactivate", Perm(PeopleManage), post(pages::people::deactivate))
        // administration
        .get("/admin/users", Perm(UsersRead), get(pages::users::list))
        .get("/admin/users/new", Perm(UsersManage), get(pages::users::new_form))
        .post("/admin/users/new", Perm(UsersManage), post(pages::users::create))
        .get("/admin/users/{id}", Perm(UsersRead), get(pages::users::show))
        .post("/admin/users/{id}/grants", Perm(UsersManage), post(pages::users::grants))
        .post("/admin/users/{id}/password", Perm(UsersManage), post(pages::users::password))
        .post("/admin/users/{id}/disable", Perm(UsersManage), post(pages::users::disable))
        .post("/admin/users/{id}/enable", Perm(UsersManage), post(pages::users::enable))
        .post("/admin/users/{id}/reset-totp", Perm(UsersManage), post(pages::users::reset_totp))
        .get("/admin/tokens", Perm(UsersManage), get(pages::users::tokens))
        .post("/admin/tokens", Perm(UsersManage), post(pages::users::create_token))
        .post("/admin/tokens/{id}/revoke", Perm(UsersManage), post(pages::users::revoke_token))
        .get("/api/v1/companies", Perm(OrgRead), get(api::org::list_companies))
        .post("/api/v1/companies", Perm(OrgManage), post(api::org::create_company))
        .get("/api/v1/departments", Perm(OrgRead), get(api::org::list_departments))
        .post("/api/v1/departments", Perm(OrgManage), post(api::org::create_department))
        .get("/api/v1/people", Perm(PeopleRead), get(api::people::list))
        .post("/api/v1/people", Perm(PeopleManage), post(api::people::create))
        .get("/api/v1/people/{id}", Perm(PeopleRead), get(api::people::show))
        .put("/api/v1/people/{id}", Perm(PeopleManage), put(api::people::update))
        .post("/api/v1/people/{id}/deactivate", Perm(PeopleManage), post(api::people::deactivate))
        .get("/api/v1/users", Perm(UsersRead), get(api::users::list))
        .post("/api/v1/users", Perm(UsersManage), post(api::users::create))
        .get("/api/v1/users/{id}", Perm(UsersRead), get(api::users::show))
        .put("/api/v1/users/{id}/grants", Perm(UsersManage), put(api::users::set_grants))
        .get("/api/v1/roles", SignedIn, get(api::users::roles))
        .get("/api/v1/notifications", SignedIn, get(api::notices::list))
        .post("/api/v1/notifications/read", SignedIn, post(api::notices::read))
}
