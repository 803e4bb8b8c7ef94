//! Clients, their secrets and their credentials.

use keyward_types::{AuthMethod, Client, ClientId, Credential};
use time::Duration;

use super::{audit, key_credential, sample_client, secret, T0};
use keyward_storage::{AuditQuery, ClientQuery, Storage, StorageError};

pub async fn inserts_and_loads_client(s: &dyn Storage) {
    let c = sample_client("c1");
    s.insert_client(
        &c,
        Some(&secret("s1", 1, None)),
        &[],
        &audit("client.create", "c1"),
    )
    .await
    .unwrap();
    let entry = s
        .load_client(&c.client_id)
        .await
        .unwrap()
        .expect("client not found");
    assert_eq!(entry.client, c, "loaded client differs from inserted");
    assert_eq!(entry.secrets.len(), 1, "expected one secret");
    assert!(
        entry.secrets.first().map(|x| x.hash.as_bytes()[0]) == Some(1),
        "secret hash differs",
    );
    let missing = s.load_client(&ClientId::parse("nope").unwrap()).await;
    assert!(matches!(missing, Ok(None)), "unknown client must load as None")
}

pub async fn rejects_duplicate_client_id_and_keeps_first(s: &dyn Storage) {
    let c = sample_client("dup");
    s.insert_client(&c, None, &[], &audit("client.create", "dup"))
        .await
        .unwrap();
    let mut other = c.clone();
    other.client_name = Some("second".into());
    let second = s
        .insert_client(&other, None, &[], &audit("client.create", "dup"))
        .await;
    assert!(
        matches!(second, Err(StorageError::Conflict(_))),
        "duplicate insert must be Conflict",
    );
    let entry = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert!(
        entry.client.client_name == c.client_name,
        "first client was overwritten",
    );
    let log = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    assert_eq!(log.len(), 1, "a failed insert must not leave its audit event")
}

pub async fn lists_clients_in_pages(s: &dyn Storage) {
    for id in ["b", "a", "d", "c", "e"] {
        s.insert_client(&sample_client(id), None, &[], &audit("client.create", id))
            .await
            .unwrap();
    }
    let page1 = s.list_clients(&ClientQuery::first(2)).await.unwrap();
    assert_eq!(ids(&page1), ["a", "b"], "first page");
    let page2 = s
        .list_clients(&ClientQuery {
            after: page1.last().map(|c| c.client_id.clone()),
            ..ClientQuery::first(10)
        })
        .await
        .unwrap();
    assert_eq!(ids(&page2), ["c", "d", "e"], "second page")
}

fn ids(clients: &[Client]) -> Vec<String> {
    clients.iter().map(|c| c.client_id.to_string()).collect()
}

/// Inserts clients named `(id, client_name)`.
async fn insert_named(s: &dyn Storage, clients: &[(&str, Option<&str>)]) {
    for (id, name) in clients {
        let mut c = sample_client(id);
        c.client_name = name.map(str::to_owned);
        s.insert_client(&c, None, &[], &audit("client.create", id))
            .await
            .unwrap();
    }
}

async fn search(s: &dyn Storage, text: &str) -> Vec<String> {
    let query = ClientQuery {
        search: Some(text.to_owned()),
        ..ClientQuery::first(100)
    };
    ids(&s.list_clients(&query).await.unwrap())
}

pub async fn client_search_matches_id_or_name_ignoring_case(s: &dyn Storage) {
    insert_named(
        s,
        &[
            ("billing-api", Some("Invoices")),
            ("reports", Some("Billing Reports")),
            ("shipping", None),
            ("warehouse", Some("Stock")),
        ],
    )
    .await;
    assert_eq!(
        search(s, "billing").await,
        ["billing-api", "reports"],
        "id or name"
    );
    assert_eq!(search(s, "BILLING").await, ["billing-api", "reports"], "case");
    assert_eq!(search(s, "invoice").await, ["billing-api"], "name only");
    assert_eq!(search(s, "ppin").await, ["shipping"], "substring of the id");
    assert_eq!(search(s, "stOCK").await, ["warehouse"], "case in the name");
    assert!(search(s, "nothing").await.is_empty(), "no match");
    assert_eq!(search(s, "").await.len(), 4, "an empty search is no search");
}

pub async fn client_search_takes_like_wildcards_literally(s: &dyn Storage) {
    insert_named(
        s,
        &[
            ("a_b", Some("plain")),
            ("axb", Some("100% sure")),
            ("c", Some("1000 sure")),
            ("d", Some("back\\slash")),
            ("e", Some("backslash")),
        ],
    )
    .await;
    assert_eq!(search(s, "_").await, ["a_b"], "_ is not a wildcard");
    assert_eq!(search(s, "a_b").await, ["a_b"]);
    assert_eq!(search(s, "%").await, ["axb"], "% is not a wildcard");
    assert_eq!(search(s, "0% s").await, ["axb"]);
    assert_eq!(search(s, "k\\s").await, ["d"], "\\ is not an escape");
    assert_eq!(search(s, "\\").await, ["d"]);
}

pub async fn client_search_pages_in_key_order(s: &dyn Storage) {
    let clients: Vec<(String, Option<&str>)> = (0..7)
        .map(|i| {
            (
                format!("svc-{i}"),
                Some(if i % 2 == 0 { "Team Blue" } else { "Team Red" }),
            )
        })
        .collect();
    let refs: Vec<(&str, Option<&str>)> = clients.iter().map(|(id, n)| (id.as_str(), *n)).collect();
    insert_named(s, &refs).await;
    let mut query = ClientQuery {
        search: Some("blue".into()),
        ..ClientQuery::first(2)
    };
    let mut pages = Vec::new();
    loop {
        let page = s.list_clients(&query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.after = Some(last.client_id.clone());
        pages.push(ids(&page));
    }
    assert_eq!(
        pages,
        [vec!["svc-0", "svc-2"], vec!["svc-4", "svc-6"]],
        "pages of the matches only, in client_id order"
    );
}

pub async fn updates_and_deletes_client_with_audit(s: &dyn Storage) {
    let mut c = sample_client("u1");
    s.insert_client(
        &c,
        Some(&secret("s", 1, None)),
        &[],
        &audit("client.create", "u1"),
    )
    .await
    .unwrap();
    c.enabled = false;
    c.updated_at = T0 + Duration::seconds(5);
    s.update_client(&c, &audit("client.update", "u1")).await.unwrap();
    let got = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert!(
        !got.client.enabled && got.client.updated_at == c.updated_at,
        "update not stored",
    );
    s.delete_client(&c.client_id, &audit("client.delete", "u1"))
        .await
        .unwrap();
    assert!(
        s.load_client(&c.client_id).await.unwrap().is_none(),
        "deleted client still loads",
    );
    let again = s.delete_client(&c.client_id, &audit("client.delete", "u1")).await;
    assert!(
        matches!(again, Err(StorageError::NotFound)),
        "second delete must be NotFound",
    );
    let upd = s.update_client(&c, &audit("client.update", "u1")).await;
    assert!(
        matches!(upd, Err(StorageError::NotFound)),
        "update of missing must be NotFound",
    );
    let log = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    let actions: Vec<_> = log.iter().map(|r| r.event.action.as_str()).collect();
    assert!(
        actions == ["client.delete", "client.update", "client.create"],
        "audit newest first",
    )
}

pub async fn rotation_keeps_at_most_two_secrets(s: &dyn Storage) {
    let c = sample_client("r1");
    s.insert_client(
        &c,
        Some(&secret("s1", 1, None)),
        &[],
        &audit("client.create", "r1"),
    )
    .await
    .unwrap();
    let grace_end = T0 + Duration::hours(1);
    s.rotate_secret(
        &c.client_id,
        &secret("s2", 2, None),
        grace_end,
        T0,
        &audit("secret.rotate", "r1"),
    )
    .await
    .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    let find = |id: &str| e.secrets.iter().find(|x| x.id == id).cloned();
    assert_eq!(e.secrets.len(), 2, "two secrets during grace");
    assert!(
        find("s1").and_then(|x| x.expires_at) == Some(grace_end),
        "old secret ends with grace",
    );
    assert!(
        find("s2").is_some_and(|x| x.expires_at.is_none()),
        "new secret current",
    );
    // A second rotation during the grace period drops the oldest at once.
    s.rotate_secret(
        &c.client_id,
        &secret("s3", 3, None),
        T0,
        T0,
        &audit("secret.rotate", "r1"),
    )
    .await
    .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    let ids: Vec<_> = e.secrets.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["s3"], "grace 0 leaves only the newest secret");
    let missing = ClientId::parse("none").unwrap();
    let r = s
        .rotate_secret(
            &missing,
            &secret("s4", 4, None),
            T0,
            T0,
            &audit("secret.rotate", "none"),
        )
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "rotation of unknown client is NotFound",
    )
}

pub async fn secret_lifetime_round_trips_and_expiring_secrets_are_listed(s: &dyn Storage) {
    let lived = |id: &str, byte: u8, hours: i64| {
        let mut x = secret(id, byte, None);
        x.not_after = Some(T0 + Duration::hours(hours));
        x
    };
    for (client, hours) in [("soon", 2), ("later", 48)] {
        let c = sample_client(client);
        let sec = lived(&format!("{client}-s"), 1, hours);
        s.insert_client(&c, Some(&sec), &[], &audit("client.create", client))
            .await
            .unwrap();
        let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
        assert_eq!(e.secrets, vec![sec], "not_after round trips");
    }
    s.insert_client(
        &sample_client("forever"),
        Some(&secret("f-s", 3, None)),
        &[],
        &audit("client.create", "forever"),
    )
    .await
    .unwrap();
    let found = s
        .secrets_expiring_before(T0 + Duration::hours(24), 100)
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|x| x.client_id.as_str()).collect();
    assert_eq!(ids, ["soon"], "only the secret ending within the window");
    assert_eq!(found.first().map(|x| x.not_after), Some(T0 + Duration::hours(2)));
    // A secret in a rotation's grace period is not the client's current one: not listed.
    s.rotate_secret(
        &ClientId::parse("soon").unwrap(),
        &lived("soon-s2", 2, 72),
        T0 + Duration::hours(1),
        T0,
        &audit("secret.rotate", "soon"),
    )
    .await
    .unwrap();
    let found = s
        .secrets_expiring_before(T0 + Duration::hours(24), 100)
        .await
        .unwrap();
    assert!(
        found.is_empty(),
        "rotated-out secrets are not warned of: {found:?}"
    );
}

pub async fn switch_with_new_secret_replaces_every_secret_at_once(s: &dyn Storage) {
    let mut c = sample_client("sw1");
    s.insert_client(
        &c,
        Some(&secret("old", 1, None)),
        &[key_credential("k1", 1)],
        &audit("client.create", "sw1"),
    )
    .await
    .unwrap();
    s.rotate_secret(
        &c.client_id,
        &secret("older", 2, None),
        T0 + Duration::hours(1),
        T0,
        &audit("secret.rotate", "sw1"),
    )
    .await
    .unwrap();
    c.token_endpoint_auth_method = AuthMethod::ClientSecretJwt;
    let mut new = secret("new", 9, None);
    new.encrypted = Some(vec![7; 40]);
    s.update_client_with_secret(&c, &new, &audit("client.update", "sw1"))
        .await
        .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert_eq!(e.client.token_endpoint_auth_method, AuthMethod::ClientSecretJwt);
    assert_eq!(e.secrets, vec![new.clone()], "only the new secret remains");
    assert_eq!(e.credentials.len(), 1, "keys stay, unused");
    let events = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    assert_eq!(
        events.first().map(|r| r.event.action.as_str()),
        Some("client.update")
    );
    let mut missing = sample_client("sw-missing");
    missing.token_endpoint_auth_method = AuthMethod::ClientSecretBasic;
    let r = s
        .update_client_with_secret(&missing, &new, &audit("client.update", "sw-missing"))
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "unknown client is NotFound"
    );
    assert!(s.load_client(&missing.client_id).await.unwrap().is_none());
}

pub async fn stores_credentials_and_encrypted_secret_with_client(s: &dyn Storage) {
    let mut c = sample_client("jwt1");
    c.token_endpoint_auth_method = AuthMethod::PrivateKeyJwt;
    let cred = Credential {
        name: Some("laptop".into()),
        kid: "k1".into(),
        expires_at: Some(T0 + Duration::days(30)),
        certificate: Some(keyward_types::CertificateInfo {
            subject: "CN=jwt1".into(),
            issuer: "CN=jwt1".into(),
            serial: "01ab".into(),
            not_before: T0,
            not_after: T0 + Duration::days(30),
        }),
        ..key_credential("cred-1", 7)
    };
    let mut sec = secret("enc", 9, None);
    sec.encrypted = Some(vec![1, 2, 3, 4]);
    s.insert_client(
        &c,
        Some(&sec),
        std::slice::from_ref(&cred),
        &audit("client.create", "jwt1"),
    )
    .await
    .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert_eq!(e.credentials, vec![cred.clone()], "credential round trip");
    assert!(
        e.secrets.first().and_then(|x| x.encrypted.clone()) == Some(vec![1, 2, 3, 4]),
        "encrypted secret",
    );
    // A duplicate thumbprint makes the whole insert fail: all or nothing.
    let c2 = sample_client("jwt2");
    let mut dup = cred.clone();
    dup.id = "cred-2".into();
    let r = s
        .insert_client(&c2, None, &[cred.clone(), dup], &audit("client.create", "jwt2"))
        .await;
    assert!(r.is_err(), "duplicate thumbprint within a client must fail");
    assert!(
        s.load_client(&c2.client_id).await.unwrap().is_none(),
        "failed insert left a client",
    );
    s.delete_client(&c.client_id, &audit("client.delete", "jwt1"))
        .await
        .unwrap();
    let c3 = sample_client("jwt1");
    s.insert_client(&c3, None, &[], &audit("client.create", "jwt1"))
        .await
        .unwrap();
    let e = s.load_client(&c3.client_id).await.unwrap().expect("missing");
    assert!(e.credentials.is_empty(), "delete removed the credentials")
}

pub async fn updates_and_deletes_credentials(s: &dyn Storage) {
    let c = sample_client("cred");
    let mut cred = Credential {
        kid: "k".into(),
        ..key_credential("c-1", 3)
    };
    s.insert_client(
        &c,
        None,
        std::slice::from_ref(&cred),
        &audit("client.create", "cred"),
    )
    .await
    .unwrap();
    cred.enabled = false;
    cred.name = Some("old laptop".into());
    cred.expires_at = Some(T0 + Duration::days(1));
    s.update_credential(&c.client_id, &cred, &audit("credential.update", "cred"))
        .await
        .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert_eq!(e.credentials, vec![cred.clone()], "update stored");
    let other = ClientId::parse("other").unwrap();
    let r = s
        .update_credential(&other, &cred, &audit("credential.update", "other"))
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "credential of another client is NotFound",
    );
    let r = s
        .delete_credential(&other, "c-1", &audit("credential.delete", "other"))
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "delete via another client is NotFound",
    );
    s.delete_credential(&c.client_id, "c-1", &audit("credential.delete", "cred"))
        .await
        .unwrap();
    let e = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert!(e.credentials.is_empty(), "deleted");
    let r = s
        .delete_credential(&c.client_id, "c-1", &audit("credential.delete", "cred"))
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "second delete is NotFound",
    )
}

pub async fn adds_credentials_all_or_none_within_limit(s: &dyn Storage) {
    let c = sample_client("adds");
    s.insert_client(&c, None, &[], &audit("client.create", "adds"))
        .await
        .unwrap();
    let id = &c.client_id;
    let add = |creds: Vec<Credential>| async move {
        s.add_credentials(id, &creds, 3, &audit("credential.create", "adds"))
            .await
    };
    add(vec![key_credential("a", 1), key_credential("b", 2)])
        .await
        .unwrap();
    let r = add(vec![key_credential("c", 3), key_credential("d", 4)]).await;
    assert!(
        matches!(r, Err(StorageError::LimitReached { limit: 3 })),
        "a batch that would exceed the limit is LimitReached",
    );
    let mut same_key = key_credential("e", 1);
    same_key.kid = "fresh-kid".into();
    let r = add(vec![same_key]).await;
    assert!(
        matches!(r, Err(StorageError::Conflict(_))),
        "same thumbprint is Conflict",
    );
    let mut same_kid = key_credential("f", 5);
    same_kid.kid = "kid-1".into();
    let r = add(vec![same_kid]).await;
    assert!(
        matches!(r, Err(StorageError::Conflict(_))),
        "same kid is Conflict",
    );
    let r = add(vec![key_credential("g", 6), key_credential("h", 2)]).await;
    assert!(
        matches!(r, Err(StorageError::Conflict(_))),
        "one duplicate refuses the batch",
    );
    let e = s.load_client(id).await.unwrap().expect("missing");
    let ids: Vec<&str> = e.credentials.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "refused batches stored nothing");
    add(vec![key_credential("i", 7)]).await.unwrap();
    let ghost = ClientId::parse("ghost").unwrap();
    let r = s
        .add_credentials(
            &ghost,
            &[key_credential("j", 8)],
            3,
            &audit("credential.create", "ghost"),
        )
        .await;
    assert!(
        matches!(r, Err(StorageError::NotFound)),
        "unknown client is NotFound",
    )
}

pub async fn restores_exported_client_and_signing_key(s: &dyn Storage) {
    let mut c = sample_client("moved");
    c.token_endpoint_auth_method = AuthMethod::PrivateKeyJwt;
    let mut current = secret("s-new", 4, None);
    current.encrypted = Some(vec![9, 9, 9]);
    let previous = secret("s-old", 5, Some(T0 + Duration::hours(1)));
    let entry = keyward_types::ClientEntry {
        client: c.clone(),
        secrets: vec![current, previous],
        credentials: vec![key_credential("m1", 11), key_credential("m2", 12)],
    };
    s.restore_client(&entry, &audit("client.import", "moved"))
        .await
        .unwrap();
    let back = s.load_client(&c.client_id).await.unwrap().expect("missing");
    assert_eq!(back.client, entry.client, "metadata as exported");
    let ids = |e: &keyward_types::ClientEntry| {
        let mut v: Vec<_> = e
            .secrets
            .iter()
            .map(|x| {
                (
                    x.id.clone(),
                    x.hash.as_bytes().to_vec(),
                    x.expires_at,
                    x.encrypted.clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(
        ids(&back) == ids(&entry),
        "both secrets with hashes and encrypted copies",
    );
    assert_eq!(back.credentials, entry.credentials, "credentials as exported");
    let r = s.restore_client(&entry, &audit("client.import", "moved")).await;
    assert!(
        matches!(r, Err(StorageError::Conflict(_))),
        "second restore is Conflict",
    );
    let key = keyward_storage::SigningKeyRecord {
        kid: "imported".into(),
        alg: "RS256".into(),
        encrypted_key: vec![7; 40],
        created_at: T0,
        retire_at: Some(T0 + Duration::days(1)),
    };
    s.restore_signing_key(&key).await.unwrap();
    let keys = s.signing_keys().await.unwrap();
    assert!(keys.contains(&key), "signing key as exported, retirement kept");
    let r = s.restore_signing_key(&key).await;
    assert!(
        matches!(r, Err(StorageError::Conflict(_))),
        "same kid again is Conflict",
    )
}
