//! Clients and credentials as the admin API shows them: public material only, never a secret.

use keyward_admin::{client_secret_expires_at, rfc3339};
use keyward_types::{AuthMethod, Client, ClientEntry, Credential};
use serde::Serialize;
use utoipa::ToSchema;

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
    /// Where the authorization code flow may return the user (RFC 7591), matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-Initiated Logout may return the user.
    pub post_logout_redirect_uris: Vec<String>,
    /// keyward's own application: the consent page is skipped.
    pub first_party: bool,
    /// Authorization requests must be pushed first (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// The client's own assertion lifetime limit (s); absent: the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_assertion_lifetime: Option<u32>,
    /// Lifetime of the client's new secrets (s, 0 never); absent: the server's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_lifetime: Option<u64>,
    /// RFC 7591: when the current secret expires (seconds since the epoch), 0 for never or no
    /// secret. Shown where the client is read with its secrets (not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

impl ClientView {
    /// The view of a client read with its secrets and keys: `client_secret_expires_at`, and
    /// the public keys listed as `jwks`.
    pub(crate) fn of_entry(entry: &ClientEntry) -> Self {
        let mut v = Self::with_keys(&entry.client, &entry.credentials);
        v.client_secret_expires_at = Some(client_secret_expires_at(&entry.secrets));
        v
    }

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
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            first_party: c.first_party,
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            max_assertion_lifetime: c.max_assertion_lifetime,
            client_secret_lifetime: c.client_secret_lifetime,
            client_secret_expires_at: None,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// One credential as the admin API shows it: public material only.
#[derive(Serialize, ToSchema)]
pub(crate) struct CredentialView {
    id: String,
    name: Option<String>,
    kid: String,
    /// The one algorithm the key verifies; `null` when registered without one: it then
    /// verifies any algorithm of its type that the client allows (RSA: RS* and PS*).
    alg: Option<String>,
    thumbprint: String,
    #[schema(value_type = Object)]
    jwk: keyward_types::PublicJwk,
    created_at: String,
    expires_at: Option<String>,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate: Option<CertificateView>,
}

/// The certificate a key came in, as the admin API shows it.
#[derive(Serialize, ToSchema)]
pub(crate) struct CertificateView {
    subject: String,
    issuer: String,
    serial: String,
    not_before: String,
    not_after: String,
}

impl From<&Credential> for CredentialView {
    fn from(c: &Credential) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            kid: c.kid.clone(),
            alg: c.alg.map(|a| a.to_string()),
            thumbprint: c.thumbprint.clone(),
            jwk: c.jwk.clone(),
            created_at: rfc3339(c.created_at),
            expires_at: c.expires_at.map(rfc3339),
            enabled: c.enabled,
            certificate: c.certificate.as_ref().map(|cert| CertificateView {
                subject: cert.subject.clone(),
                issuer: cert.issuer.clone(),
                serial: cert.serial.clone(),
                not_before: rfc3339(cert.not_before),
                not_after: rfc3339(cert.not_after),
            }),
        }
    }
}

/// Credentials in a list.
pub(crate) fn credential_views(credentials: &[Credential]) -> Vec<CredentialView> {
    credentials.iter().map(CredentialView::from).collect()
}
