//! The one table of routes: each declares what it needs (public, signed in, or a
//! permission), and the check runs before its handler. The authorization matrix test
//! reads this same table, so a new route cannot escape it.

use crate::context::{self, Ctx};
use crate::{WebState, api, ops, pages};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use isms_core::Permission;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (health, public pages, sign-in).
    Public,
    /// A session that has passed the password but may still owe its second factor.
    Pending,
    /// Any fully signed-in user.
    SignedIn,
    /// A signed-in user or token holding this permission for some scope.
    Perm(Permission),
    /// An event source's token, checked by the handler (the event receiver).
    SourceToken,
    /// The configured metrics token, checked by the handler; never a session.
    MetricsToken,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
}

struct Table {
    router: Router<WebState>,
    specs: Vec<RouteSpec>,
}

impl Table {
    fn add(mut self, method: Method, path: &'static str, need: Need, handler: MethodRouter<WebState>) -> Self {
        self.specs.push(RouteSpec { method, path, need });
        let guarded = handler.route_layer(middleware::from_fn(move |req: Request, next: Next| require(need, req, next)));
        self.router = self.router.route(path, guarded);
        self
    }
    fn get(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::GET, path, need, h)
    }
    fn post(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::POST, path, need, h)
    }
    fn put(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::PUT, path, need, h)
    }
    fn delete(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::DELETE, path, need, h)
    }
}

async fn require(need: Need, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let allowed = match need {
        Need::Public | Need::SourceToken | Need::MetricsToken => true,
        Need::Pending => ctx.principal.is_some() || ctx.pending.is_some(),
        Need::SignedIn => ctx.principal.is_some(),
        Need::Perm(p) => ctx.principal.as_ref().is_some_and(|w| w.access.can(p)),
    };
    if allowed {
        return next.run(req).await;
    }
    if ctx.principal.is_none() {
        if ctx.is_api {
            return crate::error::problem(StatusCode::UNAUTHORIZED, "unauthenticated", "sign-in or an API token is required", vec![]);
        }
        if ctx.pending.is_some() {
            let to = if ctx.session.as_ref().is_some_and(|s| s.needs_enrolment) { "/account/totp" } else { "/login/totp" };
            return Redirect::to(to).into_response();
        }
        let next_url = format!("/login?next={}", context::url_encode(&ctx.path_and_query));
        return if ctx.is_htmx { ([("HX-Redirect", next_url)], StatusCode::UNAUTHORIZED).into_response() } else { Redirect::to(&next_url).into_response() };
    }
    crate::error::forbidden(&ctx)
}

pub fn build(state: WebState) -> (Router, Vec<RouteSpec>) {
    use Need::*;
    use Permission::*;
    use axum::routing::{delete, get, post, put};
    let t = Table { router: Router::new(), specs: vec![] }
        // operations and static files
        .get("/healthz", Public, get(ops::healthz))
        .get("/readyz", Public, get(ops::readyz))
        .get("/metrics", MetricsToken, get(ops::metrics))
        .get("/static/{file}", Public, get(ops::static_file))
        .get("/lang/{code}", Public, get(pages::shell::switch_language))
        .post("/lang/{code}", Public, post(pages::shell::choose_language))
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
        // the user's own account
        .get("/", SignedIn, get(pages::home::dashboard))
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
        // incidents
        .get("/incidents", SignedIn, get(pages::incidents::list))
        .get("/incidents/report", SignedIn, get(pages::incidents::report_form))
        .get("/incidents/playbooks", Perm(IncidentsRead), get(pages::incidents::playbooks))
        .get("/incidents/kpis", Perm(IncidentsRead), get(pages::incidents::kpis))
        .get("/incidents/drills", Perm(IncidentsRead), get(pages::incidents::drills))
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
        .post("/incidents/{id}/actions/{action}/step", SignedIn, post(pages::incidents::step_action))
        .post("/incidents/{id}/observables", Perm(IncidentsManage), post(pages::incidents::add_observables))
        .post("/incidents/{id}/evidence", Perm(IncidentsManage), post(pages::incidents::add_evidence))
        .get("/incidents/{id}/evidence/{evidence}", Perm(IncidentsManage), get(pages::incidents::evidence_file))
        .post("/incidents/{id}/evidence/{evidence}/hand-over", Perm(IncidentsManage), post(pages::incidents::hand_over))
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
        .get("/audit", Perm(AuditRead), get(pages::audit::list))
        .get("/audit/export.csv", Perm(AuditExport), get(pages::audit::export))
        // JSON API
        .get("/api/openapi.json", Public, get(api::openapi_json))
        .get("/api/v1/me", SignedIn, get(api::me))
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
        .get("/api/v1/audit", Perm(AuditRead), get(api::audit::list))
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
        .post("/api/v1/incidents/{id}/releases", Perm(IncidentsManage), post(api::incidents::draft_release))
        .put("/api/v1/incidents/{id}/releases/{release}", Perm(IncidentsManage), put(api::incidents::edit_release))
        .post("/api/v1/incidents/{id}/releases/{release}/approve", Perm(IncidentsManage), post(api::incidents::approve_release))
        .post("/api/v1/incidents/{id}/releases/{release}/released", Perm(IncidentsManage), post(api::incidents::mark_released));
    let specs = t.specs;
    let router = t
        .router
        .merge(api::docs_router())
        .fallback(pages::shell::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), crate::input::refuse_control_characters))
        .layer(middleware::from_fn_with_state(state.clone(), context::middleware))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(crate::error::panic_response))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, std::time::Duration::from_secs(120)))
        .layer(middleware::from_fn(ops::track))
        .layer(middleware::from_fn(ops::close_if_unread))
        .with_state(state);
    (router, specs)
}

/// So the state extractor can be used in handlers of the table.
pub type AppState = State<WebState>;
