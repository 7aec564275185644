//! The JSON API under `/api/v1`: the same use cases as the pages, as JSON, with an
//! OpenAPI 3.1 document at `/api/openapi.json` and a reference page at `/api/docs`.
//! Authenticate with `Authorization: Bearer <token>`, or with the browser session plus an
//! `X-CSRF-Token` header for changes.

pub mod audit;

use crate::context::Who;
use axum::Json;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::{Modify, OpenApi};

pub use isms_webkit::api::{FieldProblem, Page, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "isms API", description = "Information-security and personal-information protection management: organisation, people, accounts, the audit trail, the information asset register, notifications, the management system's documents, incident response, frameworks, controls, the Statement of Applicability and the risk register, and threat monitoring (events, detection rules, alerts)."),
    paths(me, audit::list),
    components(schemas(Problem, FieldProblem, Me)),
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

/// The whole document: this crate's part, every module's paths, then the security
/// schemes and the problem responses over all of them.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for m in crate::modules() {
        doc.merge((m.openapi)());
    }
    Security.modify(&mut doc);
    Problems.modify(&mut doc);
    doc
}

/// The document as served: assembled and written out once per process.
pub async fn openapi_json() -> axum::response::Response {
    static JSON: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    match JSON.get_or_init(|| document().to_json().map_err(|e| e.to_string())) {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/json")], body.as_str()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be written");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The interactive reference, served from the binary (works offline).
pub fn docs_router() -> axum::Router<crate::WebState> {
    axum::Router::from(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi-docs.json", document())).with_state(())
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

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// Merging the modules' parts keeps one schema per name: two modules that both define,
    /// say, `Progress` differently would have one overwrite the other, and the document
    /// would describe one module's answers with the other's shape.
    #[test]
    fn no_two_modules_define_a_schema_of_the_same_name_differently() {
        let mut seen: std::collections::HashMap<String, (String, String)> = std::collections::HashMap::new();
        let mut parts = vec![("home".to_owned(), super::ApiDoc::openapi())];
        parts.extend(crate::modules().into_iter().map(|m| (m.name.to_owned(), (m.openapi)())));
        let mut clashes = vec![];
        for (module, doc) in parts {
            for (name, schema) in doc.components.map(|c| c.schemas).unwrap_or_default() {
                let body = serde_json::to_string(&schema).unwrap_or_default();
                match seen.get(&name) {
                    Some((other, b)) if *b != body => clashes.push(format!("{name}: {other} and {module}")),
                    _ => {
                        seen.insert(name, (module.clone(), body));
                    }
                }
            }
        }
        assert!(seen.contains_key("CampaignProgress") && seen.contains_key("Progress"), "the modules' parts carry their schemas");
        assert!(clashes.is_empty(), "schemas defined twice: {clashes:?}");
    }
}
