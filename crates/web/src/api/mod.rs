//! The JSON API under `/api/v1`: the same use cases as the pages, as JSON, with an
//! OpenAPI 3.1 document at `/api/openapi.json` and a reference page at `/api/docs`.
//! Authenticate with `Authorization: Bearer <token>`, or with the browser session plus an
//! `X-CSRF-Token` header for changes.

pub mod assets;
pub mod audit;
pub mod compliance;
pub mod incidents;
pub mod intel;
pub mod monitoring;
pub mod notices;
pub mod oncall;
pub mod org;
pub mod people;
pub mod policies;
pub mod risks;
pub mod users;

use crate::context::Who;
use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "isms API", description = "Information-security and personal-information protection management: organisation, people, accounts, the audit trail, the information asset register, notifications, the management system's documents, incident response, frameworks, controls, the Statement of Applicability and the risk register, and threat monitoring (events, detection rules, alerts)."),
    paths(
        me,
        notices::list, notices::read,
        incidents::list, incidents::report, incidents::show, incidents::facts, incidents::transition, incidents::note, incidents::member, incidents::clock_done, incidents::running,
        incidents::add_action, incidents::step_action, incidents::overdue_actions, incidents::add_observables, incidents::add_evidence, incidents::hand_over,
        incidents::list_playbooks, incidents::playbook_history, incidents::save_playbook, incidents::start_playbook, incidents::task_done,
        incidents::kpis, incidents::drills, incidents::plan_drill, incidents::draft_release, incidents::edit_release, incidents::approve_release, incidents::mark_released,
        org::list_companies, org::create_company, org::list_departments, org::create_department,
        people::list, people::create, people::show, people::update, people::deactivate,
        users::list, users::create, users::show, users::set_grants, users::roles,
        audit::list,
        assets::list_assets, assets::create_asset, assets::show_asset, assets::update_asset, assets::delete_asset, assets::review_asset, assets::import_assets,
        assets::list_supports, assets::create_support, assets::show_support, assets::update_support, assets::delete_support,
        assets::list_categories, assets::create_category, assets::show_category, assets::update_category, assets::delete_category,
        assets::list_findings, assets::show_finding, assets::accept_finding, assets::resolve_finding, assets::recheck,
        assets::list_takeouts, assets::request_takeout, assets::show_takeout, assets::decide_takeout, assets::close_takeout,
        policies::list, policies::create, policies::show, policies::update, policies::new_version, policies::show_version, policies::edit_version,
        policies::submit, policies::withdraw, policies::decide, policies::publish, policies::attach, policies::acknowledge, policies::progress,
        policies::remind, policies::review, policies::retire, policies::compare, policies::kinds, policies::set_kind, policies::public_list, policies::public_show,
        compliance::list_frameworks, compliance::create_framework, compliance::show_framework, compliance::import_framework, compliance::import_mappings,
        compliance::put_requirement, compliance::show_requirement, compliance::delete_requirement,
        compliance::list_controls, compliance::create_control, compliance::show_control, compliance::update_control, compliance::review_control,
        compliance::add_link, compliance::add_file, compliance::remove_evidence,
        compliance::statement, compliance::decide, compliance::assessment, compliance::export,
        risks::list, risks::create, risks::heat_map, risks::show, risks::update, risks::accept, risks::set_status, risks::review, risks::add_action, risks::action_done,
        risks::matrix, risks::set_matrix, risks::findings,
        monitoring::ingest, monitoring::list_sources, monitoring::create_source, monitoring::show_source, monitoring::update_source, monitoring::rotate_token,
        monitoring::dead_letters, monitoring::list_rules, monitoring::create_rule, monitoring::show_rule, monitoring::update_rule, monitoring::import_rules,
        monitoring::check_rule, monitoring::set_enabled, monitoring::add_override, monitoring::remove_override,
        monitoring::list_alerts, monitoring::overview, monitoring::show_alert, monitoring::step_alert, monitoring::assign_alert, monitoring::escalate_alert,
        monitoring::suppress_alert, monitoring::alert_suppressions, monitoring::lift_suppression, monitoring::search_events, monitoring::search_raw_events,
        intel::list_feeds, intel::create_feed, intel::show_feed, intel::update_feed, intel::delete_feed, intel::import, intel::pull,
        intel::list_indicators, intel::list_sightings, intel::export_sightings,
        oncall::list, oncall::create, oncall::show, oncall::update, oncall::delete, oncall::add_cover, oncall::remove_cover, oncall::alert_pages,
    ),
    components(schemas(Problem, FieldProblem, Me)),
    modifiers(&Security, &Problems),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token issued under Administration → API tokens")).build(),
            ),
        );
        c.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("isms_session"))));
        c.add_security_scheme(
            "source_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An event source's token (isms_src_…), issued when the source is created"))
                    .build(),
            ),
        );
    }
}

/// Every error the API answers is a problem+json body: each operation documents the
/// refusals every route may give (a malformed body, sign-in, permission, a missing record,
/// the wrong media type, a field error, a lock or a full pipeline) with that type, and any
/// response an operation declares with the `Problem` body is moved to that type too.
struct Problems;

impl utoipa::Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        const TYPE: &str = "application/problem+json";
        let common = [
            ("400", "The body is not one JSON value"),
            ("401", "Sign-in or an API token is required"),
            ("403", "Not permitted, or the CSRF token is missing"),
            ("404", "No such record, or not within the caller's reach"),
            ("409", "A conflict with the record's state"),
            ("413", "The body is too large"),
            ("415", "The body is not JSON"),
            ("422", "Fields that are not valid, each named"),
            ("429", "Too many attempts or batches; try again after Retry-After"),
            ("503", "Unavailable for a moment; try again after Retry-After"),
        ];
        let problem = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
                for r in op.responses.responses.values_mut() {
                    if let RefOr::T(r) = r {
                        let is_problem = r
                            .content
                            .values()
                            .any(|c| matches!(c, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(x)) if x.ref_location.ends_with("/Problem"))));
                        if is_problem {
                            r.content = [(TYPE.to_owned(), RefOr::T(problem()))].into_iter().collect();
                        }
                    }
                }
                for (code, what) in common {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(what).content(TYPE, problem()).build()));
                }
            }
        }
    }
}

/// RFC 9457 problem details.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub r#type: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub pointer: String,
    pub message: String,
    /// A stable code of the refusal (its message in the catalogs is `err-<code>`).
    pub code: String,
}

pub async fn openapi_json() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}

/// The interactive reference, served from the binary (works offline).
pub fn docs_router() -> axum::Router<crate::WebState> {
    axum::Router::from(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi-docs.json", ApiDoc::openapi())).with_state(())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub actor: String,
    pub name: String,
    pub roles: Vec<isms_core::Role>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(Who(who): Who) -> Json<Me> {
    Json(Me { actor: who.actor, name: who.name, roles: who.access.roles().into_iter().collect(), locale: who.locale, time_zone: who.time_zone })
}

/// A page of results.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T: utoipa::ToSchema> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}
