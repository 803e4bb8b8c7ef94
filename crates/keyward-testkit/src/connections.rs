//! Raw sockets against a server: slow clients that send part of a request and stop, and the
//! checks of when the server closes them.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A request's head cut before its end: the slowloris client's first and last bytes.
pub const PARTIAL_HEAD: &[u8] = b"POST /token HTTP/1.1\r\nHost: x\r\n";

/// Raises the test process's open-files limit to its hard limit and checks that `needed`
/// descriptors fit (a test that holds thousands of sockets).
pub fn raise_fd_limit(needed: u64) -> u64 {
    let limit = keyward_server::raise_open_files_limit().unwrap();
    assert!(
        limit >= needed,
        "the open-files hard limit is {limit}; this test needs {needed} (raise it with ulimit -Hn)"
    );
    limit
}

/// Opens a socket and sends `bytes` (possibly none), then nothing more.
pub async fn slow_socket(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    if !bytes.is_empty() {
        stream.write_all(bytes).await.unwrap();
    }
    stream
}

/// What the server did with a socket within a wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Closed (EOF or reset) after sending these bytes (possibly none).
    Closed(Vec<u8>),
    /// Still open at the deadline, having sent these bytes.
    Open(Vec<u8>),
}

/// Reads from `stream` until the server closes it or `wait` passes; returns what it sent and
/// how long that took.
pub async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> (Outcome, Duration) {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (Outcome::Open(got), start.elapsed()),
            Ok(Ok(0)) | Ok(Err(_)) => return (Outcome::Closed(got), start.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// True if the server has neither closed `stream` nor sent anything on it, right now.
pub fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// A raw HTTP/1.1 response: its status, its head (lower-cased) and its body.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Parses the first response in `bytes` as a server wrote it on the socket.
pub fn parse_response(bytes: &[u8]) -> RawResponse {
    let text = String::from_utf8_lossy(bytes);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response head in {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let body = bytes[head.len() + 4..].to_vec();
    RawResponse {
        status,
        head: head.to_ascii_lowercase(),
        body,
    }
}
