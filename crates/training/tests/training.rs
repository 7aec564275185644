//! Training on both backends, without the web layer: who a campaign reaches (scopes,
//! departments, roles, joiners with their grace, leavers dropped), taking a course, the
//! quiz with its limit on attempts, and completions that end every open assignment.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_kernel::{AppError, Principal};
use isms_org::accounts::acting_as;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use isms_store::training::assignment;
use isms_testdb::{TestApp, backends, code_of};
use isms_training::{CampaignInput, CourseInput, campaigns, courses, taking};

#[path = "training/half_year.rs"]
mod half_year;

fn quiz() -> Vec<isms_core::training::Question> {
    isms_core::training::parse_quiz_text("? 一 / One\n* 正 / right\n- 誤 / wrong\n? 二 / Two\n- 誤 / wrong\n* 正 / right\n").unwrap()
}

fn course(code: &str, with_quiz: bool) -> CourseInput {
    CourseInput {
        code: code.into(),
        kind: "awareness".into(),
        duration_minutes: Some(20),
        pass_mark: Some(100),
        max_attempts: Some(2),
        title_ja: "教育".into(),
        body_ja: "本文".into(),
        quiz: if with_quiz { quiz() } else { vec![] },
        ..Default::default()
    }
}

async fn count(s: &TestApp, campaign: &str) -> u64 {
    assignment::Entity::find()
        .filter(assignment::Column::CampaignId.eq(campaign))
        .filter(assignment::Column::Status.eq("assigned"))
        .count(s.db.store.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_campaign_reaches_its_population_and_follows_joiners_and_leavers() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        let c = courses::create(app, &sys, course("AW-1", false)).await.unwrap();
        let aza = group.companies.iter().find(|(code, _)| code == "AZA").unwrap().1.clone();
        let active = isms_store::org::person::Entity::find().filter(isms_store::org::person::Column::Status.eq("active"));
        let everyone = active.clone().count(s.db.store.conn()).await.unwrap();
        let in_aza = active.clone().filter(isms_store::org::person::Column::CompanyId.eq(aza.clone())).count(s.db.store.conn()).await.unwrap();

        let input = |company: Option<String>, population| CampaignInput {
            title: "下期教育".into(),
            course_id: c.id.clone(),
            company_id: company,
            population,
            due_on: "2099-01-31".into(),
            ..Default::default()
        };
        let (all, n) = campaigns::create(app, &sys, input(None, Default::default())).await.unwrap();
        assert_eq!(n, everyone, "{b:?}: everyone active");
        // The company administrator of AZA runs a campaign for AZA only, and cannot reach
        // another company or run one for the group.
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let (mine, n) = campaigns::create(app, &secadmin, input(Some(aza.clone()), Default::default())).await.unwrap();
        assert_eq!(n, in_aza, "{b:?}");
        let other = group.companies.iter().find(|(code, _)| code != "AZA").unwrap().1.clone();
        let e = campaigns::create(
            app,
            &secadmin,
            input(Some(aza.clone()), isms_core::training::Population { companies: vec![other.clone()], ..Default::default() }),
        )
        .await
        .unwrap_err();
        assert_eq!(code_of(&e), "campaign-other-company");
        assert!(matches!(campaigns::create(app, &secadmin, input(None, Default::default())).await, Err(AppError::Forbidden)));
        assert!(matches!(campaigns::create(app, &secadmin, input(Some(other.clone()), Default::default())).await, Err(AppError::Forbidden)));
        // Roles: the one CISO account's person.
        let (cisos, n) =
            campaigns::create(app, &sys, input(None, isms_core::training::Population { roles: vec![isms_core::Role::Ciso], ..Default::default() }))
                .await
                .unwrap();
        assert_eq!(n, 1, "{b:?}: one person holds the CISO role");

        // A joiner arrives: the job enrols them in every running campaign that reaches
        // them, once however often it runs, with the grace period.
        let joiner = isms_org::people::create(
            app,
            &sys,
            isms_org::people::PersonInput {
                employee_number: "J00001".into(),
                name: "新入 太郎".into(),
                email: "joiner@example.com".into(),
                company_id: aza.clone(),
                joined_on: Some(isms_core::calendar::today().to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(campaigns::sync_all(app).await.unwrap(), 2, "{b:?}: the group's and AZA's");
        assert_eq!(campaigns::sync_all(app).await.unwrap(), 0, "{b:?}: nobody twice");
        assert_eq!(count(&s, &all.id).await, everyone + 1);
        assert_eq!(count(&s, &mine.id).await, in_aza + 1);
        assert_eq!(count(&s, &cisos.id).await, 1);

        // A campaign for joiners within 30 days reaches the joiner only (the demo people
        // joined long ago or have no date).
        let (joiners, n) =
            campaigns::create(app, &sys, input(None, isms_core::training::Population { joined_within_days: Some(30), ..Default::default() })).await.unwrap();
        assert_eq!(n, 1, "{b:?}");
        let a = assignment::Entity::find().filter(assignment::Column::CampaignId.eq(joiners.id.clone())).one(s.db.store.conn()).await.unwrap().unwrap();
        assert_eq!(a.person_id, joiner.id);

        // The joiner leaves: their open assignments are dropped, and the progress counts
        // no longer include them.
        isms_org::people::deactivate(app, &sys, &joiner.id, None).await.unwrap();
        assert_eq!(campaigns::sync_all(app).await.unwrap(), 3, "{b:?}: the group's, AZA's and the joiners' assignments dropped");
        assert_eq!(count(&s, &all.id).await, everyone);
        let p = campaigns::progress(app, &sys, &all.id).await.unwrap();
        assert_eq!(p.iter().map(|r| r.assigned).sum::<u64>(), everyone);
        // The company administrator sees AZA's rows only, even of the group's campaign.
        let p = campaigns::progress(app, &secadmin, &all.id).await.unwrap();
        assert!(p.iter().all(|r| r.company_id == aza) && !p.is_empty());
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_person_takes_the_course_and_the_quiz_within_its_attempts() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        let employee = acting_as(app, "employee").await.unwrap();
        let auditor = acting_as(app, "auditor").await.unwrap();
        let quizzed = courses::create(app, &sys, course("AW-Q", true)).await.unwrap();
        let plain = courses::create(app, &sys, course("AW-P", false)).await.unwrap();
        let campaign = |id: &str| CampaignInput { title: "教育".into(), course_id: id.into(), due_on: "2099-01-31".into(), ..Default::default() };
        campaigns::create(app, &sys, campaign(&quizzed.id)).await.unwrap();
        // The same course twice: one completion ends both assignments.
        campaigns::create(app, &sys, campaign(&quizzed.id)).await.unwrap();
        campaigns::create(app, &sys, campaign(&plain.id)).await.unwrap();
        let mine = taking::mine(app, &employee, "ja").await.unwrap();
        assert_eq!(mine.len(), 3, "{b:?}");
        let q = mine.iter().find(|a| a.course_id == quizzed.id).unwrap().id.clone();
        let p = mine.iter().find(|a| a.course_id == plain.id).unwrap().id.clone();
        // Someone else's assignment is not found, even for a reader of training.
        assert!(matches!(taking::open(app, &auditor, &q).await, Err(AppError::NotFound)));
        assert!(matches!(taking::submit_quiz(app, &auditor, &q, vec![vec![0], vec![1]]).await, Err(AppError::NotFound)));

        // A course without a quiz is completed by reading it; one with a quiz is not.
        assert!(matches!(taking::mark_read(app, &employee, &q).await, Err(AppError::Conflict { code: "training-quiz-required", .. })));
        assert_eq!(taking::mark_read(app, &employee, &p).await.unwrap().status, "completed");
        assert!(matches!(taking::mark_read(app, &employee, &p).await, Err(AppError::Conflict { code: "training-already-completed", .. })));

        // A choice that does not exist is refused and uses no attempt.
        assert_eq!(code_of(&taking::submit_quiz(app, &employee, &q, vec![vec![5]]).await.unwrap_err()), "quiz-no-such-choice");
        let o = taking::submit_quiz(app, &employee, &q, vec![vec![0], vec![0]]).await.unwrap();
        assert_eq!((o.attempt.number, o.attempt.percent, o.completed, o.attempts_left), (1, 50, false, Some(1)), "{b:?}");
        let o = taking::submit_quiz(app, &employee, &q, vec![vec![0], vec![1]]).await.unwrap();
        assert!(o.completed && o.attempt.passed, "{b:?}");
        let mine = taking::mine(app, &employee, "ja").await.unwrap();
        assert!(mine.iter().all(|a| a.status == "completed"), "{b:?}: both assignments of the quizzed course and the plain one");
        let n = isms_store::training::completion::Entity::find().count(s.db.store.conn()).await.unwrap();
        assert_eq!(n, 2, "{b:?}: one completion per course");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn the_last_attempt_is_taken_once_when_two_arrive_together() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sys = Principal::system();
        let employee = acting_as(app, "employee").await.unwrap();
        let c = courses::create(app, &sys, CourseInput { max_attempts: Some(1), ..course("AW-1", true) }).await.unwrap();
        campaigns::create(app, &sys, CampaignInput { title: "教育".into(), course_id: c.id.clone(), due_on: "2099-01-31".into(), ..Default::default() })
            .await
            .unwrap();
        let id = taking::mine(app, &employee, "ja").await.unwrap()[0].id.clone();
        let wrong = || vec![vec![1], vec![0]];
        let (x, y) = tokio::join!(taking::submit_quiz(app, &employee, &id, wrong()), taking::submit_quiz(app, &employee, &id, wrong()));
        assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(), 1, "{b:?}: {x:?} {y:?}");
        let attempts = isms_store::training::attempt::Entity::find().count(s.db.store.conn()).await.unwrap();
        assert_eq!(attempts, 1, "{b:?}");
        assert!(matches!(taking::submit_quiz(app, &employee, &id, wrong()).await, Err(AppError::Conflict { code: "training-no-attempts-left", .. })));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn courses_are_checked_and_owned() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let auditor = acting_as(app, "auditor").await.unwrap();
        // A group course needs the permission group-wide.
        assert!(matches!(courses::create(app, &secadmin, course("AW-1", true)).await, Err(AppError::Forbidden)));
        assert!(matches!(courses::create(app, &auditor, course("AW-1", true)).await, Err(AppError::Forbidden)));
        let aza = group.companies.iter().find(|(code, _)| code == "AZA").unwrap().1.clone();
        let c = courses::create(app, &secadmin, CourseInput { company_id: Some(aza.clone()), ..course("aw-1", true) }).await.unwrap();
        assert_eq!((c.code.as_str(), c.revision), ("AW-1", 1));
        // Every field's refusal at once.
        let bad = CourseInput {
            code: "".into(),
            kind: "fun".into(),
            duration_minutes: Some(0),
            pass_mark: Some(101),
            title_ja: "".into(),
            body_ja: "".into(),
            ..Default::default()
        };
        let AppError::Invalid(errors) = courses::create(app, &secadmin, CourseInput { company_id: Some(aza.clone()), ..bad }).await.unwrap_err() else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "kind", "duration_minutes", "pass_mark", "title_ja"], "{b:?}");
        // An edit of the text is a new revision; the code stays unique.
        let c2 = courses::update(app, &secadmin, &c.id, CourseInput { body_ja: "新しい本文".into(), company_id: None, ..course("AW-1", true) }).await.unwrap();
        assert_eq!((c2.revision, c2.company_id.as_deref()), (2, Some(aza.as_str())), "{b:?}: the owner stays");
        courses::create(app, &secadmin, CourseInput { company_id: Some(aza.clone()), ..course("AW-2", false) }).await.unwrap();
        let e = courses::update(app, &secadmin, &c.id, CourseInput { code: "AW-2".into(), ..course("AW-1", true) }).await.unwrap_err();
        assert_eq!(code_of(&e), "course-code-taken");
        // The company's course is not another company's to see.
        let other = group.companies.iter().find(|(code, _)| code != "AZA").unwrap().1.clone();
        let admin_of_other = isms_kernel::Principal {
            access: isms_core::Access::new(vec![isms_core::Grant { role: isms_core::Role::CompanySecurityAdmin, company: Some(other.parse().unwrap()) }]),
            ..Principal::system()
        };
        assert!(matches!(courses::get(app, &admin_of_other, &c.id).await, Err(AppError::NotFound)));
        assert!(courses::list(app, &admin_of_other).await.unwrap().is_empty());
        s.db.drop_schema().await;
    }
}
