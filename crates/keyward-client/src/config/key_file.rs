//! Finding and opening the client's private key. `classpath:` paths follow the Keycloak adapter
//! documentation: a Java adapter looks on its classpath, which for a file-based config means the
//! config file's directory and then each directory of `KEYWARD_CLIENT_CLASSPATH`
//! (colon-separated). Other paths are file-system paths, relative ones to the config's directory.

use std::path::{Path, PathBuf};

use keyward_jose::SigningKey;
use keyward_keys::{load_private_key, Format, ImportOptions, Password};
use keyward_types::{EcCurve, JwkParams, SigningAlg};

use super::fields::Env;
use crate::ConfigError;

/// The environment variable that lists the extra `classpath:` directories.
pub const CLASSPATH_ENV: &str = "KEYWARD_CLIENT_CLASSPATH";

/// Where the key is and how to open it.
#[derive(Debug)]
pub(crate) struct KeySource {
    pub file: String,
    pub format: Option<Format>,
    pub store_password: Option<Password>,
    pub key_password: Option<Password>,
    pub alias: Option<String>,
    pub alg: Option<SigningAlg>,
}

/// The file `value` names, looked up as described in the module docs.
pub(crate) fn resolve(value: &str, config_dir: &Path, env: Env<'_>) -> Result<PathBuf, ConfigError> {
    let (name, searched) = match value.strip_prefix("classpath:") {
        Some(name) => {
            let name = name.trim_start_matches('/');
            let extra = env(CLASSPATH_ENV).unwrap_or_default();
            let dirs = std::iter::once(config_dir.to_path_buf())
                .chain(extra.split(':').filter(|d| !d.is_empty()).map(PathBuf::from));
            (name, dirs.map(|d| d.join(name)).collect::<Vec<_>>())
        }
        None => (value, vec![config_dir.join(value)]),
    };
    searched
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| ConfigError::KeystoreNotFound {
            file: name.to_owned(),
            searched,
        })
}

/// Opens the key at `path` and makes it a signer for its configured (else natural) algorithm.
pub(crate) fn open(source: KeySource, path: &Path) -> Result<SigningKey, ConfigError> {
    let data = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let format = source
        .format
        .or_else(|| Format::detect(&data))
        .unwrap_or(Format::Pem);
    let options = ImportOptions {
        password: source.store_password.as_ref(),
        key_password: source.key_password.as_ref(),
        alias: source.alias.as_deref(),
    };
    let private = load_private_key(format, &data, options).map_err(|source| ConfigError::Key {
        path: path.to_owned(),
        source,
    })?;
    let alg = match source.alg {
        Some(alg) => alg,
        None => natural_alg(&private.public().jwk.params),
    };
    SigningKey::from_pkcs8(alg, private.pkcs8().clone()).map_err(|source| ConfigError::KeyAlg {
        path: path.to_owned(),
        alg: alg.as_str(),
        source,
    })
}

/// The algorithm a key of this type signs with when none is configured (RS256, as Keycloak's
/// default, for RSA).
fn natural_alg(params: &JwkParams) -> SigningAlg {
    match params {
        JwkParams::Ec {
            crv: EcCurve::P384, ..
        } => SigningAlg::ES384,
        JwkParams::Ec { .. } => SigningAlg::ES256,
        JwkParams::Okp { .. } => SigningAlg::EdDSA,
        _ => SigningAlg::RS256,
    }
}

/// `JKS` / `PKCS12` (Keycloak's `client-keystore-type`), `pem` for the native format.
pub(crate) fn format(key: &str, value: &str) -> Result<Format, ConfigError> {
    match value.to_ascii_uppercase().as_str() {
        "JKS" => Ok(Format::Jks),
        "PKCS12" | "P12" => Ok(Format::Pkcs12),
        "PEM" => Ok(Format::Pem),
        _ => Err(ConfigError::InvalidValue {
            key: key.to_owned(),
            message: format!("unknown keystore type '{value}' (JKS, PKCS12, PEM)"),
        }),
    }
}
