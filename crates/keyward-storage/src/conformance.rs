//! The behaviour every storage backend must have. A backend runs all of it with
//! [`conformance_tests!`](crate::conformance_tests), which makes one named test per check.
//!
//! Each check returns `Err` with what went wrong rather than panicking, so it can live in
//! non-test code under the workspace's no-panic lints.

use keyward_types::{
    AuthMethod, Client, ClientId, Credential, GrantType, PublicJwk, Scope, SecretHash, SigningAlg,
    StoredSecret,
};
use time::{macros::datetime, Duration, OffsetDateTime};

use crate::{AuditEvent, SigningKeyRecord, Storage, StorageError};

type Check = Result<(), String>;

const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn ensure(cond: bool, what: &str) -> Check {
    if cond {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

fn err(e: StorageError) -> String {
    e.to_string()
}

pub fn sample_client(id: &str) -> Result<Client, String> {
    Ok(Client {
        client_id: ClientId::parse(id).map_err(|e| e.to_string())?,
        client_name: Some(format!("name of {id}")),
        client_uri: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        token_endpoint_auth_signing_alg: None,
        legacy_token_endpoint_audience: false,
        jwks_uri: None,
        grant_types: vec![GrantType::ClientCredentials],
        scope: Scope::parse("read write").map_err(|e| e.to_string())?,
        default_audience: None,
        allowed_audiences: vec![],
        access_token_lifetime: 300,
        enabled: true,
        created_at: T0,
        updated_at: T0,
    })
}

fn secret(id: &str, byte: u8, expires_at: Option<OffsetDateTime>) -> Result<StoredSecret, String> {
    Ok(StoredSecret {
        id: id.to_owned(),
        hash: SecretHash::from_bytes(&[byte; 32]).ok_or("hash")?,
        created_at: T0,
        expires_at,
        encrypted: None,
    })
}

fn audit(action: &str, target: &str) -> AuditEvent {
    AuditEvent {
        at: T0,
        actor: "conformance".into(),
        action: action.into(),
        target: target.into(),
        outcome: "success".into(),
        detail: serde_json::json!({}),
    }
}

pub async fn inserts_and_loads_client(s: &dyn Storage) -> Check {
    let c = sample_client("c1")?;
    s.insert_client(
        &c,
        Some(&secret("s1", 1, None)?),
        &[],
        &audit("client.create", "c1"),
    )
    .await
    .map_err(err)?;
    let entry = s
        .load_client(&c.client_id)
        .await
        .map_err(err)?
        .ok_or("client not found")?;
    ensure(entry.client == c, "loaded client differs from inserted")?;
    ensure(entry.secrets.len() == 1, "expected one secret")?;
    ensure(
        entry.secrets.first().map(|x| x.hash.as_bytes()[0]) == Some(1),
        "secret hash differs",
    )?;
    let missing = s
        .load_client(&ClientId::parse("nope").map_err(|e| e.to_string())?)
        .await;
    ensure(matches!(missing, Ok(None)), "unknown client must load as None")
}

pub async fn rejects_duplicate_client_id_and_keeps_first(s: &dyn Storage) -> Check {
    let c = sample_client("dup")?;
    s.insert_client(&c, None, &[], &audit("client.create", "dup"))
        .await
        .map_err(err)?;
    let mut other = c.clone();
    other.client_name = Some("second".into());
    let second = s
        .insert_client(&other, None, &[], &audit("client.create", "dup"))
        .await;
    ensure(
        matches!(second, Err(StorageError::Conflict(_))),
        "duplicate insert must be Conflict",
    )?;
    let entry = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    ensure(
        entry.client.client_name == c.client_name,
        "first client was overwritten",
    )?;
    let log = s.list_audit(None, 10).await.map_err(err)?;
    ensure(log.len() == 1, "a failed insert must not leave its audit event")
}

pub async fn lists_clients_in_pages(s: &dyn Storage) -> Check {
    for id in ["b", "a", "d", "c", "e"] {
        s.insert_client(&sample_client(id)?, None, &[], &audit("client.create", id))
            .await
            .map_err(err)?;
    }
    let page1 = s.list_clients(None, 2).await.map_err(err)?;
    let ids = |v: &[Client]| v.iter().map(|c| c.client_id.to_string()).collect::<Vec<_>>();
    ensure(ids(&page1) == ["a", "b"], "first page")?;
    let last = page1.last().map(|c| c.client_id.clone());
    let page2 = s.list_clients(last.as_ref(), 10).await.map_err(err)?;
    ensure(ids(&page2) == ["c", "d", "e"], "second page")
}

pub async fn updates_and_deletes_client_with_audit(s: &dyn Storage) -> Check {
    let mut c = sample_client("u1")?;
    s.insert_client(
        &c,
        Some(&secret("s", 1, None)?),
        &[],
        &audit("client.create", "u1"),
    )
    .await
    .map_err(err)?;
    c.enabled = false;
    c.updated_at = T0 + Duration::seconds(5);
    s.update_client(&c, &audit("client.update", "u1"))
        .await
        .map_err(err)?;
    let got = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    ensure(
        !got.client.enabled && got.client.updated_at == c.updated_at,
        "update not stored",
    )?;
    s.delete_client(&c.client_id, &audit("client.delete", "u1"))
        .await
        .map_err(err)?;
    ensure(
        s.load_client(&c.client_id).await.map_err(err)?.is_none(),
        "deleted client still loads",
    )?;
    let again = s.delete_client(&c.client_id, &audit("client.delete", "u1")).await;
    ensure(
        matches!(again, Err(StorageError::NotFound)),
        "second delete must be NotFound",
    )?;
    let upd = s.update_client(&c, &audit("client.update", "u1")).await;
    ensure(
        matches!(upd, Err(StorageError::NotFound)),
        "update of missing must be NotFound",
    )?;
    let log = s.list_audit(None, 10).await.map_err(err)?;
    let actions: Vec<_> = log.iter().map(|r| r.event.action.as_str()).collect();
    ensure(
        actions == ["client.delete", "client.update", "client.create"],
        "audit newest first",
    )
}

pub async fn rotation_keeps_at_most_two_secrets(s: &dyn Storage) -> Check {
    let c = sample_client("r1")?;
    s.insert_client(
        &c,
        Some(&secret("s1", 1, None)?),
        &[],
        &audit("client.create", "r1"),
    )
    .await
    .map_err(err)?;
    let grace_end = T0 + Duration::hours(1);
    s.rotate_secret(
        &c.client_id,
        &secret("s2", 2, None)?,
        grace_end,
        T0,
        &audit("secret.rotate", "r1"),
    )
    .await
    .map_err(err)?;
    let e = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    let find = |id: &str| e.secrets.iter().find(|x| x.id == id).cloned();
    ensure(e.secrets.len() == 2, "two secrets during grace")?;
    ensure(
        find("s1").and_then(|x| x.expires_at) == Some(grace_end),
        "old secret ends with grace",
    )?;
    ensure(
        find("s2").is_some_and(|x| x.expires_at.is_none()),
        "new secret current",
    )?;
    // A second rotation during the grace period drops the oldest at once.
    s.rotate_secret(
        &c.client_id,
        &secret("s3", 3, None)?,
        T0,
        T0,
        &audit("secret.rotate", "r1"),
    )
    .await
    .map_err(err)?;
    let e = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    let ids: Vec<_> = e.secrets.iter().map(|x| x.id.as_str()).collect();
    ensure(ids == ["s3"], "grace 0 leaves only the newest secret")?;
    let missing = ClientId::parse("none").map_err(|e| e.to_string())?;
    let r = s
        .rotate_secret(
            &missing,
            &secret("s4", 4, None)?,
            T0,
            T0,
            &audit("secret.rotate", "none"),
        )
        .await;
    ensure(
        matches!(r, Err(StorageError::NotFound)),
        "rotation of unknown client is NotFound",
    )
}

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

pub async fn stores_credentials_and_encrypted_secret_with_client(s: &dyn Storage) -> Check {
    let mut c = sample_client("jwt1")?;
    c.token_endpoint_auth_method = AuthMethod::PrivateKeyJwt;
    let jwk = PublicJwk::ed25519(&[7u8; 32]);
    let cred = Credential {
        id: "cred-1".into(),
        name: Some("laptop".into()),
        kid: "k1".into(),
        alg: SigningAlg::EdDSA,
        thumbprint: jwk.thumbprint(),
        jwk,
        created_at: T0,
        expires_at: Some(T0 + Duration::days(30)),
        enabled: true,
    };
    let mut sec = secret("enc", 9, None)?;
    sec.encrypted = Some(vec![1, 2, 3, 4]);
    s.insert_client(
        &c,
        Some(&sec),
        std::slice::from_ref(&cred),
        &audit("client.create", "jwt1"),
    )
    .await
    .map_err(err)?;
    let e = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    ensure(e.credentials == vec![cred.clone()], "credential round trip")?;
    ensure(
        e.secrets.first().and_then(|x| x.encrypted.clone()) == Some(vec![1, 2, 3, 4]),
        "encrypted secret",
    )?;
    // A duplicate thumbprint makes the whole insert fail: all or nothing.
    let c2 = sample_client("jwt2")?;
    let mut dup = cred.clone();
    dup.id = "cred-2".into();
    let r = s
        .insert_client(&c2, None, &[cred.clone(), dup], &audit("client.create", "jwt2"))
        .await;
    ensure(r.is_err(), "duplicate thumbprint within a client must fail")?;
    ensure(
        s.load_client(&c2.client_id).await.map_err(err)?.is_none(),
        "failed insert left a client",
    )?;
    s.delete_client(&c.client_id, &audit("client.delete", "jwt1"))
        .await
        .map_err(err)?;
    let c3 = sample_client("jwt1")?;
    s.insert_client(&c3, None, &[], &audit("client.create", "jwt1"))
        .await
        .map_err(err)?;
    let e = s
        .load_client(&c3.client_id)
        .await
        .map_err(err)?
        .ok_or("missing")?;
    ensure(e.credentials.is_empty(), "delete removed the credentials")
}

pub async fn updates_and_deletes_credentials(s: &dyn Storage) -> Check {
    let c = sample_client("cred")?;
    let jwk = PublicJwk::ed25519(&[3u8; 32]);
    let mut cred = Credential {
        id: "c-1".into(),
        name: None,
        kid: "k".into(),
        alg: SigningAlg::EdDSA,
        thumbprint: jwk.thumbprint(),
        jwk,
        created_at: T0,
        expires_at: None,
        enabled: true,
    };
    s.insert_client(
        &c,
        None,
        std::slice::from_ref(&cred),
        &audit("client.create", "cred"),
    )
    .await
    .map_err(err)?;
    cred.enabled = false;
    cred.name = Some("old laptop".into());
    cred.expires_at = Some(T0 + Duration::days(1));
    s.update_credential(&c.client_id, &cred, &audit("credential.update", "cred"))
        .await
        .map_err(err)?;
    let e = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    ensure(e.credentials == vec![cred.clone()], "update stored")?;
    let other = ClientId::parse("other").map_err(|e| e.to_string())?;
    let r = s
        .update_credential(&other, &cred, &audit("credential.update", "other"))
        .await;
    ensure(
        matches!(r, Err(StorageError::NotFound)),
        "credential of another client is NotFound",
    )?;
    let r = s
        .delete_credential(&other, "c-1", &audit("credential.delete", "other"))
        .await;
    ensure(
        matches!(r, Err(StorageError::NotFound)),
        "delete via another client is NotFound",
    )?;
    s.delete_credential(&c.client_id, "c-1", &audit("credential.delete", "cred"))
        .await
        .map_err(err)?;
    let e = s.load_client(&c.client_id).await.map_err(err)?.ok_or("missing")?;
    ensure(e.credentials.is_empty(), "deleted")?;
    let r = s
        .delete_credential(&c.client_id, "c-1", &audit("credential.delete", "cred"))
        .await;
    ensure(
        matches!(r, Err(StorageError::NotFound)),
        "second delete is NotFound",
    )
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

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an async expression that
/// returns `(backend, guard)`: a fresh, empty backend, and whatever must live as long as it
/// (a temp directory, a schema to drop).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            inserts_and_loads_client,
            rejects_duplicate_client_id_and_keeps_first,
            lists_clients_in_pages,
            updates_and_deletes_client_with_audit,
            rotation_keeps_at_most_two_secrets,
            signing_keys_rotate_and_expire,
            audit_log_pages_newest_first,
            stores_credentials_and_encrypted_secret_with_client,
            updates_and_deletes_credentials,
            replay_store_accepts_each_jti_once,
            replay_store_is_atomic_under_concurrency
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $make.await;
                if let Err(e) = $crate::conformance::$name(&store).await {
                    panic!("{}: {}", stringify!($name), e);
                }
            }
        )*
    };
}
