//! Slow and idle clients (issue "Slowloris"): the header-read, body-read and idle timers close
//! or answer them, the connection cap makes extra connections wait, and a well-behaved client
//! still gets its token while thousands of slow sockets are open. Raw sockets on loopback
//! against the real listener; each timer is set short in its test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use keyward_testkit::{
    connections::{
        parse_response, raise_fd_limit, read_until_closed, slow_socket, still_open, Outcome, PARTIAL_HEAD,
    },
    server::*,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

/// Longest any server reaction is waited for: generous, the machine is shared.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn header_timeout_closes_a_slowloris_socket() {
    let srv = TestServer::start_with(|c| c.header_read_timeout_ms = 300).await;
    let mut socket = slow_socket(srv.addr(), PARTIAL_HEAD).await;
    let (outcome, took) = read_until_closed(&mut socket, PATIENCE).await;
    assert_eq!(outcome, Outcome::Closed(Vec::new()), "closed without an answer");
    assert!(
        took >= Duration::from_millis(250),
        "closed after {took:?}, before the timeout"
    );
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn header_timeout_closes_a_socket_that_sends_nothing() {
    let srv = TestServer::start_with(|c| c.header_read_timeout_ms = 300).await;
    let mut socket = slow_socket(srv.addr(), b"").await;
    let (outcome, _) = read_until_closed(&mut socket, PATIENCE).await;
    assert_eq!(outcome, Outcome::Closed(Vec::new()));
}

/// A request whose body stops short, sent on a raw socket; returns the server's answer.
async fn send_short_body(srv: &TestServer, head: &str, declared: usize, sent: &[u8]) -> (u16, String, Value) {
    let mut socket = slow_socket(srv.addr(), b"").await;
    let request = format!("{head}Content-Length: {declared}\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    socket.write_all(sent).await.unwrap();
    let (outcome, _) = read_until_closed(&mut socket, PATIENCE).await;
    let Outcome::Closed(bytes) = outcome else {
        panic!("the connection was not closed after the answer: {outcome:?}")
    };
    let response = parse_response(&bytes);
    let body = serde_json::from_slice(&response.body).unwrap();
    (response.status, response.head, body)
}

#[tokio::test]
async fn body_timeout_answers_token_request_with_408_and_error_body() {
    let srv = TestServer::start_with(|c| c.body_read_timeout_ms = 300).await;
    let (id, secret) = srv.basic_client().await;
    let before = srv.snapshot().await;
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n",
        basic_header(&id, &secret)
    );
    let (status, head, body) = send_short_body(&srv, &head, 65_536, b"grant_type=client_").await;
    assert_eq!(status, 408);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "the request body did not arrive in time"
    );
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(srv.snapshot().await, before);
    assert_eq!(srv.replay_entries().await, 0);
}

#[tokio::test]
async fn body_timeout_on_admin_write_stores_nothing() {
    let srv = TestServer::start_with(|c| c.body_read_timeout_ms = 300).await;
    let token = srv.admin_token().await;
    let before = srv.snapshot().await;
    let head = format!(
        "POST /admin/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\n"
    );
    let full = json!({"client_id": "slow-writer", "scope": "read"}).to_string();
    let cut = &full.as_bytes()[..full.len() / 2];
    let (status, _, body) = send_short_body(&srv, &head, full.len(), cut).await;
    assert_eq!(status, 408);
    assert_eq!(body["error"], "invalid_request");
    assert!(!srv.client_exists("slow-writer").await);
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed() {
    // The header timer is long here, so what closes the connection is the idle timer.
    let srv = TestServer::start_with(|c| {
        c.idle_timeout_ms = 400;
        c.header_read_timeout_ms = 60_000;
    })
    .await;
    let mut socket = slow_socket(srv.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (outcome, took) = read_until_closed(&mut socket, PATIENCE).await;
    let Outcome::Closed(bytes) = outcome else {
        panic!("idle connection still open after {PATIENCE:?}")
    };
    assert_eq!(
        parse_response(&bytes).status,
        200,
        "answered, then closed when idle"
    );
    assert!(took >= Duration::from_millis(300), "closed after {took:?}");
}

/// The soak's lost requests: a pooled connection that waited longer than the header timeout
/// between two requests must still answer the second one (the header timer runs from a
/// request's first byte, not during the keep-alive wait).
#[tokio::test]
async fn keep_alive_wait_longer_than_header_timeout_keeps_the_connection() {
    let srv = TestServer::start_with(|c| {
        c.header_read_timeout_ms = 300;
        c.idle_timeout_ms = 60_000;
    })
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut socket = slow_socket(srv.addr(), request).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    socket.write_all(request).await.unwrap();
    let (outcome, _) = read_until_closed(&mut socket, Duration::from_millis(500)).await;
    let Outcome::Open(bytes) = outcome else {
        panic!("the keep-alive connection was closed while it waited: {outcome:?}")
    };
    let answers = String::from_utf8_lossy(&bytes).matches("HTTP/1.1 200").count();
    assert_eq!(answers, 2, "both requests answered on one connection");
}

/// The header timer still starts again at the next request's first byte: a second head that
/// trickles in slower than the timeout is cut off, after the first request was answered.
#[tokio::test]
async fn header_timeout_applies_to_the_next_request_on_a_keep_alive_connection() {
    let srv = TestServer::start_with(|c| {
        c.header_read_timeout_ms = 300;
        c.idle_timeout_ms = 60_000;
    })
    .await;
    let mut socket = slow_socket(srv.addr(), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    socket.write_all(PARTIAL_HEAD).await.unwrap();
    let started = Instant::now();
    let (outcome, _) = read_until_closed(&mut socket, PATIENCE).await;
    let Outcome::Closed(bytes) = outcome else {
        panic!("a slow second head kept the connection open: {outcome:?}")
    };
    let took = started.elapsed();
    assert_eq!(String::from_utf8_lossy(&bytes).matches("HTTP/1.1 200").count(), 1);
    assert!(
        took >= Duration::from_millis(250),
        "closed after {took:?}, before the timeout"
    );
    assert!(took < Duration::from_secs(10), "closed after {took:?}");
    srv.assert_still_serving().await;
}

#[tokio::test]
async fn keep_alive_connection_in_use_stays_open() {
    let srv = TestServer::start_with(|c| {
        c.idle_timeout_ms = 600;
        c.header_read_timeout_ms = 60_000;
    })
    .await;
    let mut socket = slow_socket(srv.addr(), b"").await;
    let started = Instant::now();
    // Requests 150 ms apart for well past the idle timeout: the connection is never idle.
    while started.elapsed() < Duration::from_millis(1_500) {
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (outcome, _) = read_until_closed(&mut socket, Duration::from_millis(100)).await;
    let Outcome::Open(bytes) = outcome else {
        panic!("a connection in use was closed: {outcome:?}")
    };
    let answers = String::from_utf8_lossy(&bytes).matches("HTTP/1.1 200").count();
    assert!(answers >= 5, "{answers} answers");
}

#[tokio::test]
async fn at_the_cap_a_new_connection_waits_until_one_closes() {
    let srv = TestServer::start_with(|c| {
        c.max_connections = 2;
        c.header_read_timeout_ms = 60_000;
    })
    .await;
    let first = slow_socket(srv.addr(), PARTIAL_HEAD).await;
    let second = slow_socket(srv.addr(), PARTIAL_HEAD).await;
    let http = reqwest::Client::new();
    let waiting = tokio::spawn({
        let url = srv.url("/healthz");
        async move {
            let resp = http.get(url).send().await.unwrap();
            (resp.status(), Instant::now())
        }
    });
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        !waiting.is_finished(),
        "a third connection was served at a cap of two"
    );
    assert!(still_open(&first) && still_open(&second));
    let closed_at = Instant::now();
    drop(first);
    let (status, served_at) = tokio::time::timeout(PATIENCE, waiting).await.unwrap().unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(served_at >= closed_at);
    assert!(still_open(&second));
}

/// A token request on a connection of its own, as a client that just arrived sends it.
async fn token_on_new_connection(srv: &TestServer, id: &str, secret: &str) -> reqwest::Response {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    http.post(srv.url("/token"))
        .header("authorization", basic_header(id, secret))
        .form(&[CC])
        .send()
        .await
        .unwrap()
}

/// Slow sockets held open at once in the load test.
const SLOW_SOCKETS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_request_succeeds_while_2000_slow_sockets_are_open() {
    // Both ends of every socket live in this process.
    raise_fd_limit(2 * SLOW_SOCKETS as u64 + 256);
    let srv = TestServer::start_with(|c| {
        c.max_connections = SLOW_SOCKETS + 512;
        c.header_read_timeout_ms = 120_000;
    })
    .await;
    let (id, secret) = srv.basic_client().await;
    let mut sockets = Vec::with_capacity(SLOW_SOCKETS);
    for _ in 0..SLOW_SOCKETS {
        sockets.push(slow_socket(srv.addr(), PARTIAL_HEAD).await);
    }
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let resp = token_on_new_connection(&srv, &id, &secret).await;
        latencies.push(started.elapsed());
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let held = sockets.iter().filter(|s| still_open(s)).count();
    assert_eq!(held, SLOW_SOCKETS, "every slow socket is still held open");
    latencies.sort();
    println!(
        "{held} slow sockets open; token latency over {} requests: p50 {:?}, max {:?}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_default_cap_a_token_request_is_served_once_slow_sockets_time_out() {
    raise_fd_limit(2 * SLOW_SOCKETS as u64 + 256);
    // Defaults: 1,024 connections, 5 s to send a head. The slow sockets beyond the cap and the
    // token request wait in the backlog until the first slow ones are timed out.
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let mut sockets = Vec::with_capacity(SLOW_SOCKETS);
    for _ in 0..SLOW_SOCKETS {
        sockets.push(slow_socket(srv.addr(), PARTIAL_HEAD).await);
    }
    let started = Instant::now();
    let resp = tokio::time::timeout(PATIENCE * 3, token_on_new_connection(&srv, &id, &secret))
        .await
        .expect("the token request was served");
    let took = started.elapsed();
    assert_eq!(resp.status(), StatusCode::OK);
    let open = sockets.iter().filter(|s| still_open(s)).count();
    println!("default cap: token after {took:?} behind {SLOW_SOCKETS} slow sockets ({open} still open)");
}
