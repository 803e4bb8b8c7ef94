//! A TCP proxy on loopback that can drop traffic the way a NAT or load balancer does when it
//! forgets a flow: silently, in both directions, without closing anything. Put in front of
//! PostgreSQL, it shows what a node does when its connections die without a word.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use parking_lot::Mutex;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        tcp::{OwnedReadHalf, OwnedWriteHalf},
        TcpListener, TcpStream,
    },
    task::AbortHandle,
};

/// What the proxy shares with its connections.
#[derive(Default)]
struct Shared {
    /// While set, new connections are accepted but never forwarded.
    dropping: AtomicBool,
    /// One flag per connection: once set, it never forwards again.
    flows: Mutex<Vec<Arc<AtomicBool>>>,
    /// Sockets of dead flows whose peer has gone, kept open until the proxy is dropped, so
    /// that the other side sees no FIN either.
    kept: Mutex<Vec<OwnedWriteHalf>>,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// Forwards every connection to its `addr` on to the upstream address, until
/// [`Proxy::drop_silently`]. Dropping the proxy closes everything.
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free loopback port; each connection is forwarded to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        continue;
                    };
                    let dead = Arc::new(AtomicBool::new(shared.dropping.load(Ordering::SeqCst)));
                    shared.flows.lock().push(dead.clone());
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    let up = tokio::spawn(pipe(client_read, server_write, dead.clone(), shared.clone()));
                    let down = tokio::spawn(pipe(server_read, client_write, dead, shared.clone()));
                    shared
                        .tasks
                        .lock()
                        .extend([up.abort_handle(), down.abort_handle()]);
                }
            })
        };
        shared.tasks.lock().push(accept.abort_handle());
        Self { addr, shared }
    }

    /// A proxy to the host and port of the `postgres://…` `url`.
    pub async fn in_front_of(url: &str) -> Self {
        let u = url::Url::parse(url).unwrap();
        let host = u.host_str().unwrap();
        let upstream = tokio::net::lookup_host((host, u.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
        Self::start(upstream).await
    }

    /// `postgres://…` `url` with its host and port replaced by this proxy's.
    pub fn url_through(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_host(Some(&self.addr.ip().to_string())).unwrap();
        u.set_port(Some(self.addr.port())).unwrap();
        u.to_string()
    }

    /// Every connection open now stops forwarding, in both directions and for good, without
    /// being closed; connections made from now on are accepted and never forwarded, until
    /// [`Proxy::forward_new`].
    pub fn drop_silently(&self) {
        self.shared.dropping.store(true, Ordering::SeqCst);
        for flow in self.shared.flows.lock().iter() {
            flow.store(true, Ordering::SeqCst);
        }
    }

    /// Connections made from now on are forwarded again; those dropped stay dropped, as a
    /// NAT that forgot a flow does not remember it later.
    pub fn forward_new(&self) {
        self.shared.dropping.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for task in self.shared.tasks.lock().drain(..) {
            task.abort();
        }
        self.shared.kept.lock().clear();
    }
}

/// Copies `from` to `to` while the flow lives. Once it is dead, what arrives is read and
/// discarded (the sender's writes succeed, as they would into a black hole), and when the
/// sender closes, `to` is kept open.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, dead: Arc<AtomicBool>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if dead.load(Ordering::SeqCst) {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    if dead.load(Ordering::SeqCst) {
        shared.kept.lock().push(to);
    } else {
        let _ = to.shutdown().await;
    }
}
