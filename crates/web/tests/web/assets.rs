//! The asset register on both backends: findings follow changes on either side, refusals
//! name their reason and change nothing, and the employee sees only their own requests.

use isms_app::assets::conformance::AcceptInput;
use isms_app::assets::{categories, conformance, register, supports, takeouts};
use isms_core::Role;
use isms_store::assets::{AssetQuery, FindingQuery};
use isms_testkit::{TestServer, backends, grant, user_session};

fn all() -> AssetQuery {
    AssetQuery { limit: 1000, ..Default::default() }
}

#[tokio::test]
async fn findings_follow_the_register_and_refusals_change_nothing() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let sys = isms_app::Principal::system();
        let assets = register::list(&s.app, &sys, &all()).await.unwrap().items;
        let mileage = assets.iter().find(|a| a.name == "マイレージ会員情報").unwrap().clone();
        assert!(mileage.customer_information);
        let open = |rule: &'static str| FindingQuery { rule: Some(rule.into()), status: Some("open".into()), limit: 100, ..Default::default() };
        let f = conformance::list(&s.app, &sys, &open("cloud-not-approved")).await.unwrap().items;
        assert_eq!(f.len(), 1, "{b:?}");
        assert_eq!(f[0].asset_id.as_deref(), Some(mileage.id.as_str()));
        assert_eq!(f[0].severity, 4);

        // Approving the analytics service for customer information resolves it ...
        let analytics = supports::get(&s.app, &sys, f[0].support_id.as_deref().unwrap()).await.unwrap();
        let cust = categories::list(&s.app, &sys).await.unwrap().into_iter().find(|c| c.rules.customer_information).unwrap();
        let mut input: isms_app::assets::SupportInput = serde_json::from_value(serde_json::to_value(&analytics).unwrap()).unwrap();
        input.approved_categories.push(cust.id.clone());
        supports::update(&s.app, &sys, &analytics.id, input.clone()).await.unwrap();
        assert!(conformance::list(&s.app, &sys, &open("cloud-not-approved")).await.unwrap().items.is_empty(), "{b:?}");
        let resolved = conformance::get(&s.app, &sys, &f[0].id).await.unwrap();
        assert_eq!(resolved.status, "resolved");
        // ... and withdrawing the approval reopens the same finding.
        input.approved_categories.retain(|c| c != &cust.id);
        supports::update(&s.app, &sys, &analytics.id, input).await.unwrap();
        let again = conformance::get(&s.app, &sys, &f[0].id).await.unwrap();
        assert_eq!(again.status, "open", "{b:?}");

        // Resolving by hand while the breach holds is refused with the rule.
        let e = conformance::resolve(&s.app, &sys, &f[0].id).await.unwrap_err();
        assert!(matches!(&e, isms_app::AppError::Invalid(v) if v[0].code == "still-breached"), "{e:?}");

        // A company administrator may not accept an exception on customer information.
        let companies = isms_app::org::list_companies(&s.app, &sys).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let admin = user_session(&s.app, "aza-admin", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], None).await;
        let (admin_p, _) = isms_app::accounts::session_principal(&s.app, &admin.cookie).await.unwrap();
        let expires = isms_core::calendar::today().saturating_add(jiff::Span::new().days(30)).to_string();
        let e = conformance::accept(&s.app, &admin_p, &f[0].id, AcceptInput { reason: "compensated by pseudonymisation".into(), expires_on: expires.clone() })
            .await
            .unwrap_err();
        assert!(matches!(&e, isms_app::AppError::Invalid(v) if v[0].code == "customer-exception-needs-ciso"), "{e:?}");
        let accepted =
            conformance::accept(&s.app, &sys, &f[0].id, AcceptInput { reason: "compensated by pseudonymisation".into(), expires_on: expires }).await.unwrap();
        assert_eq!(accepted.status, "accepted");
        // A re-check keeps an unexpired exception.
        conformance::recheck_all(&s.app, &sys).await.unwrap();
        assert_eq!(conformance::get(&s.app, &sys, &f[0].id).await.unwrap().status, "accepted");

        // The company administrator sees only their company's register.
        let mine = register::list(&s.app, &admin_p, &all()).await.unwrap();
        assert!(!mine.items.is_empty() && mine.items.iter().all(|a| a.company_id == aza), "{b:?}");

        // Deleting a category in use, or a holder that holds assets, is refused and changes nothing.
        let e = categories::delete(&s.app, &sys, &cust.id).await.unwrap_err();
        assert!(matches!(&e, isms_app::AppError::Invalid(v) if v[0].code == "category-in-use"), "{e:?}");
        let e = supports::delete(&s.app, &sys, &analytics.id).await.unwrap_err();
        assert!(matches!(&e, isms_app::AppError::Invalid(v) if v[0].code == "support-holds-assets"), "{e:?}");
        assert_eq!(register::list(&s.app, &sys, &all()).await.unwrap().total, 10);

        // The demo employee asks to take employee information out; they see only their own
        // requests, cannot decide them, and the company administrator can.
        let users = isms_app::accounts::list_users(&s.app, &sys).await.unwrap();
        let emp_user = users.iter().find(|u| u.username == "employee").unwrap().id.clone();
        let emp = isms_testkit::session_for(&s.app, &emp_user).await;
        let (emp_p, _) = isms_app::accounts::session_principal(&s.app, &emp.cookie).await.unwrap();
        assert!(register::list(&s.app, &emp_p, &all()).await.is_err());
        let staff = categories::list(&s.app, &sys).await.unwrap().into_iter().find(|c| c.code == "EMPLOYEE-PI").unwrap();
        let back = isms_core::calendar::today().saturating_add(jiff::Span::new().days(3)).to_string();
        // A refusal that names the category names it in each language: the Japanese
        // message reads the category's Japanese name.
        let customer = categories::list(&s.app, &sys).await.unwrap().into_iter().find(|c| c.code == "CUSTOMER-PI").unwrap();
        let e = takeouts::request(
            &s.app,
            &emp_p,
            takeouts::TakeoutInput {
                category_id: customer.id.clone(),
                what: "Passenger list".into(),
                purpose: "x".into(),
                medium: "removable_media".into(),
                return_by: back.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        let isms_app::AppError::Invalid(v) = &e else { panic!("{e:?}") };
        let refusal = v.iter().find(|f| f.field == "category_id").expect("the category is refused this way");
        let ja = refusal.args.iter().find(|(k, _)| *k == "category_ja").map(|(_, v)| v.clone());
        assert_eq!(ja.as_deref(), customer.name_ja.as_deref(), "{b:?}: {refusal:?}");
        let t = takeouts::request(
            &s.app,
            &emp_p,
            takeouts::TakeoutInput {
                category_id: staff.id.clone(),
                what: "Shift plan".into(),
                purpose: "Off-site planning".into(),
                medium: "device".into(),
                return_by: back,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            takeouts::decide(&s.app, &emp_p, &t.id, takeouts::DecisionInput { approve: true, note: String::new() }).await,
            Err(isms_app::AppError::Forbidden)
        ));
        assert_eq!(takeouts::list(&s.app, &emp_p, None, 100).await.unwrap().len(), 1);
        let approved = takeouts::decide(&s.app, &admin_p, &t.id, takeouts::DecisionInput { approve: true, note: String::new() }).await.unwrap();
        assert_eq!(approved.status, "approved");
        assert_eq!(takeouts::close(&s.app, &emp_p, &t.id).await.unwrap().status, "returned");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn import_checks_every_row_first_and_round_trips_the_export() {
    use isms_app::assets::transfer;
    use isms_app::people::ImportFailure;
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let sys = isms_app::Principal::system();
        let before = isms_app::audit::list(&s.app, &sys, &isms_store::audit::AuditQuery { limit: 1, ..Default::default() }).await.unwrap().1;

        // Every problem named by line and field; nothing written.
        let bad = "name,category_code,company_code,medium,volume,held_by,owner_employee_number\n\
                   Cargo claims,CUSTOMER-PI,AZC,electronic,12,貨物追跡システム,E00001\n\
                   Cargo claims,CUSTOMER-PI,AZC,electronic,,,\n\
                   Seat maps,NOPE,AZA,electronic,,,\n\
                   Forms,INTERNAL,AZA,paper,lots,Filing cabinet 9,E99999\n\
                   ,INTERNAL,AZX,digital,,,\n";
        let Err(ImportFailure::Rows(errors)) = transfer::import(&s.app, &sys, "bad.csv", bad.as_bytes()).await else { panic!("{b:?}: bad file accepted") };
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [(3, "name"), (4, "category_code"), (5, "owner_employee_number"), (5, "held_by"), (5, "volume"), (6, "name"), (6, "medium")],
            "{b:?}: {errors:?}"
        );
        let after = isms_app::audit::list(&s.app, &sys, &isms_store::audit::AuditQuery { limit: 1, ..Default::default() }).await.unwrap().1;
        assert_eq!(before, after, "{b:?}: a refused import wrote something");

        // A good file: a preview, then the staged file committed by its user.
        let good = "name,category_code,company_code,department_code,medium,volume,held_by,owner_employee_number,review_due\n\
                    Cargo claims,CUSTOMER-PI,AZC,CS,electronic,\"1,200\",貨物追跡システム,E00001,2027-03-31\n\
                    貨物の積荷目録,INTERNAL,AZC,,electronic,95000,貨物追跡システム,,\n";
        let p = transfer::preview(&s.app, &sys, "good.csv", good.as_bytes()).await.unwrap_or_else(|e| panic!("{b:?}: {e}"));
        assert_eq!((p.creates, p.updates), (1, 1));
        assert!(p.rows[0].customer_information);
        let admin = user_session(&s.app, "importer", vec![grant(Role::Ciso, None)], None).await;
        let (who, _) = isms_app::accounts::session_principal(&s.app, &admin.cookie).await.unwrap();
        let (id, _) = transfer::stage(&s.app, &who, "good.csv", good.as_bytes()).await.unwrap();
        // Another user cannot commit it.
        assert!(matches!(transfer::commit_staged(&s.app, &sys, &id).await, Err(ImportFailure::App(isms_app::AppError::NotFound))));
        let done = transfer::commit_staged(&s.app, &who, &id).await.unwrap();
        assert_eq!((done.created, done.updated), (1, 1));
        let all_assets = register::list(&s.app, &sys, &all()).await.unwrap().items;
        let claims = all_assets.iter().find(|a| a.name == "Cargo claims").unwrap();
        assert_eq!(claims.volume, Some(1200));
        assert_eq!(claims.supports.len(), 1);
        // Customer information on a system without the category's protections: found at once.
        let found = conformance::list(&s.app, &sys, &FindingQuery { asset_id: Some(claims.id.clone()), limit: 50, ..Default::default() }).await.unwrap().items;
        assert!(found.iter().all(|f| f.customer_information));
        assert!(matches!(transfer::commit_staged(&s.app, &who, &id).await, Err(ImportFailure::App(isms_app::AppError::NotFound))), "staged file is used once");

        // The XLSX export reads back as an import that changes nothing but updates.
        let resp = admin.client.get(s.url("/assets/export.xlsx")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let xlsx = resp.bytes().await.unwrap();
        let p = transfer::preview(&s.app, &sys, "assets.xlsx", &xlsx).await.unwrap_or_else(|e| panic!("{b:?}: {e}"));
        assert_eq!((p.creates, p.updates), (0, 11), "{b:?}");
        // A file named .xlsx that is not one is refused by name.
        let Err(ImportFailure::Rows(e)) = transfer::preview(&s.app, &sys, "x.xlsx", b"name\nx\n").await else { panic!() };
        assert_eq!(e[0].field, "file");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn the_register_over_json() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let ciso = user_session(&s.app, "api-ciso", vec![grant(Role::Ciso, None)], None).await;
        let c = &ciso.client;
        let cats: serde_json::Value = c.get(s.url("/api/v1/handling-categories")).send().await.unwrap().json().await.unwrap();
        let internal = cats.as_array().unwrap().iter().find(|c| c["code"] == "INTERNAL").unwrap()["id"].as_str().unwrap().to_owned();
        let holders: serde_json::Value = c.get(s.url("/api/v1/supporting-assets?kind=terminal")).send().await.unwrap().json().await.unwrap();
        let laptop = &holders["items"][0];
        let company = laptop["company_id"].as_str().unwrap().to_owned();

        // A bad body names the field; a good one creates the asset and its findings.
        let r = c
            .post(s.url("/api/v1/assets"))
            .header("x-csrf-token", &ciso.csrf)
            .json(&serde_json::json!({"company_id": company, "category_id": internal, "name": "", "medium": "vellum"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let p: serde_json::Value = r.json().await.unwrap();
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "medium"], "{b:?}");
        let r = c
            .post(s.url("/api/v1/assets"))
            .header("x-csrf-token", &ciso.csrf)
            .json(
                &serde_json::json!({"company_id": company, "category_id": internal, "name": "Gate lists", "medium": "electronic", "supports": [laptop["id"]]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{b:?}");
        let created: serde_json::Value = r.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        let f: serde_json::Value = c.get(s.url(&format!("/api/v1/asset-findings?asset_id={id}&status=open"))).send().await.unwrap().json().await.unwrap();
        let rules: Vec<&str> = f["items"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
        assert!(rules.contains(&"owner-missing") && rules.contains(&"terminal-unencrypted"), "{b:?}: {rules:?}");

        // Search: a substring of a name or description (trigram index on SQLite, LIKE on
        // PostgreSQL); short terms and `%` match literally.
        for (q, n) in [("予約", 2), ("旅客予約", 1), ("GATE lis", 1), ("会員", 1), ("%", 0), ("gate", 1), ("\"x", 0)] {
            let r: serde_json::Value =
                c.get(s.url(&format!("/api/v1/assets?q={}", isms_web::context::url_encode(q)))).send().await.unwrap().json().await.unwrap();
            assert_eq!(r["total"], n, "{b:?}: search {q:?} gave {r}");
        }
        // Marking a category as customer information marks its assets at once.
        let customer: serde_json::Value = c.get(s.url("/api/v1/assets?customer_information=true")).send().await.unwrap().json().await.unwrap();
        assert_eq!(customer["total"], 4, "{b:?}");
        let cat: serde_json::Value = c.get(s.url(&format!("/api/v1/handling-categories/{internal}"))).send().await.unwrap().json().await.unwrap();
        let mut body = cat.clone();
        body["rules"]["customer_information"] = true.into();
        body["rules"]["personal_information"] = true.into();
        body["rules"]["take_out"] = "never".into();
        let r = c.put(s.url(&format!("/api/v1/handling-categories/{internal}"))).header("x-csrf-token", &ciso.csrf).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "{b:?}: {}", r.text().await.unwrap());
        let customer: serde_json::Value = c.get(s.url("/api/v1/assets?customer_information=true")).send().await.unwrap().json().await.unwrap();
        assert_eq!(customer["total"], 6, "{b:?}: INTERNAL holds two assets now");
        let r = c.put(s.url(&format!("/api/v1/handling-categories/{internal}"))).header("x-csrf-token", &ciso.csrf).json(&cat).send().await.unwrap();
        assert_eq!(r.status(), 200);

        // Import over JSON: a dry run writes nothing and problems point at line and field.
        let csv = "name,category_code,company_code,medium\nGate lists,INTERNAL,AZA,electronic\nNew list,INTERNAL,AZA,fax\n";
        let r = c
            .post(s.url("/api/v1/assets/import?dry_run=true"))
            .header("x-csrf-token", &ciso.csrf)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["pointer"], "/lines/3/medium", "{b:?}");
        let r = c
            .post(s.url("/api/v1/assets/import?dry_run=true"))
            .header("x-csrf-token", &ciso.csrf)
            .header("content-type", "text/csv")
            .body("name,category_code,company_code,medium\nGate lists,INTERNAL,AZA,electronic\n")
            .send()
            .await
            .unwrap();
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["preview"]["updates"], 1, "{b:?}: {p}");

        // Delete: the asset goes, its findings with it; a holder that still holds something stays.
        assert_eq!(c.delete(s.url(&format!("/api/v1/assets/{id}"))).header("x-csrf-token", &ciso.csrf).send().await.unwrap().status(), 204);
        assert_eq!(c.get(s.url(&format!("/api/v1/assets/{id}"))).send().await.unwrap().status(), 404);
        let r =
            c.delete(s.url(&format!("/api/v1/supporting-assets/{}", laptop["id"].as_str().unwrap()))).header("x-csrf-token", &ciso.csrf).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["code"], "support-holds-assets");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn owners_confirm_reviews_and_decide_on_their_assets() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let sys = isms_app::Principal::system();
        let rosters = register::list(&s.app, &sys, &all()).await.unwrap().items.into_iter().find(|a| a.name == "乗務員の勤務表").unwrap();
        // Give the asset an owner with no other role, and make its review overdue.
        let owner_person = isms_app::people::list(
            &s.app,
            &sys,
            &isms_store::org::PeopleQuery { company_id: Some(rosters.company_id.clone()), limit: 100, offset: 30, ..Default::default() },
        )
        .await
        .unwrap()
        .items[0]
            .clone();
        let mut input: isms_app::assets::AssetInput = serde_json::from_value(serde_json::to_value(&rosters).unwrap()).unwrap();
        input.owner_id = Some(owner_person.employee_number.clone());
        input.review_due = Some(isms_core::calendar::today().saturating_sub(jiff::Span::new().days(1)).to_string());
        register::update(&s.app, &sys, &rosters.id, input).await.unwrap();
        let overdue = conformance::list(
            &s.app,
            &sys,
            &FindingQuery {
                asset_id: Some(rosters.id.clone()),
                rule: Some("review-overdue".into()),
                status: Some("open".into()),
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(overdue.total, 1, "{b:?}");
        let owner = user_session(&s.app, "owner", vec![grant(Role::Employee, None)], Some(owner_person.id.clone())).await;
        let (owner_p, _) = isms_app::accounts::session_principal(&s.app, &owner.cookie).await.unwrap();

        // The owner's review list holds the asset; confirming it resolves the finding.
        let html = owner.client.get(s.url("/assets/reviews")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("乗務員の勤務表"), "{b:?}");
        register::confirm_review(&s.app, &owner_p, &rosters.id).await.unwrap();
        assert!(register::reviews_due(&s.app, &owner_p, 60).await.unwrap().is_empty());
        assert_eq!(conformance::get(&s.app, &sys, &overdue.items[0].id).await.unwrap().status, "resolved", "{b:?}");
        // Someone else without authority may not confirm it.
        let users = isms_app::accounts::list_users(&s.app, &sys).await.unwrap();
        let emp_user = users.iter().find(|u| u.username == "employee").unwrap().id.clone();
        let emp = isms_testkit::session_for(&s.app, &emp_user).await;
        let (emp_p, _) = isms_app::accounts::session_principal(&s.app, &emp.cookie).await.unwrap();
        assert!(register::confirm_review(&s.app, &emp_p, &rosters.id).await.is_err());

        // A request for the owner's asset reaches the owner, who may decide it.
        let back = isms_core::calendar::today().saturating_add(jiff::Span::new().days(2)).to_string();
        let t = takeouts::request(
            &s.app,
            &emp_p,
            takeouts::TakeoutInput {
                category_id: rosters.category_id.clone(),
                asset_id: Some(rosters.id.clone()),
                what: "Rosters".into(),
                purpose: "Crew meeting".into(),
                medium: "paper".into(),
                return_by: back,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(takeouts::list(&s.app, &owner_p, None, 100).await.unwrap().len(), 1, "{b:?}");
        assert_eq!(takeouts::awaiting_decision(&s.app, &owner_p).await.unwrap(), 1);
        assert_eq!(takeouts::awaiting_decision(&s.app, &emp_p).await.unwrap(), 0, "never one's own");
        let decided =
            takeouts::decide(&s.app, &owner_p, &t.id, takeouts::DecisionInput { approve: false, note: "Use the crew portal instead".into() }).await.unwrap();
        assert_eq!(decided.status, "rejected");
        s.db.drop_schema().await;
    }
}
