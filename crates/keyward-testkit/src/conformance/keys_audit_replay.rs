//! Signing keys, the audit log and the replay store.

use keyward_types::ClientId;
use time::Duration;

use super::{audit, T0};
use keyward_storage::{SigningKeyRecord, Storage};

pub async fn signing_keys_rotate_and_expire(s: &dyn Storage) {
    let key = |kid: &str| SigningKeyRecord {
        kid: kid.into(),
        alg: "ES256".into(),
        encrypted_key: vec![1, 2, 3],
        created_at: T0,
        retire_at: None,
    };
    s.add_signing_key(&key("k1"), T0, T0).await.unwrap();
    let retire = T0 + Duration::hours(1);
    s.add_signing_key(&key("k2"), retire, T0).await.unwrap();
    let keys = s.signing_keys().await.unwrap();
    let k1 = keys.iter().find(|k| k.kid == "k1").expect("k1 gone too early");
    assert_eq!(k1.retire_at, Some(retire), "k1 retires");
    assert!(
        keys.iter().any(|k| k.kid == "k2" && k.retire_at.is_none()),
        "k2 active",
    );
    s.add_signing_key(
        &key("k3"),
        retire + Duration::hours(1),
        retire + Duration::seconds(1),
    )
    .await
    .unwrap();
    let kids: Vec<_> = s
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(!kids.contains(&"k1".to_string()), "expired key deleted");
    assert!(
        kids.contains(&"k2".into()) && kids.contains(&"k3".into()),
        "k2, k3 kept",
    )
}

pub async fn audit_log_pages_newest_first(s: &dyn Storage) {
    for i in 0..5 {
        s.append_audit(&audit("x", &format!("t{i}"))).await.unwrap();
    }
    let p1 = s.list_audit(None, 2).await.unwrap();
    let targets =
        |v: &[keyward_storage::AuditRecord]| v.iter().map(|r| r.event.target.clone()).collect::<Vec<_>>();
    assert_eq!(targets(&p1), ["t4", "t3"], "first page newest first");
    let p2 = s.list_audit(p1.last().map(|r| r.id), 10).await.unwrap();
    assert_eq!(targets(&p2), ["t2", "t1", "t0"], "second page")
}

pub async fn replay_store_accepts_each_jti_once(s: &dyn Storage) {
    let a = ClientId::parse("a").unwrap();
    let b = ClientId::parse("b").unwrap();
    let exp = T0 + Duration::seconds(75);
    assert!(
        s.insert_once(&a, "j1", exp, T0).await.unwrap(),
        "first use accepted",
    );
    assert!(
        !s.insert_once(&a, "j1", exp, T0).await.unwrap(),
        "second use is a replay",
    );
    assert!(
        s.insert_once(&b, "j1", exp, T0).await.unwrap(),
        "same jti, other client",
    );
    let later = exp + Duration::seconds(1);
    assert!(
        !s.insert_once(&a, "j1", exp, exp - Duration::seconds(1))
            .await
            .unwrap(),
        "still a replay just before expiry",
    );
    assert!(
        s.insert_once(&a, "j1", later + Duration::seconds(60), later)
            .await
            .unwrap(),
        "an expired entry no longer blocks",
    );
    assert_eq!(s.replay_entries().await.unwrap(), 2, "two entries");
    let purged = s.purge_expired(later + Duration::seconds(600)).await.unwrap();
    assert_eq!(purged, 2, "purge removes expired entries");
    assert_eq!(s.replay_entries().await.unwrap(), 0, "store empty after purge");
}

pub async fn replay_store_is_atomic_under_concurrency(s: &dyn Storage) {
    let a = ClientId::parse("a").unwrap();
    let exp = T0 + Duration::seconds(75);
    let attempts = (0..64).map(|_| s.insert_once(&a, "same", exp, T0));
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(true))).count();
    assert!(results.iter().all(Result::is_ok), "no errors");
    assert_eq!(winners, 1, "exactly one of 64 concurrent inserts wins");
}
