//! A server built from injected parts: it binds, serves the router, runs its background tasks,
//! and shuts down gracefully. Which database and keys it gets is decided by its caller.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{middleware, Router};
use keyward_admin::{AdminOps, Directory, KeyWork, Parts as AdminParts};
use keyward_client_auth::{
    built_in_methods, AssertionPolicy, Authenticator, ClientAuthenticator, DuplicateMethod,
};
use keyward_jwks_fetch::JwksCache;
use keyward_storage::Storage;
use keyward_types::Clock;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    access_token::AccessTokens,
    admin::{self, AdminAuth},
    authorize::{self, Authorization},
    backchannel::TokenEndpoint,
    background::{self, Upkeep},
    console::{self, Console, Sessions, SignInLimiter},
    error::ServeError,
    keyring::Keyring,
    listener::{self, tls, Limits},
    metrics, oauth,
    public::{self, Discovery, Health},
    rate_limit::{self, FailureLimiter, Rate, TrustedProxies},
    remote_keys::CachedRemoteKeys,
    replay::StorageReplay,
    signing::{ReloadAfterRotation, SigningKeys},
    state::{AppState, Parts},
    Config,
};

/// The parts a server is made of. The storage must already hold an active signing key.
pub struct ServerBuilder {
    config: Config,
    storage: Arc<dyn Storage>,
    keyring: Keyring,
    clock: Arc<dyn Clock>,
    methods: Vec<Arc<dyn ClientAuthenticator>>,
}

impl ServerBuilder {
    pub fn new(config: Config, storage: Arc<dyn Storage>, keyring: Keyring, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            storage,
            keyring,
            clock,
            methods: Vec::new(),
        }
    }

    /// A client authentication method besides the built-in ones; registered after them. One
    /// that names a method already registered stops the start (`ServeError::AuthMethod`).
    pub fn auth_method(mut self, method: Arc<dyn ClientAuthenticator>) -> Self {
        self.methods.push(method);
        self
    }

    /// Loads the signing keys, binds `config.listen`, and serves in the background.
    pub async fn start(self) -> Result<RunningServer, ServeError> {
        self.config.validate()?;
        keyward_jwks_fetch::install_crypto_provider();
        let _ = metrics::handle();
        // Listening before loading: a change another node commits from here on is either in what
        // is loaded next or announced on the feed, never lost in between.
        let changes = background::subscribe(&*self.storage).await;
        let keys = SigningKeys::load(&*self.storage, &self.keyring, self.clock.now()).await?;
        let tls = self.tls()?;
        let listener = TcpListener::bind(&self.config.listen)
            .await
            .and_then(|l| Ok((l.local_addr()?, l)));
        let (addr, listener) = listener.map_err(|source| ServeError::Bind {
            addr: self.config.listen.clone(),
            source,
        })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let issuer = self
            .config
            .issuer
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let limits = Limits::from_config(&self.config);
        let metrics_listener = metrics::listener::bind(&self.config).await?;
        let metrics_public = self.config.metrics_public;
        let (state, upkeep) = self.into_parts(issuer.clone(), keys)?;
        let mut background = background::spawn(upkeep, changes);
        let acceptor = tls.map(|(acceptor, reloader)| {
            background.push(reloader.spawn());
            acceptor
        });
        let metrics_addr = metrics_listener.map(|(metrics_addr, listener)| {
            background.push(metrics::listener::serve(listener));
            metrics_addr
        });
        tracing::info!(%addr, %issuer, "keyward listening on {scheme}://{addr}");
        let app = router(state, metrics_public);
        let endpoints = Endpoints {
            addr,
            base_url: format!("{scheme}://{addr}"),
            issuer,
            metrics_addr,
        };
        Ok(RunningServer::serve(
            listener, endpoints, app, limits, acceptor, background,
        ))
    }

    /// The TLS acceptor and its reloader when `tls_cert_file` and `tls_key_file` are set; a
    /// pair that does not load stops the start.
    fn tls(&self) -> Result<Option<(tls::Acceptor, tls::Reloader)>, ServeError> {
        let (Some(cert), Some(key)) = (&self.config.tls_cert_file, &self.config.tls_key_file) else {
            return Ok(None);
        };
        let every = Duration::from_secs(self.config.tls_reload_seconds.max(1));
        Ok(Some(tls::load(tls::TlsFiles::new(cert, key), every)?))
    }

    /// The router's parts and the background tasks' parts, sharing one directory, one key set
    /// and one JWKS cache.
    fn into_parts(mut self, issuer: String, keys: SigningKeys) -> Result<(AppState, Upkeep), ServeError> {
        let authenticator = authenticator(std::mem::take(&mut self.methods))?;
        let policy = policy(&issuer, &self.config);
        let discovery = discovery(&issuer, &authenticator, &policy, keys.current().active.alg())?;
        let methods: Vec<&str> = authenticator.methods().iter().map(|m| m.as_str()).collect();
        let api_document = admin::ApiDocument::render(&methods).map_err(ServeError::ApiDocument)?;
        let jwks =
            JwksCache::new(self.config.fetch_config(), self.clock.clone()).map_err(ServeError::JwksClient)?;
        let jwks = Arc::new(jwks);
        let clients = Directory::new(self.storage.clone(), self.config.client_cache_capacity).with_max_age(
            self.clock.clone(),
            time::Duration::seconds(i64::try_from(self.config.cache_max_age_seconds).unwrap_or(i64::MAX)),
        );
        let clients = Arc::new(clients);
        let keys = Arc::new(keys);
        let admin = self.admin_ops(&clients, &jwks, &authenticator, &keys);
        let limiter = self.failure_limiter()?;
        let issuer_https = issuer.starts_with("https://");
        let console = self.console(&admin, issuer_https)?;
        let tokens = AccessTokens::new(issuer, self.clock.clone(), keys.clone());
        let token = TokenEndpoint {
            tokens: tokens.clone(),
            clock: self.clock.clone(),
            keyring: self.keyring.clone(),
            clients: clients.clone(),
            authenticator,
            policy,
            replay: StorageReplay(self.storage.clone()),
            remote_keys: CachedRemoteKeys(jwks),
            storage: self.storage.clone(),
            ops: admin.clone(),
            refresh_lifetime: time::Duration::seconds(
                i64::try_from(self.config.refresh_token_lifetime_seconds).unwrap_or(i64::MAX),
            ),
        };
        let token = Arc::new(token);
        let authorization = Arc::new(Authorization {
            storage: self.storage.clone(),
            clients: clients.clone(),
            ops: admin.clone(),
            sessions: Arc::new(self.sessions(issuer_https).with_cookies(authorize::USER_COOKIES)),
            limiter: console.limiter.clone(),
            issuer: token.tokens.issuer().to_owned(),
            token: token.clone(),
        });
        let state = AppState::new(Parts {
            discovery,
            api_document,
            health: Health::new(self.storage.clone()),
            keys: keys.clone(),
            token,
            admin: admin.clone(),
            admin_auth: AdminAuth {
                tokens,
                clients,
                rejections: Arc::new(admin::RejectBudget::new(
                    self.config.admin_reject_audit_per_minute,
                )),
            },
            limiter,
            console: console.clone(),
            authorization,
        });
        let upkeep = Upkeep {
            key_reload: Duration::from_secs(self.config.signing_key_reload_seconds.max(1)),
            replay_purge: Duration::from_secs(self.config.replay_purge_seconds.max(1)),
            secret_check: Duration::from_secs(self.config.secret_expiry_check_seconds.max(1)),
            secret_warning: time::Duration::seconds(
                i64::try_from(self.config.secret_expiry_warning_seconds).unwrap_or(i64::MAX),
            ),
            storage: self.storage,
            clock: self.clock,
            keyring: self.keyring,
            keys,
            admin,
            sessions: console.sessions,
        };
        Ok((state, upkeep))
    }

    /// One limiter for the whole server: `/token` and the admin API share each source's bucket.
    fn failure_limiter(&self) -> Result<Arc<FailureLimiter>, ServeError> {
        let c = &self.config;
        let proxies = TrustedProxies::new(c.trusted_proxy_nets()?, c.trusted_proxy_header);
        Ok(Arc::new(FailureLimiter::new(
            Rate::new(c.auth_failure_burst, c.auth_failure_per_minute),
            c.auth_failure_max_addresses,
            proxies,
            self.clock.clone(),
        )))
    }

    /// The console's sessions (cookies `Secure` when the issuer is https) and sign-in limits.
    fn console(&self, admin: &Arc<AdminOps>, https: bool) -> Result<Console, ServeError> {
        let c = &self.config;
        let proxies = TrustedProxies::new(c.trusted_proxy_nets()?, c.trusted_proxy_header);
        Ok(Console {
            ops: admin.clone(),
            sessions: Arc::new(self.sessions(https)),
            limiter: Arc::new(SignInLimiter::new(
                Rate::new(c.signin_account_burst, c.signin_account_per_minute),
                Rate::new(c.signin_address_burst, c.signin_address_per_minute),
                proxies,
                self.clock.clone(),
            )),
        })
    }

    /// Sessions with the configured lifetimes (the console's and the end users' are alike:
    /// one table, one purge).
    fn sessions(&self, https: bool) -> Sessions {
        let c = &self.config;
        Sessions::new(
            self.storage.clone(),
            self.clock.clone(),
            c.console_session_idle_seconds,
            c.console_session_max_seconds,
            https,
        )
    }

    fn admin_ops(
        &self,
        clients: &Arc<Directory>,
        jwks: &Arc<JwksCache>,
        auth: &Authenticator,
        keys: &Arc<SigningKeys>,
    ) -> Arc<AdminOps> {
        let reload = ReloadAfterRotation {
            storage: self.storage.clone(),
            keyring: self.keyring.clone(),
            clock: self.clock.clone(),
            keys: keys.clone(),
        };
        let ops = AdminOps::new(AdminParts {
            storage: self.storage.clone(),
            clock: self.clock.clone(),
            secrets: Arc::new(self.keyring.clone()),
            directory: clients.clone(),
            remote_keys: jwks.clone(),
            key_work: KeyWork::default(),
            limits: admin::limits(&self.config, auth.methods().to_vec()),
        });
        Arc::new(ops.with_signing_keys_reload(Arc::new(reload)))
    }
}

/// What client assertions are checked against: this issuer, the configured lifetime, skew and
/// algorithms.
fn policy(issuer: &str, config: &Config) -> AssertionPolicy {
    AssertionPolicy {
        token_endpoint: format!("{issuer}/token"),
        issuer: issuer.to_owned(),
        max_lifetime_secs: i64::from(config.max_assertion_lifetime),
        skew_secs: i64::from(config.clock_skew),
        allowed_algs: config.assertion_signing_algs.clone(),
    }
}

/// The discovery document lists the methods that really run and the algorithms really accepted.
fn discovery(
    issuer: &str,
    authenticator: &Authenticator,
    policy: &AssertionPolicy,
    token_alg: keyward_types::SigningAlg,
) -> Result<Discovery, ServeError> {
    let methods = authenticator.methods();
    let methods: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
    let document = public::DiscoveryDocument::new(issuer, &methods, &policy.allowed_algs, token_alg);
    let body = serde_json::to_vec(&document).map_err(ServeError::Discovery)?;
    Ok(Discovery(body.into()))
}

/// The built-in methods, then `extra` in the order they were added.
fn authenticator(extra: Vec<Arc<dyn ClientAuthenticator>>) -> Result<Authenticator, DuplicateMethod> {
    let mut authenticator = Authenticator::default();
    for method in built_in_methods().into_iter().chain(extra) {
        authenticator.register(method)?;
    }
    Ok(authenticator)
}

/// Every route with its layers: the body-deadline answer innermost, so that metrics and the
/// panic guard see the `408` it makes; the failure limiter outside the handlers, so that a
/// limited source is answered before any credential is checked.
fn router(state: AppState, metrics_public: bool) -> Router {
    let mut app = Router::new()
        .merge(public::routes())
        .merge(admin::routes(state.clone()))
        .merge(console::routes())
        .merge(authorize::routes())
        .merge(oauth::routes());
    if metrics_public {
        app = app.merge(metrics::listener::public_route());
    }
    app.layer(middleware::from_fn(listener::body_timeout::answer))
        .layer(crate::panic_guard::layer())
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit::guard))
        .layer(middleware::from_fn(metrics::track))
        .with_state(state)
}

/// Where a started server can be reached.
struct Endpoints {
    addr: SocketAddr,
    base_url: String,
    issuer: String,
    metrics_addr: Option<SocketAddr>,
}

/// A server listening on a socket, serving until [`RunningServer::shutdown`] or drop.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `http://` or `https://` (as TLS is configured) and the bound address: where to send
    /// requests, whatever the issuer says.
    pub base_url: String,
    pub issuer: String,
    /// Where `GET /metrics` is served; `None` when `metrics_listen` turns it off.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    fn serve(
        listener: TcpListener,
        endpoints: Endpoints,
        app: Router,
        limits: Limits,
        tls: Option<tls::Acceptor>,
        background: Vec<JoinHandle<()>>,
    ) -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        let task = listener::spawn(listener, app, limits, tls, rx);
        let Endpoints {
            addr,
            base_url,
            issuer,
            metrics_addr,
        } = endpoints;
        Self {
            addr,
            base_url,
            issuer,
            metrics_addr,
            shutdown: Some(tx),
            task: Some(task),
            background,
        }
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until `signal` resolves, then shuts down gracefully.
    pub async fn wait_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.shutdown().await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        for t in &self.background {
            t.abort();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
