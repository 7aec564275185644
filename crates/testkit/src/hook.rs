//! A webhook receiver on a free local port, like a chat tool's incoming webhook or a log
//! collector: it keeps the JSON bodies it is sent, and answers 503 to the first
//! `fail_first` calls so retries can be tested.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct Receiver {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<serde_json::Value>>>,
    calls: Arc<AtomicUsize>,
}

impl Receiver {
    pub async fn start(path: &str, fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let (g, c) = (got.clone(), calls.clone());
        let router = axum::Router::new().route(
            path,
            axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
                let (g, c) = (g.clone(), c.clone());
                async move {
                    if c.fetch_add(1, Ordering::SeqCst) < fail_first {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    g.lock().unwrap().push(v);
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        Receiver { addr, got, calls }
    }

    /// The bodies received so far.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.got.lock().unwrap().clone()
    }

    /// Forgets what was received and counts calls from zero again.
    pub fn reset(&self) {
        self.got.lock().unwrap().clear();
        self.calls.store(0, Ordering::SeqCst);
    }
}
