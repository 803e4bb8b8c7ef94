//! Rate limits on failures, over real sockets: each source address (bound on 127.0.0.x, or
//! named by a trusted proxy) has a bucket of `auth_failure_burst` failed authentications that
//! refills at `auth_failure_per_minute` on the server's clock. An empty bucket answers `429
//! slow_down` with `Retry-After` before any credential is checked; other sources, and the real
//! client at its own address, are never refused for it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_server::{Config, ProxyHeader};
use keyward_testkit::server::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

/// 3 failures in a row; one comes back every 10 s.
const BURST: usize = 3;
const RETRY_SECS: i64 = 10;

fn tight(c: &mut Config) {
    c.auth_failure_burst = 3;
    c.auth_failure_per_minute = 6;
}

async fn server() -> TestServer {
    TestServer::start_with(tight).await
}

/// A server behind a trusted proxy on 127.0.0.1 that writes `header`.
async fn behind_proxy(header: ProxyHeader, tune: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        tight(c);
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.trusted_proxy_header = header;
        tune(c);
    })
    .await
}

/// `POST /token` by `client_secret_basic` from `http`, with extra headers.
async fn basic_from(
    srv: &TestServer,
    http: &reqwest::Client,
    id: &str,
    secret: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http
        .post(srv.url("/token"))
        .header("authorization", basic_header(id, secret))
        .form(&[CC]);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

/// Asserts a `429 slow_down` with `Retry-After: retry_secs` and no token.
async fn assert_slow_down(resp: reqwest::Response, retry_secs: i64) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        resp.headers()["retry-after"].to_str().unwrap(),
        retry_secs.to_string()
    );
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "slow_down", "{body}");
    assert!(
        body["error_description"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(body.get("access_token").is_none(), "{body}");
}

/// Spends the bucket of `http`'s address with wrong secrets for `id`: each answered 401.
async fn exhaust(srv: &TestServer, http: &reqwest::Client, id: &str, headers: &[(&str, &str)]) {
    for i in 0..BURST {
        let resp = basic_from(srv, http, id, "wrong-secret", headers).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "failure {i}");
        assert_invalid_client(resp, true).await;
    }
}

/// `keyward_rate_limited_total{endpoint}`; process-global, so compare with `>`.
async fn rate_limited(srv: &TestServer, endpoint: &str) -> u64 {
    let prefix = format!("keyward_rate_limited_total{{endpoint=\"{endpoint}\"}} ");
    srv.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0)
}

#[tokio::test]
async fn empty_bucket_answers_429_with_retry_after_and_issues_nothing() {
    let srv = server().await;
    let (id, secret) = srv.basic_client().await;
    let attacker = client_from("127.0.0.2");
    let before = rate_limited(&srv, "/token").await;
    exhaust(&srv, &attacker, &id, &[]).await;
    let snapshot = srv.snapshot().await;

    // The right secret, from the address whose bucket is empty: refused before it is checked.
    assert_slow_down(basic_from(&srv, &attacker, &id, &secret, &[]).await, RETRY_SECS).await;
    assert_slow_down(basic_from(&srv, &attacker, &id, "wrong", &[]).await, RETRY_SECS).await;
    assert_eq!(srv.snapshot().await, snapshot);
    assert!(rate_limited(&srv, "/token").await >= before + 2);
}

#[tokio::test]
async fn refused_assertion_is_not_consumed_while_limited() {
    let srv = server().await;
    let id = srv.key_client("svc-jwt", &[ec_jwk()], json!({})).await;
    let attacker = client_from("127.0.0.2");
    exhaust(&srv, &attacker, &id, &[]).await;
    let header = json!({"alg": "ES256", "kid": ec_kid()});
    let assertion = sign_jws(&ec_key(), &header, &srv.claims(&id));
    let replay = srv.replay_entries().await;
    let resp = attacker
        .post(srv.url("/token"))
        .form(&[
            CC,
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_slow_down(resp, RETRY_SECS).await;
    assert_eq!(srv.replay_entries().await, replay, "the jti was not recorded");

    // Once a token is back, the same assertion is still unused: the 429 came before any check.
    srv.clock.advance(Duration::seconds(RETRY_SECS));
    let resp = attacker
        .post(srv.url("/token"))
        .form(&[
            CC,
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_token_for(resp, &id).await;
}

#[tokio::test]
async fn bucket_refills_as_the_clock_moves() {
    let srv = server().await;
    let (id, secret) = srv.basic_client().await;
    let attacker = client_from("127.0.0.2");
    exhaust(&srv, &attacker, &id, &[]).await;
    srv.clock.advance(Duration::seconds(RETRY_SECS - 1));
    assert_slow_down(basic_from(&srv, &attacker, &id, &secret, &[]).await, 1).await;
    srv.clock.advance(Duration::seconds(1));
    assert_token_for(basic_from(&srv, &attacker, &id, &secret, &[]).await, &id).await;
    // One token came back, and one failure spends it again.
    let resp = basic_from(&srv, &attacker, &id, "wrong", &[]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_slow_down(basic_from(&srv, &attacker, &id, &secret, &[]).await, RETRY_SECS).await;
    // A full refill: the whole burst again.
    srv.clock.advance(Duration::seconds(RETRY_SECS * BURST as i64));
    exhaust(&srv, &attacker, &id, &[]).await;
}

#[tokio::test]
async fn successes_do_not_charge_the_bucket() {
    let srv = server().await;
    let (id, secret) = srv.basic_client().await;
    let client = client_from("127.0.0.3");
    for _ in 0..(BURST * 4) {
        assert_token_for(basic_from(&srv, &client, &id, &secret, &[]).await, &id).await;
    }
    // Still the whole burst of failures left.
    exhaust(&srv, &client, &id, &[]).await;
    assert_slow_down(basic_from(&srv, &client, &id, &secret, &[]).await, RETRY_SECS).await;
}

#[tokio::test]
async fn another_address_is_unaffected() {
    let srv = server().await;
    let (id, secret) = srv.basic_client().await;
    exhaust(&srv, &client_from("127.0.0.2"), &id, &[]).await;
    let other = client_from("127.0.0.4");
    let resp = basic_from(&srv, &other, &id, "wrong", &[]).await;
    assert_invalid_client(resp, true).await;
    assert_token_for(basic_from(&srv, &other, &id, &secret, &[]).await, &id).await;
}

#[tokio::test]
async fn real_client_keeps_working_while_an_attacker_hammers_its_client_id() {
    let srv = server().await;
    let (id, secret) = srv.basic_client().await;
    let attacker = client_from("127.0.0.2");
    let real = client_from("127.0.0.3");
    let mut refused = 0;
    for round in 0..30 {
        // The attacker guesses in parallel bursts; the real client asks in between.
        let guesses = futures::future::join_all(
            (0..4).map(|i| basic_from(&srv, &attacker, &id, if i % 2 == 0 { "guess" } else { "x" }, &[])),
        )
        .await;
        for g in guesses {
            match g.status() {
                StatusCode::UNAUTHORIZED => {}
                StatusCode::TOO_MANY_REQUESTS => refused += 1,
                other => panic!("round {round}: attacker got {other}"),
            }
        }
        let resp = basic_from(&srv, &real, &id, &secret, &[]).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "round {round}: the real client was refused"
        );
        assert_token_for(resp, &id).await;
    }
    // 120 guesses, of which at most the burst plus one parallel batch reached a secret check.
    assert!(refused >= 120 - BURST - 4, "only {refused} guesses refused");
}

#[tokio::test]
async fn admin_api_is_limited_for_rejected_bearer_tokens() {
    let srv = server().await;
    let token = srv.admin_token().await;
    let attacker = client_from("127.0.0.2");
    for forged in ["abc", "eyJhbGciOiJub25lIn0.e30.", "x.y.z"] {
        let resp = attacker
            .get(srv.url("/admin/clients"))
            .bearer_auth(forged)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_token");
    }
    let before = rate_limited(&srv, "/admin").await;
    let snapshot = srv.snapshot().await;
    // A valid admin token from that address is refused now, and its write does not happen.
    let resp = attacker
        .post(srv.url("/admin/clients"))
        .bearer_auth(&token)
        .json(&json!({"client_id": "made-while-limited", "scope": "read"}))
        .send()
        .await
        .unwrap();
    assert_slow_down(resp, RETRY_SECS).await;
    assert!(!srv.client_exists("made-while-limited").await);
    assert_eq!(srv.snapshot().await, snapshot);
    assert!(rate_limited(&srv, "/admin").await > before);
    // The same bucket guards /token.
    let resp = basic_from(&srv, &attacker, ADMIN_ID, ADMIN_SECRET, &[]).await;
    assert_slow_down(resp, RETRY_SECS).await;
    // The administrator at their own address is not refused.
    let (status, body) = srv
        .admin_as(
            &token,
            reqwest::Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "made-by-admin", "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let srv = behind_proxy(ProxyHeader::XForwardedFor, |_| {}).await;
    let (id, secret) = srv.basic_client().await;

    // An untrusted peer's header is ignored: a new spoofed address per guess does not help.
    let spoofer = client_from("127.0.0.2");
    for i in 0..BURST {
        let fake = format!("198.51.100.{}", 10 + i);
        let resp = basic_from(
            &srv,
            &spoofer,
            &id,
            "wrong",
            &[("x-forwarded-for", fake.as_str())],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = basic_from(
        &srv,
        &spoofer,
        &id,
        &secret,
        &[("x-forwarded-for", "198.51.100.99")],
    )
    .await;
    assert_slow_down(resp, RETRY_SECS).await;

    // From the trusted proxy, the right-most address it did not write itself counts.
    let proxy = client_from("127.0.0.1");
    exhaust(&srv, &proxy, &id, &[("x-forwarded-for", "192.0.2.7")]).await;
    let resp = basic_from(&srv, &proxy, &id, &secret, &[("x-forwarded-for", "192.0.2.7")]).await;
    assert_slow_down(resp, RETRY_SECS).await;
    // What the client wrote left of it is not believed either.
    let spoofed = [("x-forwarded-for", "203.0.113.1, 192.0.2.7")];
    assert_slow_down(basic_from(&srv, &proxy, &id, &secret, &spoofed).await, RETRY_SECS).await;
    // Another client behind the same proxy, and the proxy itself, are not limited.
    let resp = basic_from(&srv, &proxy, &id, &secret, &[("x-forwarded-for", "192.0.2.8")]).await;
    assert_token_for(resp, &id).await;
    assert_token_for(basic_from(&srv, &proxy, &id, &secret, &[]).await, &id).await;
}

#[tokio::test]
async fn forwarded_header_names_the_client_behind_a_trusted_proxy() {
    let srv = behind_proxy(ProxyHeader::Forwarded, |_| {}).await;
    let (id, secret) = srv.basic_client().await;
    let proxy = client_from("127.0.0.1");
    let client = [(
        "forwarded",
        r#"for=203.0.113.9;proto=https, For="[2001:db8:cafe::17]:4711";by=_proxy"#,
    )];
    exhaust(&srv, &proxy, &id, &client).await;
    let again = [("forwarded", r#"for="[2001:db8:cafe::17]""#)];
    assert_slow_down(basic_from(&srv, &proxy, &id, &secret, &again).await, RETRY_SECS).await;
    // With `forwarded` chosen, X-Forwarded-For means nothing: this is the proxy's own address.
    let xff = [("x-forwarded-for", "2001:db8:cafe::17")];
    assert_token_for(basic_from(&srv, &proxy, &id, &secret, &xff).await, &id).await;
    // The left-hand element of those requests was the client's word: it was not charged.
    let other = [("forwarded", "for=203.0.113.9")];
    assert_token_for(basic_from(&srv, &proxy, &id, &secret, &other).await, &id).await;
}

#[tokio::test]
async fn ipv6_addresses_of_one_slash_64_share_a_bucket() {
    let srv = behind_proxy(ProxyHeader::XForwardedFor, |_| {}).await;
    let (id, secret) = srv.basic_client().await;
    let proxy = client_from("127.0.0.1");
    for host in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::3"] {
        let resp = basic_from(&srv, &proxy, &id, "wrong", &[("x-forwarded-for", host)]).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{host}");
    }
    let same_net = [("x-forwarded-for", "2001:db8:1:2:ffff:ffff:ffff:ffff")];
    assert_slow_down(
        basic_from(&srv, &proxy, &id, &secret, &same_net).await,
        RETRY_SECS,
    )
    .await;
    let next_net = [("x-forwarded-for", "2001:db8:1:3::1")];
    assert_token_for(basic_from(&srv, &proxy, &id, &secret, &next_net).await, &id).await;
}

#[tokio::test]
async fn the_address_map_stays_bounded() {
    let srv = behind_proxy(ProxyHeader::XForwardedFor, |c| {
        c.auth_failure_burst = 1;
        c.auth_failure_max_addresses = 4;
    })
    .await;
    let (id, secret) = srv.basic_client().await;
    let proxy = client_from("127.0.0.1");
    let from = |n: usize| format!("192.0.2.{n}");
    for n in 0..40 {
        let resp = basic_from(
            &srv,
            &proxy,
            &id,
            "wrong",
            &[("x-forwarded-for", from(n).as_str())],
        )
        .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "first failure of {}",
            from(n)
        );
    }
    // The last four sources are remembered; the earlier ones were pushed out and start afresh.
    for n in 36..40 {
        let resp = basic_from(
            &srv,
            &proxy,
            &id,
            &secret,
            &[("x-forwarded-for", from(n).as_str())],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "{}", from(n));
    }
    let resp = basic_from(
        &srv,
        &proxy,
        &id,
        &secret,
        &[("x-forwarded-for", from(0).as_str())],
    )
    .await;
    assert_token_for(resp, &id).await;
}
