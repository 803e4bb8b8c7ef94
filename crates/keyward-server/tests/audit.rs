//! The audit log records what changed, with enough to see who may now do what: a client's
//! method, grants and scope at creation, old and new values of each changed field, every
//! signing-key creation, rotation, retirement and deletion; and `GET /admin/audit` filters by
//! client, action and time and pages newest first with a cursor that stays put under inserts.
//! Issued tokens and admin calls are logged: tokens by `jti`, never by value.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{logs::logs, server::*};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn client_create_records_method_grants_and_scope() {
    let srv = TestServer::start().await;
    srv.create_client(json!({"client_id": "ops-bot", "scope": "read keyward:admin"}))
        .await;
    let events = audit_events(&srv, "client_id=ops-bot&action=client.create").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["actor"], ADMIN_ID);
    assert_eq!(e["outcome"], "success");
    assert_eq!(e["detail"]["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(e["detail"]["grant_types"], json!(["client_credentials"]));
    let mut scope: Vec<&str> = e["detail"]["scope"].as_str().unwrap().split(' ').collect();
    scope.sort_unstable();
    assert_eq!(
        scope,
        ["keyward:admin", "read"],
        "granting keyward:admin is visible"
    );
    assert!(
        !e.to_string().contains("secret\":\""),
        "no secret value recorded: {e}"
    );
}

#[tokio::test]
async fn client_update_records_old_and_new_value_of_each_changed_field() {
    let srv = TestServer::start().await;
    srv.create_client(json!({"client_id": "c1", "scope": "read", "client_name": "One"}))
        .await;
    let (status, body) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/c1",
            Some(json!({"scope": "read write", "client_name": "One", "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = audit_events(&srv, "client_id=c1&action=client.update").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let changes = &events[0]["detail"]["changes"];
    assert_eq!(changes["scope"], json!({"old": "read", "new": "read write"}));
    assert_eq!(changes["enabled"], json!({"old": true, "new": false}));
    assert!(
        changes.get("client_name").is_none(),
        "a value sent unchanged is not a change: {changes}"
    );
    assert_eq!(changes.as_object().unwrap().len(), 2, "{changes}");
}

#[tokio::test]
async fn first_signing_key_is_audited_as_created_at_start() {
    let srv = TestServer::start().await;
    let events = audit_events(&srv, "action=signing_key.").await;
    assert_eq!(actions(&events), ["signing_key.create"], "{events:?}");
    let e = &events[0];
    assert_eq!(e["actor"], "keyward-serve");
    assert_eq!(e["detail"]["alg"], "ES256");
    let kid = e["target"].as_str().unwrap();
    assert_eq!(e["detail"]["kid"], kid);
    let jwks = srv.get_json("/jwks").await;
    assert_eq!(
        jwks["keys"][0]["kid"], kid,
        "the audited key is the published one"
    );
}

#[tokio::test]
async fn cli_rotation_is_audited_as_rotate_and_retire() {
    let srv = TestServer::start().await;
    let old = audit_events(&srv, "action=signing_key.create").await[0]["target"]
        .as_str()
        .unwrap()
        .to_owned();
    let new = keyward_app::rotate_signing_key(&srv.config, None, &srv.clock)
        .await
        .unwrap();
    let events = audit_events(&srv, "action=signing_key.").await;
    assert_eq!(
        actions(&events),
        ["signing_key.retire", "signing_key.rotate", "signing_key.create"],
        "newest first: {events:?}"
    );
    let (retire, rotate) = (&events[0], &events[1]);
    assert_eq!(rotate["target"], new.as_str());
    assert_eq!(rotate["actor"], "keyward-cli");
    assert_eq!(rotate["detail"]["alg"], "ES256");
    assert_eq!(rotate["detail"]["replaces"], json!([old]));
    assert_eq!(retire["target"], old.as_str());
    assert_eq!(retire["detail"]["kid"], old.as_str());
    assert_eq!(retire["detail"]["alg"], "ES256");
    assert_eq!(retire["detail"]["replaced_by"], new.as_str());
    assert!(retire["detail"]["published_until"].is_string(), "{retire}");
}

#[tokio::test]
async fn retired_key_removal_is_audited_as_delete() {
    let srv = TestServer::start().await;
    let first = audit_events(&srv, "action=signing_key.create").await[0]["target"]
        .as_str()
        .unwrap()
        .to_owned();
    keyward_app::rotate_signing_key(&srv.config, None, &srv.clock)
        .await
        .unwrap();
    // Past the first key's publication (max_access_token_lifetime), the next write removes it.
    let lifetime = i64::from(srv.config.max_access_token_lifetime);
    srv.clock.advance(time::Duration::seconds(lifetime + 1));
    keyward_app::rotate_signing_key(&srv.config, None, &srv.clock)
        .await
        .unwrap();
    let deleted = audit_events(&srv, "action=signing_key.delete").await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["target"], first.as_str());
    assert_eq!(deleted[0]["detail"]["alg"], "ES256");
}

#[tokio::test]
async fn audit_filters_by_client_action_and_time() {
    let srv = TestServer::start().await;
    // After the bootstrap admin client's creation at the start.
    srv.clock.advance(time::Duration::seconds(10));
    let early = rfc3339_from_now(&srv, 0);
    srv.create_client(json!({"client_id": "a", "scope": "read"}))
        .await;
    srv.clock.advance(time::Duration::seconds(100));
    let middle = rfc3339_from_now(&srv, 0);
    srv.create_client(json!({"client_id": "b", "scope": "read"}))
        .await;
    let (status, _) = srv
        .admin(
            Method::PATCH,
            "/admin/clients/a",
            Some(json!({"scope": "read write"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let targets = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e["action"].as_str().unwrap(),
                    e["target"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        targets(audit_events(&srv, "client_id=a").await),
        ["client.update:a", "client.create:a"]
    );
    assert_eq!(
        targets(audit_events(&srv, "action=client.create&client_id=b").await),
        ["client.create:b"]
    );
    assert_eq!(
        targets(audit_events(&srv, "action=client.").await),
        // The bootstrap admin client, created at the first start, is audited too.
        [
            "client.update:a",
            "client.create:b",
            "client.create:a",
            "client.create:keyward-admin"
        ]
    );
    let q = |since: &str, until: &str| {
        format!(
            "action=client.&since={}&until={}",
            form_escape(since),
            form_escape(until)
        )
    };
    assert_eq!(
        targets(audit_events(&srv, &q(&early, &middle)).await),
        ["client.create:a"],
        "until is exclusive"
    );
    let late = rfc3339_from_now(&srv, 1);
    assert_eq!(
        targets(audit_events(&srv, &q(&middle, &late)).await),
        ["client.update:a", "client.create:b"],
        "since is inclusive"
    );
}

#[tokio::test]
async fn audit_pages_newest_first_with_a_cursor_stable_under_inserts() {
    let srv = TestServer::start().await;
    for i in 0..5 {
        srv.create_client(json!({"client_id": format!("p{i}"), "scope": "read"}))
            .await;
    }
    let (status, page1) = audit_query(&srv, "action=client.create&limit=2").await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    let ids = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["target"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&page1), ["p4", "p3"]);
    let cursor = page1["next_cursor"].as_str().unwrap().to_owned();
    // Inserts after the first page neither shift nor repeat what the cursor reads.
    srv.create_client(json!({"client_id": "late", "scope": "read"}))
        .await;
    let (_, page2) = audit_query(&srv, &format!("action=client.create&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&page2), ["p2", "p1"]);
    let cursor = page2["next_cursor"].as_str().unwrap().to_owned();
    let (_, page3) = audit_query(&srv, &format!("action=client.create&limit=2&cursor={cursor}")).await;
    // The bootstrap admin client's creation, made at the first start, is the oldest.
    assert_eq!(ids(&page3), ["p0", "keyward-admin"]);
    let cursor = page3["next_cursor"].as_str().unwrap().to_owned();
    let (_, page4) = audit_query(&srv, &format!("action=client.create&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&page4), Vec::<String>::new());
    assert!(page4["next_cursor"].is_null(), "last page: {page4}");
}

#[tokio::test]
async fn issued_tokens_are_logged_with_jti_and_never_the_token() {
    let logs = logs();
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "logged-client", "scope": "read write"}))
        .await;
    let resp = srv.token_basic(&id, &secret, &[CC, ("scope", "read")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let token = resp.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let jti = jwt_parts(&token).1["jti"].as_str().unwrap().to_owned();
    let line = logs.wait_line(&["access token issued", &jti]).await;
    assert!(line.contains("INFO"), "{line}");
    assert!(line.contains("client_id=logged-client"), "{line}");
    assert!(
        line.contains("method=\"client_secret_basic\"") || line.contains("method=client_secret_basic"),
        "{line}"
    );
    assert!(line.contains("scope=read"), "{line}");
    assert!(line.contains("lifetime=300"), "{line}");
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !logs.text().contains(signature),
        "the token itself is never logged"
    );
    // The admin's own tokens are logged the same way.
    let admin = srv.admin_token().await;
    let admin_jti = jwt_parts(&admin).1["jti"].as_str().unwrap().to_owned();
    let line = logs.wait_line(&["access token issued", &admin_jti]).await;
    assert!(line.contains("scope=keyward:admin"), "{line}");
    assert!(!logs.text().contains(admin.rsplit('.').next().unwrap()));
}

#[tokio::test]
async fn admin_calls_are_logged_with_caller_status_and_latency() {
    let logs = logs();
    let srv = TestServer::start().await;
    let (status, _) = srv
        .admin(Method::GET, "/admin/clients/no-such-client-xyz", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let line = logs
        .wait_line(&["admin call", "path=\"/admin/clients/no-such-client-xyz\""])
        .await;
    assert!(line.contains("caller=keyward-admin"), "{line}");
    assert!(line.contains("status=404"), "{line}");
    assert!(line.contains("method=GET"), "{line}");
    assert!(line.contains("latency_ms="), "{line}");
}
