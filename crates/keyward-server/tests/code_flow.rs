//! The authorization code flow over HTTP, as a browser and a web application walk it: sign-in,
//! consent, SSO, PAR, the code exchange, ID token, refresh rotation, userinfo, introspection,
//! revocation, logout, and discovery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{code_flow::*, console::ConsoleClient, oauth::jwt_parts, server::TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn server_with_user() -> TestServer {
    let srv = TestServer::start().await;
    create_user(&srv, USER, USER_PASSWORD).await;
    srv
}

async fn tokens(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn code_exchange_with_basic_issues_access_id_and_refresh_tokens() {
    let srv = server_with_user().await;
    let (id, secret) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let code = code_for(&srv, &mut browser, &id, &pkce).await;
    let body = tokens(exchange(&srv, &id, &secret, &code, &pkce.verifier).await).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "email openid profile read");
    let (_, access) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(access["sub"], USER);
    assert_eq!(access["client_id"], id.as_str());
    assert!(
        access["gid"].is_string() && access["auth_time"].is_i64(),
        "{access}"
    );
    let (header, id_token) = jwt_parts(body["id_token"].as_str().unwrap());
    assert_eq!(header["typ"], "JWT");
    assert_eq!(id_token["iss"], srv.issuer().as_str());
    assert_eq!(id_token["sub"], USER);
    assert_eq!(id_token["aud"], id.as_str());
    assert_eq!(id_token["nonce"], "nonce-1");
    assert!(
        id_token["at_hash"].is_string() && id_token["auth_time"].is_i64(),
        "{id_token}"
    );
    assert!(
        body["refresh_token"].is_string(),
        "the client registered refresh_token: {body}"
    );

    // userinfo by scope
    let info: Value = srv
        .http
        .get(srv.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        json!({"sub": USER, "preferred_username": USER,
        "name": "Name of alice", "email": "alice@example.com"})
    );

    // refresh rotates; the new tokens are for the same user
    let refreshed = tokens(
        token_request(
            &srv,
            &id,
            &secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
        )
        .await,
    )
    .await;
    assert_ne!(refreshed["refresh_token"], body["refresh_token"]);
    assert_eq!(
        jwt_parts(refreshed["access_token"].as_str().unwrap()).1["sub"],
        USER
    );

    // introspection of both kinds, then revocation of the family
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert!(is_active(&srv, &id, &secret, access).await);
    assert!(is_active(&srv, &id, &secret, new_refresh).await);
    let resp = backchannel(&srv, "/revoke", &id, &secret, &[("token", new_refresh)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!is_active(&srv, &id, &secret, new_refresh).await);
    assert!(
        !is_active(&srv, &id, &secret, access).await,
        "revoking a refresh token revokes its family"
    );
}

#[tokio::test]
async fn without_offline_access_or_refresh_grant_no_refresh_token_is_issued() {
    let srv = server_with_user().await;
    let (id, secret) = code_client(&srv, json!({"grant_types": ["authorization_code"]})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let code = code_for(&srv, &mut browser, &id, &pkce).await;
    let body = tokens(exchange(&srv, &id, &secret, &code, &pkce.verifier).await).await;
    assert!(body.get("refresh_token").is_none(), "{body}");

    // offline_access asks for one
    let query = authorize_query(&id, &pkce, &[("scope", "openid offline_access")]);
    let page = authorize(&mut browser, &query, USER, USER_PASSWORD).await;
    let code = query_of(page.location().unwrap())["code"].clone();
    let body = tokens(exchange(&srv, &id, &secret, &code, &pkce.verifier).await).await;
    assert!(body["refresh_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_signed_in_user_is_not_asked_again_and_consent_is_remembered() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let query = authorize_query(&id, &pkce, &[]);

    let first = browser.get(&format!("/authorize?{query}")).await;
    let signin = follow(&mut browser, first).await;
    assert!(
        signin.body.contains("Code App"),
        "the sign-in page names the client"
    );
    code_for(&srv, &mut browser, &id, &pkce).await;

    // SSO: straight back with a code, no page
    let again = browser.get(&format!("/authorize?{query}")).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        query_of(again.location().unwrap()).contains_key("code"),
        "{:?}",
        again.location()
    );

    // a wider scope asks for consent again
    let wider = authorize_query(&id, &pkce, &[("scope", "openid read write")]);
    let first = browser_get(&mut browser, &wider).await;
    let page = follow(&mut browser, first).await;
    assert!(
        page.body.contains("action=\"/authorize/consent\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("write"));
}

async fn browser_get(browser: &mut ConsoleClient, query: &str) -> keyward_testkit::console::Page {
    browser.get(&format!("/authorize?{query}")).await
}

#[tokio::test]
async fn first_party_clients_skip_consent() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({"first_party": true})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let first = browser_get(&mut browser, &authorize_query(&id, &pkce, &[])).await;
    let signin = follow(&mut browser, first).await;
    let done = sign_in_on(&mut browser, &signin, USER, USER_PASSWORD).await;
    assert!(
        query_of(done.location().unwrap()).contains_key("code"),
        "no consent page: {}",
        done.body
    );
}

#[tokio::test]
async fn denied_consent_is_access_denied_at_the_client() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let first = browser_get(&mut browser, &authorize_query(&id, &pkce, &[])).await;
    let signin = follow(&mut browser, first).await;
    let consent = sign_in_on(&mut browser, &signin, USER, USER_PASSWORD).await;
    let interaction = hidden_of(&consent.body, "interaction");
    let denied = browser
        .post(
            "/authorize/consent",
            &[("interaction", &interaction), ("decision", "deny")],
        )
        .await;
    let params = query_of(denied.location().unwrap());
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "state-1");
    assert_eq!(params["iss"], srv.issuer());
}

#[tokio::test]
async fn prompt_login_asks_for_the_password_again() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({"first_party": true})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    code_for(&srv, &mut browser, &id, &pkce).await;
    let first = browser_get(&mut browser, &authorize_query(&id, &pkce, &[("prompt", "login")])).await;
    let page = follow(&mut browser, first).await;
    assert!(
        page.body.contains("action=\"/authorize/signin\""),
        "{}",
        page.body
    );
    let done = authorize(
        &mut browser,
        &authorize_query(&id, &pkce, &[("prompt", "login")]),
        USER,
        USER_PASSWORD,
    )
    .await;
    assert!(query_of(done.location().unwrap()).contains_key("code"));
}

#[tokio::test]
async fn pushed_request_uri_is_good_once() {
    let srv = server_with_user().await;
    let (id, secret) = code_client(
        &srv,
        json!({"require_pushed_authorization_requests": true, "first_party": true}),
    )
    .await;
    let pkce = Pkce::new();
    let query = authorize_query(&id, &pkce, &[]);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = backchannel(&srv, "/par", &id, &secret, &pairs).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let pushed: Value = resp.json().await.unwrap();
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let mut browser = ConsoleClient::new(&srv);
    let by_uri = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("client_id", id.as_str()), ("request_uri", request_uri)])
        .finish();
    let done = authorize(&mut browser, &by_uri, USER, USER_PASSWORD).await;
    let code = query_of(done.location().unwrap())["code"].clone();
    tokens(exchange(&srv, &id, &secret, &code, &pkce.verifier).await).await;

    // used once: a second use is a page, not a redirect
    let again = browser.get(&format!("/authorize?{by_uri}")).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.location().is_none());
    assert!(
        again.body.contains("request_uri is unknown, used or expired"),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn logout_with_an_id_token_hint_ends_the_session_and_returns_to_the_client() {
    let srv = server_with_user().await;
    let (id, secret) = code_client(
        &srv,
        json!({"post_logout_redirect_uris": ["http://127.0.0.1:9/bye"]}),
    )
    .await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let code = code_for(&srv, &mut browser, &id, &pkce).await;
    let body = tokens(exchange(&srv, &id, &secret, &code, &pkce.verifier).await).await;
    let hint = body["id_token"].as_str().unwrap();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "http://127.0.0.1:9/bye"),
            ("state", "bye-1"),
        ])
        .finish();
    let out = browser.get(&format!("/logout?{query}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), Some("http://127.0.0.1:9/bye?state=bye-1"));
    // signed out: prompt=none now says login_required
    let none = browser_get(&mut browser, &authorize_query(&id, &pkce, &[("prompt", "none")])).await;
    assert_eq!(query_of(none.location().unwrap())["error"], "login_required");
}

#[tokio::test]
async fn logout_without_a_hint_asks_first() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    code_for(&srv, &mut browser, &id, &pkce).await;
    let ask = browser.get("/logout").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("action=\"/logout/confirm\""), "{}", ask.body);
    // still signed in until the user says yes
    let none = browser_get(&mut browser, &authorize_query(&id, &pkce, &[("prompt", "none")])).await;
    assert!(query_of(none.location().unwrap()).contains_key("code"));
    let done = browser.post("/logout/confirm", &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let none = browser_get(&mut browser, &authorize_query(&id, &pkce, &[("prompt", "none")])).await;
    assert_eq!(query_of(none.location().unwrap())["error"], "login_required");
}

#[tokio::test]
async fn discovery_lists_the_code_flow_endpoints() {
    let srv = TestServer::start().await;
    let doc = srv.get_json("/.well-known/openid-configuration").await;
    let issuer = srv.issuer();
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("pushed_authorization_request_endpoint", "/par"),
        ("introspection_endpoint", "/introspect"),
        ("revocation_endpoint", "/revoke"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/jwks"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    // the algorithm of the server's signing key (ES256 in tests, RS256 by default)
    let jwks = srv.get_json("/jwks").await;
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!([jwks["keys"][0]["alg"]])
    );
    assert_eq!(
        doc["grant_types_supported"],
        json!(["client_credentials", "authorization_code", "refresh_token"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)),
            "{scope}"
        );
    }
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        doc["token_endpoint_auth_methods_supported"]
    );
    assert_eq!(
        doc["revocation_endpoint_auth_methods_supported"],
        doc["token_endpoint_auth_methods_supported"]
    );
}

#[tokio::test]
async fn end_user_pages_carry_a_strict_policy_and_a_lax_session_cookie() {
    let srv = server_with_user().await;
    let (id, _) = code_client(&srv, json!({})).await;
    let pkce = Pkce::new();
    let mut browser = ConsoleClient::new(&srv);
    let first = browser_get(&mut browser, &authorize_query(&id, &pkce, &[])).await;
    let page = follow(&mut browser, first).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    let interaction = hidden_of(&page.body, "interaction");
    browser
        .post(
            "/authorize/signin",
            &[
                ("interaction", &interaction),
                ("username", USER),
                ("password", USER_PASSWORD),
            ],
        )
        .await;
    let session = browser
        .last_set_cookies
        .iter()
        .find(|c| c.starts_with("keyward_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
}

/// Adds a client's authentication to a form.
type AddAuth<'a> = dyn Fn(&mut Vec<(String, String)>) + 'a;

/// The code exchange, a refresh and introspection with `client_secret_post` and with
/// `client_secret_jwt`: each client authenticates with its registered method on every call.
#[tokio::test]
async fn code_exchange_refresh_and_introspection_with_post_and_client_secret_jwt() {
    let srv = server_with_user().await;
    let (post_id, post_secret) = code_client(
        &srv,
        json!({"token_endpoint_auth_method": "client_secret_post", "first_party": true}),
    )
    .await;
    let (jwt_id, jwt_secret) = code_client(
        &srv,
        json!({"token_endpoint_auth_method": "client_secret_jwt", "first_party": true}),
    )
    .await;
    let post_auth = |pairs: &mut Vec<(String, String)>| {
        pairs.push(("client_id".into(), post_id.clone()));
        pairs.push(("client_secret".into(), post_secret.clone()));
    };
    let jwt_auth = |pairs: &mut Vec<(String, String)>| {
        let claims = srv.claims(&jwt_id);
        let assertion =
            keyward_testkit::jose::sign_hmac(jwt_secret.as_bytes(), &json!({"alg": "HS256"}), &claims);
        pairs.push(("client_assertion_type".into(), keyward_testkit::JWT_BEARER.into()));
        pairs.push(("client_assertion".into(), assertion));
    };
    let methods: [(&str, &AddAuth<'_>); 2] = [(&post_id, &post_auth), (&jwt_id, &jwt_auth)];
    for (id, auth) in methods {
        let pkce = Pkce::new();
        let mut browser = ConsoleClient::new(&srv);
        let code = code_for(&srv, &mut browser, id, &pkce).await;
        let post = |mut pairs: Vec<(String, String)>, path: &'static str| {
            auth(&mut pairs);
            srv.http.post(srv.url(path)).form(&pairs).send()
        };
        let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let exchanged = tokens(
            post(
                own(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT_URI),
                    ("code_verifier", &pkce.verifier),
                ]),
                "/token",
            )
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(jwt_parts(exchanged["id_token"].as_str().unwrap()).1["aud"], id);
        let refresh = exchanged["refresh_token"].as_str().unwrap();
        let refreshed = tokens(
            post(
                own(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]),
                "/token",
            )
            .await
            .unwrap(),
        )
        .await;
        let access = refreshed["access_token"].as_str().unwrap();
        let introspected: Value = post(own(&[("token", access)]), "/introspect")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(introspected["active"], true, "{id}: {introspected}");
        assert_eq!(introspected["username"], USER);
    }
}
