//! The Keycloak adapter config (`keycloak.json`), read as Keycloak's Java adapter reads it:
//! issuer `{auth-server-url}/realms/{realm}`, client `resource`, and one of the credentials
//! `secret` (sent with HTTP Basic), `jwt` (a keystore key, `private_key_jwt`) or `secret-jwt`
//! (`client_secret_jwt`).

use std::path::Path;

use keyward_keys::{Format, Password};
use keyward_types::ClientSecret;
use serde_json::Value;

use super::{
    fields::{Env, Fields},
    key_file::{self, KeySource},
    ClientConfig, Credential,
};
use crate::ConfigError;

/// Settings of the adapter format that a token client has no use for: dropped without a warning.
const ADAPTER_ONLY: &[&str] = &[
    "ssl-required",
    "public-client",
    "confidential-port",
    "bearer-only",
    "use-resource-role-mappings",
    "verify-token-audience",
    "principal-attribute",
    "enable-cors",
    "cors-max-age",
    "cors-allowed-methods",
    "cors-allowed-headers",
    "cors-exposed-headers",
    "expose-token",
    "always-refresh-token",
    "register-node-at-startup",
    "register-node-period",
    "token-store",
    "token-cookie-path",
    "autodetect-bearer-only",
    "policy-enforcer",
    "realm-public-key",
    "allow-any-hostname",
    "disable-trust-manager",
    "truststore",
    "truststore-password",
    "client-keystore",
    "client-keystore-password",
    "client-key-password",
    "connection-pool-size",
    "socket-timeout-millis",
    "connection-timeout-millis",
    "connection-ttl-millis",
    "min-time-between-jwks-requests",
    "public-key-cache-ttl",
    "ignore-oauth-query-parameter",
    "redirect-rewrite-rules",
    "pkce",
    "proxy-url",
    "turn-off-change-session-id-on-login",
    "token-minimum-time-to-live",
    "enable-basic-auth",
];

pub(crate) fn parse(value: Value, dir: &Path, env: Env<'_>) -> Result<ClientConfig, ConfigError> {
    let mut top = Fields::new("", value, env)?;
    let realm = top.required("realm")?;
    let server = top.required("auth-server-url")?;
    let client_id = top.required("resource")?;
    let mut credentials = top
        .object("credentials")?
        .ok_or_else(|| ConfigError::MissingKey("credentials".into()))?;
    let issuer = format!("{}/realms/{realm}", server.trim_end_matches('/'));

    let provider = match credentials.string("provider")? {
        Some(p) => p,
        None => only_provider(&credentials)?,
    };
    let mut expiration = None;
    let credential = match provider.as_str() {
        "secret" => {
            Credential::ClientSecretBasic(ClientSecret::from_presented(credentials.required("secret")?))
        }
        "secret-jwt" => {
            let mut jwt = provider_object(&mut credentials, "secret-jwt")?;
            let secret = ClientSecret::from_presented(jwt.required("secret")?);
            let alg = super::hmac_alg(&jwt.key("algorithm"), jwt.string("algorithm")?)?;
            expiration = Some(super::expiration(
                &jwt.key("token-expiration"),
                jwt.integer("token-expiration")?,
            )?);
            jwt.finish(&[]);
            Credential::ClientSecretJwt { secret, alg }
        }
        "jwt" => {
            let mut jwt = provider_object(&mut credentials, "jwt")?;
            let file = jwt.required("client-keystore-file")?;
            let format = match jwt.string("client-keystore-type")? {
                Some(t) => key_file::format(&jwt.key("client-keystore-type"), &t)?,
                None => Format::Jks,
            };
            let store_password = jwt.required("client-keystore-password")?;
            let key_password = jwt.string("client-key-password")?;
            // Keycloak's adapter falls back to the client id when no alias is given.
            let alias = jwt
                .string("client-key-alias")?
                .unwrap_or_else(|| client_id.clone());
            let alg_key = jwt.key("algorithm");
            let alg = super::alg(&alg_key, jwt.string("algorithm")?)?;
            expiration = Some(super::expiration(
                &jwt.key("token-expiration"),
                jwt.integer("token-expiration")?,
            )?);
            jwt.finish(&[]);
            let path = key_file::resolve(&file, dir, env)?;
            let source = KeySource {
                file,
                format: Some(format),
                store_password: Some(Password::new(store_password)),
                key_password: key_password.map(Password::new),
                alias: Some(alias),
                alg,
            };
            super::key_credential(source, &path, None, &alg_key)?
        }
        other => return Err(ConfigError::UnknownMethod(other.to_owned())),
    };
    credentials.finish(&["secret", "jwt", "secret-jwt"]);
    top.finish(ADAPTER_ONLY);
    Ok(ClientConfig {
        client_id,
        issuer,
        token_endpoint: None,
        credential,
        token_expiration: expiration.unwrap_or(crate::DEFAULT_TOKEN_EXPIRATION),
    })
}

/// Without `credentials.provider`, exactly one of the known providers must be present.
fn only_provider(credentials: &Fields<'_>) -> Result<String, ConfigError> {
    let present: Vec<&str> = ["secret", "jwt", "secret-jwt"]
        .into_iter()
        .filter(|p| credentials.has(p))
        .collect();
    match present.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(ConfigError::MissingKey(
            "credentials.secret, credentials.jwt or credentials.secret-jwt".into(),
        )),
        several => Err(ConfigError::InvalidValue {
            key: "credentials".into(),
            message: format!(
                "holds several credentials ({}); choose one with credentials.provider",
                several.join(", ")
            ),
        }),
    }
}

fn provider_object<'e>(credentials: &mut Fields<'e>, name: &str) -> Result<Fields<'e>, ConfigError> {
    credentials
        .object(name)?
        .ok_or_else(|| ConfigError::MissingKey(credentials.key(name)))
}
