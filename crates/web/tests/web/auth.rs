use isms_core::Role;
use isms_testkit::{PASSWORD, TestServer, backends, client, grant, session_for, totp_code, totp_code_at, user_session};
use reqwest::StatusCode;

async fn login_form(c: &reqwest::Client, s: &TestServer) -> String {
    let page = c.get(s.url("/login")).send().await.unwrap().text().await.unwrap();
    crate::csrf_in(&page)
}

#[tokio::test]
async fn privileged_user_enrols_a_second_factor_then_signs_in_with_it() {
    for b in backends() {
        let s = TestServer::start(b).await;
        isms_app::accounts::create_user(
            &s.app,
            &isms_app::Principal::system(),
            isms_app::accounts::NewUser {
                username: "ciso".into(),
                display_name: "CISO".into(),
                password: PASSWORD.into(),
                person_id: None,
                grants: vec![grant(Role::Ciso, None)],
            },
        )
        .await
        .unwrap();
        let c = client();
        let csrf = login_form(&c, &s).await;
        let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "ciso"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b:?}");
        assert_eq!(r.headers()["location"], "/account/totp");
        // Until the second factor is set up, nothing else opens.
        let r = c.get(s.url("/people")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/account/totp", "{b:?}");
        let r = c.get(s.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let page = c.get(s.url("/account/totp")).send().await.unwrap().text().await.unwrap();
        let secret = page.split("id=\"totp-secret\" class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
        let csrf = crate::csrf_in(&page);
        let r = c.post(s.url("/account/totp")).form(&[("_csrf", csrf.as_str()), ("code", "000000")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = c.post(s.url("/account/totp")).form(&[("_csrf", csrf.as_str()), ("code", totp_code(&secret).as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b:?}");
        assert_eq!(c.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
        // The secret is stored encrypted, never as the text the user typed in.
        use isms_store::sea_orm::EntityTrait;
        let stored = isms_store::accounts::user::Entity::find().all(s.app.store.conn()).await.unwrap().into_iter().find_map(|u| u.totp_secret).unwrap();
        assert!(stored.starts_with("v1:") && !stored.contains(&secret), "{b:?}: {stored}");

        // A second sign-in asks for the code.
        let c2 = client();
        let csrf = login_form(&c2, &s).await;
        let r = c2.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "ciso"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/login/totp");
        let page = c2.get(s.url("/login/totp")).send().await.unwrap().text().await.unwrap();
        let csrf = crate::csrf_in(&page);
        assert_eq!(c2.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        // The enrolment code was used already: it does not work twice.
        let r = c2.post(s.url("/login/totp")).form(&[("_csrf", csrf.as_str()), ("code", totp_code(&secret).as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: replayed code accepted");
        let next = totp_code_at(&secret, 30);
        let r = c2.post(s.url("/login/totp")).form(&[("_csrf", csrf.as_str()), ("code", next.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(c2.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let _ = user_session(&s.app, "hr1", vec![grant(Role::Hr, None)], None).await;
        let c = client();
        let csrf = login_form(&c, &s).await;
        for i in 1..=4 {
            let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "hr1"), ("password", "wrong password!")]).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i} on {b:?}");
        }
        let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "hr1"), ("password", "wrong password!")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "fifth failure locks");
        // Even the right password is refused while locked.
        let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "hr1"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        // Unknown users get the same answer as wrong passwords.
        let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "nobody"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let (entries, _) = isms_store::audit::list(
            s.app.store.conn(),
            None,
            &isms_store::audit::AuditQuery { action_prefix: Some("auth.login_failed".into()), limit: 100, ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(entries.len(), 6, "every failure is in the audit trail");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let admin = user_session(&s.app, "root", vec![grant(Role::SystemAdministrator, None)], None).await;
        let body = [("code", "X1"), ("name", "Forged")];
        let r = admin.client.post(s.url("/org/companies")).form(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token");
        let r = admin.client.post(s.url("/org/companies")).form(&[("_csrf", "wrong"), ("code", "X1"), ("name", "Forged")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token");
        let r = admin
            .client
            .post(s.url("/org/companies"))
            .header("sec-fetch-site", "cross-site")
            .form(&[("_csrf", admin.csrf.as_str()), ("code", "X1"), ("name", "Forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "cross-site");
        let r = admin.client.post(s.url("/api/v1/companies")).json(&serde_json::json!({"code": "X1", "name": "Forged"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "API with a cookie needs the header");
        let r = admin.client.post(s.url("/org/companies")).form(&[("_csrf", admin.csrf.as_str()), ("code", "X1"), ("name", "Real")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = admin
            .client
            .post(s.url("/api/v1/companies"))
            .header("x-csrf-token", &admin.csrf)
            .json(&serde_json::json!({"code": "X2", "name": "Real 2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn sessions_can_be_listed_and_revoked_and_leavers_lose_access() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let people =
            isms_app::people::list(&s.app, &isms_app::Principal::system(), &isms_store::org::PeopleQuery { limit: 1, ..Default::default() }).await.unwrap();
        let person = &people.items[0];
        let worker = user_session(&s.app, "worker", vec![grant(Role::Employee, None)], Some(person.id.clone())).await;
        let other = session_for(&s.app, &worker.user_id).await;
        let (me, _) = isms_app::accounts::session_principal(&s.app, &worker.cookie).await.unwrap();
        let sessions = isms_app::accounts::my_sessions(&s.app, &me).await.unwrap();
        assert_eq!(sessions.len(), 2);
        let other_id = sessions.iter().find(|x| !x.current).unwrap().id.clone();
        let r = worker.client.post(s.url(&format!("/account/sessions/{other_id}/revoke"))).header("x-csrf-token", &worker.csrf).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(other.client.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(worker.client.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);

        // HR records the person as a leaver: the account is disabled at once.
        let hr = user_session(&s.app, "hr-admin", vec![grant(Role::Hr, None)], None).await;
        let r = hr.client.post(s.url(&format!("/api/v1/people/{}/deactivate", person.id))).header("x-csrf-token", &hr.csrf).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "left");
        assert_eq!(worker.client.get(s.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        let c = client();
        let csrf = login_form(&c, &s).await;
        let r = c.post(s.url("/login")).form(&[("_csrf", csrf.as_str()), ("username", "worker"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a disabled account cannot sign in");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_scoped_and_revocable() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let admin = user_session(&s.app, "root", vec![grant(Role::SystemAdministrator, None)], None).await;
        let (who, _) = isms_app::accounts::session_principal(&s.app, &admin.cookie).await.unwrap();
        let companies = isms_app::org::list_companies(&s.app, &who).await.unwrap();
        let azc = companies.iter().find(|c| c.code == "AZC").unwrap();
        let page = admin
            .client
            .post(s.url("/admin/tokens"))
            .form(&[("_csrf", admin.csrf.as_str()), ("name", "HR sync"), ("role", "hr"), ("company_id", azc.id.as_str()), ("expires_in_days", "30")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = page.split("id=\"new-token\" class=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
        assert!(token.starts_with("isms_"));
        let again = admin.client.get(s.url("/admin/tokens")).send().await.unwrap().text().await.unwrap();
        assert!(!again.contains(&token), "the token is shown only once");
        let api = reqwest::Client::new();
        let r = api.get(s.url("/api/v1/people?limit=1000")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["total"].as_u64().unwrap() > 0);
        assert!(body["items"].as_array().unwrap().iter().all(|p| p["company_id"] == azc.id.as_str()), "scoped to its company");
        assert_eq!(api.get(s.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap().status(), StatusCode::FORBIDDEN, "scoped to its role");
        // Tokens need no CSRF header: they are not cookies.
        let r = api
            .post(s.url("/api/v1/people"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"employee_number": "T-1", "name": "Token Person", "email": "t1@azc.example", "company_id": azc.id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let tokens = isms_app::accounts::list_tokens(&s.app, &who).await.unwrap();
        isms_app::accounts::revoke_token(&s.app, &who, &tokens[0].id).await.unwrap();
        assert_eq!(api.get(s.url("/api/v1/people")).bearer_auth(&token).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn first_start_setup_link_creates_one_administrator() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let token = isms_app::setup::ensure_setup_token(&s.app).await.unwrap().expect("no users yet");
        let c = client();
        assert_eq!(c.get(s.url("/setup/not-the-token")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let page = c.get(s.url(&format!("/setup/{token}"))).send().await.unwrap().text().await.unwrap();
        let csrf = crate::csrf_in(&page);
        let r = c
            .post(s.url(&format!("/setup/{token}")))
            .form(&[("_csrf", csrf.as_str()), ("username", "boss"), ("display_name", "Boss"), ("password", "short")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("password-error"));
        let r = c
            .post(s.url(&format!("/setup/{token}")))
            .form(&[("_csrf", csrf.as_str()), ("username", "boss"), ("display_name", "Boss"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(c.get(s.url(&format!("/setup/{token}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND, "used once");
        assert!(isms_app::setup::ensure_setup_token(&s.app).await.unwrap().is_none());
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn an_expired_grant_no_longer_counts() {
    for b in backends() {
        let s = TestServer::start(b).await;
        let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let mut g = grant(Role::Auditor, None);
        g.expires_on = Some(today.yesterday().unwrap().to_string());
        let past = user_session(&s.app, "auditor-past", vec![g], None).await;
        assert_eq!(past.client.get(s.url("/api/v1/audit")).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{b:?}");
        let mut g = grant(Role::Auditor, None);
        g.expires_on = Some(today.to_string());
        let current = user_session(&s.app, "auditor-now", vec![g], None).await;
        assert_eq!(current.client.get(s.url("/api/v1/audit")).send().await.unwrap().status(), StatusCode::OK, "{b:?}: lasts through its last day");
        s.db.drop_schema().await;
    }
}
