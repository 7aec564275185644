//! isms over HTTP, assembled: the list of modules, and what belongs to none of them (the
//! operational endpoints, the dashboard, the audit trail, the OpenAPI document). Each
//! module brings its routes with their permissions, its API, catalogs and navigation
//! (`isms_webkit::Module`); the route table, the document and the catalogs are built
//! from this one list, and the tests read the same list.

pub mod api;
#[cfg(test)]
mod catalogs;
pub mod ops;
pub mod pages;
pub mod routes;

use isms_kernel::App;

pub use isms_webkit::{Ctx, Module, Need, RouteSpec, WebConfig, WebState, context, download, error, i18n, input, lookup, notices};

/// Every module of the application, in the order their pages appear.
pub fn modules() -> Vec<Module> {
    vec![
        own(),
        isms_org_web::module(),
        isms_assets_web::module(),
        isms_policies_web::module(),
        isms_incidents_web::module(),
        isms_compliance_web::module(),
        isms_monitoring_web::module(),
        isms_training_web::module(),
        isms_drills_web::module(),
    ]
}

/// Loads the demo group and every module's demo data, unless companies exist already.
/// Returns whether it loaded.
pub async fn demo(app: &isms_app::App) -> isms_app::Result<bool> {
    let Some(group) = isms_org::demo::group(app).await? else { return Ok(false) };
    for m in modules() {
        if let Some(load) = m.demo {
            load(app, &group).await?;
        }
    }
    Ok(true)
}

/// What the assembly itself serves: operations, the language switch, the dashboard, the
/// audit trail and the API's own routes.
fn own() -> Module {
    use isms_core::Permission;
    use isms_webkit::Nav;
    use isms_webkit::i18n::Lang;
    Module {
        routes: routes::own,
        jobs: isms_app::audit::jobs,
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/home.ftl")), (Lang::En, include_str!("../locales/en/home.ftl"))],
        nav: &[
            Nav { order: 10, href: "/", key: "nav-home", perm: None },
            Nav { order: 130, href: "/audit", key: "nav-audit", perm: Some(Permission::AuditRead) },
        ],
        ..Module::new("home")
    }
}

/// The state every handler sees, with each module started.
pub fn state(app: App, config: WebConfig, metrics: Option<metrics_exporter_prometheus::PrometheusHandle>) -> Result<WebState, String> {
    WebState::new(app, config, metrics, &modules())
}

/// The message catalogs of every module.
pub fn catalogs() -> Result<i18n::Catalogs, String> {
    i18n::Catalogs::of(&modules())
}

/// The separate metrics listener's application: `/metrics` alone, for an address only
/// the monitoring network reaches.
pub fn metrics_router(handle: metrics_exporter_prometheus::PrometheusHandle) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(move || std::future::ready(ops::render_metrics(&handle))))
}

/// The whole HTTP application and the table of its routes.
pub fn router(state: WebState) -> (axum::Router, Vec<RouteSpec>) {
    routes::build(state)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_background_job_is_registered_once_by_its_module() {
        let jobs: Vec<_> = crate::modules().iter().flat_map(|m| (m.jobs)()).collect();
        let mut names: Vec<_> = jobs.iter().map(|j| j.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a job name is registered twice: {names:?}");
        for expected in [
            "audit.checkpoint",
            "accounts.prune",
            "assets.review-reminders",
            "incidents.clock-reminders",
            "monitoring.silence",
            "monitoring.escalation",
            "compliance.findings",
        ] {
            assert!(names.contains(&expected), "{expected} is not registered: {names:?}");
        }
        assert!(jobs.iter().all(|j| !j.every.is_zero()));
    }

    #[test]
    fn module_names_and_navigation_are_unique() {
        let modules = crate::modules();
        let mut names: Vec<_> = modules.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), modules.len());
        let mut hrefs: Vec<_> = modules.iter().flat_map(|m| m.nav.iter().map(|n| n.href)).collect();
        let count = hrefs.len();
        hrefs.sort_unstable();
        hrefs.dedup();
        assert_eq!(hrefs.len(), count);
    }

    /// The demo shows every screen: each module that keeps records brings its own (the
    /// organisation's module builds the group they hang on).
    #[tokio::test]
    async fn every_record_keeping_module_brings_demo_data_and_it_loads_once() {
        let modules = crate::modules();
        let with: Vec<_> = modules.iter().filter(|m| m.demo.is_some()).map(|m| m.name).collect();
        assert_eq!(with, ["assets", "policies", "incidents", "compliance", "monitoring", "training"]);
        let db = isms_testkit::TestDb::new(isms_testkit::Backend::Sqlite).await;
        let app = db.app();
        assert!(crate::demo(&app).await.unwrap());
        assert!(!crate::demo(&app).await.unwrap(), "a second load changes nothing");
    }
}
