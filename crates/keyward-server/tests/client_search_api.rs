//! `GET /admin/clients?search=`: the console's client list, filtered by a case-insensitive
//! substring of `client_id` or `client_name`, paged in `client_id` order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::server::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn with_clients() -> TestServer {
    let srv = TestServer::start().await;
    for (id, name) in [
        ("billing-api", "Invoices"),
        ("reports", "Billing Reports"),
        ("x_y", "underscore"),
        ("xay", "plain"),
        ("pct", "100% sure"),
        ("thousand", "1000 sure"),
    ] {
        srv.create_client(json!({"client_id": id, "client_name": name}))
            .await;
    }
    srv
}

fn ids(body: &Value) -> Vec<String> {
    body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(srv: &TestServer, query: &str) -> Vec<String> {
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients?{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    ids(&body)
}

#[tokio::test]
async fn search_matches_client_id_or_name_ignoring_case() {
    let srv = with_clients().await;
    assert_eq!(search(&srv, "search=BILLING").await, ["billing-api", "reports"]);
    assert_eq!(search(&srv, "search=invoic").await, ["billing-api"]);
    assert_eq!(search(&srv, "search=eport").await, ["reports"]);
    assert!(search(&srv, "search=nobody").await.is_empty());
    // An empty search lists everyone (the bootstrap admin client too).
    assert_eq!(search(&srv, "search=").await.len(), 7);
}

#[tokio::test]
async fn search_takes_percent_and_underscore_literally() {
    let srv = with_clients().await;
    assert_eq!(search(&srv, "search=x_y").await, ["x_y"]);
    assert_eq!(search(&srv, "search=_").await, ["x_y"]);
    assert_eq!(search(&srv, "search=%25").await, ["pct"]);
    assert_eq!(search(&srv, "search=0%25%20s").await, ["pct"]);
}

#[tokio::test]
async fn search_pages_through_the_matches_only() {
    let srv = with_clients().await;
    let (status, page1) = srv
        .admin(Method::GET, "/admin/clients?search=billing&limit=1", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(ids(&page1), ["billing-api"]);
    assert_eq!(page1["next_after"], "billing-api");
    let (status, page2) = srv
        .admin(
            Method::GET,
            "/admin/clients?search=billing&limit=1&after=billing-api",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page2}");
    assert_eq!(ids(&page2), ["reports"]);
    let (_, page3) = srv
        .admin(
            Method::GET,
            "/admin/clients?search=billing&limit=1&after=reports",
            None,
        )
        .await;
    assert!(ids(&page3).is_empty(), "{page3}");
}

#[tokio::test]
async fn rejects_an_overlong_search() {
    let srv = with_clients().await;
    let long = "a".repeat(201);
    let (status, body) = srv
        .admin(Method::GET, &format!("/admin/clients?search={long}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
}
