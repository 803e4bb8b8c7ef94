use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AuthMethod, ClientId, GrantType, PublicJwk, Scope, SecretHash, SigningAlg};

/// A registered client, as stored. Field names follow RFC 7591 where one exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: ClientId,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub token_endpoint_auth_method: AuthMethod,
    /// Pins the one JWS algorithm the client's assertions may use (RFC 7591).
    #[serde(default)]
    pub token_endpoint_auth_signing_alg: Option<SigningAlg>,
    /// Accept the token endpoint URL as an assertion `aud`, for client libraries that send it
    /// instead of the issuer. Off by default.
    #[serde(default)]
    pub legacy_token_endpoint_audience: bool,
    /// Longest `exp - iat` this client's assertions may have (s), for client libraries whose
    /// default is longer than the server's (Authlib: 3600); `None` is the server's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assertion_lifetime: Option<u32>,
    /// Lifetime of this client's secrets (s) when generated or rotated; `None` is the server's
    /// default, `Some(0)` never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_lifetime: Option<u64>,
    /// `private_key_jwt` clients that publish their keys at a URL instead of registering them.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub scope: Scope,
    /// `aud` of tokens issued without a `resource` parameter; the issuer when absent.
    pub default_audience: Option<String>,
    /// Values a `resource` parameter (RFC 8707) may name; the default audience is always allowed.
    pub allowed_audiences: Vec<String>,
    /// Access-token lifetime in seconds.
    pub access_token_lifetime: u32,
    pub enabled: bool,
    /// Where the authorization code flow may send the user back (RFC 7591), matched exactly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// Where RP-Initiated Logout may send the user back (OIDC RP-Initiated Logout 1.0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// keyward's own application: the consent page is skipped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_party: bool,
    /// Authorization requests must come through `/par` (RFC 9126 §6).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Client {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// One stored secret of a client. At most two are valid at once: the current one, and the
/// previous one during a rotation's grace period.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSecret {
    pub id: String,
    pub hash: SecretHash,
    pub created_at: OffsetDateTime,
    /// `None` for the current secret; set when a rotation starts the grace period.
    pub expires_at: Option<OffsetDateTime>,
    /// End of the secret's lifetime (RFC 7591 `client_secret_expires_at`), whatever rotation
    /// does; `None` never expires.
    pub not_after: Option<OffsetDateTime>,
    /// AES-256-GCM of the clear secret under the server's key-encryption key, for methods that
    /// need it (`client_secret_jwt`); `None` where only the hash is kept.
    pub encrypted: Option<Vec<u8>>,
}

impl StoredSecret {
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|exp| now < exp) && !self.lifetime_ended_at(now)
    }

    /// The secret's own lifetime is over (as opposed to a rotation's grace period).
    pub fn lifetime_ended_at(&self, now: OffsetDateTime) -> bool {
        self.not_after.is_some_and(|end| now >= end)
    }

    /// The current secret, not one in a rotation's grace period.
    pub fn is_current(&self) -> bool {
        self.expires_at.is_none()
    }
}

/// A public key registered for a `private_key_jwt` client (one entry of its credential list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    pub name: Option<String>,
    pub kid: String,
    /// The one algorithm the key verifies, when it was registered with one; without, any
    /// algorithm of its type ([`crate::JwkParams::fits`]) that the client allows.
    pub alg: Option<SigningAlg>,
    /// RFC 7638 thumbprint of `jwk`; unique per client.
    pub thumbprint: String,
    pub jwk: PublicJwk,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub enabled: bool,
    /// The X.509 certificate the key came in, when it came in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
}

/// What an admin needs to recognise a certificate; the DER itself travels as the JWK's `x5c`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    /// RFC 4514 string, e.g. `CN=billing, O=Example`.
    pub subject: String,
    pub issuer: String,
    /// Lower-case hex, no separators.
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

impl Credential {
    /// Disabled or expired credentials never verify anything.
    pub fn is_usable_at(&self, now: OffsetDateTime) -> bool {
        self.enabled && self.expires_at.is_none_or(|exp| now < exp)
    }

    /// Whether the key may verify an assertion signed with `alg`.
    pub fn verifies(&self, alg: SigningAlg) -> bool {
        match self.alg {
            Some(registered) => registered == alg,
            None => self.jwk.params.fits(alg),
        }
    }
}

/// What the token path needs of a client, loaded together and cached as one value.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    pub client: Client,
    pub secrets: Vec<StoredSecret>,
    pub credentials: Vec<Credential>,
}
