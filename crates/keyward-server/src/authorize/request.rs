//! Reading an authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1) into a
//! typed, validated [`AuthRequest`], in the order that decides where an error may go: until the
//! client and its `redirect_uri` are known good, an error is shown as a page (sending it to an
//! unchecked URI would make keyward an open redirector); after that it goes back to the client.

use std::collections::HashMap;

use keyward_admin::ADMIN_SCOPE;
use keyward_types::{Client, GrantType, Scope, USER_SCOPES};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest `state` or `nonce` kept (they travel in URLs and tokens).
const MAX_OPAQUE: usize = 512;

/// A validated authorization request: what a code will be bound to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AuthRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: Scope,
    pub(crate) state: Option<String>,
    pub(crate) nonce: Option<String>,
    /// PKCE `S256` challenge.
    pub(crate) code_challenge: String,
    pub(crate) prompt: Prompt,
    /// OIDC `max_age`, seconds.
    pub(crate) max_age: Option<u64>,
    /// When the request reached keyward: a sign-in for `prompt=login` must come after it.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) requested_at: OffsetDateTime,
}

/// OIDC Core `prompt`, as far as keyward acts on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Prompt {
    #[default]
    Default,
    /// Never show a page: answer `login_required` or `consent_required` instead.
    None,
    /// Sign in again even with a live session.
    Login,
    /// Ask for consent again even if it was given.
    Consent,
}

/// Why a request is refused, and so where the answer goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client or the redirect URI cannot be trusted: a page, never a redirect.
    Page(String),
    /// Back to the client's redirect URI with an OAuth error (RFC 6749 §4.1.2.1).
    Redirect {
        error: &'static str,
        description: String,
    },
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal::Redirect {
        error,
        description: description.into(),
    }
}

/// The parameters of a request, each at most once.
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// From a query string or form body; a repeated parameter is refused as a page (which
    /// `redirect_uri` or `client_id` counts would be a guess).
    pub(crate) fn parse(raw: &[u8]) -> Result<Self, Refusal> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw) {
            if map.insert(k.clone().into_owned(), v.into_owned()).is_some() {
                let name: String = k.chars().take(64).collect();
                return Err(Refusal::Page(format!("the parameter '{name}' is repeated")));
            }
        }
        Ok(Self(map))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Step one: the client and its redirect URI (errors are pages).
pub(crate) fn redirect_uri<'a>(client: Option<&Client>, params: &'a Params) -> Result<&'a str, Refusal> {
    let client = client
        .filter(|c| c.enabled)
        .ok_or_else(|| Refusal::Page("the application that sent you here is not known to keyward".into()))?;
    let uri = params
        .get("redirect_uri")
        .ok_or_else(|| Refusal::Page("the request names no redirect_uri".into()))?;
    if !client.redirect_uris.iter().any(|r| r == uri) {
        return Err(Refusal::Page(
            "the redirect_uri is not registered for this application".into(),
        ));
    }
    Ok(uri)
}

/// Step two, with a good redirect URI: everything else (errors go back to the client).
pub(crate) fn validate(
    client: &Client,
    redirect_uri: &str,
    params: &Params,
    now: OffsetDateTime,
) -> Result<AuthRequest, Refusal> {
    if params.get("request").is_some() {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported; use /par",
        ));
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(refuse(
            "unauthorized_client",
            "the client is not registered for authorization_code",
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is missing")),
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(refuse("invalid_request", "only response_mode=query is supported"));
    }
    let code_challenge = pkce(params)?;
    let scope = scope(client, params.get("scope"))?;
    let prompt = prompt(params.get("prompt"))?;
    let max_age = params
        .get("max_age")
        .map(|m| m.parse::<u64>())
        .transpose()
        .map_err(|_| refuse("invalid_request", "max_age must be a number of seconds"))?;
    let opaque = |name: &str| -> Result<Option<String>, Refusal> {
        match params.get(name) {
            Some(v) if v.len() > MAX_OPAQUE => Err(refuse(
                "invalid_request",
                format!("{name} is longer than {MAX_OPAQUE} bytes"),
            )),
            v => Ok(v.map(str::to_owned)),
        }
    };
    Ok(AuthRequest {
        client_id: client.client_id.to_string(),
        redirect_uri: redirect_uri.to_owned(),
        scope,
        state: opaque("state")?,
        nonce: opaque("nonce")?,
        code_challenge,
        prompt,
        max_age,
        requested_at: now,
    })
}

/// RFC 7636 with `S256` only: `plain` gives an intercepted code to whoever saw the request.
fn pkce(params: &Params) -> Result<String, Refusal> {
    let challenge = params
        .get("code_challenge")
        .ok_or_else(|| refuse("invalid_request", "code_challenge is required (PKCE, S256)"))?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(refuse("invalid_request", "code_challenge_method must be S256"));
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 (43 characters)",
        ));
    }
    Ok(challenge.to_owned())
}

/// The requested scope: the user scopes, and the client's registered scope; never the admin
/// scope (a user's token must not administer keyward).
fn scope(client: &Client, requested: Option<&str>) -> Result<Scope, Refusal> {
    let scope =
        Scope::parse(requested.unwrap_or("openid")).map_err(|e| refuse("invalid_scope", e.to_string()))?;
    for token in scope.iter() {
        let allowed = USER_SCOPES.contains(&token) || client.scope.contains(token);
        if token == ADMIN_SCOPE || !allowed {
            return Err(refuse(
                "invalid_scope",
                format!("scope '{token}' is not available to this client"),
            ));
        }
    }
    Ok(scope)
}

fn prompt(value: Option<&str>) -> Result<Prompt, Refusal> {
    let Some(value) = value else {
        return Ok(Prompt::Default);
    };
    let values: Vec<&str> = value.split(' ').collect();
    if values.contains(&"none") && values.len() > 1 {
        return Err(refuse("invalid_request", "prompt=none cannot be combined"));
    }
    let mut prompt = Prompt::Default;
    for v in values {
        prompt = match v {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" if prompt != Prompt::Login => Prompt::Consent,
            "consent" | "select_account" => prompt,
            _ => return Err(refuse("invalid_request", "prompt has an unknown value")),
        };
    }
    Ok(prompt)
}
