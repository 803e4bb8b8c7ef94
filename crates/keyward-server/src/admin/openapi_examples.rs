//! Example bodies for the API description, by operation. The test `openapi.rs` validates each
//! against the schema it illustrates, so an example that drifts from its type fails there.

use serde_json::{json, Value};

/// Where an example goes: the request body, or the answer with this status.
pub(super) enum Slot {
    Request,
    Response(&'static str),
}

/// Every example, by `operationId`.
pub(super) fn all() -> Vec<(&'static str, Slot, Value)> {
    use Slot::{Request, Response};
    vec![
        ("createClient", Request, create_request()),
        ("createClient", Response("201"), created()),
        (
            "listClients",
            Response("200"),
            json!({"clients": [client()], "next_after": null}),
        ),
        ("getClient", Response("200"), client()),
        (
            "updateClient",
            Request,
            json!({"scope": "read", "enabled": false}),
        ),
        ("updateClient", Response("200"), updated_client()),
        (
            "rotateClientSecret",
            Request,
            json!({"grace_period_seconds": 3600}),
        ),
        ("rotateClientSecret", Response("200"), rotated()),
        (
            "listCredentials",
            Response("200"),
            json!({"credentials": [credential()]}),
        ),
        ("importCredential", Request, import_request()),
        (
            "importCredential",
            Response("201"),
            json!({"credentials": [credential()]}),
        ),
        ("generateCredential", Request, generate_request()),
        ("generateCredential", Response("201"), generated()),
        ("updateCredential", Request, json!({"enabled": false})),
        ("updateCredential", Response("200"), credential()),
        ("clearKeysCache", Request, json!({"client_id": "partner-api"})),
        ("clearKeysCache", Response("200"), json!({"cleared_urls": 1})),
        ("getClientJwksCache", Response("200"), cached_jwks()),
        ("listAuditEvents", Response("200"), audit_page()),
        (
            "listSigningKeys",
            Response("200"),
            json!({"keys": [signing_key("active"), signing_key("retiring")]}),
        ),
        ("rotateSigningKey", Request, json!({"alg": "ES256"})),
        ("rotateSigningKey", Response("200"), signing_key("active")),
        (
            "createUser",
            Request,
            json!({"username": "alice", "password": "correct horse battery staple", "name": "Alice Example",
                   "email": "alice@example.com", "roles": ["admin"]}),
        ),
        ("createUser", Response("201"), user()),
        (
            "listUsers",
            Response("200"),
            json!({"users": [user()], "next_after": "alice"}),
        ),
        ("getUser", Response("200"), user()),
        ("updateUser", Request, json!({"enabled": false, "email": null})),
        ("updateUser", Response("200"), user()),
        ("requestToken", Request, token_form()),
        (
            "introspectToken",
            Request,
            json!({"token": "eyJhbGciOiJFUzI1NiIsImtpZCI6InNrLTEiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJl",
                   "token_type_hint": "access_token"}),
        ),
        (
            "revokeToken",
            Request,
            json!({"token": "q3Xq5c0mC4n8vX1l0s9oYbT2Zr6wD7eJ1aHkPuNfGiQ", "token_type_hint": "refresh_token"}),
        ),
        (
            "pushAuthorizationRequest",
            Request,
            json!({"response_type": "code", "client_id": "webapp", "redirect_uri": "https://app.example.com/callback",
                   "scope": "openid profile", "state": "af0ifjsldkj", "nonce": "n-0S6_WzA2Mj",
                   "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}),
        ),
        ("getOpenIdConfiguration", Response("200"), discovery()),
        ("getAuthorizationServerMetadata", Response("200"), discovery()),
        ("getJwks", Response("200"), json!({"keys": [server_key()]})),
        ("getHealth", Response("200"), json!({"status": "ok"})),
        (
            "getHealth",
            Response("503"),
            json!({"status": "unavailable", "storage": "unreachable"}),
        ),
    ]
}

/// The error bodies of the shared answers, by component name.
pub(super) fn errors() -> Vec<(&'static str, Value)> {
    vec![
        (
            "BearerRequestInvalid",
            error("invalid_request", "more than one Authorization header"),
        ),
        ("Unauthorized", error("invalid_token", "the token has expired")),
        (
            "Forbidden",
            error("insufficient_scope", "the token lacks scope keyward:admin"),
        ),
        (
            "TooManyRequests",
            error(
                "slow_down",
                "too many failed authentications from this address; retry later",
            ),
        ),
        (
            "BodyTimeout",
            error("invalid_request", "the request body did not arrive in time"),
        ),
        ("InternalError", error("server_error", "internal error")),
        (
            "Unavailable",
            error("temporarily_unavailable", "storage is unavailable; retry"),
        ),
    ]
}

fn error(code: &str, description: &str) -> Value {
    json!({"error": code, "error_description": description})
}

const CREATED_AT: &str = "2026-01-31T12:00:00Z";

fn user() -> Value {
    json!({"username": "alice", "name": "Alice Example", "email": "alice@example.com", "roles": ["admin"],
           "enabled": true, "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-02T00:00:00Z"})
}

fn create_request() -> Value {
    json!({
        "client_id": "billing",
        "client_name": "Billing service",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["client_credentials"],
        "scope": "read write",
        "access_token_lifetime": 300
    })
}

fn client() -> Value {
    json!({
        "client_id": "billing",
        "client_name": "Billing service",
        "client_uri": null,
        "token_endpoint_auth_method": "client_secret_basic",
        "token_endpoint_auth_signing_alg": null,
        "legacy_token_endpoint_audience": false,
        "jwks_uri": null,
        "grant_types": ["client_credentials"],
        "scope": "read write",
        "default_audience": null,
        "allowed_audiences": [],
        "access_token_lifetime": 300,
        "enabled": true,
        "redirect_uris": [],
        "post_logout_redirect_uris": [],
        "first_party": false,
        "require_pushed_authorization_requests": false,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT
    })
}

fn updated_client() -> Value {
    let mut c = client();
    if let Some(o) = c.as_object_mut() {
        o.insert("scope".into(), json!("read"));
        o.insert("enabled".into(), json!(false));
        o.insert("updated_at".into(), json!("2026-02-01T08:30:00Z"));
    }
    c
}

fn created() -> Value {
    let mut c = client();
    if let Some(o) = c.as_object_mut() {
        o.insert(
            "client_secret".into(),
            json!("kw_3vQnHc0rX6h2yJ9dT1mBfA8sLzE4uWpK"),
        );
        o.insert("client_secret_expires_at".into(), json!(0));
    }
    c
}

fn rotated() -> Value {
    json!({
        "client_id": "billing",
        "client_secret": "kw_Yb7tR2mQ9xZc4nV1sK8pL3dF6gH0jWeA",
        "client_secret_expires_at": 0,
        "previous_secret_expires_at": 1769864400
    })
}

fn client_key() -> Value {
    json!({
        "kty": "EC",
        "kid": "partner-2026",
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    })
}

fn credential() -> Value {
    json!({
        "id": "3f1c9a7e-5b2d-4e8f-9a61-0c7d2e4b8f15",
        "name": "partner signing key 2026",
        "kid": "partner-2026",
        "alg": "ES256",
        "thumbprint": "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U",
        "jwk": client_key(),
        "created_at": CREATED_AT,
        "expires_at": "2027-01-31T12:00:00Z",
        "enabled": true
    })
}

fn import_request() -> Value {
    json!({
        "name": "partner signing key 2026",
        "format": "jwk",
        "data": client_key().to_string(),
        "expires_at": "2027-01-31T12:00:00Z"
    })
}

fn generate_request() -> Value {
    json!({
        "key_type": "EC-P256",
        "format": "pkcs12",
        "alias": "partner",
        "store_password": "correct horse battery staple",
        "validity_days": 365,
        "name": "generated 2026"
    })
}

fn generated() -> Value {
    json!({
        "credential": credential(),
        "filename": "partner-api.p12",
        "keystore": "MIIKUgIBAzCCCgwGCSqGSIb3DQEHAaCCCf0EggnpMIIJ5TCCBZIGCSqGSIb3DQEHAaCC"
    })
}

fn cached_jwks() -> Value {
    json!({
        "jwks_uri": "https://partner.example.com/.well-known/jwks.json",
        "cached": true,
        "keys": [client_key()],
        "fetched_at": CREATED_AT,
        "last_success_at": CREATED_AT,
        "expires_at": "2026-01-31T12:05:00Z",
        "last_error": null
    })
}

fn audit_page() -> Value {
    json!({
        "events": [{
            "id": 42,
            "at": CREATED_AT,
            "actor": "keyward-admin",
            "action": "client.create",
            "target": "billing",
            "outcome": "success",
            "detail": {"token_endpoint_auth_method": "client_secret_basic", "scope": "read write"}
        }],
        "next_cursor": null,
        "next_before": null
    })
}

fn token_form() -> Value {
    json!({
        "grant_type": "client_credentials",
        "scope": "read",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "eyJhbGciOiJFUzI1NiIsImtpZCI6InBhcnRuZXItMjAyNiJ9.eyJpc3MiOiJwYXJ0bmVyLWFwaSJ9.c2lnbmF0dXJl"
    })
}

fn discovery() -> Value {
    let methods = json!([
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt"
    ]);
    let algs = json!(["RS256", "PS256", "ES256", "EdDSA", "HS256"]);
    json!({
        "issuer": "https://auth.example.com",
        "authorization_endpoint": "https://auth.example.com/authorize",
        "token_endpoint": "https://auth.example.com/token",
        "userinfo_endpoint": "https://auth.example.com/userinfo",
        "jwks_uri": "https://auth.example.com/jwks",
        "pushed_authorization_request_endpoint": "https://auth.example.com/par",
        "require_pushed_authorization_requests": false,
        "introspection_endpoint": "https://auth.example.com/introspect",
        "revocation_endpoint": "https://auth.example.com/revoke",
        "end_session_endpoint": "https://auth.example.com/logout",
        "scopes_supported": ["openid", "profile", "email", "offline_access", "keyward:admin"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": methods,
        "token_endpoint_auth_signing_alg_values_supported": algs,
        "introspection_endpoint_auth_methods_supported": methods,
        "introspection_endpoint_auth_signing_alg_values_supported": algs,
        "revocation_endpoint_auth_methods_supported": methods,
        "revocation_endpoint_auth_signing_alg_values_supported": algs,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "preferred_username", "email"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"]
    })
}

fn server_key() -> Value {
    json!({
        "kty": "EC",
        "kid": "sk-2026-01",
        "use": "sig",
        "alg": "ES256",
        "crv": "P-256",
        "x": "WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis",
        "y": "y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE"
    })
}

/// A signing key as the admin API shows it, `active` or `retiring`.
fn signing_key(state: &str) -> Value {
    if state == "active" {
        json!({"kid": "Zb2y4Mw1rXo5vS0kQp8eTn3uLh6aJc9dGf7iKm2lNq4", "alg": "ES256",
               "created_at": "2026-05-02T09:30:00Z", "retire_at": null, "state": "active"})
    } else {
        json!({"kid": "Hq7nT1wYc4eR8uJ2kL5oP0sA3dF6gV9bX2zM4iN7mQ1", "alg": "RS256",
               "created_at": "2026-01-10T08:00:00Z", "retire_at": "2026-05-02T10:30:00Z", "state": "retiring"})
    }
}
