//! On-call rotations on both backends: a new alert pages whoever is on call (inbox, a real
//! SMTP server, the webhook queue), covers stand in, an alert nobody acknowledges in time
//! escalates once to the next person and the CSIRT lead even with two instances racing,
//! an acknowledged one does not, and bad rotations are refused field by field.

use crate::code_of;
use isms_app::accounts::acting_as;
use isms_app::monitoring::alerts::{self, AlertQuery, StepInput};
use isms_app::monitoring::oncall::{self, CoverInput, RotationInput};
use isms_app::monitoring::pipeline::{Pipeline, PipelineConfig};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_app::notify::{self, HookConfig, MailSecurity, MailSettings, Mailer};
use isms_app::{App, AppConfig, AppError};
use isms_store::monitoring::page;
use isms_store::notices::{notification, webhook};
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use isms_testkit::smtp::SmtpSink;
use isms_testkit::{AUDIT_KEY, TestServer, backends, test_config};
use serde_json::json;
use std::time::Duration;

fn moment(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

fn whoami(host: &str) -> Vec<u8> {
    json!({"@timestamp": "2026-11-26T01:00:00Z", "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "computer_name": host,
        "event_data": {"Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /all", "User": "AOZORA\\x"}}})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn alerts_page_the_person_on_call_and_escalate_when_unacknowledged() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let hooks = vec![HookConfig { name: "pager".into(), events: vec!["alert-page".into(), "alert-escalated".into()] }];
        let app = App::new(s.db.store.clone(), AppConfig { mail_enabled: true, webhooks: hooks, ..test_config() }, AUDIT_KEY.to_vec());
        let db = s.db.store.conn();
        let (csirt, ciso, secadmin, auditor) = (
            acting_as(&app, "csirt").await.unwrap(),
            acting_as(&app, "ciso").await.unwrap(),
            acting_as(&app, "secadmin").await.unwrap(),
            acting_as(&app, "auditor").await.unwrap(),
        );
        let uid = |p: &isms_app::Principal| p.user_id.clone().unwrap();

        // The demo's group rotation paged the CSIRT member for its high and critical alerts only.
        let demo = alerts::list(&app, &csirt, &AlertQuery { state: Some("all".into()), ..Default::default() }).await.unwrap().items;
        let mut company_pages = 0;
        for a in &demo {
            let pages = oncall::pages_of(&app, &csirt, &a.id).await.unwrap();
            if a.severity >= isms_core::monitoring::Severity::High {
                assert_eq!(pages.len(), 1, "{b:?} {}", a.title);
                assert_eq!((pages[0].user_id.as_str(), pages[0].reason.as_str(), pages[0].rotation.as_str()), (uid(&csirt).as_str(), "on_call", "Group SOC"));
                assert!(pages[0].escalate_ms.is_some_and(|e| e > isms_store::now_ms()), "escalation waits 15 minutes");
                assert!(pages[0].rotation_id.is_some(), "{b:?}: the group's reader may follow the rotation");
                // A company's administrator sees who was paged by which rotation, but gets
                // no link to a group rotation they may not open.
                if a.company_id.as_deref().is_some_and(|c| secadmin.access.grants().iter().any(|g| g.company.map(|x| x.to_string()).as_deref() == Some(c))) {
                    let theirs = oncall::pages_of(&app, &secadmin, &a.id).await.unwrap();
                    assert_eq!((theirs[0].rotation.as_str(), theirs[0].rotation_id.as_deref()), ("Group SOC", None), "{b:?}");
                    let rot = pages[0].rotation_id.clone().unwrap();
                    assert!(oncall::get(&app, &secadmin, &rot).await.is_err(), "{b:?}: the rotation itself stays out of reach");
                    company_pages += 1;
                }
            } else {
                assert!(pages.is_empty(), "{b:?} {} is below the rotation's severity", a.title);
            }
        }
        assert!(company_pages > 0, "{b:?}: a page of the administrator's company was looked at");

        // Bad rotations are refused field by field, and only managers make them.
        let aza = secadmin.access.grants().iter().find_map(|g| g.company.map(|c| c.to_string())).expect("the company administrator acts for AZA");
        let now = isms_store::now_ms();
        let good = RotationInput {
            name: "AZA desk".into(),
            company_id: Some(aza.clone()),
            min_severity: "medium".into(),
            ack_minutes: 10,
            shift_hours: 24,
            starts: moment(now - 3_600_000),
            members: vec![uid(&secadmin), uid(&csirt)],
            lead_user_id: Some(uid(&ciso)),
            enabled: true,
        };
        let bad = RotationInput {
            shift_hours: 0,
            starts: "next week".into(),
            members: vec![uid(&csirt), uid(&csirt), uid(&auditor)],
            lead_user_id: None,
            ..good.clone()
        };
        match oncall::create(&app, &csirt, bad).await.unwrap_err() {
            AppError::Invalid(v) => {
                let got: Vec<(&str, &str)> = v.iter().map(|e| (e.field.as_str(), e.code)).collect();
                assert_eq!(
                    got,
                    [
                        ("shift_hours", "between"),
                        ("members", "member-twice"),
                        ("starts", "moment"),
                        ("members", "not-assignable"),
                        ("lead_user_id", "required")
                    ],
                    "{b:?}"
                );
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(oncall::create(&app, &auditor, good.clone()).await, Err(AppError::Forbidden)), "auditors read rotations only");
        let e = oncall::create(&app, &secadmin, RotationInput { company_id: None, ..good.clone() }).await.unwrap_err();
        assert_eq!(code_of(&e), "company-out-of-scope", "a company administrator makes no group-wide rotation");
        let rot = oncall::create(&app, &secadmin, good.clone()).await.unwrap();
        assert_eq!(rot.on_call.as_ref().map(|o| o.user_id.clone()), Some(uid(&secadmin)), "{b:?} the first shift began an hour ago");
        assert_eq!(code_of(&oncall::create(&app, &csirt, good.clone()).await.unwrap_err()), "taken");
        let d = oncall::get(&app, &secadmin, &rot.id).await.unwrap();
        let people: Vec<&str> = d.upcoming.iter().take(4).map(|s| s.user_id.as_str()).collect();
        let (sa, cs) = (uid(&secadmin), uid(&csirt));
        assert_eq!(people, [sa.as_str(), cs.as_str(), sa.as_str(), cs.as_str()], "daily turns in order");
        assert!(oncall::list(&app, &auditor).await.unwrap().iter().any(|r| r.id == rot.id), "the auditor sees rotations");

        // A medium alert of AZA pages the AZA rotation's person on call, not the group's (high+).
        let src =
            sources::create(&app, &csirt, SourceInput { name: "AZA test".into(), company_id: Some(aza.clone()), kind: "windows".into(), ..Default::default() })
                .await
                .unwrap();
        let source = sources::authenticate(&app, &src.token).await.unwrap();
        let p = Pipeline::start(app.clone(), PipelineConfig::default());
        p.submit(source.clone(), whoami("ONCALL-01")).await.unwrap();
        let first = alerts::list(&app, &csirt, &AlertQuery { q: Some("ONCALL-01".into()), ..Default::default() }).await.unwrap().items.remove(0);
        let pages = oncall::pages_of(&app, &csirt, &first.id).await.unwrap();
        assert_eq!(pages.len(), 1, "{b:?}");
        assert_eq!((pages[0].user_id.as_str(), pages[0].reason.as_str()), (sa.as_str(), "on_call"));
        let inbox = notification::Entity::find()
            .filter(notification::Column::Kind.eq("alert-page"))
            .filter(notification::Column::UserId.eq(sa.clone()))
            .all(db)
            .await
            .unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].mail_status, "pending", "the page goes out by e-mail");
        let hook = webhook::Entity::find()
            .filter(webhook::Column::Kind.eq("alert-page"))
            .filter(webhook::Column::Link.eq(format!("/monitoring/alerts/{}", first.id)))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let args: serde_json::Value = serde_json::from_str(&hook.args).unwrap();
        assert_eq!(
            (args["user"].as_str(), args["rotation"].as_str(), args["severity"]["word"].as_str()),
            (Some("Sample secadmin"), Some("AZA desk"), Some("severity-medium")),
            "the hook says whom to call"
        );

        // The e-mail through a real SMTP server.
        let sink = SmtpSink::start().await;
        let mailer = Mailer::new(&MailSettings {
            host: "127.0.0.1".into(),
            port: sink.addr.port(),
            security: MailSecurity::None,
            username: String::new(),
            password: String::new(),
            from: "isms <isms@aozora.example>".into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        let render = isms_web::notices::MailText { i18n: std::sync::Arc::new(isms_web::catalogs().unwrap()), public_url: s.base.clone() };
        notify::deliver_due(&app, &mailer, &render, 500).await.unwrap();
        let mails = sink.received();
        assert!(mails.iter().any(|m| m.text().contains(&format!("/monitoring/alerts/{}", first.id))), "{b:?} the page reached the mail server");

        // A cover stands in from now: the next alert pages the CSIRT member.
        let e = oncall::add_cover(
            &app,
            &secadmin,
            &rot.id,
            CoverInput { user_id: uid(&auditor), from: moment(now), until: moment(now - 1), reason: String::new() },
        )
        .await
        .unwrap_err();
        match e {
            AppError::Invalid(v) => assert_eq!(
                v.iter().map(|e| (e.field.as_str(), e.code)).collect::<Vec<_>>(),
                [("user_id", "not-assignable"), ("reason", "required"), ("until", "until-after")]
            ),
            e => panic!("{e:?}"),
        }
        let cover = oncall::add_cover(
            &app,
            &secadmin,
            &rot.id,
            CoverInput { user_id: cs.clone(), from: moment(now - 60_000), until: moment(now + 3_600_000), reason: "secadmin at the dentist".into() },
        )
        .await
        .unwrap();
        let r = oncall::get(&app, &auditor, &rot.id).await.unwrap().rotation;
        let o = r.on_call.unwrap();
        assert_eq!((o.user_id.as_str(), o.covered), (cs.as_str(), true), "{b:?}");
        p.submit(source.clone(), whoami("ONCALL-02")).await.unwrap();
        let second = alerts::list(&app, &csirt, &AlertQuery { q: Some("ONCALL-02".into()), ..Default::default() }).await.unwrap().items.remove(0);
        assert_eq!(oncall::pages_of(&app, &csirt, &second.id).await.unwrap()[0].user_id, cs);

        // Nobody acknowledged the first in time: two instances race, it escalates once, to
        // whoever is on call now (the cover) and the lead.
        alerts::step(&app, &csirt, &second.id, StepInput { step: "acknowledge".into(), resolution: None, note: None }).await.unwrap();
        page::Entity::update_many().col_expr(page::Column::EscalateMs, Expr::val(1i64)).filter(page::Column::EscalateMs.is_not_null()).exec(db).await.unwrap();
        let other = App::new(s.db.store.clone(), test_config(), AUDIT_KEY.to_vec());
        let (x, y) = tokio::join!(oncall::escalate_due(&app), oncall::escalate_due(&other));
        let escalated = x.unwrap() + y.unwrap();
        let after = oncall::pages_of(&app, &csirt, &first.id).await.unwrap();
        let got: Vec<(&str, &str)> = after.iter().map(|p| (p.user_id.as_str(), p.reason.as_str())).collect();
        let ci = uid(&ciso);
        assert_eq!(got, [(sa.as_str(), "on_call"), (cs.as_str(), "next"), (ci.as_str(), "lead")], "{b:?}");
        assert!(after.iter().all(|p| p.escalate_ms.is_none()));
        let acked = oncall::pages_of(&app, &csirt, &second.id).await.unwrap();
        assert_eq!(acked.len(), 1, "{b:?} the acknowledged alert escalates to nobody");
        let unacked_demo = demo.iter().filter(|a| a.severity >= isms_core::monitoring::Severity::High).count();
        assert_eq!(escalated, 1 + unacked_demo, "{b:?} each overdue alert escalates once");
        assert_eq!(oncall::escalate_due(&app).await.unwrap(), 0, "nothing is due twice");
        let told = notification::Entity::find()
            .filter(notification::Column::Kind.eq("alert-escalated"))
            .filter(notification::Column::UserId.eq(ci.clone()))
            .all(db)
            .await
            .unwrap();
        assert!(told.iter().any(|n| n.link == format!("/monitoring/alerts/{}", first.id)), "the lead is told");

        // Removing the cover and turning the rotation off: a new alert pages nobody there.
        oncall::remove_cover(&app, &secadmin, &cover.id).await.unwrap();
        oncall::update(&app, &secadmin, &rot.id, RotationInput { enabled: false, ..good.clone() }).await.unwrap();
        p.submit(source.clone(), whoami("ONCALL-03")).await.unwrap();
        let third = alerts::list(&app, &csirt, &AlertQuery { q: Some("ONCALL-03".into()), ..Default::default() }).await.unwrap().items.remove(0);
        assert!(oncall::pages_of(&app, &csirt, &third.id).await.unwrap().is_empty(), "{b:?}");

        // The pages and the API.
        let me = isms_testkit::user_session(&app, "oncall-viewer", vec![isms_testkit::grant(isms_core::Role::Auditor, None)], None).await;
        let html = me.client.get(s.url(&format!("/monitoring/oncall/{}", rot.id))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("AZA desk") && html.contains("id=\"shifts\"") && !html.contains("id=\"cover-form\""), "the auditor reads, without forms");
        let r = me.client.get(s.url(&format!("/api/v1/alerts/{}/pages", first.id))).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.json::<Vec<serde_json::Value>>().await.unwrap().len(), 3);
        let html = me.client.get(s.url(&format!("/monitoring/alerts/{}", first.id))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("id=\"paging\"") && html.contains("Sample ciso"), "the alert shows who was paged");
        oncall::delete(&app, &secadmin, &rot.id).await.unwrap();
        assert!(matches!(oncall::get(&app, &csirt, &rot.id).await, Err(AppError::NotFound)));
        assert!(oncall::pages_of(&app, &csirt, &first.id).await.unwrap().len() == 3, "pages outlive their rotation");
        s.db.drop_schema().await;
    }
}
