//! Operational endpoints, headers and the API document.

use isms_testkit::{Need, TestServer, backends};
use reqwest::StatusCode;

#[tokio::test]
async fn health_readiness_and_headers() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let c = isms_testkit::client();
        assert_eq!(c.get(s.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
        assert_eq!(c.get(s.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
        let r = isms_testkit::client().get(s.url("/login")).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert!(h.get_all("set-cookie").iter().any(|v| v.to_str().unwrap().contains("HttpOnly")));
        let body = r.text().await.unwrap();
        assert!(!body.contains("<script>") && !body.contains("style=\""), "no inline script or style");
        let r = c.get(s.url("/api/v1/nothing-here")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    let c = isms_testkit::client();
    let doc: serde_json::Value = c.get(s.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for spec in s.routes.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &doc["paths"][spec.path][spec.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is missing from the OpenAPI document", spec.method, spec.path);
        if let Need::Perm(_) | Need::SignedIn = spec.need {
            assert!(doc["security"].is_array());
        }
    }
    let docs = c.get(s.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK, "the reference page is served from the binary");
}

#[tokio::test]
async fn language_follows_the_browser_then_the_choice() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    let c = isms_testkit::client();
    let ja = c.get(s.url("/login")).header("accept-language", "ja,en;q=0.5").send().await.unwrap().text().await.unwrap();
    assert!(ja.contains("lang=\"ja\"") && ja.contains("ログイン"));
    let en = c.get(s.url("/login")).header("accept-language", "en-GB").send().await.unwrap().text().await.unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Sign in"));
    let r = c.get(s.url("/lang/en?back=/login")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
    let r = c.get(s.url("/lang/en?back=//evil.example")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/", "no open redirect");
}
