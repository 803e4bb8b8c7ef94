//! The API description, fetched over HTTP without a token, as a client generator reads it: a
//! valid OpenAPI 3.1 document, one readable `operationId` per operation, readable tags, the
//! refusals of every admin operation, enums for the fields that take a fixed set, the public
//! endpoints, and examples that are valid against their schemas.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};

use keyward_testkit::server::*;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

/// The official JSON Schema of OpenAPI 3.1 documents, as published by the OpenAPI Initiative at
/// `https://spec.openapis.org/oas/3.1/schema/2022-10-07` (its `$id`; the source is
/// `schemas/v3.1/schema.json` of github.com/OAI/OpenAPI-Specification, Apache-2.0), unchanged.
/// It checks the document's structure; Schema Objects are checked by compiling them below.
const OPENAPI_31_SCHEMA: &str = include_str!("fixtures/openapi-3.1-schema.json");

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `GET path` without any `Authorization` header.
async fn fetch_without_token(
    srv: &TestServer,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = srv.http.get(srv.url(path)).send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn document() -> Value {
    let srv = TestServer::start().await;
    let (status, _, doc) = fetch_without_token(&srv, "/admin/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

/// Every operation: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in HTTP_METHODS {
            if let Some(op) = item.get(method) {
                out.push((path.clone(), method.to_owned(), op.clone()));
            }
        }
    }
    out
}

fn takes_bearer(op: &Value) -> bool {
    op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
}

/// `value` with a `$ref` to a component resolved (one level).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => value,
    }
}

/// A validator for `schema` as it stands in `doc`: its `#/components/...` references resolve
/// against the document's components.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema does not compile: {e}\n{schema}"))
}

fn enum_of(doc: &Value, schema: &Value) -> Vec<String> {
    let schema = resolve(doc, schema);
    let schema = match schema.get("oneOf") {
        Some(alternatives) => resolve(doc, &alternatives[0]),
        None => schema,
    };
    let schema = match schema.get("items") {
        Some(items) => resolve(doc, items),
        None => schema,
    };
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no enum in {schema}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn property<'a>(doc: &'a Value, schema: &str, name: &str) -> &'a Value {
    doc["components"]["schemas"][schema]["properties"]
        .get(name)
        .unwrap_or_else(|| panic!("{schema}.{name} is not described"))
}

#[tokio::test]
async fn document_is_served_without_a_token_at_both_paths() {
    let srv = TestServer::start().await;
    let (status, headers, admin_path) = fetch_without_token(&srv, "/admin/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{admin_path}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let (status, _, public_path) = fetch_without_token(&srv, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{public_path}");
    assert_eq!(admin_path, public_path);
    assert!(admin_path["openapi"].as_str().unwrap().starts_with("3.1."));
}

#[tokio::test]
async fn document_is_the_same_with_an_admin_token() {
    let srv = TestServer::start().await;
    let (status, with_token) = srv.admin(Method::GET, "/admin/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{with_token}");
    let (_, _, without) = fetch_without_token(&srv, "/admin/openapi.json").await;
    assert_eq!(with_token, without);
}

#[tokio::test]
async fn admin_routes_still_refuse_requests_without_a_token() {
    let srv = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/admin/clients"),
        (Method::POST, "/admin/clients"),
        (Method::GET, "/admin/audit"),
        (Method::POST, "/admin/keys-cache/clear"),
    ] {
        let resp = srv
            .http
            .request(method.clone(), srv.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(
            resp.headers().contains_key(header::WWW_AUTHENTICATE),
            "{method} {path}"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{method} {path}");
    }
}

#[tokio::test]
async fn document_is_valid_openapi_3_1() {
    let doc = document().await;
    let spec: Value = serde_json::from_str(OPENAPI_31_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&spec).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not valid OpenAPI 3.1:\n{}", errors.join("\n"));
    // What the official schema leaves to prose: each path template parameter is declared once.
    for (path, method, op) in operations(&doc) {
        let mut declared = BTreeSet::new();
        for p in op["parameters"].as_array().into_iter().flatten() {
            let key = (
                p["name"].as_str().unwrap().to_owned(),
                p["in"].as_str().unwrap().to_owned(),
            );
            assert!(
                declared.insert(key.clone()),
                "{method} {path}: parameter {key:?} twice"
            );
        }
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(['{', '}']).to_owned();
            assert!(
                declared.contains(&(name.clone(), "path".to_owned())),
                "{method} {path}: {name} undeclared"
            );
        }
    }
    // Every Schema Object compiles as JSON Schema 2020-12 (OpenAPI 3.1's dialect), with its
    // references resolved.
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        validator_for_component(&doc, name);
    }
}

fn validator_for_component(doc: &Value, name: &str) -> jsonschema::Validator {
    validator(doc, &json!({"$ref": format!("#/components/schemas/{name}")}))
}

#[tokio::test]
async fn every_operation_has_a_unique_readable_operation_id() {
    let doc = document().await;
    let mut seen = BTreeMap::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: operationId {id} is not a camelCase word"
        );
        if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
            panic!("operationId {id} is used by {other} and {method} {path}");
        }
    }
    let ids: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
    for expected in [
        "listClients",
        "createClient",
        "getClient",
        "updateClient",
        "deleteClient",
        "rotateClientSecret",
        "listCredentials",
        "importCredential",
        "generateCredential",
        "updateCredential",
        "deleteCredential",
        "clearKeysCache",
        "getClientJwksCache",
        "listAuditEvents",
        "createUser",
        "listUsers",
        "getUser",
        "updateUser",
        "deleteUser",
        "requestToken",
        "getOpenIdConfiguration",
        "getAuthorizationServerMetadata",
        "getJwks",
        "getHealth",
        "getOpenApiDocument",
    ] {
        assert!(ids.contains(expected), "{expected} missing from {ids:?}");
    }
}

#[tokio::test]
async fn tags_are_readable_words() {
    let doc = document().await;
    let declared: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let expected = [
        "clients",
        "secrets",
        "credentials",
        "keys-cache",
        "signing-keys",
        "audit",
        "users",
        "oauth",
        "discovery",
        "health",
    ];
    assert_eq!(declared, expected.into_iter().collect());
    for (path, method, op) in operations(&doc) {
        let tags = op["tags"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no tag"));
        assert_eq!(tags.len(), 1, "{method} {path}: {tags:?}");
        let tag = tags[0].as_str().unwrap();
        assert!(!tag.contains("::"), "{method} {path}: tag {tag} is a Rust path");
        assert!(
            declared.contains(tag),
            "{method} {path}: tag {tag} is not declared"
        );
    }
}

#[tokio::test]
async fn every_admin_operation_documents_its_refusals_with_the_error_body() {
    let doc = document().await;
    let admin: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|(path, _, _)| path.starts_with("/admin/") && path != "/admin/openapi.json")
        .collect();
    assert_eq!(admin.len(), 21);
    for (path, method, op) in admin {
        assert!(
            takes_bearer(&op),
            "{method} {path} does not say it takes the bearer token"
        );
        let responses = op["responses"].as_object().unwrap();
        for status in ["400", "401", "403", "429", "500", "503"] {
            assert!(responses.contains_key(status), "{method} {path}: no {status}");
        }
        if op.get("requestBody").is_some() {
            for status in ["408", "413"] {
                assert!(responses.contains_key(status), "{method} {path}: no {status}");
            }
        }
        for (status, response) in responses {
            if !status.starts_with(['4', '5']) || status == "413" {
                continue;
            }
            let response = resolve(&doc, response);
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
        let challenge = &resolve(&doc, &responses["401"])["headers"]["WWW-Authenticate"];
        assert!(
            challenge.is_object(),
            "{method} {path}: 401 without WWW-Authenticate"
        );
    }
}

#[tokio::test]
async fn fixed_sets_are_enums() {
    let doc = document().await;
    assert_eq!(
        enum_of(&doc, property(&doc, "ImportRequest", "format")),
        ["pem", "der", "jwk", "jwks", "pkcs12", "jks"]
    );
    assert_eq!(
        enum_of(&doc, property(&doc, "GenerateRequest", "key_type")),
        ["RSA-2048", "RSA-3072", "RSA-4096", "EC-P256", "EC-P384", "Ed25519"]
    );
    assert_eq!(
        enum_of(&doc, property(&doc, "GenerateRequest", "format")),
        ["pkcs12", "jks"]
    );
    let methods = [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
        "private_key_jwt",
    ];
    for schema in ["ClientMetadata", "ClientView"] {
        let mut found = enum_of(&doc, property(&doc, schema, "token_endpoint_auth_method"));
        found.sort();
        let mut expected = methods.to_vec();
        expected.sort();
        assert_eq!(found, expected, "{schema}");
        assert_eq!(
            enum_of(&doc, property(&doc, schema, "grant_types")),
            ["client_credentials", "authorization_code", "refresh_token"]
        );
        assert!(
            enum_of(&doc, property(&doc, schema, "token_endpoint_auth_signing_alg"))
                .contains(&"PS256".into())
        );
    }
    for (schema, field) in [
        ("ImportRequest", "alg"),
        ("GenerateRequest", "alg"),
        ("CredentialView", "alg"),
    ] {
        let algs = enum_of(&doc, property(&doc, schema, field));
        assert!(
            algs.contains(&"ES256".into()) && !algs.contains(&"HS256".into()),
            "{schema}.{field}: {algs:?}"
        );
    }
    let event = resolve(&doc, &property(&doc, "AuditPage", "events")["items"]);
    assert_eq!(
        enum_of(&doc, &event["properties"]["outcome"]),
        ["success", "failure"]
    );
    assert_eq!(
        enum_of(&doc, property(&doc, "DiscoveryDocument", "grant_types_supported")),
        ["client_credentials", "authorization_code", "refresh_token"]
    );
}

#[tokio::test]
async fn public_endpoints_are_described() {
    let doc = document().await;
    for (path, method, tag) in [
        ("/.well-known/openid-configuration", "get", "discovery"),
        ("/.well-known/oauth-authorization-server", "get", "discovery"),
        ("/jwks", "get", "discovery"),
        ("/token", "post", "oauth"),
        ("/healthz", "get", "health"),
        ("/openapi.json", "get", "discovery"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["tags"][0], tag, "{method} {path}");
        assert!(!takes_bearer(op), "{method} {path} needs no bearer token");
        assert!(op["responses"]["200"].is_object(), "{method} {path}");
    }
    assert!(doc["paths"]["/healthz"]["get"]["responses"]["503"].is_object());
}

#[tokio::test]
async fn token_endpoint_documents_its_form_and_oauth_errors() {
    let doc = document().await;
    let token = &doc["paths"]["/token"]["post"];
    let form = &token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    let form = resolve(&doc, form);
    assert_eq!(form["required"], json!(["grant_type"]));
    assert_eq!(
        enum_of(&doc, &form["properties"]["grant_type"]),
        ["client_credentials", "authorization_code", "refresh_token"]
    );
    for status in ["200", "400", "401", "408", "413", "429", "500", "503"] {
        assert!(token["responses"][status].is_object(), "POST /token: no {status}");
    }
    assert!(token["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
    assert!(token["responses"]["429"]["headers"]["Retry-After"].is_object());
    let ok = resolve(
        &doc,
        &token["responses"]["200"]["content"]["application/json"]["schema"],
    );
    let required: BTreeSet<&str> = ok["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["access_token", "expires_in", "token_type"].into_iter().collect()
    );
}

/// Every example in the document, with the schema it must be valid against: a media type's
/// (`example`, `examples`), a parameter's, and a Schema Object's own.
fn examples(doc: &Value) -> Vec<(String, Value, Value)> {
    let mut found = Vec::new();
    collect_media_examples(doc, "", &mut found);
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        collect_schema_examples(schema, &format!("/components/schemas/{name}"), &mut found);
    }
    found
}

fn collect_media_examples(value: &Value, at: &str, found: &mut Vec<(String, Value, Value)>) {
    match value {
        Value::Object(o) => {
            if let Some(schema) = o.get("schema") {
                if let Some(example) = o.get("example") {
                    found.push((format!("{at}/example"), schema.clone(), example.clone()));
                }
                for (name, example) in o.get("examples").and_then(Value::as_object).into_iter().flatten() {
                    found.push((
                        format!("{at}/examples/{name}"),
                        schema.clone(),
                        example["value"].clone(),
                    ));
                }
            }
            for (key, v) in o {
                if at.starts_with("/components/schemas") || key == "schema" {
                    continue;
                }
                collect_media_examples(v, &format!("{at}/{key}"), found);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                collect_media_examples(v, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn collect_schema_examples(schema: &Value, at: &str, found: &mut Vec<(String, Value, Value)>) {
    let Some(o) = schema.as_object() else {
        return;
    };
    if let Some(example) = o.get("example") {
        found.push((format!("{at}/example"), schema.clone(), example.clone()));
    }
    for (i, example) in o
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        found.push((format!("{at}/examples/{i}"), schema.clone(), example.clone()));
    }
    for (key, sub) in o {
        match key.as_str() {
            "properties" => {
                for (name, s) in sub.as_object().into_iter().flatten() {
                    collect_schema_examples(s, &format!("{at}/properties/{name}"), found);
                }
            }
            "items" | "additionalProperties" => collect_schema_examples(sub, &format!("{at}/{key}"), found),
            "allOf" | "oneOf" | "anyOf" => {
                for (i, s) in sub.as_array().into_iter().flatten().enumerate() {
                    collect_schema_examples(s, &format!("{at}/{key}/{i}"), found);
                }
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn every_example_is_valid_against_its_schema() {
    let doc = document().await;
    let examples = examples(&doc);
    let mut failures = Vec::new();
    for (at, schema, example) in &examples {
        let v = validator(&doc, schema);
        let errors: Vec<String> = v
            .iter_errors(example)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{at}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that break their schema:\n{}",
        failures.join("\n")
    );
    // Every request body and every successful JSON answer carries one (the description's own
    // answer is the document itself).
    for (path, method, op) in operations(&doc) {
        for (media, content) in op["requestBody"]["content"].as_object().into_iter().flatten() {
            assert!(
                content.get("example").is_some(),
                "{method} {path}: {media} request without example"
            );
        }
        if op["operationId"]
            .as_str()
            .is_some_and(|id| id.ends_with("OpenApiDocument"))
        {
            continue;
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let media = &response["content"]["application/json"];
            if status.starts_with('2') && media.is_object() {
                let schema = resolve(&doc, &media["schema"]);
                assert!(
                    media.get("example").is_some() || schema.get("examples").is_some(),
                    "{method} {path} {status}: answer without example"
                );
            }
        }
    }
    assert!(examples.len() >= 30, "only {} examples", examples.len());
}

#[tokio::test]
async fn a_wrong_example_is_caught() {
    // The check above would pass vacuously if the validators accepted anything.
    let doc = document().await;
    let v = validator_for_component(&doc, "GenerateRequest");
    assert!(!v.is_valid(
        &json!({"key_type": "RSA-1024", "format": "pkcs12", "alias": "a", "store_password": "12345678"})
    ));
    let v = validator_for_component(&doc, "ErrorBody");
    assert!(!v.is_valid(&json!({"error_description": "no error code"})));
    assert!(v.is_valid(&json!({"error": "not_found", "error_description": "no client 'x'"})));
}

#[tokio::test]
async fn an_admin_body_over_2_mib_is_answered_413_as_described() {
    let srv = TestServer::start().await;
    let token = srv.admin_token().await;
    let resp = srv
        .http
        .post(srv.url("/admin/clients"))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(vec![b' '; 2 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let doc = document().await;
    let described = resolve(&doc, &doc["paths"]["/admin/clients"]["post"]["responses"]["413"]);
    assert!(described["content"]["text/plain"].is_object(), "{described}");
}
