//! A client's page: the Settings tab and the Credentials tab (Keycloak's layout), each
//! rendered from the stored client and shown again with a problem or a one-time secret after a
//! form was sent.

use axum::{
    extract::{Path, Query, State},
    response::{Html, IntoResponse, Response},
};
use keyward_types::ClientEntry;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    clients::path_segment,
    credential_panels,
    error_page::ErrorPage,
    layout::{self, form_error, text_input, Nav},
    problem::Problem,
    session::SignedIn,
    shown::Shown,
    Console,
};

#[derive(Deserialize, Default)]
pub(crate) struct NoticeQuery {
    done: Option<String>,
}

impl NoticeQuery {
    /// The notice a redirect after a change asked for, and nothing else.
    fn shown(&self) -> Shown<'static> {
        Shown {
            notice: notice_text(self.done.as_deref()),
            ..Shown::default()
        }
    }
}

/// The notices a redirect after a change may ask for (never text from the query itself).
pub(crate) fn notice_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "Saved.",
        "authenticator" => "Client authenticator changed.",
        "lifetime" => "Secret lifetime saved.",
        "imported" => "Keys imported.",
        "jwks_uri" => "JWKS URL setting saved.",
        "cache" => "Keys cache cleared.",
        "enabled" => "Credential enabled.",
        "disabled" => "Credential disabled.",
        "deleted" => "Credential deleted.",
        _ => return None,
    })
}

fn tabs(id: &str, credentials: bool) -> Markup {
    let base = format!("/console/clients/{}", path_segment(id));
    html! {
        ul.tabs {
            li { a href=(base) aria-current=[(!credentials).then_some("page")] { "Settings" } }
            li { a href={ (base) "/credentials" } aria-current=[credentials.then_some("page")] { "Credentials" } }
        }
    }
}

fn heading(entry: &ClientEntry) -> Markup {
    let c = &entry.client;
    html! {
        p { a href="/console/clients" { "← Clients" } }
        h1 {
            span.mono { (c.client_id.as_str()) }
            @if let Some(name) = &c.client_name { " — " (name) }
            " "
            @if c.enabled { span.badge { "enabled" } } @else { span.badge.off { "disabled" } }
        }
    }
}

const SETTINGS_FIELDS: [&str; 10] = [
    "client_name",
    "grant_types",
    "scope",
    "access_token_lifetime",
    "max_assertion_lifetime",
    "enabled",
    "redirect_uris",
    "post_logout_redirect_uris",
    "first_party",
    "require_pushed_authorization_requests",
];

/// The grant types the Settings tab offers, with Keycloak's words for them.
pub(crate) const GRANTS: [(&str, &str); 3] = [
    (
        "client_credentials",
        "Client credentials (service account: tokens for the client itself)",
    ),
    (
        "authorization_code",
        "Authorization code (standard flow: users sign in)",
    ),
    (
        "refresh_token",
        "Refresh tokens (issued with every code exchange)",
    ),
];

/// A labelled textarea of one URI per line, with its error.
fn uri_list_input(label: &str, name: &str, uris: &[String], problem: Option<&Problem>, hint: &str) -> Markup {
    let id = format!("f-{name}");
    let invalid = Problem::for_field(problem, name).is_some();
    html! {
        div.field {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3"
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("err-{name}"))] { (uris.join("\n")) }
            p.hint { (hint) }
            (layout::field_error(problem, name))
        }
    }
}

/// A labelled checkbox (`value="true"`; absent from the form when unchecked), with its error.
fn checkbox(label: &str, name: &str, checked: bool, problem: Option<&Problem>) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            input id=(id) type="checkbox" name=(name) value="true" checked[checked];
            label.inline for=(id) { " " (label) }
            (layout::field_error(problem, name))
        }
    }
}

/// The Settings tab.
pub(crate) fn settings_page(entry: &ClientEntry, session: &SignedIn, shown: &Shown<'_>) -> Html<String> {
    let c = &entry.client;
    let id = c.client_id.as_str();
    let base = format!("/console/clients/{}", path_segment(id));
    let problem = shown.problem;
    let body = html! {
        (heading(entry))
        (tabs(id, false))
        (layout::notice(shown.notice))
        (form_error(problem, &SETTINGS_FIELDS))
        form method="post" action={ (base) "/settings" } {
            (layout::csrf(session))
            (text_input("Name", "client_name", c.client_name.as_deref().unwrap_or(""), "text", problem, None))
            (text_input("Scope", "scope", &c.scope.to_string(), "text", problem, Some("Space-separated scopes the client may request.")))
            (text_input("Access token lifetime (seconds)", "access_token_lifetime", &c.access_token_lifetime.to_string(), "number", problem, None))
            (text_input("Longest assertion lifetime (seconds)", "max_assertion_lifetime",
                &c.max_assertion_lifetime.map(|v| v.to_string()).unwrap_or_default(), "number", problem,
                Some("Signed JWT clients: empty uses the server's limit.")))
            div.field {
                input #f-enabled type="checkbox" name="enabled" value="true" checked[c.enabled];
                label.inline for="f-enabled" { " Enabled (a disabled client gets no tokens)" }
            }
            fieldset.field {
                legend { "Grant types" }
                input type="hidden" name="grant_types_shown" value="true";
                @for (grant, label) in GRANTS {
                    (checkbox(label, &format!("grant_{grant}"), c.grant_types.iter().any(|g| g.as_str() == grant), None))
                }
                (layout::field_error(problem, "grant_types"))
            }
            (uri_list_input("Redirect URIs (one per line)", "redirect_uris", &c.redirect_uris, problem,
                "For the authorization code flow: https, http only to 127.0.0.1, [::1] or localhost, or an app scheme such as com.example.app:/callback."))
            (uri_list_input("Post-logout redirect URIs (one per line)", "post_logout_redirect_uris",
                &c.post_logout_redirect_uris, problem, "Where sign-out may return the user; same rules."))
            (checkbox("First-party application: skip the consent page", "first_party", c.first_party, problem))
            (checkbox("Require pushed authorization requests (PAR)", "require_pushed_authorization_requests",
                c.require_pushed_authorization_requests, problem))
            button type="submit" { "Save" }
        }
        h2 { "Danger zone" }
        form method="post" action={ (base) "/delete" }
            data-confirm={ "Delete client " (id) " with its secrets and keys? This cannot be undone." } {
            (layout::csrf(session))
            button.danger type="submit" { "Delete client" }
        }
    };
    layout::page(id, session, Nav::Clients, body)
}

/// `GET /console/clients/{id}`.
pub(crate) async fn settings(
    State(console): State<Console>,
    session: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, ErrorPage> {
    let entry = console.ops.client(&id).await?;
    let shown = q.shown();
    Ok(settings_page(&entry, &session, &shown).into_response())
}

/// The Credentials tab.
pub(crate) fn credentials_page(
    console: &Console,
    entry: &ClientEntry,
    session: &SignedIn,
    shown: &Shown<'_>,
) -> Html<String> {
    let id = entry.client.client_id.as_str();
    let panels = credential_panels::render(console, entry, session, shown);
    let body = html! {
        (heading(entry))
        (tabs(id, true))
        (layout::notice(shown.notice))
        @if let Some((label, value)) = shown.once { (layout::shown_once(label, value)) }
        (panels)
    };
    layout::page(&format!("{id} credentials"), session, Nav::Clients, body)
}

/// `GET /console/clients/{id}/credentials`.
pub(crate) async fn credentials(
    State(console): State<Console>,
    session: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, ErrorPage> {
    let entry = console.ops.client(&id).await?;
    let shown = q.shown();
    Ok(credentials_page(&console, &entry, &session, &shown).into_response())
}
