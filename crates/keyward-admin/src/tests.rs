//! The operations against a real SQLite database in a temp directory: a change reaches the
//! token path's directory at once, and a refusal is in the audit log.

use std::sync::Arc;

use keyward_client_auth::ClientDirectory;
use keyward_jwks_fetch::{FetchConfig, JwksCache};
use keyward_storage::Storage;
use keyward_storage_sqlite::SqliteStorage;
use keyward_types::{AuthMethod, ClientId, ClientSecret, Clock, SecretHash, SigningAlg, SystemClock};
use serde_json::json;

use crate::{
    json::metadata_document, Actor, AdminError, AdminOps, BoxError, ClientMetadata, ClientPatch, Directory,
    KeyWork, Limits, Parts, SecretKeys,
};

/// Hashes with a fixed pepper; seals nothing (no `client_secret_jwt` client here).
struct TestKeys;

impl SecretKeys for TestKeys {
    fn hash(&self, secret: &ClientSecret) -> SecretHash {
        SecretHash::from_bytes(&[secret.expose().len() as u8; 32]).unwrap()
    }

    fn seal(&self, _aad: &str, _plaintext: &[u8]) -> Result<Vec<u8>, BoxError> {
        Err("no sealing in these tests".into())
    }
}

pub(crate) struct Fixture {
    pub(crate) ops: AdminOps,
    directory: Arc<Directory>,
    pub(crate) storage: Arc<dyn Storage>,
    _dir: tempfile::TempDir,
}

pub(crate) async fn fixture() -> Fixture {
    keyward_jwks_fetch::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keyward.db").display());
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&url).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let directory = Arc::new(Directory::new(storage.clone(), 10));
    let fetch = FetchConfig::default();
    let ops = AdminOps::new(Parts {
        storage: storage.clone(),
        clock: clock.clone(),
        secrets: Arc::new(TestKeys),
        directory: directory.clone(),
        remote_keys: Arc::new(JwksCache::new(fetch.clone(), clock).unwrap()),
        key_work: KeyWork::default(),
        limits: Limits {
            auth_methods: AuthMethod::BUILT_IN.to_vec(),
            assertion_signing_algs: vec![SigningAlg::RS256],
            default_access_token_lifetime: 300,
            max_access_token_lifetime: 3600,
            max_secret_grace_period: 3600,
            default_client_secret_lifetime: 0,
            max_client_assertion_lifetime: 3600,
            max_credentials_per_client: 5,
            fetch,
        },
    });
    Fixture {
        ops,
        directory,
        storage,
        _dir: dir,
    }
}

fn metadata(body: serde_json::Value) -> ClientMetadata {
    metadata_document(body.to_string().as_bytes()).unwrap()
}

#[tokio::test]
async fn every_change_reaches_the_directory_at_once() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    let created = f
        .ops
        .create_client(
            &actor,
            metadata(json!({"client_id": "svc", "client_name": "first"})),
        )
        .await
        .unwrap();
    assert!(created.secret.is_some());
    let id = ClientId::parse("svc").unwrap();
    let cached = f.directory.find(&id).await.unwrap().unwrap();
    assert_eq!(cached.client.client_name.as_deref(), Some("first"));

    let patch = ClientPatch(json!({"client_name": "renamed"}).as_object().unwrap().clone());
    f.ops.update_client(&actor, "svc", patch).await.unwrap();
    let cached = f.directory.find(&id).await.unwrap().unwrap();
    assert_eq!(cached.client.client_name.as_deref(), Some("renamed"));

    f.ops.delete_client(&actor, "svc").await.unwrap();
    assert!(f.directory.find(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_refused_change_is_in_the_audit_log() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    let refused = f
        .ops
        .create_client(
            &actor,
            metadata(json!({"token_endpoint_auth_method": "x-not-registered"})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, AdminError::InvalidField { field, .. } if field == "token_endpoint_auth_method"),
        "{refused:?}"
    );
    let newest = f
        .storage
        .list_audit(&keyward_storage::AuditQuery::newest(1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(newest.event.action, "client.create");
    assert_eq!(newest.event.target, "-");
    assert_eq!(newest.event.actor, "tester");
    assert_eq!(newest.event.outcome, "failure");
    assert_eq!(
        newest.event.detail["error"],
        "invalid_client_metadata: token_endpoint_auth_method: unknown token_endpoint_auth_method 'x-not-registered'"
    );
}
