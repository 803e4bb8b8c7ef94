#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The forwarded-certificate methods through keyward's public extension points only: the
//! server method registered with the app builder (advertised in discovery, used by the token
//! endpoint), the client side given to `TokenClientBuilder::auth`, certificates made by OpenSSL.

use std::sync::Arc;

use keyward_client::{ClientConfig, ClientError, Credential, TokenClient, TokenRequest};
use keyward_example_forwarded_cert::{
    Binding, ForwardedCertClient, ForwardedCertMethod, CERT_HEADER, SELF_SIGNED, TLS_CLIENT_AUTH,
};
use keyward_testkit::{server::TestServer, tls::TestCert};
use keyward_types::ClientSecret;
use serde_json::{json, Value};

/// A server whose proxies are `proxies`, knowing `bindings`.
async fn server(proxies: &str, bindings: Vec<(String, Binding)>) -> TestServer {
    let method = ForwardedCertMethod::new(vec![proxies.parse().unwrap()], bindings).unwrap();
    TestServer::start_with_methods(|_| {}, vec![Arc::new(method)]).await
}

fn client(srv: &TestServer, id: &str, auth: ForwardedCertClient) -> TokenClient {
    let config = ClientConfig {
        client_id: id.into(),
        issuer: srv.base.clone(),
        token_endpoint: None,
        // Replaced by `auth`; a config always names a credential.
        credential: Credential::ClientSecretPost(ClientSecret::from_presented(String::new())),
        token_expiration: keyward_client::DEFAULT_TOKEN_EXPIRATION,
    };
    TokenClient::builder(config)
        .auth(Arc::new(auth))
        .clock(Arc::new(srv.clock.clone()))
        .build()
        .unwrap()
}

async fn token(client: &TokenClient) -> Result<String, ClientError> {
    let request = TokenRequest {
        scope: Some("read".into()),
        audience: None,
    };
    client.token(&request).await.map(|t| t.secret().to_owned())
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&keyward_jose::b64_decode(payload).unwrap()).unwrap()
}

fn pem(cert: &TestCert) -> String {
    String::from_utf8(cert.pem()).unwrap()
}

#[tokio::test]
async fn both_methods_are_advertised_and_issue_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (dn_cert, self_signed) = (
        TestCert::make(dir.path(), "svc-dn"),
        TestCert::make(dir.path(), "svc-self"),
    );
    let bindings = vec![
        ("dn-client".to_owned(), Binding::SubjectDn("CN=svc-dn".into())),
        (
            "self-client".to_owned(),
            Binding::certificate_pem(&self_signed.pem()).unwrap(),
        ),
    ];
    let srv = server("127.0.0.1/32", bindings).await;
    let discovery = srv.get_json("/.well-known/openid-configuration").await;
    let methods = discovery["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(
        methods.contains(&json!(TLS_CLIENT_AUTH)) && methods.contains(&json!(SELF_SIGNED)),
        "{methods:?}"
    );

    for (id, method) in [("dn-client", TLS_CLIENT_AUTH), ("self-client", SELF_SIGNED)] {
        srv.create_client(json!({"client_id": id, "token_endpoint_auth_method": method, "scope": "read"}))
            .await;
    }
    let dn = client(
        &srv,
        "dn-client",
        ForwardedCertClient::new(false).acting_as_proxy(&pem(&dn_cert)),
    );
    assert_eq!(claims(&token(&dn).await.unwrap())["client_id"], "dn-client");
    let own = client(
        &srv,
        "self-client",
        ForwardedCertClient::new(true).acting_as_proxy(&pem(&self_signed)),
    );
    assert_eq!(claims(&token(&own).await.unwrap())["client_id"], "self-client");
}

#[tokio::test]
async fn another_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (registered, other) = (
        TestCert::make(dir.path(), "mine"),
        TestCert::make(dir.path(), "theirs"),
    );
    let bindings = vec![
        ("dn-client".to_owned(), Binding::SubjectDn("CN=mine".into())),
        (
            "self-client".to_owned(),
            Binding::certificate_pem(&registered.pem()).unwrap(),
        ),
    ];
    let srv = server("127.0.0.1/32", bindings).await;
    for (id, method) in [("dn-client", TLS_CLIENT_AUTH), ("self-client", SELF_SIGNED)] {
        srv.create_client(json!({"client_id": id, "token_endpoint_auth_method": method, "scope": "read"}))
            .await;
        let self_signed = method == SELF_SIGNED;
        let c = client(
            &srv,
            id,
            ForwardedCertClient::new(self_signed).acting_as_proxy(&pem(&other)),
        );
        let err = token(&c).await.unwrap_err();
        assert_eq!(err.oauth_error(), Some("invalid_client"), "{method}: {err}");
    }
}

#[tokio::test]
async fn the_header_from_an_untrusted_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::make(dir.path(), "svc");
    // The only proxy is elsewhere: this test's requests come from 127.0.0.1.
    let srv = server(
        "10.9.9.9/32",
        vec![("dn-client".to_owned(), Binding::SubjectDn("CN=svc".into()))],
    )
    .await;
    srv.create_client(
        json!({"client_id": "dn-client", "token_endpoint_auth_method": TLS_CLIENT_AUTH, "scope": "read"}),
    )
    .await;
    let resp = srv
        .http
        .post(srv.url("/token"))
        .header(CERT_HEADER, url_encode(&pem(&cert)))
        .form(&[("grant_type", "client_credentials"), ("client_id", "dn-client")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

fn url_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}
