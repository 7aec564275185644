//! Incidents on both backends: a report with a single line, steps in order with their
//! reasons, the clocks following the facts, sealed personal notes whose readings are
//! logged, and need to know (personal-data cases only for the CSIRT, the CISO and
//! members; company administrators only their company's cases).

use crate::code_of;
use isms_app::AppError;
use isms_app::accounts::acting_as;
use isms_app::incidents::cases::{self, FactsInput, IncidentQuery, NoteInput, ReportInput, TransitionInput};
use isms_app::incidents::clocks::{self, DoneInput};
use isms_core::Role;
use isms_core::incidents::clocks::ClockKind;
use isms_store::incidents::event;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use isms_testkit::{TestServer, backends, grant, user_session};

fn to(s: &str) -> TransitionInput {
    TransitionInput { to: s.into(), reason: String::new() }
}

#[tokio::test]
async fn report_triage_clocks_need_to_know_and_close() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let sys = isms_app::Principal::system();
        let employee = acting_as(app, "employee").await.unwrap();
        let csirt = acting_as(app, "csirt").await.unwrap();
        let ciso = acting_as(app, "ciso").await.unwrap();
        let auditor = acting_as(app, "auditor").await.unwrap();
        let companies = isms_app::org::list_companies(app, &sys).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let other = companies.iter().find(|c| c.code == "AZC").unwrap().id.clone();
        let aza_admin_s = user_session(app, "aza-sec", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], None).await;
        let (aza_admin, _) = isms_app::accounts::session_principal(app, &aza_admin_s.cookie).await.unwrap();
        let azc_admin_s = user_session(app, "azc-sec", vec![grant(Role::CompanySecurityAdmin, Some(&other))], None).await;
        let (azc_admin, _) = isms_app::accounts::session_principal(app, &azc_admin_s.cookie).await.unwrap();

        // A single line is enough; a bad time names its field and saves nothing.
        let e =
            cases::report(app, &employee, ReportInput { title: "x".into(), discovered_at: Some("yesterday".into()), ..Default::default() }).await.unwrap_err();
        assert_eq!(code_of(&e), "moment");
        let i = cases::report(app, &employee, ReportInput { title: "Customer list mailed to the wrong address".into(), ..Default::default() }).await.unwrap();
        assert_eq!(i.status.code(), "reported");
        assert_eq!(i.company_id, aza);
        assert!(i.reference.starts_with("INC-"), "{}", i.reference);
        let second =
            cases::report(app, &employee, ReportInput { title: "Suspicious mail".into(), kind: Some("phishing".into()), ..Default::default() }).await.unwrap();
        assert_ne!(second.reference, i.reference);
        // The CSIRT is told.
        assert!(isms_app::notify::inbox(app, &csirt, true, 50).await.unwrap().iter().any(|n| n.kind == "incident-reported" && n.link.contains(&i.id)));

        // Steps go in order, each with what it needs.
        assert_eq!(code_of(&cases::transition_to(app, &csirt, &i.id, to("containment")).await.unwrap_err()), "incident-skips");
        assert!(matches!(cases::transition_to(app, &employee, &i.id, to("triage")).await, Err(AppError::Forbidden)));
        cases::transition_to(app, &csirt, &i.id, to("triage")).await.unwrap();
        assert_eq!(code_of(&cases::transition_to(app, &csirt, &i.id, to("containment")).await.unwrap_err()), "incident-needs-severity");

        // The facts: customer data of 1,500 people, mailed out by mistake (no unlawful purpose).
        let known_ms = i.discovered_ms;
        let facts = FactsInput {
            title: i.title.clone(),
            kind: "data_leak".into(),
            impact: Some("significant".into()),
            exposure: Some("customer".into()),
            personal_data: Some(true),
            people_affected: Some(1500),
            data_categories: "name, mileage number, e-mail".into(),
            techniques: vec!["t1078, T1566.002".into()],
            ..Default::default()
        };
        let bad = FactsInput { techniques: vec!["T99".into()], people_affected: Some(-1), ..facts.clone() };
        let e = cases::update_facts(app, &csirt, &i.id, bad).await.unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert!(errs.iter().any(|e| e.field == "techniques") && errs.iter().any(|e| e.field == "people_affected"));
        let d = cases::update_facts(app, &csirt, &i.id, facts.clone()).await.unwrap();
        assert_eq!(d.incident.severity, Some(4), "significant × customer");
        assert_eq!(d.incident.techniques, ["T1078", "T1566.002"]);
        assert!(d.decision.appi);
        let kinds: Vec<ClockKind> = d.clocks.iter().map(|c| c.kind).collect();
        assert_eq!(kinds.len(), 3);
        let final_due = d.clocks.iter().find(|c| c.kind == ClockKind::AppiFinal).unwrap().due_ms;
        assert!(final_due - known_ms > 30 * 86_400_000 && final_due - known_ms <= 31 * 86_400_000, "30 days");
        // Found to be unauthorized access after all: the final report moves to 60 days.
        let d = cases::update_facts(app, &csirt, &i.id, FactsInput { unlawful_purpose: true, ..facts.clone() }).await.unwrap();
        let final_due = d.clocks.iter().find(|c| c.kind == ClockKind::AppiFinal).unwrap().due_ms;
        assert!(final_due - known_ms > 60 * 86_400_000 && final_due - known_ms <= 61 * 86_400_000, "60 days");
        let prelim = d.clocks.iter().find(|c| c.kind == ClockKind::AppiPreliminary).unwrap().clone();
        clocks::complete(app, &csirt, &i.id, &prelim.id, DoneInput { note: "PPC form filed, ref 123".into(), ..Default::default() }).await.unwrap();
        assert_eq!(code_of(&clocks::complete(app, &csirt, &i.id, &prelim.id, DoneInput::default()).await.unwrap_err()), "clock-done");
        // The running clocks are on the CSIRT's list, soonest first.
        let running = clocks::running(app, &csirt).await.unwrap();
        assert!(running.iter().any(|(inc, c)| inc.id == i.id && c.kind == ClockKind::AppiIndividuals));
        assert!(running.iter().all(|(_, c)| c.id != prelim.id));

        // Need to know: personal data keeps the case from company readers and auditors.
        assert!(cases::get(app, &aza_admin, &i.id).await.is_err(), "{b:?}");
        assert!(cases::get(app, &auditor, &i.id).await.is_err());
        assert!(cases::get(app, &ciso, &i.id).await.is_ok());
        assert!(cases::get(app, &employee, &i.id).await.is_ok(), "the reporter follows their report");
        assert!(cases::get(app, &employee, &i.id).await.unwrap().timeline.is_empty(), "but does not read the CSIRT's timeline");
        let seen = |p: &isms_app::Principal| {
            let p = p.clone();
            async move { cases::list(app, &p, &IncidentQuery::default()).await.unwrap().items.into_iter().map(|x| x.id).collect::<Vec<_>>() }
        };
        assert!(!seen(&aza_admin).await.contains(&i.id));
        assert!(seen(&aza_admin).await.contains(&second.id), "a company case without personal data");
        assert!(!seen(&azc_admin).await.contains(&second.id), "another company's case");
        assert!(seen(&csirt).await.contains(&i.id));
        cases::add_member(app, &csirt, &i.id, "auditor").await.unwrap();
        assert!(cases::get(app, &auditor, &i.id).await.is_ok(), "added to the case");
        assert!(seen(&auditor).await.contains(&i.id));
        assert_eq!(code_of(&cases::add_member(app, &csirt, &i.id, "auditor").await.unwrap_err()), "already-member");

        // A personal note is sealed at rest and every reading is logged.
        cases::add_note(app, &csirt, &i.id, NoteInput { text: "Recipient Taro Example confirmed deletion".into(), personal: true }).await.unwrap();
        let stored = event::Entity::find()
            .filter(event::Column::IncidentId.eq(i.id.clone()))
            .filter(event::Column::Kind.eq("note"))
            .one(s.db.store.conn())
            .await
            .unwrap()
            .unwrap();
        assert!(stored.personal && !stored.text.contains("Taro"), "sealed at rest");
        let d = cases::get(app, &csirt, &i.id).await.unwrap();
        assert!(d.timeline.iter().any(|t| t.text.contains("Taro Example")));
        let q = isms_store::audit::AuditQuery { action_prefix: Some("incidents.note.view".into()), limit: 10, ..Default::default() };
        let (views, _) = isms_app::audit::list(app, &sys, &q).await.unwrap();
        assert!(!views.is_empty(), "{b:?}");

        // On to the end; closing needs the review.
        for step in ["containment", "eradication", "recovery", "review"] {
            cases::transition_to(app, &csirt, &i.id, to(step)).await.unwrap();
        }
        assert_eq!(code_of(&cases::transition_to(app, &csirt, &i.id, to("closed")).await.unwrap_err()), "incident-needs-review");
        let review = FactsInput {
            unlawful_purpose: true,
            root_cause: "Autocomplete picked an outside address".into(),
            lessons: "Confirm external recipients".into(),
            actions_note: "Outbound mail check for customer data (IT, by March)".into(),
            ..facts
        };
        cases::update_facts(app, &csirt, &i.id, review).await.unwrap();
        // Running deadlines hold the close until each is done or does not apply (with why).
        assert_eq!(code_of(&cases::transition_to(app, &csirt, &i.id, to("closed")).await.unwrap_err()), "incident-open-duties");
        let running: Vec<_> = cases::get(app, &csirt, &i.id).await.unwrap().clocks.into_iter().filter(|c| c.done_ms.is_none()).collect();
        assert!(!running.is_empty());
        let na = DoneInput { not_applicable: true, ..Default::default() };
        assert_eq!(code_of(&clocks::complete(app, &csirt, &i.id, &running[0].id, na).await.unwrap_err()), "clock-na-reason");
        for c in &running {
            let na = DoneInput { note: "Final report filed with the earlier one".into(), not_applicable: true };
            let done = clocks::complete(app, &csirt, &i.id, &c.id, na).await.unwrap();
            assert_eq!(done.outcome.as_deref(), Some("not_applicable"));
        }
        let closed = cases::transition_to(app, &csirt, &i.id, to("closed")).await.unwrap();
        assert!(closed.minutes_to_close.is_some() && closed.minutes_to_triage.is_some());
        assert_eq!(code_of(&cases::add_note(app, &csirt, &i.id, NoteInput { text: String::new(), personal: false }).await.unwrap_err()), "required");
        assert_eq!(
            code_of(&cases::update_facts(app, &csirt, &i.id, FactsInput { title: "x".into(), kind: "other".into(), ..Default::default() }).await.unwrap_err()),
            "incident-closed"
        );
        // The reporter was told it was closed.
        assert!(
            isms_app::notify::inbox(app, &employee, false, 50)
                .await
                .unwrap()
                .iter()
                .any(|n| n.kind == "incident-status" && n.args["status"]["word"] == "incident-status-closed")
        );

        // A false report closes at triage with a reason.
        cases::transition_to(app, &csirt, &second.id, to("triage")).await.unwrap();
        assert_eq!(code_of(&cases::transition_to(app, &csirt, &second.id, to("closed")).await.unwrap_err()), "incident-needs-reason");
        cases::transition_to(app, &csirt, &second.id, TransitionInput { to: "closed".into(), reason: "Legitimate newsletter".into() }).await.unwrap();
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn reporting_over_http_and_drills() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let person = isms_app::people::list(app, &isms_app::Principal::system(), &isms_store::org::PeopleQuery { limit: 1, ..Default::default() })
            .await
            .unwrap()
            .items
            .remove(0);
        let emp = user_session(app, "reporter", vec![grant(Role::Employee, None)], Some(person.id.clone())).await;
        // The report form: a missing title is named, what was typed is kept.
        let page = emp.client.get(s.url("/incidents/report")).send().await.unwrap().text().await.unwrap();
        let csrf = crate::csrf_in(&page);
        let r = emp
            .client
            .post(s.url("/incidents/report"))
            .form(&[("_csrf", csrf.as_str()), ("title", ""), ("description", "I clicked a link in a mail from 'IT'")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(body.contains("title-error") && body.contains("I clicked a link"), "{b:?}");
        let r = emp
            .client
            .post(s.url("/incidents/report"))
            .form(&[("_csrf", csrf.as_str()), ("title", "Clicked a phishing link"), ("kind", "phishing")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        // Over the API too; an employee cannot move a case or mark it a drill.
        let r = emp
            .client
            .post(s.url("/api/v1/incidents"))
            .header("X-CSRF-Token", &emp.csrf)
            .json(&serde_json::json!({"title": "Lost badge", "exercise": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let i: serde_json::Value = r.json().await.unwrap();
        assert_eq!(i["exercise"], false);
        assert!(i["ref"].as_str().unwrap().starts_with("INC-"));
        let id = i["id"].as_str().unwrap();
        let r = emp
            .client
            .post(s.url(&format!("/api/v1/incidents/{id}/transition")))
            .header("X-CSRF-Token", &emp.csrf)
            .json(&serde_json::json!({"to": "triage"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let mine: serde_json::Value = emp.client.get(s.url("/api/v1/incidents")).send().await.unwrap().json().await.unwrap();
        assert_eq!(mine["total"], 2, "the reporter sees their own reports ({b:?})");
        // A session that ran out while a form was open: nothing is saved, and the browser
        // is sent to sign in and back to the page (the page's script keeps the text).
        let page = emp.client.get(s.url(&format!("/incidents/{id}"))).send().await.unwrap().text().await.unwrap();
        let csrf = crate::csrf_in(&page);
        assert!(page.contains("data-keep"));
        // (A session cookie the server no longer knows: what an expired one looks like.)
        let expired = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers({
                let mut h = reqwest::header::HeaderMap::new();
                h.insert(reqwest::header::COOKIE, "isms_session=ran-out-long-ago-0123456789".parse().unwrap());
                h
            })
            .build()
            .unwrap();
        let r = expired
            .post(s.url(&format!("/incidents/{id}/notes")))
            .header("Referer", s.url(&format!("/incidents/{id}")))
            .form(&[("_csrf", csrf.as_str()), ("text", "I also forwarded it to my private address")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{b:?}");
        assert_eq!(r.headers()["location"], format!("/login?next=/incidents/{id}").as_str());
        // A drill run by the CSIRT is kept out of the real register and starts no clocks.
        let csirt = acting_as(app, "csirt").await.unwrap();
        let drill = cases::report(
            app,
            &csirt,
            ReportInput {
                title: "Drill: ransomware on a check-in kiosk".into(),
                exercise: true,
                company_id: Some(person.company_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(drill.exercise);
        cases::transition_to(app, &csirt, &drill.id, to("triage")).await.unwrap();
        let d = cases::update_facts(
            app,
            &csirt,
            &drill.id,
            FactsInput { title: drill.title.clone(), kind: "malware".into(), personal_data: Some(true), sensitive: true, ..Default::default() },
        )
        .await
        .unwrap();
        assert!(d.clocks.is_empty());
        let real = cases::list(app, &csirt, &IncidentQuery::default()).await.unwrap();
        assert!(real.items.iter().all(|x| x.id != drill.id));
        let all = cases::list(app, &csirt, &IncidentQuery { exercises: true, ..Default::default() }).await.unwrap();
        assert!(all.items.iter().any(|x| x.id == drill.id));
        // Figures count real cases only.
        let k = isms_app::incidents::kpis::compute(app, &csirt).await.unwrap();
        assert_eq!(k.cases, real.total, "{b:?}");
        assert_eq!(k.by_kind.iter().map(|t| t.cases).sum::<u64>(), real.total);
        assert_eq!(k.per_company_month.iter().map(|t| t.cases).sum::<u64>(), real.total);
        assert!(k.by_kind.iter().all(|t| t.key != "malware"), "the drill's type does not appear");
        let r = emp.client.get(s.url("/api/v1/incident-kpis")).send().await.unwrap();
        assert_eq!(r.status(), 403, "an employee has no figures");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn playbooks_in_versions_create_tasks_and_escalate() {
    use isms_app::incidents::playbooks::{self, PlaybookInput};
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let council = acting_as(app, "council").await.unwrap();
        let employee = acting_as(app, "employee").await.unwrap();
        let i = cases::report(app, &employee, ReportInput { title: "Mileage database exposed".into(), ..Default::default() }).await.unwrap();
        cases::transition_to(app, &csirt, &i.id, to("triage")).await.unwrap();
        cases::update_facts(
            app,
            &csirt,
            &i.id,
            FactsInput {
                title: i.title.clone(),
                kind: "data_leak".into(),
                impact: Some("severe".into()),
                exposure: Some("customer".into()),
                personal_data: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let fit = playbooks::suggestions(app, &csirt, &i.id).await.unwrap();
        assert_eq!(fit[0].code, "PB-LEAK", "its own type first ({b:?})");
        assert!(fit.iter().any(|p| p.code == "PB-GENERIC"));
        assert!(fit.iter().all(|p| p.code != "PB-MALWARE"));
        let tasks = playbooks::start(app, &csirt, &i.id, &fit[0].id).await.unwrap();
        assert_eq!(tasks.len(), 5);
        assert!(tasks.windows(2).all(|w| w[0].due_ms <= w[1].due_ms));
        assert_eq!(code_of(&playbooks::start(app, &csirt, &i.id, &fit[0].id).await.unwrap_err()), "playbook-started");
        // Critical: the Council is told.
        assert!(
            isms_app::notify::inbox(app, &council, true, 50).await.unwrap().iter().any(|n| n.kind == "incident-escalated" && n.link.contains(&i.id)),
            "{b:?}"
        );
        // A new version of the playbook; the running case keeps its tasks.
        let e = playbooks::save(
            app,
            &csirt,
            PlaybookInput {
                code: "PB-LEAK".into(),
                name: "Personal data leak".into(),
                kind: Some("data_leak".into()),
                min_severity: 1,
                tasks: "1 | csirt_member | Stop it\nsoon | ciso | decide".into(),
            },
        )
        .await
        .unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert!(errs[0].message.starts_with("line 2"), "{}", errs[0].message);
        let v2 = playbooks::save(
            app,
            &csirt,
            PlaybookInput {
                code: "PB-LEAK".into(),
                name: "Personal data leak".into(),
                kind: Some("data_leak".into()),
                min_severity: 1,
                tasks: "1 | csirt_member | Stop it\n12 | ciso | Decide on the report".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(playbooks::history(app, &csirt, "PB-LEAK").await.unwrap().len(), 2);
        let d = cases::get(app, &csirt, &i.id).await.unwrap();
        assert_eq!(d.tasks.len(), 5);
        playbooks::complete_task(app, &csirt, &i.id, &d.tasks[0].id).await.unwrap();
        assert_eq!(code_of(&playbooks::complete_task(app, &csirt, &i.id, &d.tasks[0].id).await.unwrap_err()), "task-done");
        assert!(matches!(playbooks::start(app, &employee, &i.id, &v2.id).await, Err(AppError::Forbidden | AppError::NotFound)));
        // A company's administrator cannot rewrite the group's manual.
        let sys = isms_app::Principal::system();
        let aza = isms_app::org::list_companies(app, &sys).await.unwrap().into_iter().find(|c| c.code == "AZA").unwrap().id;
        let admin_s = user_session(app, "aza-sec", vec![grant(Role::CompanySecurityAdmin, Some(&aza))], None).await;
        let (admin, _) = isms_app::accounts::session_principal(app, &admin_s.cookie).await.unwrap();
        assert!(matches!(
            playbooks::save(app, &admin, PlaybookInput { code: "PB-X".into(), name: "x".into(), kind: None, min_severity: 1, tasks: "1 | ciso | x".into() })
                .await,
            Err(AppError::Forbidden)
        ));
        s.db.drop_schema().await;
    }
}
