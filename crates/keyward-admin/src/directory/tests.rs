//! The cache against a real SQLite database in a temp directory.

use std::sync::Arc;

use keyward_client_auth::ClientDirectory;
use keyward_storage::{AuditEvent, Storage};
use keyward_storage_sqlite::SqliteStorage;
use keyward_types::{AuthMethod, Client, ClientId, GrantType, Scope};

use super::Directory;

struct Fixture {
    storage: Arc<dyn Storage>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keyward.db").display());
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&url).await.unwrap());
    Fixture { storage, _dir: dir }
}

fn client(id: &str, name: &str) -> Client {
    let now = keyward_types::Clock::now(&keyward_types::SystemClock);
    Client {
        client_id: ClientId::parse(id).unwrap(),
        client_name: Some(name.into()),
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::PrivateKeyJwt,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        max_assertion_lifetime: None,
        client_secret_lifetime: None,
        jwks_uri: Some("https://client.example/jwks".into()),
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::parse("read").unwrap(),
        default_audience: None,
        allowed_audiences: vec![],
        access_token_lifetime: 300,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        first_party: false,
        require_pushed_authorization_requests: false,
        enabled: true,
        created_at: now,
        updated_at: now,
    }
}

fn audit(target: &str) -> AuditEvent {
    AuditEvent {
        at: keyward_types::Clock::now(&keyward_types::SystemClock),
        actor: "test".into(),
        action: "client.create".into(),
        target: target.into(),
        outcome: "success".into(),
        detail: serde_json::Value::Null,
    }
}

async fn register(storage: &Arc<dyn Storage>, id: &str) {
    storage
        .insert_client(&client(id, "first"), None, &[], &audit(id))
        .await
        .unwrap();
}

fn id(value: &str) -> ClientId {
    ClientId::parse(value).unwrap()
}

#[tokio::test]
async fn a_cached_client_is_read_from_storage_once() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let cache = Directory::new(f.storage.clone(), 10);
    for _ in 0..3 {
        let entry = cache.find(&id("svc")).await.unwrap().expect("registered");
        assert_eq!(entry.client.client_name.as_deref(), Some("first"));
    }
    assert_eq!(cache.loads(), 1);
}

#[tokio::test]
async fn concurrent_misses_for_one_client_share_one_load() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let cache = Arc::new(Directory::new(f.storage.clone(), 10));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let cache = cache.clone();
        tasks.spawn(async move { cache.find(&id("svc")).await.unwrap().is_some() });
    }
    while let Some(found) = tasks.join_next().await {
        assert!(found.unwrap());
    }
    assert_eq!(cache.loads(), 1);
}

#[tokio::test]
async fn an_invalidated_client_is_read_again_with_its_change() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let cache = Directory::new(f.storage.clone(), 10);
    cache.find(&id("svc")).await.unwrap().expect("registered");

    f.storage
        .update_client(&client("svc", "renamed"), &audit("svc"))
        .await
        .unwrap();
    // Until invalidated, the token path may still see the cached value.
    cache.invalidate(&id("svc"));
    let entry = cache.find(&id("svc")).await.unwrap().expect("still registered");
    assert_eq!(entry.client.client_name.as_deref(), Some("renamed"));
    assert_eq!(cache.loads(), 2);
}

#[tokio::test]
async fn clear_drops_every_client() {
    let f = fixture().await;
    register(&f.storage, "a").await;
    register(&f.storage, "b").await;
    let cache = Directory::new(f.storage.clone(), 10);
    cache.find(&id("a")).await.unwrap();
    cache.find(&id("b")).await.unwrap();
    cache.clear();
    assert_eq!(cache.len(), 0);
    cache.find(&id("a")).await.unwrap();
    assert_eq!(cache.loads(), 3);
}

#[tokio::test]
async fn an_unknown_client_is_not_cached() {
    let f = fixture().await;
    let cache = Directory::new(f.storage.clone(), 10);
    assert!(cache.find(&id("nobody")).await.unwrap().is_none());
    register(&f.storage, "nobody").await;
    // Registered since the miss: found at once, not hidden behind a cached "no such client".
    assert!(cache.find(&id("nobody")).await.unwrap().is_some());
    assert_eq!(cache.loads(), 2);
}

#[tokio::test]
async fn the_cache_never_holds_more_clients_than_its_capacity() {
    let f = fixture().await;
    for n in 0..300 {
        register(&f.storage, &format!("c{n}")).await;
    }
    let cache = Directory::new(f.storage.clone(), 100);
    for n in 0..300 {
        cache
            .find(&id(&format!("c{n}")))
            .await
            .unwrap()
            .expect("registered");
        assert!(cache.len() <= 100, "{} cached after {} loads", cache.len(), n + 1);
    }
    // Evicting one at a time keeps the cache near full rather than starting over.
    assert!(cache.len() >= 50, "only {} cached", cache.len());
}

#[tokio::test]
async fn a_zero_capacity_still_answers() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let cache = Directory::new(f.storage.clone(), 0);
    assert!(cache.find(&id("svc")).await.unwrap().is_some());
    assert!(cache.find(&id("svc")).await.unwrap().is_some());
}

#[tokio::test]
async fn an_entry_older_than_the_max_age_is_read_again() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let clock = keyward_types::ManualClock::new(keyward_types::Clock::now(&keyward_types::SystemClock));
    let cache = Directory::new(f.storage.clone(), 10)
        .with_max_age(Arc::new(clock.clone()), time::Duration::seconds(60));
    cache.find(&id("svc")).await.unwrap().expect("registered");
    // A change this node never heard of: no invalidation.
    f.storage
        .update_client(&client("svc", "renamed"), &audit("svc"))
        .await
        .unwrap();

    clock.advance(time::Duration::seconds(59));
    let entry = cache.find(&id("svc")).await.unwrap().expect("registered");
    assert_eq!(entry.client.client_name.as_deref(), Some("first"));
    assert_eq!(cache.loads(), 1);

    clock.advance(time::Duration::seconds(1));
    let entry = cache.find(&id("svc")).await.unwrap().expect("registered");
    assert_eq!(entry.client.client_name.as_deref(), Some("renamed"));
    assert_eq!(cache.loads(), 2);
    // Read again, the entry is fresh for another full age.
    clock.advance(time::Duration::seconds(59));
    cache.find(&id("svc")).await.unwrap().expect("registered");
    assert_eq!(cache.loads(), 2);
}

#[tokio::test]
async fn a_client_deleted_unheard_is_gone_after_the_max_age() {
    let f = fixture().await;
    register(&f.storage, "svc").await;
    let clock = keyward_types::ManualClock::new(keyward_types::Clock::now(&keyward_types::SystemClock));
    let cache = Directory::new(f.storage.clone(), 10)
        .with_max_age(Arc::new(clock.clone()), time::Duration::seconds(60));
    cache.find(&id("svc")).await.unwrap().expect("registered");
    f.storage.delete_client(&id("svc"), &audit("svc")).await.unwrap();
    clock.advance(time::Duration::seconds(61));
    assert!(cache.find(&id("svc")).await.unwrap().is_none());
    assert_eq!(cache.len(), 0);
}
