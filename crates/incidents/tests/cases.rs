//! Incident use cases on both backends, without the web layer: corrective actions with
//! their owners and verification, observables checked line by line, evidence with its
//! chain of custody, releases approved by the CISO and frozen, drills twice a year as
//! exercise cases, and further reporting regimes from the configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_core::incidents::clocks::ClockKind;
use isms_incidents::cases::{self, FactsInput, ReportInput, TransitionInput};
use isms_kernel::AppError;
use isms_org::accounts::acting_as;
use isms_testdb::{TestApp, backends, code_of};

fn to(s: &str) -> TransitionInput {
    TransitionInput { to: s.into(), reason: String::new() }
}

#[tokio::test]
async fn corrective_actions_observables_and_evidence() {
    use isms_incidents::followup::{self, ActionInput, ActionStep, HandOver, ObservableInput};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_incidents::demo::load(&s.app, &group).await.unwrap();
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let ciso = acting_as(app, "ciso").await.unwrap();
        let hr = acting_as(app, "hr").await.unwrap();
        let i = cases::report(app, &csirt, ReportInput { title: "Phishing wave".into(), kind: Some("phishing".into()), ..Default::default() }).await.unwrap();

        // Observables: every line checked first; a bad one is named by its line and adds nothing.
        let e = followup::add_observables(app, &csirt, &i.id, ObservableInput { values: "203.0.113.7\nnot an ioc\n".into(), ..Default::default() })
            .await
            .unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert_eq!(errs[0].field, "values");
        assert!(errs[0].message.contains("line 2"), "{}", errs[0].message);
        assert!(followup::observables_of(s.db.store.conn(), &i.id).await.unwrap().is_empty());
        let n = followup::add_observables(
            app,
            &csirt,
            &i.id,
            ObservableInput {
                values: "203.0.113.7\nhxxps://login-mileage[.]example/a\nlogin-mileage.example\n203.0.113.7\n".into(),
                note: "from the mail headers".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            followup::add_observables(app, &csirt, &i.id, ObservableInput { values: "203[.]0[.]113[.]7".into(), ..Default::default() }).await.unwrap(),
            0,
            "stored once"
        );

        // Evidence: checksum, and every step of custody recorded.
        let bytes = b"Received: from mail.evil.example (203.0.113.7)\r\nSubject: Your miles expire\r\n".to_vec();
        let ev = followup::add_evidence(app, &csirt, &i.id, "phish.eml", bytes.clone(), "the original message").await.unwrap();
        use sha2::Digest;
        assert_eq!(ev.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
        followup::hand_over(app, &csirt, &i.id, &ev.id, HandOver { party: "Forensics Inc.".into(), note: "sealed USB".into() }).await.unwrap();
        let file = followup::evidence_file(app, &ciso, &i.id, &ev.id).await.unwrap();
        assert_eq!(file.data, bytes);
        let chain: Vec<String> = followup::evidence_of(s.db.store.conn(), &i.id).await.unwrap()[0].custody.iter().map(|c| c.action.clone()).collect();
        assert_eq!(chain, ["collected", "handed_over", "accessed"], "{b:?}");
        assert!(matches!(followup::evidence_file(app, &hr, &i.id, &ev.id).await, Err(AppError::NotFound | AppError::Forbidden)));

        // Corrective actions: the owner does it, someone else verifies it; it outlives the case.
        let owner = isms_org::accounts::acting_as(app, "employee").await.unwrap();
        let owner_person = isms_policies::my_person(s.db.store.conn(), &owner).await.unwrap().unwrap();
        let past = isms_core::calendar::today().yesterday().unwrap().to_string();
        let e = followup::add_action(app, &csirt, &i.id, ActionInput { title: "".into(), owner_id: Some("E99999".into()), due_on: "soon".into() })
            .await
            .unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"title") && fields.contains(&"due_on") && fields.contains(&"owner_id"), "{fields:?}");
        let a = followup::add_action(
            app,
            &csirt,
            &i.id,
            ActionInput { title: "Block look-alike domains at the mail gateway".into(), owner_id: Some(owner_person.employee_number.clone()), due_on: past },
        )
        .await
        .unwrap();
        assert!(a.overdue);
        assert!(followup::overdue_actions(app, &csirt).await.unwrap().iter().any(|x| x.id == a.id));
        cases::add_member(app, &csirt, &i.id, "employee").await.unwrap();
        followup::step_action(app, &owner, &i.id, &a.id, ActionStep { status: "done".into(), note: "rule 42 on the gateway".into() }).await.unwrap();
        assert!(matches!(
            followup::step_action(app, &owner, &i.id, &a.id, ActionStep { status: "verified".into(), note: String::new() }).await,
            Err(AppError::Forbidden)
        ));
        // The case can close on the strength of the action.
        cases::transition_to(app, &csirt, &i.id, to("triage")).await.unwrap();
        cases::update_facts(
            app,
            &csirt,
            &i.id,
            FactsInput {
                title: i.title.clone(),
                kind: "phishing".into(),
                impact: Some("limited".into()),
                exposure: Some("none".into()),
                personal_data: Some(false),
                root_cause: "Look-alike domain".into(),
                lessons: "Report early".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for step in ["containment", "eradication", "recovery", "review", "closed"] {
            cases::transition_to(app, &csirt, &i.id, to(step)).await.unwrap();
        }
        assert!(followup::overdue_actions(app, &csirt).await.unwrap().iter().any(|x| x.id == a.id), "still open after the case closed");
        let v = followup::step_action(app, &csirt, &i.id, &a.id, ActionStep { status: "verified".into(), note: String::new() }).await.unwrap();
        assert_eq!(v.status, "verified");
        assert!(!followup::overdue_actions(app, &csirt).await.unwrap().iter().any(|x| x.id == a.id));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn releases_are_drafted_from_the_case_approved_by_the_ciso_and_frozen() {
    use isms_incidents::releases::{self, DraftInput, EditInput};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_incidents::demo::load(&s.app, &group).await.unwrap();
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let ciso = acting_as(app, "ciso").await.unwrap();
        let i = cases::report(app, &csirt, ReportInput { title: "Mileage numbers exposed".into(), ..Default::default() }).await.unwrap();
        cases::transition_to(app, &csirt, &i.id, to("triage")).await.unwrap();
        cases::update_facts(
            app,
            &csirt,
            &i.id,
            FactsInput {
                title: i.title.clone(),
                kind: "data_leak".into(),
                personal_data: Some(true),
                people_affected: Some(2300),
                data_categories: "name, mileage number".into(),
                root_cause: "A misconfigured export".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let e = releases::generate(app, &csirt, &i.id, DraftInput { kind: "tweet".into(), language: "fr".into(), contact: String::new() }).await.unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert_eq!(errs.len(), 2);
        let r = releases::generate(app, &csirt, &i.id, DraftInput { kind: "regulator_report".into(), language: "ja".into(), contact: String::new() })
            .await
            .unwrap();
        assert!(r.body.contains("2300 名") && r.body.contains("name, mileage number") && r.body.contains("A misconfigured export"), "{}", r.body);
        let en = releases::generate(
            app,
            &csirt,
            &i.id,
            DraftInput { kind: "customer_notice".into(), language: "en".into(), contact: "Customer desk 0120-000-000".into() },
        )
        .await
        .unwrap();
        assert!(en.body.contains("Customer desk 0120-000-000"));
        // The CSIRT member who wrote it may not approve; the CISO may.
        assert!(matches!(releases::approve(app, &csirt, &i.id, &r.id).await, Err(AppError::Forbidden)));
        let edited = releases::edit(app, &ciso, &i.id, &r.id, EditInput { body: format!("{}\n追記", r.body) }).await.unwrap();
        assert_eq!(code_of(&releases::approve(app, &ciso, &i.id, &edited.id).await.unwrap_err()), "approve-own-release");
        releases::edit(app, &csirt, &i.id, &r.id, EditInput { body: edited.body.clone() }).await.unwrap();
        assert_eq!(code_of(&releases::mark_released(app, &csirt, &i.id, &r.id).await.unwrap_err()), "release-not-approved");
        let ok = releases::approve(app, &ciso, &i.id, &r.id).await.unwrap();
        assert_eq!(ok.status, "approved");
        assert_eq!(code_of(&releases::edit(app, &csirt, &i.id, &r.id, EditInput { body: "changed".into() }).await.unwrap_err()), "release-frozen");
        let out = releases::mark_released(app, &csirt, &i.id, &r.id).await.unwrap();
        assert!(out.released_ms.is_some());
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn drills_twice_a_year_run_as_exercise_cases() {
    use isms_incidents::drills::{self, OutcomeInput, PlanInput};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_incidents::demo::load(&s.app, &group).await.unwrap();
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let employee = acting_as(app, "employee").await.unwrap();
        let before = drills::schedule(app, &csirt).await.unwrap();
        assert_eq!(before.gaps.len(), 2, "nothing planned: this half and the next ({b:?})");
        let e = drills::plan(app, &csirt, PlanInput { title: "".into(), planned_on: "next week".into(), company_id: None }).await.unwrap_err();
        let AppError::Invalid(errs) = &e else { panic!("{e:?}") };
        assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["title", "planned_on"]);
        assert!(matches!(
            drills::plan(app, &employee, PlanInput { title: "x".into(), planned_on: "2027-01-10".into(), company_id: None }).await,
            Err(AppError::Forbidden)
        ));
        let soon = isms_core::calendar::today().saturating_add(jiff::Span::new().days(7)).to_string();
        let d = drills::plan(app, &csirt, PlanInput { title: "Ransomware on the check-in system".into(), planned_on: soon, company_id: None }).await.unwrap();
        let after = drills::schedule(app, &csirt).await.unwrap();
        assert_eq!(after.gaps.len(), 1, "{:?}", after.gaps);
        let running = drills::run(app, &csirt, &d.id).await.unwrap();
        let case = cases::get(app, &csirt, running.incident_id.as_deref().unwrap()).await.unwrap();
        assert!(case.incident.exercise);
        assert_eq!(code_of(&drills::run(app, &csirt, &d.id).await.unwrap_err()), "drill-running");
        assert_eq!(code_of(&drills::record_outcome(app, &csirt, &d.id, OutcomeInput::default()).await.unwrap_err()), "required");
        let held = drills::record_outcome(
            app,
            &csirt,
            &d.id,
            OutcomeInput { participants: "CSIRT, IT desk, AZA security".into(), findings: "Backups restored in 3 h; the phone tree was out of date".into() },
        )
        .await
        .unwrap();
        assert_eq!(held.state, "held");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn further_regimes_come_from_the_configuration() {
    use isms_core::incidents::clocks::{Regime, RegimeTrigger};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        isms_incidents::demo::load(&s.app, &group).await.unwrap();
        let regimes = vec![Regime { code: "PARTNER".into(), name: "Notice to the alliance partner".into(), trigger: RegimeTrigger::PersonalData, hours: 24 }];
        let app = isms_kernel::App::new(s.db.store.clone(), isms_kernel::AppConfig { regimes, ..isms_testdb::test_config() }, isms_testdb::AUDIT_KEY.to_vec());
        let csirt = acting_as(&app, "csirt").await.unwrap();
        let i = cases::report(&app, &csirt, ReportInput { title: "Passenger list shared by mistake".into(), ..Default::default() }).await.unwrap();
        cases::transition_to(&app, &csirt, &i.id, to("triage")).await.unwrap();
        let d = cases::update_facts(
            &app,
            &csirt,
            &i.id,
            FactsInput { title: i.title.clone(), kind: "data_leak".into(), personal_data: Some(true), people_affected: Some(12), ..Default::default() },
        )
        .await
        .unwrap();
        assert!(!d.decision.appi, "no APPI trigger");
        assert_eq!(d.clocks.len(), 1, "{b:?}");
        let c = &d.clocks[0];
        assert_eq!((c.kind, c.regime.as_deref(), c.name.as_str()), (ClockKind::Custom, Some("PARTNER"), "Notice to the alliance partner"));
        assert_eq!(c.due_ms - i.discovered_ms, 24 * 3_600_000);
        // No personal data after all: the open clock goes away.
        let d = cases::update_facts(
            &app,
            &csirt,
            &i.id,
            FactsInput { title: i.title.clone(), kind: "data_leak".into(), personal_data: Some(false), ..Default::default() },
        )
        .await
        .unwrap();
        assert!(d.clocks.is_empty());
        s.db.drop_schema().await;
    }
}
