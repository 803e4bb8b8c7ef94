//! Start-up, the router, and graceful shutdown.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{middleware, Router};
use keyward_client_auth::{
    AssertionPolicy, Authenticator, ClientSecretJwtMethod, ClientSecretMethod, PrivateKeyJwtMethod,
};
use keyward_storage::Storage;
use keyward_storage_postgres::{PgOptions, PostgresStorage};
use keyward_storage_sqlite::SqliteStorage;
use keyward_types::{Clock, SigningAlg};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use crate::{
    admin, bootstrap,
    directory::ClientCache,
    error::StartError,
    keyring::Keyring,
    metrics, public,
    signing::{self, SigningKeys},
    state::{AppState, Inner},
    Config,
};

/// Opens the database named by `url` with the default pool settings.
pub async fn open_storage(url: &str) -> Result<Arc<dyn Storage>, StartError> {
    open_configured(url, &Config::default()).await
}

/// Opens the database named by `url`: `sqlite://PATH` for one node, `postgres://…` for several
/// nodes sharing one database (pool size and acquire timeout from the config).
pub(crate) async fn open_configured(url: &str, config: &Config) -> Result<Arc<dyn Storage>, StartError> {
    if url.starts_with("sqlite:") {
        let s = SqliteStorage::open(url)
            .await
            .map_err(|e| StartError::Storage(e.to_string()))?;
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgOptions {
            max_connections: config.database_max_connections.max(1),
            acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms.max(1)),
            ..PgOptions::default()
        };
        let s = PostgresStorage::open(url, options)
            .await
            .map_err(|e| StartError::Storage(e.to_string()))?;
        Ok(Arc::new(s))
    } else {
        Err(StartError::Storage(format!(
            "unsupported database_url scheme '{}'; use sqlite://PATH or postgres://…",
            url.split(':').next().unwrap_or("")
        )))
    }
}

/// `keyward admin rotate-signing-key`: a new active key of `alg`; running nodes pick it up
/// within `signing_key_reload_seconds`. Returns the new `kid`.
pub async fn rotate_signing_key(
    config: &Config,
    alg: Option<SigningAlg>,
    clock: &dyn Clock,
) -> Result<String, StartError> {
    let storage = open_configured(&config.database_url, config).await?;
    let keyring = Keyring::load(config)?;
    let publish_old_for = time::Duration::seconds(i64::from(config.max_access_token_lifetime));
    signing::rotate(
        &*storage,
        &keyring,
        alg.unwrap_or(config.token_signing_alg),
        clock.now(),
        publish_old_for,
    )
    .await
}

/// A server listening on a socket, serving until [`RunningServer::shutdown`] or drop.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub issuer: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Resolves when the server stopped by itself (it does not, short of a fatal error).
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

/// Opens storage, prepares keys and the admin client, binds, and serves in the background.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<RunningServer, StartError> {
    config.validate()?;
    keyward_jwks_fetch::install_crypto_provider();
    let _ = metrics::handle();
    let storage = open_configured(&config.database_url, &config).await?;
    let keyring = Keyring::load(&config)?;
    let now = clock.now();
    let publish_old_for = time::Duration::seconds(i64::from(config.max_access_token_lifetime));
    signing::ensure_active_key(
        &*storage,
        &keyring,
        config.token_signing_alg,
        now,
        publish_old_for,
    )
    .await?;
    bootstrap::ensure_admin_client(&*storage, &keyring, &config, &*clock).await?;
    // Listening before loading: a change another node commits from here on is either in what
    // is loaded next or announced on the feed, never lost in between.
    let changes = crate::sync::subscribe(&*storage).await;
    let keys = SigningKeys::load(&*storage, &keyring, now).await?;

    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|e| StartError::Bind {
            addr: config.listen.clone(),
            reason: e.to_string(),
        })?;
    let addr = listener.local_addr().map_err(|e| StartError::Bind {
        addr: config.listen.clone(),
        reason: e.to_string(),
    })?;
    let issuer = config
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();

    let mut authenticator = Authenticator::default();
    authenticator.register(Arc::new(ClientSecretMethod));
    authenticator.register(Arc::new(ClientSecretJwtMethod));
    authenticator.register(Arc::new(PrivateKeyJwtMethod::default()));
    let policy = AssertionPolicy {
        token_endpoint: format!("{issuer}/token"),
        issuer: issuer.clone(),
        max_lifetime_secs: i64::from(config.max_assertion_lifetime),
        skew_secs: i64::from(config.clock_skew),
        allowed_algs: config.assertion_signing_algs.clone(),
    };
    let methods: Vec<&str> = authenticator.methods().iter().map(|m| m.as_str()).collect();
    let discovery_body = serde_json::to_vec(&public::discovery_document(
        &issuer,
        &methods,
        &policy.allowed_algs,
    ))
    .map_err(|e| StartError::Key(e.to_string()))?
    .into();

    let replay = crate::replay::StorageReplay(storage.clone());
    let jwks = keyward_jwks_fetch::JwksCache::new(config.fetch_config(), clock.clone())
        .map_err(|e| StartError::Key(format!("JWKS client: {e}")))?;
    let remote_keys = crate::remote_keys::CachedRemoteKeys(Arc::new(jwks));
    let state = AppState(Arc::new(Inner {
        clients: ClientCache::new(storage.clone(), config.client_cache_capacity),
        issuer: issuer.clone(),
        storage,
        clock,
        keyring,
        keys,
        authenticator,
        replay,
        remote_keys,
        policy,
        discovery_body,
        key_work: Default::default(),
        config,
    }));

    let app = Router::new()
        .merge(public::routes())
        .merge(admin::routes())
        .layer(crate::panic_guard::layer())
        .layer(middleware::from_fn(metrics::track))
        .with_state(state.clone());

    let mut background = vec![
        spawn_key_reload(state.clone()),
        spawn_metrics_upkeep(),
        spawn_replay_purge(state.clone()),
    ];
    background.extend(changes.map(|rx| crate::sync::spawn_listener(state.clone(), rx)));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    tracing::info!(%addr, %issuer, "keyward listening on http://{addr}");
    Ok(RunningServer {
        addr,
        issuer,
        shutdown: Some(tx),
        task: Some(task),
        background,
    })
}

fn spawn_key_reload(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.signing_key_reload_seconds.max(1));
        loop {
            tokio::time::sleep(period).await;
            if let Err(e) = state
                .keys
                .reload(&*state.storage, &state.keyring, state.clock.now())
                .await
            {
                tracing::warn!(error = %e, "signing key reload failed; keeping current keys");
            }
        }
    })
}

fn spawn_metrics_upkeep() -> JoinHandle<()> {
    tokio::spawn(async {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Some(h) = metrics::handle() {
                h.run_upkeep();
            }
        }
    })
}

/// Expired replay entries are deleted in the background, never on the token path.
fn spawn_replay_purge(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_secs(state.config.replay_purge_seconds.max(1));
        loop {
            tokio::time::sleep(period).await;
            match state.storage.purge_expired(state.clock.now()).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired replay entries removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "replay purge failed; will retry"),
            }
        }
    })
}
