//! Schemas that exist only for the API description: the token request's form, the JWKS
//! document and the health answer, which the handlers read and write as forms and pre-rendered
//! JSON. The handlers name them in their `utoipa::path` attributes.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// `POST /token` (RFC 6749 §4.4.2, §2.3.1; RFC 7523 §2.2; RFC 8707): each parameter at most
/// once. The client authenticates with exactly one of: HTTP Basic (`client_secret_basic`),
/// `client_id` and `client_secret` here (`client_secret_post`), or `client_assertion_type`
/// and `client_assertion` (`client_secret_jwt`, `private_key_jwt`).
#[derive(ToSchema)]
pub(crate) struct TokenForm {
    grant_type: TokenGrantType,
    /// Space-separated; a subset of the client's registered scope (default: all of it).
    #[schema(nullable = false)]
    scope: Option<String>,
    /// RFC 8707: the audience asked for; one of the client's allowed audiences.
    #[schema(nullable = false)]
    resource: Option<String>,
    /// `client_secret_post` (optional with an assertion, which names the client itself).
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// `client_secret_post`.
    #[schema(nullable = false)]
    client_secret: Option<String>,
    #[schema(nullable = false)]
    client_assertion_type: Option<AssertionType>,
    /// A JWT signed with the client's secret (HS256/384/512) or one of its keys.
    #[schema(nullable = false)]
    client_assertion: Option<String>,
}

/// `POST /introspect` (RFC 7662 §2.1) and `POST /revoke` (RFC 7009 §2.1): the token, and the
/// calling client's authentication as at `/token`.
#[derive(ToSchema)]
pub(crate) struct TokenQueryForm {
    token: String,
    /// `access_token` or `refresh_token`; keyward tells them apart by their form.
    #[schema(nullable = false)]
    token_type_hint: Option<String>,
    #[schema(nullable = false)]
    client_id: Option<String>,
    #[schema(nullable = false)]
    client_secret: Option<String>,
    #[schema(nullable = false)]
    client_assertion_type: Option<AssertionType>,
    #[schema(nullable = false)]
    client_assertion: Option<String>,
}

/// `POST /par` (RFC 9126 §2.1): the parameters of `/authorize`, and the client's authentication
/// as at `/token`.
#[derive(ToSchema)]
pub(crate) struct PushedAuthorizationForm {
    /// `code`.
    response_type: String,
    #[schema(nullable = false)]
    client_id: Option<String>,
    redirect_uri: String,
    #[schema(nullable = false)]
    scope: Option<String>,
    #[schema(nullable = false)]
    state: Option<String>,
    #[schema(nullable = false)]
    nonce: Option<String>,
    code_challenge: String,
    /// `S256`.
    code_challenge_method: String,
    #[schema(nullable = false)]
    prompt: Option<String>,
    #[schema(nullable = false)]
    max_age: Option<u64>,
    #[schema(nullable = false)]
    client_secret: Option<String>,
    #[schema(nullable = false)]
    client_assertion_type: Option<AssertionType>,
    #[schema(nullable = false)]
    client_assertion: Option<String>,
}

/// The grant types `POST /token` implements.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TokenGrantType {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

/// RFC 7523 §2.2.
#[derive(Serialize, ToSchema)]
pub(crate) enum AssertionType {
    #[serde(rename = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")]
    JwtBearer,
}

/// The server's public signing keys (RFC 7517 §5), to verify access tokens with.
#[derive(ToSchema)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

/// One public key (RFC 7517 §4): `n`, `e` for RSA; `crv`, `x`, `y` for EC; `crv`, `x` for OKP.
#[derive(Serialize, ToSchema)]
pub(crate) struct Jwk {
    kty: KeyKty,
    #[schema(nullable = false)]
    kid: Option<String>,
    #[schema(nullable = false)]
    alg: Option<String>,
    #[serde(rename = "use")]
    #[schema(nullable = false)]
    use_: Option<String>,
    #[schema(nullable = false)]
    n: Option<String>,
    #[schema(nullable = false)]
    e: Option<String>,
    #[schema(nullable = false)]
    crv: Option<String>,
    #[schema(nullable = false)]
    x: Option<String>,
    #[schema(nullable = false)]
    y: Option<String>,
    /// Standard base64 DER certificates (RFC 7517 §4.7).
    #[schema(nullable = false)]
    x5c: Option<Vec<String>>,
}

/// RFC 7518 §6.1.
#[derive(Serialize, ToSchema)]
pub(crate) enum KeyKty {
    #[serde(rename = "RSA")]
    Rsa,
    #[serde(rename = "EC")]
    Ec,
    #[serde(rename = "OKP")]
    Okp,
}

/// `GET /healthz`: whether the database answers.
#[derive(ToSchema)]
pub(crate) struct HealthStatus {
    status: HealthState,
    /// Present when unavailable: which dependency failed.
    #[schema(nullable = false)]
    storage: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HealthState {
    Ok,
    Unavailable,
}
