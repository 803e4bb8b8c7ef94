//! The page shell and the small pieces every form uses: labelled inputs with their error, the
//! CSRF field, notices. Markup is built with maud, which escapes every value it is given.

use axum::response::Html;
use maud::{html, Markup, DOCTYPE};

use super::{problem::Problem, signed_in::SignedIn};

/// The sections of the navigation bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Clients,
    Users,
    Audit,
    SigningKeys,
}

const SECTIONS: [(Nav, &str, &str); 4] = [
    (Nav::Clients, "/console/clients", "Clients"),
    (Nav::Users, "/console/users", "Users"),
    (Nav::Audit, "/console/audit", "Audit log"),
    (Nav::SigningKeys, "/console/signing-keys", "Signing keys"),
];

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · keyward console" }
        link rel="stylesheet" href=(super::assets::CSS_PATH);
        script src=(super::assets::JS_PATH) defer {}
    }
}

/// A page of the signed-in console.
pub(crate) fn page(title: &str, signed_in: &SignedIn, active: Nav, body: Markup) -> Html<String> {
    let markup = html! {
        html lang="en" {
            head { (head(title)) }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console/clients" { "keyward" }
                    nav aria-label="Main" {
                        ul {
                            @for (nav, href, label) in SECTIONS {
                                li {
                                    @if nav == active {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    form.signout method="post" action="/console/logout" {
                        (csrf(signed_in))
                        span.who { (signed_in.username()) }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main { (body) }
            }
        }
    };
    Html(markup.into_string())
}

/// A page outside the signed-in console (sign-in, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Html<String> {
    let markup = html! {
        html lang="en" {
            head { (head(title)) }
            body.bare { main #main { (body) } }
        }
    };
    Html(markup.into_string())
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf(signed_in: &SignedIn) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed_in.csrf()); }
}

/// The error that concerns `field`, announced to screen readers.
pub(crate) fn field_error(problem: Option<&Problem>, field: &str) -> Markup {
    html! {
        @if let Some(message) = Problem::for_field(problem, field) {
            p.field-error id={ "err-" (field) } role="alert" { (message) }
        }
    }
}

/// A problem that concerns none of `fields`, shown above the form.
pub(crate) fn form_error(problem: Option<&Problem>, fields: &[&str]) -> Markup {
    html! {
        @if let Some(message) = Problem::general(problem, fields) {
            p.error role="alert" { (message) }
        }
    }
}

/// A labelled text input with its error.
pub(crate) fn text_input(
    label: &str,
    name: &str,
    value: &str,
    kind: &str,
    problem: Option<&Problem>,
    hint: Option<&str>,
) -> Markup {
    let id = format!("f-{name}");
    let invalid = Problem::for_field(problem, name).is_some();
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("err-{name}"))];
            @if let Some(h) = hint { p.hint { (h) } }
            (field_error(problem, name))
        }
    }
}

/// A labelled `<select>` of `(value, text)` options with its error; `id` is the control's id,
/// `name` the form field (and the field an error names).
pub(crate) fn select_input<'a>(
    label: &str,
    id: &str,
    name: &str,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    selected: &str,
    problem: Option<&Problem>,
) -> Markup {
    let invalid = Problem::for_field(problem, name).is_some();
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name)
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("err-{name}"))] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
            (field_error(problem, name))
        }
    }
}

/// A notice after a change (`role=status`, read out without moving focus).
pub(crate) fn notice(message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message { p.notice role="status" { (m) } }
    }
}

/// A secret shown this once, masked until shown, with a copy button (console.js).
pub(crate) fn shown_once(label: &str, value: &str) -> Markup {
    html! {
        div.once role="status" {
            p { strong { (label) } " — copy it now; it is not shown again." }
            div.secret-row {
                input #once-secret type="password" readonly value=(value) aria-label=(label) data-secret;
                button type="button" data-reveal="once-secret" { "Show" }
                button type="button" data-copy="once-secret" { "Copy" }
            }
        }
    }
}

/// A `<time>` element: RFC 3339 in the attribute, whole seconds in UTC on the page.
pub(crate) fn when(t: time::OffsetDateTime) -> Markup {
    let t = t.to_offset(time::UtcOffset::UTC);
    let shown = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    html! { time datetime=(keyward_admin::rfc3339(t)) { (shown) } }
}
