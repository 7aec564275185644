#![allow(clippy::result_large_err)] // handlers refuse with the response itself
//! A TAXII 2.1 server for tests: discovery, one API root, one collection, objects pages
//! filtered by `added_after` and continued with `next`, HTTP basic authentication, and a
//! switch that makes it answer garbage, so a failing feed can be shown.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The id of the server's one collection.
pub const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const MEDIA: &str = "application/taxii+json;version=2.1";

#[derive(Default)]
struct Inner {
    /// `(date_added, object)`, in the order added.
    objects: Vec<(String, Value)>,
    user: String,
    password: String,
    page_size: usize,
    broken: bool,
    /// The query strings of object requests, as received.
    requests: Vec<String>,
}

#[derive(Clone)]
pub struct TaxiiServer {
    /// The discovery address.
    pub url: String,
    pub api_root: String,
    inner: Arc<Mutex<Inner>>,
}

impl TaxiiServer {
    /// Starts on a free local port; requests need `user` and `password`.
    pub async fn start(user: &str, password: &str, page_size: usize) -> TaxiiServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let inner = Arc::new(Mutex::new(Inner { user: user.into(), password: password.into(), page_size: page_size.max(1), ..Default::default() }));
        let st = (inner.clone(), base.clone());
        let app = Router::new()
            .route("/taxii2/", get(discovery))
            .route("/api1/", get(api_root))
            .route("/api1/collections/", get(collections))
            .route("/api1/collections/{id}/objects/", get(objects))
            .with_state(st);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TaxiiServer { url: format!("{base}/taxii2/"), api_root: format!("{base}/api1/"), inner }
    }

    /// Adds an object to the collection as added at `date_added` (RFC 3339).
    pub fn add(&self, date_added: &str, object: Value) {
        self.inner.lock().expect("lock").objects.push((date_added.into(), object));
    }

    /// From now on, every answer is a server error (`true`) or normal again.
    pub fn set_broken(&self, broken: bool) {
        self.inner.lock().expect("lock").broken = broken;
    }

    /// Query strings of the object requests so far.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().expect("lock").requests.clone()
    }
}

type St = (Arc<Mutex<Inner>>, String);

fn authorized(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    use base64::Engine as _;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", inner.user, inner.password)));
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
        Ok(())
    } else {
        Err((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"taxii\"")], "").into_response())
    }
}

fn taxii(v: Value, extra: Vec<(&'static str, String)>) -> Response {
    let mut r = ([(header::CONTENT_TYPE, MEDIA)], v.to_string()).into_response();
    for (k, val) in extra {
        if let Ok(h) = val.parse() {
            r.headers_mut().insert(k, h);
        }
    }
    r
}

fn guard(inner: &Inner, headers: &HeaderMap) -> Result<(), Response> {
    if inner.broken {
        return Err((StatusCode::INTERNAL_SERVER_ERROR, "<html>upstream exploded</html>").into_response());
    }
    authorized(inner, headers)
}

async fn discovery(State((inner, base)): State<St>, headers: HeaderMap) -> Response {
    if let Err(r) = guard(&inner.lock().expect("lock"), &headers) {
        return r;
    }
    taxii(json!({"title": "Test ISAC TAXII", "default": format!("{base}/api1/"), "api_roots": [format!("{base}/api1/")]}), vec![])
}

async fn api_root(State((inner, _)): State<St>, headers: HeaderMap) -> Response {
    if let Err(r) = guard(&inner.lock().expect("lock"), &headers) {
        return r;
    }
    taxii(json!({"title": "Indicators", "versions": [MEDIA], "max_content_length": 10_485_760}), vec![])
}

async fn collections(State((inner, _)): State<St>, headers: HeaderMap) -> Response {
    if let Err(r) = guard(&inner.lock().expect("lock"), &headers) {
        return r;
    }
    taxii(json!({"collections": [{"id": COLLECTION, "title": "ISAC indicators", "can_read": true, "can_write": false, "media_types": [MEDIA]}]}), vec![])
}

async fn objects(State((inner, _)): State<St>, headers: HeaderMap, Path(id): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = inner.lock().expect("lock");
    if let Err(r) = guard(&inner, &headers) {
        return r;
    }
    if id != COLLECTION {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    let mut query: Vec<String> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
    query.sort();
    inner.requests.push(query.join("&"));
    let after = q.get("added_after").cloned().unwrap_or_default();
    let start: usize = q.get("next").and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut matching: Vec<&(String, Value)> = inner.objects.iter().filter(|(d, _)| after.is_empty() || d.as_str() > after.as_str()).collect();
    matching.sort_by(|a, b| a.0.cmp(&b.0));
    let page: Vec<&(String, Value)> = matching.iter().skip(start).take(inner.page_size).copied().collect();
    let more = start + page.len() < matching.len();
    let mut body = json!({"more": more, "objects": page.iter().map(|(_, o)| o.clone()).collect::<Vec<_>>()});
    if more {
        body["next"] = json!((start + page.len()).to_string());
    }
    let mut extra = vec![];
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        extra.push(("x-taxii-date-added-first", first.0.clone()));
        extra.push(("x-taxii-date-added-last", last.0.clone()));
    }
    taxii(body, extra)
}
