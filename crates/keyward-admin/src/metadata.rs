//! Client metadata (RFC 7591 names) and its rules: every field validated, with an error that
//! names it.

use keyward_types::{AuthMethod, Client, ClientId, GrantType, Scope, SigningAlg, TypeError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{error::FieldProblem, redirect_uris::check_list, AdminError, Limits};

/// Client metadata as registered (and as a change is merged into the stored client). Unknown
/// fields are refused, not ignored, so a typo never goes unnoticed.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// Generated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// `client_secret_basic` (default) or another method the server runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// Pins the one algorithm the client's assertions may use (JWT methods only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Accept the token endpoint URL as assertion `aud` (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_token_endpoint_audience: Option<bool>,
    /// `private_key_jwt` only: public keys (`{"keys": [...]}`), each becoming a credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub jwks: Option<serde_json::Value>,
    /// `private_key_jwt` only, instead of `jwks`: where the client publishes its keys (https and a
    /// public address unless the server allows otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Default `["client_credentials"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// Space-separated scope tokens the client may request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `aud` of tokens requested without `resource`; the issuer when absent. Absolute URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_audience: Option<String>,
    /// Absolute URIs a `resource` parameter (RFC 8707) may name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_audiences: Option<Vec<String>>,
    /// Seconds; default from the server config, at most its `max_access_token_lifetime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Longest `exp - iat` of this client's assertions, in seconds (default: the server's
    /// `max_assertion_lifetime`; at most its `max_client_assertion_lifetime`). For client
    /// libraries that sign long-lived assertions, such as Authlib (3600 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_assertion_lifetime: Option<u32>,
    /// Lifetime of the client's secrets in seconds, from generation or rotation; 0 never
    /// expires (default: the server's `client_secret_lifetime_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_lifetime: Option<u64>,
    /// Read-only (RFC 7591 §3.2.1): when the current secret expires, 0 for never. Accepted in a
    /// request only with the value it already has, so a registration response can be sent
    /// back as it came; the lifetime is set with `client_secret_lifetime`.
    #[serde(skip_serializing)]
    pub client_secret_expires_at: Option<i64>,
    /// Where the authorization code flow may return the user (RFC 7591), matched exactly: https,
    /// http only to a loopback host, or a native app's reverse-domain scheme (RFC 8252); no
    /// fragment, no user information; at most 20 of at most 2,000 characters, no duplicates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    /// Where RP-Initiated Logout may return the user; the rules of `redirect_uris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// keyward's own application: the consent page is skipped (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_party: Option<bool>,
    /// Authorization requests must be pushed first (RFC 9126 §6; default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
}

/// Longest client or credential name.
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// Times in admin answers: RFC 3339, UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl From<&Client> for ClientMetadata {
    fn from(c: &Client) -> Self {
        Self {
            client_id: Some(c.client_id.to_string()),
            client_name: c.client_name.clone(),
            client_uri: c.client_uri.clone(),
            token_endpoint_auth_method: Some(c.token_endpoint_auth_method.to_string()),
            token_endpoint_auth_signing_alg: c.token_endpoint_auth_signing_alg.map(|a| a.to_string()),
            legacy_token_endpoint_audience: Some(c.legacy_token_endpoint_audience),
            jwks: None,
            jwks_uri: c.jwks_uri.clone(),
            grant_types: Some(c.grant_types.iter().map(|g| g.to_string()).collect()),
            scope: Some(c.scope.to_string()),
            default_audience: c.default_audience.clone(),
            allowed_audiences: Some(c.allowed_audiences.clone()),
            access_token_lifetime: Some(c.access_token_lifetime),
            enabled: Some(c.enabled),
            max_assertion_lifetime: c.max_assertion_lifetime,
            client_secret_lifetime: c.client_secret_lifetime,
            client_secret_expires_at: None,
            redirect_uris: Some(c.redirect_uris.clone()),
            post_logout_redirect_uris: Some(c.post_logout_redirect_uris.clone()),
            first_party: Some(c.first_party),
            require_pushed_authorization_requests: Some(c.require_pushed_authorization_requests),
        }
    }
}

impl ClientMetadata {
    /// Validates every field, in a fixed order (the first fault is the one reported), and builds
    /// the client; `existing` keeps id and creation time.
    pub(crate) fn into_client(
        self,
        existing: Option<&Client>,
        now: OffsetDateTime,
        limits: &Limits,
    ) -> Result<Client, AdminError> {
        let client_id = client_id(existing, self.client_id)?;
        let method = auth_method(self.token_endpoint_auth_method, &limits.auth_methods)?;
        let grant_types = grant_types(self.grant_types)?;
        let scope =
            Scope::parse(self.scope.as_deref().unwrap_or("")).map_err(|e| AdminError::value("scope", e))?;
        let client_uri = self.client_uri.map(client_uri).transpose()?;
        let default_audience = self
            .default_audience
            .map(|a| absolute_uri("default_audience", a))
            .transpose()?;
        let allowed_audiences = self
            .allowed_audiences
            .unwrap_or_default()
            .into_iter()
            .map(|a| absolute_uri("allowed_audiences", a))
            .collect::<Result<Vec<_>, _>>()?;
        let access_token_lifetime = lifetime(self.access_token_lifetime, limits)?;
        check_name("client_name", self.client_name.as_deref())?;
        let signing_alg = self
            .token_endpoint_auth_signing_alg
            .map(|a| signing_alg(&a, &method, limits))
            .transpose()?;
        // A stored `jwks_uri` stays when the client switches to another method (unused until
        // it switches back); a new one is checked against the method.
        let kept_uri = existing.and_then(|e| e.jwks_uri.as_deref());
        let jwks_uri = match self.jwks_uri {
            Some(uri) if Some(uri.as_str()) == kept_uri => Some(uri),
            other => other
                .map(|uri| jwks_uri(uri, &method, self.jwks.is_some(), limits))
                .transpose()?,
        };
        let max_assertion_lifetime = self
            .max_assertion_lifetime
            .map(|l| assertion_lifetime(l, limits))
            .transpose()?;
        let client_secret_lifetime = self.client_secret_lifetime.map(secret_lifetime).transpose()?;
        let redirect_uris = check_list("redirect_uris", self.redirect_uris)?;
        let post_logout_redirect_uris =
            check_list("post_logout_redirect_uris", self.post_logout_redirect_uris)?;
        Ok(Client {
            client_id,
            client_name: self.client_name,
            client_uri,
            token_endpoint_auth_method: method,
            token_endpoint_auth_signing_alg: signing_alg,
            legacy_token_endpoint_audience: self.legacy_token_endpoint_audience.unwrap_or(false),
            max_assertion_lifetime,
            client_secret_lifetime,
            jwks_uri,
            grant_types,
            scope,
            default_audience,
            allowed_audiences,
            access_token_lifetime,
            enabled: self.enabled.unwrap_or(true),
            redirect_uris,
            post_logout_redirect_uris,
            first_party: self.first_party.unwrap_or(false),
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or(false),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
        })
    }
}

/// The stored id, or a new client's: the one place an id is born, so it must be safe in a URL
/// path, a file name and a header (see `ClientId::new_registration`).
fn client_id(existing: Option<&Client>, sent: Option<String>) -> Result<ClientId, AdminError> {
    match (existing, sent) {
        (Some(e), Some(id)) if id != e.client_id.as_str() => {
            Err(AdminError::field("client_id", "client_id cannot be changed"))
        }
        (Some(e), _) => Ok(e.client_id.clone()),
        (None, Some(id)) => ClientId::new_registration(id).map_err(|e| AdminError::value("client_id", e)),
        (None, None) => ClientId::new_registration(crate::random_id()?).map_err(AdminError::GeneratedId),
    }
}

/// The method by name, if this server runs it; `client_secret_basic` when absent.
fn auth_method(name: Option<String>, registered: &[AuthMethod]) -> Result<AuthMethod, AdminError> {
    let field = "token_endpoint_auth_method";
    let Some(name) = name else {
        return Ok(AuthMethod::ClientSecretBasic);
    };
    let method: AuthMethod = name.parse().map_err(|e| AdminError::value(field, e))?;
    if registered.contains(&method) {
        Ok(method)
    } else {
        Err(AdminError::value(field, TypeError::UnknownAuthMethod(name)))
    }
}

/// Grant types by name, each once; `client_credentials` when absent.
fn grant_types(names: Option<Vec<String>>) -> Result<Vec<GrantType>, AdminError> {
    let Some(names) = names else {
        return Ok(vec![GrantType::ClientCredentials]);
    };
    let mut out = Vec::new();
    for name in names {
        let g: GrantType = name.parse().map_err(|e| AdminError::value("grant_types", e))?;
        if !out.contains(&g) {
            out.push(g);
        }
    }
    Ok(out)
}

fn client_uri(value: String) -> Result<String, AdminError> {
    let parsed = match url::Url::parse(&value) {
        Ok(u) => u,
        Err(source) => {
            return Err(AdminError::value(
                "client_uri",
                FieldProblem::NotUrl { value, source },
            ))
        }
    };
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(AdminError::field("client_uri", "must be an http or https URL"));
    }
    Ok(value)
}

/// An absolute URI without fragment (RFC 8707 §2 for resources).
fn absolute_uri(field: &'static str, value: String) -> Result<String, AdminError> {
    let url = match url::Url::parse(&value) {
        Ok(u) => u,
        Err(source) => {
            return Err(AdminError::value(
                field,
                FieldProblem::NotAbsoluteUri { value, source },
            ))
        }
    };
    if url.fragment().is_some() {
        return Err(AdminError::field(
            field,
            format!("'{value}' must not have a fragment"),
        ));
    }
    Ok(value)
}

fn lifetime(sent: Option<u32>, limits: &Limits) -> Result<u32, AdminError> {
    let lifetime = sent.unwrap_or(limits.default_access_token_lifetime);
    if lifetime == 0 || lifetime > limits.max_access_token_lifetime {
        return Err(AdminError::field(
            "access_token_lifetime",
            format!(
                "must be between 1 and {} seconds",
                limits.max_access_token_lifetime
            ),
        ));
    }
    Ok(lifetime)
}

/// A client's own assertion lifetime: 1 s up to the server's cap for clients.
fn assertion_lifetime(seconds: u32, limits: &Limits) -> Result<u32, AdminError> {
    let max = limits.max_client_assertion_lifetime;
    if seconds == 0 || seconds > max {
        return Err(AdminError::field(
            "max_assertion_lifetime",
            format!("must be between 1 and {max} seconds"),
        ));
    }
    Ok(seconds)
}

/// Longest secret lifetime: about a hundred years, so that an expiry time always fits.
const MAX_SECRET_LIFETIME: u64 = 100 * 366 * 86_400;

fn secret_lifetime(seconds: u64) -> Result<u64, AdminError> {
    if seconds > MAX_SECRET_LIFETIME {
        return Err(AdminError::field(
            "client_secret_lifetime",
            format!("at most {MAX_SECRET_LIFETIME} seconds (0 never expires)"),
        ));
    }
    Ok(seconds)
}

/// A client's or credential's name: at most [`MAX_NAME_CHARS`] characters.
pub(crate) fn check_name(field: &'static str, name: Option<&str>) -> Result<(), AdminError> {
    match name {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            Err(AdminError::field(field, "at most 200 characters"))
        }
        _ => Ok(()),
    }
}

/// A pinned assertion algorithm must be one the server allows and must fit the method: HMAC
/// for `client_secret_jwt`, asymmetric for `private_key_jwt`, none for the others.
fn signing_alg(value: &str, method: &AuthMethod, limits: &Limits) -> Result<SigningAlg, AdminError> {
    let field = "token_endpoint_auth_signing_alg";
    let alg: SigningAlg = value.parse().map_err(|e| AdminError::value(field, e))?;
    let fits = match method {
        AuthMethod::ClientSecretJwt => alg.is_symmetric(),
        AuthMethod::PrivateKeyJwt => !alg.is_symmetric(),
        _ => {
            return Err(AdminError::field(
                field,
                "only for client_secret_jwt and private_key_jwt clients",
            ))
        }
    };
    if !fits {
        return Err(AdminError::field(
            field,
            format!("{alg} cannot be used with {method}"),
        ));
    }
    if !limits.assertion_signing_algs.contains(&alg) {
        return Err(AdminError::field(
            field,
            format!("{alg} is not allowed by this server"),
        ));
    }
    Ok(alg)
}

fn jwks_uri(uri: String, method: &AuthMethod, has_jwks: bool, limits: &Limits) -> Result<String, AdminError> {
    if *method != AuthMethod::PrivateKeyJwt {
        return Err(AdminError::field(
            "jwks_uri",
            "only private_key_jwt clients publish keys at a URL",
        ));
    }
    if has_jwks {
        return Err(AdminError::field(
            "jwks_uri",
            "register either jwks or jwks_uri, not both",
        ));
    }
    keyward_jwks_fetch::check_jwks_uri(&uri, &limits.fetch).map_err(|e| AdminError::value("jwks_uri", e))?;
    Ok(uri)
}
