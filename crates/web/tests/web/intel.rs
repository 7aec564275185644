//! Threat intelligence on both backends, against a local TAXII 2.1 server: a feed with the
//! wrong password fails with the reason on the feed, pulls page through the collection and
//! continue from the cursor, revoked indicators go, a broken server keeps the last good
//! indicators, events sent through the HTTP receiver match indicators into alerts and
//! sightings, sightings are shared as STIX without red, and MISP files import by API.

use crate::code_of;
use isms_app::accounts::acting_as;
use isms_app::monitoring::alerts::{self, AlertQuery};
use isms_app::monitoring::intel::{self, FeedInput, IndicatorQuery};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_core::Role;
use isms_testkit::taxii::TaxiiServer;
use isms_testkit::{TestServer, backends, grant, user_session};
use reqwest::StatusCode;
use serde_json::{Value, json};

const GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn indicator(id: &str, pattern: &str, marking: Option<&str>, confidence: u8) -> Value {
    let mut o = json!({"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-11-20T00:00:00Z", "modified": "2026-11-20T00:00:00Z",
        "name": format!("test {id}"), "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z", "confidence": confidence});
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

fn feed_input(url: &str, secret: &str) -> FeedInput {
    FeedInput {
        name: "Test ISAC".into(),
        format: "taxii".into(),
        url: Some(url.into()),
        auth: Some("basic".into()),
        username: Some("isac".into()),
        secret: Some(secret.into()),
        default_tlp: "amber".into(),
        interval_minutes: Some(60),
        enabled: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn taxii_feeds_pull_match_events_and_share_sightings() {
    for b in backends() {
        let s = TestServer::start(b).await;
        s.demo().await;
        let app = &s.app;
        let csirt = acting_as(app, "csirt").await.unwrap();
        let auditor = acting_as(app, "auditor").await.unwrap();
        let taxii = TaxiiServer::start("isac", "s3cret", 2).await;
        taxii.add("2026-11-20T00:00:00.000Z", indicator("indicator--0a", "[ipv4-addr:value = '198.51.100.7']", Some(GREEN), 80));
        taxii.add("2026-11-20T00:00:01.000Z", indicator("indicator--0b", "[domain-name:value = 'c2.evil.example']", None, 40));
        taxii.add("2026-11-20T00:00:02.000Z", indicator("indicator--0c", &format!("[file:hashes.'SHA-256' = '{HASH}']"), Some(RED), 95));
        taxii.add("2026-11-20T00:00:03.000Z", indicator("indicator--0d", "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.example']", None, 50));
        taxii.add("2026-11-20T00:00:04.000Z", json!({"type": "identity", "spec_version": "2.1", "id": "identity--01", "name": "ISAC", "created": "2026-11-20T00:00:00Z", "modified": "2026-11-20T00:00:00Z"}));

        // The wrong password: the pull fails and says why, on the feed too.
        assert!(intel::create_feed(app, &auditor, feed_input(&taxii.url, "wrong")).await.is_err(), "auditors read feeds, they do not add them");
        let feed = intel::create_feed(app, &csirt, feed_input(&taxii.url, "wrong")).await.unwrap();
        let e = intel::pull_now(app, &csirt, &feed.id).await.unwrap_err();
        assert_eq!(code_of(&e), "feed-pull", "{b:?}");
        let f = intel::get_feed(app, &csirt, &feed.id).await.unwrap();
        assert!(f.last_error.as_deref().unwrap_or("").contains("401"), "{:?}", f.last_error);
        assert!(!format!("{f:?}").contains("wrong"), "the password is never shown");

        // The right one: three pages of two, three indicators, one refused with its reason.
        let mut input = feed_input(&taxii.url, "s3cret");
        input.collection = Some(isms_testkit::taxii::COLLECTION.into());
        intel::update_feed(app, &csirt, &feed.id, input.clone()).await.unwrap();
        let r = intel::pull_now(app, &csirt, &feed.id).await.unwrap();
        assert_eq!((r.added, r.removed, r.skipped), (3, 0, 1), "{b:?} {r:?}");
        assert_eq!(r.refused.len(), 1);
        assert!(r.refused[0].contains("indicator--0d") && r.refused[0].contains("AND"), "{:?}", r.refused);
        assert_eq!(taxii.requests(), ["", "next=2", "next=4"], "no cursor yet, then pages by next");
        let f = intel::get_feed(app, &csirt, &feed.id).await.unwrap();
        assert_eq!((f.indicator_count, f.cursor.as_deref(), f.last_error.as_deref()), (3, Some("2026-11-20T00:00:04.000Z"), None));
        let list = intel::list_indicators(app, &csirt, &IndicatorQuery { feed_id: Some(feed.id.clone()), ..Default::default() }).await.unwrap();
        let tlp_of = |v: &str| list.items.iter().find(|i| i.value == v).map(|i| (i.tlp.clone(), i.confidence));
        assert_eq!(tlp_of("198.51.100.7"), Some(("green".into(), 80)));
        assert_eq!(tlp_of("c2.evil.example"), Some(("amber".into(), 40)), "the feed's default TLP");
        assert_eq!(tlp_of(HASH), Some(("red".into(), 95)));
        let seen_by_auditor = intel::list_indicators(app, &auditor, &IndicatorQuery { feed_id: Some(feed.id.clone()), ..Default::default() }).await.unwrap();
        assert_eq!(seen_by_auditor.total, 2, "red is for those who manage the feeds");
        let by_name = intel::list_indicators(app, &csirt, &IndicatorQuery { q: Some("command-and-CONTROL".into()), ..Default::default() }).await.unwrap();
        assert_eq!(by_name.total, 1, "{b:?} names are searched without case (the demo's C2 address)");

        // The next pull asks only for what was added since, and applies a revocation.
        let mut revoked = indicator("indicator--0b", "[domain-name:value = 'c2.evil.example']", None, 40);
        revoked["revoked"] = json!(true);
        taxii.add("2026-11-21T00:00:00.000Z", revoked);
        taxii.add("2026-11-21T00:00:01.000Z", indicator("indicator--0e", "[url:value = 'http://drop.evil.example/a.exe']", Some(GREEN), 70));
        let r = intel::pull_now(app, &csirt, &feed.id).await.unwrap();
        assert_eq!((r.added, r.removed), (1, 1), "{b:?} {r:?}");
        assert_eq!(taxii.requests().last().map(String::as_str), Some("added_after=2026-11-20T00:00:04.000Z"));

        // A broken server: the error shows, the indicators stay.
        taxii.set_broken(true);
        assert!(intel::pull_now(app, &csirt, &feed.id).await.is_err());
        let f = intel::get_feed(app, &csirt, &feed.id).await.unwrap();
        assert!(f.last_error.as_deref().unwrap_or("").contains("500"), "{:?}", f.last_error);
        assert_eq!(f.indicator_count, 3);
        taxii.set_broken(false);
        let analyst = user_session(app, "intel-analyst", vec![grant(Role::CsirtMember, None)], None).await;
        let page = analyst.client.get(s.url(&format!("/monitoring/intel/{}", feed.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"feed-error\"") && page.contains("500"), "the feed page shows the failure");

        // Events through the receiver: the address and the red hash match; a benign event does not.
        let src = sources::create(app, &csirt, SourceInput { name: "Proxy".into(), kind: "firewall".into(), ..Default::default() }).await.unwrap();
        let body = [
            json!({"@timestamp": "2026-11-26T01:00:00Z", "host": {"name": "px01"}, "destination": {"ip": "198.51.100.7", "port": 443}}).to_string(),
            json!({"@timestamp": "2026-11-26T01:00:01Z", "host": {"name": "ws9"}, "winlog": {"event_data": {"Hashes": format!("MD5=00,SHA256={}", HASH.to_uppercase())}}}).to_string(),
            json!({"@timestamp": "2026-11-26T01:00:02Z", "host": {"name": "px01"}, "destination": {"ip": "198.51.100.8"}}).to_string(),
        ]
        .join("\n");
        let post = |body: String| isms_testkit::client().post(s.url("/api/v1/events")).bearer_auth(&src.token).body(body).send();
        let r = post(body.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["alerts"], 2, "{b:?}");
        post(body.lines().next().unwrap().to_string()).await.unwrap();
        let found = alerts::list(app, &csirt, &AlertQuery { q: Some("198.51.100.7".into()), ..Default::default() }).await.unwrap();
        assert_eq!(found.items.len(), 1, "{b:?}");
        let a = &found.items[0];
        assert_eq!(
            (a.kind.as_str(), a.count, a.severity.code()),
            ("indicator", 2, "high"),
            "confidence 80 is high; the same indicator on the same host groups"
        );
        let sightings = intel::sightings(app, &csirt, None, None, 100).await.unwrap();
        let ip = sightings.iter().find(|x| x.value == "198.51.100.7").unwrap();
        assert_eq!((ip.count, ip.alert_id.as_deref()), (2, Some(a.id.as_str())));
        assert!(sightings.iter().any(|x| x.value == HASH), "the upper-case hash in a Sysmon list matched");
        let for_auditor = intel::sightings(app, &auditor, None, None, 100).await.unwrap();
        assert_eq!(for_auditor.len(), sightings.len() - 1, "{b:?} all but the red one");
        assert!(for_auditor.iter().all(|x| x.value != HASH));
        let secadmin = acting_as(app, "secadmin").await.unwrap();
        let for_company = intel::sightings(app, &secadmin, None, None, 100).await.unwrap();
        assert!(for_company.iter().all(|x| x.source_id.as_deref() != Some(src.source.id.as_str())), "the group's proxy is not an AZA source");
        assert!(!for_company.is_empty(), "{b:?} the demo's AZA sighting is in reach of the AZA administrator");

        // The events that raised alerts are searchable by host and text, within scope.
        let hits: Value = analyst.client.get(s.url("/api/v1/alert-events?host=PX01&q=198.51.100.7")).send().await.unwrap().json().await.unwrap();
        assert_eq!(hits["total"], 2, "{b:?} {hits}");
        assert_eq!(hits["items"][0]["alert_id"], a.id.as_str());
        let none: Value = analyst.client.get(s.url("/api/v1/alert-events?host=px01&q=198.51.100.8")).send().await.unwrap().json().await.unwrap();
        assert_eq!(none["total"], 0, "a benign event raised nothing, so it is not there");
        let bad = analyst.client.get(s.url("/api/v1/alert-events?from=yesterday")).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = analyst.client.get(s.url("/monitoring/events?q=198.51.100.7")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"events\"") && page.contains(&a.id), "the search page lists the event");

        // Shared back as STIX: green goes, red stays inside; red and amber+strict are never offered.
        let bundle = intel::export_sightings(app, &csirt, isms_detect::intel::Tlp::Amber, None).await.unwrap();
        let objects = bundle["objects"].as_array().unwrap();
        let shared: Vec<&Value> = objects.iter().filter(|o| o["type"] == "sighting").collect();
        assert!(shared.iter().any(|o| o["sighting_of_ref"] == "indicator--0a" && o["count"] == 2 && o["object_marking_refs"][0] == GREEN), "{bundle}");
        assert!(!shared.iter().any(|o| o["sighting_of_ref"] == "indicator--0c"), "red never leaves");
        assert_eq!(objects[0]["type"], "identity");
        let refused = intel::export_sightings(app, &csirt, isms_detect::intel::Tlp::Red, None).await.unwrap_err();
        assert_eq!(code_of(&refused), "tlp-not-shared");
        assert!(intel::export_sightings(app, &auditor, isms_detect::intel::Tlp::Green, None).await.is_err());

        // Suppressing the address's alert group: closed as benign, new matches raise nothing
        // until it is lifted; more than 90 days is refused with the reason.
        let week = (isms_core::calendar::today() + jiff::Span::new().days(7)).to_string();
        let far = (isms_core::calendar::today() + jiff::Span::new().days(200)).to_string();
        let sup = |until: &str| {
            analyst
                .client
                .post(s.url(&format!("/api/v1/alerts/{}/suppress", a.id)))
                .header("X-CSRF-Token", &analyst.csrf)
                .json(&json!({"reason": "sinkholed by the ISP", "expires_on": until}))
                .send()
        };
        let r = sup(&far).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("suppress-too-long"));
        let r = sup(&week).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let suppression: Value = r.json().await.unwrap();
        assert_eq!(suppression["active"], true);
        let closed = alerts::get(app, &csirt, &a.id).await.unwrap().alert;
        assert_eq!((closed.state.code(), closed.resolution.map(|r| r.code())), ("closed", Some("benign")));
        let r: Value = post(body.lines().next().unwrap().to_string()).await.unwrap().json().await.unwrap();
        assert_eq!((r["accepted"].as_u64(), r["alerts"].as_u64()), (Some(1), Some(0)), "{b:?} suppressed: counted, no alert");
        let lifted = analyst
            .client
            .post(s.url(&format!("/api/v1/alert-suppressions/{}/lift", suppression["id"].as_str().unwrap())))
            .header("X-CSRF-Token", &analyst.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(lifted.status(), StatusCode::OK);
        let r: Value = post(body.lines().next().unwrap().to_string()).await.unwrap().json().await.unwrap();
        assert_eq!(r["alerts"], 1, "{b:?} lifted: alerts again");
        let page = analyst.client.get(s.url(&format!("/monitoring/alerts/{}", a.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("sinkholed by the ISP") && page.contains("id=\"suppress-form\""));

        // A MISP CSV by API into a file feed; a bad file names its line, and nothing is half-written.
        let misp = intel::create_feed(
            app,
            &csirt,
            FeedInput { name: "MISP share".into(), format: "misp-csv".into(), default_tlp: "green".into(), enabled: true, ..Default::default() },
        )
        .await
        .unwrap();
        let csv = "uuid,event_id,category,type,value,comment,to_ids,date\nu1,1,Network activity,ip-dst,203.0.113.99,bad,1,20261101\nu2,1,Network activity,domain,bad..example,,1,20261101\n";
        let r = analyst
            .client
            .post(s.url(&format!("/api/v1/intel/feeds/{}/import", misp.id)))
            .header("X-CSRF-Token", &analyst.csrf)
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let report: Value = r.json().await.unwrap();
        assert_eq!(report["added"], 1);
        assert!(report["refused"][0].as_str().unwrap().starts_with("line 3"), "{report}");
        let r = analyst
            .client
            .post(s.url(&format!("/api/v1/intel/feeds/{}/import?format=stix", misp.id)))
            .header("X-CSRF-Token", &analyst.csrf)
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(intel::get_feed(app, &csirt, &misp.id).await.unwrap().indicator_count, 1);
    }
}
