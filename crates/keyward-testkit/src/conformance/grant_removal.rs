//! What removes the authorization code flow's records: the purge of what has ended, and the
//! deletion of a user or a client (whose codes, grants, tokens and consents go with it).

use keyward_storage::{CodeRecord, GrantRecord, PendingRequest, Redeemed, RefreshRecord, Rotation, Storage};
use keyward_types::{ClientId, Scope};
use time::Duration;

use super::{audit, grants::client_and_user, sample_code, sample_grant, sample_pending, sample_refresh, T0};

/// Codes stay an hour past their expiry, so that a late second use still revokes its grant.
pub async fn purge_removes_only_what_has_ended(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    let now = T0 + Duration::hours(2);
    let ending = |hash: &str, expires_at| RefreshRecord {
        expires_at,
        ..sample_refresh(hash, "g-live")
    };
    for (id, expires_at) in [("p-old", now), ("p-live", now + Duration::seconds(1))] {
        let p = PendingRequest {
            expires_at,
            ..sample_pending(id, "c")
        };
        s.insert_pending_request(&p).await.unwrap();
    }
    let hour_ago = now - Duration::hours(1);
    for (hash, expires_at) in [("k-old", hour_ago), ("k-recent", hour_ago + Duration::seconds(1))] {
        let code = CodeRecord {
            expires_at,
            ..sample_code(hash, "g", "c", "u")
        };
        s.insert_code(&code).await.unwrap();
    }
    let old = GrantRecord {
        expires_at: now,
        ..sample_grant("g-old", "c", "u")
    };
    let old_token = RefreshRecord {
        expires_at: now,
        ..sample_refresh("r-old", "g-old")
    };
    s.insert_grant(&old, Some(&old_token)).await.unwrap();
    let live = sample_grant("g-live", "c", "u");
    s.insert_grant(&live, Some(&ending("r-spent", now)))
        .await
        .unwrap();
    let r_live = ending("r-live", live.expires_at);
    assert_eq!(
        s.rotate_refresh("r-spent", &r_live, live.expires_at, T0)
            .await
            .unwrap(),
        Rotation::Rotated
    );
    s.revoke_access_token("j-old", now).await.unwrap();
    s.revoke_access_token("j-live", now + Duration::hours(1))
        .await
        .unwrap();

    // p-old, k-old, r-old, r-spent, g-old and j-old.
    assert_eq!(s.purge_grants(now).await.unwrap(), 6);
    assert_eq!(s.purge_grants(now).await.unwrap(), 0, "nothing left to purge");
    assert!(s.load_pending_request("p-old", T0).await.unwrap().is_none());
    assert!(s.load_pending_request("p-live", T0).await.unwrap().is_some());
    assert_eq!(s.redeem_code("k-old", now).await.unwrap(), Redeemed::Unknown);
    assert!(matches!(
        s.redeem_code("k-recent", now).await.unwrap(),
        Redeemed::First(_)
    ));
    assert_eq!(s.load_grant("g-old").await.unwrap(), None);
    assert_eq!(s.load_refresh("r-old").await.unwrap(), None);
    assert_eq!(s.load_refresh("r-spent").await.unwrap(), None);
    assert!(s.load_refresh("r-live").await.unwrap().is_some());
    assert!(!s.access_token_revoked("j-old").await.unwrap());
    assert!(s.access_token_revoked("j-live").await.unwrap());
}

/// Records of one user and client: a code, a grant with its refresh token, a consent.
async fn flow_records(s: &dyn Storage, client: &str, username: &str) {
    let tag = format!("{username}-{client}");
    s.insert_code(&sample_code(&format!("k-{tag}"), "g", client, username))
        .await
        .unwrap();
    let grant_id = format!("g-{tag}");
    let refresh = sample_refresh(&format!("r-{tag}"), &grant_id);
    s.insert_grant(&sample_grant(&grant_id, client, username), Some(&refresh))
        .await
        .unwrap();
    let scope = Scope::parse("read").unwrap();
    s.save_consent(username, &ClientId::parse(client).unwrap(), &scope, T0)
        .await
        .unwrap();
}

/// Whether any record of [`flow_records`] for this user and client is still stored.
async fn has_flow_records(s: &dyn Storage, client: &str, username: &str) -> [bool; 3] {
    let tag = format!("{username}-{client}");
    let client_id = ClientId::parse(client).unwrap();
    [
        s.load_grant(&format!("g-{tag}")).await.unwrap().is_some(),
        s.load_refresh(&format!("r-{tag}")).await.unwrap().is_some(),
        s.consent(username, &client_id).await.unwrap().is_some(),
    ]
}

pub async fn deleting_user_or_client_removes_their_grants(s: &dyn Storage) {
    client_and_user(s, "c1", "alice").await;
    client_and_user(s, "c2", "bob").await;
    flow_records(s, "c1", "alice").await;
    flow_records(s, "c2", "bob").await;
    flow_records(s, "c1", "bob").await;
    for client in ["c1", "c2"] {
        s.insert_pending_request(&sample_pending(&format!("p-{client}"), client))
            .await
            .unwrap();
    }

    s.delete_user("alice", &audit("user.delete", "alice"))
        .await
        .unwrap();
    assert_eq!(
        has_flow_records(s, "c1", "alice").await,
        [false; 3],
        "alice's are gone"
    );
    assert_eq!(s.redeem_code("k-alice-c1", T0).await.unwrap(), Redeemed::Unknown);
    assert_eq!(has_flow_records(s, "c1", "bob").await, [true; 3], "bob's stay");

    let c2 = ClientId::parse("c2").unwrap();
    s.delete_client(&c2, &audit("client.delete", "c2")).await.unwrap();
    assert_eq!(
        has_flow_records(s, "c2", "bob").await,
        [false; 3],
        "c2's are gone"
    );
    assert_eq!(s.redeem_code("k-bob-c2", T0).await.unwrap(), Redeemed::Unknown);
    assert!(s.load_pending_request("p-c2", T0).await.unwrap().is_none());
    assert_eq!(has_flow_records(s, "c1", "bob").await, [true; 3], "c1's stay");
    assert!(s.load_pending_request("p-c1", T0).await.unwrap().is_some());
    assert!(matches!(
        s.redeem_code("k-bob-c1", T0).await.unwrap(),
        Redeemed::First(_)
    ));
}
