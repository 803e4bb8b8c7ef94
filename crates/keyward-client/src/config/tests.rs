//! One test per config rule, with the interop keystores made by keytool and OpenSSL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::{collections::HashMap, path::Path};

use keyward_keys::KeyError;
use keyward_testkit::fixtures::{interop, KEYPASS, STOREPASS};
use keyward_types::SigningAlg;
use serde_json::{json, Value};

use super::{ClientConfig, Credential, Method, CLASSPATH_ENV};
use crate::ConfigError;

fn write(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

fn load(path: &Path, env: &[(&str, &str)]) -> Result<ClientConfig, ConfigError> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    ClientConfig::load_with(path, &move |name: &str| env.get(name).cloned())
}

fn keycloak_jwt(jwt: Value) -> Value {
    json!({
        "realm": "demo", "auth-server-url": "https://sso.example/auth/", "resource": "svc",
        "ssl-required": "external", "credentials": {"jwt": jwt}
    })
}

fn interop_jks_jwt() -> Value {
    json!({
        "client-keystore-file": interop("sample-rsa2048.jks").to_str().unwrap(),
        "client-keystore-type": "JKS", "client-keystore-password": STOREPASS,
        "client-key-password": KEYPASS, "client-key-alias": "clientkey"
    })
}

#[test]
fn keycloak_issuer_is_server_url_and_realm() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "keycloak.json",
        &json!({
            "realm": "demo", "auth-server-url": "https://sso.example/auth/", "resource": "svc",
            "credentials": {"secret": "s3cret"}
        }),
    );
    let config = load(&path, &[]).unwrap();
    assert_eq!(config.issuer, "https://sso.example/auth/realms/demo");
    assert_eq!(config.client_id, "svc");
    assert_eq!(config.credential.method(), Method::ClientSecretBasic);
}

#[test]
fn keycloak_jwt_reads_interop_jks() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(
        &write(dir.path(), "k.json", &keycloak_jwt(interop_jks_jwt())),
        &[],
    )
    .unwrap();
    let Credential::PrivateKeyJwt { key, kid, .. } = &config.credential else {
        panic!()
    };
    assert_eq!(key.alg(), SigningAlg::RS256);
    let expected: Value = serde_json::from_str(&keyward_testkit::fixtures::interop_text(
        "sample-rsa2048-public.jwk",
    ))
    .unwrap();
    assert_eq!(kid, expected["kid"].as_str().unwrap());
    assert_eq!(config.token_expiration, crate::DEFAULT_TOKEN_EXPIRATION);
}

#[test]
fn keycloak_jwt_reads_interop_pkcs12() {
    let dir = tempfile::tempdir().unwrap();
    let jwt = json!({
        "client-keystore-file": interop("sample-rsa2048-keytool.p12").to_str().unwrap(),
        "client-keystore-type": "PKCS12", "client-keystore-password": STOREPASS,
        "client-key-alias": "clientkey", "algorithm": "PS256", "token-expiration": 30
    });
    let config = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap();
    let Credential::PrivateKeyJwt { key, .. } = &config.credential else {
        panic!()
    };
    assert_eq!(key.alg(), SigningAlg::PS256);
    assert_eq!(config.token_expiration, time::Duration::seconds(30));
}

#[test]
fn classpath_resolves_against_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(interop("sample-rsa2048.jks"), dir.path().join("client.jks")).unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-keystore-file"] = json!("classpath:client.jks");
    load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap();
}

#[test]
fn classpath_resolves_against_keyward_client_classpath() {
    let dir = tempfile::tempdir().unwrap();
    let jwt = json!({
        "client-keystore-file": "classpath:sample-ec256.jks", "client-keystore-password": STOREPASS,
        "client-key-password": KEYPASS, "client-key-alias": "clientkey-ec"
    });
    let interop_dir = interop("").to_str().unwrap().to_owned();
    let classpath = format!("/nonexistent:{interop_dir}");
    let config = load(
        &write(dir.path(), "k.json", &keycloak_jwt(jwt)),
        &[(CLASSPATH_ENV, &classpath)],
    )
    .unwrap();
    let Credential::PrivateKeyJwt { key, .. } = &config.credential else {
        panic!()
    };
    assert_eq!(key.alg(), SigningAlg::ES256);
}

#[test]
fn plain_relative_path_is_relative_to_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::copy(interop("sample-rsa2048.jks"), dir.path().join("keys/c.jks")).unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-keystore-file"] = json!("keys/c.jks");
    load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap();
}

#[test]
fn missing_keystore_file_names_file_and_places_searched() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-keystore-file"] = json!("classpath:nope.jks");
    let err = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap_err();
    let ConfigError::KeystoreNotFound { file, searched } = &err else {
        panic!("{err}")
    };
    assert_eq!(file, "nope.jks");
    assert_eq!(searched, &vec![dir.path().join("nope.jks")]);
}

#[test]
fn wrong_keystore_password_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-keystore-password"] = json!("wrong");
    let err = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Key {
                source: KeyError::WrongPassword,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn wrong_alias_lists_the_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-key-alias"] = json!("other");
    let err = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap_err();
    let ConfigError::Key {
        source: KeyError::UnknownAlias { alias, available },
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(alias, "other");
    assert_eq!(available, &vec!["clientkey".to_owned()]);
}

#[test]
fn token_expiration_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["token-expiration"] = json!(0);
    let err = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap_err();
    let ConfigError::InvalidValue { key, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(key, "credentials.jwt.token-expiration");
}

#[test]
fn missing_required_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt.as_object_mut().unwrap().remove("client-keystore-password");
    let err = load(&write(dir.path(), "k.json", &keycloak_jwt(jwt)), &[]).unwrap_err();
    let ConfigError::MissingKey(key) = &err else {
        panic!("{err}")
    };
    assert_eq!(key, "credentials.jwt.client-keystore-password");
    let err = load(
        &write(
            dir.path(),
            "n.json",
            &json!({"client_id": "a", "method": "client_secret_post"}),
        ),
        &[],
    )
    .unwrap_err();
    assert!(
        matches!(&err, ConfigError::MissingKey(k) if k == "issuer"),
        "{err}"
    );
}

#[test]
fn env_placeholders_are_substituted() {
    let dir = tempfile::tempdir().unwrap();
    let mut jwt = interop_jks_jwt();
    jwt["client-keystore-password"] = json!("${env.KS_PASS}");
    jwt["client-key-password"] = json!("${env.KEY_PASS}");
    load(
        &write(dir.path(), "k.json", &keycloak_jwt(jwt.clone())),
        &[("KS_PASS", STOREPASS), ("KEY_PASS", KEYPASS)],
    )
    .unwrap();
    let err = load(
        &write(dir.path(), "k.json", &keycloak_jwt(jwt)),
        &[("KS_PASS", STOREPASS)],
    )
    .unwrap_err();
    let ConfigError::MissingEnv { key, name } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        (key.as_str(), name.as_str()),
        ("credentials.jwt.client-key-password", "KEY_PASS")
    );
}

#[test]
fn unknown_method_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let native =
        json!({"issuer": "https://as", "client_id": "a", "method": "tls_client_auth", "secret": "x"});
    let err = load(&write(dir.path(), "n.json", &native), &[]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownMethod(m) if m == "tls_client_auth"),
        "{err}"
    );
    let keycloak = json!({"realm": "r", "auth-server-url": "https://as", "resource": "a",
        "credentials": {"provider": "kerberos"}});
    let err = load(&write(dir.path(), "k.json", &keycloak), &[]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnknownMethod(m) if m == "kerberos"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let native = json!({"issuer": "https://as", "client_id": "a", "method": "client_secret_post",
        "secret": "x", "colour": "blue"});
    let config = load(&write(dir.path(), "n.json", &native), &[]).unwrap();
    assert_eq!(config.credential.method(), Method::ClientSecretPost);
}

#[test]
fn native_toml_with_pem_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.toml");
    let pem = interop("sample-ec256-private.pem");
    std::fs::write(&path, format!(
        "issuer = \"https://as\"\nclient_id = \"svc\"\nmethod = \"private_key_jwt\"\nkey_file = \"{}\"\nkid = \"k1\"\ntoken_expiration = 20\n",
        pem.display()
    )).unwrap();
    let config = load(&path, &[]).unwrap();
    let Credential::PrivateKeyJwt { key, kid, .. } = &config.credential else {
        panic!()
    };
    assert_eq!((key.alg(), kid.as_str()), (SigningAlg::ES256, "k1"));
}

#[test]
fn secret_jwt_refuses_asymmetric_alg() {
    let dir = tempfile::tempdir().unwrap();
    let keycloak = json!({"realm": "r", "auth-server-url": "https://as", "resource": "a",
        "credentials": {"secret-jwt": {"secret": "x", "algorithm": "RS256"}}});
    let err = load(&write(dir.path(), "k.json", &keycloak), &[]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::InvalidValue { key, .. } if key == "credentials.secret-jwt.algorithm"),
        "{err}"
    );
}

#[test]
fn secrets_do_not_appear_in_debug() {
    let dir = tempfile::tempdir().unwrap();
    let native = json!({"issuer": "https://as", "client_id": "a", "method": "client_secret_basic", "secret": "hunter2-secret"});
    let config = load(&write(dir.path(), "n.json", &native), &[]).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
}
