//! A JWKS endpoint in the test process: serves a document the test can change, with chosen
//! status, headers and delay, and counts the requests it gets. It stops when dropped.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Router};
use parking_lot::Mutex;
use serde_json::Value;

#[derive(Clone)]
pub struct Served {
    pub status: u16,
    pub body: String,
    pub cache_control: Option<String>,
    /// `Location` header (with a 3xx status).
    pub location: Option<String>,
    pub delay: Duration,
}

pub struct JwksServer {
    pub addr: SocketAddr,
    state: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    served: Mutex<Served>,
    hits: AtomicUsize,
}

async fn serve(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let served = s.served.lock().clone();
    tokio::time::sleep(served.delay).await;
    let mut resp = (StatusCode::from_u16(served.status).unwrap(), served.body).into_response();
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    if let Some(cc) = served.cache_control {
        resp.headers_mut().insert("cache-control", cc.parse().unwrap());
    }
    if let Some(loc) = served.location {
        resp.headers_mut().insert("location", loc.parse().unwrap());
    }
    resp
}

impl JwksServer {
    /// Serves `{"keys": keys}` with status 200 at `/jwks`.
    pub async fn start(keys: &[Value]) -> Self {
        let state = Arc::new(Shared {
            served: Mutex::new(Served {
                status: 200,
                body: serde_json::json!({ "keys": keys }).to_string(),
                cache_control: None,
                location: None,
                delay: Duration::ZERO,
            }),
            hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks", get(serve))
            .route("/other", get(serve))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn set_keys(&self, keys: &[Value]) {
        self.state.served.lock().body = serde_json::json!({ "keys": keys }).to_string();
    }

    /// Changes what is served (status, body, headers, delay).
    pub fn update(&self, f: impl FnOnce(&mut Served)) {
        f(&mut self.state.served.lock());
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
