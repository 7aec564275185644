//! The table of routes: each declares what it needs (public, signed in, or a
//! permission), and the check runs before its handler. The authorization matrix test
//! reads this same table, so a new route cannot escape it.

use crate::WebState;
use crate::context::{self, Ctx};
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

/// The routes being assembled: each module adds its own with what they need.
pub struct Table {
    pub router: Router<WebState>,
    pub specs: Vec<RouteSpec>,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new() -> Self {
        Self { router: Router::new(), specs: vec![] }
    }
    pub fn add(mut self, method: Method, path: &'static str, need: Need, handler: MethodRouter<WebState>) -> Self {
        self.specs.push(RouteSpec { method, path, need });
        let guarded = handler.route_layer(middleware::from_fn(move |req: Request, next: Next| require(need, req, next)));
        self.router = self.router.route(path, guarded);
        self
    }
    pub fn get(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::GET, path, need, h)
    }
    pub fn post(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::POST, path, need, h)
    }
    pub fn put(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::PUT, path, need, h)
    }
    pub fn delete(self, path: &'static str, need: Need, h: MethodRouter<WebState>) -> Self {
        self.add(Method::DELETE, path, need, h)
    }
}

pub async fn require(need: Need, req: Request, next: Next) -> Response {
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

/// So the state extractor can be used in handlers of the table.
pub type AppState = State<WebState>;
