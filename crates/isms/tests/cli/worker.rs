//! Scale-out through NATS JetStream (the machine's server at 127.0.0.1:4222), on SQLite
//! and PostgreSQL: batches queued on a stream are evaluated by `isms worker` processes;
//! the first is killed (SIGKILL) in the middle of the stream and a second finishes it.
//! Every event must be evaluated exactly once in effect: no event missing from the
//! alerts, none counted twice.

use isms_app::monitoring::alerts::{self, AlertQuery};
use isms_app::monitoring::rules::{self, RuleInput};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_app::{App, Principal};
use isms_ingest::bus::Bus;
use isms_store::sea_orm::ConnectionTrait;
use isms_store::{Store, StoreOptions};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RULE: &str = "title: Failed logon
id: 1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b
status: test
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
  condition: selection
level: medium
";

const MESSAGES: usize = 400;
const PER_MESSAGE: usize = 100;
const BIG_EVENTS: usize = 5_000;

fn nats_url() -> String {
    std::env::var("ISMS_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn worker(data: &std::path::Path, url: &str, stream: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_isms"))
        .args(["worker", "--data"])
        .arg(data)
        .args(["--database-url", url, "--nats-url", &nats_url()])
        .env("ISMS_NATS_STREAM", stream)
        .env("ISMS_NATS_ACK_WAIT_SECS", "2")
        .env("ISMS_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start isms worker")
}

async fn events_total(app: &App, id: &str) -> i64 {
    sources::get(app, &Principal::system(), id).await.unwrap().events_total
}

async fn crash_and_finish(url: &str, data: &std::path::Path) {
    let store = Store::connect(url, StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let app = App::new(store, isms_testkit::test_config(), isms_testkit::AUDIT_KEY.to_vec());
    let sys = Principal::system();
    rules::create(&app, &sys, RuleInput { body: RULE.into(), enabled: true }).await.unwrap();
    let src = sources::create(&app, &sys, SourceInput { name: "dc-logs".into(), kind: "json".into(), ..Default::default() }).await.unwrap();
    let stream = format!("T{}", uuid::Uuid::now_v7().simple());
    let bus = Bus::connect(&nats_url(), &stream).await.unwrap_or_else(|e| panic!("NATS with JetStream is required for this test: {e}"));
    for m in 0..MESSAGES {
        let body: Vec<String> = (0..PER_MESSAGE)
            .map(|i| {
                format!(
                    r#"{{"EventID": 4625, "Channel": "Security", "Computer": "dc{}", "TargetUserName": "u{}", "n": {}}}"#,
                    (m + i) % 7,
                    i,
                    m * PER_MESSAGE + i
                )
            })
            .collect();
        bus.publish(&src.source.id, "body", body.join("\n").into_bytes()).await.unwrap();
    }
    // A shipper's 10 MB batch, well over NATS's default 1 MiB message: it is split
    // between events, and the worker is killed while its parts are evaluated too.
    let big: Vec<String> = (0..BIG_EVENTS)
        .map(|i| {
            format!(r#"{{"EventID": 4625, "Channel": "Security", "Computer": "dc{}", "TargetUserName": "big{i}", "Message": "{}"}}"#, i % 7, "x".repeat(1900))
        })
        .collect();
    let big = big.join("\n").into_bytes();
    assert!(big.len() > 10_000_000);
    let published = bus.publish(&src.source.id, "body", big).await.expect("a 10 MB batch is queued");
    assert!(published.parts >= 10, "{published:?}");
    let messages = MESSAGES + published.parts;
    let total = (MESSAGES * PER_MESSAGE + BIG_EVENTS) as i64;

    // The first worker starts, makes progress, and is killed without warning.
    let mut first = worker(data, url, &stream);
    let started = Instant::now();
    loop {
        let n = events_total(&app, &src.source.id).await;
        if n > 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the first worker made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = events_total(&app, &src.source.id).await;
    assert!(at_kill < total, "the worker was killed before the end of the stream ({at_kill} of {total})");
    eprintln!("{url}: first worker killed after {at_kill} of {total} events");

    // A second worker takes over, including the batches the first had taken and not acknowledged.
    let mut second = worker(data, url, &stream);
    let started = Instant::now();
    while events_total(&app, &src.source.id).await < total || bus.pending().await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "the second worker did not finish: {} of {total}", events_total(&app, &src.source.id).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the acknowledgement wait: anything delivered twice would have arrived by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    second.kill().unwrap();
    second.wait().unwrap();

    assert_eq!(events_total(&app, &src.source.id).await, total, "every event counted once");
    let all = alerts::list(&app, &sys, &AlertQuery { state: Some("all".into()), limit: Some(500), ..Default::default() }).await.unwrap();
    assert_eq!(all.items.iter().map(|a| a.count).sum::<i64>(), total, "every event in exactly one alert");
    assert_eq!(all.total, 7, "one alert per host");
    let done = app
        .store
        .conn()
        .query_one_raw(isms_store::sea_orm::Statement::from_string(app.store.backend(), "SELECT COUNT(*) AS n FROM ingest_done"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.try_get::<i64>("", "n").unwrap(), messages as i64, "each batch recorded once");
}

#[tokio::test]
async fn a_worker_killed_mid_stream_loses_nothing_and_doubles_nothing() {
    // SQLite: the workers and the test share one database file.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("isms.db").display());
    crash_and_finish(&url, dir.path()).await;

    // PostgreSQL: a database of its own, dropped afterwards.
    let admin = Store::connect(&isms_testkit::pg_url(), StoreOptions { max_connections: Some(1), ..Default::default() }).await.expect("PostgreSQL is required");
    let name = format!("isms_worker_{}", uuid::Uuid::now_v7().simple());
    admin.conn().execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = isms_testkit::pg_url();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();
    crash_and_finish(&url, dir.path()).await;
    admin.conn().execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.ok();
}
