//! Documents on both backends: the approval lifecycle with its refusals, frozen published
//! versions (also through the API), who sees what, reading confirmation that a new version
//! asks again, comparison, attachments checked by content, and the public pages.

use crate::code_of;
use isms_app::accounts::acting_as;
use isms_app::policies::documents::{self, DocQuery, DocumentInput};
use isms_app::policies::reading;
use isms_app::policies::versions::{self, DecisionInput, VersionInput};
use isms_app::{AppError, notify};
use isms_core::Role;
use isms_testkit::{TestServer, backends, client, grant, user_session};

#[tokio::test]
async fn lifecycle_visibility_acknowledgement_and_public_pages() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let ciso = acting_as(app, "ciso").await.unwrap();
        let council = acting_as(app, "council").await.unwrap();
        let committee = acting_as(app, "committee").await.unwrap();
        let employee = acting_as(app, "employee").await.unwrap();
        let body = "# Access regulation\n\nCustomer data is <script>alert(1)</script> never mailed.\n\n[click](javascript:alert(1))\n";
        let input = DocumentInput {
            code: "reg-9".into(),
            kind: "regulation".into(),
            title: "Access regulation".into(),
            owner_id: "E00001".into(),
            language: "en".into(),
            public: true,
            must_acknowledge: true,
            body: body.into(),
            ..Default::default()
        };
        // Bad input names its fields and writes nothing.
        let bad =
            DocumentInput { code: "-".into(), kind: "memo".into(), title: "".into(), owner_id: "E99999".into(), language: "fr".into(), ..Default::default() };
        let e = documents::create(app, &ciso, bad).await.unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["code", "kind", "title", "language", "owner_id"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let d = documents::create(app, &ciso, input.clone()).await.unwrap();
        assert_eq!(d.code, "REG-9");
        assert_eq!(code_of(&documents::create(app, &ciso, input.clone()).await.unwrap_err()), "doc-code-taken");

        // The employee does not see a document that is not published.
        assert!(documents::get(app, &employee, &d.id).await.is_err(), "{b:?}");
        assert!(documents::list(app, &employee, &DocQuery::default()).await.unwrap().items.iter().all(|x| x.id != d.id));

        // Approval: only the Committee approves regulations, never the author, and a rejection needs a reason.
        versions::submit(app, &ciso, &d.id, 1).await.unwrap();
        assert!(matches!(versions::decide(app, &ciso, &d.id, 1, DecisionInput { approve: true, note: String::new() }).await, Err(AppError::Forbidden)));
        assert!(matches!(versions::decide(app, &council, &d.id, 1, DecisionInput { approve: true, note: String::new() }).await, Err(AppError::Forbidden)));
        assert!(matches!(versions::decide(app, &employee, &d.id, 1, DecisionInput { approve: true, note: String::new() }).await, Err(AppError::NotFound)));
        assert_eq!(code_of(&versions::publish(app, &ciso, &d.id, 1).await.unwrap_err()), "version-state");
        assert_eq!(
            code_of(&versions::decide(app, &committee, &d.id, 1, DecisionInput { approve: false, note: " ".into() }).await.unwrap_err()),
            "rejection-reason"
        );
        let v = versions::decide(app, &committee, &d.id, 1, DecisionInput { approve: false, note: "name the retention period".into() }).await.unwrap();
        assert_eq!(v.state.code(), "draft");
        assert_eq!(v.decision_note, "name the retention period");
        versions::edit(
            app,
            &ciso,
            &d.id,
            1,
            VersionInput { title: "Access regulation".into(), body: format!("{body}\nRecords are kept 5 years.\n"), summary: "first".into() },
        )
        .await
        .unwrap();
        versions::submit(app, &ciso, &d.id, 1).await.unwrap();
        // The Committee member was told, in the inbox.
        let inbox = notify::inbox(app, &committee, true, 50).await.unwrap();
        assert!(inbox.iter().any(|n| n.kind == "policy-approval" && n.link.contains(&d.id)), "{b:?}");
        let v = versions::decide(app, &committee, &d.id, 1, DecisionInput { approve: true, note: String::new() }).await.unwrap();
        assert_eq!(v.state.code(), "approved");
        // The request is answered: the inbox stops asking and shows it done.
        let asked = notify::inbox(app, &committee, false, 50).await.unwrap();
        let asked: Vec<_> = asked.iter().filter(|n| n.kind == "policy-approval" && n.link.contains(&d.id)).collect();
        assert!(!asked.is_empty() && asked.iter().all(|n| n.done && n.read), "{b:?}: {asked:?}");
        assert!(!notify::inbox(app, &committee, true, 50).await.unwrap().iter().any(|n| n.kind == "policy-approval" && n.link.contains(&d.id)));
        assert_eq!(
            code_of(&versions::decide(app, &committee, &d.id, 1, DecisionInput { approve: true, note: String::new() }).await.unwrap_err()),
            "version-state"
        );
        let v = versions::publish(app, &ciso, &d.id, 1).await.unwrap();
        assert_eq!(v.state.code(), "published");

        // Published is frozen: no edit, no file, no state change but retirement.
        let e = versions::edit(app, &ciso, &d.id, 1, VersionInput { title: "x".into(), body: "y".into(), summary: String::new() }).await.unwrap_err();
        assert_eq!(code_of(&e), "version-frozen");
        assert_eq!(code_of(&versions::attach(app, &ciso, &d.id, 1, "a.pdf", b"%PDF-1.4 x".to_vec()).await.unwrap_err()), "version-frozen");
        assert_eq!(code_of(&versions::submit(app, &ciso, &d.id, 1).await.unwrap_err()), "version-state");
        let detail = documents::get(app, &ciso, &d.id).await.unwrap();
        assert_eq!(detail.document.current_version, Some(1));
        let due = isms_core::policies::next_review(isms_core::calendar::today(), 12).to_string();
        assert_eq!(detail.document.review_due.as_deref(), Some(due.as_str()));

        // Everyone it applies to is asked; the employee reads and confirms this exact version.
        let emp = documents::get(app, &employee, &d.id).await.unwrap();
        assert_eq!(emp.acknowledged, Some(false));
        assert_eq!(emp.versions.len(), 1, "only the version in force");
        assert!(notify::inbox(app, &employee, true, 100).await.unwrap().iter().any(|n| n.kind == "policy-acknowledge" && n.link.contains(&d.id)));
        assert_eq!(reading::acknowledge(app, &employee, &d.id).await.unwrap(), 1);
        let read = notify::inbox(app, &employee, false, 100).await.unwrap();
        assert!(read.iter().filter(|n| n.kind == "policy-acknowledge" && n.link.contains(&d.id)).all(|n| n.done), "{b:?}: reading it ends the request");
        let others = notify::inbox(app, &ciso, false, 100).await.unwrap();
        assert!(!others.iter().any(|n| n.kind == "policy-acknowledge" && n.link.contains(&d.id) && n.done), "{b:?}: only the reader's own request ends");
        assert_eq!(code_of(&reading::acknowledge(app, &employee, &d.id).await.unwrap_err()), "already-acknowledged");
        let p = reading::progress(app, &ciso, &d.id).await.unwrap();
        assert_eq!(p.acknowledged, 1);
        assert!(p.asked > 200, "{}", p.asked);
        assert_eq!(p.by_company.iter().map(|t| t.asked).sum::<u64>(), p.asked);
        assert!(matches!(reading::progress(app, &employee, &d.id).await, Err(AppError::Forbidden)));

        // A new version asks again; the two can be compared.
        versions::new_version(app, &ciso, &d.id).await.unwrap();
        assert_eq!(code_of(&versions::new_version(app, &ciso, &d.id).await.unwrap_err()), "version-open");
        versions::edit(
            app,
            &ciso,
            &d.id,
            2,
            VersionInput { title: "Access regulation".into(), body: format!("{body}\nRecords are kept 7 years.\n"), summary: "retention".into() },
        )
        .await
        .unwrap();
        // Files: checked by content, kept with their checksum.
        assert_eq!(code_of(&versions::attach(app, &ciso, &d.id, 2, "form.pdf", b"MZ\x90\x00 not a pdf".to_vec()).await.unwrap_err()), "file-mismatch");
        let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
        let f = versions::attach(app, &ciso, &d.id, 2, "form.pdf", pdf.clone()).await.unwrap();
        use sha2::Digest;
        assert_eq!(f.sha256, hex::encode(sha2::Sha256::digest(&pdf)));
        versions::submit(app, &ciso, &d.id, 2).await.unwrap();
        versions::decide(app, &committee, &d.id, 2, DecisionInput { approve: true, note: String::new() }).await.unwrap();
        versions::publish(app, &ciso, &d.id, 2).await.unwrap();
        let (_, _, rows) = versions::compare(app, &ciso, &d.id, 1, 2).await.unwrap();
        assert!(rows.iter().any(|r| r.kind == isms_core::policies::diff::RowKind::Changed), "{b:?}");
        let detail = documents::get(app, &ciso, &d.id).await.unwrap();
        assert_eq!(detail.versions.iter().map(|v| v.state.code()).collect::<Vec<_>>(), ["published", "retired"]);
        assert_eq!(documents::get(app, &employee, &d.id).await.unwrap().acknowledged, Some(false), "a new version asks again");

        // The public pages: only public documents in force, text inert, files served.
        let anon = client();
        let list = anon.get(s.url("/public/policies")).send().await.unwrap().text().await.unwrap();
        // In the reader's language; a document without a counterpart in its own.
        assert!(
            list.contains("Access regulation") && list.contains("情報セキュリティ基本方針") && !list.contains("Basic Information Security Policy"),
            "{b:?}"
        );
        let en = anon.get(s.url("/public/policies")).header("Accept-Language", "en").send().await.unwrap().text().await.unwrap();
        assert!(en.contains("Basic Information Security Policy") && !en.contains("情報セキュリティ基本方針"), "{b:?}");
        assert!(!list.contains("個人情報保護ハンドブック"), "the Handbook is not public");
        let page = anon.get(s.url("/public/policies/REG-9")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert"), "{b:?}");
        assert!(!html.contains("href=\"javascript"));
        assert!(html.contains("kept 7 years") && !html.contains("kept 5 years"), "the version in force");
        let file_id = documents::get(app, &ciso, &d.id).await.unwrap().versions[0].attachments[0].id.clone();
        let got = anon.get(s.url(&format!("/public/policies/REG-9/files/{file_id}"))).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
        assert_eq!(anon.get(s.url("/public/policies/HBK-001")).send().await.unwrap().status(), 404);
        let api: Vec<serde_json::Value> = anon.get(s.url("/api/v1/public/documents")).send().await.unwrap().json().await.unwrap();
        assert!(api.iter().all(|d| d["code"] != "HBK-001" && d["code"] != "PRC-001"));

        // The basic policy: each language links to the other in that language; the title
        // is shown once; a revised Japanese text tells the English reader theirs is behind.
        let ja_page = anon.get(s.url("/public/policies/POL-001")).send().await.unwrap().text().await.unwrap();
        assert!(ja_page.contains("hreflang=\"en\" id=\"translation-link\">English version</a>"), "{b:?}");
        assert_eq!(ja_page.matches("情報セキュリティ基本方針</h1>").count(), 1, "{b:?}: the title once");
        assert!(!ja_page.contains("translation-behind"), "{b:?}");
        let pol = documents::list(app, &ciso, &DocQuery { search: Some("POL-001".into()), ..Default::default() }).await.unwrap();
        let pol_ja = pol.items.iter().find(|x| x.code == "POL-001").unwrap().id.clone();
        let council = acting_as(app, "council").await.unwrap();
        versions::new_version(app, &ciso, &pol_ja).await.unwrap();
        versions::edit(
            app,
            &ciso,
            &pol_ja,
            2,
            VersionInput {
                title: "情報セキュリティ基本方針".into(), body: "# 情報セキュリティ基本方針\n\n改定しました。\n".into(), summary: "改定".into()
            },
        )
        .await
        .unwrap();
        versions::submit(app, &ciso, &pol_ja, 2).await.unwrap();
        versions::decide(app, &council, &pol_ja, 2, DecisionInput { approve: true, note: String::new() }).await.unwrap();
        versions::publish(app, &ciso, &pol_ja, 2).await.unwrap();
        let en_page = anon.get(s.url("/public/policies/POL-001-EN")).header("Accept-Language", "en").send().await.unwrap().text().await.unwrap();
        assert!(en_page.contains("id=\"translation-behind\"") && en_page.contains("version 2"), "{b:?}: the English reader is told");
        assert!(en_page.contains("hreflang=\"ja\" id=\"translation-link\">日本語版</a>"), "{b:?}");
        let ja_page = anon.get(s.url("/public/policies/POL-001")).send().await.unwrap().text().await.unwrap();
        assert!(!ja_page.contains("translation-behind") && ja_page.contains("改定しました"), "{b:?}");

        // Retiring takes it off the public pages.
        versions::retire_document(app, &ciso, &d.id).await.unwrap();
        assert_eq!(anon.get(s.url("/public/policies/REG-9")).send().await.unwrap().status(), 404);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_companys_documents_stay_in_the_company_and_published_versions_refuse_the_api() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let sys = isms_app::Principal::system();
        let companies = isms_app::org::list_companies(app, &sys).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let other = companies.iter().find(|c| c.code != "AZA" && !c.is_holding).unwrap().id.clone();
        let admin = user_session(app, "aza-docs", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], None).await;
        let create = serde_json::json!({"code": "AZA-PRC-2", "kind": "procedure", "title": "Laptop loss procedure", "owner_id": "E00001", "language": "en", "company_id": aza, "body": "Report at once."});
        // Without the CSRF header a browser session may not change anything.
        let r = admin.client.post(s.url("/api/v1/documents")).json(&create).send().await.unwrap();
        assert_eq!(r.status(), 403, "{b:?}");
        // A group document is out of this administrator's reach.
        let group = serde_json::json!({"code": "GRP-1", "kind": "procedure", "title": "Group", "owner_id": "E00001", "language": "en", "body": "x"});
        let r = admin.client.post(s.url("/api/v1/documents")).header("X-CSRF-Token", &admin.csrf).json(&group).send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("company_id"));
        let r = admin.client.post(s.url("/api/v1/documents")).header("X-CSRF-Token", &admin.csrf).json(&create).send().await.unwrap();
        assert_eq!(r.status(), 201, "{b:?}");
        let doc: serde_json::Value = r.json().await.unwrap();
        let id = doc["id"].as_str().unwrap().to_owned();
        assert_eq!(doc["applies_to"], serde_json::json!([aza]));
        let r = admin.client.post(s.url(&format!("/api/v1/documents/{id}/versions/1/submit"))).header("X-CSRF-Token", &admin.csrf).send().await.unwrap();
        assert_eq!(r.status(), 200);
        // The CISO (group-wide) approves a company's procedure.
        let ciso = acting_as(app, "ciso").await.unwrap();
        versions::decide(app, &ciso, &id, 1, DecisionInput { approve: true, note: String::new() }).await.unwrap();
        let r = admin.client.post(s.url(&format!("/api/v1/documents/{id}/versions/1/publish"))).header("X-CSRF-Token", &admin.csrf).send().await.unwrap();
        assert_eq!(r.status(), 200);
        // Not even the API edits a published version.
        let r = admin
            .client
            .put(s.url(&format!("/api/v1/documents/{id}/versions/1")))
            .header("X-CSRF-Token", &admin.csrf)
            .json(&serde_json::json!({"title": "changed", "body": "changed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("version-frozen"));
        let v: serde_json::Value = admin.client.get(s.url(&format!("/api/v1/documents/{id}/versions/1"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(v["body"], "Report at once.");
        // People of another company neither see it nor read it; AZA's employee does.
        let outsider_person =
            isms_app::people::list(app, &sys, &isms_store::org::PeopleQuery { company_id: Some(other.clone()), limit: 1, ..Default::default() })
                .await
                .unwrap()
                .items
                .remove(0);
        let outsider = user_session(app, "outsider", vec![grant(Role::Employee, Some(&other))], Some(outsider_person.id.clone())).await;
        assert_eq!(outsider.client.get(s.url(&format!("/api/v1/documents/{id}"))).send().await.unwrap().status(), 404);
        assert_eq!(outsider.client.get(s.url(&format!("/policies/{id}"))).send().await.unwrap().status(), 404);
        let list: serde_json::Value = outsider.client.get(s.url("/api/v1/documents")).send().await.unwrap().json().await.unwrap();
        assert!(list["items"].as_array().unwrap().iter().all(|d| d["id"] != id.as_str()));
        let employee = acting_as(app, "employee").await.unwrap();
        assert!(documents::get(app, &employee, &id).await.is_ok());
        s.db.drop_schema().await;
    }
}
