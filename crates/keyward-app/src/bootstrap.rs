//! The bootstrap admin client `keyward-admin`: created on first start, and given the configured
//! `admin_secret` on every start where that differs from its current secret. And the first
//! console user (`admin_username`, role `admin`), created on a start that finds no users.

use keyward_server::{Config, Keyring, ADMIN_SCOPE, BOOTSTRAP_CLIENT};
use keyward_storage::{AuditEvent, Storage, StorageError};
use keyward_types::{
    AuthMethod, Client, ClientEntry, ClientId, ClientSecret, Clock, GrantType, Scope, SecretHash,
    StoredSecret,
};
use serde_json::json;
use time::OffsetDateTime;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_admin::{first_admin, Password};

use crate::StartupError;

/// Creates `keyward-admin` if it does not exist. Its secret is `admin_secret` from the config,
/// or a generated one that is printed once to standard output (never to the log). When it
/// exists and `admin_secret` is set, see [`apply_configured_secret`].
pub(crate) async fn ensure_admin_client(
    storage: &dyn Storage,
    keyring: &Keyring,
    config: &Config,
    clock: &dyn Clock,
) -> Result<(), StartupError> {
    let id = ClientId::new_registration(BOOTSTRAP_CLIENT).map_err(StartupError::Bootstrap)?;
    if let Some(entry) = storage.load_client(&id).await? {
        return match &config.admin_secret {
            Some(configured) => apply_configured_secret(storage, keyring, &entry, configured, clock).await,
            None => Ok(()),
        };
    }
    let (secret, generated) = match &config.admin_secret {
        Some(s) => (ClientSecret::from_presented(s.clone()), false),
        None => (
            ClientSecret::generate().map_err(StartupError::BootstrapSecret)?,
            true,
        ),
    };
    let now = clock.now();
    let record = StoredSecret {
        id: format!("{BOOTSTRAP_CLIENT}-initial"),
        hash: SecretHash::compute(keyring.pepper(), &secret),
        created_at: now,
        expires_at: None,
        not_after: None,
        encrypted: None,
    };
    let client = admin_client(id, config, now)?;
    let audit = created_audit(now, generated);
    match storage.insert_client(&client, Some(&record), &[], &audit).await {
        // Another node created it at the same moment: theirs stands.
        Err(StorageError::Conflict(_)) => return Ok(()),
        other => other?,
    }
    if generated {
        println!(
            "keyward: created admin client '{BOOTSTRAP_CLIENT}' with secret {} (shown once; store it now)",
            secret.expose()
        );
    }
    tracing::info!(client_id = BOOTSTRAP_CLIENT, "bootstrap admin client created");
    Ok(())
}

/// Creates the user `admin_username` with role `admin` when there are no users at all. Its
/// password is `admin_password`, or a generated one printed once to standard output (never to
/// the log), as the bootstrap client's secret is.
pub(crate) async fn ensure_admin_user(
    storage: &dyn Storage,
    config: &Config,
    clock: &dyn Clock,
) -> Result<(), StartupError> {
    if storage.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (Password::new(p.clone()), false),
        None => (generated_password()?, true),
    };
    let now = clock.now();
    let record = first_admin(&config.admin_username, &password, now)
        .await
        .map_err(StartupError::BootstrapUser)?;
    let source = if generated { "generated" } else { "config" };
    let audit = AuditEvent {
        at: now,
        actor: "keyward".into(),
        action: "user.create".into(),
        target: record.username.clone(),
        outcome: "success".into(),
        detail: json!({"bootstrap": true, "roles": record.roles, "password_source": source}),
    };
    match storage.insert_user(&record, &audit).await {
        // Another node created it at the same moment: theirs stands.
        Err(StorageError::Conflict(_)) => return Ok(()),
        other => other?,
    }
    if generated {
        println!(
            "keyward: created admin user '{}' with password {} (shown once; store it now)",
            record.username,
            password.expose()
        );
    }
    tracing::info!(username = %record.username, "bootstrap admin user created");
    Ok(())
}

/// 24 random bytes as base64url: 32 characters, safe to paste into a URL or a shell.
fn generated_password() -> Result<Password, StartupError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 24]);
    keyward_types::random::fill(&mut *bytes).map_err(StartupError::BootstrapSecret)?;
    Ok(Password::new(URL_SAFE_NO_PAD.encode(*bytes)))
}

fn created_audit(now: OffsetDateTime, generated: bool) -> AuditEvent {
    let source = if generated { "generated" } else { "config" };
    AuditEvent {
        at: now,
        actor: "keyward".into(),
        action: "client.create".into(),
        target: BOOTSTRAP_CLIENT.into(),
        outcome: "success".into(),
        detail: json!({"bootstrap": true, "secret_source": source}),
    }
}

/// The bootstrap client: `client_secret_basic`, `client_credentials` only, scope `keyward:admin`.
fn admin_client(id: ClientId, config: &Config, now: OffsetDateTime) -> Result<Client, StartupError> {
    Ok(Client {
        client_id: id,
        client_name: Some("keyward bootstrap admin".into()),
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        max_assertion_lifetime: None,
        client_secret_lifetime: None,
        jwks_uri: None,
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::parse(ADMIN_SCOPE).map_err(StartupError::Bootstrap)?,
        default_audience: None,
        allowed_audiences: vec![],
        access_token_lifetime: config.default_access_token_lifetime,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        first_party: false,
        require_pushed_authorization_requests: false,
        enabled: true,
        created_at: now,
        updated_at: now,
    })
}

/// While `admin_secret` (`KEYWARD_ADMIN_SECRET`) is set, it is the bootstrap client's secret:
/// when it is not the client's current secret at start, the client's secret is rotated to it,
/// with no grace period, audited as `client.secret.rotate` by actor `bootstrap`, and logged
/// without the secret. When it already is, nothing is written.
///
/// The operator who sets the variable is the authority: whoever controls the server's
/// environment already holds its pepper and keys, so obeying the variable grants nothing new,
/// while ignoring it (as a create-once value would) leaves an operator who changed a leaked
/// secret believing the old one is dead when it still works. Refusing to start instead would
/// lock out exactly the operator who lost the secret and sets a new one to get back in. No
/// grace: a changed bootstrap secret most often means the old one must stop working now.
/// A secret rotated through the admin API therefore lasts until the next start unless the
/// variable is changed to it (or unset).
async fn apply_configured_secret(
    storage: &dyn Storage,
    keyring: &Keyring,
    entry: &ClientEntry,
    configured: &str,
    clock: &dyn Clock,
) -> Result<(), StartupError> {
    let secret = ClientSecret::from_presented(configured.to_owned());
    let hash = SecretHash::compute(keyring.pepper(), &secret);
    let current = entry
        .secrets
        .iter()
        .any(|s| s.expires_at.is_none() && s.hash.matches(&hash));
    if current {
        return Ok(());
    }
    let now = clock.now();
    let record = StoredSecret {
        id: format!(
            "{BOOTSTRAP_CLIENT}-config-{}",
            keyward_types::random::uuid()
                .map_err(StartupError::BootstrapSecretId)?
                .simple()
        ),
        hash,
        created_at: now,
        expires_at: None,
        not_after: None,
        encrypted: None,
    };
    let audit = AuditEvent {
        at: now,
        actor: "bootstrap".into(),
        action: "client.secret.rotate".into(),
        target: BOOTSTRAP_CLIENT.into(),
        outcome: "success".into(),
        detail: json!({"grace_period_seconds": 0, "secret_source": "config", "reason": "admin_secret changed"}),
    };
    // `previous_valid_until == now`: every earlier secret is removed in the same transaction.
    storage
        .rotate_secret(&entry.client.client_id, &record, now, now, &audit)
        .await?;
    tracing::warn!(
        client_id = BOOTSTRAP_CLIENT,
        "admin_secret differs from the bootstrap admin client's secret: rotated to the configured \
         one; the previous secret no longer works"
    );
    Ok(())
}
