//! Admin writes that race on two nodes keep the same limits as on one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_storage::{AuditEvent, ClientStore, CredentialStore, SecretStore, StorageError};
use keyward_testkit::{
    conformance::{self, key_credential, sample_client, T0},
    pg,
};
use keyward_types::{Credential, StoredSecret};
use time::Duration;

fn audit() -> AuditEvent {
    conformance::audit("write", "t")
}

fn credential(byte: u8) -> Credential {
    key_credential(&format!("cred-{byte}"), byte)
}

fn secret(id: &str, byte: u8) -> StoredSecret {
    conformance::secret(id, byte, None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_adding_credentials_at_once_never_pass_the_limit() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let c = sample_client("limited");
    a.insert_client(&c, None, &[], &audit()).await.unwrap();
    let add = |node: keyward_storage_postgres::PostgresStorage, first: u8| {
        let id = c.client_id.clone();
        tokio::spawn(async move {
            let batch = [credential(first), credential(first + 1)];
            node.add_credentials(&id, &batch, 3, &audit()).await
        })
    };
    for round in 0..10u8 {
        let on_a = add(a.clone(), round * 20 + 1);
        let on_b = add(b.clone(), round * 20 + 11);
        let results = [on_a.await.unwrap(), on_b.await.unwrap()];
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(StorageError::LimitReached { limit: 3 }))));
        let stored = a.load_client(&c.client_id).await.unwrap().unwrap().credentials;
        assert_eq!(stored.len(), 2, "round {round}");
        for cred in stored {
            a.delete_credential(&c.client_id, &cred.id, &audit())
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_rotating_at_once_leave_at_most_two_secrets() {
    let schema = pg::Schema::new();
    let (a, b) = (schema.open("a").await, schema.open("b").await);
    let c = sample_client("rotated");
    a.insert_client(&c, Some(&secret("s0", 0)), &[], &audit())
        .await
        .unwrap();
    let grace = T0 + Duration::hours(1);
    for round in 0..10u8 {
        let rotate = |node: keyward_storage_postgres::PostgresStorage, byte: u8| {
            let id = c.client_id.clone();
            tokio::spawn(async move {
                node.rotate_secret(&id, &secret(&format!("s{byte}"), byte), grace, T0, &audit())
                    .await
            })
        };
        let on_a = rotate(a.clone(), round * 2 + 1);
        let on_b = rotate(b.clone(), round * 2 + 2);
        on_a.await.unwrap().unwrap();
        on_b.await.unwrap().unwrap();
        let secrets = b.load_client(&c.client_id).await.unwrap().unwrap().secrets;
        assert_eq!(secrets.len(), 2, "round {round}: {secrets:?}");
        assert_eq!(
            secrets.iter().filter(|s| s.expires_at.is_none()).count(),
            1,
            "one current secret"
        );
    }
}
