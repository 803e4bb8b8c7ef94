//! Reading a state-changing request: the session, a same-origin check, the CSRF token, then
//! the form. A handler that changes anything takes [`ConsoleForm`] or [`ConsoleUpload`], so it
//! cannot run without all four.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRef, FromRequest, FromRequestParts, Multipart, Request},
    http::{header, request::Parts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{de::DeserializeOwned, Deserialize};
use zeroize::Zeroizing;

use super::{
    error_page::ErrorPage,
    session::{NotSignedIn, SignedIn},
    Console,
};

/// Largest urlencoded form body.
const MAX_FORM_BYTES: usize = 64 * 1024;
/// Largest request body under `/console` (a keystore or PEM upload and the form's fields; the
/// key readers' own limit is 1 MiB), applied by the router.
pub(crate) const MAX_UPLOAD_BYTES: usize = 1024 * 1024 + 64 * 1024;

/// A refused state-changing request.
pub(crate) enum FormRejection {
    NotSignedIn(NotSignedIn),
    Page(ErrorPage),
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        match self {
            FormRejection::NotSignedIn(n) => n.into_response(),
            FormRejection::Page(p) => p.into_response(),
        }
    }
}

fn csrf_refused() -> FormRejection {
    FormRejection::Page(ErrorPage::forbidden(
        "the form was refused because its security token is missing or out of date; reload the page and try again",
    ))
}

/// A browser says where a form was posted from (`Origin`, `Sec-Fetch-Site`); one from another
/// site is refused even before the CSRF token is read.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        // `null` (an opaque origin) never matches.
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host)),
        _ => true,
    }
}

/// The session of a state-changing request, refused when it comes from another origin: what
/// both form extractors check before they read the body.
async fn signed_in_same_origin<S>(parts: &mut Parts, state: &S) -> Result<SignedIn, FormRejection>
where
    S: Send + Sync,
    Console: FromRef<S>,
{
    let session = SignedIn::from_request_parts(parts, state)
        .await
        .map_err(FormRejection::NotSignedIn)?;
    if !same_origin(&parts.headers) {
        return Err(csrf_refused());
    }
    Ok(session)
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// An urlencoded form of a signed-in administrator, its CSRF token checked.
pub(crate) struct ConsoleForm<T> {
    pub(crate) session: SignedIn,
    pub(crate) form: T,
}

impl<S, T> FromRequest<S> for ConsoleForm<T>
where
    S: Send + Sync,
    Console: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = FormRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = signed_in_same_origin(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, &()).await.map_err(|_| {
            FormRejection::Page(ErrorPage::new(
                StatusCode::BAD_REQUEST,
                "the form could not be read",
            ))
        })?;
        if bytes.len() > MAX_FORM_BYTES {
            return Err(FormRejection::Page(ErrorPage::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the form is too large",
            )));
        }
        let bytes = Zeroizing::new(bytes.to_vec());
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| csrf_refused())?;
        if !sent.csrf.is_some_and(|t| session.csrf_matches(&t)) {
            return Err(csrf_refused());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            FormRejection::Page(ErrorPage::new(
                StatusCode::BAD_REQUEST,
                format!("the form could not be read: {e}"),
            ))
        })?;
        Ok(Self { session, form })
    }
}

/// A multipart form (a file upload) of a signed-in administrator, its CSRF token checked.
pub(crate) struct ConsoleUpload {
    pub(crate) session: SignedIn,
    /// Text fields by name.
    pub(crate) fields: HashMap<String, Zeroizing<String>>,
    /// The uploaded file's bytes (the field named `file`), if one was chosen.
    pub(crate) file: Option<Zeroizing<Vec<u8>>>,
}

impl<S> FromRequest<S> for ConsoleUpload
where
    S: Send + Sync,
    Console: FromRef<S>,
{
    type Rejection = FormRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = signed_in_same_origin(&mut parts, state).await?;
        let bad = |m: &str| FormRejection::Page(ErrorPage::new(StatusCode::BAD_REQUEST, m));
        let request = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| bad("the upload could not be read"))?;
        let mut fields = HashMap::new();
        let mut file = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| bad("the upload could not be read (at most 1 MiB)"))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad("the upload could not be read (at most 1 MiB)"))?;
            if name == "file" {
                if !bytes.is_empty() {
                    file = Some(Zeroizing::new(bytes.to_vec()));
                }
            } else {
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| bad("a form field is not text"))?;
                fields.insert(name, Zeroizing::new(text));
            }
        }
        let csrf_ok = fields.get("csrf").is_some_and(|t| session.csrf_matches(t));
        if !csrf_ok {
            return Err(csrf_refused());
        }
        Ok(Self {
            session,
            fields,
            file,
        })
    }
}
