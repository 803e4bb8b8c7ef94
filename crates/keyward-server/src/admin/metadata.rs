//! Client metadata in and out of the admin API: RFC 7591 names, every field validated at the
//! edge with an error that names it.

use keyward_types::{AuthMethod, Client, ClientId, Credential, GrantType, Scope, SigningAlg, Untrusted};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::json_body::refuse_duplicate_members;
use crate::{error::ApiError, Config};

/// Client metadata as sent to `POST /admin/clients` (and merged into the stored client by
/// `PATCH`). Unknown fields are refused, not ignored, so a typo never goes unnoticed.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientMetadata {
    /// Generated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
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
    #[schema(value_type = Option<Object>)]
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
}

/// A client as the admin API shows it. Never contains a secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ClientView {
    pub client_id: String,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub token_endpoint_auth_method: String,
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub legacy_token_endpoint_audience: bool,
    pub jwks_uri: Option<String>,
    /// The client's registered public keys (`private_key_jwt`), when shown with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<keyward_types::Jwks>,
    pub grant_types: Vec<String>,
    pub scope: String,
    pub default_audience: Option<String>,
    pub allowed_audiences: Vec<String>,
    pub access_token_lifetime: u32,
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

/// Times in admin responses: RFC 3339, UTC.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl ClientView {
    /// The view with the client's public keys listed as `jwks`.
    pub(crate) fn with_keys(c: &Client, credentials: &[Credential]) -> Self {
        let mut v = Self::from(c);
        if c.token_endpoint_auth_method == AuthMethod::PrivateKeyJwt && c.jwks_uri.is_none() {
            v.jwks = Some(keyward_types::Jwks {
                keys: credentials.iter().map(|k| k.jwk.clone()).collect(),
            });
        }
        v
    }
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        Self {
            client_id: c.client_id.to_string(),
            client_name: c.client_name.clone(),
            client_uri: c.client_uri.clone(),
            token_endpoint_auth_method: c.token_endpoint_auth_method.to_string(),
            token_endpoint_auth_signing_alg: c.token_endpoint_auth_signing_alg.map(|a| a.to_string()),
            legacy_token_endpoint_audience: c.legacy_token_endpoint_audience,
            jwks_uri: c.jwks_uri.clone(),
            jwks: None,
            grant_types: c.grant_types.iter().map(|g| g.to_string()).collect(),
            scope: c.scope.to_string(),
            default_audience: c.default_audience.clone(),
            allowed_audiences: c.allowed_audiences.clone(),
            access_token_lifetime: c.access_token_lifetime,
            enabled: c.enabled,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
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
        }
    }
}

/// A JSON body, or an error that names the offending field: the path serde was at for a wrong
/// type or value, the member's own name for an unknown member, else `body`. A member sent
/// twice is refused first, the same way on every admin endpoint.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_duplicate_members(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .map(|f| Untrusted(f).shown());
        let field = match unknown {
            Some(f) => f,
            None if path.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') => {
                Untrusted(&path).shown()
            }
            None => "body".to_owned(),
        };
        ApiError::InvalidClientMetadata {
            field: field.into(),
            message,
        }
    })
}

/// An absolute URI without fragment (RFC 8707 §2 for resources).
fn absolute_uri(field: &'static str, value: &str) -> Result<String, ApiError> {
    let url = url::Url::parse(value)
        .map_err(|e| ApiError::field(field, format!("'{value}' is not an absolute URI: {e}")))?;
    if url.fragment().is_some() {
        return Err(ApiError::field(
            field,
            format!("'{value}' must not have a fragment"),
        ));
    }
    Ok(value.to_owned())
}

impl ClientMetadata {
    /// Validates every field and builds the client; `existing` keeps id and creation time.
    pub(crate) fn into_client(
        self,
        existing: Option<&Client>,
        now: OffsetDateTime,
        config: &Config,
    ) -> Result<Client, ApiError> {
        let client_id = match (existing, self.client_id) {
            (Some(e), Some(id)) if id != e.client_id.as_str() => {
                return Err(ApiError::field("client_id", "client_id cannot be changed"))
            }
            (Some(e), _) => e.client_id.clone(),
            // A new client is the one place an id is born: it must be safe in a URL path, a
            // file name and a header (see `ClientId::new_registration`).
            (None, Some(id)) => {
                ClientId::new_registration(id).map_err(|e| ApiError::field("client_id", e.to_string()))?
            }
            (None, None) => ClientId::new_registration(uuid::Uuid::new_v4().to_string())
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        };
        let method = match self.token_endpoint_auth_method {
            None => AuthMethod::ClientSecretBasic,
            Some(m) => m.parse().map_err(|e: keyward_types::TypeError| {
                ApiError::field("token_endpoint_auth_method", e.to_string())
            })?,
        };
        let grant_types = match self.grant_types {
            None => vec![GrantType::ClientCredentials],
            Some(list) => {
                let mut out = Vec::new();
                for g in list {
                    let g: GrantType = g.parse().map_err(|e: keyward_types::TypeError| {
                        ApiError::field("grant_types", e.to_string())
                    })?;
                    if !out.contains(&g) {
                        out.push(g);
                    }
                }
                out
            }
        };
        let scope = Scope::parse(self.scope.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::field("scope", e.to_string()))?;
        let client_uri = match self.client_uri {
            None => None,
            Some(u) => {
                let parsed = url::Url::parse(&u)
                    .map_err(|e| ApiError::field("client_uri", format!("'{u}' is not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "https" | "http") {
                    return Err(ApiError::field("client_uri", "must be an http or https URL"));
                }
                Some(u)
            }
        };
        let default_audience = self
            .default_audience
            .map(|a| absolute_uri("default_audience", &a))
            .transpose()?;
        let allowed_audiences = self
            .allowed_audiences
            .unwrap_or_default()
            .iter()
            .map(|a| absolute_uri("allowed_audiences", a))
            .collect::<Result<Vec<_>, _>>()?;
        let lifetime = self
            .access_token_lifetime
            .unwrap_or(config.default_access_token_lifetime);
        if lifetime == 0 || lifetime > config.max_access_token_lifetime {
            return Err(ApiError::field(
                "access_token_lifetime",
                format!(
                    "must be between 1 and {} seconds",
                    config.max_access_token_lifetime
                ),
            ));
        }
        if let Some(name) = &self.client_name {
            if name.chars().count() > 200 {
                return Err(ApiError::field("client_name", "at most 200 characters"));
            }
        }
        let signing_alg = self
            .token_endpoint_auth_signing_alg
            .map(|a| check_signing_alg(&a, method, config))
            .transpose()?;
        let jwks_uri = match self.jwks_uri {
            None => None,
            Some(uri) => {
                if method != AuthMethod::PrivateKeyJwt {
                    return Err(ApiError::field(
                        "jwks_uri",
                        "only private_key_jwt clients publish keys at a URL",
                    ));
                }
                if self.jwks.is_some() {
                    return Err(ApiError::field(
                        "jwks_uri",
                        "register either jwks or jwks_uri, not both",
                    ));
                }
                keyward_jwks_fetch::check_jwks_uri(&uri, &config.fetch_config())
                    .map_err(|e| ApiError::field("jwks_uri", e.to_string()))?;
                Some(uri)
            }
        };
        Ok(Client {
            client_id,
            client_name: self.client_name,
            client_uri,
            token_endpoint_auth_method: method,
            token_endpoint_auth_signing_alg: signing_alg,
            legacy_token_endpoint_audience: self.legacy_token_endpoint_audience.unwrap_or(false),
            jwks_uri,
            grant_types,
            scope,
            default_audience,
            allowed_audiences,
            access_token_lifetime: lifetime,
            enabled: self.enabled.unwrap_or(true),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: now,
        })
    }
}

/// A pinned assertion algorithm must be one the server allows and must fit the method: HMAC
/// for `client_secret_jwt`, asymmetric for `private_key_jwt`, none for the others.
fn check_signing_alg(value: &str, method: AuthMethod, config: &Config) -> Result<SigningAlg, ApiError> {
    let field = "token_endpoint_auth_signing_alg";
    let alg: SigningAlg = value
        .parse()
        .map_err(|e: keyward_types::TypeError| ApiError::field(field, e.to_string()))?;
    let fits = match method {
        AuthMethod::ClientSecretJwt => alg.is_symmetric(),
        AuthMethod::PrivateKeyJwt => !alg.is_symmetric(),
        _ => {
            return Err(ApiError::field(
                field,
                "only for client_secret_jwt and private_key_jwt clients",
            ))
        }
    };
    if !fits {
        return Err(ApiError::field(
            field,
            format!("{alg} cannot be used with {method}"),
        ));
    }
    if !config.assertion_signing_algs.contains(&alg) {
        return Err(ApiError::field(
            field,
            format!("{alg} is not allowed by this server"),
        ));
    }
    Ok(alg)
}
