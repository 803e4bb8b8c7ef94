//! Entry point for the coverage-guided fuzz targets (`fuzz/`, through the `keyward-fuzz`
//! crate): the token endpoint's reading of a request, without a socket. Not an API; hidden from
//! the documentation.

use axum::http::{header, HeaderMap, HeaderValue};
use keyward_client_auth::{built_in_methods, AuthError, Authenticator, Presented, RequestParts};
use keyward_types::AuthMethod;

use crate::backchannel::parse_form;

/// A token request as steps 1 and 2 of DESIGN.md "The token request" read it.
#[derive(Debug)]
pub struct ReadRequest {
    /// The `client_id` form parameter, if sent.
    pub client_id: Option<String>,
    pub presented: Result<Presented, AuthError>,
    /// The methods whose mechanism read `presented`.
    pub read_by: Vec<AuthMethod>,
}

/// The form (`None` when it is refused: a repeated parameter), then what the client presented
/// in it and in the `Authorization` header, read by keyward's own methods.
pub fn token_request(authorization: Option<&str>, body: &[u8]) -> Option<ReadRequest> {
    let form = parse_form(body).ok()?;
    let mut headers = HeaderMap::new();
    if let Some(value) = authorization {
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).ok()?);
    }
    let mut authenticator = Authenticator::default();
    for method in built_in_methods() {
        authenticator.register(method).ok()?;
    }
    let parts = RequestParts {
        headers: &headers,
        form: &form,
        peer: None,
        tls: None,
    };
    let presented = authenticator.extract(&parts);
    let read_by = presented
        .as_ref()
        .map(|p| authenticator.methods_of(p))
        .unwrap_or_default();
    Some(ReadRequest {
        client_id: form.get("client_id").map(str::to_owned),
        presented,
        read_by,
    })
}

/// What `/authorize` makes of a query string, for a fixed client registered with
/// `https://app.example/cb`, scope `read write` and the code grant: `Ok` with the validated
/// request, or the refusal (a page or a redirect).
pub fn authorize_request(query: &[u8]) -> Result<AuthorizeRead, String> {
    use crate::authorize::request::{redirect_uri, validate, Params, Refusal};
    let client = fuzz_client().ok_or("the fuzz client id does not parse")?;
    let to_string = |r: Refusal| match r {
        Refusal::Page(m) => format!("page: {m}"),
        Refusal::Redirect { error, description } => format!("{error}: {description}"),
    };
    let params = Params::parse(query).map_err(to_string)?;
    let uri = redirect_uri(Some(&client), &params).map_err(to_string)?;
    let request = validate(&client, uri, &params, time::OffsetDateTime::UNIX_EPOCH).map_err(to_string)?;
    Ok(AuthorizeRead {
        redirect_uri: request.redirect_uri,
        scope: request.scope.iter().map(str::to_owned).collect(),
        code_challenge: request.code_challenge,
        state: request.state,
        nonce: request.nonce,
        registered_redirect_uris: client.redirect_uris,
    })
}

/// A validated authorization request, as the fuzz target checks it.
#[derive(Debug)]
pub struct AuthorizeRead {
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub code_challenge: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub registered_redirect_uris: Vec<String>,
}

fn fuzz_client() -> Option<keyward_types::Client> {
    use keyward_types::{Client, ClientId, GrantType, Scope};
    let scope = Scope::parse("read write").unwrap_or_default();
    Some(Client {
        client_id: ClientId::parse("fuzz-web").ok()?,
        client_name: None,
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        max_assertion_lifetime: None,
        client_secret_lifetime: None,
        jwks_uri: None,
        grant_types: vec![GrantType::AuthorizationCode],
        scope,
        default_audience: None,
        allowed_audiences: Vec::new(),
        access_token_lifetime: 300,
        enabled: true,
        redirect_uris: vec!["https://app.example/cb".into()],
        post_logout_redirect_uris: Vec::new(),
        first_party: false,
        require_pushed_authorization_requests: false,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        updated_at: time::OffsetDateTime::UNIX_EPOCH,
    })
}
