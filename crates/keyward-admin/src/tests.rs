//! The operations against a real SQLite database in a temp directory: a change reaches the
//! token path's directory at once, and a refusal is in the audit log.

use std::sync::Arc;

use keyward_client_auth::ClientDirectory;
use keyward_jwks_fetch::{FetchConfig, JwksCache};
use keyward_storage::Storage;
use keyward_storage_sqlite::SqliteStorage;
use keyward_types::{AuthMethod, ClientId, ClientSecret, Clock, SecretHash, SigningAlg, SystemClock};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{
    json::metadata_document, Actor, AdminError, AdminOps, BoxError, ClientMetadata, ClientPatch, Directory,
    KeyWork, Limits, Parts, SecretKeys, SigningKeyState, SigningKeysReload,
};

/// Hashes with a fixed pepper; "seals" by prefixing the aad (nothing here opens it again).
struct TestKeys;

impl SecretKeys for TestKeys {
    fn hash(&self, secret: &ClientSecret) -> SecretHash {
        SecretHash::from_bytes(&[secret.expose().len() as u8; 32]).unwrap()
    }

    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, BoxError> {
        Ok([aad.as_bytes(), plaintext].concat())
    }
}

pub(crate) struct Fixture {
    pub(crate) ops: AdminOps,
    reloads: Arc<CountReloads>,
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
            token_signing_alg: SigningAlg::ES256,
        },
    });
    let reloads = Arc::new(CountReloads::default());
    let ops = ops.with_signing_keys_reload(reloads.clone());
    Fixture {
        ops,
        reloads,
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

/// Counts the reloads a rotation asks the server for.
#[derive(Default)]
struct CountReloads(AtomicUsize);

#[async_trait::async_trait]
impl SigningKeysReload for CountReloads {
    async fn reload(&self) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_rotation_reloads_this_node_and_lists_newest_first() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    let first = f.ops.rotate_signing_key(&actor, None).await.unwrap();
    assert_eq!(first.alg, "ES256", "the configured token_signing_alg");
    assert_eq!(first.state, SigningKeyState::Active);
    let second = f
        .ops
        .rotate_signing_key(&actor, Some(SigningAlg::EdDSA))
        .await
        .unwrap();
    assert_eq!(f.reloads.0.load(Ordering::SeqCst), 2);

    let keys = f.ops.signing_keys().await.unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, [second.kid.as_str(), first.kid.as_str()]);
    assert_eq!(keys[0].state, SigningKeyState::Active);
    assert_eq!(keys[0].retire_at, None);
    let until = keys[1].retire_at.unwrap();
    assert_eq!(keys[1].state, SigningKeyState::Retiring { until });
    assert_eq!(until, second.created_at + time::Duration::seconds(3600));
}

#[tokio::test]
async fn a_refused_rotation_is_audited_and_reloads_nothing() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    let refused = f
        .ops
        .rotate_signing_key(&actor, Some(SigningAlg::HS256))
        .await
        .unwrap_err();
    assert!(matches!(refused, AdminError::InvalidRequest(_)), "{refused:?}");
    assert!(f.ops.signing_keys().await.unwrap().is_empty());
    assert_eq!(f.reloads.0.load(Ordering::SeqCst), 0);
    let newest = f
        .storage
        .list_audit(&keyward_storage::AuditQuery::newest(1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(newest.event.action, "signing_key.rotate");
    assert_eq!(newest.event.outcome, "failure");
    assert_eq!(newest.event.actor, "tester");
}
