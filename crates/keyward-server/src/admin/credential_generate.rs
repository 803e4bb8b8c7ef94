//! Server-side key generation (DESIGN.md "Client keys": generate): a key pair and self-signed
//! certificate returned once as a PKCS#12 or JKS keystore; only the public key is kept.
//!
//! Generation runs through [`super::key_work`] (blocking pool, a few at a time, panics caught):
//! RSA-4096 takes over a second of CPU.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_keys::{KeyType, KeystoreFormat, KeystoreSpec, Password};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{
    changes::{audit_failure, event, parse_id},
    credential_keys::{audited, invalid_key, key_client, parse_alg, parse_body, store, to_credential},
    credentials::CredentialView,
    key_work::Stopped,
    Admin,
};
use crate::{error::ApiError, state::AppState};

/// `POST /admin/clients/{client_id}/credentials/generate`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenerateRequest {
    /// RSA-2048, RSA-3072, RSA-4096, EC-P256, EC-P384 or Ed25519.
    key_type: String,
    /// `pkcs12` or `jks`.
    format: String,
    alias: String,
    /// At least 8 characters.
    #[schema(value_type = String)]
    store_password: Password,
    /// JKS only (PKCS#12 uses the store password); at least 8 characters.
    #[schema(value_type = Option<String>)]
    key_password: Option<Password>,
    /// Default 365, at most 3650.
    validity_days: Option<u32>,
    name: Option<String>,
    /// Default by key type; must fit the key.
    alg: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct GeneratedKeystore {
    credential: CredentialView,
    filename: String,
    /// base64 of the keystore file; shown once, never stored.
    keystore: String,
}

#[utoipa::path(post, path = "/admin/clients/{client_id}/credentials/generate", request_body = GenerateRequest,
    responses((status = 201, body = GeneratedKeystore), (status = 400), (status = 404), (status = 409),
        (status = 503)),
    security(("bearer" = [])))]
pub(crate) async fn generate(
    State(app): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let result = async {
        let id = parse_id(&id)?;
        let req: GenerateRequest = parse_body(&body)?;
        let entry = key_client(&app, &id).await?;
        let key_type: KeyType = req.key_type.parse().map_err(invalid_key)?;
        let format: KeystoreFormat = req.format.parse().map_err(invalid_key)?;
        let alg = parse_alg(req.alg.as_deref())?;
        let now = app.clock.now();
        let common_name = id.as_str().to_owned();
        let (alias, store_password, key_password) = (req.alias, req.store_password, req.key_password);
        let validity_days = req.validity_days.unwrap_or(365);
        let generated = app
            .key_work
            .run("generate", move |_| {
                keyward_keys::generate(&KeystoreSpec {
                    key_type,
                    format,
                    alias: &alias,
                    store_password: &store_password,
                    key_password: key_password.as_ref(),
                    common_name: &common_name,
                    validity_days,
                    now,
                })
            })
            .await
            .map_err(Stopped::for_generation)?
            .map_err(invalid_key)?;
        let credential = to_credential(generated.key.clone(), &entry, alg, req.name, None, now)?;
        let audit = event(
            &app,
            &admin,
            "credential.create",
            id.as_str(),
            "success",
            json!({
                "source": "generate",
                "key_type": key_type.as_str(),
                "format": format.extension(),
                "credentials": audited(std::slice::from_ref(&credential)),
            }),
        );
        store(&app, &id, std::slice::from_ref(&credential), &audit).await?;
        let filename = keystore_filename(id.as_str(), format.extension());
        Ok::<_, ApiError>(GeneratedKeystore {
            credential: CredentialView::from(&credential),
            filename,
            keystore: STANDARD.encode(&*generated.keystore),
        })
    }
    .await;
    match result {
        Ok(body) => {
            let mut resp = (StatusCode::CREATED, Json(body)).into_response();
            // The keystore holds a private key: no cache may keep it.
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            Ok(resp)
        }
        Err(e) => Err(audit_failure(&app, &admin, "credential.create", &id, e).await),
    }
}

/// Longest stem of a keystore file name, far below any file system's limit.
const MAX_FILENAME_STEM: usize = 100;

/// The download's file name, from the client id: a recipe that writes `open(filename, "wb")`
/// must not be able to leave the directory or hide the file, whatever id was stored. Only
/// `A-Z a-z 0-9 . _ -` are kept (anything else becomes `_`), a dot right after a dot becomes
/// `_` (so `..` never appears) and so does a leading dot.
fn keystore_filename(client_id: &str, extension: &str) -> String {
    let mut stem = String::with_capacity(client_id.len().min(MAX_FILENAME_STEM));
    let mut previous = None;
    for c in client_id.chars().take(MAX_FILENAME_STEM) {
        let safe = c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        stem.push(match c {
            '.' if previous.is_none() || previous == Some('.') => '_',
            _ if !safe => '_',
            _ => c,
        });
        previous = Some(c);
    }
    // The extension's dot follows: a stem ending in a dot would make `..`.
    if stem.ends_with('.') {
        stem.pop();
        stem.push('_');
    }
    if stem.is_empty() {
        stem.push_str("keystore");
    }
    format!("{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::keystore_filename;

    #[test]
    fn ordinary_ids_keep_their_name() {
        assert_eq!(keystore_filename("ledger", "p12"), "ledger.p12");
        assert_eq!(keystore_filename("svc-1.prod_eu", "jks"), "svc-1.prod_eu.jks");
    }

    #[test]
    fn path_and_hidden_file_characters_are_replaced() {
        for (id, expected) in [
            ("../etc/passwd", "___etc_passwd.p12"),
            ("..", "__.p12"),
            (".hidden", "_hidden.p12"),
            ("a..b", "a._b.p12"),
            ("a/b\\c:d", "a_b_c_d.p12"),
            ("~user", "_user.p12"),
            ("x...", "x.__.p12"),
            ("x.", "x_.p12"),
            ("é", "_.p12"),
        ] {
            let name = keystore_filename(id, "p12");
            assert_eq!(name, expected, "{id:?}");
            assert!(!name.contains(".."), "{name}");
            assert!(!name.starts_with('.'), "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{name}"
            );
        }
    }

    #[test]
    fn long_ids_are_cut() {
        let name = keystore_filename(&"a".repeat(255), "p12");
        assert_eq!(name.len(), 100 + ".p12".len());
    }
}
