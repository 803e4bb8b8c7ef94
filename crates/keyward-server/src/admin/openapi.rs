//! The API description (OpenAPI 3.1) of every endpoint, admin and public, rendered once at start
//! and served without authentication at `/admin/openapi.json` and `/openapi.json`: it holds no
//! secret, and a client generator must be able to read it before it has a token.
//!
//! The handlers' annotations give each operation, its tag and its own answers. What every admin
//! route can answer because of the layers around it (the bearer check, the failure limiter, the
//! store) is added here to each bearer-protected operation, so no route can forget one. Fields
//! that take a value from a fixed set are pointed at an enum here, including the set of client
//! authentication methods this server runs, which is only known at start.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use super::{
    openapi_examples::{self, Slot},
    openapi_schemas::{
        AuditEvent, AuditOutcome, CachedJwks, ErrorBody, ErrorCode, GrantType, ImportFormat, KeyAlg, KeyType,
        KeystoreFormat, SigningAlg, TokenSigningAlg,
    },
};

#[derive(OpenApi)]
#[openapi(
    info(title = "keyward", description = "OAuth 2.0 authorization server for service clients. \
        The admin API (`/admin/...`) takes a bearer token with scope `keyward:admin`, obtained from \
        `POST /token` with `client_credentials`; the other endpoints are public."),
    paths(super::clients::create, super::clients::list, super::clients::read, super::clients::update,
          super::clients::delete, super::secret::rotate, super::credentials::list, super::credential_keys::import,
          super::credential_generate::generate, super::credentials::update, super::credentials::delete,
          super::keys_cache::clear, super::keys_cache::show, super::signing_keys::list, super::signing_keys::rotate,
          super::audit::list, super::users::create, super::users::list, super::users::read, super::users::update,
          super::users::delete, openapi_document),
    components(schemas(ErrorBody, ErrorCode, ImportFormat, KeystoreFormat, KeyType, SigningAlg, KeyAlg, GrantType,
        AuditOutcome, AuditEvent, CachedJwks, TokenSigningAlg)),
    tags(
        (name = "clients", description = "Register, read, change and delete clients (RFC 7591 field names)."),
        (name = "secrets", description = "Rotate a client's secret."),
        (name = "credentials", description = "A `private_key_jwt` client's public keys: import, generate, enable, disable, delete."),
        (name = "keys-cache", description = "Keys fetched from clients' `jwks_uri`: inspect and clear."),
        (name = "signing-keys", description = "The server's token-signing keys: list and rotate."),
        (name = "users", description = "People who sign in (the admin console, the authorization code flow): create, read, change, delete."),
        (name = "audit", description = "The audit log of admin changes and refused admin tokens."),
        (name = "oauth", description = "The token endpoint (RFC 6749)."),
        (name = "discovery", description = "Server metadata (RFC 8414, OpenID Connect Discovery), signing keys and this description."),
        (name = "health", description = "Readiness for load balancers."),
    ),
)]
struct AdminApi;

/// The description as served, rendered once at start.
#[derive(Clone)]
pub(crate) struct ApiDocument(Bytes);

impl ApiDocument {
    /// The description for a server that runs `auth_methods`.
    pub(crate) fn render(auth_methods: &[&str]) -> Result<Self, serde_json::Error> {
        let mut api = AdminApi::openapi();
        api.merge(crate::public::PublicApi::openapi());
        let mut doc = serde_json::to_value(&api)?;
        add_components(&mut doc, auth_methods);
        add_public_copy(&mut doc);
        add_layer_responses(&mut doc);
        point_at_enums(&mut doc);
        add_examples(&mut doc);
        Ok(Self(serde_json::to_vec(&doc)?.into()))
    }
}

/// This description (OpenAPI 3.1). No token needed: it holds no secret. Also served at
/// `/openapi.json` (operation `getOpenApiDocument`).
#[utoipa::path(get, path = "/admin/openapi.json", operation_id = "getAdminOpenApiDocument", tag = "discovery",
    responses((status = 200, description = "this document", content_type = "application/json", body = Object),
              (status = 429, description = "`slow_down`: too many failed authentications from this address \
                  (the failure limiter guards every `/admin/` path)", body = ErrorBody)))]
pub(crate) async fn openapi_document(State(ApiDocument(body)): State<ApiDocument>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
    ];
    (headers, body).into_response()
}

/// The description is also served at `/openapi.json`, where the failure limiter does not
/// apply.
fn add_public_copy(doc: &mut Value) {
    let Some(paths) = object_at(doc, &["paths"]) else {
        return;
    };
    let Some(mut item) = paths.get("/admin/openapi.json").cloned() else {
        return;
    };
    if let Some(get) = item.get_mut("get").and_then(Value::as_object_mut) {
        get.insert("operationId".into(), json!("getOpenApiDocument"));
        if let Some(responses) = get.get_mut("responses").and_then(Value::as_object_mut) {
            responses.remove("429");
        }
    }
    paths.insert("/openapi.json".into(), item);
}

/// `$ref` to a component.
fn reference(kind: &str, name: &str) -> Value {
    json!({"$ref": format!("#/components/{kind}/{name}")})
}

fn error_response(description: &str, headers: Value) -> Value {
    json!({
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": reference("schemas", "ErrorBody")}},
    })
}

fn header_doc(description: &str, schema: Value) -> Value {
    json!({"description": description, "schema": schema})
}

/// The shared answers, the security schemes and the enum of authentication methods.
fn add_components(doc: &mut Value, auth_methods: &[&str]) {
    let Some(components) = object_at(doc, &["components"]) else {
        return;
    };
    let www = |challenge: &str| json!({"WWW-Authenticate": header_doc(challenge, json!({"type": "string"}))});
    let retry = json!({"Retry-After": header_doc("seconds", json!({"type": "integer", "minimum": 0}))});
    let responses = json!({
        "BearerRequestInvalid": error_response(
            "`invalid_request`: the bearer request is malformed (more than one `Authorization` header; RFC 6750 §3.1)",
            www("`Bearer realm=\"keyward\", error=\"invalid_request\"`")),
        "Unauthorized": error_response(
            "`invalid_token`: no bearer token, or one that is malformed, expired, not this server's, or whose client was disabled or deleted",
            www("`Bearer realm=\"keyward\", error=\"invalid_token\"`")),
        "Forbidden": error_response(
            "`insufficient_scope`: the token or its client lacks scope `keyward:admin`",
            www("`Bearer realm=\"keyward\", error=\"insufficient_scope\", scope=\"keyward:admin\"`")),
        "TooManyRequests": error_response(
            "`slow_down`: too many failed authentications from this address; retry after `Retry-After`", retry.clone()),
        "BodyTimeout": error_response("`invalid_request`: the request body did not arrive in time", json!({})),
        "BodyTooLarge": {
            "description": "the body is larger than 2 MiB (answered by the HTTP layer, as plain text)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        "InternalError": error_response("`server_error`: the cause is logged, never answered", json!({})),
        "Unavailable": error_response(
            "`temporarily_unavailable`: the store is unavailable, or (key import and generation) every slot is busy; retry",
            retry),
    });
    components.insert("responses".into(), responses);
    let schemes = components.entry("securitySchemes").or_insert_with(|| json!({}));
    if let Some(schemes) = schemes.as_object_mut() {
        schemes.insert(
            "bearer".into(),
            json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "An access token of this server with scope `keyward:admin`."}),
        );
        schemes.insert(
            "client_secret_basic".into(),
            json!({"type": "http", "scheme": "basic",
                   "description": "`client_id` and `client_secret`, form-encoded, as HTTP Basic (RFC 6749 §2.3.1)."}),
        );
    }
    if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
        schemas.insert(
            "TokenEndpointAuthMethod".into(),
            json!({"type": "string", "enum": auth_methods,
                   "description": "A client authentication method this server runs (RFC 7591 §2)."}),
        );
    }
}

/// What the layers around the admin routes answer, on every operation that takes the bearer
/// token: the bearer check (400, 401, 403), the failure limiter (429), and the store behind
/// the check and the handler (500, 503). A route's own description of a status is kept.
fn add_layer_responses(doc: &mut Value) {
    let layered = [
        ("400", "BearerRequestInvalid"),
        ("401", "Unauthorized"),
        ("403", "Forbidden"),
        ("429", "TooManyRequests"),
        ("500", "InternalError"),
        ("503", "Unavailable"),
    ];
    for operation in operations(doc) {
        let takes_bearer = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let has_body = operation.get("requestBody").is_some();
        let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if takes_bearer {
            for (status, name) in layered {
                responses
                    .entry(status)
                    .or_insert_with(|| reference("responses", name));
            }
        }
        if takes_bearer && has_body {
            responses
                .entry("408")
                .or_insert_with(|| reference("responses", "BodyTimeout"));
            responses
                .entry("413")
                .or_insert_with(|| reference("responses", "BodyTooLarge"));
        }
        // Route errors written as plain statuses get the shared body.
        for (status, response) in responses.iter_mut() {
            if status.starts_with(['4', '5'])
                && response.get("$ref").is_none()
                && response.get("content").is_none()
            {
                if let Some(r) = response.as_object_mut() {
                    r.insert(
                        "content".into(),
                        json!({"application/json": {"schema": reference("schemas", "ErrorBody")}}),
                    );
                }
            }
        }
    }
}

/// Fields that take a value from a fixed set: (schema, property, enum schema).
const ENUM_FIELDS: &[(&str, &str, &str)] = &[
    (
        "ClientMetadata",
        "token_endpoint_auth_method",
        "TokenEndpointAuthMethod",
    ),
    ("ClientMetadata", "token_endpoint_auth_signing_alg", "SigningAlg"),
    ("ClientMetadata", "grant_types", "GrantType"),
    (
        "ClientView",
        "token_endpoint_auth_method",
        "TokenEndpointAuthMethod",
    ),
    ("ClientView", "token_endpoint_auth_signing_alg", "SigningAlg"),
    ("ClientView", "grant_types", "GrantType"),
    ("ImportRequest", "format", "ImportFormat"),
    ("ImportRequest", "alg", "KeyAlg"),
    ("GenerateRequest", "key_type", "KeyType"),
    ("GenerateRequest", "format", "KeystoreFormat"),
    ("GenerateRequest", "alg", "KeyAlg"),
    ("CredentialView", "alg", "KeyAlg"),
    ("RotateSigningKeyRequest", "alg", "TokenSigningAlg"),
    ("SigningKeyView", "alg", "TokenSigningAlg"),
    ("AuditPage", "events", "AuditEvent"),
    ("DiscoveryDocument", "grant_types_supported", "GrantType"),
    (
        "DiscoveryDocument",
        "token_endpoint_auth_methods_supported",
        "TokenEndpointAuthMethod",
    ),
    (
        "DiscoveryDocument",
        "token_endpoint_auth_signing_alg_values_supported",
        "SigningAlg",
    ),
];

/// Points each of [`ENUM_FIELDS`] at its enum, keeping the field's description, whether it may
/// be null and whether it is a list.
fn point_at_enums(doc: &mut Value) {
    for (schema, property, target) in ENUM_FIELDS {
        let path = ["components", "schemas", schema, "properties"];
        let Some(field) = object_at(doc, &path).and_then(|p| p.get_mut(*property)) else {
            tracing::warn!(
                schema,
                property,
                "API description: field not found; its enum is not shown"
            );
            continue;
        };
        let target = reference("schemas", target);
        let types = field.get("type").cloned().unwrap_or(Value::Null);
        let is_list = types == "array" || types.as_array().is_some_and(|t| t.contains(&json!("array")));
        let nullable = types.as_array().is_some_and(|t| t.contains(&json!("null")));
        let Some(field) = field.as_object_mut() else {
            continue;
        };
        if is_list {
            field.insert("items".into(), target);
            continue;
        }
        let description = field.get("description").cloned();
        field.clear();
        if nullable {
            field.insert("oneOf".into(), json!([target, {"type": "null"}]));
        } else if let Some(r) = target.get("$ref") {
            field.insert("$ref".into(), r.clone());
        }
        if let Some(d) = description {
            field.insert("description".into(), d);
        }
    }
}

/// The examples of [`openapi_examples`], on their operations' bodies and the shared answers.
fn add_examples(doc: &mut Value) {
    for (id, slot, example) in openapi_examples::all() {
        let Some(operation) = operations(doc)
            .into_iter()
            .find(|o| o.get("operationId").and_then(Value::as_str) == Some(id))
        else {
            tracing::warn!(
                operation = id,
                "API description: no such operation for an example"
            );
            continue;
        };
        let content = match slot {
            Slot::Request => operation.pointer_mut("/requestBody/content"),
            Slot::Response(status) => operation
                .get_mut("responses")
                .and_then(|r| r.get_mut(status))
                .and_then(|r| r.get_mut("content")),
        };
        for media in content
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|c| c.values_mut())
        {
            if let Some(m) = media.as_object_mut() {
                m.insert("example".into(), example.clone());
            }
        }
    }
    for (name, example) in openapi_examples::errors() {
        let path = ["components", "responses", name, "content", "application/json"];
        if let Some(media) = object_at(doc, &path) {
            media.insert("example".into(), example);
        }
    }
}

/// Every operation of the document.
fn operations(doc: &mut Value) -> Vec<&mut Value> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter(|op| op.get("responses").is_some())
        .collect()
}

/// The object at `path`, if every step is one.
fn object_at<'a>(doc: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    path.iter()
        .try_fold(doc, |v, key| v.get_mut(*key))
        .and_then(Value::as_object_mut)
}
