//! The browser side of the authorization code flow (DESIGN.md "Users, sign-in and the
//! authorization code flow"): `/authorize`, pushed authorization requests (`/par`), the
//! end-user sign-in and consent pages, and RP-initiated logout (`/logout`).
//!
//! End users sign in against the same users and sessions as the console, with their own cookie
//! (`SameSite=Lax`, whole site: a client's redirect to `/authorize` must carry it for SSO).
//! The back channel (code exchange, refresh, userinfo, introspection, revocation) is in
//! [`crate::oauth`].

mod consent;
mod flow;
pub(crate) mod logout;
mod pages;
pub(crate) mod par;
pub(crate) mod request;
mod signin;

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{FromRef, RawQuery, Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
    routing::{get, post},
    Router,
};
use keyward_admin::{AdminOps, Directory};
use keyward_client_auth::ClientDirectory;
use keyward_storage::Storage;
use keyward_types::{ClientEntry, ClientId};

use self::{
    pages::UserPage,
    request::{Params, Refusal},
};
use crate::{
    backchannel::TokenEndpoint,
    console::{CookieSpec, LiveSession, Sessions, SignInLimiter},
};

/// The end users' cookies.
pub(crate) const USER_COOKIES: CookieSpec = CookieSpec {
    session: "keyward_session",
    login: "keyward_signin",
    path: "/",
    same_site: "Lax",
};

/// What the authorization endpoint's handlers share.
pub(crate) struct Authorization {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) clients: Arc<Directory>,
    pub(crate) ops: Arc<AdminOps>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) limiter: Arc<SignInLimiter>,
    pub(crate) issuer: String,
    /// Client authentication for `/par`, as at the token endpoint.
    pub(crate) token: Arc<TokenEndpoint>,
}

impl Authorization {
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        self.sessions.now()
    }

    async fn find_client(&self, id: &ClientId) -> Result<Option<Arc<ClientEntry>>, UserPage> {
        self.clients.find(id).await.map_err(|e| {
            tracing::warn!(error = %e, "client directory unavailable");
            UserPage::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "The service is unavailable for a moment. Try again.",
            )
        })
    }

    /// The signed-in end user's live session, if the user may still sign in.
    pub(crate) async fn user_session(&self, headers: &HeaderMap) -> Result<Option<LiveSession>, UserPage> {
        let Some(live) = self.sessions.live(headers).await? else {
            return Ok(None);
        };
        match self.ops.user(&live.record.username).await {
            Ok(user) if user.enabled => Ok(Some(live)),
            Ok(_) | Err(keyward_admin::AdminError::NotFound(_)) => Ok(None),
            Err(e) => Err(UserPage::internal(&e)),
        }
    }
}

/// The routes, for any router state that holds an `Arc<Authorization>`.
pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Authorization>: FromRef<S>,
{
    Router::new()
        .route("/authorize", get(authorize_get).post(authorize_post))
        .route("/authorize/signin", get(signin::page).post(signin::submit))
        .route("/authorize/continue", get(signin::resume))
        .route("/authorize/consent", get(consent::page).post(consent::submit))
        .route("/logout", get(logout::get).post(logout::post))
        .route("/logout/confirm", post(logout::confirm))
        .layer(axum::middleware::from_fn(security_headers))
        .route("/par", post(par::push))
}

/// Start the authorization code flow (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2): the user
/// signs in and consents on keyward's pages, then is sent to the registered `redirect_uri` with
/// `code`, `state` and `iss` (RFC 9207), or with an error. An unknown client or an unregistered
/// `redirect_uri` is answered with a page, never a redirect.
#[utoipa::path(get, path = "/authorize", operation_id = "authorize", tag = "oauth",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query),
        ("redirect_uri" = String, Query, description = "exactly one of the client's `redirect_uris`"),
        ("scope" = Option<String>, Query, description = "`openid`, `profile`, `email`, `offline_access`, and the client's registered scope"),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query),
        ("code_challenge" = String, Query, description = "PKCE, required"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`none`, `login` or `consent`"),
        ("max_age" = Option<u64>, Query),
        ("request_uri" = Option<String>, Query, description = "from `/par`, with `client_id` only")),
    responses(
        (status = 303, description = "to the sign-in or consent page, or to the client's `redirect_uri`"),
        (status = 400, description = "an HTML page: unknown client, unregistered `redirect_uri`, used or expired `request_uri`")))]
pub(crate) async fn authorize_get(
    State(app): State<Arc<Authorization>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, UserPage> {
    authorize(&app, query.unwrap_or_default().as_bytes(), &headers).await
}

/// `POST /authorize` (OIDC Core §3.1.2.1: the same parameters as a form).
async fn authorize_post(
    State(app): State<Arc<Authorization>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, UserPage> {
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| UserPage::bad_request("the request is too large"))?;
    authorize(&app, &bytes, &headers).await
}

async fn authorize(app: &Authorization, raw: &[u8], headers: &HeaderMap) -> Result<Response, UserPage> {
    let params = Params::parse(raw).map_err(page)?;
    if let Some(uri) = params.get("request_uri") {
        let request = par::pushed(app, &params, uri).await?;
        return flow::proceed(app, request, None, headers).await;
    }
    let client = match params.get("client_id").map(ClientId::parse) {
        Some(Ok(id)) => app.find_client(&id).await?,
        _ => None,
    };
    let client = client.as_ref().map(|e| &e.client);
    let redirect_uri = request::redirect_uri(client, &params).map_err(page)?;
    let Some(client) = client else {
        return Err(UserPage::bad_request("the application is not known to keyward"));
    };
    if client.require_pushed_authorization_requests {
        return Ok(flow::redirect_error(
            app,
            redirect_uri,
            params.get("state"),
            "invalid_request",
            "this client must push its authorization requests to /par",
        ));
    }
    match request::validate(client, redirect_uri, &params, app.now()) {
        Ok(request) => flow::proceed(app, request, None, headers).await,
        Err(Refusal::Redirect { error, description }) => Ok(flow::redirect_error(
            app,
            redirect_uri,
            params.get("state"),
            error,
            &description,
        )),
        Err(r) => Err(page(r)),
    }
}

/// A refusal that may only be shown as a page.
fn page(refusal: Refusal) -> UserPage {
    match refusal {
        Refusal::Page(m) => {
            tracing::info!(problem = %m, "authorization request refused (shown as a page)");
            UserPage::bad_request(m)
        }
        Refusal::Redirect { description, .. } => UserPage::bad_request(description),
    }
}

/// Whether a form post to the end-user pages comes from keyward's own pages: the console's check,
/// except that `Origin: null` is taken when `Sec-Fetch-Site: same-origin` vouches for it. The
/// pages send `Referrer-Policy: same-origin`, so browsers send their real origin; but a page
/// loaded under a stricter policy (a browser setting, an extension) posts with `Origin: null`
/// (Fetch, "append a request Origin header"), and `Sec-Fetch-Site` is set by the browser only.
pub(crate) fn posted_from_our_pages(headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let vouched = value("sec-fetch-site") == Some("same-origin") && value("origin") == Some("null");
    vouched || crate::console::same_origin(headers)
}

/// The end-user pages' content policy: the console's, except `form-action`, because the consent
/// form's answer redirects to the client (and browsers apply `form-action` to that redirect).
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // No referrer leaves keyward (the pages' URLs name interactions); within it, browsers then
    // send the real `Origin` with the pages' form posts (`no-referrer` makes it `null`).
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::posted_from_our_pages;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("id.example:8443"));
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn a_null_origin_is_taken_only_when_the_browser_says_same_origin() {
        // what Chromium sends from a page with `Referrer-Policy: no-referrer`
        assert!(posted_from_our_pages(&headers(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!posted_from_our_pages(&headers(&[("origin", "null")])));
        for site in ["cross-site", "same-site", "none"] {
            assert!(
                !posted_from_our_pages(&headers(&[("origin", "null"), ("sec-fetch-site", site)])),
                "{site}"
            );
        }
        // a real origin must still match, whatever Sec-Fetch-Site says
        assert!(!posted_from_our_pages(&headers(&[
            ("origin", "https://attacker.example"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(posted_from_our_pages(&headers(&[
            ("origin", "https://id.example:8443"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(
            posted_from_our_pages(&headers(&[])),
            "a client that sends neither (not a browser) has only the CSRF token to pass"
        );
    }
}
