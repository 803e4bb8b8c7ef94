//! Signing keys, the audit log and the replay store.

use keyward_types::ClientId;
use time::Duration;

use super::{audit, ensure, err, Check, T0};
use crate::{SigningKeyRecord, Storage};

pub async fn signing_keys_rotate_and_expire(s: &dyn Storage) -> Check {
    let key = |kid: &str| SigningKeyRecord {
        kid: kid.into(),
        alg: "ES256".into(),
        encrypted_key: vec![1, 2, 3],
        created_at: T0,
        retire_at: None,
    };
    s.add_signing_key(&key("k1"), T0, T0).await.map_err(err)?;
    let retire = T0 + Duration::hours(1);
    s.add_signing_key(&key("k2"), retire, T0).await.map_err(err)?;
    let keys = s.signing_keys().await.map_err(err)?;
    let k1 = keys.iter().find(|k| k.kid == "k1").ok_or("k1 gone too early")?;
    ensure(k1.retire_at == Some(retire), "k1 retires")?;
    ensure(
        keys.iter().any(|k| k.kid == "k2" && k.retire_at.is_none()),
        "k2 active",
    )?;
    s.add_signing_key(
        &key("k3"),
        retire + Duration::hours(1),
        retire + Duration::seconds(1),
    )
    .await
    .map_err(err)?;
    let kids: Vec<_> = s
        .signing_keys()
        .await
        .map_err(err)?
        .into_iter()
        .map(|k| k.kid)
        .collect();
    ensure(!kids.contains(&"k1".to_string()), "expired key deleted")?;
    ensure(
        kids.contains(&"k2".into()) && kids.contains(&"k3".into()),
        "k2, k3 kept",
    )
}

pub async fn audit_log_pages_newest_first(s: &dyn Storage) -> Check {
    for i in 0..5 {
        s.append_audit(&audit("x", &format!("t{i}"))).await.map_err(err)?;
    }
    let p1 = s.list_audit(None, 2).await.map_err(err)?;
    let targets = |v: &[crate::AuditRecord]| v.iter().map(|r| r.event.target.clone()).collect::<Vec<_>>();
    ensure(targets(&p1) == ["t4", "t3"], "first page newest first")?;
    let p2 = s.list_audit(p1.last().map(|r| r.id), 10).await.map_err(err)?;
    ensure(targets(&p2) == ["t2", "t1", "t0"], "second page")
}

pub async fn replay_store_accepts_each_jti_once(s: &dyn Storage) -> Check {
    let a = ClientId::parse("a").map_err(|e| e.to_string())?;
    let b = ClientId::parse("b").map_err(|e| e.to_string())?;
    let exp = T0 + Duration::seconds(75);
    ensure(
        s.insert_once(&a, "j1", exp, T0).await.map_err(err)?,
        "first use accepted",
    )?;
    ensure(
        !s.insert_once(&a, "j1", exp, T0).await.map_err(err)?,
        "second use is a replay",
    )?;
    ensure(
        s.insert_once(&b, "j1", exp, T0).await.map_err(err)?,
        "same jti, other client",
    )?;
    let later = exp + Duration::seconds(1);
    ensure(
        !s.insert_once(&a, "j1", exp, exp - Duration::seconds(1))
            .await
            .map_err(err)?,
        "still a replay just before expiry",
    )?;
    ensure(
        s.insert_once(&a, "j1", later + Duration::seconds(60), later)
            .await
            .map_err(err)?,
        "an expired entry no longer blocks",
    )?;
    ensure(s.replay_entries().await.map_err(err)? == 2, "two entries")?;
    let purged = s
        .purge_expired(later + Duration::seconds(600))
        .await
        .map_err(err)?;
    ensure(purged == 2, "purge removes expired entries")?;
    ensure(
        s.replay_entries().await.map_err(err)? == 0,
        "store empty after purge",
    )
}

pub async fn replay_store_is_atomic_under_concurrency(s: &dyn Storage) -> Check {
    let a = ClientId::parse("a").map_err(|e| e.to_string())?;
    let exp = T0 + Duration::seconds(75);
    let attempts = (0..64).map(|_| s.insert_once(&a, "same", exp, T0));
    let results = futures_join_all(attempts).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(true))).count();
    ensure(results.iter().all(Result::is_ok), "no errors")?;
    ensure(
        winners == 1,
        &format!("exactly one of 64 concurrent inserts wins, got {winners}"),
    )
}

/// A minimal `join_all` (polls every future concurrently) to avoid a dependency for one use.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
