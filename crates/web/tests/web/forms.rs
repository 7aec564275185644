//! Every form with a typed field (a number) keeps what was sent when that field is
//! refused: the page comes back with the refusal beside the field, the text typed into it,
//! and every other value as it was sent; nothing is written.

use isms_core::Role;
use isms_testkit::{TestServer, grant, user_session};
use reqwest::StatusCode;
use serde_json::json;

/// A form, the values sent with it (each must come back), and its typed fields.
struct Form {
    path: String,
    kept: Vec<(&'static str, &'static str)>,
    typed: &'static [&'static str],
}

fn form(path: impl Into<String>, kept: &[(&'static str, &'static str)], typed: &'static [&'static str]) -> Form {
    Form { path: path.into(), kept: kept.to_vec(), typed }
}

#[tokio::test]
async fn every_form_keeps_what_was_sent_when_a_number_is_refused() {
    let s = TestServer::start(isms_testkit::Backend::Sqlite).await;
    s.demo().await;
    let roles = [Role::Ciso, Role::SystemAdministrator, Role::CsirtMember, Role::CompanySecurityAdmin];
    let c = user_session(&s.app, "forms", roles.iter().map(|r| grant(*r, None)).collect(), None).await;
    let companies: serde_json::Value = c.client.get(s.url("/api/v1/companies")).send().await.unwrap().json().await.unwrap();
    let company = companies.as_array().and_then(|a| a.first()).and_then(|c| c["id"].as_str()).unwrap().to_owned();
    let case: serde_json::Value = c
        .client
        .post(s.url("/api/v1/incidents"))
        .header("x-csrf-token", &c.csrf)
        .json(&json!({"title": "Lost laptop", "company_id": company}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = case["id"].as_str().unwrap().to_owned();
    let forms = [
        form("/assets/new", &[("name", "Keep-asset-name"), ("description", "Keep-asset-description")], &["volume", "review_months"]),
        form("/assets/categories/new", &[("code", "KEEPCAT"), ("name", "Keep-category-name"), ("description", "Keep-category-text")], &["retention_months"]),
        form("/risks/matrix", &[("likelihood.1.label", "Keep-level-one"), ("impact.1.label", "Keep-impact-one")], &["medium", "critical"]),
        form("/controls/new", &[("code", "KEEP-01"), ("title", "Keep-control-title"), ("description", "Keep-control-text")], &["review_months"]),
        form("/policies/new", &[("code", "KEEP-POL"), ("title", "Keep-policy-title"), ("body", "Keep-policy-body")], &["review_months"]),
        form(
            format!("/incidents/{case}/facts"),
            &[("title", "Keep-case-title"), ("root_cause", "Keep-root-cause"), ("lessons", "Keep-lessons"), ("data_categories", "Keep-categories")],
            &["people_affected"],
        ),
        form("/monitoring/sources", &[("name", "Keep-source-name"), ("kind", "json")], &["expected_minutes"]),
        form("/monitoring/intel", &[("name", "Keep-feed-name"), ("url", "https://feeds.example/keep")], &["interval_minutes"]),
        form("/monitoring/oncall", &[("name", "Keep-rotation-name")], &["ack_minutes", "shift_hours"]),
        form("/admin/tokens", &[("name", "Keep-token-name")], &["expires_in_days"]),
        // One row of a table of forms: the refused row comes back as typed, its error beside it.
        form("/policies/kinds", &[("kind", "procedure"), ("approver_role", "auditor")], &["approvals_needed", "review_months"]),
    ];
    let before = audit_count(&s).await;
    for f in &forms {
        for (i, field) in f.typed.iter().enumerate() {
            // A number written as people write it, different per field so each is found.
            let bad = format!("約{}万件", 12 + i);
            let mut body: Vec<(&str, String)> = vec![("_csrf", c.csrf.clone())];
            body.extend(f.kept.iter().map(|(k, v)| (*k, (*v).to_owned())));
            body.push((field, bad.clone()));
            let r = c.client.post(s.url(&f.path)).form(&body).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{} with {field}={bad}", f.path);
            let page = r.text().await.unwrap();
            for (k, v) in &f.kept {
                assert!(page.contains(v), "{}: {k} was not kept when {field} was refused", f.path);
            }
            assert!(page.contains(&format!("value=\"{bad}\"")), "{}: what was typed into {field} is not in the field", f.path);
            assert!(page.contains("field-error"), "{}: no refusal beside {field}", f.path);
        }
    }
    assert_eq!(audit_count(&s).await, before, "a refused form wrote something");
}

async fn audit_count(s: &TestServer) -> i64 {
    use isms_store::sea_orm::ConnectionTrait;
    let db = s.app.store.conn();
    db.query_one_raw(isms_store::sea_orm::Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM audit_log"))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}
