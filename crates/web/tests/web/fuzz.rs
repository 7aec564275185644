#![allow(clippy::result_large_err)] // proptest cases fail with the response seen
//! Random bodies and query strings against every API route: the answer may be any 2xx,
//! 3xx or 4xx, never a 5xx.

use isms_core::Role;
use isms_testkit::{TestServer, backends, grant, user_session};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("employee_number"),
            Just("company_id"),
            Just("role"),
            Just("ciso"),
            Just("2024-02-30"),
            Just(""),
            Just("electronic"),
            Just("cloud_service"),
            Just("with_approval")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::hash_map(
                prop_oneof![
                    Just("employee_number".to_owned()),
                    Just("name".to_owned()),
                    Just("email".to_owned()),
                    Just("company_id".to_owned()),
                    Just("department_id".to_owned()),
                    Just("manager_id".to_owned()),
                    Just("status".to_owned()),
                    Just("joined_on".to_owned()),
                    Just("code".to_owned()),
                    Just("username".to_owned()),
                    Just("password".to_owned()),
                    Just("grants".to_owned()),
                    Just("role".to_owned()),
                    Just("left_on".to_owned()),
                    Just("category_id".to_owned()),
                    Just("medium".to_owned()),
                    Just("kind".to_owned()),
                    Just("rules".to_owned()),
                    Just("supports".to_owned()),
                    Just("reason".to_owned()),
                    Just("expires_on".to_owned()),
                    Just("approve".to_owned()),
                    Just("return_by".to_owned()),
                    "[a-z_]{1,12}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("q"),
                Just("limit"),
                Just("offset"),
                Just("sort"),
                Just("dir"),
                Just("company_id"),
                Just("status"),
                Just("before_seq"),
                Just("from_ms"),
                Just("action")
            ],
            prop_oneof!["\\PC{0,12}", any::<i64>().prop_map(|n| n.to_string()), Just("-1".to_owned()), Just("18446744073709551616".to_owned())],
        ),
        0..4,
    )
    .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={}", isms_web::context::url_encode(&v))).collect::<Vec<_>>().join("&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_answers_random_input_without_5xx() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let admin = user_session(&s.app, "fuzz-admin", vec![grant(Role::SystemAdministrator, None), grant(Role::Ciso, None)], None).await;
        let sys = isms_app::Principal::system();
        let person = isms_app::people::list(&s.app, &sys, &isms_store::org::PeopleQuery { limit: 1, ..Default::default() }).await.unwrap().items[0].id.clone();
        let routes: Vec<_> = s.routes.iter().filter(|r| r.path.starts_with("/api/v1/")).cloned().collect();
        let handle = tokio::runtime::Handle::current();
        let cases = if b == isms_testkit::Backend::Sqlite { 300 } else { 60 };
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        let base = s.base.clone();
        let client = admin.client.clone();
        let csrf = admin.csrf.clone();
        let result = tokio::task::spawn_blocking(move || {
            runner.run(&(json_value(), query(), 0..routes.len(), any::<bool>()), |(body, q, i, raw)| {
                let r = &routes[i];
                let path = r.path.replace("{id}", if r.path.contains("people") { &person } else { "not-an-id" });
                let url = format!("{base}{path}?{q}");
                let status = handle.block_on(async {
                    let req = client.request(r.method.clone(), &url).header("x-csrf-token", &csrf);
                    let req = if r.method == Method::GET {
                        req
                    } else if raw {
                        req.header("content-type", "application/json").body(body.to_string().chars().rev().collect::<String>())
                    } else {
                        req.json(&body)
                    };
                    req.send().await.unwrap().status()
                });
                prop_assert!(!status.is_server_error(), "{} {} with {} answered {}", r.method, url, body, status);
                Ok(())
            })
        })
        .await
        .unwrap();
        if let Err(e) = result {
            panic!("{b:?}: {e}");
        }
        s.db.drop_schema().await;
    }
}
