//! The admin API doing what it should (DESIGN.md "Interfaces"): registering, reading, listing,
//! changing and deleting clients with RFC 7591 field names, the audit log, the OpenAPI
//! description, and admin access through any client registered with scope `keyward:admin`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use keyward_testkit::server::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

/// Every audit event, newest first, in one page.
async fn audit_events(srv: &TestServer) -> Vec<Value> {
    let (status, body) = srv.admin(Method::GET, "/admin/audit?limit=500", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn rfc3339(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

#[tokio::test]
async fn create_without_client_id_generates_one_and_echoes_metadata() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .post(srv.url("/admin/clients"))
        .bearer_auth(&token)
        .json(&json!({"client_name": "Billing service", "scope": "read write"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();

    let id = body["client_id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_ne!(id, ADMIN_ID);
    assert_eq!(location, format!("/admin/clients/{id}"));
    let secret = body["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 32, "secret too short: {secret}");
    assert_eq!(body["client_secret_expires_at"], 0);
    assert_eq!(body["client_name"], "Billing service");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    assert_eq!(body["scope"], "read write");
    assert_eq!(body["enabled"], true);
    assert_eq!(body["access_token_lifetime"], 300);
    assert_eq!(rfc3339(&body["created_at"]).unix_timestamp(), srv.clock_now());

    // The secret shown works, and the client is stored.
    assert!(srv.client_exists(id).await);
    let resp = srv.token_basic(id, secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Two creations without client_id get different ids.
    let (other, _) = srv.create_client(json!({"scope": "read"})).await;
    assert_ne!(other, id);
}

#[tokio::test]
async fn get_one_client_shows_its_metadata_and_no_secret() {
    let srv = TestServer::start().await;
    let (id, _) = srv
        .create_client(json!({
            "client_id": "svc-reports",
            "client_name": "Reports",
            "client_uri": "https://reports.example/",
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "read",
            "default_audience": "https://api.example",
            "allowed_audiences": ["https://api.example", "https://other.example"],
            "access_token_lifetime": 600
        }))
        .await;
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_id"], "svc-reports");
    assert_eq!(body["client_name"], "Reports");
    assert_eq!(body["client_uri"], "https://reports.example/");
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    assert_eq!(body["scope"], "read");
    assert_eq!(body["default_audience"], "https://api.example");
    assert_eq!(
        body["allowed_audiences"],
        json!(["https://api.example", "https://other.example"])
    );
    assert_eq!(body["access_token_lifetime"], 600);
    assert_eq!(body["enabled"], true);
    assert!(body.get("client_secret").is_none(), "{body}");
}

#[tokio::test]
async fn list_pages_through_every_client_once_in_client_id_order() {
    let srv = TestServer::start().await;
    let mut created = BTreeSet::new();
    for i in 0..5 {
        let (id, _) = srv
            .create_client(json!({"client_name": format!("client {i}")}))
            .await;
        created.insert(id);
    }
    let token = srv.admin_token().await;
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &after {
            None => "/admin/clients?limit=2".to_owned(),
            Some(a) => format!("/admin/clients?limit=2&after={}", form_escape(a)),
        };
        let (status, body) = srv.admin_as(&token, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["clients"].as_array().unwrap();
        assert!(page.len() <= 2, "{body}");
        seen.extend(page.iter().map(|c| c["client_id"].as_str().unwrap().to_owned()));
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        match body["next_after"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), seen.last().map(String::as_str));
                after = Some(next.to_owned());
            }
            None => {
                assert!(body.get("next_after").is_none() || body["next_after"].is_null());
                break;
            }
        }
    }
    // Six clients in pages of two: three full pages (and possibly an empty last one).
    assert!(pages >= 3, "{pages} pages");
    let mut expected = created.clone();
    expected.insert(ADMIN_ID.to_owned());
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "not in client_id order");
    assert_eq!(seen.len(), expected.len(), "a client listed twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn list_default_page_holds_everything_and_limits_are_checked() {
    let srv = TestServer::start().await;
    srv.basic_client().await;
    let (status, body) = srv.admin(Method::GET, "/admin/clients", None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ADMIN_ID, "svc-basic"]);
    assert!(body["next_after"].is_null());
    for bad in ["0", "501"] {
        let (status, body) = srv
            .admin(Method::GET, &format!("/admin/clients?limit={bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_eq!(body["error"], "invalid_request", "{body}");
    }
    let (status, _) = srv.admin(Method::GET, "/admin/clients?limit=500", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn patch_changes_only_the_fields_sent() {
    let srv = TestServer::start().await;
    let (id, secret) = srv
        .create_client(json!({
            "client_id": "svc-patch",
            "client_name": "Before",
            "scope": "read",
            "default_audience": "https://api.example",
            "access_token_lifetime": 120
        }))
        .await;
    let path = format!("/admin/clients/{id}");
    let (_, original) = srv.admin(Method::GET, &path, None).await;

    srv.clock.advance(Duration::seconds(10));
    let (status, body) = srv
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"client_name": "After", "scope": "read write"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_name"], "After");
    assert_eq!(body["scope"], "read write");
    for unchanged in [
        "client_id",
        "token_endpoint_auth_method",
        "grant_types",
        "default_audience",
        "allowed_audiences",
        "access_token_lifetime",
        "enabled",
        "created_at",
    ] {
        assert_eq!(body[unchanged], original[unchanged], "{unchanged} changed");
    }
    assert_ne!(body["updated_at"], original["updated_at"]);
    assert_eq!(
        rfc3339(&body["updated_at"]) - rfc3339(&original["updated_at"]),
        Duration::seconds(10)
    );
    // Stored, not only echoed; and the new scope is in force.
    let (_, read) = srv.admin(Method::GET, &path, None).await;
    assert_eq!(read, body);
    let resp = srv.token_basic(&id, &secret, &[CC, ("scope", "write")]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // `null` resets a field to its default.
    let (status, body) = srv
        .admin(Method::PATCH, &path, Some(json!({"client_name": null})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["client_name"].is_null(), "{body}");
    assert_eq!(body["scope"], "read write");
    assert_eq!(body["access_token_lifetime"], 120);
    let (_, read) = srv.admin(Method::GET, &path, None).await;
    assert!(read["client_name"].is_null());
}

#[tokio::test]
async fn patch_disabling_a_client_stops_its_token_requests() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let (status, body) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    assert_eq!(body["scope"], "read write");
    assert_invalid_client(srv.token_basic(&id, &secret, &[CC]).await, true).await;

    // And enabling it again brings it back.
    let (status, _) = srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/{id}"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resp = srv.token_basic(&id, &secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn delete_removes_the_client() {
    let srv = TestServer::start().await;
    let (id, secret) = srv.basic_client().await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .delete(srv.url(&format!("/admin/clients/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.bytes().await.unwrap().is_empty());

    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert!(!srv.client_exists(&id).await);
    assert_invalid_client(srv.token_basic(&id, &secret, &[CC]).await, true).await;
}

#[tokio::test]
async fn secret_rotation_returns_a_new_working_secret() {
    let srv = TestServer::start().await;
    let (id, old) = srv.basic_client().await;
    let (status, body) = srv
        .admin(
            Method::POST,
            &format!("/admin/clients/{id}/secret"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client_id"], id);
    assert_eq!(body["client_secret_expires_at"], 0);
    let new = body["client_secret"].as_str().unwrap();
    assert_ne!(new, old);
    let resp = srv.token_basic(&id, new, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_invalid_client(srv.token_basic(&id, &old, &[CC]).await, true).await;
}

#[tokio::test]
async fn audit_log_records_every_change_newest_first() {
    let srv = TestServer::start().await;
    let (id, _) = srv.basic_client().await;
    let path = format!("/admin/clients/{id}");
    let (status, _) = srv
        .admin(Method::PATCH, &path, Some(json!({"client_name": "x"})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = srv.admin(Method::POST, &format!("{path}/secret"), None).await;
    assert_eq!(status, StatusCode::OK);
    srv.clock.advance(Duration::seconds(5));
    let (status, _) = srv.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let events = audit_events(&srv).await;
    let mine: Vec<&Value> = events.iter().filter(|e| e["target"] == id).collect();
    let actions: Vec<&str> = mine.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        vec![
            "client.delete",
            "client.secret.rotate",
            "client.update",
            "client.create"
        ]
    );
    for e in &mine {
        assert_eq!(e["actor"], ADMIN_ID, "{e}");
        assert_eq!(e["outcome"], "success", "{e}");
        assert!(e["id"].is_i64(), "{e}");
    }
    assert_eq!(
        rfc3339(&mine[0]["at"]).unix_timestamp(),
        srv.clock_now(),
        "delete happened at the clock's time"
    );
    assert_eq!(rfc3339(&mine[3]["at"]).unix_timestamp(), srv.clock_now() - 5);
    // Newest first: ids strictly decrease across the whole log.
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    // The first signing key's creation is the oldest event, then the bootstrap client's, both
    // by the server itself.
    assert_eq!(events.last().unwrap()["action"], "signing_key.create");
    let oldest = &events[events.len() - 2];
    assert_eq!(oldest["action"], "client.create");
    assert_eq!(oldest["target"], ADMIN_ID);
    assert_eq!(oldest["actor"], "keyward");
    // Secrets never reach the log.
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(ADMIN_SECRET));
}

#[tokio::test]
async fn audit_log_pages_with_before() {
    let srv = TestServer::start().await;
    for i in 0..3 {
        srv.create_client(json!({"client_id": format!("svc-{i}")})).await;
    }
    let all = audit_events(&srv).await;
    assert_eq!(
        all.len(),
        6,
        "first signing key + bootstrap client + bootstrap user + three creations: {all:?}"
    );

    let token = srv.admin_token().await;
    let mut paged = Vec::new();
    let mut path = "/admin/audit?limit=1".to_owned();
    loop {
        let (status, body) = srv.admin_as(&token, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events = body["events"].as_array().unwrap();
        assert!(events.len() <= 1);
        paged.extend(events.iter().cloned());
        assert!(paged.len() <= 10, "paging does not end");
        match body["next_before"].as_i64() {
            Some(before) => {
                assert_eq!(Some(before), events.last().map(|e| e["id"].as_i64().unwrap()));
                path = format!("/admin/audit?limit=1&before={before}");
            }
            None => break,
        }
    }
    assert_eq!(paged, all);
    assert_eq!(paged[0]["target"], "svc-2");
    assert_eq!(paged[3]["action"], "user.create");
    assert_eq!(paged[3]["target"], "admin");
    assert_eq!(paged[4]["target"], ADMIN_ID);
    assert_eq!(paged[5]["action"], "signing_key.create");
}

#[tokio::test]
async fn openapi_document_describes_the_admin_api() {
    let srv = TestServer::start().await;
    let (status, body) = srv.admin(Method::GET, "/admin/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["openapi"].as_str().unwrap().starts_with('3'), "{body}");
    let paths = body["paths"].as_object().unwrap();
    for p in [
        "/admin/clients",
        "/admin/clients/{client_id}",
        "/admin/clients/{client_id}/secret",
        "/admin/audit",
    ] {
        assert!(paths.contains_key(p), "{p} missing from {:?}", paths.keys());
    }
    assert!(paths["/admin/clients"].get("post").is_some());
    assert!(paths["/admin/clients"].get("get").is_some());
    let one = &paths["/admin/clients/{client_id}"];
    for m in ["get", "patch", "delete"] {
        assert!(one.get(m).is_some(), "{m} missing");
    }
}

#[tokio::test]
async fn any_client_with_admin_scope_can_administer_and_is_the_actor() {
    let srv = TestServer::start().await;
    let (ops, ops_secret) = srv
        .create_client(json!({"client_id": "ops-console", "scope": "keyward:admin"}))
        .await;
    let resp = srv.token_basic(&ops, &ops_secret, &[CC]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "keyward:admin");
    let token = body["access_token"].as_str().unwrap();

    let (status, body) = srv
        .admin_as(
            token,
            Method::POST,
            "/admin/clients",
            Some(json!({"client_id": "made-by-ops", "scope": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(srv.client_exists("made-by-ops").await);
    let (status, _) = srv
        .admin_as(token, Method::GET, "/admin/clients/made-by-ops", None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let events = audit_events(&srv).await;
    let newest = &events[0];
    assert_eq!(newest["action"], "client.create");
    assert_eq!(newest["target"], "made-by-ops");
    assert_eq!(newest["actor"], "ops-console");
    assert_eq!(newest["outcome"], "success");
    let ops_created = events.iter().find(|e| e["target"] == "ops-console").unwrap();
    assert_eq!(ops_created["actor"], ADMIN_ID);
}
