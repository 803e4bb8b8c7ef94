//! The rules of `redirect_uris` and `post_logout_redirect_uris`: where the authorization code
//! flow and RP-Initiated Logout may send a user's browser. A URI is kept exactly as registered,
//! since a request's `redirect_uri` must equal one of them exactly (RFC 9700 §4.1.3).

use keyward_types::Untrusted;
use url::{Host, Url};

use crate::{error::FieldProblem, AdminError};

/// Most URIs in one list.
pub(crate) const MAX_REDIRECT_URIS: usize = 20;
/// Longest URI, in characters.
pub(crate) const MAX_REDIRECT_URI_CHARS: usize = 2000;

/// The list, each URI checked in the order sent, then for duplicates; empty when absent.
pub(crate) fn check_list(field: &'static str, sent: Option<Vec<String>>) -> Result<Vec<String>, AdminError> {
    let uris = sent.unwrap_or_default();
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(AdminError::field(
            field,
            format!("at most {MAX_REDIRECT_URIS} URIs"),
        ));
    }
    for (i, uri) in uris.iter().enumerate() {
        redirect_uri(field, uri)?;
        if uris.iter().take(i).any(|earlier| earlier == uri) {
            return Err(AdminError::field(
                field,
                format!("'{}' is listed twice", Untrusted(uri)),
            ));
        }
    }
    Ok(uris)
}

fn redirect_uri(field: &'static str, uri: &str) -> Result<(), AdminError> {
    if uri.chars().count() > MAX_REDIRECT_URI_CHARS {
        return Err(AdminError::field(
            field,
            format!("a URI has more than {MAX_REDIRECT_URI_CHARS} characters"),
        ));
    }
    // The URL parser drops surrounding spaces and tabs or newlines inside; the stored string is
    // what a request must equal, so it must be the URI itself.
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AdminError::field(
            field,
            format!(
                "'{}' must not contain spaces or control characters",
                Untrusted(uri)
            ),
        ));
    }
    let url = Url::parse(uri).map_err(|source| {
        AdminError::value(
            field,
            FieldProblem::NotAbsoluteUri {
                value: Untrusted(uri).shown(),
                source,
            },
        )
    })?;
    // RFC 6749 §3.1.2: the endpoint URI must not include a fragment component.
    if url.fragment().is_some() {
        return Err(AdminError::field(
            field,
            format!("'{}' must not have a fragment", Untrusted(uri)),
        ));
    }
    // Credentials in a URI end up in logs and browser history, and fool a reader about the host.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AdminError::field(
            field,
            format!("'{}' must not contain user information", Untrusted(uri)),
        ));
    }
    if !scheme_allowed(&url) {
        return Err(AdminError::field(
            field,
            format!(
                "'{}' must use https, http only to a loopback host (127.0.0.1, [::1], localhost), \
                 or a private-use scheme in reverse-domain form such as com.example.app:/callback",
                Untrusted(uri)
            ),
        ));
    }
    Ok(())
}

/// `https`; `http` to the user's own machine (RFC 8252 §7.3, §8.3); or a native app's
/// private-use scheme, which names a domain the app's owner controls (RFC 8252 §7.1).
fn scheme_allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name == "localhost",
            None => false,
        },
        scheme => scheme.contains('.'),
    }
}
