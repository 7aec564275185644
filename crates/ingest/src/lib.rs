//! Event receivers beyond HTTP: syslog over UDP, TCP and TLS. Each listener belongs to one
//! event source (by name); messages are read into events and handed to the same pipeline
//! as the HTTP receiver, in batches.
//!
//! Under more load than the pipeline takes, a TCP or TLS connection stops being read (the
//! sender's own buffers fill: TCP flow control) until the pipeline has room; UDP cannot
//! wait, so datagrams that find the queue full are dropped and counted
//! (`isms_syslog_udp_dropped_total`).

pub mod bus;
pub mod syslog;

use isms_app::App;
use isms_app::monitoring::pipeline::{Pipeline, SubmitError};
use isms_app::monitoring::sources::{self, SourceCtx};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

/// Where received batches go: evaluated here, or queued on JetStream for the workers.
#[derive(Clone)]
pub enum Sink {
    Pipeline(Pipeline),
    Bus(Arc<bus::Bus>),
}

/// How a listener is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl std::str::FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            other => Err(format!("`{other}` is not one of udp, tcp, tls")),
        }
    }
}

/// One syslog listener.
#[derive(Clone)]
pub struct Listener {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// The event source (by name) its messages belong to.
    pub source: String,
    /// Largest message accepted; longer ones are refused and kept as dead letters.
    pub max_message: usize,
    /// For TLS.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// Counters of one running listener.
#[derive(Debug, Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    pub refused: AtomicU64,
}

/// Messages per batch, and how long a batch waits to fill.
const BATCH: usize = 1000;
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Reads a PEM certificate chain and private key into a server configuration.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>().map_err(|e| format!("certificate: {e}"))?;
    if certs.is_empty() {
        return Err("certificate: no certificate in the file".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("private key: {e}"))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let cfg = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key: {e}"))?;
    Ok(Arc::new(cfg))
}

/// A bound listener, ready to run.
pub struct Bound {
    pub local_addr: SocketAddr,
    pub counters: Arc<Counters>,
    run: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
}

impl Bound {
    /// Runs until the process ends.
    pub async fn run(self) {
        self.run.await
    }
}

/// Binds the listener's socket (so a port taken fails at start, with the address).
pub async fn bind(app: App, pipeline: Sink, l: Listener) -> Result<Bound, String> {
    let counters = Arc::new(Counters::default());
    match l.transport {
        Transport::Udp => {
            let sock = UdpSocket::bind(l.addr).await.map_err(|e| format!("syslog udp {}: {e}", l.addr))?;
            let local_addr = sock.local_addr().map_err(|e| e.to_string())?;
            let c = counters.clone();
            Ok(Bound { local_addr, counters, run: Box::pin(run_udp(app, pipeline, l, sock, c)) })
        }
        Transport::Tcp | Transport::Tls => {
            if l.transport == Transport::Tls && l.tls.is_none() {
                return Err(format!("syslog tls {}: a certificate and key are required", l.addr));
            }
            let tcp = TcpListener::bind(l.addr).await.map_err(|e| format!("syslog {} {}: {e}", if l.tls.is_some() { "tls" } else { "tcp" }, l.addr))?;
            let local_addr = tcp.local_addr().map_err(|e| e.to_string())?;
            let c = counters.clone();
            Ok(Bound { local_addr, counters, run: Box::pin(run_tcp(app, pipeline, l, tcp, c)) })
        }
    }
}

async fn source_of(app: &App, name: &str) -> Option<Arc<SourceCtx>> {
    match sources::by_name(app, name).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(source = name, error = %e, "syslog listener: its event source is missing or disabled; messages wait");
            None
        }
    }
}

/// Hands a batch to the pipeline, waiting while it is busy or failing: nothing read from a
/// stream is dropped.
async fn deliver(app: &App, sink: &Sink, source_name: &str, events: Vec<Vec<u8>>, refused: Vec<(String, String)>) {
    let mut wait = Duration::from_millis(20);
    loop {
        let Some(source) = source_of(app, source_name).await else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        match sink {
            Sink::Pipeline(pipeline) => match pipeline.submit_events(source, events.clone(), refused.clone(), None).await {
                Ok(_) => return,
                Err(SubmitError::Busy) => {}
                Err(SubmitError::Failed(e)) => tracing::warn!(error = %e, "syslog batch not stored yet; trying again"),
            },
            Sink::Bus(bus) => {
                let body = events.join(&b'\n');
                let r = match (events.is_empty(), refused.is_empty()) {
                    (false, _) => bus.publish(&source.id, "body", body).await.map(|_| ()),
                    _ => Ok(()),
                };
                let r = match (r, refused.is_empty()) {
                    (Ok(()), false) => bus.publish(&source.id, "refused", serde_json::to_vec(&refused).unwrap_or_default()).await.map(|_| ()),
                    (r, _) => r,
                };
                match r {
                    Ok(()) => return,
                    Err(e) => tracing::warn!(error = %e, "syslog batch not queued yet; trying again"),
                }
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

fn refusal(size: usize, head: &[u8], max: usize) -> (String, String) {
    (format!("syslog message of {size} bytes is larger than the limit of {max} bytes"), String::from_utf8_lossy(head).into_owned())
}

fn read_frame(frame: &[u8], events: &mut Vec<Vec<u8>>, refused: &mut Vec<(String, String)>) {
    match syslog::to_event(frame) {
        Ok(e) => events.push(e),
        Err(reason) => refused.push((reason, String::from_utf8_lossy(&frame[..frame.len().min(4096)]).into_owned())),
    }
}

async fn run_udp(app: App, pipeline: Sink, l: Listener, sock: UdpSocket, counters: Arc<Counters>) {
    // Datagrams go to a bounded queue; a batcher empties it into the pipeline.
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(BATCH * 20);
    let batcher = {
        let (app, pipeline, name, max) = (app.clone(), pipeline.clone(), l.source.clone(), l.max_message);
        tokio::spawn(async move {
            loop {
                let Some(first) = rx.recv().await else { return };
                let mut frames = vec![first];
                let deadline = tokio::time::Instant::now() + BATCH_WAIT;
                while frames.len() < BATCH {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(f)) => frames.push(f),
                        _ => break,
                    }
                }
                let (mut events, mut refused) = (Vec::with_capacity(frames.len()), vec![]);
                for f in &frames {
                    if f.len() > max {
                        refused.push(refusal(f.len(), &f[..256.min(f.len())], max));
                    } else {
                        read_frame(f, &mut events, &mut refused);
                    }
                }
                deliver(&app, &pipeline, &name, events, refused).await;
            }
        })
    };
    let mut buf = vec![0u8; 65_536];
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, _)) => {
                counters.received.fetch_add(1, Ordering::Relaxed);
                if tx.try_send(buf[..n].to_vec()).is_err() {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("isms_syslog_udp_dropped_total").increment(1);
                }
            }
            Err(e) => tracing::warn!(error = %e, "syslog udp receive failed"),
        }
        if batcher.is_finished() {
            return;
        }
    }
}

async fn run_tcp(app: App, pipeline: Sink, l: Listener, tcp: TcpListener, counters: Arc<Counters>) {
    let acceptor = l.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "syslog accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (app, pipeline, l, counters, acceptor) = (app.clone(), pipeline.clone(), l.clone(), counters.clone(), acceptor.clone());
        tokio::spawn(async move {
            match acceptor {
                Some(a) => match tokio::time::timeout(Duration::from_secs(10), a.accept(stream)).await {
                    Ok(Ok(s)) => connection(app, pipeline, l, s, counters).await,
                    Ok(Err(e)) => tracing::info!(%peer, error = %e, "syslog tls handshake failed"),
                    Err(_) => tracing::info!(%peer, "syslog tls handshake timed out"),
                },
                None => connection(app, pipeline, l, stream, counters).await,
            }
        });
    }
}

async fn connection<S: AsyncRead + Unpin>(app: App, pipeline: Sink, l: Listener, mut stream: S, counters: Arc<Counters>) {
    let mut framer = syslog::Framer::new(l.max_message);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut events, mut refused) = (Vec::with_capacity(BATCH), vec![]);
    let mut started = tokio::time::Instant::now();
    loop {
        let read = if events.is_empty() && refused.is_empty() {
            stream.read(&mut buf).await.map(Some)
        } else {
            // Something is waiting: send it when the batch is full or old enough.
            match tokio::time::timeout_at(started + BATCH_WAIT, stream.read(&mut buf)).await {
                Ok(r) => r.map(Some),
                Err(_) => Ok(None),
            }
        };
        let ended = match read {
            Ok(Some(0)) | Err(_) => true,
            Ok(Some(n)) => {
                framer.push(&buf[..n]);
                while let Some(f) = framer.next_frame() {
                    if events.is_empty() && refused.is_empty() {
                        started = tokio::time::Instant::now();
                    }
                    counters.received.fetch_add(1, Ordering::Relaxed);
                    match f {
                        syslog::Frame::Message(m) => read_frame(&m, &mut events, &mut refused),
                        syslog::Frame::TooLarge { size, head } => {
                            counters.refused.fetch_add(1, Ordering::Relaxed);
                            refused.push(refusal(size, &head, l.max_message));
                        }
                    }
                }
                false
            }
            Ok(None) => false,
        };
        if ended && let Some(syslog::Frame::Message(m)) = framer.finish() {
            counters.received.fetch_add(1, Ordering::Relaxed);
            read_frame(&m, &mut events, &mut refused);
        }
        let due = events.len() + refused.len() >= BATCH || (!events.is_empty() || !refused.is_empty()) && (ended || started.elapsed() >= BATCH_WAIT);
        if due {
            deliver(&app, &pipeline, &l.source, std::mem::take(&mut events), std::mem::take(&mut refused)).await;
        }
        if ended {
            return;
        }
    }
}
