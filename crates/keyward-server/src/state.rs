//! The router's state: a set of parts, built once at start. A handler extracts only the part it
//! uses (`State<Discovery>`, `State<ApiDocument>`, `State<Health>`, `State<Arc<SigningKeys>>`,
//! `State<Arc<TokenEndpoint>>`, `State<Arc<AdminOps>>`, the `Admin` extractor's [`AdminAuth`],
//! the failure limiter's `State<Arc<FailureLimiter>>`, the console's `State<Console>`, the authorization endpoint's `State<Arc<Authorization>>`),
//! each taken from here by [`FromRef`]; the handlers' modules never name this type.

use std::sync::Arc;

use axum::extract::FromRef;
use keyward_admin::AdminOps;

use crate::{
    admin::{AdminAuth, ApiDocument},
    authorize::Authorization,
    backchannel::TokenEndpoint,
    console::Console,
    public::{Discovery, Health},
    rate_limit::FailureLimiter,
    signing::SigningKeys,
};

/// One `Arc`, cloned per request.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Parts>);

pub(crate) struct Parts {
    pub(crate) discovery: Discovery,
    pub(crate) api_document: ApiDocument,
    pub(crate) health: Health,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) token: Arc<TokenEndpoint>,
    pub(crate) admin: Arc<AdminOps>,
    pub(crate) admin_auth: AdminAuth,
    pub(crate) limiter: Arc<FailureLimiter>,
    pub(crate) console: Console,
    pub(crate) authorization: Arc<Authorization>,
}

impl AppState {
    pub(crate) fn new(parts: Parts) -> Self {
        Self(Arc::new(parts))
    }
}

impl FromRef<AppState> for Discovery {
    fn from_ref(state: &AppState) -> Self {
        state.0.discovery.clone()
    }
}

impl FromRef<AppState> for ApiDocument {
    fn from_ref(state: &AppState) -> Self {
        state.0.api_document.clone()
    }
}

impl FromRef<AppState> for Health {
    fn from_ref(state: &AppState) -> Self {
        state.0.health.clone()
    }
}

impl FromRef<AppState> for Arc<SigningKeys> {
    fn from_ref(state: &AppState) -> Self {
        state.0.keys.clone()
    }
}

impl FromRef<AppState> for Arc<TokenEndpoint> {
    fn from_ref(state: &AppState) -> Self {
        state.0.token.clone()
    }
}

impl FromRef<AppState> for Arc<AdminOps> {
    fn from_ref(state: &AppState) -> Self {
        state.0.admin.clone()
    }
}

impl FromRef<AppState> for AdminAuth {
    fn from_ref(state: &AppState) -> Self {
        state.0.admin_auth.clone()
    }
}

impl FromRef<AppState> for Arc<FailureLimiter> {
    fn from_ref(state: &AppState) -> Self {
        state.0.limiter.clone()
    }
}

impl FromRef<AppState> for Console {
    fn from_ref(state: &AppState) -> Self {
        state.0.console.clone()
    }
}

impl FromRef<AppState> for Arc<Authorization> {
    fn from_ref(state: &AppState) -> Self {
        state.0.authorization.clone()
    }
}
