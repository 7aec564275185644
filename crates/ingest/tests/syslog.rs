//! Syslog receivers against real sockets, on SQLite and PostgreSQL: UDP datagrams, TCP
//! with octet counting and line framing in arbitrary chunks, and TLS; messages become
//! alerts through the pipeline, unreadable and oversized ones become dead letters.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed step is a failed test")]

use isms_app::monitoring::alerts::{self, AlertQuery};
use isms_app::monitoring::pipeline::{Pipeline, PipelineConfig};
use isms_app::monitoring::rules::{self, RuleInput};
use isms_app::monitoring::sources::{self, SourceInput};
use isms_app::{App, Principal};
use isms_ingest::{Listener, Transport, bind};
use isms_testkit::{TestDb, backends};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const RULE: &str = "title: Failed root password over SSH
id: 7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b
status: test
logsource:
  product: linux
  service: sshd
detection:
  selection:
    appname: sshd
    message|contains: 'Failed password for root'
  condition: selection
level: high
";

async fn setup(db: &TestDb, name: &str) -> (App, Pipeline, String) {
    let app = db.app();
    let sys = Principal::system();
    rules::create(&app, &sys, RuleInput { body: RULE.into(), enabled: true }).await.unwrap();
    let s = sources::create(&app, &sys, SourceInput { name: name.into(), kind: "syslog".into(), ..Default::default() }).await.unwrap();
    let pipeline = Pipeline::start(app.clone(), PipelineConfig::default());
    (app, pipeline, s.source.id)
}

async fn start(
    app: &App,
    pipeline: &Pipeline,
    transport: Transport,
    source: &str,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) -> std::net::SocketAddr {
    let l = Listener { transport, addr: "127.0.0.1:0".parse().unwrap(), source: source.into(), max_message: 2048, tls };
    let bound = bind(app.clone(), isms_ingest::Sink::Pipeline(pipeline.clone()), l).await.unwrap();
    let addr = bound.local_addr;
    tokio::spawn(bound.run());
    addr
}

/// Waits until the source has counted `events` read and `malformed` refused events.
async fn wait_for(app: &App, id: &str, events: i64, malformed: i64) -> sources::Source {
    let sys = Principal::system();
    for _ in 0..200 {
        let s = sources::get(app, &sys, id).await.unwrap();
        if s.events_total >= events && s.malformed_total >= malformed {
            assert_eq!((s.events_total, s.malformed_total), (events, malformed), "no more than expected");
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = sources::get(app, &sys, id).await.unwrap();
    panic!("counted {} events and {} malformed, expected {events} and {malformed}", s.events_total, s.malformed_total);
}

const FAIL_5424: &str = "<38>1 2026-11-26T09:30:00Z fw01.aozora.example sshd 4123 - - Failed password for root from 203.0.113.9 port 50122 ssh2";
const FAIL_3164: &str = "<38>Nov 26 09:30:02 fw01 sshd[4123]: Failed password for root from 203.0.113.9 port 50124 ssh2";
const OK_3164: &str = "<38>Nov 26 09:31:00 fw01 sshd[4130]: Accepted publickey for deploy from 198.51.100.4";

#[tokio::test]
async fn udp_datagrams_become_alerts_and_dead_letters() {
    for b in backends() {
        let db = TestDb::new(b).await;
        let (app, pipeline, id) = setup(&db, "perimeter").await;
        let addr = start(&app, &pipeline, Transport::Udp, "perimeter", None).await;
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for m in [FAIL_5424.as_bytes(), FAIL_3164.as_bytes(), OK_3164.as_bytes(), b"<38>Nov 26 09:31:00 fw01 x: \xff\xfe bad"] {
            sock.send_to(m, addr).await.unwrap();
        }
        wait_for(&app, &id, 3, 1).await;
        let open = alerts::list(&app, &Principal::system(), &AlertQuery::default()).await.unwrap();
        assert_eq!(open.total, 1, "{b:?}: both failures on fw01 group into one alert");
        assert_eq!((open.items[0].count, open.items[0].host.as_str()), (2, "fw01.aozora.example"));
        let letters = sources::dead_letters(&app, &Principal::system(), Some(&id), 10).await.unwrap();
        assert!(letters.items[0].reason.contains("UTF-8"), "{:?}", letters.items[0]);
        db.drop_schema().await;
    }
}

#[tokio::test]
async fn tcp_frames_in_any_chunks_and_oversized_frames_refused() {
    for b in backends() {
        let db = TestDb::new(b).await;
        let (app, pipeline, id) = setup(&db, "bastion").await;
        let addr = start(&app, &pipeline, Transport::Tcp, "bastion", None).await;
        let mut stream = Vec::new();
        stream.extend_from_slice(format!("{} {FAIL_5424}", FAIL_5424.len()).as_bytes());
        stream.extend_from_slice(format!("{FAIL_3164}\n{OK_3164}\r\n").as_bytes());
        let big = format!("<38>Nov 26 09:32:00 fw01 app: {}", "x".repeat(3000));
        stream.extend_from_slice(format!("{} {big}", big.len()).as_bytes());
        stream.extend_from_slice(format!("{} {FAIL_5424}", FAIL_5424.len()).as_bytes());
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        for chunk in stream.chunks(37) {
            conn.write_all(chunk).await.unwrap();
        }
        conn.shutdown().await.unwrap();
        wait_for(&app, &id, 4, 1).await;
        let letters = sources::dead_letters(&app, &Principal::system(), Some(&id), 10).await.unwrap();
        assert!(letters.items[0].reason.contains("larger than the limit of 2048 bytes"), "{b:?} {:?}", letters.items[0]);
        let open = alerts::list(&app, &Principal::system(), &AlertQuery::default()).await.unwrap();
        assert_eq!(open.items.iter().map(|a| a.count).sum::<i64>(), 3, "{b:?}");
        db.drop_schema().await;
    }
}

#[tokio::test]
async fn tls_with_a_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let server = isms_ingest::tls_config(cert.cert.pem().as_bytes(), cert.signing_key.serialize_pem().as_bytes()).unwrap();
    assert!(isms_ingest::tls_config(b"not pem", b"not pem").unwrap_err().contains("certificate"));
    for b in backends() {
        let db = TestDb::new(b).await;
        let (app, pipeline, id) = setup(&db, "tls-relay").await;
        let addr = start(&app, &pipeline, Transport::Tls, "tls-relay", Some(server.clone())).await;
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.add(cert.cert.der().clone()).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let client = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut tls = connector.connect("localhost".try_into().unwrap(), tcp).await.unwrap();
        tls.write_all(format!("{} {FAIL_5424}{} {FAIL_3164}", FAIL_5424.len(), FAIL_3164.len()).as_bytes()).await.unwrap();
        tls.shutdown().await.unwrap();
        wait_for(&app, &id, 2, 0).await;
        // A plain TCP client is not let in.
        let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
        plain.write_all(format!("{FAIL_3164}\n").as_bytes()).await.ok();
        drop(plain);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sources::get(&app, &Principal::system(), &id).await.unwrap().events_total, 2, "{b:?}");
        db.drop_schema().await;
    }
}
