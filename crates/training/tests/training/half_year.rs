//! The twice-a-year rule, completions from a learning system and reminders, on both backends.

use super::*;
use isms_core::training::FiscalHalf;
use isms_store::compliance::evidence;
use isms_store::notices::notification;
use isms_store::org::person;
use isms_store::training::completion;
use isms_training::{lms, reminders, rule};

async fn active(s: &TestApp) -> Vec<person::Model> {
    person::Entity::find().filter(person::Column::Status.eq("active")).all(s.db.store.conn()).await.unwrap()
}

async fn completions(s: &TestApp) -> u64 {
    completion::Entity::find().count(s.db.store.conn()).await.unwrap()
}

fn codes(e: &AppError) -> Vec<String> {
    match e {
        AppError::Invalid(v) => v.iter().map(|f| format!("{}:{}", f.field, f.code)).collect(),
        other => vec![format!("{other:?}")],
    }
}

async fn training_findings(app: &isms_kernel::App, who: &Principal, status: &str) -> u64 {
    let q = isms_compliance::findings::FindingQuery { source: Some("training_half".into()), status: Some(status.into()), limit: 1, ..Default::default() };
    isms_compliance::findings::list(app, who, &q).await.unwrap().total
}

#[tokio::test]
async fn a_half_closes_once_with_a_finding_for_each_person_not_trained() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        isms_compliance::demo::load(app, &group).await.unwrap();
        courses::create(app, &sys, course("AW-1", false)).await.unwrap();
        // A specialist course counts for nothing.
        courses::create(app, &sys, CourseInput { kind: "specialist".into(), ..course("SP-1", false) }).await.unwrap();
        let h = FiscalHalf::of(isms_core::calendar::today()).previous();
        let on = h.first_day().checked_add(jiff::Span::new().days(10)).unwrap();
        let people = active(&s).await;
        let (p1, p2, p3, p4) = (&people[0], &people[40], &people[2], &people[3]);
        let csv = format!(
            "employee_number,course_code,completed_on,score\n{},AW-1,{on},\n{},aw-1,{on},90\n{},SP-1,{on},\n",
            p1.employee_number, p2.employee_number, p3.employee_number
        );
        let done = lms::import_csv(app, &sys, csv.as_bytes()).await.unwrap();
        assert_eq!((done.rows, done.recorded, done.known), (3, 3, 0), "{b:?}");
        let again = lms::import_csv(app, &sys, csv.as_bytes()).await.unwrap();
        assert_eq!((again.recorded, again.known), (0, 3), "{b:?}: the same file again records nothing");
        assert_eq!(completions(&s).await, 3);
        // Someone who joined in the half's last 30 days is not held to it.
        isms_org::people::create(
            app,
            &sys,
            isms_org::people::PersonInput {
                employee_number: "J00002".into(),
                name: "新入 花子".into(),
                email: "late-joiner@example.com".into(),
                company_id: p1.company_id.clone(),
                joined_on: Some(h.last_day().checked_sub(jiff::Span::new().days(5)).unwrap().to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let st = rule::standing(app, &sys, Some(h)).await.unwrap();
        let held = people.len() as u64;
        assert_eq!((st.people, st.trained), (held, 2), "{b:?}");
        assert_eq!(st.companies.iter().map(|c| c.people).sum::<u64>(), held);
        assert!(st.closed.is_none());
        let missing = rule::untrained(app, &sys, Some(h), None, None, 0, 10).await.unwrap();
        assert_eq!(missing.total, held - 2);
        assert!(missing.items.iter().all(|u| u.person_id != p1.id && u.person_id != p2.id));
        // A company's administrator sees their company alone.
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let aza = group.companies.iter().find(|(c, _)| c == "AZA").unwrap().1.clone();
        let theirs = rule::standing(app, &secadmin, Some(h)).await.unwrap();
        assert!(theirs.companies.iter().all(|c| c.company_id == aza) && !theirs.companies.is_empty(), "{b:?}");
        // HR does not read training.
        let hr = acting_as(app, "hr").await.unwrap();
        assert!(matches!(rule::standing(app, &hr, Some(h)).await, Err(AppError::Forbidden)));

        // Two instances close the half at once: one closes it, the findings are raised once.
        let (x, y) = tokio::join!(rule::close(app, h), rule::close(app, h));
        let closed: Vec<rule::Closing> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
        assert_eq!(closed.len(), 1, "{b:?}: closed once");
        assert_eq!((closed[0].people, closed[0].trained, closed[0].findings), (held, 2, held - 2), "{b:?}");
        assert!(rule::close(app, h).await.unwrap().is_none());
        assert!(matches!(rule::close_now(app, &sys, h).await, Err(AppError::Conflict { code: "training-half-closed", .. })));
        assert_eq!(training_findings(app, &sys, "open").await, held - 2, "{b:?}");
        // The findings register's own check leaves them alone.
        isms_compliance::findings::check(app).await.unwrap();
        assert_eq!(training_findings(app, &sys, "open").await, held - 2, "{b:?}");
        // The auditor reads them; the half is evidence for the awareness control.
        let auditor = acting_as(app, "auditor").await.unwrap();
        assert_eq!(training_findings(app, &auditor, "open").await, held - 2);
        let url = format!("/training/halves?half={}", h.key());
        let ev = evidence::Entity::find().filter(evidence::Column::Url.eq(url)).all(s.db.store.conn()).await.unwrap();
        assert_eq!(ev.len(), 1, "{b:?}: CTL-003 covers A.6.3");
        assert_eq!(ev[0].kind, "record");
        assert_eq!(rule::standing(app, &sys, Some(h)).await.unwrap().closed.unwrap().findings, i64::try_from(held - 2).unwrap());

        // One untrained person completes late, another leaves: their findings close.
        let csv = format!("employee_number,course_code,completed_on\n{},AW-1,{}\n", p3.employee_number, isms_core::calendar::today());
        lms::import_csv(app, &sys, csv.as_bytes()).await.unwrap();
        isms_org::people::deactivate(app, &sys, &p4.id, None).await.unwrap();
        assert_eq!(rule::upkeep(app).await.unwrap(), 2, "{b:?}");
        assert_eq!(rule::upkeep(app).await.unwrap(), 0);
        assert_eq!(training_findings(app, &sys, "open").await, held - 4, "{b:?}");
        assert_eq!(training_findings(app, &sys, "closed").await, 2);
        // The half that runs now is not closed by hand, nor by the job before its last day.
        let now = FiscalHalf::of(isms_core::calendar::today());
        assert!(matches!(rule::close_now(app, &sys, now).await, Err(AppError::Conflict { code: "training-half-not-ended", .. })));
        assert!(matches!(rule::close_now(app, &secadmin, h).await, Err(AppError::Forbidden)));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_completions_file_with_one_bad_row_records_nothing() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        courses::create(app, &sys, CourseInput { pass_mark: Some(80), ..course("AW-Q", true) }).await.unwrap();
        let people = active(&s).await;
        let p = &people[0];
        let future = isms_core::calendar::today().checked_add(jiff::Span::new().days(3)).unwrap();
        let csv = format!(
            "employee_number,email,course_code,completed_on,score\n{n},,AW-Q,2026-05-01,90\nE99999,,AW-Q,2026-05-01,\n,,AW-Q,2026-05-01,\n{n},,NOPE,2026-05-01,\n{n},,AW-Q,2026-13-01,\n{n},,AW-Q,{future},\n{n},,AW-Q,2026-05-02,101\n{n},,AW-Q,2026-05-03,50\n,{e},AW-Q,2026-05-01,90\n",
            n = p.employee_number,
            e = p.email.to_uppercase()
        );
        let e = lms::import_csv(app, &sys, csv.as_bytes()).await.unwrap_err();
        assert_eq!(
            codes(&e),
            vec![
                "employee_number:lms-no-person",
                "email:lms-person-missing",
                "course_code:lms-no-course",
                "completed_on:lms-date",
                "completed_on:lms-date-future",
                "score:lms-score",
                "score:lms-score-below-pass",
                "reference:lms-also-on-line",
            ],
            "{b:?}"
        );
        let AppError::Invalid(v) = &e else { unreachable!() };
        assert_eq!(v[0].args, vec![("line", "3".to_owned()), ("value", "E99999".to_owned())], "the line is named");
        assert_eq!(completions(&s).await, 0, "{b:?}: nothing half-imported");
        let e = lms::import_csv(app, &sys, b"person,course_code,completed_on\nx,AW-Q,2026-05-01\n").await.unwrap_err();
        assert_eq!(codes(&e), vec!["person:lms-column-unknown", "employee_number:lms-column-missing"]);
        // A company's administrator records for their company only: another company's
        // person reads as unknown.
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let aza = group.companies.iter().find(|(c, _)| c == "AZA").unwrap().1.clone();
        let outside = people.iter().find(|x| x.company_id != aza).unwrap();
        let csv = format!("employee_number,course_code,completed_on\n{},AW-Q,2026-05-01\n", outside.employee_number);
        assert_eq!(codes(&lms::import_csv(app, &secadmin, csv.as_bytes()).await.unwrap_err()), vec!["employee_number:lms-no-person"]);
        let employee = acting_as(app, "employee").await.unwrap();
        assert!(matches!(lms::import_csv(app, &employee, csv.as_bytes()).await, Err(AppError::Forbidden)));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn xapi_statements_complete_a_course_once() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        let quizzed = courses::create(app, &sys, course("AW-Q", true)).await.unwrap();
        courses::create(app, &sys, course("AW-P", false)).await.unwrap();
        let c = CampaignInput { title: "教育".into(), course_id: quizzed.id.clone(), due_on: "2099-01-31".into(), ..Default::default() };
        campaigns::create(app, &sys, c).await.unwrap();
        let employee = acting_as(app, "employee").await.unwrap();
        let me = isms_org::people::of_principal(s.db.store.conn(), &employee).await.unwrap().unwrap();
        let st = |id: &str, verb: &str, course: &str| {
            serde_json::json!({
                "id": id,
                "actor": {"objectType": "Agent", "mbox": format!("mailto:{}", me.email)},
                "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": {"en-US": verb}},
                "object": {"id": format!("https://lms.example.jp/activities/{course}")},
                "result": {"score": {"scaled": 0.9}, "success": verb == "passed"},
                "timestamp": "2026-11-20T10:00:00+09:00"
            })
        };
        let u1 = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let u2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        let u3 = "16fd2706-8baf-433b-82eb-8c7fada847da";
        // "completed" does not complete a course with a quiz; "failed" completes nothing.
        let out = lms::statements(app, &sys, &serde_json::json!([st(u1, "completed", "AW-Q"), st(u2, "failed", "aw-q")])).await.unwrap();
        assert!(out.iter().all(|o| !o.completed && !o.known), "{b:?}");
        assert_eq!(completions(&s).await, 0);
        let out = lms::statements(app, &sys, &st(u3, "passed", "AW-Q")).await.unwrap();
        assert!(out[0].completed, "{b:?}");
        let mine = taking::mine(app, &employee, "ja").await.unwrap();
        assert_eq!(mine.iter().find(|a| a.course_id == quizzed.id).unwrap().status, "completed", "{b:?}: the assignment ends");
        // The same statement again is known and records nothing; its id with other
        // content is refused, and so is the whole request with it.
        let out = lms::statements(app, &sys, &st(u3, "passed", "AW-Q")).await.unwrap();
        assert!(out[0].known && !out[0].completed);
        let e = lms::statements(app, &sys, &serde_json::json!([st("a3bb189e-8bf9-4888-9912-ace4e6543002", "completed", "AW-P"), st(u3, "failed", "AW-Q")]))
            .await
            .unwrap_err();
        assert_eq!(codes(&e), vec!["1.id:xapi-id-conflict"], "{b:?}");
        assert_eq!(completions(&s).await, 1, "{b:?}: the request wrote nothing");
        // Bad statements name their index and field.
        let bad =
            serde_json::json!([{"actor": {}, "verb": {"id": "http://adlnet.gov/expapi/verbs/launched"}, "object": {}, "timestamp": "yesterday", "id": "x"}]);
        assert_eq!(
            codes(&lms::statements(app, &sys, &bad).await.unwrap_err()),
            vec!["0.actor:xapi-actor", "0.verb.id:xapi-verb", "0.object.id:xapi-object", "0.timestamp:xapi-timestamp", "0.id:xapi-id"]
        );
        let unknown = serde_json::json!({"actor": {"account": {"homePage": "https://lms.example.jp", "name": "E99999"}}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}, "object": {"id": "https://lms.example.jp/a/NOPE"}});
        assert_eq!(codes(&lms::statements(app, &sys, &unknown).await.unwrap_err()), vec!["0.actor:xapi-no-person"]);
        // Without an id, the same statement posted twice is one.
        let no_id = |v: serde_json::Value| {
            let mut v = v;
            v.as_object_mut().unwrap().remove("id");
            v
        };
        let a = lms::statements(app, &sys, &no_id(st(u1, "completed", "AW-P"))).await.unwrap();
        let b2 = lms::statements(app, &sys, &no_id(st(u1, "completed", "AW-P"))).await.unwrap();
        assert_eq!(a[0].id, b2[0].id);
        assert!(a[0].completed && b2[0].known, "{b:?}");
        assert!(matches!(lms::statements(app, &employee, &st(u1, "passed", "AW-Q")).await, Err(AppError::Forbidden)));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn reminders_reach_the_person_before_the_due_date_and_the_manager_after() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        let c = courses::create(app, &sys, course("AW-1", false)).await.unwrap();
        let aza = group.companies.iter().find(|(c, _)| c == "AZA").unwrap().1.clone();
        let due = isms_core::calendar::today().checked_add(jiff::Span::new().days(6)).unwrap().to_string();
        let input = CampaignInput {
            title: "下期教育".into(),
            course_id: c.id.clone(),
            population: isms_core::training::Population { companies: vec![aza.clone()], ..Default::default() },
            due_on: due,
            ..Default::default()
        };
        let (campaign, n) = campaigns::create(app, &sys, input).await.unwrap();
        let db = s.db.store.conn();
        let kind = |k: &'static str| notification::Entity::find().filter(notification::Column::Kind.eq(k));
        assert_eq!(reminders::run(app).await.unwrap(), n, "{b:?}: everyone a week before");
        assert_eq!(reminders::run(app).await.unwrap(), 0, "{b:?}: nobody twice");
        assert_eq!(kind("training-due").count(db).await.unwrap(), n);
        // One assignment is overdue: its person is told, and so is their manager.
        let a = assignment::Entity::find()
            .filter(assignment::Column::CampaignId.eq(campaign.id.clone()))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .find(|a| group.people.iter().any(|p| p.id == a.person_id && p.manager_id.is_some()))
            .unwrap();
        assignment::Entity::update_many()
            .col_expr(assignment::Column::DueOn, isms_store::sea_orm::sea_query::Expr::value("2026-01-05"))
            .filter(assignment::Column::Id.eq(a.id.clone()))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(reminders::run(app).await.unwrap(), 2, "{b:?}: the person and their manager");
        assert_eq!(reminders::run(app).await.unwrap(), 0);
        let manager = group.people.iter().find(|p| p.id == a.person_id).unwrap().manager_id.clone().unwrap();
        let told = kind("training-overdue-reports").one(db).await.unwrap().unwrap();
        assert_eq!(told.person_id.as_deref(), Some(manager.as_str()), "{b:?}");
        assert_eq!(kind("training-overdue").count(db).await.unwrap(), 1);
        s.db.drop_schema().await;
    }
}
