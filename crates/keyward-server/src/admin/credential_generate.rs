//! Server-side key generation (DESIGN.md "Client keys": generate): a key pair and self-signed
//! certificate returned once as a PKCS#12 or JKS keystore; only the public key is kept.
//!
//! Generation runs on the blocking pool: RSA-4096 takes over a second of CPU.

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
    responses((status = 201, body = GeneratedKeystore), (status = 400), (status = 404), (status = 409)),
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
        let generated = tokio::task::spawn_blocking(move || {
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
        .map_err(|e| ApiError::Internal(e.to_string()))?
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
        let filename = format!("{}.{}", id.as_str(), format.extension());
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
