//! Threat monitoring over HTTP: the event receiver, alerts, sources, detection rules,
//! threat intelligence and on call.

pub mod api;
pub mod pages;

use isms_core::Permission;
use isms_webkit::i18n::Lang;
use isms_webkit::{Module, Nav, Table, WebConfig, WebState};
use std::sync::{Arc, OnceLock};

/// Where received events go: the in-process pipeline that matches them and writes their
/// alerts, or, once NATS JetStream is configured, the stream the workers read.
#[derive(Clone)]
pub struct Ingest {
    pub pipeline: isms_monitoring::pipeline::Pipeline,
    pub bus: Arc<OnceLock<Arc<isms_ingest::bus::Bus>>>,
}

/// The event receiver's state, set up when the application started.
pub fn ingest(state: &WebState) -> Option<&Ingest> {
    state.get::<Ingest>()
}

fn start(app: &isms_kernel::App, config: &WebConfig, ext: &mut axum::http::Extensions) {
    let config = isms_monitoring::pipeline::PipelineConfig { max_inflight: config.max_inflight_batches, ..Default::default() };
    let pipeline = isms_monitoring::pipeline::Pipeline::start(app.clone(), config);
    ext.insert(Ingest { pipeline, bus: Arc::new(OnceLock::new()) });
}

/// The module as the application assembles it.
pub fn module() -> Module {
    Module {
        routes,
        openapi: || <api::Api as utoipa::OpenApi>::openapi(),
        catalogs: &[(Lang::Ja, include_str!("../locales/ja/monitoring.ftl")), (Lang::En, include_str!("../locales/en/monitoring.ftl"))],
        nav: &[Nav { order: 20, href: "/monitoring", key: "nav-monitoring", perm: Some(Permission::MonitoringRead) }],
        start,
        demo: Some(|app, group| Box::pin(isms_monitoring::demo::load(app, group))),
        jobs: isms_monitoring::jobs,
        ..Module::new("monitoring")
    }
}

fn routes(t: Table) -> Table {
    use Permission::*;
    use axum::routing::{delete, get, post, put};
    use isms_webkit::Need::*;
    t
        // threat monitoring
        .get("/monitoring", Perm(MonitoringRead), get(pages::monitoring::queue))
        .get("/monitoring/queue", Perm(MonitoringRead), get(pages::monitoring::queue_rows))
        .get("/monitoring/overview", Perm(MonitoringRead), get(pages::monitoring::overview))
        .get("/monitoring/events", Perm(MonitoringRead), get(pages::monitoring::events))
        .get("/monitoring/alerts/{id}", Perm(MonitoringRead), get(pages::monitoring::alert))
        .post("/monitoring/alerts/{id}/step", Perm(MonitoringManage), post(pages::monitoring::step))
        .post("/monitoring/alerts/{id}/assign", Perm(MonitoringManage), post(pages::monitoring::assign))
        .post("/monitoring/alerts/{id}/escalate", Perm(MonitoringManage), post(pages::monitoring::escalate))
        .post("/monitoring/alerts/{id}/suppress", Perm(MonitoringManage), post(pages::monitoring::suppress))
        .post("/monitoring/suppressions/{id}/lift", Perm(MonitoringManage), post(pages::monitoring::lift))
        .get("/monitoring/sources", Perm(MonitoringRead), get(pages::monitoring::sources))
        .post("/monitoring/sources", Perm(MonitoringManage), post(pages::monitoring::create_source))
        .get("/monitoring/sources/{id}", Perm(MonitoringRead), get(pages::monitoring::source))
        .post("/monitoring/sources/{id}/edit", Perm(MonitoringManage), post(pages::monitoring::update_source))
        .post("/monitoring/sources/{id}/token", Perm(MonitoringManage), post(pages::monitoring::rotate_token))
        .get("/monitoring/rules", Perm(MonitoringRead), get(pages::monitoring::rules_list))
        .post("/monitoring/rules/import", Perm(RulesManage), post(pages::monitoring::import_rules))
        .post("/monitoring/rules/check", Perm(MonitoringRead), post(pages::monitoring::check_rule))
        .get("/monitoring/rules/new", Perm(RulesManage), get(pages::monitoring::new_rule))
        .post("/monitoring/rules/new", Perm(RulesManage), post(pages::monitoring::create_rule))
        .get("/monitoring/rules/{id}", Perm(MonitoringRead), get(pages::monitoring::rule))
        .post("/monitoring/rules/{id}/edit", Perm(RulesManage), post(pages::monitoring::update_rule))
        .post("/monitoring/rules/{id}/enabled", Perm(RulesManage), post(pages::monitoring::set_enabled))
        .post("/monitoring/rules/{id}/overrides", Perm(MonitoringManage), post(pages::monitoring::add_override))
        .post("/monitoring/rules/{id}/overrides/{override}/delete", Perm(MonitoringManage), post(pages::monitoring::remove_override))
        .get("/monitoring/intel", Perm(MonitoringRead), get(pages::intel::feeds))
        .post("/monitoring/intel", Perm(RulesManage), post(pages::intel::create_feed))
        .post("/monitoring/intel/export", Perm(RulesManage), post(pages::intel::export))
        .get("/monitoring/intel/{id}", Perm(MonitoringRead), get(pages::intel::feed))
        .post("/monitoring/intel/{id}/edit", Perm(RulesManage), post(pages::intel::update_feed))
        .post("/monitoring/intel/{id}/delete", Perm(RulesManage), post(pages::intel::delete_feed))
        .post("/monitoring/intel/{id}/import", Perm(RulesManage), post(pages::intel::import))
        .post("/monitoring/intel/{id}/pull", Perm(RulesManage), post(pages::intel::pull))
        .get("/monitoring/raw-events", Perm(MonitoringRead), get(pages::monitoring::raw_events))
        .get("/monitoring/oncall", Perm(MonitoringRead), get(pages::oncall::rotations))
        .post("/monitoring/oncall", Perm(MonitoringManage), post(pages::oncall::create))
        .get("/monitoring/oncall/{id}", Perm(MonitoringRead), get(pages::oncall::rotation))
        .post("/monitoring/oncall/{id}/edit", Perm(MonitoringManage), post(pages::oncall::update))
        .post("/monitoring/oncall/{id}/delete", Perm(MonitoringManage), post(pages::oncall::delete))
        .post("/monitoring/oncall/{id}/covers", Perm(MonitoringManage), post(pages::oncall::add_cover))
        .post("/monitoring/oncall/{id}/covers/{cover}/delete", Perm(MonitoringManage), post(pages::oncall::remove_cover))
        .post("/api/v1/events", SourceToken, post(api::monitoring::ingest))
        .get("/api/v1/event-sources", Perm(MonitoringRead), get(api::monitoring::list_sources))
        .post("/api/v1/event-sources", Perm(MonitoringManage), post(api::monitoring::create_source))
        .get("/api/v1/event-sources/{id}", Perm(MonitoringRead), get(api::monitoring::show_source))
        .put("/api/v1/event-sources/{id}", Perm(MonitoringManage), put(api::monitoring::update_source))
        .post("/api/v1/event-sources/{id}/token", Perm(MonitoringManage), post(api::monitoring::rotate_token))
        .get("/api/v1/dead-letters", Perm(MonitoringRead), get(api::monitoring::dead_letters))
        .get("/api/v1/detection-rules", Perm(MonitoringRead), get(api::monitoring::list_rules))
        .post("/api/v1/detection-rules", Perm(RulesManage), post(api::monitoring::create_rule))
        .post("/api/v1/detection-rules/import", Perm(RulesManage), post(api::monitoring::import_rules))
        .post("/api/v1/detection-rules/check", Perm(MonitoringRead), post(api::monitoring::check_rule))
        .get("/api/v1/detection-rules/{id}", Perm(MonitoringRead), get(api::monitoring::show_rule))
        .put("/api/v1/detection-rules/{id}", Perm(RulesManage), put(api::monitoring::update_rule))
        .post("/api/v1/detection-rules/{id}/enabled", Perm(RulesManage), post(api::monitoring::set_enabled))
        .post("/api/v1/detection-rules/{id}/overrides", Perm(MonitoringManage), post(api::monitoring::add_override))
        .delete("/api/v1/detection-rules/{id}/overrides/{override}", Perm(MonitoringManage), delete(api::monitoring::remove_override))
        .get("/api/v1/intel/feeds", Perm(MonitoringRead), get(api::intel::list_feeds))
        .post("/api/v1/intel/feeds", Perm(RulesManage), post(api::intel::create_feed))
        .get("/api/v1/intel/feeds/{id}", Perm(MonitoringRead), get(api::intel::show_feed))
        .put("/api/v1/intel/feeds/{id}", Perm(RulesManage), put(api::intel::update_feed))
        .delete("/api/v1/intel/feeds/{id}", Perm(RulesManage), delete(api::intel::delete_feed))
        .post("/api/v1/intel/feeds/{id}/import", Perm(RulesManage), post(api::intel::import))
        .post("/api/v1/intel/feeds/{id}/pull", Perm(RulesManage), post(api::intel::pull))
        .get("/api/v1/intel/indicators", Perm(MonitoringRead), get(api::intel::list_indicators))
        .get("/api/v1/intel/sightings", Perm(MonitoringRead), get(api::intel::list_sightings))
        .get("/api/v1/intel/sightings/stix", Perm(RulesManage), get(api::intel::export_sightings))
        .get("/api/v1/alerts", Perm(MonitoringRead), get(api::monitoring::list_alerts))
        .get("/api/v1/alert-events", Perm(MonitoringRead), get(api::monitoring::search_events))
        .post("/api/v1/alerts/{id}/suppress", Perm(MonitoringManage), post(api::monitoring::suppress_alert))
        .get("/api/v1/alerts/{id}/suppressions", Perm(MonitoringRead), get(api::monitoring::alert_suppressions))
        .get("/api/v1/raw-events", Perm(MonitoringRead), get(api::monitoring::search_raw_events))
        .get("/api/v1/alerts/{id}/pages", Perm(MonitoringRead), get(api::oncall::alert_pages))
        .get("/api/v1/oncall/rotations", Perm(MonitoringRead), get(api::oncall::list))
        .post("/api/v1/oncall/rotations", Perm(MonitoringManage), post(api::oncall::create))
        .get("/api/v1/oncall/rotations/{id}", Perm(MonitoringRead), get(api::oncall::show))
        .put("/api/v1/oncall/rotations/{id}", Perm(MonitoringManage), put(api::oncall::update))
        .delete("/api/v1/oncall/rotations/{id}", Perm(MonitoringManage), delete(api::oncall::delete))
        .post("/api/v1/oncall/rotations/{id}/covers", Perm(MonitoringManage), post(api::oncall::add_cover))
        .delete("/api/v1/oncall/covers/{id}", Perm(MonitoringManage), delete(api::oncall::remove_cover))
        .post("/api/v1/alert-suppressions/{id}/lift", Perm(MonitoringManage), post(api::monitoring::lift_suppression))
        .get("/api/v1/monitoring/overview", Perm(MonitoringRead), get(api::monitoring::overview))
        .get("/api/v1/alerts/{id}", Perm(MonitoringRead), get(api::monitoring::show_alert))
        .post("/api/v1/alerts/{id}/step", Perm(MonitoringManage), post(api::monitoring::step_alert))
        .post("/api/v1/alerts/{id}/assign", Perm(MonitoringManage), post(api::monitoring::assign_alert))
        .post("/api/v1/alerts/{id}/escalate", Perm(MonitoringManage), post(api::monitoring::escalate_alert))
}
