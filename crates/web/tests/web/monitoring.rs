//! Threat monitoring on both backends, through the real HTTP receiver: events in every
//! accepted form become grouped alerts with evidence, bad events become dead letters,
//! oversized and unauthenticated batches are refused, a full pipeline answers 429 and
//! loses nothing, rule changes apply without a restart, overrides silence a rule for one
//! source, scoping hides other companies' alerts, and triage ends in an incident.

use crate::code_of;
use isms_app::Principal;
use isms_app::accounts::acting_as;
use isms_app::monitoring::alerts::{self, AlertQuery, EscalateInput, StepInput};
use isms_app::monitoring::rules::{self, OverrideInput, RuleInput};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_app::org;
use isms_testkit::{TestServer, backends};
use reqwest::StatusCode;
use std::io::Write;

const RULE: &str = "title: Whoami run on a workstation
id: 6f9d3c1e-4b7a-4d2e-9c1f-0a1b2c3d4e5f
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    CommandLine|contains: whoami
  condition: selection
level: high
";

/// A Winlogbeat-shaped process creation event.
fn event(host: &str, command: &str) -> String {
    serde_json::json!({
        "@timestamp": "2026-11-26T01:02:03Z",
        "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "computer_name": host,
                   "event_data": {"CommandLine": command, "User": "CORP\\alice", "Image": "C:\\Windows\\System32\\cmd.exe"}},
    })
    .to_string()
}

async fn post(s: &TestServer, token: &str, body: Vec<u8>, gzip: bool) -> (StatusCode, serde_json::Value) {
    let mut req = isms_testkit::client().post(s.url("/api/v1/events")).bearer_auth(token).header("content-type", "application/x-ndjson");
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    let r = req.body(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn events_become_alerts_and_triage_ends_in_an_incident() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let companies = org::list_companies(app, &Principal::system()).await.unwrap();
        let aza = companies.iter().find(|c| c.code == "AZA").unwrap().id.clone();
        let azc = companies.iter().find(|c| c.code == "AZC").unwrap().id.clone();

        // A rule written here; a bad one names its line.
        let bad = rules::create(app, &csirt, RuleInput { body: RULE.replace("condition: selection", "condition: selection and nothing"), enabled: true })
            .await
            .unwrap_err();
        assert_eq!(code_of(&bad), "rule-problem", "{b:?}");
        let rule = rules::create(app, &csirt, RuleInput { body: RULE.into(), enabled: true }).await.unwrap();
        assert_eq!((rule.level.as_str(), rule.origin.as_str()), ("high", "custom"));
        assert!(rules::create(app, &secadmin, RuleInput { body: RULE.into(), enabled: true }).await.is_err(), "rules are the group's");

        // Sources of two companies; the company administrator manages only her own.
        let refused = sources::create(
            app,
            &secadmin,
            SourceInput { name: "AZC DCs".into(), company_id: Some(azc.clone()), kind: "windows".into(), ..Default::default() },
        )
        .await
        .unwrap_err();
        assert_eq!(code_of(&refused), "company-out-of-scope");
        let a = sources::create(
            app,
            &secadmin,
            SourceInput {
                name: "AZA workstations".into(),
                company_id: Some(aza.clone()),
                kind: "windows".into(),
                expected_secs: Some(600),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let c = sources::create(
            app,
            &csirt,
            SourceInput { name: "AZC workstations".into(), company_id: Some(azc.clone()), kind: "windows".into(), ..Default::default() },
        )
        .await
        .unwrap();
        assert!(a.token.starts_with("isms_src_") && a.source.field_map.contains("winlog.event_data.* = *"));

        // NDJSON with a bad line and a blank one: 3 read, 1 kept aside, one alert of 2.
        let body = format!(
            "{}\n{}\nnot json at all\n\n{}\n",
            event("WS01.corp.example", "cmd /c whoami"),
            event("ws01", "cmd /c WHOAMI /all"),
            event("ws01", "notepad.exe")
        );
        let (st, o) = post(&s, &a.token, body.into_bytes(), false).await;
        assert_eq!(st, StatusCode::OK, "{b:?} {o}");
        assert_eq!((o["accepted"].as_u64(), o["malformed"].as_u64(), o["alerts"].as_u64()), (Some(3), Some(1), Some(1)), "{o}");
        // The same again, gzip-compressed, as a JSON array: it joins the open alert.
        let array = format!("[{},{}]", event("WS01", "whoami"), event("WS02", "whoami"));
        let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        gz.write_all(array.as_bytes()).unwrap();
        let (st, o) = post(&s, &a.token, gz.finish().unwrap(), true).await;
        assert_eq!((st, o["accepted"].as_u64(), o["alerts"].as_u64()), (StatusCode::OK, Some(2), Some(2)), "{o}");
        let open = alerts::list(app, &csirt, &AlertQuery { source_id: Some(a.source.id.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(open.total, 2, "{b:?}: grouped by rule and host");
        let ws01 = open.items.iter().find(|x| x.host.to_lowercase().starts_with("ws01")).unwrap();
        assert_eq!((ws01.count, ws01.severity.code(), ws01.state.code()), (3, "high", "new"));
        let detail = alerts::get(app, &csirt, &ws01.id).await.unwrap();
        assert_eq!(detail.events.len(), 3);
        assert!(detail.events[0].raw.contains("whoami") && detail.events[0].user_name.contains("alice"), "{:?}", detail.events[0]);
        let src = sources::get(app, &csirt, &a.source.id).await.unwrap();
        assert_eq!((src.events_total, src.malformed_total, src.silent), (5, 1, false));
        let letters = sources::dead_letters(app, &csirt, Some(&a.source.id), 10).await.unwrap();
        assert_eq!(letters.total, 1);
        assert!(letters.items[0].raw.contains("not json") && letters.items[0].reason.contains("event 3"), "{:?}", letters.items[0]);

        // Refusals: no token, a user's session, a wrong token, a batch too large.
        let (st, _) = post(&s, "isms_src_wrong", b"{}".to_vec(), false).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let r = isms_testkit::client().post(s.url("/api/v1/events")).body("{}").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let (st, o) = post(&s, &a.token, vec![b' '; 5 << 20], false).await;
        assert_eq!((st, o["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
        let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::best());
        gz.write_all(&vec![b' '; 5 << 20]).unwrap();
        let (st, _) = post(&s, &a.token, gz.finish().unwrap(), true).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "the limit holds after decompression");
        let (st, o) = post(&s, &a.token, b"\x1f\x8b\x08garbage".to_vec(), true).await;
        assert_eq!((st, o["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_gzip")));

        // An exception for one source: the other company's identical event still alerts.
        rules::add_override(
            app,
            &secadmin,
            &rule.id,
            OverrideInput {
                source_id: Some(a.source.id.clone()),
                field: Some("Computer".into()),
                value: Some("WS09".into()),
                reason: "admin jump host".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // Another company's source is "no such source": the answer never confirms it exists.
        let e = rules::add_override(
            app,
            &secadmin,
            &rule.id,
            OverrideInput { source_id: Some(c.source.id.clone()), reason: "not mine".into(), ..Default::default() },
        )
        .await
        .unwrap_err();
        assert_eq!(code_of(&e), "unknown");
        let (_, o) = post(&s, &a.token, event("ws09", "whoami").into_bytes(), false).await;
        assert_eq!(o["alerts"].as_u64(), Some(0), "{b:?}: the exception applies at once");
        let (_, o) = post(&s, &c.token, event("ws09", "whoami").into_bytes(), false).await;
        assert_eq!(o["alerts"].as_u64(), Some(1));

        // Disabling the rule applies without a restart.
        rules::set_enabled(app, &csirt, &rule.id, false).await.unwrap();
        let (_, o) = post(&s, &c.token, event("ws10", "whoami").into_bytes(), false).await;
        assert_eq!((o["accepted"].as_u64(), o["alerts"].as_u64()), (Some(1), Some(0)));
        rules::set_enabled(app, &csirt, &rule.id, true).await.unwrap();

        // Scoping: the AZA administrator sees AZA's alerts only, and not the AZC one by id.
        let mine = alerts::list(app, &secadmin, &AlertQuery { state: Some("all".into()), limit: Some(500), ..Default::default() }).await.unwrap();
        assert!(mine.items.iter().all(|x| x.company_id.as_deref() == Some(aza.as_str())), "{b:?}");
        assert_eq!(mine.items.iter().filter(|x| x.source_id.as_deref() == Some(a.source.id.as_str())).count(), 2, "{b:?}");
        assert!(mine.items.iter().all(|x| x.source_id.as_deref() != Some(c.source.id.as_str())));
        let theirs = alerts::list(app, &csirt, &AlertQuery { company_id: Some(azc.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(theirs.total, 1);
        assert!(matches!(alerts::get(app, &secadmin, &theirs.items[0].id).await, Err(isms_app::AppError::NotFound)));

        // Triage: acknowledge once, close with a resolution, escalate another to an incident.
        let other = open.items.iter().find(|x| x.id != ws01.id).unwrap();
        let acked = alerts::step(app, &secadmin, &ws01.id, StepInput { step: "acknowledge".into(), ..Default::default() }).await.unwrap();
        assert_eq!((acked.state.code(), acked.assignee_id.as_deref()), ("acknowledged", secadmin.user_id.as_deref()));
        let again = alerts::step(app, &secadmin, &ws01.id, StepInput { step: "acknowledge".into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(code_of(&again), "alert-acknowledged");
        let e = alerts::step(app, &secadmin, &ws01.id, StepInput { step: "close".into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(code_of(&e), "required");
        let closed =
            alerts::step(app, &secadmin, &ws01.id, StepInput { step: "close".into(), resolution: Some("benign".into()), note: Some("admin testing".into()) })
                .await
                .unwrap();
        assert_eq!(closed.state.code(), "closed");
        assert!(
            matches!(
                alerts::escalate(app, &secadmin, &other.id, EscalateInput::default(), |d| (d.alert.title.clone(), d.alert.title.clone())).await,
                Err(isms_app::AppError::Forbidden)
            ),
            "the CSIRT escalates"
        );
        let (esc, incident) = alerts::escalate(app, &csirt, &other.id, EscalateInput { kind: Some("unauthorized_access".into()), ..Default::default() }, |d| {
            (d.alert.title.clone(), d.alert.title.clone())
        })
        .await
        .unwrap();
        assert_eq!((esc.state.code(), esc.incident_id.as_deref()), ("escalated", Some(incident.id.as_str())));
        let case = isms_app::incidents::cases::get(app, &csirt, &incident.id).await.unwrap();
        assert_eq!(case.incident.company_id, aza);
        let evidence = isms_app::incidents::followup::evidence_of(app.store.conn(), &incident.id).await.unwrap();
        assert_eq!(evidence.len(), 1, "the events are attached");
        // A closed alert takes no new events: the next match opens a new one.
        let (_, o) = post(&s, &a.token, event("ws01", "whoami").into_bytes(), false).await;
        assert_eq!(o["alerts"].as_u64(), Some(1));
        let ws01_open = alerts::list(app, &csirt, &AlertQuery { q: Some("ws01".into()), ..Default::default() }).await.unwrap();
        assert_eq!((ws01_open.total, ws01_open.items[0].count), (1, 1), "{b:?}");
        // The case was noticed when the alert first saw it, and starts at the alert's severity.
        assert_eq!(case.incident.discovered_ms, esc.first_ms);
        assert_eq!(case.incident.severity, Some(isms_app::monitoring::alerts::case_severity(esc.severity)));
        // Two people adding the new alert to the case at once add it once.
        let fresh = ws01_open.items[0].id.clone();
        let into = EscalateInput { incident_id: Some(incident.id.clone()), ..Default::default() };
        let (x, y) = tokio::join!(
            alerts::escalate(app, &csirt, &fresh, into.clone(), |d| (d.alert.title.clone(), d.alert.title.clone())),
            alerts::escalate(app, &csirt, &fresh, into.clone(), |d| (d.alert.title.clone(), d.alert.title.clone()))
        );
        assert_eq!([x.is_ok(), y.is_ok()].into_iter().filter(|ok| *ok).count(), 1, "{b:?}: {x:?} {y:?}");
        let evidence = isms_app::incidents::followup::evidence_of(app.store.conn(), &incident.id).await.unwrap();
        assert_eq!(evidence.len(), 2, "{b:?}: one bundle per alert");
        let joined = alerts::get(app, &csirt, &fresh).await.unwrap().alert;
        assert_eq!((joined.state.code(), joined.incident_id.as_deref()), ("escalated", Some(incident.id.as_str())));

        // The audit trail has the steps.
        let (trail, _) = isms_app::audit::list(app, &Principal::system(), &isms_store::audit::AuditQuery { limit: 200, ..Default::default() }).await.unwrap();
        for action in [
            "monitoring.rule.create",
            "monitoring.source.create",
            "monitoring.rule.override.add",
            "monitoring.alert.acknowledge",
            "monitoring.alert.close",
            "monitoring.alert.escalate",
            "monitoring.alert.attach",
        ] {
            assert!(trail.iter().any(|t| t.action == action), "{b:?}: {action}");
        }
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_full_pipeline_answers_429_and_loses_nothing() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        rules::create(app, &csirt, RuleInput { body: RULE.into(), enabled: true }).await.unwrap();
        let src = sources::create(app, &csirt, SourceInput { name: "busy".into(), kind: "windows".into(), ..Default::default() }).await.unwrap();
        // Warm the token and the compiled rules, then hold the database's write lock so
        // the writer waits: the test server accepts 8 batches in flight.
        let (st, _) = post(&s, &src.token, event("h0", "whoami").into_bytes(), false).await;
        assert_eq!(st, StatusCode::OK);
        let holder = app.store.write().await.unwrap();
        if app.store.backend() == isms_store::sea_orm::DbBackend::Postgres {
            use isms_store::sea_orm::ConnectionTrait;
            holder.execute_unprepared("LOCK TABLE ingest_minutes IN EXCLUSIVE MODE").await.unwrap();
        }
        let mut waiting = vec![];
        for i in 1..=8 {
            let url = s.url("/api/v1/events");
            let token = src.token.clone();
            let body = event(&format!("h{i}"), "whoami");
            waiting.push(tokio::spawn(async move { isms_testkit::client().post(url).bearer_auth(token).body(body).send().await.unwrap().status() }));
        }
        // Once the eight are in flight, a ninth is refused at once rather than queued.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let r = isms_testkit::client()
            .post(s.url("/api/v1/events"))
            .bearer_auth(&src.token)
            .body(event("h9", "whoami"))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .expect("the ninth batch is answered at once, not held");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{b:?}");
        assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
        holder.rollback().await.unwrap();
        for w in waiting {
            assert_eq!(w.await.unwrap(), StatusCode::OK, "{b:?}: the held batches are written once the lock is gone");
        }
        let all = alerts::list(
            app,
            &csirt,
            &AlertQuery { state: Some("all".into()), source_id: Some(src.source.id.clone()), limit: Some(100), ..Default::default() },
        )
        .await
        .unwrap();
        let counted: i64 = all.items.iter().map(|a| a.count).sum();
        let got = sources::get(app, &csirt, &src.source.id).await.unwrap();
        assert_eq!(counted, got.events_total, "{b:?}: every accepted event is in an alert, none twice");
        s.db.drop_schema().await;
    }
}

#[tokio::test]
async fn a_silent_source_raises_one_alert_until_it_speaks_again() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let src = sources::create(app, &csirt, SourceInput { name: "quiet dc".into(), kind: "windows".into(), expected_secs: Some(60), ..Default::default() })
            .await
            .unwrap();
        // Created two minutes ago and never heard from.
        use isms_store::sea_orm::{ConnectionTrait, Statement};
        let back = isms_store::now_ms() - 120_000;
        app.store
            .conn()
            .execute_raw(Statement::from_string(app.store.backend(), format!("UPDATE event_sources SET created_ms = {back} WHERE id = '{}'", src.source.id)))
            .await
            .unwrap();
        assert!(sources::get(app, &csirt, &src.source.id).await.unwrap().silent);
        let (a, b2) = tokio::join!(sources::check_silence(app), sources::check_silence(app));
        assert_eq!(a.unwrap() + b2.unwrap(), 1, "{b:?}: two checks at once raise one alert");
        assert_eq!(sources::check_silence(app).await.unwrap(), 0, "one alert per silent period");
        let q = AlertQuery { source_id: Some(src.source.id.clone()), ..Default::default() };
        let open = alerts::list(app, &csirt, &q).await.unwrap();
        assert_eq!((open.total, open.items[0].kind.as_str(), open.items[0].severity.code()), (1, "silence", "high"));
        // It speaks again: no longer silent.
        let (st, _) = post(&s, &src.token, event("dc1", "ipconfig").into_bytes(), false).await;
        assert_eq!(st, StatusCode::OK);
        let now = sources::get(app, &csirt, &src.source.id).await.unwrap();
        assert!(!now.silent && now.events_total == 1);
        assert_eq!(sources::check_silence(app).await.unwrap(), 0);
        s.db.drop_schema().await;
    }
}
