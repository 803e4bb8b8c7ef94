//! keyward's own client config, the same keys in TOML or JSON:
//! `issuer`, `client_id`, `method`, then `secret` (the three secret methods) or `key_file` with
//! `key_format` (jks, pkcs12, pem; else guessed from the file), `store_password`,
//! `key_password`, `key_alias`; optional `alg`, `kid`, `token_endpoint`, `token_expiration`, and
//! `next_key` (an object with the same key settings) for a rotation.

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
            let (source, kid) = key_fields(&mut f)?;
            let path = key_file::resolve(&source.file, dir, env)?;
            let mut credential = super::key_credential(source, &path, kid, "alg")?;
            if let Some(mut next) = f.object("next_key")? {
                let (source, kid) = key_fields(&mut next)?;
                let path = key_file::resolve(&source.file, dir, env)?;
                let named = super::named_key(source, &path, kid)?;
                next.finish(&[]);
                if let Credential::PrivateKeyJwt { next, .. } = &mut credential {
                    *next = Some(named);
                }
            }
            credential
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

/// The key settings, at the top level for the current key and in `next_key` for the next.
fn key_fields(f: &mut Fields<'_>) -> Result<(KeySource, Option<String>), ConfigError> {
    let file = f.required("key_file")?;
    let format = f
        .string("key_format")?
        .map(|v| key_file::format(&f.key("key_format"), &v))
        .transpose()?;
    let source = KeySource {
        format,
        store_password: f.string("store_password")?.map(Password::new),
        key_password: f.string("key_password")?.map(Password::new),
        alias: f.string("key_alias")?,
        alg: super::alg(&f.key("alg"), f.string("alg")?)?,
        file,
    };
    Ok((source, f.string("kid")?))
}

fn secret(f: &mut Fields<'_>) -> Result<ClientSecret, ConfigError> {
    f.required("secret").map(ClientSecret::from_presented)
}
