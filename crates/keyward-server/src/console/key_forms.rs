//! The Credentials tab's key forms: generate (answered with the keystore as a download),
//! import (a multipart upload), the JWKS URL switch, clearing the keys cache, and enabling,
//! disabling or deleting one credential; each through the admin operation the JSON API calls
//! (`generate_credential`, `import_credentials`, `update_client`, `clear_keys_cache`,
//! `update_credential`, `delete_credential`).

use axum::{
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_admin::{
    AdminError, ClearRequest, ClientPatch, CredentialImport, CredentialPatch, GenerateRequest,
};
use keyward_keys::{Format, Password};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    credentials::{back, refused},
    error_page::ErrorPage,
    fields::{text_or_null, typed},
    form::{ConsoleForm, ConsoleUpload},
    problem::Problem,
    Console,
};

#[derive(Deserialize)]
pub(crate) struct GenerateForm {
    #[serde(default)]
    key_type: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    alias: String,
    store_password: Option<Password>,
    key_password: Option<Password>,
    #[serde(default)]
    validity_days: String,
    #[serde(default)]
    name: String,
}

/// `POST …/keys/generate`: answers with the keystore as a download.
pub(crate) async fn generate(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<GenerateForm>,
) -> Result<Response, ErrorPage> {
    let validity_days = match form.validity_days.trim() {
        "" => None,
        t => match t.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let p = Problem::field("validity_days", "Enter a whole number of days.");
                return refused(&console, &session, &id, "generate", p).await;
            }
        },
    };
    let request = GenerateRequest {
        key_type: form.key_type.clone(),
        format: form.format.clone(),
        alias: form.alias.trim().to_owned(),
        store_password: form.store_password.unwrap_or_else(|| Password::new("")),
        key_password: form.key_password.filter(|p| !p.expose().is_empty()),
        validity_days,
        name: typed(&form.name),
        alg: None,
    };
    match console
        .ops
        .generate_credential(&session.actor(), &id, request)
        .await
    {
        Ok(generated) => {
            let kind = if generated.filename.ends_with(".jks") {
                "application/x-java-keystore"
            } else {
                "application/x-pkcs12"
            };
            let disposition = format!("attachment; filename=\"{}\"", generated.filename);
            let headers = [
                (header::CONTENT_TYPE, kind.to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ];
            Ok((headers, generated.keystore.to_vec()).into_response())
        }
        Err(e) => refused(&console, &session, &id, "generate", Problem::from(&e)).await,
    }
}

/// `POST …/keys/import` (multipart: the file and its passwords).
pub(crate) async fn import(
    State(console): State<Console>,
    Path(id): Path<String>,
    upload: ConsoleUpload,
) -> Result<Response, ErrorPage> {
    let ConsoleUpload {
        session,
        fields,
        file,
    } = upload;
    let field = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let format_name = field("format").unwrap_or_default();
    let Some(bytes) = file else {
        return refused(
            &console,
            &session,
            &id,
            "import",
            Problem::field("data", "Choose a file to import."),
        )
        .await;
    };
    let binary = Format::ALL
        .iter()
        .find(|f| f.as_str() == format_name)
        .is_some_and(|f| f.is_binary());
    let data = if binary {
        STANDARD.encode(&*bytes)
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => text,
            Err(_) => {
                let p = Problem::field(
                    "data",
                    "This file is not text; choose DER, PKCS#12 or JKS for a binary file.",
                );
                return refused(&console, &session, &id, "import", p).await;
            }
        }
    };
    let password = |name: &str| {
        fields
            .get(name)
            .filter(|p| !p.is_empty())
            .map(|p| Password::new(p.as_str()))
    };
    let import = CredentialImport {
        name: field("name"),
        format: format_name,
        data,
        password: password("password"),
        key_password: password("key_password"),
        alias: field("alias"),
        kid: None,
        alg: field("alg"),
        expires_at: None,
    };
    match console
        .ops
        .import_credentials(&session.actor(), &id, import)
        .await
    {
        Ok(_) => Ok(back(&id, "imported")),
        Err(e) => refused(&console, &session, &id, "import", Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct JwksUriForm {
    #[serde(default)]
    use_jwks_uri: Option<String>,
    #[serde(default)]
    jwks_uri: String,
}

/// `POST …/jwks-uri`: Keycloak's "Use JWKS URL" switch.
pub(crate) async fn jwks_uri(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, form }: ConsoleForm<JwksUriForm>,
) -> Result<Response, ErrorPage> {
    let value = if form.use_jwks_uri.is_some() {
        if form.jwks_uri.trim().is_empty() {
            let p = Problem::field("jwks_uri", "Enter the URL where the client publishes its keys.");
            return refused(&console, &session, &id, "jwks_uri", p).await;
        }
        text_or_null(&form.jwks_uri)
    } else {
        Value::Null
    };
    let mut patch = Map::new();
    patch.insert("jwks_uri".into(), value);
    match console
        .ops
        .update_client(&session.actor(), &id, ClientPatch(patch))
        .await
    {
        Ok(_) => Ok(back(&id, "jwks_uri")),
        Err(e) => refused(&console, &session, &id, "jwks_uri", Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

/// `POST …/keys-cache/clear`: drop the client's cached JWKS URL keys on every node.
pub(crate) async fn clear_cache(
    State(console): State<Console>,
    Path(id): Path<String>,
    ConsoleForm { session, .. }: ConsoleForm<Empty>,
) -> Result<Response, ErrorPage> {
    let request = ClearRequest {
        client_id: Some(id.clone()),
    };
    match console.ops.clear_keys_cache(&session.actor(), request).await {
        Ok(_) => Ok(back(&id, "cache")),
        Err(e) => refused(&console, &session, &id, "jwks_uri", Problem::from(&e)).await,
    }
}

#[derive(Deserialize)]
pub(crate) struct CredentialAction {
    #[serde(default)]
    action: String,
}

/// `POST …/credentials/{credential_id}`: enable, disable or delete one credential.
pub(crate) async fn change_credential(
    State(console): State<Console>,
    Path((id, credential_id)): Path<(String, String)>,
    ConsoleForm { session, form }: ConsoleForm<CredentialAction>,
) -> Result<Response, ErrorPage> {
    let actor = session.actor();
    let (result, done) = match form.action.as_str() {
        "enable" | "disable" => {
            let patch = CredentialPatch {
                enabled: Some(form.action == "enable"),
                ..CredentialPatch::default()
            };
            let r = console
                .ops
                .update_credential(&actor, &id, &credential_id, patch)
                .await;
            (
                r.map(|_| ()),
                if form.action == "enable" {
                    "enabled"
                } else {
                    "disabled"
                },
            )
        }
        "delete" => (
            console.ops.delete_credential(&actor, &id, &credential_id).await,
            "deleted",
        ),
        _ => (Err(AdminError::InvalidRequest("unknown action".into())), ""),
    };
    match result {
        Ok(()) => Ok(back(&id, done)),
        Err(e) => refused(&console, &session, &id, "credentials", Problem::from(&e)).await,
    }
}
