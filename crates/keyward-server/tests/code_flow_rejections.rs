//! Every refusal of the authorization code flow, one named test each: the status, the error,
//! and that nothing was issued or changed (a refused code stays spent, nothing it names works).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{
    code_flow::*,
    console::ConsoleClient,
    oauth::{assert_error, assert_invalid_client},
    server::TestServer,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Flow {
    srv: TestServer,
    id: String,
    secret: String,
    pkce: Pkce,
    browser: ConsoleClient,
}

async fn flow(extra: Value) -> Flow {
    let srv = TestServer::start().await;
    create_user(&srv, USER, USER_PASSWORD).await;
    let (id, secret) = code_client(&srv, extra).await;
    let browser = ConsoleClient::new(&srv);
    Flow {
        srv,
        id,
        secret,
        pkce: Pkce::new(),
        browser,
    }
}

impl Flow {
    async fn code(&mut self) -> String {
        code_for(&self.srv, &mut self.browser, &self.id, &self.pkce).await
    }

    async fn exchange(&self, code: &str) -> reqwest::Response {
        exchange(&self.srv, &self.id, &self.secret, code, &self.pkce.verifier).await
    }

    async fn tokens(&mut self) -> Value {
        let code = self.code().await;
        let resp = self.exchange(&code).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// `/authorize` with `extra` as the browser: the answer, not followed.
    async fn authorize(&mut self, extra: &[(&str, &str)]) -> keyward_testkit::console::Page {
        let query = authorize_query(&self.id, &self.pkce, extra);
        self.browser.get(&format!("/authorize?{query}")).await
    }
}

/// A refusal shown as a page: no `Location`, the reason in the body, nothing stored.
async fn assert_page(f: &mut Flow, extra: &[(&str, &str)], says: &str) {
    let before = f.srv.snapshot().await;
    let page = f.authorize(extra).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.location().is_none(),
        "never redirected: {:?}",
        page.location()
    );
    assert!(page.body.contains(says), "{}", page.body);
    assert_eq!(f.srv.snapshot().await, before);
}

/// A refusal sent back to the registered redirect URI with `error`, `state` and `iss`.
async fn assert_redirected_error(f: &mut Flow, extra: &[(&str, &str)], error: &str) {
    let page = f.authorize(extra).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().unwrap();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let params = query_of(location);
    assert_eq!(params["error"], error, "{location}");
    assert_eq!(params["state"], "state-1");
    assert_eq!(params["iss"], f.srv.issuer());
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn unregistered_redirect_uri_is_a_page_not_a_redirect() {
    let mut f = flow(json!({})).await;
    assert_page(
        &mut f,
        &[("redirect_uri", "https://evil.example/cb")],
        "not registered for this application",
    )
    .await;
}

#[tokio::test]
async fn redirect_uri_that_only_starts_like_a_registered_one_is_a_page() {
    let mut f = flow(json!({})).await;
    let longer = format!("{REDIRECT_URI}/more");
    assert_page(&mut f, &[("redirect_uri", &longer)], "not registered").await;
}

#[tokio::test]
async fn missing_redirect_uri_is_a_page() {
    let mut f = flow(json!({})).await;
    assert_page(&mut f, &[("redirect_uri", "")], "no redirect_uri").await;
}

#[tokio::test]
async fn unknown_client_is_a_page_not_a_redirect() {
    let mut f = flow(json!({})).await;
    assert_page(&mut f, &[("client_id", "no-such-client")], "not known to keyward").await;
}

#[tokio::test]
async fn disabled_client_is_a_page() {
    let mut f = flow(json!({})).await;
    let path = format!("/admin/clients/{}", f.id);
    let (status, _) = f
        .srv
        .admin(Method::PATCH, &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_page(&mut f, &[], "not known to keyward").await;
}

#[tokio::test]
async fn repeated_parameter_is_a_page() {
    let mut f = flow(json!({})).await;
    let query = format!(
        "{}&redirect_uri=https%3A%2F%2Fevil.example%2F",
        authorize_query(&f.id, &f.pkce, &[])
    );
    let page = f.browser.get(&format!("/authorize?{query}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location().is_none());
    assert!(page.body.contains("repeated"), "{}", page.body);
}

#[tokio::test]
async fn missing_pkce_is_invalid_request_at_the_client() {
    let mut f = flow(json!({})).await;
    assert_redirected_error(
        &mut f,
        &[("code_challenge", ""), ("code_challenge_method", "")],
        "invalid_request",
    )
    .await;
}

#[tokio::test]
async fn plain_pkce_is_invalid_request() {
    let mut f = flow(json!({})).await;
    assert_redirected_error(&mut f, &[("code_challenge_method", "plain")], "invalid_request").await;
}

#[tokio::test]
async fn response_type_token_is_unsupported() {
    let mut f = flow(json!({})).await;
    assert_redirected_error(&mut f, &[("response_type", "token")], "unsupported_response_type").await;
}

#[tokio::test]
async fn client_without_the_code_grant_is_unauthorized_client() {
    let mut f = flow(json!({"grant_types": ["client_credentials"]})).await;
    assert_redirected_error(&mut f, &[], "unauthorized_client").await;
}

#[tokio::test]
async fn unregistered_scope_is_invalid_scope() {
    let mut f = flow(json!({})).await;
    assert_redirected_error(&mut f, &[("scope", "openid delete-everything")], "invalid_scope").await;
}

#[tokio::test]
async fn admin_scope_is_never_granted_to_a_user() {
    let mut f = flow(json!({"scope": "read keyward:admin"})).await;
    assert_redirected_error(&mut f, &[("scope", "openid keyward:admin")], "invalid_scope").await;
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let mut f = flow(json!({})).await;
    assert_redirected_error(&mut f, &[("prompt", "none")], "login_required").await;
}

#[tokio::test]
async fn prompt_none_without_consent_is_consent_required() {
    let mut f = flow(json!({})).await;
    f.code().await;
    assert_redirected_error(
        &mut f,
        &[("prompt", "none"), ("scope", "openid write")],
        "consent_required",
    )
    .await;
}

#[tokio::test]
async fn client_that_must_push_cannot_use_plain_authorize() {
    let mut f = flow(json!({"require_pushed_authorization_requests": true})).await;
    assert_redirected_error(&mut f, &[], "invalid_request").await;
}

#[tokio::test]
async fn sign_in_without_the_csrf_token_is_refused() {
    let mut f = flow(json!({})).await;
    let first = f.authorize(&[]).await;
    let page = follow(&mut f.browser, first).await;
    let interaction = hidden_of(&page.body, "interaction");
    let posted = f
        .browser
        .post_raw(
            "/authorize/signin",
            &[
                ("interaction", &interaction),
                ("username", USER),
                ("password", USER_PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert!(posted.body.contains("security token"), "{}", posted.body);
    assert!(!f
        .browser
        .last_set_cookies
        .iter()
        .any(|c| c.starts_with("keyward_session=")));
}

#[tokio::test]
async fn wrong_password_shows_the_form_again_without_a_session() {
    let mut f = flow(json!({})).await;
    let page = authorize(
        &mut f.browser,
        &authorize_query(&f.id, &f.pkce, &[]),
        USER,
        "not-the-password",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("Wrong username or password."));
    assert!(!f.browser.cookies.contains_key("keyward_session"));
}

#[tokio::test]
async fn consent_without_the_csrf_token_is_refused() {
    let mut f = flow(json!({})).await;
    let first = f.authorize(&[]).await;
    let page = follow(&mut f.browser, first).await;
    let consent = sign_in_on(&mut f.browser, &page, USER, USER_PASSWORD).await;
    let interaction = hidden_of(&consent.body, "interaction");
    let refused = f
        .browser
        .post_raw(
            "/authorize/consent",
            &[("interaction", &interaction), ("decision", "allow")],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.location().is_none());
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_spends_the_code() {
    let mut f = flow(json!({})).await;
    let code = f.code().await;
    let other = Pkce::new();
    let resp = exchange(&f.srv, &f.id, &f.secret, &code, &other.verifier).await;
    let body = assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("code_verifier"));
    assert_error(f.exchange(&code).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn missing_verifier_is_invalid_request_and_leaves_the_code() {
    let mut f = flow(json!({})).await;
    let code = f.code().await;
    let resp = token_request(
        &f.srv,
        &f.id,
        &f.secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(f.exchange(&code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reused_code_is_refused_and_revokes_what_the_first_use_issued() {
    let mut f = flow(json!({})).await;
    let code = f.code().await;
    let first: Value = f.exchange(&code).await.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert!(is_active(&f.srv, &f.id, &f.secret, access).await);
    assert_error(f.exchange(&code).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(!is_active(&f.srv, &f.id, &f.secret, access).await);
    assert!(!is_active(&f.srv, &f.id, &f.secret, refresh).await);
    let resp = token_request(
        &f.srv,
        &f.id,
        &f.secret,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let mut f = flow(json!({})).await;
    let code = f.code().await;
    f.srv.clock.advance(time::Duration::seconds(61));
    let body = assert_error(f.exchange(&code).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(body["error_description"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn code_presented_by_another_client_is_invalid_grant() {
    let mut f = flow(json!({})).await;
    let (other, other_secret) = code_client(&f.srv, json!({})).await;
    let code = f.code().await;
    let resp = exchange(&f.srv, &other, &other_secret, &code, &f.pkce.verifier).await;
    let body = assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("another client"));
    assert_error(f.exchange(&code).await, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn code_with_another_redirect_uri_is_invalid_grant() {
    let mut f = flow(json!({"redirect_uris": [REDIRECT_URI, "http://127.0.0.1:9/other"]})).await;
    let code = f.code().await;
    let resp = token_request(
        &f.srv,
        &f.id,
        &f.secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &f.pkce.verifier),
        ],
    )
    .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn unknown_code_is_invalid_grant() {
    let f = flow(json!({})).await;
    assert_error(
        f.exchange("not-a-code").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn reused_refresh_token_revokes_its_family() {
    let mut f = flow(json!({})).await;
    let first = f.tokens().await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let second: Value = token_request(&f.srv, &f.id, &f.secret, &pairs)
        .await
        .json()
        .await
        .unwrap();
    let newer = second["refresh_token"].as_str().unwrap();
    assert!(is_active(&f.srv, &f.id, &f.secret, newer).await);
    let resp = token_request(&f.srv, &f.id, &f.secret, &pairs).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(
        !is_active(&f.srv, &f.id, &f.secret, newer).await,
        "the family is revoked"
    );
    assert!(!is_active(&f.srv, &f.id, &f.secret, second["access_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn refresh_by_another_client_is_invalid_grant_and_leaves_the_token() {
    let mut f = flow(json!({})).await;
    let (other, other_secret) = code_client(&f.srv, json!({})).await;
    let first = f.tokens().await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let resp = token_request(&f.srv, &other, &other_secret, &pairs).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        token_request(&f.srv, &f.id, &f.secret, &pairs).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn refresh_cannot_widen_the_scope() {
    let mut f = flow(json!({})).await;
    let first = f.tokens().await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let wider = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("scope", "openid write"),
    ];
    assert_error(
        token_request(&f.srv, &f.id, &f.secret, &wider).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    let narrower = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("scope", "read"),
    ];
    let body: Value = token_request(&f.srv, &f.id, &f.secret, &narrower)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scope"], "read", "{body}");
    assert!(body.get("id_token").is_none(), "no openid, no ID token");
}

#[tokio::test]
async fn revoked_access_token_introspects_inactive() {
    let mut f = flow(json!({})).await;
    let tokens = f.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let resp = backchannel(&f.srv, "/revoke", &f.id, &f.secret, &[("token", access)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!is_active(&f.srv, &f.id, &f.secret, access).await);
    let info = f
        .srv
        .http
        .get(f.srv.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    // the refresh token of its grant still works (only that token was revoked)
    assert!(
        is_active(
            &f.srv,
            &f.id,
            &f.secret,
            tokens["refresh_token"].as_str().unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn revoking_another_clients_token_is_refused() {
    let mut f = flow(json!({})).await;
    let (other, other_secret) = code_client(&f.srv, json!({})).await;
    let tokens = f.tokens().await;
    for token in [&tokens["access_token"], &tokens["refresh_token"]] {
        let resp = backchannel(
            &f.srv,
            "/revoke",
            &other,
            &other_secret,
            &[("token", token.as_str().unwrap())],
        )
        .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "unauthorized_client").await;
        assert!(is_active(&f.srv, &f.id, &f.secret, token.as_str().unwrap()).await);
    }
}

#[tokio::test]
async fn another_client_cannot_introspect_a_refresh_token() {
    let mut f = flow(json!({})).await;
    let (other, other_secret) = code_client(&f.srv, json!({})).await;
    let tokens = f.tokens().await;
    assert!(
        !is_active(
            &f.srv,
            &other,
            &other_secret,
            tokens["refresh_token"].as_str().unwrap()
        )
        .await
    );
    // an access token is for resource servers to ask about
    assert!(
        is_active(
            &f.srv,
            &other,
            &other_secret,
            tokens["access_token"].as_str().unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn disabled_user_tokens_introspect_inactive_and_refresh_fails() {
    let mut f = flow(json!({})).await;
    let tokens = f.tokens().await;
    let (status, _) = f
        .srv
        .admin(
            Method::PATCH,
            &format!("/admin/users/{USER}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!is_active(&f.srv, &f.id, &f.secret, tokens["access_token"].as_str().unwrap()).await);
    assert!(
        !is_active(
            &f.srv,
            &f.id,
            &f.secret,
            tokens["refresh_token"].as_str().unwrap()
        )
        .await
    );
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
    ];
    assert_error(
        token_request(&f.srv, &f.id, &f.secret, &pairs).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn disabled_client_tokens_introspect_inactive() {
    let mut f = flow(json!({})).await;
    let (reader, reader_secret) = code_client(&f.srv, json!({})).await;
    let tokens = f.tokens().await;
    let (status, _) = f
        .srv
        .admin(
            Method::PATCH,
            &format!("/admin/clients/{}", f.id),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !is_active(
            &f.srv,
            &reader,
            &reader_secret,
            tokens["access_token"].as_str().unwrap()
        )
        .await
    );
}

#[tokio::test]
async fn userinfo_without_openid_is_insufficient_scope() {
    let mut f = flow(json!({})).await;
    let tokens = f.tokens().await;
    let narrower = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ("scope", "read"),
    ];
    let body: Value = token_request(&f.srv, &f.id, &f.secret, &narrower)
        .await
        .json()
        .await
        .unwrap();
    let resp = f
        .srv
        .http
        .get(f.srv.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));
}

#[tokio::test]
async fn a_users_token_cannot_administer_keyward() {
    let mut f = flow(json!({"scope": "read keyward:admin"})).await;
    let tokens = f.tokens().await;
    let (status, _) = f
        .srv
        .admin_as(
            tokens["access_token"].as_str().unwrap(),
            Method::GET,
            "/admin/clients",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pushed_request_from_an_unauthenticated_client_is_invalid_client() {
    let f = flow(json!({})).await;
    let resp = backchannel(
        &f.srv,
        "/par",
        &f.id,
        "wrong-secret",
        &[("response_type", "code")],
    )
    .await;
    assert_invalid_client(resp, true).await;
}

#[tokio::test]
async fn pushed_request_with_a_bad_redirect_uri_is_invalid_request() {
    let f = flow(json!({})).await;
    let query = authorize_query(&f.id, &f.pkce, &[("redirect_uri", "https://evil.example/cb")]);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = backchannel(&f.srv, "/par", &f.id, &f.secret, &pairs).await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn expired_request_uri_is_a_page() {
    let mut f = flow(json!({})).await;
    let query = authorize_query(&f.id, &f.pkce, &[]);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let pushed: Value = backchannel(&f.srv, "/par", &f.id, &f.secret, &pairs)
        .await
        .json()
        .await
        .unwrap();
    f.srv.clock.advance(time::Duration::seconds(61));
    let by_uri = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", f.id.as_str()),
            ("request_uri", pushed["request_uri"].as_str().unwrap()),
        ])
        .finish();
    let page = f.browser.get(&format!("/authorize?{by_uri}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location().is_none());
}

#[tokio::test]
async fn unregistered_post_logout_redirect_uri_is_a_page() {
    let mut f = flow(json!({"post_logout_redirect_uris": ["http://127.0.0.1:9/bye"]})).await;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", f.id.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .finish();
    let page = f.browser.get(&format!("/logout?{query}")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.location().is_none());
}

/// At each back-channel endpoint, a `client_secret_basic` client that sends its secret in the
/// form (`client_secret_post`) is refused as `invalid_client`.
#[tokio::test]
async fn a_method_other_than_the_registered_one_is_invalid_client_everywhere() {
    let mut f = flow(json!({})).await;
    let tokens = f.tokens().await;
    let code = f.code().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &f.pkce.verifier),
            ],
        ),
        (
            "/token",
            vec![("grant_type", "refresh_token"), ("refresh_token", refresh)],
        ),
        (
            "/par",
            vec![("response_type", "code"), ("redirect_uri", REDIRECT_URI)],
        ),
        ("/introspect", vec![("token", access)]),
        ("/revoke", vec![("token", refresh)]),
    ];
    for (path, mut pairs) in calls {
        pairs.push(("client_id", &f.id));
        pairs.push(("client_secret", &f.secret));
        let resp = f
            .srv
            .http
            .post(f.srv.url(path))
            .form(&pairs)
            .send()
            .await
            .unwrap();
        assert_invalid_client(resp, false).await;
    }
    // and nothing of it was used: the code still exchanges, the refresh token still refreshes
    assert_eq!(f.exchange(&code).await.status(), StatusCode::OK);
    assert!(is_active(&f.srv, &f.id, &f.secret, refresh).await);
}

/// A request that wants a new sign-in (`prompt=login`) cannot be consented to with the older
/// session: the consent form sends the user to sign in, and no code is issued.
#[tokio::test]
async fn consent_with_an_older_session_cannot_skip_a_required_sign_in() {
    let mut f = flow(json!({})).await;
    f.code().await;
    f.srv.clock.advance(time::Duration::seconds(1));
    let waiting = f
        .authorize(&[("prompt", "login"), ("scope", "openid write")])
        .await;
    let page = follow(&mut f.browser, waiting).await;
    assert!(
        page.body.contains("action=\"/authorize/signin\""),
        "{}",
        page.body
    );
    let interaction = hidden_of(&page.body, "interaction");
    // the consent page of the console-less session still has a CSRF token: load one
    let consent_page = f
        .browser
        .get(&format!("/authorize/consent?interaction={interaction}"))
        .await;
    assert_eq!(consent_page.status, StatusCode::OK);
    let answer = f
        .browser
        .post(
            "/authorize/consent",
            &[("interaction", &interaction), ("decision", "allow")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.location().unwrap().starts_with("/authorize/signin"),
        "{:?}",
        answer.location()
    );
}

#[tokio::test]
async fn max_age_zero_asks_for_one_sign_in_not_a_loop() {
    let mut f = flow(json!({"first_party": true})).await;
    f.code().await;
    let query = authorize_query(&f.id, &f.pkce, &[("max_age", "0")]);
    f.srv.clock.advance(time::Duration::seconds(5));
    let page = authorize(&mut f.browser, &query, USER, USER_PASSWORD).await;
    assert!(
        query_of(page.location().unwrap()).contains_key("code"),
        "{:?} {}",
        page.location(),
        page.body
    );
}
