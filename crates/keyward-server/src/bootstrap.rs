//! The bootstrap admin client `keyward-admin`, created on first start.

use keyward_storage::{AuditEvent, Storage, StorageError};
use keyward_types::{
    AuthMethod, Client, ClientId, ClientSecret, Clock, GrantType, Scope, SecretHash, StoredSecret,
};
use serde_json::json;

use crate::{
    admin::{ADMIN_SCOPE, BOOTSTRAP_CLIENT},
    error::StartError,
    keyring::Keyring,
    Config,
};

/// Creates `keyward-admin` if it does not exist. Its secret is `admin_secret` from the config,
/// or a generated one that is printed once to standard output (never to the log).
pub(crate) async fn ensure_admin_client(
    storage: &dyn Storage,
    keyring: &Keyring,
    config: &Config,
    clock: &dyn Clock,
) -> Result<(), StartError> {
    let id = ClientId::parse(BOOTSTRAP_CLIENT).map_err(|e| StartError::Key(e.to_string()))?;
    if storage.load_client(&id).await?.is_some() {
        return Ok(());
    }
    let (secret, generated) = match &config.admin_secret {
        Some(s) => (ClientSecret::from_presented(s.clone()), false),
        None => (
            ClientSecret::generate().map_err(|_| StartError::Key("RNG failure".into()))?,
            true,
        ),
    };
    let now = clock.now();
    let client = Client {
        client_id: id.clone(),
        client_name: Some("keyward bootstrap admin".into()),
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        jwks_uri: None,
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::parse(ADMIN_SCOPE).map_err(|e| StartError::Key(e.to_string()))?,
        default_audience: None,
        allowed_audiences: vec![],
        access_token_lifetime: config.default_access_token_lifetime,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    let record = StoredSecret {
        id: format!("{BOOTSTRAP_CLIENT}-initial"),
        hash: SecretHash::compute(&keyring.pepper, &secret),
        created_at: now,
        expires_at: None,
        encrypted: None,
    };
    let audit = AuditEvent {
        at: now,
        actor: "keyward".into(),
        action: "client.create".into(),
        target: BOOTSTRAP_CLIENT.into(),
        outcome: "success".into(),
        detail: json!({"bootstrap": true, "secret_source": if generated { "generated" } else { "config" }}),
    };
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
