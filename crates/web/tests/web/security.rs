//! What an outside tester tried, kept as tests that grow with every route: managing
//! accounts across scopes, tokens and their issuers, sign-in under concurrency,
//! redirects, the language switch, `/metrics`, early refusals on keep-alive connections,
//! every CSV export, control characters and NUL bytes, JSON bodies, and records of other
//! companies named in links or in the audit trail.

use crate::code_of;
use isms_app::Principal;
use isms_app::accounts::{self, GrantView, NewToken, NewUser};
use isms_core::Role;
use isms_store::sea_orm::{ConnectionTrait, EntityTrait};
use isms_testkit::{PASSWORD, TestServer, backends, client, grant, totp_code, user_session};
use reqwest::StatusCode;
use serde_json::json;

async fn companies(s: &TestServer) -> (String, String) {
    let all = isms_app::org::list_companies(&s.app, &Principal::system()).await.unwrap();
    let id = |code: &str| all.iter().find(|c| c.code == code).unwrap().id.clone();
    (id("AZA"), id("AZC"))
}

async fn person_in(s: &TestServer, company: &str, skip: u64) -> String {
    let q = isms_store::org::PeopleQuery { company_id: Some(company.into()), offset: 25 + skip, limit: 1, ..Default::default() };
    isms_app::people::list(&s.app, &Principal::system(), &q).await.unwrap().items[0].id.clone()
}

async fn principal(s: &TestServer, cookie: &str) -> Principal {
    accounts::session_principal(&s.app, cookie).await.unwrap().0
}

async fn login_page_csrf(c: &reqwest::Client, s: &TestServer) -> String {
    crate::csrf_in(&c.get(s.url("/login")).send().await.unwrap().text().await.unwrap())
}

/// Every way of managing an account, for every shape of grants it may hold: a company's
/// administrator manages only accounts held entirely within their company.
#[tokio::test]
async fn accounts_are_managed_only_by_someone_whose_scope_covers_every_grant() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let (aza, azc) = companies(&s).await;
        let admin_a = user_session(&s.app, "admin-aza", vec![grant(Role::SystemAdministrator, Some(&aza))], None).await;
        let admin_g = user_session(&s.app, "admin-group", vec![grant(Role::SystemAdministrator, None)], None).await;
        let shapes: Vec<(&str, Vec<GrantView>, bool)> = vec![
            ("company-only", vec![grant(Role::Hr, Some(&aza))], true),
            ("no-grants", vec![], true),
            ("group-wide", vec![grant(Role::Ciso, None)], false),
            ("other-company", vec![grant(Role::Hr, Some(&azc))], false),
            ("both-companies", vec![grant(Role::Hr, Some(&aza)), grant(Role::Auditor, Some(&azc))], false),
        ];
        for (i, (name, grants, a_may)) in shapes.into_iter().enumerate() {
            // Every victim's person is in AZA: the old check looked only at that.
            let person = person_in(&s, &aza, i as u64).await;
            let victim = accounts::create_user(
                &s.app,
                &Principal::system(),
                NewUser { username: format!("victim-{name}"), display_name: name.into(), password: PASSWORD.into(), person_id: Some(person), grants },
            )
            .await
            .unwrap();
            for (who, may) in [(&admin_a, a_may), (&admin_g, true)] {
                let pw = [("_csrf", who.csrf.as_str()), ("password", "violet kettle ferry 47")];
                let attempts = [
                    who.client.post(s.url(&format!("/admin/users/{}/password", victim.id))).form(&pw).send().await.unwrap().status(),
                    who.client
                        .post(s.url(&format!("/admin/users/{}/reset-totp", victim.id)))
                        .form(&[("_csrf", who.csrf.as_str())])
                        .send()
                        .await
                        .unwrap()
                        .status(),
                    who.client.post(s.url(&format!("/admin/users/{}/disable", victim.id))).form(&[("_csrf", who.csrf.as_str())]).send().await.unwrap().status(),
                    who.client.post(s.url(&format!("/admin/users/{}/enable", victim.id))).form(&[("_csrf", who.csrf.as_str())]).send().await.unwrap().status(),
                    who.client
                        .post(s.url(&format!("/admin/users/{}/grants", victim.id)))
                        .form(&[("_csrf", who.csrf.as_str()), ("role", "hr"), ("company_id", aza.as_str()), ("expires_on", "")])
                        .send()
                        .await
                        .unwrap()
                        .status(),
                    who.client
                        .put(s.url(&format!("/api/v1/users/{}/grants", victim.id)))
                        .header("x-csrf-token", &who.csrf)
                        .json(&json!([{"role": "hr", "company_id": aza}]))
                        .send()
                        .await
                        .unwrap()
                        .status(),
                ];
                for (k, st) in attempts.into_iter().enumerate() {
                    assert_eq!(st.is_success() || st.is_redirection(), may, "{b:?}: {name}, route {k}, {st}");
                    if !may {
                        assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{b:?}: {name}, route {k}, {st}");
                    }
                }
                if may {
                    break; // the group administrator's grants change made the shape another one
                }
            }
        }
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn nobody_raises_their_own_grants_and_a_privileged_grant_is_told_and_marked() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let admin = user_session(&s.app, "admin-one", vec![grant(Role::SystemAdministrator, None)], None).await;
        let me = json!([{"role": "system_administrator", "company_id": null}, {"role": "ciso", "company_id": null}]);
        let r = admin.client.put(s.url(&format!("/api/v1/users/{}/grants", admin.user_id))).header("x-csrf-token", &admin.csrf).json(&me).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{b:?}: raising one's own grants");
        // Giving one up is fine.
        let fewer = json!([{"role": "system_administrator", "company_id": null}]);
        let r =
            admin.client.put(s.url(&format!("/api/v1/users/{}/grants", admin.user_id))).header("x-csrf-token", &admin.csrf).json(&fewer).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // Another administrator grants a privileged role: the grantee and the CISO are told.
        let grantee = user_session(&s.app, "grantee", vec![grant(Role::Employee, None)], None).await;
        let r = admin
            .client
            .put(s.url(&format!("/api/v1/users/{}/grants", grantee.user_id)))
            .header("x-csrf-token", &admin.csrf)
            .json(&json!([{"role": "csirt_member", "company_id": null}]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let ciso = accounts::acting_as(&s.app, "ciso").await.unwrap();
        for p in [principal(&s, &grantee.cookie).await, ciso] {
            let inbox = isms_app::notify::inbox(&s.app, &p, true, 20).await.unwrap();
            assert!(inbox.iter().any(|n| n.kind == "privileged-grant" && n.args["user"] == "grantee"), "{b:?}: {} was not told", p.name);
        }
        let q = isms_store::audit::AuditQuery { action_prefix: Some("accounts.user.grants".into()), limit: 5, ..Default::default() };
        let (entries, _) = isms_store::audit::list(s.app.store.conn(), None, &q).await.unwrap();
        let detail: serde_json::Value = serde_json::from_str(&entries[0].detail).unwrap();
        assert_eq!(detail["privileged_granted"][0]["role"], "csirt_member", "{b:?}: marked in the trail");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_token_stays_within_its_issuer_and_acts_for_them() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let (aza, _) = companies(&s).await;
        let person = person_in(&s, &aza, 0).await;
        let admin_s = user_session(&s.app, "admin-aza", vec![grant(Role::SystemAdministrator, Some(&aza))], Some(person)).await;
        let admin = principal(&s, &admin_s.cookie).await;
        let token = |role: Role, companies: Vec<String>| NewToken { name: "integration".into(), role, companies, expires_in_days: 30 };
        // A CISO-role token would read the sealed notes the administrator may not.
        let e = accounts::create_token(&s.app, &admin, token(Role::Ciso, vec![aza.clone()])).await.unwrap_err();
        assert_eq!(code_of(&e), "token-beyond-issuer", "{b:?}");
        assert!(accounts::create_token(&s.app, &admin, token(Role::Hr, vec![])).await.is_err(), "group-wide beyond a company administrator");
        // A plain token reports an incident on the issuer's behalf, and the trail names both.
        let (t, plain) = accounts::create_token(&s.app, &admin, token(Role::Employee, vec![aza.clone()])).await.unwrap();
        let r = client().post(s.url("/api/v1/incidents")).bearer_auth(&plain).json(&json!({"title": "Alert from the mail gateway"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{b:?}: {}", r.text().await.unwrap());
        let q = isms_store::audit::AuditQuery { action_prefix: Some("incidents.report".into()), limit: 1, ..Default::default() };
        let (entries, _) = isms_store::audit::list(s.app.store.conn(), None, &q).await.unwrap();
        assert_eq!(entries[0].actor, format!("token:{}", t.id));
        assert!(entries[0].detail.contains(&format!("user:{}", admin_s.user_id)), "{}", entries[0].detail);
        // An HR token loses what its issuer loses.
        let (_, hr) = accounts::create_token(&s.app, &admin, token(Role::Hr, vec![aza.clone()])).await.unwrap();
        assert_eq!(client().get(s.url("/api/v1/people")).bearer_auth(&hr).send().await.unwrap().status(), StatusCode::OK);
        accounts::set_grants(&s.app, &Principal::system(), &admin_s.user_id, vec![grant(Role::Employee, Some(&aza))]).await.unwrap();
        assert_eq!(client().get(s.url("/api/v1/people")).bearer_auth(&hr).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{b:?}");
        s.db.drop_schema().await;
    }
}

/// A token is revoked only by an administrator whose scope covers the token's companies;
/// anyone else is told it does not exist, and the token keeps working until then.
#[tokio::test]
async fn tokens_are_revoked_only_within_the_administrators_scope() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let (aza, azc) = companies(&s).await;
        let admin_g = user_session(&s.app, "admin-group", vec![grant(Role::SystemAdministrator, None)], None).await;
        let admin_a = user_session(&s.app, "admin-aza", vec![grant(Role::SystemAdministrator, Some(&aza))], None).await;
        let issuer = principal(&s, &admin_g.cookie).await;
        let token = |companies: Vec<String>| NewToken { name: "feed".into(), role: Role::Employee, companies, expires_in_days: 30 };
        for (companies, a_may) in [(vec![], false), (vec![azc.clone()], false), (vec![aza.clone(), azc.clone()], false), (vec![aza.clone()], true)] {
            let (t, plain) = accounts::create_token(&s.app, &issuer, token(companies.clone())).await.unwrap();
            let revoke =
                |who: &isms_testkit::Session| who.client.post(s.url(&format!("/admin/tokens/{}/revoke", t.id))).form(&[("_csrf", who.csrf.as_str())]).send();
            let st = revoke(&admin_a).await.unwrap().status();
            let works = client().get(s.url("/api/v1/me")).bearer_auth(&plain).send().await.unwrap().status();
            if a_may {
                assert!(st.is_redirection() || st.is_success(), "{b:?}: {companies:?}: {st}");
                assert_eq!(works, StatusCode::UNAUTHORIZED, "{b:?}: revoked, still works");
            } else {
                assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}: {companies:?}");
                assert!(works.is_success(), "{b:?}: {companies:?}: the refused revocation still revoked: {works}");
                let st = revoke(&admin_g).await.unwrap().status();
                assert!(st.is_redirection() || st.is_success(), "{b:?}: {st}");
                assert_eq!(client().get(s.url("/api/v1/me")).bearer_auth(&plain).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
            }
        }
        s.db.drop_schema().await;
    }
}

/// Forty wrong passwords at once, twice: at most the limit are checked, and the right
/// password is refused afterwards. An unknown name locks the same way.
#[tokio::test]
async fn parallel_attempts_check_at_most_the_limit() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let _ = user_session(&s.app, "target", vec![grant(Role::Hr, None)], None).await;
        let c = client();
        let csrf = login_page_csrf(&c, &s).await;
        for name in ["target", "nobody-here"] {
            for _ in 0..2 {
                let tries = (0..40).map(|i| {
                    let (c, url, csrf) = (c.clone(), s.url("/login"), csrf.clone());
                    async move {
                        c.post(url)
                            .form(&[("_csrf", csrf.as_str()), ("username", name), ("password", &format!("wrong guess {i}"))])
                            .send()
                            .await
                            .unwrap()
                            .status()
                    }
                });
                let answers = futures_join(tries).await;
                assert!(answers.iter().all(|st| *st == StatusCode::UNAUTHORIZED || *st == StatusCode::TOO_MANY_REQUESTS), "{b:?}: {answers:?}");
            }
            let q = isms_store::audit::AuditQuery { action_prefix: Some("auth.login_failed".into()), limit: 1000, ..Default::default() };
            let (entries, _) = isms_store::audit::list(s.app.store.conn(), None, &q).await.unwrap();
            let checked = entries.iter().filter(|e| e.detail.contains(name) || e.record_id.is_some() && name == "target").count();
            assert_eq!(checked, 5, "{b:?}: {name}: passwords checked");
            let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", name), ("password", PASSWORD)]).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}: {name}: locked, whatever the password");
        }
        s.db.drop_schema().await;
    }
}

async fn futures_join<F: std::future::Future<Output = StatusCode> + Send + 'static>(futs: impl Iterator<Item = F>) -> Vec<StatusCode> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = vec![];
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Eight sessions send the same valid code at once: exactly one signs in.
#[tokio::test]
async fn a_second_factor_code_wins_once() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let _ = user_session(&s.app, "csirt1", vec![grant(Role::CsirtMember, None)], None).await;
        let mut pending = vec![];
        for _ in 0..8 {
            let c = client();
            let csrf = login_page_csrf(&c, &s).await;
            let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "csirt1"), ("password", PASSWORD)]).send().await.unwrap();
            assert_eq!(r.headers()["location"], "/login/totp", "{b:?}");
            let csrf = crate::csrf_in(&c.get(s.url("/login/totp")).send().await.unwrap().text().await.unwrap());
            pending.push((c, csrf));
        }
        let code = totp_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
        let tries = pending.into_iter().map(|(c, csrf)| {
            let (url, code) = (s.url("/login/totp"), code.clone());
            async move {
                let r = c.post(url).form(&[("_csrf", csrf.as_str()), ("code", code.as_str())]).send().await.unwrap();
                // Signed in: sent on to the page asked for. Locked out: back to sign in.
                (r.status(), r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()))
            }
        });
        let handles: Vec<_> = tries.map(tokio::spawn).collect();
        let mut answers = vec![];
        for h in handles {
            answers.push(h.await.unwrap());
        }
        let won = answers.iter().filter(|(st, to)| *st == StatusCode::SEE_OTHER && to.as_deref() == Some("/")).count();
        assert_eq!(won, 1, "{b:?}: {answers:?}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn redirect_targets_from_input_stay_on_the_site() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    let signed_in = user_session(&s.app, "reader", vec![grant(Role::Employee, None)], None).await;
    let bad = [
        "//evil.example/x",
        "/\t/evil.example/x",
        "/\\evil.example/y",
        "/\n",
        "/\r\nSet-Cookie: x=1",
        "https://evil.example/",
        "evil.example",
        "/caf\u{e9}",
        "/ x",
    ];
    let good = ["/assets?q=a%20b", "/incidents/abc?tab=notes", "/"];
    let enc = |t: &str| form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
    for t in bad {
        for url in [format!("/login?next={}", enc(t)), format!("/lang/en?back={}", enc(t))] {
            let r = signed_in.client.get(s.url(&url)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{url}");
            assert_eq!(r.headers()["location"], "/", "{url}");
        }
    }
    for t in good {
        let r = signed_in.client.get(s.url(&format!("/lang/en?back={}", enc(t)))).send().await.unwrap();
        assert_eq!(r.headers()["location"], t);
    }
}

#[tokio::test]
async fn the_language_changes_an_account_only_by_post() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let u = user_session(&s.app, "reader", vec![grant(Role::Employee, None)], None).await;
        let locale = || async { isms_store::accounts::user::Entity::find_by_id(u.user_id.clone()).one(s.app.store.conn()).await.unwrap().unwrap().locale };
        let r = u.client.get(s.url("/lang/en?back=/")).send().await.unwrap();
        assert!(r.headers()["set-cookie"].to_str().unwrap().contains("lang=en"));
        assert_eq!(locale().await, None, "{b:?}: a GET changes no account");
        let r = u.client.post(s.url("/lang/en")).form(&[("back", "/")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "without the CSRF token");
        let r = u.client.post(s.url("/lang/en")).form(&[("_csrf", u.csrf.as_str()), ("back", "/notifications")]).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/notifications");
        assert_eq!(locale().await.as_deref(), Some("en"), "{b:?}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn metrics_need_the_token() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    assert_eq!(client().get(s.url("/metrics")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client().get(s.url("/metrics")).bearer_auth("wrong").send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // No metrics recorder in tests: the token opens the route, which then has nothing.
    let r = client().get(s.url("/metrics")).bearer_auth(isms_testkit::METRICS_TOKEN).send().await.unwrap();
    assert_ne!(r.status(), StatusCode::UNAUTHORIZED);
}

/// The separate metrics listener serves `/metrics` and nothing else: no page, no API.
#[tokio::test]
async fn the_metrics_listener_serves_metrics_alone() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder().handle();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, isms_web::metrics_router(handle)).await.ok() });
    let r = client().get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    for path in ["/", "/login", "/api/v1/me", "/healthz", "/metrics/../login"] {
        assert_eq!(client().get(format!("http://{addr}{path}")).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(client().post(format!("http://{addr}/metrics")).send().await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// A log shipper retrying with a bad token and a large batch on one keep-alive
/// connection: every answer arrives, and each says the connection closes.
#[tokio::test]
async fn refusals_before_the_body_close_the_connection_cleanly() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    let c = client();
    let body = vec![b'{'; 200 * 1024];
    for i in 0..50 {
        let r = c.post(s.url("/api/v1/events")).bearer_auth("isms_src_wrong").body(body.clone()).send().await.unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"), "request {i}");
    }
    // A request whose body was read keeps its connection.
    let r = c.get(s.url("/healthz")).send().await.unwrap();
    assert!(r.headers().get("connection").is_none());
}

/// Every CSV export the route table lists, with formulas planted in every register:
/// no cell starts as a formula, and each planted value is there, as text.
#[tokio::test]
async fn every_csv_export_writes_formulas_as_text() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let db = s.app.store.conn();
        let payload = "=HYPERLINK(\"http://evil.example\",\"x\")";
        let source = isms_app::findings::SOURCES[0];
        db.execute_unprepared(&format!("INSERT INTO review_findings (id, key, source, record_id, company_id, title, due_on, opened_ms, closed_ms) VALUES ('00000000-0000-7000-8000-000000000001', 'planted', '{source}', 'x', NULL, 'planted', '2026-01-01', 1, NULL)")).await.unwrap();
        for (table, col) in [
            ("people", "name"),
            ("information_assets", "name"),
            ("controls", "title"),
            ("risks", "title"),
            ("requirements", "title"),
            ("requirements", "title_ja"),
            ("review_findings", "title"),
        ] {
            // Each value its own (names are unique within a company).
            db.execute_unprepared(&format!("UPDATE {table} SET {col} = '{}' || id", payload.replace('\'', "''"))).await.unwrap();
        }
        let session = user_session(&s.app, "ciso2", vec![grant(Role::Ciso, None)], None).await;
        let ciso = principal(&s, &session.cookie).await;
        let fw = isms_app::compliance::frameworks::list(&s.app, &ciso).await.unwrap()[0].id.clone();
        let auditor_s = user_session(&s.app, "auditor2", vec![grant(Role::Auditor, None)], None).await;
        let exports: Vec<&str> = s.routes.iter().filter(|r| r.method == axum::http::Method::GET && r.path.ends_with(".csv")).map(|r| r.path).collect();
        assert!(exports.len() >= 7, "{exports:?}");
        for path in exports {
            let url = path.replace("{id}", &fw);
            let who = if path.starts_with("/audit") { &auditor_s } else { &session };
            let r = who.client.get(s.url(&url)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{b:?}: {url}");
            let text = r.text().await.unwrap();
            let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
            let mut planted = 0;
            for rec in rd.records() {
                for cell in rec.unwrap().iter() {
                    assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{b:?}: {url}: {cell}");
                    planted += usize::from(cell.starts_with("'=") || cell.starts_with("'+") || cell.starts_with("'-"));
                }
            }
            // The trail's cells are numbers, codes, ids and JSON: no typed value starts a cell.
            if !path.starts_with("/audit") {
                assert!(planted > 0, "{b:?}: {url} holds no planted value: the test would prove nothing");
            }
        }
        s.db.drop_schema().await;
    }
}

/// An export imported unchanged stores what it was made from: the apostrophe that keeps
/// a formula-like value from running comes off again on import.
#[tokio::test]
async fn a_csv_export_imports_back_to_the_same_values() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let db = s.app.store.conn();
        db.execute_unprepared("UPDATE information_assets SET name = '=SUM(1) ' || name").await.unwrap();
        db.execute_unprepared("UPDATE people SET name = '-' || name").await.unwrap();
        let session = user_session(&s.app, "ciso2", vec![grant(Role::Ciso, None), grant(Role::Hr, None)], None).await;
        let who = principal(&s, &session.cookie).await;
        let assets = session.client.get(s.url("/assets/export.csv")).send().await.unwrap().bytes().await.unwrap();
        assert!(String::from_utf8_lossy(&assets).contains("'=SUM(1) "), "{b:?}: the export is not neutralised");
        let p = isms_app::assets::transfer::preview(&s.app, &who, "assets.csv", &assets).await.unwrap_or_else(|e| panic!("{b:?}: {e:?}"));
        assert_eq!(p.creates, 0, "{b:?}: a re-imported name did not match its asset");
        let people = session.client.get(s.url("/people/export.csv")).send().await.unwrap().bytes().await.unwrap();
        let names = || async {
            let q = isms_store::org::PeopleQuery { limit: 500, ..Default::default() };
            isms_app::people::list(&s.app, &who, &q).await.unwrap().items.into_iter().map(|p| p.name).collect::<Vec<String>>()
        };
        let before = names().await;
        isms_app::people::import_csv(&s.app, &who, &people, |_, _| {}).await.unwrap_or_else(|e| panic!("{b:?}: {e:?}"));
        let after = names().await;
        assert!(before.iter().all(|n| n.starts_with('-')));
        assert_eq!(before, after, "{b:?}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn control_characters_and_nul_bytes_are_refused_or_ignored_never_a_5xx() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let c = user_session(&s.app, "ciso2", vec![grant(Role::Ciso, None)], None).await;
        for url in [
            "/api/v1/assets?q=ab%00cd",
            "/api/v1/risks?search=ab%00cd",
            "/assets?q=ab%00cd",
            "/risks?search=ab%00cd",
            "/api/v1/people?q=%00%00%00",
            "/controls?search=a%00b%00c",
            "/policies?search=ab%00c",
            "/monitoring?q=ab%00cd",
            "/monitoring/rules?q=%00x%00",
        ] {
            let st = c.client.get(s.url(url)).send().await.unwrap().status();
            assert!(st.is_success(), "{b:?}: {url}: {st}");
        }
        // A name with a NUL or a line break is refused with the field named.
        for bad in ["Ops\u{0}drive", "Two\nlines", "Bell\u{7}"] {
            let r = c.client.post(s.url("/api/v1/incidents")).header("x-csrf-token", &c.csrf).json(&json!({"title": bad})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {bad:?}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["errors"][0]["field"].as_str(), Some("title"), "{b:?}: {bad:?}");
            assert!(body["errors"][0]["code"].as_str().unwrap_or("").starts_with("control-characters"), "{b:?}: {bad:?}: {body}");
        }
        s.db.drop_schema().await;
    }
}

/// Every route that takes a body, form or JSON, refuses a control character in any field
/// with the field named, before anything is written: the check stands at the door, so a
/// route added tomorrow has it too. The audit trail (every change writes to it) does not
/// grow.
#[tokio::test]
async fn every_route_that_takes_text_refuses_control_characters_in_any_field() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    s.demo().await;
    let c = user_session(&s.app, "ciso2", vec![grant(Role::Ciso, None), grant(Role::SystemAdministrator, None)], None).await;
    let count = || async {
        s.app
            .store
            .conn()
            .query_one_raw(isms_store::sea_orm::Statement::from_string(s.app.store.conn().get_database_backend(), "SELECT COUNT(*) AS n FROM audit_log"))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap()
    };
    let before = count().await;
    let writes: Vec<_> = s.routes.iter().filter(|r| r.method != axum::http::Method::GET && !r.path.starts_with("/api/v1/events")).collect();
    assert!(writes.len() > 100, "{}", writes.len());
    let mut tried = 0;
    let catalogs = isms_web::catalogs().unwrap();
    for r in writes {
        let path = r.path.replace("{id}", "00000000-0000-7000-8000-000000000000").replace(['{', '}'], "");
        for (i, bad) in ["a\u{0}b", "\u{1b}[2J", "x\u{7f}", "\u{85}"].into_iter().enumerate() {
            let field = ["title", "description", "name", "note"][i];
            let req = c.client.request(r.method.clone(), s.url(&path)).header("x-csrf-token", &c.csrf);
            let resp = if path.starts_with("/api/") {
                req.json(&json!({"ok": "fine\nline", field: bad, "list": [1, 2]})).send().await.unwrap()
            } else {
                req.form(&[("_csrf", c.csrf.as_str()), ("ok", "fine\r\nline"), (field, bad)]).send().await.unwrap()
            };
            let st = resp.status();
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{} {path} with {field}={bad:?}", r.method);
            let text = resp.text().await.unwrap();
            // A page names the field by its label in the reader's language.
            let key = format!("field-{field}");
            let named = [isms_web::i18n::Lang::Ja, isms_web::i18n::Lang::En].into_iter().any(|l| text.contains(&catalogs.get(l, &key)));
            assert!(text.contains(field) || named, "{} {path}: the answer names no field: {text}", r.method);
            tried += 1;
        }
    }
    assert_eq!(count().await, before, "something was written");
    assert!(tried > 400);
    // A body over the limit is answered as too large, not read as an empty one.
    let big = format!("{{\"title\": \"{}\"}}", "x".repeat(9 << 20));
    let r =
        c.client.post(s.url("/api/v1/incidents")).header("x-csrf-token", &c.csrf).header("content-type", "application/json").body(big).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn json_bodies_are_one_json_value_of_the_json_type() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    let u = user_session(&s.app, "reporter", vec![grant(Role::CsirtMember, None)], None).await;
    let post = |ct: &'static str, body: &'static str| {
        u.client.post(s.url("/api/v1/incidents")).header("x-csrf-token", &u.csrf).header("content-type", ct).body(body).send()
    };
    let r = post("application/json", r#"{"title": "x", "company_id": ""} trailing"#).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = post("text/plain", r#"{"title": "x"}"#).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = post("application/json", r#"{"title": 5}"#).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the wrong shape names its field");
    let r = post("application/json; charset=utf-8", "{\"title\": \"ok\"}\n").await.unwrap();
    assert_ne!(r.status(), StatusCode::BAD_REQUEST, "white space after the value is fine");
}

/// Naming another company's records in a link answers as if they did not exist, and the
/// audit trail of a need-to-know case stays with those who may see the case.
#[tokio::test]
async fn records_out_of_reach_stay_unconfirmed() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let (aza, azc) = companies(&s).await;
        let sys = Principal::system();
        let azc_asset =
            isms_app::assets::register::list(&s.app, &sys, &isms_store::assets::AssetQuery { company_id: Some(azc.clone()), limit: 1, ..Default::default() })
                .await
                .unwrap()
                .items[0]
                .id
                .clone();
        let sec_s = user_session(&s.app, "sec-aza", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], Some(person_in(&s, &aza, 3).await)).await;
        let sec = principal(&s, &sec_s.cookie).await;
        let owner = person_in(&s, &aza, 4).await;
        let input = isms_app::risks::RiskInput {
            company_id: aza.clone(),
            title: "Leak through a shared drive".into(),
            owner_id: owner,
            inherent_likelihood: 3,
            inherent_impact: 3,
            residual_likelihood: 2,
            residual_impact: 2,
            treatment: "mitigate".into(),
            asset_ids: vec![azc_asset],
            ..Default::default()
        };
        let e = isms_app::risks::create(&s.app, &sec, input).await.unwrap_err();
        assert_eq!(code_of(&e), "no-asset", "{b:?}");

        // A case with personal information: its entries leave the company administrator's trail.
        let csirt = accounts::acting_as(&s.app, "csirt").await.unwrap();
        let employee = accounts::acting_as(&s.app, "employee").await.unwrap();
        use isms_app::incidents::cases;
        let i = cases::report(&s.app, &employee, cases::ReportInput { title: "Passenger list sent to a wrong address".into(), ..Default::default() })
            .await
            .unwrap();
        cases::transition_to(&s.app, &csirt, &i.id, cases::TransitionInput { to: "triage".into(), reason: String::new() }).await.unwrap();
        cases::update_facts(
            &s.app,
            &csirt,
            &i.id,
            cases::FactsInput { title: i.title.clone(), kind: "data_leak".into(), personal_data: Some(true), ..Default::default() },
        )
        .await
        .unwrap();
        assert!(cases::get(&s.app, &sec, &i.id).await.is_err(), "the case itself is out of reach");
        let q = isms_store::audit::AuditQuery { entity: Some("incident".into()), record_id: Some(i.id.clone()), limit: 50, ..Default::default() };
        assert_eq!(isms_app::audit::list(&s.app, &sec, &q).await.unwrap().1, 0, "{b:?}");
        let auditor = accounts::acting_as(&s.app, "auditor").await.unwrap();
        assert!(isms_app::audit::list(&s.app, &auditor, &q).await.unwrap().1 >= 3, "the auditor checks every entry");
        let r = sec_s.client.get(s.url(&format!("/api/v1/audit?record_id={}", i.id))).send().await.unwrap();
        assert!(!r.text().await.unwrap().contains(&i.id), "{b:?}: nor over the API");
        s.db.drop_schema().await;
    }
}

/// The paged users list filters by scope in the database; it must show exactly what the
/// reference check (`list_users`, filtered one by one) shows, for every demo account, and
/// refuse an order it does not know, naming the field.
#[tokio::test]
async fn the_paged_users_list_shows_exactly_the_users_in_scope() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let mut checked = 0;
        for (name, _, _) in isms_app::org_demo::ACCOUNTS {
            let who = accounts::acting_as(&s.app, name).await.unwrap();
            let Ok(reference) = accounts::list_users(&s.app, &who).await else {
                assert!(accounts::users_page(&s.app, &who, &Default::default()).await.is_err(), "{name}");
                continue;
            };
            let q = accounts::UserQuery { limit: 500, ..Default::default() };
            let page = accounts::users_page(&s.app, &who, &q).await.unwrap();
            let mut want: Vec<_> = reference.iter().map(|u| u.id.clone()).collect();
            let mut got: Vec<_> = page.items.iter().map(|u| u.id.clone()).collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "{name} on {b:?}");
            assert_eq!(page.total as usize, want.len());
            checked += 1;
        }
        assert!(checked >= 2, "some demo accounts read users");
        let admin = accounts::acting_as(&s.app, "admin").await.unwrap();
        let bad = accounts::UserQuery { sort: Some("password_hash".into()), ..Default::default() };
        match accounts::users_page(&s.app, &admin, &bad).await {
            Err(isms_app::AppError::Invalid(e)) => assert_eq!(e[0].field, "sort"),
            other => panic!("expected a refusal of the sort key, got {:?}", other.map(|p| p.total)),
        }
    }
}
