//! Raw events on both backends: a source set to keep them stores every event, matched or
//! not, searchable by text, host and company scope (use case, API and page); a source that
//! does not keep them stores none; pruning removes what is past the days, then the oldest
//! beyond the size.

use isms_app::accounts::acting_as;
use isms_app::monitoring::alerts::EventQuery;
use isms_app::monitoring::pipeline::{Pipeline, PipelineConfig};
use isms_app::monitoring::raw::{self, Retention};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_app::{App, AppConfig, Principal};
use isms_core::Role;
use isms_store::monitoring::raw_event;
use isms_store::sea_orm::sea_query::Expr;
use isms_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use isms_testkit::{AUDIT_KEY, TestServer, backends, grant, test_config, user_session};
use serde_json::json;

fn event(host: &str, image: &str) -> String {
    json!({"@timestamp": "2026-11-26T02:00:00Z", "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "computer_name": host, "event_data": {"Image": image, "CommandLine": image, "User": "AOZORA\\\\r.kato"}}}).to_string()
}

fn q(text: Option<&str>, host: Option<&str>) -> EventQuery {
    EventQuery { q: text.map(Into::into), host: host.map(Into::into), ..Default::default() }
}

#[tokio::test]
async fn raw_events_are_kept_searched_within_scope_and_pruned() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let db = s.db.store.conn();
        let csirt = acting_as(app, "csirt").await.unwrap();
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let companies = isms_app::org::list_companies(app, &Principal::system()).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let other = companies.iter().find(|c| c.code != "AZA").unwrap().id.clone();
        // The demo's workstations keep their raw events: six, matched or not.
        let demo = raw::search(app, &csirt, &EventQuery::default()).await.unwrap();
        assert_eq!(demo.total, 6, "{b:?}");
        assert!(demo.items.iter().any(|e| e.raw.contains("notepad.exe report.txt")), "an event that raised no alert is there");
        raw_event::Entity::delete_many().exec(db).await.unwrap();

        let keep = sources::create(
            app,
            &csirt,
            SourceInput { name: "AZA kiosks".into(), company_id: Some(aza.clone()), kind: "windows".into(), keep_raw: true, ..Default::default() },
        )
        .await
        .unwrap();
        let skip = sources::create(
            app,
            &csirt,
            SourceInput { name: "AZA printers".into(), company_id: Some(aza.clone()), kind: "windows".into(), ..Default::default() },
        )
        .await
        .unwrap();
        assert!(keep.source.keep_raw && !skip.source.keep_raw);
        let p = Pipeline::start(app.clone(), PipelineConfig::default());
        let batch = [
            event("KIOSK-01", "C:\\Windows\\System32\\whoami.exe"),
            event("KIOSK-01", "C:\\Windows\\notepad.exe"),
            event("KIOSK-02", "C:\\Apps\\boarding.exe"),
        ]
        .join("\n");
        let o = p.submit(sources::authenticate(app, &keep.token).await.unwrap(), batch.into_bytes()).await.unwrap();
        assert_eq!((o.accepted, o.alerts), (3, 1), "{b:?} whoami matched the demo rule");
        p.submit(sources::authenticate(app, &skip.token).await.unwrap(), event("PRN-01", "C:\\Apps\\spooler.exe").into_bytes()).await.unwrap();

        let all = raw::search(app, &csirt, &EventQuery::default()).await.unwrap();
        assert_eq!(all.total, 3, "{b:?} every event of the keeping source, matched or not; none of the other");
        assert!(all.items.iter().all(|e| e.source_id == keep.source.id && e.company_id.as_deref() == Some(aza.as_str())));
        assert_eq!(raw::search(app, &csirt, &q(Some("NOTEPAD"), None)).await.unwrap().total, 1, "text, any case");
        assert_eq!(raw::search(app, &csirt, &q(None, Some("kiosk-02"))).await.unwrap().total, 1, "host, any case");
        assert_eq!(raw::search(app, &csirt, &q(Some("boarding kiosk-01"), None)).await.unwrap().total, 0, "all words must be there");
        assert_eq!(raw::search(app, &secadmin, &EventQuery::default()).await.unwrap().total, 3, "AZA's administrator sees AZA's events");
        user_session(app, "raw-other", vec![grant(Role::CompanySecurityAdmin, Some(&other))], None).await;
        let outsider = acting_as(app, "raw-other").await.unwrap();
        assert_eq!(raw::search(app, &outsider, &EventQuery::default()).await.unwrap().total, 0, "{b:?} another company's administrator sees none");
        let Err(e) = raw::search(app, &csirt, &EventQuery { from: Some("26/11/2026".into()), ..Default::default() }).await else {
            panic!("a bad day is refused")
        };
        assert_eq!(crate::code_of(&e), "date");

        // The API and the page.
        let me = user_session(app, "raw-reader", vec![grant(Role::Auditor, None)], None).await;
        let r: serde_json::Value = me.client.get(s.url("/api/v1/raw-events?q=notepad")).send().await.unwrap().json().await.unwrap();
        assert_eq!(r["total"], 1);
        assert_eq!(r["items"][0]["host"], "KIOSK-01");
        let r = me.client.get(s.url("/api/v1/raw-events?from=yesterday")).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let html = me.client.get(s.url("/monitoring/raw-events?q=boarding")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("KIOSK-02") && html.contains("AZA kiosks") && !html.contains("KIOSK-01"), "{b:?}");

        // Pruning: one event ten days old goes by age; then the size keeps only the newest.
        let old = all.items.last().unwrap().id.clone();
        raw_event::Entity::update_many()
            .col_expr(raw_event::Column::ReceivedMs, Expr::val(isms_store::now_ms() - 10 * 86_400_000))
            .filter(raw_event::Column::Id.eq(old.clone()))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(raw::prune(app).await.unwrap(), 1, "{b:?}");
        assert!(raw_event::Entity::find_by_id(old).one(db).await.unwrap().is_none());
        let rows = raw_event::Entity::find().all(db).await.unwrap();
        assert_eq!(rows.len(), 2);
        let newest = rows.iter().max_by_key(|r| (r.received_ms, r.id.clone())).unwrap();
        let oldest = rows.iter().min_by_key(|r| (r.received_ms, r.id.clone())).unwrap();
        // Make the two a millisecond apart, then allow only the newest's size.
        raw_event::Entity::update_many()
            .col_expr(raw_event::Column::ReceivedMs, Expr::val(newest.received_ms - 1))
            .filter(raw_event::Column::Id.eq(oldest.id.clone()))
            .exec(db)
            .await
            .unwrap();
        let small = App::new(
            s.db.store.clone(),
            AppConfig { raw_retention: Retention { days: 7, max_bytes: newest.bytes as i64 }, ..test_config() },
            AUDIT_KEY.to_vec(),
        );
        assert_eq!(raw::prune(&small).await.unwrap(), 1, "{b:?} the oldest goes to fit the size");
        assert_eq!(raw_event::Entity::find().count(db).await.unwrap(), 1);
        assert!(raw_event::Entity::find_by_id(newest.id.clone()).one(db).await.unwrap().is_some());
        assert_eq!(raw::prune(&small).await.unwrap(), 0, "within bounds, nothing more goes");
        s.db.drop_schema().await;
    }
}
