//! The authorization matrix: every route in the router's table × every role (granted
//! group-wide), plus users of another company, against the outcome the permission table
//! predicts. Lists and exports are checked for records outside the reader's scope.

use isms_core::{Permission, Role};
use isms_testkit::{Need, TestServer, backends, grant, session_for, user_session};
use reqwest::{Method, StatusCode};

struct Fixture {
    person_a: String,
    person_a_number: String,
    user_a: String,
    token_a: String,
    company_a: String,
    asset_a: String,
    support_a: String,
    finding_a: String,
    category: String,
    control_a: String,
    risk_a: String,
    alert_a: String,
    source_a: String,
    rule: String,
    feed: String,
}

async fn fixture(s: &TestServer) -> Fixture {
    s.demo().await;
    let sys = isms_app::Principal::system();
    let companies = isms_app::org::list_companies(&s.app, &sys).await.unwrap();
    let a = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
    let people =
        isms_app::people::list(&s.app, &sys, &isms_store::org::PeopleQuery { company_id: Some(a.clone()), limit: 100, ..Default::default() }).await.unwrap();
    let person = people.items.iter().find(|p| !p.employee_number.is_empty()).unwrap().clone();
    let users = isms_app::accounts::list_users(&s.app, &sys).await.unwrap();
    let user_a = users.iter().find(|u| u.company_id.as_deref() == Some(a.as_str())).unwrap().id.clone();
    let admin = user_session(&s.app, "matrix-admin", vec![grant(Role::SystemAdministrator, None)], None).await;
    let (adm, _) = isms_app::accounts::session_principal(&s.app, &admin.cookie).await.unwrap();
    let (tok, _) = isms_app::accounts::create_token(
        &s.app,
        &adm,
        isms_app::accounts::NewToken { name: "t".into(), role: Role::Hr, companies: vec![a.clone()], expires_in_days: 5 },
    )
    .await
    .unwrap();
    let assets = isms_app::assets::register::list(&s.app, &sys, &isms_store::assets::AssetQuery { limit: 100, ..Default::default() }).await.unwrap();
    let asset = assets.items.iter().find(|x| x.company_id == a && x.name == "旅客予約記録").unwrap().clone();
    let findings =
        isms_app::assets::conformance::list(&s.app, &sys, &isms_store::assets::FindingQuery { company_id: Some(a.clone()), limit: 10, ..Default::default() })
            .await
            .unwrap();
    let category = isms_app::assets::categories::list(&s.app, &sys).await.unwrap()[0].id.clone();
    let control = isms_app::compliance::controls::create(
        &s.app,
        &sys,
        isms_app::compliance::ControlInput {
            code: "CTL-AZA-1".into(),
            title: "Airline-only badge checks".into(),
            company_id: Some(a.clone()),
            owner_id: person.employee_number.clone(),
            status: "planned".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let risks =
        isms_app::risks::list(&s.app, &sys, &isms_app::risks::RiskQuery { company_id: Some(a.clone()), limit: 10, ..Default::default() }).await.unwrap();
    // The demo's monitoring: an AZA source with alerts, and the group's rules.
    let source_a =
        isms_app::monitoring::sources::list(&s.app, &sys).await.unwrap().into_iter().find(|x| x.company_id.as_deref() == Some(a.as_str())).unwrap().id;
    let alert_a = isms_app::monitoring::alerts::list(&s.app, &sys, &Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|x| x.company_id.as_deref() == Some(a.as_str()))
        .unwrap()
        .id;
    let rule = isms_app::monitoring::rules::list(&s.app, &sys, &Default::default()).await.unwrap().items[0].id.clone();
    let feed = isms_app::monitoring::intel::list_feeds(&s.app, &sys).await.unwrap()[0].id.clone();
    Fixture {
        person_a: person.id,
        person_a_number: person.employee_number,
        user_a,
        token_a: tok.id,
        company_a: a,
        support_a: asset.supports[0].clone(),
        asset_a: asset.id,
        finding_a: findings.items[0].id.clone(),
        category,
        control_a: control.id,
        risk_a: risks.items[0].id.clone(),
        alert_a,
        source_a,
        rule,
        feed,
    }
}

fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.contains("/assets/supports/") || path.contains("/supporting-assets/") {
        f.support_a.clone()
    } else if path.contains("/assets/findings/") || path.contains("/asset-findings/") {
        f.finding_a.clone()
    } else if path.contains("/assets/categories/") || path.contains("/handling-categories/") {
        f.category.clone()
    } else if path.starts_with("/assets/") || path.starts_with("/api/v1/assets/") {
        f.asset_a.clone()
    } else if path.starts_with("/controls/") || path.starts_with("/api/v1/controls/") {
        f.control_a.clone()
    } else if path.starts_with("/risks/") || path.starts_with("/api/v1/risks/") {
        f.risk_a.clone()
    } else if path.starts_with("/monitoring/alerts/") || path.starts_with("/api/v1/alerts/") {
        f.alert_a.clone()
    } else if path.starts_with("/monitoring/sources/") || path.starts_with("/api/v1/event-sources/") {
        f.source_a.clone()
    } else if path.starts_with("/monitoring/rules/") || path.starts_with("/api/v1/detection-rules/") {
        f.rule.clone()
    } else if path.starts_with("/monitoring/intel/") || path.starts_with("/api/v1/intel/feeds/") {
        f.feed.clone()
    } else if path.contains("/people/") {
        f.person_a.clone()
    } else if path.contains("/users/") {
        f.user_a.clone()
    } else if path.contains("/tokens/") {
        f.token_a.clone()
    } else {
        "00000000-0000-0000-0000-000000000000".into()
    };
    path.replace("{id}", &id).replace("{token}", "not-a-token").replace("{file}", "app.css").replace("{code}", "en")
}

async fn call(s: &TestServer, client: &reqwest::Client, csrf: &str, method: &Method, path: &str) -> StatusCode {
    let req = client.request(method.clone(), s.url(path));
    let req = if *method == Method::GET { req } else { req.header("x-csrf-token", csrf) };
    req.send().await.unwrap().status()
}

fn allowed(status: StatusCode) -> bool {
    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN && !status.is_server_error()
}

#[tokio::test]
async fn every_route_for_every_role() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let f = fixture(&s).await;
        assert!(s.routes.len() >= 60, "the table lists every route ({} found)", s.routes.len());
        let mut failures = vec![];
        for role in Role::ALL {
            let u = user_session(&s.app, &format!("m-{}", role.code()), vec![grant(role, None)], None).await;
            for spec in &s.routes {
                let path = concrete(spec.path, &f);
                let sess = session_for(&s.app, &u.user_id).await;
                let status = call(&s, &sess.client, &sess.csrf, &spec.method, &path).await;
                let expect_allowed = match spec.need {
                    Need::Public | Need::Pending | Need::SignedIn => true,
                    Need::Perm(p) => role.grants(p),
                    Need::SourceToken | Need::MetricsToken => false,
                };
                // A signed-in route on one record may still refuse by the record (only the
                // owner confirms a review, only a manager decides a take-out).
                let record_level = spec.need == Need::SignedIn && spec.path.contains("{id}") && status == StatusCode::FORBIDDEN;
                // The event receiver and the metrics take their own token only, never a session.
                let ok = if matches!(spec.need, Need::SourceToken | Need::MetricsToken) {
                    status == StatusCode::UNAUTHORIZED
                } else if expect_allowed {
                    allowed(status) || record_level
                } else {
                    status == StatusCode::FORBIDDEN
                };
                if !ok {
                    failures.push(format!(
                        "{:?} {} {} as {}: got {status}, expected {}",
                        b,
                        spec.method,
                        path,
                        role.code(),
                        if expect_allowed { "allowed" } else { "403" }
                    ));
                }
            }
        }
        // Signed out: only public routes answer; the rest send to sign-in (pages) or 401 (API).
        let anon = isms_testkit::client();
        for spec in &s.routes {
            let path = concrete(spec.path, &f);
            let status = call(&s, &anon, "", &spec.method, &path).await;
            let ok = match spec.need {
                Need::Public => status != StatusCode::UNAUTHORIZED && !status.is_server_error(),
                Need::SourceToken | Need::MetricsToken => status == StatusCode::UNAUTHORIZED,
                _ if spec.method != Method::GET => status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED || status == StatusCode::SEE_OTHER,
                _ if path.starts_with("/api/") => status == StatusCode::UNAUTHORIZED,
                _ => status == StatusCode::SEE_OTHER,
            };
            if !ok {
                failures.push(format!("{:?} {} {} signed out: got {status}", b, spec.method, path));
            }
        }
        assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn users_of_another_company_never_see_its_records() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let f = fixture(&s).await;
        let sys = isms_app::Principal::system();
        let companies = isms_app::org::list_companies(&s.app, &sys).await.unwrap();
        let other = companies.iter().find(|c| c.code == "AZC").unwrap().id.clone();
        // Every role, scoped to the other company.
        let mut failures = vec![];
        for role in Role::ALL {
            let u = user_session(&s.app, &format!("o-{}", role.code()), vec![grant(role, Some(&other))], None).await;
            for spec in &s.routes {
                let templated = spec.path.contains("{id}")
                    && (spec.path.contains("/people/")
                        || spec.path.starts_with("/controls/")
                        || spec.path.starts_with("/api/v1/controls/")
                        || spec.path.starts_with("/risks/")
                        || spec.path.starts_with("/api/v1/risks/")
                        || spec.path.starts_with("/monitoring/alerts/")
                        || spec.path.starts_with("/api/v1/alerts/")
                        || spec.path.starts_with("/monitoring/sources/")
                        || spec.path.starts_with("/api/v1/event-sources/")
                        || spec.path.contains("/users/")
                        || ((spec.path.starts_with("/assets/")
                            || spec.path.contains("/assets/")
                            || spec.path.contains("/supporting-assets/")
                            || spec.path.contains("/asset-findings/"))
                            && !spec.path.contains("/categories/")));
                let Need::Perm(p) = spec.need else { continue };
                if !templated || !role.grants(p) {
                    continue;
                }
                let mut path = concrete(spec.path, &f);
                if path.ends_with("/evidence/files") {
                    path.push_str("?name=e.txt");
                }
                let sess = session_for(&s.app, &u.user_id).await;
                // Well-formed bodies, so only scope can stop the request.
                let req = sess.client.request(spec.method.clone(), s.url(&path));
                let union = serde_json::json!({
                    "code": "CTL-X", "title": "X", "company_id": other, "owner_id": "E00001", "status": "open", "reason": "a reason", "expires_on": "2099-01-01",
                    "due_on": "2099-01-01", "url": "https://x.example", "note": "", "inherent_likelihood": 1, "inherent_impact": 1, "residual_likelihood": 1,
                    "residual_impact": 1, "treatment": "mitigate",
                });
                let req = if spec.method == Method::GET {
                    req
                } else if path.ends_with("/evidence") {
                    let form =
                        reqwest::multipart::Form::new().text("title", "x").part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"));
                    req.header("x-csrf-token", &sess.csrf).multipart(form)
                } else if path.contains("/evidence/files") {
                    req.header("x-csrf-token", &sess.csrf).body("x")
                } else if path.starts_with("/api/v1/controls/") || path.starts_with("/api/v1/risks/") {
                    req.header("x-csrf-token", &sess.csrf).json(&union)
                } else if path.starts_with("/controls/") || path.starts_with("/risks/") {
                    let fields: Vec<(String, String)> =
                        union.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
                    let mut fields = fields;
                    fields.push(("_csrf".into(), sess.csrf.clone()));
                    req.form(&fields)
                } else if path.starts_with("/api/v1/alerts/") || path.starts_with("/api/v1/event-sources/") {
                    req.header("x-csrf-token", &sess.csrf)
                        .json(&serde_json::json!({"step": "acknowledge", "name": "X", "kind": "windows", "company_id": other}))
                } else if path.starts_with("/monitoring/") {
                    req.form(&[("_csrf", sess.csrf.as_str()), ("step", "acknowledge"), ("name", "X"), ("kind", "windows"), ("company_id", other.as_str())])
                } else if path.starts_with("/api/v1/people/") {
                    req.header("x-csrf-token", &sess.csrf)
                        .json(&serde_json::json!({"employee_number": "X-1", "name": "X", "email": "x@x.example", "company_id": other}))
                } else if path.starts_with("/api/v1/assets/") {
                    req.header("x-csrf-token", &sess.csrf)
                        .json(&serde_json::json!({"company_id": other, "category_id": f.category, "name": "X", "medium": "electronic"}))
                } else if path.starts_with("/api/v1/supporting-assets/") {
                    req.header("x-csrf-token", &sess.csrf).json(&serde_json::json!({"company_id": other, "kind": "system", "name": "X"}))
                } else if path.starts_with("/api/v1/asset-findings/") {
                    req.header("x-csrf-token", &sess.csrf).json(&serde_json::json!({"reason": "a reason long enough", "expires_on": "2099-01-01"}))
                } else if path.starts_with("/api/") {
                    req.header("x-csrf-token", &sess.csrf).json(&serde_json::json!([]))
                } else {
                    req.form(&[
                        ("_csrf", sess.csrf.as_str()),
                        ("employee_number", "X-1"),
                        ("name", "X"),
                        ("email", "x@x.example"),
                        ("company_id", other.as_str()),
                        ("password", "a long enough password"),
                    ])
                };
                let status = req.send().await.unwrap().status();
                if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                    failures.push(format!("{:?} {} {} as {} of another company: got {status}", b, spec.method, path, role.code()));
                }
            }
            let sess = session_for(&s.app, &u.user_id).await;
            if role.grants(Permission::PeopleRead) {
                let body: serde_json::Value = sess.client.get(s.url("/api/v1/people?limit=1000")).send().await.unwrap().json().await.unwrap();
                let items = body["items"].as_array().unwrap();
                assert!(!items.is_empty());
                assert!(items.iter().all(|p| p["company_id"] == other.as_str()), "{b:?} {role}: API list leaks");
                let html = sess.client.get(s.url("/people?q=")).send().await.unwrap().text().await.unwrap();
                assert!(!html.contains(&f.person_a_number), "{b:?} {role}: page leaks");
                let csv = sess.client.get(s.url("/people/export.csv")).send().await.unwrap().text().await.unwrap();
                assert!(csv.lines().count() > 1 && !csv.contains(&f.person_a_number), "{b:?} {role}: export leaks");
                let filtered: serde_json::Value =
                    sess.client.get(s.url(&format!("/api/v1/people?company_id={}", f.company_a))).send().await.unwrap().json().await.unwrap();
                assert_eq!(filtered["total"], 0, "{b:?} {role}: filter by another company leaks");
            }
            if role.grants(Permission::AssetsRead) {
                let html = sess.client.get(s.url("/assets")).send().await.unwrap().text().await.unwrap();
                assert!(html.contains("貨物の積荷目録") && !html.contains("旅客予約記録"), "{b:?} {role}: register leaks");
                let csv = sess.client.get(s.url("/assets/export.csv")).send().await.unwrap().text().await.unwrap();
                assert!(csv.contains("貨物の積荷目録") && !csv.contains("旅客予約記録"), "{b:?} {role}: export leaks");
                let findings = sess.client.get(s.url("/assets/findings?status=")).send().await.unwrap().text().await.unwrap();
                assert!(!findings.contains("路線計画の検討資料"), "{b:?} {role}: findings leak");
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/assets?limit=1000")).send().await.unwrap().json().await.unwrap();
                let items = api["items"].as_array().unwrap();
                assert!(!items.is_empty() && items.iter().all(|a| a["company_id"] == other.as_str()), "{b:?} {role}: API register leaks");
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/asset-findings?limit=1000")).send().await.unwrap().json().await.unwrap();
                assert!(api["items"].as_array().unwrap().iter().all(|a| a["company_id"] == other.as_str()), "{b:?} {role}: API findings leak");
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/supporting-assets?limit=1000")).send().await.unwrap().json().await.unwrap();
                assert!(api["items"].as_array().unwrap().iter().all(|a| a["company_id"] == other.as_str()), "{b:?} {role}: API holders leak");
                let filtered: serde_json::Value =
                    sess.client.get(s.url(&format!("/api/v1/assets?company_id={}", f.company_a))).send().await.unwrap().json().await.unwrap();
                assert_eq!(filtered["total"], 0, "{b:?} {role}: filtering by another company leaks");
            }
            if role.grants(Permission::MonitoringRead) {
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/alerts?state=all&limit=500")).send().await.unwrap().json().await.unwrap();
                assert!(api["items"].as_array().unwrap().iter().all(|a| a["company_id"] == other.as_str()), "{b:?} {role}: API alerts leak");
                let html = sess.client.get(s.url("/monitoring?state=all")).send().await.unwrap().text().await.unwrap();
                assert!(!html.contains("Shadow copies deleted"), "{b:?} {role}: alert queue leaks");
                let rows = sess.client.get(s.url("/monitoring/queue?state=all")).send().await.unwrap().text().await.unwrap();
                assert!(!rows.contains("Shadow copies deleted"), "{b:?} {role}: live rows leak");
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/event-sources")).send().await.unwrap().json().await.unwrap();
                assert!(api.as_array().unwrap().iter().all(|x| x["company_id"] == other.as_str()), "{b:?} {role}: sources leak");
                let html = sess.client.get(s.url("/monitoring/sources")).send().await.unwrap().text().await.unwrap();
                assert!(!html.contains("AZA workstations"), "{b:?} {role}: source list leaks");
            }
            if role.grants(Permission::RisksRead) {
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/risks?limit=1000")).send().await.unwrap().json().await.unwrap();
                assert!(api["items"].as_array().unwrap().iter().all(|r| r["company_id"] == other.as_str()), "{b:?} {role}: API risks leak");
                let csv = sess.client.get(s.url("/risks/export.csv")).send().await.unwrap().text().await.unwrap();
                assert!(!csv.contains("予約システム"), "{b:?} {role}: risk export leaks");
                let html = sess.client.get(s.url("/risks")).send().await.unwrap().text().await.unwrap();
                assert!(!html.contains("予約システム"), "{b:?} {role}: risk register leaks");
                let heat: serde_json::Value = sess.client.get(s.url("/api/v1/risks/heatmap")).send().await.unwrap().json().await.unwrap();
                let counted: u64 = heat["residual"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().iter().map(|n| n.as_u64().unwrap())).sum();
                assert_eq!(counted, 0, "{b:?} {role}: heat map counts another company's risks");
            }
            if role.grants(Permission::ComplianceRead) {
                let api: serde_json::Value = sess.client.get(s.url("/api/v1/controls?limit=500")).send().await.unwrap().json().await.unwrap();
                assert!(api["items"].as_array().unwrap().iter().all(|c| c["code"] != "CTL-AZA-1"), "{b:?} {role}: controls leak");
                let status = sess.client.get(s.url(&format!("/api/v1/frameworks/iso27001-2022/soa?scope={}", f.company_a))).send().await.unwrap().status();
                assert_eq!(status, StatusCode::FORBIDDEN, "{b:?} {role}: another company's SoA");
                let status = sess.client.get(s.url("/api/v1/frameworks/iso27001-2022/soa?scope=group")).send().await.unwrap().status();
                assert_eq!(status, StatusCode::FORBIDDEN, "{b:?} {role}: the group's SoA needs a group-wide grant");
                let own = sess.client.get(s.url(&format!("/api/v1/frameworks/iso27001-2022/soa?scope={other}"))).send().await.unwrap().status();
                assert_eq!(own, StatusCode::OK, "{b:?} {role}: its own company's SoA");
            }
            if role.grants(Permission::AuditRead) {
                let body: serde_json::Value = sess.client.get(s.url("/api/v1/audit?limit=1000")).send().await.unwrap().json().await.unwrap();
                let items = body["items"].as_array().unwrap();
                assert!(items.iter().all(|e| e["company_id"] == other.as_str()), "{b:?} {role}: audit leaks");
            }
            if role.grants(Permission::UsersRead) {
                let body: serde_json::Value = sess.client.get(s.url("/api/v1/users")).send().await.unwrap().json().await.unwrap();
                assert!(body.as_array().unwrap().iter().all(|u| u["id"] != f.user_a.as_str()), "{b:?} {role}: users leak");
            }
            if role.grants(Permission::OrgRead) {
                let body: serde_json::Value = sess.client.get(s.url("/api/v1/companies")).send().await.unwrap().json().await.unwrap();
                assert_eq!(body.as_array().unwrap().len(), 1, "{b:?} {role}: companies leak");
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        s.db.drop_schema().await;
    }
}
