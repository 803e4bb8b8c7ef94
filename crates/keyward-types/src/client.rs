use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AuthMethod, ClientId, GrantType, Scope, SecretHash};

/// A registered client, as stored. Field names follow RFC 7591 where one exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: ClientId,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub token_endpoint_auth_method: AuthMethod,
    pub grant_types: Vec<GrantType>,
    pub scope: Scope,
    /// `aud` of tokens issued without a `resource` parameter; the issuer when absent.
    pub default_audience: Option<String>,
    /// Values a `resource` parameter (RFC 8707) may name; the default audience is always allowed.
    pub allowed_audiences: Vec<String>,
    /// Access-token lifetime in seconds.
    pub access_token_lifetime: u32,
    pub enabled: bool,
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
}

impl StoredSecret {
    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|exp| now < exp)
    }
}

/// What the token path needs of a client, loaded together and cached as one value.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    pub client: Client,
    pub secrets: Vec<StoredSecret>,
}
