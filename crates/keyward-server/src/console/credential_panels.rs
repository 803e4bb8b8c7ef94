//! The Credentials tab's panels: the authenticator, the secret (regenerate, lifetime), and the
//! keys (JWKS URL, credential list, generate, import, clear keys cache). Each panel shows only
//! what its authenticator uses, as Keycloak's tab does.

use keyward_admin::client_secret_expires_at;
use keyward_keys::{Format, KeyType};
use keyward_types::{AuthMethod, ClientEntry, SigningAlg};
use maud::{html, Markup};

use super::{
    clients::{method_select, path_segment},
    layout::{self, form_error, text_input},
    shown::Shown,
    Console,
};

pub(crate) fn render(
    console: &Console,
    entry: &ClientEntry,
    session: &super::session::SignedIn,
    shown: &Shown<'_>,
) -> Markup {
    let c = &entry.client;
    let base = format!("/console/clients/{}", path_segment(c.client_id.as_str()));
    let method = &c.token_endpoint_auth_method;
    let keys = if *method == AuthMethod::PrivateKeyJwt {
        keys_panel(console, entry, session, shown, &base)
    } else {
        html! {}
    };
    html! {
        (authenticator_panel(console, entry, session, shown, &base))
        @if method.uses_secret() { (secret_panel(entry, session, shown, &base)) }
        (keys)
    }
}

fn authenticator_panel(
    console: &Console,
    entry: &ClientEntry,
    session: &super::session::SignedIn,
    shown: &Shown<'_>,
    base: &str,
) -> Markup {
    let c = &entry.client;
    let problem = shown.problem_of("authenticator");
    let pinned = c
        .token_endpoint_auth_signing_alg
        .map(|a| a.as_str())
        .unwrap_or("");
    html! {
        section.card aria-labelledby="h-auth" {
            h2 #h-auth { "Client authenticator" }
            (form_error(problem, &["token_endpoint_auth_method", "token_endpoint_auth_signing_alg"]))
            form method="post" action={ (base) "/authenticator" } {
                (layout::csrf(session))
                div.field {
                    label for="f-method" { "Client authenticator" }
                    (method_select(console, "f-method", c.token_endpoint_auth_method.as_str()))
                    p.hint { "Switching keeps what the other authenticators use; switching back restores it. A secret is generated when the new one needs a secret the client does not have." }
                    (layout::field_error(problem, "token_endpoint_auth_method"))
                }
                (layout::select_input(
                    "Signature algorithm (signed JWT)",
                    "f-alg",
                    "token_endpoint_auth_signing_alg",
                    std::iter::once(("", "Any the server allows")).chain(
                        console.ops.limits().assertion_signing_algs.iter().map(|a| (a.as_str(), a.as_str())),
                    ),
                    pinned,
                    problem,
                ))
                button type="submit" { "Save authenticator" }
            }
        }
    }
}

fn secret_panel(
    entry: &ClientEntry,
    session: &super::session::SignedIn,
    shown: &Shown<'_>,
    base: &str,
) -> Markup {
    let c = &entry.client;
    let expires = client_secret_expires_at(&entry.secrets);
    let expires_text = if expires == 0 {
        "never".to_owned()
    } else {
        time::OffsetDateTime::from_unix_timestamp(expires)
            .map(keyward_admin::rfc3339)
            .unwrap_or_else(|_| expires.to_string())
    };
    let rotate_problem = shown.problem_of("secret");
    let lifetime_problem = shown.problem_of("lifetime");
    let has_secret = entry.secrets.iter().any(|s| s.is_current());
    html! {
        section.card aria-labelledby="h-secret" {
            h2 #h-secret { "Client secret" }
            div.secret-row {
                input #masked-secret type="password" readonly value="••••••••••••••••" aria-label="Client secret (hidden)";
            }
            p.hint {
                @if has_secret { "keyward keeps only a hash or a sealed copy of the secret; it is shown once, when generated. " }
                @else { "The client has no secret yet; regenerate to make one. " }
                "Current secret expires: " strong #secret-expiry { (expires_text) } "."
            }
            (form_error(rotate_problem, &["grace_period_seconds"]))
            form method="post" action={ (base) "/secret" }
                data-confirm="Regenerate the client secret? The application must be given the new one." {
                (layout::csrf(session))
                (text_input("Grace period for the old secret (seconds)", "grace_period_seconds", "0", "number", rotate_problem,
                    Some("How long the previous secret keeps working; 0 stops it at once.")))
                button type="submit" { "Regenerate" }
            }
            h3 { "Secret expiry" }
            (form_error(lifetime_problem, &["client_secret_lifetime"]))
            form method="post" action={ (base) "/secret-lifetime" } {
                (layout::csrf(session))
                (text_input("Lifetime of new secrets (seconds)", "client_secret_lifetime",
                    &c.client_secret_lifetime.map(|v| v.to_string()).unwrap_or_default(), "number", lifetime_problem,
                    Some("0 never expires; empty uses the server's default. Applies to the next secret generated.")))
                button type="submit" { "Save expiry" }
            }
        }
    }
}

fn keys_panel(
    console: &Console,
    entry: &ClientEntry,
    session: &super::session::SignedIn,
    shown: &Shown<'_>,
    base: &str,
) -> Markup {
    let c = &entry.client;
    let uri_problem = shown.problem_of("jwks_uri");
    let jwks_uri = c.jwks_uri.as_deref().unwrap_or("");
    let cached = c.jwks_uri.as_deref().and_then(|uri| console.ops.cached_keys(uri));
    html! {
        section.card aria-labelledby="h-keys" {
            h2 #h-keys { "Keys" }
            (form_error(uri_problem, &["jwks_uri"]))
            form method="post" action={ (base) "/jwks-uri" } {
                (layout::csrf(session))
                div.field {
                    input #f-use-jwks-uri type="checkbox" name="use_jwks_uri" value="true" checked[c.jwks_uri.is_some()] data-toggles="jwks-uri-field";
                    label.inline for="f-use-jwks-uri" { " Use JWKS URL" }
                }
                div #jwks-uri-field {
                    (text_input("JWKS URL", "jwks_uri", jwks_uri, "url", uri_problem,
                        Some("Where the client publishes its public keys; fetched, cached, and fetched again when an unknown kid arrives.")))
                }
                button type="submit" { "Save JWKS setting" }
            }
            @if c.jwks_uri.is_some() {
                h3 { "Keys cache" }
                @match &cached {
                    Some(k) => p #cache-state { (k.keys.len()) " key(s) cached, fetched " (layout::when(k.fetched_at)) ", used until " (layout::when(k.expires_at)) "." },
                    None => p #cache-state { "Nothing cached on this node yet." },
                }
                form method="post" action={ (base) "/keys-cache/clear" } {
                    (layout::csrf(session))
                    button.secondary type="submit" { "Clear keys cache" }
                }
            } @else {
                (credential_list(entry, session, shown, base))
                (generate_form(session, shown, base))
                (import_form(session, shown, base))
            }
        }
    }
}

fn credential_list(
    entry: &ClientEntry,
    session: &super::session::SignedIn,
    shown: &Shown<'_>,
    base: &str,
) -> Markup {
    html! {
        h3 { "Credentials" }
        (form_error(shown.problem_of("credentials"), &[]))
        @if entry.credentials.is_empty() {
            p { "No keys yet: generate a key pair or import one." }
        } @else {
            div.table-wrap {
                table.stack #credentials {
                    thead { tr { th { "Name" } th { "Key ID" } th { "Algorithm" } th { "Thumbprint" } th { "Expires" } th { "State" } th { "Actions" } } }
                    tbody {
                        @for k in &entry.credentials {
                            tr data-kid=(k.kid) {
                                td data-label="Name" { (k.name.as_deref().unwrap_or("")) }
                                td.mono data-label="Key ID" { (k.kid) }
                                td data-label="Algorithm" { (k.alg.map(|a| a.as_str()).unwrap_or("any of its type")) }
                                td.mono data-label="Thumbprint" { (k.thumbprint) }
                                td data-label="Expires" { @match k.expires_at { Some(t) => (layout::when(t)), None => "never" } }
                                td data-label="State" { @if k.enabled { span.badge { "enabled" } } @else { span.badge.off { "disabled" } } }
                                td data-label="Actions" {
                                    form.inline method="post" action={ (base) "/credentials/" (path_segment(&k.id)) } {
                                        (layout::csrf(session))
                                        @if k.enabled {
                                            button.secondary type="submit" name="action" value="disable" aria-label={ "Disable key " (k.kid) } { "Disable" }
                                        } @else {
                                            button.secondary type="submit" name="action" value="enable" aria-label={ "Enable key " (k.kid) } { "Enable" }
                                        }
                                    }
                                    " "
                                    form.inline method="post" action={ (base) "/credentials/" (path_segment(&k.id)) }
                                        data-confirm={ "Delete key " (k.kid) "? Assertions signed with it stop working." } {
                                        (layout::csrf(session))
                                        button.danger type="submit" name="action" value="delete" aria-label={ "Delete key " (k.kid) } { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

const GENERATE_FIELDS: [&str; 7] = [
    "key_type",
    "format",
    "alias",
    "store_password",
    "key_password",
    "validity_days",
    "name",
];

fn generate_form(session: &super::session::SignedIn, shown: &Shown<'_>, base: &str) -> Markup {
    let problem = shown.problem_of("generate");
    html! {
        h3 { "Generate new keys" }
        p.hint { "keyward makes a key pair and a self-signed certificate, keeps the public key, and your browser downloads the keystore. The private key is not kept: download it now." }
        (form_error(problem, &GENERATE_FIELDS))
        form method="post" action={ (base) "/keys/generate" } data-reload-after="1500" {
            (layout::csrf(session))
            (layout::select_input("Key type", "f-key_type", "key_type", KeyType::ALL.map(|t| (t.as_str(), t.as_str())), "", problem))
            (layout::select_input("Archive format", "f-format", "format", [("pkcs12", "PKCS#12"), ("jks", "JKS")], "", problem))
            (text_input("Key alias", "alias", "", "text", problem, None))
            (text_input("Store password", "store_password", "", "password", problem, Some("At least 8 characters.")))
            (text_input("Key password", "key_password", "", "password", problem, Some("JKS only; empty uses the store password.")))
            (text_input("Validity (days)", "validity_days", "365", "number", problem, None))
            (text_input("Credential name", "name", "", "text", problem, None))
            button type="submit" { "Generate and download" }
        }
    }
}

const IMPORT_FIELDS: [&str; 8] = [
    "format",
    "data",
    "password",
    "key_password",
    "alias",
    "name",
    "alg",
    "expires_at",
];

fn import_form(session: &super::session::SignedIn, shown: &Shown<'_>, base: &str) -> Markup {
    let problem = shown.problem_of("import");
    html! {
        h3 { "Import" }
        p.hint { "A certificate or public key (PEM or DER), a JWK or JWKS, or a PKCS#12 / JKS keystore: only the public key is kept." }
        (form_error(problem, &IMPORT_FIELDS))
        form method="post" action={ (base) "/keys/import" } enctype="multipart/form-data" {
            (layout::csrf(session))
            (layout::select_input("Format", "f-import-format", "format", Format::ALL.map(|f| (f.as_str(), format_label(f))), "", problem))
            div.field {
                label for="f-file" { "File" }
                input #f-file type="file" name="file";
                (layout::field_error(problem, "data"))
            }
            (text_input("Store password", "password", "", "password", problem, Some("PKCS#12 and JKS.")))
            (text_input("Key password", "key_password", "", "password", problem, Some("JKS; empty uses the store password.")))
            (text_input("Key alias", "alias", "", "text", problem, Some("Needed when the keystore holds several entries.")))
            (text_input("Credential name", "name", "", "text", problem, None))
            (layout::select_input(
                "Algorithm",
                "f-import-alg",
                "alg",
                std::iter::once(("", "From the key")).chain(SigningAlg::ALL.iter().map(|a| (a.as_str(), a.as_str()))),
                "",
                problem,
            ))
            button type="submit" { "Import" }
        }
    }
}

fn format_label(f: Format) -> &'static str {
    match f {
        Format::Pem => "PEM (certificate or public key)",
        Format::Der => "DER (certificate or public key)",
        Format::Jwk => "JWK",
        Format::Jwks => "JWKS",
        Format::Pkcs12 => "PKCS#12 keystore",
        Format::Jks => "JKS keystore",
    }
}
