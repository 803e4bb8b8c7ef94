//! keyward's own client config, the same keys in TOML or JSON:
//! `issuer`, `client_id`, `method`, then `secret` (the three secret methods) or `key_file` with
//! `key_format` (jks, pkcs12, pem; else guessed from the file), `store_password`,
//! `key_password`, `key_alias`; optional `alg`, `kid`, `token_endpoint`, `token_expiration`.

use std::path::Path;

use keyward_keys::Password;
use keyward_types::ClientSecret;
use serde_json::Value;

use super::{
    fields::{Env, Fields},
    key_file::{self, KeySource},
    ClientConfig, Credential, Method,
};
use crate::ConfigError;

pub(crate) fn parse(value: Value, dir: &Path, env: Env<'_>) -> Result<ClientConfig, ConfigError> {
    let mut f = Fields::new("", value, env)?;
    let issuer = f.required("issuer")?;
    let client_id = f.required("client_id")?;
    let method = Method::parse(&f.required("method")?)?;
    let token_endpoint = f.string("token_endpoint")?;
    let token_expiration = super::expiration("token_expiration", f.integer("token_expiration")?)?;
    let credential = match method {
        Method::ClientSecretBasic => Credential::ClientSecretBasic(secret(&mut f)?),
        Method::ClientSecretPost => Credential::ClientSecretPost(secret(&mut f)?),
        Method::ClientSecretJwt => {
            let secret = secret(&mut f)?;
            let alg = super::hmac_alg("alg", f.string("alg")?)?;
            Credential::ClientSecretJwt { secret, alg }
        }
        Method::PrivateKeyJwt => {
            let file = f.required("key_file")?;
            let format = f
                .string("key_format")?
                .map(|v| key_file::format("key_format", &v))
                .transpose()?;
            let source = KeySource {
                format,
                store_password: f.string("store_password")?.map(Password::new),
                key_password: f.string("key_password")?.map(Password::new),
                alias: f.string("key_alias")?,
                alg: super::alg("alg", f.string("alg")?)?,
                file,
            };
            let kid = f.string("kid")?;
            let path = key_file::resolve(&source.file, dir, env)?;
            super::key_credential(source, &path, kid, "alg")?
        }
    };
    f.finish(&[]);
    Ok(ClientConfig {
        client_id,
        issuer,
        token_endpoint,
        credential,
        token_expiration,
    })
}

fn secret(f: &mut Fields<'_>) -> Result<ClientSecret, ConfigError> {
    f.required("secret").map(ClientSecret::from_presented)
}
