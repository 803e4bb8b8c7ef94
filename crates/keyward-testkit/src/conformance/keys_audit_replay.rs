//! Signing keys, the audit log and the replay store.

use keyward_types::ClientId;
use time::Duration;

use super::{audit, T0};
use keyward_storage::{
    ActionFilter, AuditEvent, AuditQuery, AuditRecord, SigningKeyAudit, SigningKeyRecord, Storage,
};

fn signing_key(kid: &str) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        alg: "ES256".into(),
        encrypted_key: vec![1, 2, 3],
        created_at: T0,
        retire_at: None,
    }
}

fn key_audit() -> SigningKeyAudit {
    SigningKeyAudit {
        at: T0,
        actor: "conformance".into(),
    }
}

pub async fn signing_keys_rotate_and_expire(s: &dyn Storage) {
    let key = signing_key;
    s.add_signing_key(&key("k1"), T0, T0, &key_audit()).await.unwrap();
    let retire = T0 + Duration::hours(1);
    s.add_signing_key(&key("k2"), retire, T0, &key_audit())
        .await
        .unwrap();
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
        &key_audit(),
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

/// Each signing-key write carries its audit events, naming exactly the keys it retired and
/// deleted, in the write's own transaction.
pub async fn signing_key_writes_are_audited(s: &dyn Storage) {
    let retire = T0 + Duration::hours(1);
    s.add_signing_key(&signing_key("k1"), T0, T0, &key_audit())
        .await
        .unwrap();
    s.add_signing_key(&signing_key("k2"), retire, T0, &key_audit())
        .await
        .unwrap();
    s.add_signing_key(
        &signing_key("k3"),
        retire,
        retire + Duration::seconds(1),
        &key_audit(),
    )
    .await
    .unwrap();
    let log = s.list_audit(&AuditQuery::newest(100)).await.unwrap();
    let got: Vec<(String, String)> = log
        .iter()
        .rev()
        .map(|r| (r.event.action.clone(), r.event.target.clone()))
        .collect();
    let want = [
        ("signing_key.create", "k1"),
        ("signing_key.rotate", "k2"),
        ("signing_key.retire", "k1"),
        ("signing_key.rotate", "k3"),
        ("signing_key.retire", "k2"),
        ("signing_key.delete", "k1"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, t)| (a.to_string(), t.to_string())).collect();
    assert_eq!(got, want, "one event per key touched, in order");
    let rotate = log
        .iter()
        .find(|r| r.event.target == "k2" && r.event.action == "signing_key.rotate")
        .unwrap();
    assert_eq!(rotate.event.detail["alg"], "ES256");
    assert_eq!(rotate.event.detail["replaces"], serde_json::json!(["k1"]));
}

pub async fn audit_log_pages_newest_first(s: &dyn Storage) {
    for i in 0..5 {
        s.append_audit(&audit("x", &format!("t{i}"))).await.unwrap();
    }
    let p1 = s.list_audit(&AuditQuery::newest(2)).await.unwrap();
    assert_eq!(targets(&p1), ["t4", "t3"], "first page newest first");
    let p2 = s
        .list_audit(&AuditQuery {
            before: p1.last().map(|r| r.id),
            ..AuditQuery::newest(10)
        })
        .await
        .unwrap();
    assert_eq!(targets(&p2), ["t2", "t1", "t0"], "second page")
}

fn targets(v: &[AuditRecord]) -> Vec<String> {
    v.iter().map(|r| r.event.target.clone()).collect()
}

/// Target, actor, exact action, action prefix and time window, each alone and together.
pub async fn audit_log_filters(s: &dyn Storage) {
    let at = |action: &str, target: &str, actor: &str, secs: i64| AuditEvent {
        at: T0 + Duration::seconds(secs),
        actor: actor.into(),
        ..audit(action, target)
    };
    for e in [
        at("client.create", "a", "admin", 0),
        at("client.update", "a", "admin", 10),
        at("client.secret.rotate", "b", "ops", 20),
        at("credential.create", "a", "ops", 30),
        // `_` and `%` are no wildcards in a prefix.
        at("clientXcreate", "c", "admin", 40),
    ] {
        s.append_audit(&e).await.unwrap();
    }
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::newest(100);
        f(&mut q);
        q
    };
    let run = |q: AuditQuery| async move { targets(&s.list_audit(&q).await.unwrap()) };
    assert_eq!(
        run(q(|q| q.target = Some("a".into()))).await,
        ["a", "a", "a"],
        "by target"
    );
    assert_eq!(
        run(q(|q| q.actor = Some("ops".into()))).await,
        ["a", "b"],
        "by actor"
    );
    let exact = q(|q| q.action = Some(ActionFilter::Exact("client.update".into())));
    assert_eq!(run(exact).await, ["a"], "exact action");
    let prefix = q(|q| q.action = Some(ActionFilter::Prefix("client.".into())));
    assert_eq!(run(prefix).await, ["b", "a", "a"], "action prefix");
    let wild = q(|q| q.action = Some(ActionFilter::Prefix("client_".into())));
    assert!(run(wild).await.is_empty(), "no LIKE wildcards");
    let window = q(|q| {
        q.since = Some(T0 + Duration::seconds(10));
        q.until = Some(T0 + Duration::seconds(30));
    });
    assert_eq!(run(window).await, ["b", "a"], "since inclusive, until exclusive");
    let both = q(|q| {
        q.target = Some("a".into());
        q.action = Some(ActionFilter::Prefix("client.".into()));
        q.limit = 1;
    });
    assert_eq!(run(both).await, ["a"], "filters combine, limit applies after");
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
