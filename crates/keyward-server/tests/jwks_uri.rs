//! `private_key_jwt` clients with a `jwks_uri`: keys fetched, cached and refreshed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use keyward_types::SigningAlg;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A server that may fetch JWKS over http from loopback, as these tests serve them.
async fn open_server() -> TestServer {
    TestServer::start_with(open_network).await
}

fn open_network(c: &mut keyward_server::Config) {
    c.jwks_allow_http = true;
    c.jwks_allow_private_networks = true;
}

#[tokio::test]
async fn first_use_fetches_once_and_cached_key_makes_no_fetch() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    srv.create_client(json!({"client_id": "remote", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks.url()}))
        .await;
    assert_eq!(jwks.hits(), 0, "registration does not fetch");
    let key = interop_key("ec256", SigningAlg::ES256);
    let header = json!({"alg": "ES256", "kid": interop_jwk("ec256")["kid"]});
    for _ in 0..3 {
        let a = sign_jws(&key, &header, &srv.claims("remote"));
        assert_eq!(srv.token_assertion(&a, &[]).await.status(), StatusCode::OK);
    }
    assert_eq!(jwks.hits(), 1);
}

// ---- helpers ----

/// A key that signs client assertions, with the `kid` put in their header.
struct Signer {
    key: keyward_jose::SigningKey,
    alg: SigningAlg,
    kid: String,
}

impl Signer {
    /// An interop key (`ec256`, `rsa2048`, `ed25519`) under the kid of its published JWK.
    fn interop(name: &str, alg: SigningAlg) -> Self {
        Self {
            key: interop_key(name, alg),
            alg,
            kid: interop_jwk(name)["kid"].as_str().unwrap().to_owned(),
        }
    }

    fn ec256() -> Self {
        Self::interop("ec256", SigningAlg::ES256)
    }

    /// A fresh ES256 key and its public JWK (with `kid`), as a client would publish it.
    fn fresh() -> (Self, Value) {
        let key = keyward_jose::SigningKey::generate(SigningAlg::ES256).unwrap();
        let kid = key.kid().to_owned();
        let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
        jwk["kid"] = json!(kid);
        (
            Self {
                key,
                alg: SigningAlg::ES256,
                kid,
            },
            jwk,
        )
    }

    /// The same key, but naming another `kid`.
    fn with_kid(&self, kid: &str) -> Self {
        Self {
            key: keyward_jose::SigningKey::from_pkcs8(
                self.alg,
                zeroize::Zeroizing::new(self.key.pkcs8().to_vec()),
            )
            .unwrap(),
            alg: self.alg,
            kid: kid.to_owned(),
        }
    }

    fn assertion(&self, srv: &TestServer, client_id: &str) -> String {
        let header = json!({"alg": self.alg.to_string(), "kid": self.kid});
        sign_jws(&self.key, &header, &srv.claims(client_id))
    }
}

/// Registers a `private_key_jwt` client whose keys are at `url`.
async fn remote_client(srv: &TestServer, id: &str, url: &str) {
    srv.create_client(json!({
        "client_id": id, "scope": "read write",
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url,
    }))
    .await;
}

/// The status of a token request authenticated by `signer`'s assertion for `client_id`.
async fn auth_status(srv: &TestServer, client_id: &str, signer: &Signer) -> StatusCode {
    let a = signer.assertion(srv, client_id);
    srv.token_assertion(&a, &[]).await.status()
}

/// Asserts the assertion is refused with `invalid_client` and that nothing was stored.
async fn assert_rejected(srv: &TestServer, client_id: &str, signer: &Signer) {
    let snapshot = srv.snapshot().await;
    let replay = srv.replay_entries().await;
    let a = signer.assertion(srv, client_id);
    assert_invalid_client(srv.token_assertion(&a, &[]).await, false).await;
    assert_eq!(srv.snapshot().await, snapshot, "nothing stored");
    assert_eq!(srv.replay_entries().await, replay, "replay store unchanged");
}

/// The value of one series in the metrics text (0 when absent). Metrics are process-wide and
/// tests run in parallel, so callers compare before/after with `>=`.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

fn fetch_series(reason: &str) -> String {
    format!("keyward_jwks_fetches_total{{result=\"{reason}\"}}")
}

const JWKS_UNAVAILABLE: &str = "keyward_client_auth_failures_total{reason=\"key.jwks_unavailable\"}";

fn secs(n: i64) -> time::Duration {
    time::Duration::seconds(n)
}

/// `GET /admin/clients/{id}/jwks`.
async fn cached_view(srv: &TestServer, id: &str) -> Value {
    let (status, body) = srv
        .admin(reqwest::Method::GET, &format!("/admin/clients/{id}/jwks"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn rfc3339(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

fn now_of(srv: &TestServer) -> time::OffsetDateTime {
    use keyward_types::Clock;
    srv.clock.now()
}

/// Waits up to `limit` for the JWKS server's hit count to reach `want`; returns the count.
async fn wait_hits(jwks: &JwksServer, want: usize, limit: std::time::Duration) -> usize {
    let start = std::time::Instant::now();
    while jwks.hits() < want && start.elapsed() < limit {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    jwks.hits()
}

/// `n` copies of the ec256 public JWK, with kids `k0`, `k1`, ….
fn ec256_copies(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut k = interop_jwk("ec256");
            k["kid"] = json!(format!("k{i}"));
            k
        })
        .collect()
}

// ---- 1. rotation ----

#[tokio::test]
async fn new_kid_after_rotation_accepted_after_exactly_one_refetch() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "rot", &jwks.url()).await;
    let old = Signer::ec256();
    assert_eq!(auth_status(&srv, "rot", &old).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);

    let (new, new_jwk) = Signer::fresh();
    jwks.set_keys(&[interop_jwk("ec256"), new_jwk]);
    assert_eq!(auth_status(&srv, "rot", &new).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 2, "exactly one refetch for the new kid");
    // Both keys are now cached: neither costs a fetch.
    assert_eq!(auth_status(&srv, "rot", &new).await, StatusCode::OK);
    assert_eq!(auth_status(&srv, "rot", &old).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 2);
}

// ---- 2. removal and TTL ----

#[tokio::test]
async fn removed_key_rejected_after_ttl_and_max_age_is_clamped() {
    let srv = open_server().await;
    let rsa = interop_jwk("rsa2048");
    let jwks = JwksServer::start(&[interop_jwk("ec256"), rsa.clone()]).await;
    jwks.update(|s| s.cache_control = Some("public, max-age=120".into()));
    remote_client(&srv, "ttl", &jwks.url()).await;
    let ec = Signer::ec256();
    let rs = Signer::interop("rsa2048", SigningAlg::RS256);
    assert_eq!(auth_status(&srv, "ttl", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);
    let view = cached_view(&srv, "ttl").await;
    assert_eq!(
        rfc3339(&view["expires_at"]) - rfc3339(&view["fetched_at"]),
        secs(120),
        "TTL from max-age: {view}"
    );

    jwks.set_keys(std::slice::from_ref(&rsa));
    srv.clock.advance(secs(60));
    assert_eq!(
        auth_status(&srv, "ttl", &ec).await,
        StatusCode::OK,
        "cached within the TTL"
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(jwks.hits(), 1, "no fetch within the TTL");

    srv.clock.advance(secs(61));
    assert_rejected(&srv, "ttl", &ec).await;
    assert_eq!(jwks.hits(), 2, "the expired document was refetched");
    assert_eq!(
        auth_status(&srv, "ttl", &rs).await,
        StatusCode::OK,
        "the remaining key works"
    );
    assert_eq!(jwks.hits(), 2);

    // max-age below the minimum TTL counts as the minimum (60 s).
    let short = JwksServer::start(&[interop_jwk("ec256")]).await;
    short.update(|s| s.cache_control = Some("max-age=5".into()));
    remote_client(&srv, "short", &short.url()).await;
    assert_eq!(auth_status(&srv, "short", &ec).await, StatusCode::OK);
    assert_eq!(short.hits(), 1);
    let view = cached_view(&srv, "short").await;
    assert_eq!(
        rfc3339(&view["expires_at"]) - rfc3339(&view["fetched_at"]),
        secs(60),
        "max-age=5 clamped to 60 s: {view}"
    );
    srv.clock.advance(secs(30));
    assert_eq!(auth_status(&srv, "short", &ec).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(short.hits(), 1, "30 s after the fetch is within the clamped TTL");
    srv.clock.advance(secs(31));
    assert_eq!(auth_status(&srv, "short", &ec).await, StatusCode::OK);
    assert_eq!(short.hits(), 2, "fetched again once the 60 s passed");

    // max-age above the maximum TTL counts as the maximum (1 h).
    let long = JwksServer::start(&[interop_jwk("ec256")]).await;
    long.update(|s| s.cache_control = Some("public, max-age=86400".into()));
    remote_client(&srv, "long", &long.url()).await;
    assert_eq!(auth_status(&srv, "long", &ec).await, StatusCode::OK);
    let view = cached_view(&srv, "long").await;
    assert_eq!(
        rfc3339(&view["expires_at"]) - rfc3339(&view["fetched_at"]),
        secs(3600),
        "max-age=86400 clamped to 1 h: {view}"
    );
    srv.clock.advance(secs(3601));
    assert_eq!(auth_status(&srv, "long", &ec).await, StatusCode::OK);
    assert_eq!(long.hits(), 2, "fetched again after the 1 h maximum");
}

// ---- 3. refresh ahead ----

#[tokio::test]
async fn refresh_ahead_serves_from_cache_and_fetches_in_background() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    jwks.update(|s| s.cache_control = Some("max-age=100".into()));
    remote_client(&srv, "ahead", &jwks.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "ahead", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);

    // Before the last fifth of the TTL: no background fetch.
    srv.clock.advance(secs(75));
    assert_eq!(auth_status(&srv, "ahead", &ec).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(jwks.hits(), 1, "no refresh before 80 % of the TTL");

    // In the last fifth: answered from cache at once, while the URL is asked in the background.
    let (new, new_jwk) = Signer::fresh();
    jwks.set_keys(&[interop_jwk("ec256"), new_jwk]);
    jwks.update(|s| s.delay = std::time::Duration::from_millis(1500));
    srv.clock.advance(secs(10));
    let started = std::time::Instant::now();
    assert_eq!(auth_status(&srv, "ahead", &ec).await, StatusCode::OK);
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(1000),
        "the request waited on the fetch: {took:?}"
    );
    assert_eq!(
        wait_hits(&jwks, 2, std::time::Duration::from_secs(2)).await,
        2,
        "a background refresh was made"
    );
    // Once the background fetch has landed, the new key is known without another fetch.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let view = cached_view(&srv, "ahead").await;
        let kids: Vec<&str> = view["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        if kids.contains(&new.kid.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "background refresh never landed: {view}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    jwks.update(|s| s.delay = std::time::Duration::ZERO);
    assert_eq!(auth_status(&srv, "ahead", &new).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 2, "the new key came with the background refresh");
}

// ---- 4. flood ----

#[tokio::test]
async fn flood_of_random_kids_costs_at_most_one_fetch_per_cooldown() {
    // 1000 failures from one address, on purpose: the failure limiter must not answer them.
    let srv = TestServer::start_with(|c| {
        open_network(c);
        allow_many_auth_failures(c);
    })
    .await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "flood", &jwks.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "flood", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);
    let snapshot = srv.snapshot().await;
    let replay = srv.replay_entries().await;

    let assertions: Vec<String> = (0..1000)
        .map(|_| {
            ec.with_kid(&keyward_types::random::uuid().unwrap().to_string())
                .assertion(&srv, "flood")
        })
        .collect();
    let results = futures::future::join_all(assertions.iter().map(|a| async {
        let resp = srv.token_assertion(a, &[]).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        (status, body)
    }))
    .await;
    let fetches_in_flood = jwks.hits() - 1;
    println!(
        "flood: 1000 random-kid assertions caused {fetches_in_flood} JWKS fetch(es) (total hits {})",
        jwks.hits()
    );
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "invalid_client", "{body}");
    }
    assert!(
        jwks.hits() <= 2,
        "at most one fetch within the cooldown, got {}",
        jwks.hits()
    );
    assert_eq!(srv.snapshot().await, snapshot);
    assert_eq!(srv.replay_entries().await, replay);

    // After the cooldown, an unknown kid may refetch once more — once.
    let before = jwks.hits();
    srv.clock.advance(secs(11));
    assert_rejected(&srv, "flood", &ec.with_kid("unknown-1")).await;
    assert_eq!(jwks.hits(), before + 1, "one refetch after the cooldown");
    assert_rejected(&srv, "flood", &ec.with_kid("unknown-2")).await;
    assert_eq!(jwks.hits(), before + 1, "and not another within the new cooldown");
    // The known key is unaffected.
    assert_eq!(auth_status(&srv, "flood", &ec).await, StatusCode::OK);
}

// ---- 5. slow server ----

#[tokio::test]
async fn slow_jwks_server_times_out_and_client_is_refused() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
        c.jwks_timeout_ms = 300;
    })
    .await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    jwks.update(|s| s.delay = std::time::Duration::from_secs(2));
    remote_client(&srv, "slow", &jwks.url()).await;
    let m = srv.metrics().await;
    let (timeouts, unavailable) = (
        metric(&m, &fetch_series("jwks.timeout")),
        metric(&m, JWKS_UNAVAILABLE),
    );

    let started = std::time::Instant::now();
    assert_rejected(&srv, "slow", &Signer::ec256()).await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1900),
        "gave up before the 2 s answer: {:?}",
        started.elapsed()
    );
    assert_eq!(jwks.hits(), 1);
    let m = srv.metrics().await;
    assert!(metric(&m, &fetch_series("jwks.timeout")) >= timeouts + 1.0, "{m}");
    assert!(metric(&m, JWKS_UNAVAILABLE) >= unavailable + 1.0, "{m}");
    assert_eq!(cached_view(&srv, "slow").await["last_error"], "jwks.timeout");
}

// ---- 6. body cap ----

#[tokio::test]
async fn jwks_body_over_the_cap_is_refused() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
        c.jwks_max_bytes = 1024;
    })
    .await;
    let jwks = JwksServer::start(&[]).await;
    let big = json!({"keys": [interop_jwk("ec256")], "padding": "x".repeat(2000)}).to_string();
    assert!(big.len() > 1024);
    jwks.update(|s| s.body = big);
    remote_client(&srv, "big", &jwks.url()).await;
    let before = metric(&srv.metrics().await, &fetch_series("jwks.too_large"));
    let ec = Signer::ec256();
    assert_rejected(&srv, "big", &ec).await;
    assert_eq!(jwks.hits(), 1);
    assert!(metric(&srv.metrics().await, &fetch_series("jwks.too_large")) >= before + 1.0);
    assert_eq!(cached_view(&srv, "big").await["last_error"], "jwks.too_large");

    // The same key in a document under the cap works (after the failure's cooldown).
    jwks.set_keys(&[interop_jwk("ec256")]);
    srv.clock.advance(secs(11));
    assert_eq!(auth_status(&srv, "big", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 2);
}

// ---- 7. key count ----

#[tokio::test]
async fn more_than_100_keys_refused_100_accepted() {
    let srv = open_server().await;
    let many = JwksServer::start(&ec256_copies(101)).await;
    let hundred = JwksServer::start(&ec256_copies(100)).await;
    remote_client(&srv, "many", &many.url()).await;
    remote_client(&srv, "hundred", &hundred.url()).await;
    let before = metric(&srv.metrics().await, &fetch_series("jwks.too_many_keys"));
    let ec = Signer::ec256();

    assert_rejected(&srv, "many", &ec.with_kid("k0")).await;
    assert_eq!(many.hits(), 1);
    assert!(metric(&srv.metrics().await, &fetch_series("jwks.too_many_keys")) >= before + 1.0);
    assert_eq!(
        cached_view(&srv, "many").await["last_error"],
        "jwks.too_many_keys"
    );

    assert_eq!(
        auth_status(&srv, "hundred", &ec.with_kid("k99")).await,
        StatusCode::OK
    );
    assert_eq!(
        auth_status(&srv, "hundred", &ec.with_kid("k0")).await,
        StatusCode::OK
    );
    assert_eq!(hundred.hits(), 1);
}

// ---- 8. private / symmetric material ----

#[tokio::test]
async fn private_or_symmetric_key_material_rejects_the_whole_document() {
    let srv = open_server().await;
    let mut private_rsa = interop_jwk("rsa2048");
    private_rsa["d"] = json!("AQIDBAUGBwgJCgsMDQ4PEA");
    let with_private = JwksServer::start(&[interop_jwk("ec256"), private_rsa]).await;
    let with_oct = JwksServer::start(&[
        interop_jwk("ec256"),
        json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}),
    ])
    .await;
    remote_client(&srv, "priv", &with_private.url()).await;
    remote_client(&srv, "oct", &with_oct.url()).await;
    let before = metric(&srv.metrics().await, &fetch_series("jwks.private_key_material"));
    let ec = Signer::ec256();

    assert_rejected(&srv, "priv", &ec).await;
    assert_eq!(with_private.hits(), 1);
    assert_eq!(
        cached_view(&srv, "priv").await["last_error"],
        "jwks.private_key_material"
    );
    assert_rejected(&srv, "oct", &ec).await;
    assert_eq!(with_oct.hits(), 1);
    assert_eq!(
        cached_view(&srv, "oct").await["last_error"],
        "jwks.private_key_material"
    );
    assert!(metric(&srv.metrics().await, &fetch_series("jwks.private_key_material")) >= before + 2.0);
    assert_eq!(
        cached_view(&srv, "priv").await["keys"],
        json!([]),
        "nothing of the document kept"
    );
}

// ---- 9. failing refresh ----

#[tokio::test]
async fn http_500_keeps_last_good_keys_until_max_staleness() {
    let srv = TestServer::start_with(|c| {
        c.jwks_allow_http = true;
        c.jwks_allow_private_networks = true;
        c.jwks_max_staleness = 600;
    })
    .await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "stale", &jwks.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "stale", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);

    jwks.update(|s| s.status = 500);
    let http_status = metric(&srv.metrics().await, &fetch_series("jwks.http_status"));
    srv.clock.advance(secs(301)); // past the default TTL (300 s)
    assert_eq!(
        auth_status(&srv, "stale", &ec).await,
        StatusCode::OK,
        "last good keys kept"
    );
    assert_eq!(jwks.hits(), 2, "the expired set was refreshed (and that failed)");
    assert!(metric(&srv.metrics().await, &fetch_series("jwks.http_status")) >= http_status + 1.0);
    // Within the cooldown after the failure, requests do not refetch.
    assert_eq!(auth_status(&srv, "stale", &ec).await, StatusCode::OK);
    srv.clock.advance(secs(4));
    assert_eq!(auth_status(&srv, "stale", &ec).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(jwks.hits(), 2);

    // Still within the maximum staleness (590 s after the last success).
    srv.clock.advance(secs(285));
    assert_eq!(auth_status(&srv, "stale", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 3);

    // Past max staleness plus the cooldown: fail closed.
    srv.clock.advance(secs(21));
    let unavailable = metric(&srv.metrics().await, JWKS_UNAVAILABLE);
    assert_rejected(&srv, "stale", &ec).await;
    assert_eq!(jwks.hits(), 4);
    assert!(metric(&srv.metrics().await, JWKS_UNAVAILABLE) >= unavailable + 1.0);
    srv.clock.advance(secs(1));
    assert_rejected(&srv, "stale", &ec).await;
    assert_eq!(jwks.hits(), 4, "no refetch within the cooldown after a failure");

    // The URL recovers: after the cooldown, the keys are fetched and verify again.
    jwks.update(|s| s.status = 200);
    srv.clock.advance(secs(10));
    assert_eq!(auth_status(&srv, "stale", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 5);
}

#[tokio::test]
async fn failing_refresh_retries_at_most_once_per_cooldown() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "retry", &jwks.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "retry", &ec).await, StatusCode::OK);
    jwks.update(|s| s.status = 500);
    srv.clock.advance(secs(301));

    // A request every second for 40 s while the URL keeps failing; note when fetches happen.
    let mut fetch_times: Vec<i64> = Vec::new();
    let mut hits = jwks.hits();
    for t in 0..40 {
        assert_eq!(auth_status(&srv, "retry", &ec).await, StatusCode::OK, "at +{t} s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let now = jwks.hits();
        for _ in hits..now {
            fetch_times.push(t);
        }
        hits = now;
        srv.clock.advance(secs(1));
    }
    println!("failing refresh: fetches at +{fetch_times:?} s");
    assert_eq!(
        fetch_times.first(),
        Some(&0),
        "the expired set is refreshed at once"
    );
    for pair in fetch_times.windows(2) {
        assert!(
            pair[1] - pair[0] >= 10,
            "retried {} s after a failure, before the 10 s cooldown: fetches at {fetch_times:?}",
            pair[1] - pair[0]
        );
    }
    assert!(
        fetch_times.len() >= 3,
        "retries do happen after the cooldown: {fetch_times:?}"
    );
}

// ---- 10. redirects ----

#[tokio::test]
async fn redirect_is_not_followed() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    let other = format!("http://{}/other", jwks.addr);
    jwks.update(|s| {
        s.status = 302;
        s.location = Some(other);
    });
    remote_client(&srv, "redir", &jwks.url()).await;
    let before = metric(&srv.metrics().await, &fetch_series("jwks.redirect"));
    assert_rejected(&srv, "redir", &Signer::ec256()).await;
    assert_eq!(jwks.hits(), 1, "/other was never fetched");
    assert!(metric(&srv.metrics().await, &fetch_series("jwks.redirect")) >= before + 1.0);
    assert_eq!(cached_view(&srv, "redir").await["last_error"], "jwks.redirect");
}

// ---- 11. literal addresses at registration ----

async fn assert_jwks_uri_refused(srv: &TestServer, id: &str, uri: &str) {
    let snapshot = srv.snapshot().await;
    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/clients",
            Some(json!({"client_id": id, "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{uri}: {body}");
    assert_eq!(body["field"], "jwks_uri", "{uri}: {body}");
    assert_eq!(srv.snapshot().await, snapshot, "{uri}: nothing stored");
    assert!(!srv.client_exists(id).await);
}

#[tokio::test]
async fn loopback_and_private_jwks_uris_refused_by_default() {
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    let port = jwks.addr.port();
    let strict = TestServer::start().await;
    for uri in [
        jwks.url(),
        "https://127.0.0.1/jwks".to_owned(),
        "https://10.0.0.1/jwks".to_owned(),
        "https://169.254.169.254/jwks".to_owned(),
        "https://[::1]/jwks".to_owned(),
        "https://localhost/jwks".to_owned(),
        "https://[::ffff:127.0.0.1]/jwks".to_owned(),
        "https://0.0.0.0/jwks".to_owned(),
        "https://2130706433/jwks".to_owned(),
        "http://example.com/jwks".to_owned(),
    ] {
        assert_jwks_uri_refused(&strict, "strict", &uri).await;
    }
    // A public https URL is accepted (registration does not fetch).
    remote_client(&strict, "public", "https://example.com/jwks").await;

    // http allowed, private networks still not.
    let http_only = TestServer::start_with(|c| c.jwks_allow_http = true).await;
    for uri in [
        jwks.url(),
        format!("http://localhost:{port}/jwks"),
        format!("http://0.0.0.0:{port}/jwks"),
        format!("http://[::1]:{port}/jwks"),
    ] {
        assert_jwks_uri_refused(&http_only, "httponly", &uri).await;
    }
    assert_eq!(jwks.hits(), 0);
}

// ---- 12. names that resolve to loopback ----

/// A host name (not an IP literal, not `localhost`) that resolves to 127.0.0.1 here: `localhost.`
/// (trailing dot) or this machine's host name, which `/etc/hosts` often maps to loopback.
async fn loopback_name() -> Option<String> {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    for name in ["localhost.".to_owned(), hostname] {
        if name.is_empty() || name.eq_ignore_ascii_case("localhost") {
            continue;
        }
        let hits_loopback = tokio::net::lookup_host((name.as_str(), 80))
            .await
            .map(|mut addrs| addrs.any(|a| a.ip() == std::net::Ipv4Addr::LOCALHOST))
            .unwrap_or(false);
        if hits_loopback {
            return Some(name);
        }
    }
    None
}

#[tokio::test]
async fn name_resolving_to_loopback_is_refused_at_fetch() {
    let Some(name) = loopback_name().await else {
        println!("SKIP: no host name resolves to 127.0.0.1 here");
        return;
    };
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    let uri = format!("http://{name}:{}/jwks", jwks.addr.port());
    let ec = Signer::ec256();

    // http allowed, private networks not: the name passes the literal check, the fetch must not.
    let srv = TestServer::start_with(|c| c.jwks_allow_http = true).await;
    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/clients",
            Some(
                json!({"client_id": "dns", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri}),
            ),
        )
        .await;
    println!("registration of {uri}: {status} {body}");
    if status == StatusCode::BAD_REQUEST {
        assert_eq!(body["field"], "jwks_uri", "{body}");
        assert!(!srv.client_exists("dns").await);
    } else {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let before = metric(&srv.metrics().await, &fetch_series("jwks.private_address"));
        assert_rejected(&srv, "dns", &ec).await;
        let view = cached_view(&srv, "dns").await;
        println!("fetch of {uri}: {view}");
        assert_eq!(view["last_error"], "jwks.private_address", "{view}");
        assert!(metric(&srv.metrics().await, &fetch_series("jwks.private_address")) >= before + 1.0);
    }
    assert_eq!(jwks.hits(), 0, "the loopback JWKS server was never reached");

    // Control: with private networks allowed the same URL is fetched, so the refusal above
    // came from the guard, not from the name being unreachable.
    let open = open_server().await;
    remote_client(&open, "dns", &uri).await;
    assert_eq!(auth_status(&open, "dns", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);
}

// ---- 13. registration rules ----

#[tokio::test]
async fn jwks_uri_registration_rules() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    let keyed = srv.key_client("keyed", &[interop_jwk("ec256")], json!({})).await;
    let snapshot = srv.snapshot().await;

    let cases = [
        json!({"client_id": "both", "token_endpoint_auth_method": "private_key_jwt",
               "jwks": {"keys": [interop_jwk("ec256")]}, "jwks_uri": jwks.url()}),
        json!({"client_id": "basic", "token_endpoint_auth_method": "client_secret_basic", "jwks_uri": jwks.url()}),
        json!({"client_id": "basic2", "jwks_uri": jwks.url()}),
    ];
    for meta in cases {
        let (status, body) = srv
            .admin(reqwest::Method::POST, "/admin/clients", Some(meta.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{meta}: {body}");
        assert_eq!(body["error"], "invalid_client_metadata", "{body}");
        assert_eq!(body["field"], "jwks_uri", "{body}");
    }
    let (status, body) = srv
        .admin(
            reqwest::Method::PATCH,
            &format!("/admin/clients/{keyed}"),
            Some(json!({"jwks_uri": jwks.url()})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");
    assert_eq!(body["field"], "jwks_uri", "{body}");
    assert_eq!(srv.snapshot().await, snapshot, "nothing stored or changed");
    for id in ["both", "basic", "basic2"] {
        assert!(!srv.client_exists(id).await, "{id}");
    }
    // The keyed client still authenticates with its registered key.
    assert_eq!(auth_status(&srv, &keyed, &Signer::ec256()).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 0);
}

// ---- 14. cache clear ----

#[tokio::test]
async fn cache_clear_for_one_client_or_all() {
    let srv = open_server().await;
    let ja = JwksServer::start(&[interop_jwk("ec256")]).await;
    let jb = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "a", &ja.url()).await;
    remote_client(&srv, "b", &jb.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "a", &ec).await, StatusCode::OK);
    assert_eq!(auth_status(&srv, "b", &ec).await, StatusCode::OK);
    assert_eq!((ja.hits(), jb.hits()), (1, 1));

    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/keys-cache/clear",
            Some(json!({"client_id": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"cleared_urls": 1}));
    assert_eq!(cached_view(&srv, "a").await["cached"], false);
    assert_eq!(cached_view(&srv, "b").await["cached"], true);
    assert_eq!(auth_status(&srv, "a", &ec).await, StatusCode::OK);
    assert_eq!(auth_status(&srv, "b", &ec).await, StatusCode::OK);
    assert_eq!((ja.hits(), jb.hits()), (2, 1), "only a refetched");

    let (status, body) = srv
        .admin(reqwest::Method::POST, "/admin/keys-cache/clear", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"cleared_urls": 2}));
    assert_eq!(auth_status(&srv, "a", &ec).await, StatusCode::OK);
    assert_eq!(auth_status(&srv, "b", &ec).await, StatusCode::OK);
    assert_eq!((ja.hits(), jb.hits()), (3, 2), "both refetched");

    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/keys-cache/clear",
            Some(json!({"client_id": "nobody"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (basic, _) = srv.basic_client().await;
    let (status, body) = srv
        .admin(
            reqwest::Method::POST,
            "/admin/keys-cache/clear",
            Some(json!({"client_id": basic})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!((ja.hits(), jb.hits()), (3, 2));

    let audit = srv
        .storage()
        .await
        .list_audit(&keyward_storage::AuditQuery::newest(500))
        .await
        .unwrap();
    let clears: Vec<_> = audit
        .iter()
        .filter(|r| r.event.action == "keys_cache.clear" && r.event.outcome == "success")
        .map(|r| (r.event.target.clone(), r.event.detail["cleared_urls"].clone()))
        .collect();
    assert_eq!(clears.len(), 2, "{clears:?}");
    assert!(clears.contains(&("a".to_owned(), json!(1))), "{clears:?}");
    assert!(clears.contains(&("*".to_owned(), json!(2))), "{clears:?}");
    assert!(
        audit
            .iter()
            .any(|r| r.event.action == "keys_cache.clear" && r.event.outcome != "success"),
        "refused clears are audited too"
    );
}

// ---- 15. admin view ----

#[tokio::test]
async fn admin_view_of_cached_keys() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256"), interop_jwk("ed25519")]).await;
    remote_client(&srv, "view", &jwks.url()).await;
    let view = cached_view(&srv, "view").await;
    assert_eq!(view, json!({"jwks_uri": jwks.url(), "cached": false}));
    assert_eq!(jwks.hits(), 0, "viewing does not fetch");

    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "view", &ec).await, StatusCode::OK);
    let fetched = now_of(&srv);
    let view = cached_view(&srv, "view").await;
    assert_eq!(view["cached"], true, "{view}");
    assert_eq!(view["jwks_uri"], jwks.url());
    let kids: Vec<&str> = view["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(
        kids,
        [
            interop_jwk("ec256")["kid"].as_str().unwrap(),
            interop_jwk("ed25519")["kid"].as_str().unwrap()
        ]
    );
    let ms = time::Duration::milliseconds(1);
    assert!((rfc3339(&view["fetched_at"]) - fetched).abs() < ms, "{view}");
    assert!((rfc3339(&view["last_success_at"]) - fetched).abs() < ms, "{view}");
    assert!(
        (rfc3339(&view["expires_at"]) - (fetched + secs(300))).abs() < ms,
        "{view}"
    );
    assert_eq!(view["last_error"], Value::Null);

    // A failed refresh: the old keys stay, with the error and the time of the last success.
    jwks.update(|s| s.status = 503);
    srv.clock.advance(secs(301));
    assert_eq!(auth_status(&srv, "view", &ec).await, StatusCode::OK);
    let view = cached_view(&srv, "view").await;
    assert_eq!(view["last_error"], "jwks.http_status", "{view}");
    assert!((rfc3339(&view["last_success_at"]) - fetched).abs() < ms, "{view}");
    assert!((rfc3339(&view["fetched_at"]) - now_of(&srv)).abs() < ms, "{view}");
    assert_eq!(view["keys"].as_array().map(Vec::len), Some(2), "{view}");
}

// ---- 16. shared URL ----

#[tokio::test]
async fn clients_sharing_a_jwks_uri_share_one_cache_entry() {
    let srv = open_server().await;
    let jwks = JwksServer::start(&[interop_jwk("ec256")]).await;
    remote_client(&srv, "one", &jwks.url()).await;
    remote_client(&srv, "two", &jwks.url()).await;
    let ec = Signer::ec256();
    assert_eq!(auth_status(&srv, "one", &ec).await, StatusCode::OK);
    assert_eq!(
        cached_view(&srv, "two").await["cached"],
        true,
        "two sees one's fetch"
    );
    assert_eq!(auth_status(&srv, "two", &ec).await, StatusCode::OK);
    assert_eq!(auth_status(&srv, "one", &ec).await, StatusCode::OK);
    assert_eq!(jwks.hits(), 1);
}
