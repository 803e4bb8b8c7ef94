//! The clients list (search, paging on the server) and registering a client.

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use keyward_admin::{json::metadata_document, AdminError};
use keyward_types::AuthMethod;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    error_page::ErrorPage,
    fields::typed,
    form::ConsoleForm,
    layout::{self, form_error, text_input, Nav},
    problem::Problem,
    session::SignedIn,
    Console,
};

/// Clients per page.
const PAGE: u32 = 50;

/// The authenticator's name as Keycloak's and Auth0's screens say it.
pub(crate) fn method_label(method: &AuthMethod) -> String {
    match method {
        AuthMethod::ClientSecretBasic => "Client ID and Secret (HTTP Basic)".into(),
        AuthMethod::ClientSecretPost => "Client ID and Secret (form post)".into(),
        AuthMethod::PrivateKeyJwt => "Signed JWT (private_key_jwt)".into(),
        AuthMethod::ClientSecretJwt => "Signed JWT with client secret (client_secret_jwt)".into(),
        other => format!("{} (custom)", other.as_str()),
    }
}

/// A `<select>` of the authenticators the server runs.
pub(crate) fn method_select(console: &Console, id: &str, selected: &str) -> Markup {
    html! {
        select id=(id) name="token_endpoint_auth_method" {
            @for m in &console.ops.limits().auth_methods {
                option value=(m.as_str()) selected[m.as_str() == selected] { (method_label(m)) }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    search: Option<String>,
    after: Option<String>,
}

/// `GET /console/clients`.
pub(crate) async fn list(
    State(console): State<Console>,
    session: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ErrorPage> {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let after = q.after.as_deref().filter(|s| !s.is_empty());
    let page = console.ops.list_clients(Some(PAGE), after, search).await?;
    let search_value = search.unwrap_or_default();
    let body = html! {
        h1 { "Clients" }
        div.row {
            form.row role="search" method="get" action="/console/clients" {
                div.field {
                    label for="search" { "Search by client ID or name" }
                    input #search type="search" name="search" value=(search_value);
                }
                button type="submit" { "Search" }
            }
            a.button href="/console/clients/new" { "Create client" }
        }
        @if page.clients.is_empty() {
            p { "No clients match." }
        } @else {
            div.table-wrap {
                table.stack {
                    thead { tr { th { "Client ID" } th { "Name" } th { "Authenticator" } th { "State" } } }
                    tbody {
                        @for c in &page.clients {
                            tr {
                                td.mono data-label="Client ID" {
                                    a href={ "/console/clients/" (path_segment(c.client_id.as_str())) } { (c.client_id.as_str()) }
                                }
                                td data-label="Name" { (c.client_name.as_deref().unwrap_or("")) }
                                td data-label="Authenticator" { (method_label(&c.token_endpoint_auth_method)) }
                                td data-label="State" {
                                    @if c.enabled { span.badge { "enabled" } } @else { span.badge.off { "disabled" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if after.is_some() {
                a href={ "/console/clients?search=" (query_value(search_value)) } { "First page" }
            }
            @if let Some(next) = &page.next_after {
                a href={ "/console/clients?search=" (query_value(search_value)) "&after=" (query_value(next)) } rel="next" { "Next page" }
            }
        }
    };
    Ok(layout::page("Clients", &session, Nav::Clients, body).into_response())
}

/// A value percent-encoded for a query string.
pub(crate) fn query_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A client id percent-encoded as one path segment.
pub(crate) fn path_segment(v: &str) -> String {
    query_value(v)
}

/// What the create form sends.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct CreateForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_name: String,
    #[serde(default)]
    token_endpoint_auth_method: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    jwks_uri: String,
}

const CREATE_FIELDS: [&str; 5] = [
    "client_id",
    "client_name",
    "token_endpoint_auth_method",
    "scope",
    "jwks_uri",
];

fn create_page(
    console: &Console,
    session: &SignedIn,
    sent: &CreateForm,
    problem: Option<&Problem>,
) -> Markup {
    let method = if sent.token_endpoint_auth_method.is_empty() {
        "client_secret_basic"
    } else {
        &sent.token_endpoint_auth_method
    };
    html! {
        h1 { "Create client" }
        (form_error(problem, &CREATE_FIELDS))
        form method="post" action="/console/clients" {
            (layout::csrf(session))
            (text_input("Client ID", "client_id", &sent.client_id, "text", problem, Some("Letters, digits, and . _ - ~ ; leave empty to generate one.")))
            (text_input("Name", "client_name", &sent.client_name, "text", problem, None))
            div.field {
                label for="f-token_endpoint_auth_method" { "Client authenticator" }
                (method_select(console, "f-token_endpoint_auth_method", method))
                (layout::field_error(problem, "token_endpoint_auth_method"))
            }
            (text_input("Scope", "scope", &sent.scope, "text", problem, Some("Space-separated scopes the client may request.")))
            (text_input("JWKS URL", "jwks_uri", &sent.jwks_uri, "url", problem, Some("Signed JWT only: where the client publishes its public keys. Leave empty to upload or generate keys instead.")))
            button type="submit" { "Create" }
        }
    }
}

/// `GET /console/clients/new`.
pub(crate) async fn new_form(State(console): State<Console>, session: SignedIn) -> Response {
    let body = create_page(&console, &session, &CreateForm::default(), None);
    layout::page("Create client", &session, Nav::Clients, body).into_response()
}

/// Sets `name` in a metadata document when the form sent something for it.
pub(crate) fn put_text(doc: &mut Map<String, Value>, name: &str, value: &str) {
    if let Some(v) = typed(value) {
        doc.insert(name.to_owned(), Value::String(v));
    }
}

/// `POST /console/clients`: registers through the same operation as `POST /admin/clients`.
pub(crate) async fn create(
    State(console): State<Console>,
    ConsoleForm { session, form }: ConsoleForm<CreateForm>,
) -> Result<Response, ErrorPage> {
    let mut doc = Map::new();
    put_text(&mut doc, "client_id", &form.client_id);
    put_text(&mut doc, "client_name", &form.client_name);
    put_text(
        &mut doc,
        "token_endpoint_auth_method",
        &form.token_endpoint_auth_method,
    );
    put_text(&mut doc, "scope", &form.scope);
    put_text(&mut doc, "jwks_uri", &form.jwks_uri);
    let bytes =
        serde_json::to_vec(&Value::Object(doc)).map_err(|e| ErrorPage::from(AdminError::Encode(e)))?;
    let created = match metadata_document(&bytes) {
        Ok(meta) => console.ops.create_client(&session.actor(), meta).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => {
            let id = created.client.client_id.as_str().to_owned();
            let body = html! {
                h1 { "Client " span.mono { (id) } " created" }
                @if let Some(secret) = &created.secret {
                    (layout::shown_once("Client secret", secret.expose()))
                }
                p { a.button href={ "/console/clients/" (path_segment(&id)) "/credentials" } { "Go to its credentials" } }
            };
            Ok(layout::page("Client created", &session, Nav::Clients, body).into_response())
        }
        Err(e) => {
            let problem = Problem::from(&e);
            let body = create_page(&console, &session, &form, Some(&problem));
            Ok((
                problem.status,
                layout::page("Create client", &session, Nav::Clients, body),
            )
                .into_response())
        }
    }
}
