//! Notifications on both backends: review reminders reach the owner once, in the inbox and
//! through a real SMTP server; a refused delivery is retried or given up by the server's
//! answer; only the recipient reads or marks their notifications.

use isms_app::notify::{self, Delivery, MailSecurity, MailSettings, Mailer};
use isms_app::{App, AppConfig};
use isms_core::Role;
use isms_store::notices::notification;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use isms_testkit::smtp::SmtpSink;
use isms_testkit::{AUDIT_KEY, TestServer, backends, grant, test_config, user_session};
use std::time::Duration;

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&MailSettings {
        host: "127.0.0.1".into(),
        port: sink.addr.port(),
        security: MailSecurity::None,
        username: "isms".into(),
        password: "relay-password".into(),
        from: "isms <isms@aozora.example>".into(),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn render(s: &TestServer) -> isms_web::notices::MailText {
    isms_web::notices::MailText { i18n: std::sync::Arc::new(isms_web::catalogs().unwrap()), public_url: s.base.clone() }
}

#[tokio::test]
async fn review_reminders_reach_owners_once_by_inbox_and_mail() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = App::new(s.db.store.clone(), AppConfig { mail_enabled: true, ..test_config() }, AUDIT_KEY.to_vec());
        let db = s.db.store.conn();
        // Every owned asset falls due in five days.
        let soon = isms_core::calendar::today().saturating_add(jiff::Span::new().days(5)).to_string();
        db.execute_unprepared(&format!("UPDATE information_assets SET review_due = '{soon}' WHERE owner_id IS NOT NULL")).await.unwrap();
        let owned: Vec<(String, String, String)> = isms_store::assets::asset::Entity::find()
            .filter(isms_store::assets::asset::Column::OwnerId.is_not_null())
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a.name, a.owner_id.unwrap()))
            .collect();
        // Leavers are not reminded.
        let mut active = vec![];
        for o in owned {
            if isms_store::org::person::Entity::find_by_id(o.2.clone()).one(db).await.unwrap().unwrap().status == "active" {
                active.push(o);
            }
        }
        let owned = active;
        assert!(owned.len() >= 3, "{b:?}");

        let n = isms_app::assets::register::remind_reviews(&app).await.unwrap();
        assert_eq!(n, owned.len(), "{b:?}");
        assert_eq!(isms_app::assets::register::remind_reviews(&app).await.unwrap(), 0, "a reminder goes once per due date ({b:?})");

        // Delivery through a real SMTP server; the first message is refused for now.
        let sink = SmtpSink::start().await;
        sink.fail_temporarily(1);
        let m = mailer(&sink);
        let r = render(&s);
        let d = notify::deliver_due(&app, &m, &r, 100).await.unwrap();
        assert_eq!(d, Delivery { sent: n - 1, retrying: 1, failed: 0 }, "{b:?}");
        let got = sink.received();
        assert_eq!(got.len(), n - 1);
        let first = &got[0];
        assert_eq!(first.auth.as_deref(), Some("isms"));
        assert_eq!(first.from, "isms@aozora.example");
        let (asset_id, asset_name, _) = owned.iter().find(|(id, _, _)| first.text().contains(&format!("/assets/{id}"))).expect("mail links to its asset");
        assert!(first.subject().contains(asset_name.as_str()), "{} / {}", first.subject(), asset_name);
        assert!(first.text().contains(&format!("{}/assets/{asset_id}", s.base)));
        // Nothing is due again until the retry time.
        assert_eq!(notify::deliver_due(&app, &m, &r, 100).await.unwrap(), Delivery::default());
        let retry = notification::Entity::find().filter(notification::Column::MailStatus.eq("pending")).one(db).await.unwrap().unwrap();
        assert_eq!(retry.mail_attempts, 1);
        assert!(retry.mail_error.contains("451"), "{}", retry.mail_error);
        // At its retry time it is refused for good: no more attempts.
        notification::Entity::update_many()
            .col_expr(notification::Column::NextAttemptMs, Expr::val(0i64))
            .filter(notification::Column::Id.eq(retry.id.clone()))
            .exec(db)
            .await
            .unwrap();
        sink.fail_permanently(1);
        assert_eq!(notify::deliver_due(&app, &m, &r, 100).await.unwrap(), Delivery { sent: 0, retrying: 0, failed: 1 });
        let failed = notification::Entity::find_by_id(retry.id.clone()).one(db).await.unwrap().unwrap();
        assert_eq!(failed.mail_status, "failed");

        // A sender that died mid-way: once its lease runs out, the row is sent again.
        let sent = notification::Entity::find().filter(notification::Column::MailStatus.eq("sent")).one(db).await.unwrap().unwrap();
        notification::Entity::update_many()
            .col_expr(notification::Column::MailStatus, Expr::val("sending"))
            .col_expr(notification::Column::NextAttemptMs, Expr::val(1i64))
            .filter(notification::Column::Id.eq(sent.id.clone()))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(notify::deliver_due(&app, &m, &r, 100).await.unwrap().sent, 1);
        assert_eq!(sink.received().len(), n);

        // An owner without an account got the reminder by mail only; once they have one,
        // the next reminder reaches their inbox too. Another user neither sees nor marks it.
        // An owner without an account gets reminders by mail only; once they have one,
        // the next reminder reaches their inbox too. Another user neither sees nor marks it.
        let (asset_id, asset_name, _) = owned[0].clone();
        let accounts: Vec<Option<String>> = isms_store::accounts::user::Entity::find().all(db).await.unwrap().into_iter().map(|u| u.person_id).collect();
        let person = isms_store::org::person::Entity::find()
            .filter(isms_store::org::person::Column::Status.eq("active"))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .find(|p| !accounts.contains(&Some(p.id.clone())))
            .unwrap();
        db.execute_unprepared(&format!(
            "UPDATE information_assets SET owner_id = '{}', review_due = '{}' WHERE id = '{asset_id}'",
            person.id,
            isms_core::calendar::today()
        ))
        .await
        .unwrap();
        let before = sink.received().len();
        assert_eq!(isms_app::assets::register::remind_reviews(&app).await.unwrap(), 1);
        assert_eq!(notify::deliver_due(&app, &m, &r, 100).await.unwrap().sent, 1);
        assert_eq!(sink.received()[before].to, vec![person.email.clone()]);
        let me = user_session(&s.app, "owner", vec![grant(Role::Employee, None)], Some(person.id.clone())).await;
        let page = me.client.get(s.url("/notifications")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"notifications\"") && !page.contains(asset_name.as_str()), "{b:?}");
        db.execute_unprepared(&format!(
            "UPDATE information_assets SET review_due = '{}' WHERE id = '{asset_id}'",
            isms_core::calendar::today().yesterday().unwrap()
        ))
        .await
        .unwrap();
        assert_eq!(isms_app::assets::register::remind_reviews(&app).await.unwrap(), 1);
        let page = me.client.get(s.url("/notifications")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(asset_name.as_str()), "{b:?}");
        assert!(page.contains("class=\"count\""), "the unread count shows in the header");
        let other = user_session(&s.app, "someone", vec![grant(Role::Employee, None)], None).await;
        let theirs: Vec<serde_json::Value> = other.client.get(s.url("/api/v1/notifications")).send().await.unwrap().json().await.unwrap();
        assert!(theirs.is_empty());
        let mine: Vec<serde_json::Value> = me.client.get(s.url("/api/v1/notifications?unread=true")).send().await.unwrap().json().await.unwrap();
        assert!(!mine.is_empty());
        let id = mine[0]["id"].as_str().unwrap().to_owned();
        let r = other
            .client
            .post(s.url("/api/v1/notifications/read"))
            .header("X-CSRF-Token", &other.csrf)
            .json(&serde_json::json!({"id": id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["marked"], 0);
        let page = me.client.get(s.url("/notifications")).send().await.unwrap().text().await.unwrap();
        let csrf = crate::csrf_in(&page);
        let r = me.client.post(s.url(&format!("/notifications/{id}/read"))).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
        assert!(r.status().is_success() || r.status().is_redirection());
        let after: Vec<serde_json::Value> = me.client.get(s.url("/api/v1/notifications?unread=true")).send().await.unwrap().json().await.unwrap();
        assert_eq!(after.len(), mine.len() - 1, "{b:?}");
        assert!(after.iter().all(|n| n["id"] != id.as_str()));
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn incident_events_reach_a_chat_webhook_with_retries() {
    use isms_app::notify::{HookConfig, HookFormat, HookSender, HookTarget, deliver_hooks};
    // A receiver like a chat tool's incoming webhook: the first call fails with 503.
    let hook = isms_testkit::hook::Receiver::start("/hooks/T0K3N", 1).await;
    let addr = hook.addr;
    for b in backends() {
        hook.reset();
        let s = TestServer::start(b).await;
        s.demo().await;
        let hooks = vec![HookConfig { name: "csirt-chat".into(), events: vec!["incident-reported".into()] }];
        let app = App::new(s.db.store.clone(), AppConfig { webhooks: hooks, ..test_config() }, AUDIT_KEY.to_vec());
        let employee = isms_app::accounts::acting_as(&app, "employee").await.unwrap();
        let csirt = isms_app::accounts::acting_as(&app, "csirt").await.unwrap();
        let i = isms_app::incidents::cases::report(
            &app,
            &employee,
            isms_app::incidents::cases::ReportInput { title: "Ransom note on a kiosk".into(), ..Default::default() },
        )
        .await
        .unwrap();
        // A drill sends nothing out.
        isms_app::incidents::cases::report(
            &app,
            &csirt,
            isms_app::incidents::cases::ReportInput { title: "Drill".into(), exercise: true, company_id: Some(i.company_id.clone()), ..Default::default() },
        )
        .await
        .unwrap();
        let sender = HookSender::new(
            vec![HookTarget { name: "csirt-chat".into(), url: format!("http://{addr}/hooks/T0K3N"), format: HookFormat::Chat, language: "en".into() }],
            Duration::from_secs(5),
        )
        .unwrap();
        let r = render(&s);
        assert_eq!(deliver_hooks(&app, &sender, &r, 10).await.unwrap(), Delivery { sent: 0, retrying: 1, failed: 0 }, "{b:?}");
        let db = s.db.store.conn();
        let row = isms_store::notices::webhook::Entity::find().one(db).await.unwrap().unwrap();
        assert_eq!(row.error, "HTTP 503 Service Unavailable");
        assert!(!row.error.contains("T0K3N"));
        isms_store::notices::webhook::Entity::update_many()
            .col_expr(isms_store::notices::webhook::Column::NextAttemptMs, Expr::val(0i64))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(deliver_hooks(&app, &sender, &r, 10).await.unwrap().sent, 1);
        let bodies = hook.bodies();
        assert_eq!(bodies.len(), 1);
        let text = bodies[0]["text"].as_str().unwrap();
        assert!(text.contains(&i.reference) && text.contains("Ransom note on a kiosk") && text.contains(&format!("/incidents/{}", i.id)), "{text}");
        assert_eq!(deliver_hooks(&app, &sender, &r, 10).await.unwrap(), Delivery::default(), "sent once");
        s.db.drop_schema().await;
    }
}
