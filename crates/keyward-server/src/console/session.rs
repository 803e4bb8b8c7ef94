//! Console sessions: a random 256-bit cookie value, of which the database keeps only the
//! SHA-256 (a leaked database row cannot be replayed as a cookie). A session ends when idle for
//! `console_session_idle_seconds`, at `console_session_max_seconds` after sign-in, on sign-out,
//! and when its user is disabled, deleted or given a new password (the storage drops them).
//!
//! The CSRF token of a form is derived from the cookie value, so it needs no storage and is
//! useless without the cookie, which a cross-site page can neither read nor send
//! (`SameSite=Strict`).

use std::sync::Arc;

use aws_lc_rs::digest::{digest, SHA256};
use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_storage::{SessionRecord, Storage, StorageError};
use keyward_types::Clock;
use time::{Duration, OffsetDateTime};

pub(crate) use super::signed_in::SignedIn;
use super::{error_page::ErrorPage, Console};

/// How often a session's `last_seen` is written: at most once a minute per session, so reading
/// pages does not turn into a write per request.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// The cookie that ties the sign-in form to the browser that loaded it (login CSRF).
pub(crate) const LOGIN_COOKIE: &str = "keyward_console_login";

/// Where a kind of session's cookies live: the console's under `/console` with
/// `SameSite=Strict`; the end users' (authorization code flow) on the whole site with
/// `SameSite=Lax`, because a client's top-level redirect to `/authorize` must carry it (SSO).
#[derive(Clone, Copy)]
pub(crate) struct CookieSpec {
    /// The session cookie's name.
    pub(crate) session: &'static str,
    /// The sign-in form's cookie (login CSRF).
    pub(crate) login: &'static str,
    pub(crate) path: &'static str,
    pub(crate) same_site: &'static str,
}

/// The console's cookies.
pub(crate) const CONSOLE_COOKIES: CookieSpec = CookieSpec {
    session: "keyward_console",
    login: LOGIN_COOKIE,
    path: "/console",
    same_site: "Strict",
};

/// Session lifetimes and the cookie's attributes.
pub(crate) struct Sessions {
    storage: Arc<dyn Storage>,
    clock: Arc<dyn Clock>,
    idle: Duration,
    absolute: Duration,
    /// `Secure` on the cookies: the issuer is https.
    secure: bool,
    cookies: CookieSpec,
}

/// A live session found by its cookie: what the console's [`SignedIn`] and the authorization
/// endpoint's user session are made from.
pub(crate) struct LiveSession {
    pub(crate) record: SessionRecord,
    /// The CSRF token of this session's forms.
    pub(crate) csrf: String,
}

impl LiveSession {
    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub(crate) fn csrf_matches(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|sent| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                self.csrf.as_bytes(),
                sent.as_bytes(),
            ))
        })
    }
}

/// A fresh random cookie value.
pub(crate) fn random_token() -> Result<String, ErrorPage> {
    let mut bytes = [0u8; 32];
    keyward_types::random::fill(&mut bytes)
        .map_err(|_| ErrorPage::internal("the random generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn sha256_hex(value: &str) -> String {
    digest(&SHA256, value.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The CSRF token that belongs to a cookie value.
pub(crate) fn csrf_for(cookie_value: &str) -> String {
    let d = digest(
        &SHA256,
        format!("keyward-console-csrf\0{cookie_value}").as_bytes(),
    );
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Whether `sent` is the CSRF token of the sign-in form whose cookie `login` the browser sent
/// back (login CSRF), compared in constant time.
pub(crate) fn login_form_tied(headers: &HeaderMap, login: &str, sent: Option<&str>) -> bool {
    match (cookie(headers, login), sent) {
        (Some(token), Some(sent)) => bool::from(subtle::ConstantTimeEq::ct_eq(
            csrf_for(token).as_bytes(),
            sent.as_bytes(),
        )),
        _ => false,
    }
}

/// The value of cookie `name` in the request, if sent once.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl Sessions {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        clock: Arc<dyn Clock>,
        idle_seconds: u64,
        max_seconds: u64,
        secure: bool,
    ) -> Self {
        let secs = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        Self {
            storage,
            clock,
            idle: secs(idle_seconds),
            absolute: secs(max_seconds),
            secure,
            cookies: CONSOLE_COOKIES,
        }
    }

    /// The same sessions with other cookies (the end users' of `/authorize`).
    pub(crate) fn with_cookies(mut self, cookies: CookieSpec) -> Self {
        self.cookies = cookies;
        self
    }

    /// The cookies this kind of session uses.
    pub(crate) fn cookies(&self) -> CookieSpec {
        self.cookies
    }

    /// Now, by the injected clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A `Set-Cookie` value on this kind's path, never readable by script.
    pub(crate) fn set_cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
        let CookieSpec { path, same_site, .. } = self.cookies;
        let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        HeaderValue::try_from(c).unwrap_or_else(|_| HeaderValue::from_static("keyward_console=; Max-Age=0"))
    }

    /// Starts a session for `username`; returns the `Set-Cookie` value.
    pub(crate) async fn start(&self, username: &str) -> Result<HeaderValue, ErrorPage> {
        let token = random_token()?;
        let now = self.clock.now();
        let record = SessionRecord {
            id_hash: sha256_hex(&token),
            username: username.to_owned(),
            created_at: now,
            last_seen: now,
            expires_at: now + self.absolute,
        };
        self.storage.insert_session(&record).await?;
        Ok(self.set_cookie(self.cookies.session, &token, None))
    }

    /// The session the request's cookie names, if it is still alive.
    pub(crate) async fn current(&self, headers: &HeaderMap) -> Result<Option<SignedIn>, StorageError> {
        Ok(self
            .live(headers)
            .await?
            .map(|live| SignedIn::new(live.record.username, live.csrf, live.record.id_hash)))
    }

    /// The live session the request's cookie names, touched at most once a minute.
    pub(crate) async fn live(&self, headers: &HeaderMap) -> Result<Option<LiveSession>, StorageError> {
        let Some(token) = cookie(headers, self.cookies.session) else {
            return Ok(None);
        };
        let id_hash = sha256_hex(token);
        let Some(record) = self.storage.load_session(&id_hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if self.expired(&record, now) {
            self.storage.delete_session(&id_hash).await?;
            return Ok(None);
        }
        if now - record.last_seen >= TOUCH_EVERY {
            self.storage.touch_session(&id_hash, now).await?;
        }
        Ok(Some(LiveSession {
            record,
            csrf: csrf_for(token),
        }))
    }

    fn expired(&self, record: &SessionRecord, now: OffsetDateTime) -> bool {
        record.expires_at <= now || record.last_seen + self.idle <= now
    }

    /// Ends the session (sign-out); returns the `Set-Cookie` value that clears the cookie.
    pub(crate) async fn end(&self, session: &SignedIn) -> Result<HeaderValue, StorageError> {
        self.end_by_hash(session.id_hash()).await
    }

    /// Ends the session stored under `id_hash`; returns the `Set-Cookie` value that clears
    /// the cookie.
    pub(crate) async fn end_by_hash(&self, id_hash: &str) -> Result<HeaderValue, StorageError> {
        self.storage.delete_session(id_hash).await?;
        Ok(self.set_cookie(self.cookies.session, "", Some(0)))
    }

    /// Deletes expired and idle sessions; run by the server's upkeep.
    pub(crate) async fn purge(&self) -> Result<u64, StorageError> {
        let now = self.clock.now();
        self.storage.purge_sessions(now, now - self.idle).await
    }
}

/// Why a request is not served as a signed-in administrator.
pub(crate) enum NotSignedIn {
    /// No live session: go and sign in.
    SignIn,
    /// Signed in, but the user no longer may use the console.
    Forbidden,
    Failed(ErrorPage),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::SignIn => Redirect::to("/console/login").into_response(),
            NotSignedIn::Forbidden => {
                ErrorPage::forbidden("this account may not use the console (it needs role admin)")
                    .into_response()
            }
            NotSignedIn::Failed(page) => page.into_response(),
        }
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    S: Send + Sync,
    Console: FromRef<S>,
{
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let console = Console::from_ref(state);
        let session = console
            .sessions
            .current(&parts.headers)
            .await
            .map_err(|e| NotSignedIn::Failed(e.into()))?
            .ok_or(NotSignedIn::SignIn)?;
        // The user is read again on every request: a role taken away applies at once.
        match console.ops.user(session.username()).await {
            Ok(user) if user.enabled && user.roles.iter().any(|r| r == keyward_admin::ADMIN_ROLE) => {
                Ok(session)
            }
            Ok(_) => Err(NotSignedIn::Forbidden),
            Err(keyward_admin::AdminError::NotFound(_)) => Err(NotSignedIn::SignIn),
            Err(e) => Err(NotSignedIn::Failed(ErrorPage::from(&e))),
        }
    }
}
