//! People: CSV import all-or-nothing, validation errors as problem+json with field paths.

use isms_core::Role;
use isms_testkit::{TestServer, backends, grant, user_session};
use reqwest::StatusCode;

async fn count(s: &TestServer) -> u64 {
    isms_app::people::list(&s.app, &isms_app::Principal::system(), &isms_store::org::PeopleQuery { limit: 1, ..Default::default() }).await.unwrap().total
}

#[tokio::test]
async fn csv_import_names_bad_rows_and_writes_nothing() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let hr = user_session(&s.app, "hr-all", vec![grant(Role::Hr, None)], None).await;
        let before = count(&s).await;
        let bad = "employee_number,name,email,company_code,department_code\nN-1,Good Row,good@x.example,AZA,IT\nN-2,Bad Mail,not-an-address,AZA,IT\nN-3,No Company,c@x.example,NOPE,\nN 4,Bad Number,d@x.example,AZA,IT\nN-5,Bad Dept,e@x.example,AZA,ZZZ\n";
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bad.as_bytes().to_vec()).file_name("p.csv"));
        let r = hr.client.post(s.url("/people/import")).header("x-csrf-token", &hr.csrf).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        let html = r.text().await.unwrap();
        for (line, field) in [("3", "email"), ("4", "company_code"), ("5", "employee_number"), ("6", "department_code")] {
            assert!(html.contains(&format!("<td>{line}</td><td><code>{field}</code>")), "{b:?}: line {line} {field} not reported:\n{html}");
        }
        assert_eq!(count(&s).await, before, "nothing half-imported");

        let good = "employee_number,name,email,company_code,department_code,manager_employee_number,status,joined_on\nN-1,New One,n1@x.example,AZA,IT,N-2,active,2024-04-01\nN-2,New Two,n2@x.example,AZA,IT,,active,2020-04-01\nE00001,Renamed Person,e1@renamed.example,AZH,IT,,on_leave,\n";
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(good.as_bytes().to_vec()).file_name("p.csv"));
        let r = hr.client.post(s.url("/people/import")).header("x-csrf-token", &hr.csrf).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b:?}");
        assert!(r.text().await.unwrap().contains("import-ok"));
        assert_eq!(count(&s).await, before + 2);
        let body: serde_json::Value = hr.client.get(s.url("/api/v1/people?q=N-1")).send().await.unwrap().json().await.unwrap();
        let n1 = &body["items"][0];
        let n2: serde_json::Value = hr.client.get(s.url("/api/v1/people?q=N-2")).send().await.unwrap().json().await.unwrap();
        assert_eq!(n1["manager_id"], n2["items"][0]["id"], "manager linked even when listed later");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn company_hr_cannot_import_into_another_company() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let companies = isms_app::org::list_companies(&s.app, &isms_app::Principal::system()).await.unwrap();
        let azc = companies.iter().find(|c| c.code == "AZC").unwrap();
        let hr = user_session(&s.app, "hr-azc", vec![grant(Role::Hr, Some(&azc.id))], None).await;
        let csv = "employee_number,name,email,company_code\nQ-1,Mine,q1@x.example,AZC\nQ-2,Not Mine,q2@x.example,AZA\n";
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("p.csv"));
        let r = hr.client.post(s.url("/people/import")).header("x-csrf-token", &hr.csrf).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("<td>3</td><td><code>company_code</code>"));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn api_errors_are_problem_details_with_field_paths() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let hr = user_session(&s.app, "hr-api", vec![grant(Role::Hr, None)], None).await;
        let companies = isms_app::org::list_companies(&s.app, &isms_app::Principal::system()).await.unwrap();
        let r = hr
            .client
            .post(s.url("/api/v1/people"))
            .header("x-csrf-token", &hr.csrf)
            .json(&serde_json::json!({"employee_number": "bad number", "name": "", "email": "nope", "company_id": companies[1].id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = r.json().await.unwrap();
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["employee_number", "name", "email"], "{b:?}");
        assert_eq!(p["errors"][0]["pointer"], "/employee_number");

        let r = hr
            .client
            .post(s.url("/api/v1/people"))
            .header("x-csrf-token", &hr.csrf)
            .header("content-type", "application/json")
            .body("{\"employee_number\": \"A1\",\n \"name\": 5}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "name");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("line 2"), "{p}");

        // A duplicate is a field error, not a 500.
        let existing: serde_json::Value = hr.client.get(s.url("/api/v1/people?limit=1")).send().await.unwrap().json().await.unwrap();
        let e = &existing["items"][0];
        let r = hr
            .client
            .post(s.url("/api/v1/people"))
            .header("x-csrf-token", &hr.csrf)
            .json(&serde_json::json!({"employee_number": e["employee_number"], "name": "Dup", "email": "dup@x.example", "company_id": e["company_id"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b:?}");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "employee_number");

        // Editing through the form keeps what was typed and marks the field.
        let id = e["id"].as_str().unwrap();
        let r = hr
            .client
            .post(s.url(&format!("/people/{id}/edit")))
            .form(&[
                ("_csrf", hr.csrf.as_str()),
                ("employee_number", "E-KEEP"),
                ("name", "Kept Name"),
                ("email", "broken"),
                ("company_id", e["company_id"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text().await.unwrap();
        assert!(html.contains("value=\"Kept Name\"") && html.contains("id=\"email-error\""), "{b:?}");
        s.db.drop_schema().await;
    }
}
