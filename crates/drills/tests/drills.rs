//! E-mail drills on both backends, without the web layer: a campaign delivered to a real
//! local SMTP server within its per-second cap, every recipient once with their own
//! token; templates refused by the merge field they name; retries and bounces; a sender
//! that died mid-campaign leaving its mail to the next; pause and cancel; and tracking
//! that keeps gateways' fetches from counting as people's clicks.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_core::drills::{EventKind, HEADER};
use isms_drills::track::Request;
use isms_drills::{CampaignInput, ProfileInput, TemplateInput, campaigns, profiles, results, send, templates, track};
use isms_kernel::{App, AppError, Principal};
use isms_store::drills::{event, recipient};
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use isms_testdb::smtp::SmtpSink;
use isms_testdb::{TestApp, backends, code_of};
use std::collections::HashMap;
use std::time::Duration;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn profile(app: &App, sink: &SmtpSink) -> String {
    let p = ProfileInput {
        name: "訓練用リレー".into(),
        host: "127.0.0.1".into(),
        port: Some(sink.addr.port().to_string()),
        security: "none".into(),
        username: "drills".into(),
        password: "relay-secret".into(),
        envelope_from: "bounces@drills.example".into(),
        ..Default::default()
    };
    profiles::create(app, &Principal::system(), p).await.unwrap().id
}

fn lure() -> TemplateInput {
    TemplateInput {
        name: "パスワード期限切れ".into(),
        kind: "credential".into(),
        from_name: "情報システム部".into(),
        from_address: "it-support@examp1e.co.jp".into(),
        subject_ja: "{{name}}様 パスワードの有効期限".into(),
        body_ja: "{{name}}様\n\n{{company}}のパスワードが本日失効します。\n{{link}}\n\n参照: {{ref}}".into(),
        subject_en: "Your password expires, {{name}}".into(),
        body_en: "Dear {{name}},\nyour password expires today.\n{{link}}".into(),
        ..Default::default()
    }
}

async fn campaign(app: &App, template: &str, profile: &str, cap: u32) -> String {
    let today = isms_core::calendar::today().to_string();
    let c = CampaignInput {
        name: "12月 訓練".into(),
        template_id: template.into(),
        profile_id: profile.into(),
        first_day: today.clone(),
        last_day: today,
        window: isms_core::drills::Window { weekdays: vec![1, 2, 3, 4, 5, 6, 7], start: "00:00".into(), end: "23:59".into(), ..Default::default() },
        cap: Some(cap.to_string()),
        link_base: "https://drills.example".into(),
        ..Default::default()
    };
    campaigns::create(app, &Principal::system(), c).await.unwrap().id
}

/// Makes every planned mail due now: the spread over the day is the rule's unit test;
/// here the sending is under test.
async fn due_now(s: &TestApp, campaign: &str) {
    recipient::Entity::update_many()
        .col_expr(recipient::Column::NextMs, Expr::value(0i64))
        .filter(recipient::Column::CampaignId.eq(campaign))
        .exec(s.db.store.conn())
        .await
        .unwrap();
}

async fn send_all(app: &App) -> u64 {
    let mut n = 0;
    for _ in 0..20 {
        let k = send::run(app, Duration::from_secs(30)).await.unwrap();
        if k == 0 {
            break;
        }
        n += k;
    }
    n
}

#[tokio::test]
async fn a_campaign_reaches_everyone_once_within_the_cap() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let p = profile(app, &sink).await;
        let t = templates::create(app, &Principal::system(), lure()).await.unwrap();
        let c = campaign(app, &t.id, &p, 30).await;
        // A draft sends nothing.
        assert_eq!(send::run(app, Duration::from_secs(2)).await.unwrap(), 0);
        let launched = campaigns::launch(app, &Principal::system(), &c).await.unwrap();
        assert!(launched.recipients > 60, "{b:?}: the demo group has people");
        // Launching twice launches once.
        assert_eq!(
            code_of(&campaigns::launch(app, &Principal::system(), &c).await.unwrap_err()),
            "Conflict { code: \"drill-campaign-state\", message: \"the campaign is not in a state that allows this\" }"
        );
        due_now(&s, &c).await;
        let sent = send_all(app).await;
        assert_eq!(i64::try_from(sent).unwrap(), launched.recipients, "{b:?}");
        let got = sink.received();
        assert_eq!(i64::try_from(got.len()).unwrap(), launched.recipients, "{b:?}: one mail each");
        let rows = recipient::Entity::find().filter(recipient::Column::CampaignId.eq(c.clone())).all(s.db.store.conn()).await.unwrap();
        let by_email: HashMap<String, recipient::Model> = rows.iter().map(|r| (r.email.clone(), r.clone())).collect();
        let mut seen = std::collections::HashSet::new();
        for m in &got {
            let r = &by_email[&m.to[0]];
            assert!(seen.insert(r.email.clone()), "{b:?}: {} twice", r.email);
            assert_eq!(m.from, "bounces@drills.example", "{b:?}: the envelope sender is the profile's");
            assert_eq!(m.header(HEADER).as_deref(), Some(r.token.as_str()), "{b:?}: the token in a header");
            assert!(m.header("Message-ID").unwrap().contains(&r.token), "{b:?}: and in the Message-ID");
            assert_eq!(m.auth.as_deref(), Some("drills"), "{b:?}: the profile's account");
            let text = m.data.replace("=\r\n", "");
            assert!(text.contains(&format!("https://drills.example/d/{}", r.token)), "{b:?}: and in the link");
            assert_eq!(r.state, "sent");
        }
        // No second holds more than the cap, wherever the seconds are cut.
        let mut at: Vec<i64> = got.iter().map(|m| m.at_ms).collect();
        at.sort_unstable();
        for w in at.windows(31) {
            assert!(w[30] - w[0] >= 1_000, "{b:?}: more than thirty mails within a second: {w:?}");
        }
        assert_eq!(campaigns::get(app, &Principal::system(), &c).await.unwrap().state.code(), "done");
        let res = results::results(app, &Principal::system(), &c).await.unwrap();
        assert_eq!(res.total.sent, launched.recipients);
        assert_eq!(res.total.clicked, 0);
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_template_is_refused_by_the_field_it_names_and_nothing_is_written() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let app = &s.app;
        let mut t = lure();
        t.body_en = "Dear {{name}}, your {{passwrd}} expires {{link}}".into();
        let e = templates::create(app, &Principal::system(), t).await.unwrap_err();
        let AppError::Invalid(v) = e else { panic!("{b:?}: {e:?}") };
        assert_eq!((v[0].field.as_str(), v[0].code), ("body_en", "drill-merge-unknown"));
        assert!(v[0].args.iter().any(|(k, x)| *k == "name" && x == "passwrd"));
        let mut t = lure();
        t.body_ja = "リンクなし".into();
        let e = templates::create(app, &Principal::system(), t).await.unwrap_err();
        assert_eq!(code_of(&e), "drill-link-missing");
        let mut bec = lure();
        bec.kind = "bec".into();
        assert_eq!(code_of(&templates::create(app, &Principal::system(), bec).await.unwrap_err()), "drill-reply-missing");
        assert_eq!(isms_store::drills::template::Entity::find().count(s.db.store.conn()).await.unwrap(), 0, "{b:?}");
        // An unencrypted relay elsewhere than this machine is refused.
        let p = ProfileInput {
            name: "x".into(),
            host: "smtp.example.com".into(),
            security: "none".into(),
            envelope_from: "a@example.com".into(),
            ..Default::default()
        };
        assert_eq!(code_of(&profiles::create(app, &Principal::system(), p).await.unwrap_err()), "drill-plain-remote");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn refusals_retry_or_bounce_and_a_dead_senders_mail_is_sent_by_the_next() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let p = profile(app, &sink).await;
        let t = templates::create(app, &Principal::system(), lure()).await.unwrap();
        let c = campaign(app, &t.id, &p, 50).await;
        let n = campaigns::launch(app, &Principal::system(), &c).await.unwrap().recipients;
        due_now(&s, &c).await;
        sink.fail_temporarily(1);
        let first = send::run(app, Duration::from_secs(30)).await.unwrap();
        assert_eq!(i64::try_from(first).unwrap(), n, "{b:?}: every one attempted");
        let db = s.db.store.conn();
        let of = |state: &'static str| {
            recipient::Entity::find().filter(recipient::Column::CampaignId.eq(c.clone())).filter(recipient::Column::State.eq(state)).count(db)
        };
        assert_eq!(of("planned").await.unwrap(), 1, "{b:?}: the refused one waits for its retry");
        assert_eq!(i64::try_from(sink.received().len()).unwrap(), n - 1);
        assert_eq!(campaigns::get(app, &Principal::system(), &c).await.unwrap().state.code(), "scheduled", "{b:?}: not done while one waits");

        // A sender took the retry and died before it could say whether the relay had it:
        // once its lease ran out, the next instance sends it (with the same Message-ID).
        let waiting = recipient::Entity::find()
            .filter(recipient::Column::CampaignId.eq(c.clone()))
            .filter(recipient::Column::State.eq("planned"))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        recipient::Entity::update_many()
            .col_expr(recipient::Column::State, Expr::value("sending"))
            .filter(recipient::Column::Id.eq(waiting.id.clone()))
            .exec(db)
            .await
            .unwrap();
        isms_store::drills::campaign::Entity::update_many()
            .col_expr(isms_store::drills::campaign::Column::LeaseOwner, Expr::value("dead"))
            .col_expr(isms_store::drills::campaign::Column::LeaseUntilMs, Expr::value(isms_store::now_ms() + 60_000))
            .filter(isms_store::drills::campaign::Column::Id.eq(c.clone()))
            .exec(db)
            .await
            .unwrap();
        due_now(&s, &c).await;
        assert_eq!(send::run_as(app, Duration::from_secs(5), "next").await.unwrap(), 0, "{b:?}: the dead sender's lease still holds");
        isms_store::drills::campaign::Entity::update_many()
            .col_expr(isms_store::drills::campaign::Column::LeaseUntilMs, Expr::value(1i64))
            .filter(isms_store::drills::campaign::Column::Id.eq(c.clone()))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(send::run_as(app, Duration::from_secs(5), "next").await.unwrap(), 1, "{b:?}");
        let again: Vec<_> = sink.received().into_iter().filter(|m| m.to[0] == waiting.email).collect();
        assert_eq!(again.len(), 1, "{b:?}");
        assert!(again[0].header("Message-ID").unwrap().contains(&waiting.token));
        assert_eq!(campaigns::get(app, &Principal::system(), &c).await.unwrap().state.code(), "done");

        // A permanent refusal bounces.
        let c2 = campaign(app, &t.id, &p, 50).await;
        campaigns::launch(app, &Principal::system(), &c2).await.unwrap();
        due_now(&s, &c2).await;
        sink.fail_permanently(1);
        send::run(app, Duration::from_secs(30)).await.unwrap();
        let bounced = recipient::Entity::find()
            .filter(recipient::Column::CampaignId.eq(c2.clone()))
            .filter(recipient::Column::State.eq("bounced"))
            .count(db)
            .await
            .unwrap();
        assert_eq!(bounced, 1, "{b:?}");
        assert_eq!(results::results(app, &Principal::system(), &c2).await.unwrap().total.bounced, 1);

        // Paused, nothing goes; cancelled, nothing planned is left.
        let c3 = campaign(app, &t.id, &p, 50).await;
        campaigns::launch(app, &Principal::system(), &c3).await.unwrap();
        due_now(&s, &c3).await;
        campaigns::pause(app, &Principal::system(), &c3).await.unwrap();
        assert_eq!(send::run(app, Duration::from_secs(2)).await.unwrap(), 0, "{b:?}");
        campaigns::cancel(app, &Principal::system(), &c3).await.unwrap();
        let planned = recipient::Entity::find()
            .filter(recipient::Column::CampaignId.eq(c3.clone()))
            .filter(recipient::Column::State.eq("planned"))
            .count(db)
            .await
            .unwrap();
        assert_eq!(planned, 0, "{b:?}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_gateways_fetch_is_a_machines_and_a_person_needs_a_second_signal() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let p = profile(app, &sink).await;
        let t = templates::create(app, &Principal::system(), lure()).await.unwrap();
        let c = campaign(app, &t.id, &p, 50).await;
        campaigns::launch(app, &Principal::system(), &c).await.unwrap();
        due_now(&s, &c).await;
        send_all(app).await;
        let db = s.db.store.conn();
        let rows = recipient::Entity::find().filter(recipient::Column::CampaignId.eq(c.clone())).all(db).await.unwrap();
        let (gw, person, silent) = (&rows[0], &rows[1], &rows[2]);
        // The gateway fetches on delivery, from Microsoft's mail-protection network.
        let safe_links = Request { method: "GET".into(), ip: "40.93.12.7".parse().ok(), agent: CHROME.into() };
        assert!(track::record(app, &gw.token, EventKind::Clicked, &safe_links, "").await.unwrap().is_some());
        track::record(app, &gw.token, EventKind::Clicked, &Request { method: "HEAD".into(), ..safe_links.clone() }, "").await.unwrap();
        // A person reads the mail an hour later, clicks, and the page's beacon follows.
        recipient::Entity::update_many()
            .col_expr(recipient::Column::SentMs, Expr::value(isms_store::now_ms() - 3_600_000))
            .filter(recipient::Column::CampaignId.eq(c.clone()))
            .exec(db)
            .await
            .unwrap();
        let browser = Request { method: "GET".into(), ip: "203.0.113.40".parse().ok(), agent: CHROME.into() };
        let shown = track::record(app, &person.token, EventKind::Clicked, &browser, "").await.unwrap().unwrap();
        assert_eq!(shown.kind, isms_core::drills::DrillKind::Credential);
        let waiting = recipient::Entity::find_by_id(person.id.clone()).one(db).await.unwrap().unwrap();
        assert_eq!(waiting.clicked_ms, None, "{b:?}: a click alone is not yet a person's");
        track::record(app, &person.token, EventKind::Beacon, &Request { method: "POST".into(), ..browser.clone() }, "").await.unwrap();
        track::record(app, &person.token, EventKind::Submitted, &Request { method: "POST".into(), ..browser.clone() }, "fields=2").await.unwrap();
        // Someone else's click has no follow-up: once its wait is over, a machine's.
        track::record(app, &silent.token, EventKind::Clicked, &browser, "").await.unwrap();
        event::Entity::update_many()
            .col_expr(event::Column::AtMs, Expr::value(isms_store::now_ms() - 11 * 60_000))
            .filter(event::Column::RecipientId.eq(silent.id.clone()))
            .filter(event::Column::Kind.eq("clicked"))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(track::settle(app).await.unwrap(), 1);

        let get = |id: String| async move { recipient::Entity::find_by_id(id).one(db).await.unwrap().unwrap() };
        let g = get(gw.id.clone()).await;
        assert_eq!((g.clicked_ms, g.machine_hits), (None, 2), "{b:?}");
        let reasons: Vec<Option<String>> = event::Entity::find()
            .filter(event::Column::RecipientId.eq(gw.id.clone()))
            .filter(event::Column::Kind.eq("clicked"))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.reason)
            .collect();
        assert!(reasons.iter().all(|r| r.is_some()), "{b:?}: every machine verdict says why: {reasons:?}");
        let h = get(person.id.clone()).await;
        assert!(h.clicked_ms.is_some() && h.submitted_ms.is_some(), "{b:?}");
        let q = get(silent.id.clone()).await;
        assert_eq!((q.clicked_ms, q.machine_hits), (None, 1), "{b:?}");
        let res = results::results(app, &Principal::system(), &c).await.unwrap();
        assert_eq!((res.total.clicked, res.total.submitted, res.total.machine_hits), (1, 1, 3), "{b:?}");

        // A malformed, unknown or foreign token records nothing.
        let before = event::Entity::find().count(db).await.unwrap();
        assert!(track::record(app, "not-a-token", EventKind::Clicked, &browser, "").await.unwrap().is_none());
        assert!(track::record(app, "aaaaaaaaaaaaaaaaaaaaaaaaaa", EventKind::Clicked, &browser, "").await.unwrap().is_none());
        assert_eq!(event::Entity::find().count(db).await.unwrap(), before, "{b:?}");
        s.db.drop_schema().await;
    }
}

/// Marks every recipient of `campaign` as sent a minute ago, past the scanners' seconds.
async fn sent_a_minute_ago(s: &TestApp, campaign: &str) -> Vec<recipient::Model> {
    let ago = isms_store::now_ms() - 60_000;
    recipient::Entity::update_many()
        .col_expr(recipient::Column::State, Expr::value("sent"))
        .col_expr(recipient::Column::SentMs, Expr::value(ago))
        .filter(recipient::Column::CampaignId.eq(campaign))
        .exec(s.db.store.conn())
        .await
        .unwrap();
    recipient::Entity::find().filter(recipient::Column::CampaignId.eq(campaign)).all(s.db.store.conn()).await.unwrap()
}

#[tokio::test]
async fn a_fall_assigns_the_remedial_course_once_and_a_report_counts_once() {
    use isms_store::training::{assignment, campaign as training_campaign};
    for b in backends() {
        let s = TestApp::start(b).await;
        let group = s.group().await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let p = profile(app, &sink).await;
        let t = templates::create(app, &Principal::system(), lure()).await.unwrap();
        let course = isms_training::courses::create(
            app,
            &Principal::system(),
            isms_training::courses::CourseInput {
                code: "PHISH-1".into(),
                kind: "remedial".into(),
                duration_minutes: Some(15),
                title_ja: "フィッシング訓練の振り返り".into(),
                body_ja: "見分け方".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let today = isms_core::calendar::today().to_string();
        let input = CampaignInput {
            name: "振り返りつき訓練".into(),
            template_id: t.id.clone(),
            profile_id: p.clone(),
            first_day: today.clone(),
            last_day: today,
            window: isms_core::drills::Window { weekdays: vec![1, 2, 3, 4, 5, 6, 7], start: "00:00".into(), end: "23:59".into(), ..Default::default() },
            link_base: "https://drills.example".into(),
            remedial_course_id: Some(course.id.clone()),
            ..Default::default()
        };
        let c = campaigns::create(app, &Principal::system(), input).await.unwrap().id;
        campaigns::launch(app, &Principal::system(), &c).await.unwrap();
        let db = s.db.store.conn();
        let follow_up = training_campaign::Entity::find_by_id(c.clone()).one(db).await.unwrap().expect("a follow-up campaign");
        assert_eq!(follow_up.status, "follow-up", "{b:?}");
        // Training's enrolment job never enrols a follow-up campaign's population.
        isms_training::campaigns::sync_all(app).await.unwrap();
        assert_eq!(assignment::Entity::find().filter(assignment::Column::CampaignId.eq(c.clone())).count(db).await.unwrap(), 0, "{b:?}");
        let rows = sent_a_minute_ago(&s, &c).await;
        let person = Request { method: "GET".into(), ip: "203.0.113.5".parse().ok(), agent: CHROME.into() };
        let signal = Request { method: "POST".into(), ..person.clone() };
        // A click with its beacon falls; a second signal and two at once assign nothing more.
        let (one, two) = (&rows[0], &rows[1]);
        track::record(app, &one.token, EventKind::Clicked, &person, "").await.unwrap();
        track::record(app, &one.token, EventKind::Beacon, &signal, "").await.unwrap();
        track::record(app, &one.token, EventKind::Submitted, &signal, "fields=2").await.unwrap();
        track::record(app, &two.token, EventKind::Clicked, &person, "").await.unwrap();
        let (x, y) = tokio::join!(
            track::record(app, &two.token, EventKind::Beacon, &signal, ""),
            track::record(app, &two.token, EventKind::Submitted, &signal, "fields=1")
        );
        x.unwrap();
        y.unwrap();
        // A gateway's fetch of a third person's link assigns nothing.
        let scanner = Request { agent: "Mozilla/5.0 (compatible; Proofpoint URL Defense)".into(), ..person.clone() };
        track::record(app, &rows[2].token, EventKind::Clicked, &scanner, "").await.unwrap();
        let assigned = assignment::Entity::find().filter(assignment::Column::CampaignId.eq(c.clone())).all(db).await.unwrap();
        let mut people: Vec<&str> = assigned.iter().map(|a| a.person_id.as_str()).collect();
        people.sort_unstable();
        let mut want = vec![one.person_id.as_str(), two.person_id.as_str()];
        want.sort_unstable();
        assert_eq!(people, want, "{b:?}: each who fell, once");
        assert!(assigned.iter().all(|a| a.course_id == course.id && a.status == "assigned"), "{b:?}");
        let flagged = recipient::Entity::find().filter(recipient::Column::Remedial.eq(true)).count(db).await.unwrap();
        assert_eq!(flagged, 2, "{b:?}");
        // Once training's office closes the follow-up, a later fall adds nobody.
        isms_training::campaigns::close(app, &Principal::system(), &c).await.unwrap();
        track::record(app, &rows[6].token, EventKind::Clicked, &person, "").await.unwrap();
        track::record(app, &rows[6].token, EventKind::Beacon, &signal, "").await.unwrap();
        assert_eq!(assignment::Entity::find().filter(assignment::Column::CampaignId.eq(c.clone())).count(db).await.unwrap(), 2, "{b:?}");

        // Reports: by reference code, by a reply's In-Reply-To; the same twice counts once.
        let code = isms_core::drills::reference(&rows[3].token);
        let r =
            isms_drills::reports::report(app, &Principal::system(), &format!("電話で参照コード {} を伝えられた", code.to_uppercase()), "desk").await.unwrap();
        assert_eq!((r.matched.len(), r.matched[0].first, r.unknown), (1, true, 0), "{b:?}");
        let again = isms_drills::reports::report(app, &Principal::system(), &code, "desk").await.unwrap();
        assert!(!again.matched[0].first, "{b:?}: a second report is no second count");
        let reply = format!("In-Reply-To: <{}>\r\nSubject: Re: ...\r\n", rows[4].message_id);
        let r = isms_drills::reports::report(app, &Principal::system(), &reply, "mailbox").await.unwrap();
        assert_eq!(r.matched.len(), 1, "{b:?}: the Message-ID names the recipient");
        // The one who fell and then reported counts for both.
        let r = isms_drills::reports::report(app, &Principal::system(), &format!("https://drills.example/d/{}", one.token), "desk").await.unwrap();
        assert!(r.matched[0].fell_first, "{b:?}");
        // A company's administrator cannot record reports of the group's drill.
        let other = group.companies.iter().find(|(code, _)| code != "AZA").unwrap().1.clone();
        let admin = Principal {
            access: isms_core::Access::new(vec![isms_core::Grant { role: isms_core::Role::CompanySecurityAdmin, company: Some(other.parse().unwrap()) }]),
            ..Principal::system()
        };
        let r = isms_drills::reports::report(app, &admin, &isms_core::drills::reference(&rows[5].token), "desk").await.unwrap();
        assert_eq!((r.matched.len(), r.unknown), (0, 1), "{b:?}");
        let res = results::results(app, &Principal::system(), &c).await.unwrap();
        assert_eq!((res.total.clicked, res.total.submitted, res.total.reported), (3, 2, 3), "{b:?}");
        assert_eq!(res.total.machine_hits, 1, "{b:?}");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_kept_relay_password_goes_only_where_it_was_typed_for() {
    for b in backends() {
        let s = TestApp::start(b).await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let id = profile(app, &sink).await;
        let base = ProfileInput {
            name: "訓練用リレー".into(),
            host: "127.0.0.1".into(),
            port: Some(sink.addr.port().to_string()),
            security: "none".into(),
            username: "drills".into(),
            envelope_from: "bounces@drills.example".into(),
            ..Default::default()
        };
        // The same server and account keep the password with a blank field.
        let kept = profiles::update(app, &Principal::system(), &id, ProfileInput { name: "改名".into(), ..base.clone() }).await.unwrap();
        assert!(kept.has_password, "{b:?}");
        // Another server or account without the password again is refused, naming it.
        for moved in [ProfileInput { host: "localhost".into(), ..base.clone() }, ProfileInput { username: "someone-else".into(), ..base.clone() }] {
            let e = profiles::update(app, &Principal::system(), &id, moved).await.unwrap_err();
            let AppError::Invalid(errs) = e else { panic!("{b:?}: {e:?}") };
            assert_eq!((errs[0].field.as_str(), errs[0].code), ("password", "drill-password-again"), "{b:?}");
        }
        let moved =
            profiles::update(app, &Principal::system(), &id, ProfileInput { host: "localhost".into(), password: "new-secret".into(), ..base }).await.unwrap();
        assert_eq!(moved.host, "localhost");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn the_groups_own_gateways_count_for_nobody_and_a_bad_line_is_named() {
    for b in backends() {
        let s = TestApp::start(b).await;
        s.group().await;
        let app = &s.app;
        let sink = SmtpSink::start().await;
        let p = profile(app, &sink).await;
        let t = templates::create(app, &Principal::system(), lure()).await.unwrap();
        let c = campaign(app, &t.id, &p, 30).await;
        campaigns::launch(app, &Principal::system(), &c).await.unwrap();
        let rows = sent_a_minute_ago(&s, &c).await;
        // Refused by field and line; nothing written.
        let e = isms_drills::scanners::set(app, &Principal::system(), "198.51.100.0/24\n\n10.0.0.0/33", "ab").await.unwrap_err();
        let AppError::Invalid(errs) = e else { panic!("{b:?}: {e:?}") };
        let got: Vec<(&str, &str, String)> =
            errs.iter().map(|e| (e.field.as_str(), e.code, e.args.iter().find(|(k, _)| *k == "line").map(|(_, v)| v.clone()).unwrap_or_default())).collect();
        assert_eq!(got, vec![("nets", "drill-scanner-net", "3".to_owned()), ("agents", "drill-scanner-agent", "1".to_owned())], "{b:?}");
        assert!(isms_drills::scanners::get(s.db.store.conn()).await.unwrap().nets.is_empty(), "{b:?}");
        // Only group-wide managers write the group's list.
        let admin = Principal {
            access: isms_core::Access::new(vec![isms_core::Grant {
                role: isms_core::Role::CompanySecurityAdmin,
                company: Some(rows[0].company_id.parse().unwrap()),
            }]),
            ..Principal::system()
        };
        assert!(matches!(isms_drills::scanners::set(app, &admin, "192.0.2.0/24", "").await, Err(AppError::Forbidden)), "{b:?}");
        isms_drills::scanners::set(app, &Principal::system(), "192.0.2.0/24 # the group's proxy", "ACME-MailGW").await.unwrap();
        let signal = |ip: &str, agent: &str| Request { method: "POST".into(), ip: ip.parse().ok(), agent: agent.into() };
        let click = |ip: &str, agent: &str| Request { method: "GET".into(), ip: ip.parse().ok(), agent: agent.into() };
        // From the proxy's network, even a browser's click and beacon are the proxy's.
        track::record(app, &rows[0].token, EventKind::Clicked, &click("192.0.2.44", CHROME), "").await.unwrap();
        track::record(app, &rows[0].token, EventKind::Beacon, &signal("192.0.2.44", CHROME), "").await.unwrap();
        // A gateway naming itself in its agent.
        track::record(app, &rows[1].token, EventKind::Clicked, &click("203.0.113.8", "Mozilla/5.0 acme-mailgw/3.1"), "").await.unwrap();
        // A person elsewhere still counts.
        track::record(app, &rows[2].token, EventKind::Clicked, &click("203.0.113.9", CHROME), "").await.unwrap();
        track::record(app, &rows[2].token, EventKind::Beacon, &signal("203.0.113.9", CHROME), "").await.unwrap();
        let res = results::results(app, &Principal::system(), &c).await.unwrap();
        assert_eq!((res.total.clicked, res.total.machine_hits), (1, 3), "{b:?}");
        let reasons: Vec<Option<String>> = event::Entity::find()
            .filter(event::Column::RecipientId.eq(rows[1].id.clone()))
            .all(s.db.store.conn())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.reason)
            .collect();
        assert!(reasons.contains(&Some("scanner-agent".into())), "{b:?}: {reasons:?}");
        s.db.drop_schema().await;
    }
}
