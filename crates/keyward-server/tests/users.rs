//! Users over the admin API (DESIGN.md "Users, sign-in and the authorization code flow"): the
//! operations, one test per rule a request can break (status, error, field, and that nothing
//! was stored or changed), sessions ended by the changes that must end them, and no password
//! or hash in any answer, audit row or Debug output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_storage::{AuditQuery, SessionRecord};
use keyward_testkit::server::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

/// The password of the bootstrap user `admin` in these tests.
const ADMIN_PASSWORD: &str = "bootstrap-admin-password";

async fn server() -> TestServer {
    TestServer::start_with(|c| c.admin_password = Some(ADMIN_PASSWORD.into())).await
}

/// Every user as stored (hash included) and the number of successful audited changes: equal
/// before and after a refused request when nothing was stored or changed.
async fn users_snapshot(srv: &TestServer) -> String {
    let s = srv.storage().await;
    let mut out = String::new();
    for u in s.list_users(None, 10_000).await.unwrap() {
        out.push_str(&format!(
            "{} {} {:?} {:?} {:?} {} {}\n",
            u.username, u.password_hash, u.name, u.email, u.roles, u.enabled, u.updated_at
        ));
    }
    let audit = s.list_audit(&AuditQuery::newest(500)).await.unwrap();
    let changes = audit.iter().filter(|r| r.event.outcome == "success").count();
    out.push_str(&format!("successful changes: {changes}\n"));
    out
}

/// `method path body` must be refused with `status` and `error` (naming `field` when given),
/// and change nothing.
async fn assert_refused(
    srv: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: StatusCode,
    error: &str,
    field: Option<&str>,
) -> Value {
    let before = users_snapshot(srv).await;
    let (got, answer) = srv.admin(method, path, body.clone()).await;
    assert_eq!(got, status, "{body:?} → {answer}");
    assert_eq!(answer["error"], error, "{answer}");
    if let Some(field) = field {
        assert_eq!(answer["field"], field, "{answer}");
    }
    assert!(
        answer["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{answer}"
    );
    assert_eq!(
        users_snapshot(srv).await,
        before,
        "a refused request changed users"
    );
    answer
}

async fn create(srv: &TestServer, body: Value) -> Value {
    let (status, user) = srv.admin(Method::POST, "/admin/users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    user
}

#[tokio::test]
async fn creates_lists_reads_updates_and_deletes_users() {
    let srv = server().await;
    let created = create(
        &srv,
        json!({"username": "alice", "password": "alice-password", "name": "Alice", "email": "alice@example.com"}),
    )
    .await;
    assert_eq!(created["username"], "alice");
    assert_eq!(created["name"], "Alice");
    assert_eq!(created["email"], "alice@example.com");
    assert_eq!(created["roles"], json!([]));
    assert_eq!(created["enabled"], true);
    create(
        &srv,
        json!({"username": "bob", "password": "bob-password", "roles": ["admin"]}),
    )
    .await;

    let (status, page) = srv.admin(Method::GET, "/admin/users?limit=2", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let names: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "alice"]);
    assert_eq!(page["next_after"], "alice");
    let (_, rest) = srv
        .admin(Method::GET, "/admin/users?limit=2&after=alice", None)
        .await;
    assert_eq!(rest["users"][0]["username"], "bob");
    assert!(rest.get("next_after").is_none(), "{rest}");

    let (status, read) = srv.admin(Method::GET, "/admin/users/alice", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    let (status, updated) = srv
        .admin(
            Method::PATCH,
            "/admin/users/alice",
            Some(json!({"name": null, "roles": ["admin"], "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(updated.get("name").is_none(), "{updated}");
    assert_eq!(updated["email"], "alice@example.com");
    assert_eq!(updated["roles"], json!(["admin"]));
    assert_eq!(updated["enabled"], false);

    // With bob an enabled admin too, the bootstrap admin may go.
    let (status, _) = srv.admin(Method::DELETE, "/admin/users/admin", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = srv.admin(Method::DELETE, "/admin/users/alice", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = srv.admin(Method::GET, "/admin/users/alice", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");

    let log = srv
        .storage()
        .await
        .list_audit(&AuditQuery::newest(50))
        .await
        .unwrap();
    let alice: Vec<&str> = log
        .iter()
        .filter(|r| r.event.target == "alice")
        .map(|r| r.event.action.as_str())
        .collect();
    assert_eq!(alice, ["user.delete", "user.update", "user.create"]);
}

#[tokio::test]
async fn rejects_short_password() {
    let srv = server().await;
    let body = json!({"username": "carol", "password": "1234567"});
    assert_refused(
        &srv,
        Method::POST,
        "/admin/users",
        Some(body),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some("password"),
    )
    .await;
    assert_refused(
        &srv,
        Method::PATCH,
        "/admin/users/admin",
        Some(json!({"password": "short"})),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some("password"),
    )
    .await;
}

#[tokio::test]
async fn rejects_bad_username() {
    let srv = server().await;
    for username in ["", "has space", "slash/y", "ünï", &"x".repeat(65)] {
        let body = json!({"username": username, "password": "long-enough"});
        assert_refused(
            &srv,
            Method::POST,
            "/admin/users",
            Some(body),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("username"),
        )
        .await;
    }
}

#[tokio::test]
async fn rejects_duplicate_username() {
    let srv = server().await;
    let body = json!({"username": "admin", "password": "another-password"});
    assert_refused(
        &srv,
        Method::POST,
        "/admin/users",
        Some(body),
        StatusCode::CONFLICT,
        "conflict",
        None,
    )
    .await;
}

#[tokio::test]
async fn rejects_unknown_role() {
    let srv = server().await;
    let body = json!({"username": "dave", "password": "dave-password", "roles": ["root"]});
    assert_refused(
        &srv,
        Method::POST,
        "/admin/users",
        Some(body),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some("roles"),
    )
    .await;
    let patch = json!({"roles": ["admin", "root"]});
    assert_refused(
        &srv,
        Method::PATCH,
        "/admin/users/admin",
        Some(patch),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some("roles"),
    )
    .await;
}

#[tokio::test]
async fn rejects_bad_email() {
    let srv = server().await;
    for email in ["no-at-sign", "two@@example.com", "a@b@c"] {
        let body = json!({"username": "erin", "password": "erin-password", "email": email});
        assert_refused(
            &srv,
            Method::POST,
            "/admin/users",
            Some(body),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some("email"),
        )
        .await;
    }
}

#[tokio::test]
async fn rejects_long_name() {
    let srv = server().await;
    let body = json!({"username": "fred", "password": "fred-password", "name": "n".repeat(201)});
    assert_refused(
        &srv,
        Method::POST,
        "/admin/users",
        Some(body),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        Some("name"),
    )
    .await;
}

#[tokio::test]
async fn rejects_unknown_member() {
    let srv = server().await;
    let body = json!({"username": "gina", "password": "gina-password", "is_admin": true});
    let answer = assert_refused(
        &srv,
        Method::POST,
        "/admin/users",
        Some(body),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        None,
    )
    .await;
    assert!(
        answer["error_description"].as_str().unwrap().contains("is_admin"),
        "{answer}"
    );
    let patch = json!({"username": "renamed"});
    assert_refused(
        &srv,
        Method::PATCH,
        "/admin/users/admin",
        Some(patch),
        StatusCode::BAD_REQUEST,
        "invalid_request",
        None,
    )
    .await;
}

#[tokio::test]
async fn last_admin_cannot_be_disabled() {
    let srv = server().await;
    // A user without role admin does not count.
    create(&srv, json!({"username": "helper", "password": "helper-password"})).await;
    let patch = json!({"enabled": false});
    let answer = assert_refused(
        &srv,
        Method::PATCH,
        "/admin/users/admin",
        Some(patch),
        StatusCode::CONFLICT,
        "conflict",
        None,
    )
    .await;
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .contains("last enabled user with role admin"),
        "{answer}"
    );
}

#[tokio::test]
async fn last_admin_cannot_be_deleted() {
    let srv = server().await;
    // A disabled admin does not count.
    create(
        &srv,
        json!({"username": "idle", "password": "idle-password", "roles": ["admin"]}),
    )
    .await;
    let (status, _) = srv
        .admin(
            Method::PATCH,
            "/admin/users/idle",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_refused(
        &srv,
        Method::DELETE,
        "/admin/users/admin",
        None,
        StatusCode::CONFLICT,
        "conflict",
        None,
    )
    .await;
}

#[tokio::test]
async fn last_admin_cannot_lose_role_admin() {
    let srv = server().await;
    let patch = json!({"roles": []});
    assert_refused(
        &srv,
        Method::PATCH,
        "/admin/users/admin",
        Some(patch),
        StatusCode::CONFLICT,
        "conflict",
        None,
    )
    .await;
}

#[tokio::test]
async fn token_without_admin_scope_is_refused() {
    let srv = server().await;
    let (id, secret) = srv
        .create_client(json!({"client_id": "svc-read", "scope": "read"}))
        .await;
    let token = srv.token_for(&id, &secret).await;
    let before = users_snapshot(&srv).await;
    let attempts = [
        (
            Method::POST,
            "/admin/users",
            Some(json!({"username": "mallory", "password": "mallory-password"})),
        ),
        (Method::GET, "/admin/users", None),
        (Method::GET, "/admin/users/admin", None),
        (
            Method::PATCH,
            "/admin/users/admin",
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, "/admin/users/admin", None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = srv.admin_as(&token, method.clone(), path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} → {answer}");
        assert_eq!(answer["error"], "insufficient_scope", "{answer}");
    }
    let (status, _) = srv
        .admin_as("not-a-token", Method::GET, "/admin/users", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(users_snapshot(&srv).await, before);
}

#[tokio::test]
async fn disabling_a_user_or_changing_its_password_ends_its_sessions() {
    let srv = server().await;
    create(&srv, json!({"username": "sam", "password": "sam-password"})).await;
    let storage = srv.storage().await;
    let now = keyward_types::Clock::now(&srv.clock);
    let session = |id: &str| SessionRecord {
        id_hash: id.to_owned(),
        username: "sam".into(),
        created_at: now,
        last_seen: now,
        expires_at: now + Duration::hours(1),
    };
    let cases = [
        ("rename", json!({"name": "Sam"}), false),
        ("password", json!({"password": "sam-new-password"}), true),
        ("disable", json!({"enabled": false}), true),
    ];
    for (id, patch, ends) in cases {
        storage.insert_session(&session(id)).await.unwrap();
        let (status, answer) = srv.admin(Method::PATCH, "/admin/users/sam", Some(patch)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let kept = storage.load_session(id).await.unwrap().is_some();
        assert_eq!(kept, !ends, "{id}: session kept = {kept}");
    }
}

#[tokio::test]
async fn password_and_hash_never_appear_in_answers_audit_or_debug() {
    let srv = server().await;
    let password = "distinctive-password-41";
    let new_password = "distinctive-password-42";
    let mut answers = Vec::new();
    let (_, created) = srv
        .admin(
            Method::POST,
            "/admin/users",
            Some(json!({"username": "pat", "password": password})),
        )
        .await;
    answers.push(created);
    let (_, updated) = srv
        .admin(
            Method::PATCH,
            "/admin/users/pat",
            Some(json!({"password": new_password})),
        )
        .await;
    answers.push(updated);
    // A refused request carrying a password, recorded in the audit log as a failure.
    let (_, refused) = srv
        .admin(
            Method::POST,
            "/admin/users",
            Some(json!({"username": "pat", "password": password})),
        )
        .await;
    answers.push(refused);
    let (_, wrong_type) = srv
        .admin(
            Method::PATCH,
            "/admin/users/pat",
            Some(json!({"password": ["distinctive-password-43"]})),
        )
        .await;
    answers.push(wrong_type);
    answers.push(srv.admin(Method::GET, "/admin/users/pat", None).await.1);
    answers.push(srv.admin(Method::GET, "/admin/users", None).await.1);

    let storage = srv.storage().await;
    let record = storage.load_user("pat").await.unwrap().unwrap();
    assert!(record.password_hash.starts_with("$argon2id$"));
    let audit = storage.list_audit(&AuditQuery::newest(500)).await.unwrap();
    let texts = [
        serde_json::to_string(&answers).unwrap(),
        serde_json::to_string(&audit).unwrap(),
        format!("{record:?}"),
    ];
    let hash_tail = record.password_hash.rsplit('$').next().unwrap().to_owned();
    for text in &texts {
        for secret in [
            password,
            new_password,
            "distinctive-password-43",
            &record.password_hash,
            &hash_tail,
            "$argon2",
        ] {
            assert!(!text.contains(secret), "{secret} appears in: {text}");
        }
    }
    for answer in &answers[..2] {
        assert!(
            answer.get("password").is_none() && answer.get("password_hash").is_none(),
            "{answer}"
        );
    }
    let shown = format!("{:?}", keyward_admin::Password::new(password.into()));
    assert!(!shown.contains(password), "{shown}");
}

#[tokio::test]
async fn bootstrap_creates_the_configured_admin_user_once() {
    let mut srv = TestServer::start_with(|c| {
        c.admin_username = "root@example".into();
        c.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let (status, page) = srv.admin(Method::GET, "/admin/users", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["users"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["users"][0]["username"], "root@example");
    assert_eq!(page["users"][0]["roles"], json!(["admin"]));
    assert_eq!(page["users"][0]["enabled"], true);
    let stored = srv
        .storage()
        .await
        .load_user("root@example")
        .await
        .unwrap()
        .unwrap();
    for (password, matches) in [(ADMIN_PASSWORD, true), ("not-the-password", false)] {
        let password = keyward_admin::Password::new(password.into());
        let verified = keyward_admin::verify_hash(&password, &stored.password_hash)
            .await
            .unwrap();
        assert_eq!(verified, matches);
    }

    // A restart with users present (even with another configured password) creates nothing.
    srv.config.admin_password = Some("a-different-password".into());
    srv.restart().await;
    let again = srv
        .storage()
        .await
        .load_user("root@example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, stored);
    assert_eq!(srv.storage().await.count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn short_configured_admin_password_stops_the_start() {
    let err = start_error(|c| c.admin_password = Some("short".into())).await;
    assert!(err.to_string().contains("admin_password"), "{err}");
}

#[tokio::test]
async fn configured_admin_username_that_breaks_the_rule_stops_the_start() {
    let err = start_error(|c| {
        c.admin_username = "has space".into();
        c.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await;
    let text = err.to_string();
    assert!(
        text.contains("bootstrap admin user") && text.contains("username"),
        "{text}"
    );
}
