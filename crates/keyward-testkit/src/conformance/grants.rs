//! The authorization code flow's state: pending requests, codes, grants and their refresh
//! tokens, revoked access tokens and consents. Single use is checked under concurrency, since
//! two presentations of one code or refresh token race in production.

use keyward_storage::{
    CodeRecord, GrantRecord, PendingRequest, Redeemed, RefreshRecord, Rotation, Storage, StorageError,
};
use keyward_types::{ClientId, Scope};
use time::Duration;

use super::{audit, sample_client, sample_user, T0};

/// A request `id` of `client`, expiring ten minutes after [`T0`].
pub fn sample_pending(id: &str, client: &str) -> PendingRequest {
    PendingRequest {
        id_hash: id.to_owned(),
        client_id: ClientId::parse(client).unwrap(),
        params: format!(r#"{{"state":"{id}"}}"#),
        expires_at: T0 + Duration::minutes(10),
    }
}

/// A code `hash` of `username` at `client`, naming grant `grant_id`, expiring a minute after [`T0`].
pub fn sample_code(hash: &str, grant_id: &str, client: &str, username: &str) -> CodeRecord {
    CodeRecord {
        code_hash: hash.to_owned(),
        grant_id: grant_id.to_owned(),
        client_id: ClientId::parse(client).unwrap(),
        username: username.to_owned(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        scope: Scope::parse("openid read").unwrap(),
        nonce: Some(format!("nonce-{hash}")),
        auth_time: T0,
        expires_at: T0 + Duration::minutes(1),
    }
}

/// An unrevoked grant `id` of `username` at `client`, made at [`T0`], ending a day later.
pub fn sample_grant(id: &str, client: &str, username: &str) -> GrantRecord {
    GrantRecord {
        grant_id: id.to_owned(),
        client_id: ClientId::parse(client).unwrap(),
        username: username.to_owned(),
        scope: Scope::parse("openid read").unwrap(),
        auth_time: T0,
        created_at: T0,
        expires_at: T0 + Duration::days(1),
        revoked: false,
    }
}

/// An unspent refresh token `hash` of grant `grant_id`, made at [`T0`], ending a day later.
pub fn sample_refresh(hash: &str, grant_id: &str) -> RefreshRecord {
    RefreshRecord {
        token_hash: hash.to_owned(),
        grant_id: grant_id.to_owned(),
        created_at: T0,
        expires_at: T0 + Duration::days(1),
        used_at: None,
    }
}

/// Stores `sample_client(client)` and `sample_user(username)`, which every record needs.
pub(super) async fn client_and_user(s: &dyn Storage, client: &str, username: &str) {
    s.insert_client(&sample_client(client), None, &[], &audit("client.create", client))
        .await
        .unwrap();
    s.insert_user(&sample_user(username), &audit("user.create", username))
        .await
        .unwrap();
}

/// A client `c`, a user `u` and grant `g` with its first refresh token `r1`.
async fn grant_with_refresh(s: &dyn Storage) -> GrantRecord {
    client_and_user(s, "c", "u").await;
    let grant = sample_grant("g", "c", "u");
    s.insert_grant(&grant, Some(&sample_refresh("r1", "g")))
        .await
        .unwrap();
    grant
}

pub async fn pending_request_is_taken_once(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    let p = sample_pending("p", "c");
    s.insert_pending_request(&p).await.unwrap();
    let again = s.insert_pending_request(&sample_pending("p", "c")).await;
    assert!(
        matches!(again, Err(StorageError::Conflict(_))),
        "duplicate id: {again:?}"
    );
    assert_eq!(s.load_pending_request("p", T0).await.unwrap(), Some(p.clone()));
    assert_eq!(
        s.load_pending_request("p", T0).await.unwrap(),
        Some(p.clone()),
        "a load leaves the request stored"
    );
    assert_eq!(s.take_pending_request("p", T0).await.unwrap(), Some(p));
    assert_eq!(s.take_pending_request("p", T0).await.unwrap(), None, "taken once");
    assert_eq!(s.load_pending_request("p", T0).await.unwrap(), None);
}

pub async fn expired_pending_request_is_not_returned(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    let p = sample_pending("p", "c");
    s.insert_pending_request(&p).await.unwrap();
    let just_before = p.expires_at - Duration::seconds(1);
    assert!(s.load_pending_request("p", just_before).await.unwrap().is_some());
    assert_eq!(s.load_pending_request("p", p.expires_at).await.unwrap(), None);
    assert_eq!(s.take_pending_request("p", p.expires_at).await.unwrap(), None);
}

/// A spent code names its grant, so the caller can revoke what the first use issued (RFC 6749
/// §4.1.2). Expiry is the caller's check: an expired code is still spent by its first use.
pub async fn code_is_redeemed_once_and_names_its_grant_after(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    let code = sample_code("k", "g", "c", "u");
    s.insert_code(&code).await.unwrap();
    let again = s.insert_code(&sample_code("k", "other", "c", "u")).await;
    assert!(
        matches!(again, Err(StorageError::Conflict(_))),
        "duplicate code: {again:?}"
    );
    let now = T0 + Duration::seconds(5);
    assert_eq!(s.redeem_code("k", now).await.unwrap(), Redeemed::First(code));
    for _ in 0..2 {
        let again = s.redeem_code("k", now).await.unwrap();
        assert_eq!(again, Redeemed::Again { grant_id: "g".into() });
    }
    let mut late = sample_code("late", "g2", "c", "u");
    late.nonce = None;
    s.insert_code(&late).await.unwrap();
    let after_expiry = late.expires_at + Duration::minutes(5);
    assert_eq!(
        s.redeem_code("late", after_expiry).await.unwrap(),
        Redeemed::First(late)
    );
}

pub async fn concurrent_code_redeems_have_one_winner(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    s.insert_code(&sample_code("k", "g", "c", "u")).await.unwrap();
    let redeems = (0..16).map(|_| s.redeem_code("k", T0));
    let results = futures::future::join_all(redeems).await;
    let firsts = results
        .iter()
        .filter(|r| matches!(r, Ok(Redeemed::First(_))))
        .count();
    let agains = results
        .iter()
        .filter(|r| matches!(r, Ok(Redeemed::Again { grant_id }) if grant_id == "g"))
        .count();
    assert_eq!(
        (firsts, agains),
        (1, 15),
        "one first use, then reuses: {results:?}"
    );
}

pub async fn unknown_code_is_unknown(s: &dyn Storage) {
    assert_eq!(s.redeem_code("nope", T0).await.unwrap(), Redeemed::Unknown);
    assert_eq!(s.load_grant("nope").await.unwrap(), None);
    assert!(!s.revoke_grant("nope").await.unwrap(), "no grant to revoke");
    assert_eq!(s.load_refresh("nope").await.unwrap(), None);
    let rotated = s
        .rotate_refresh("nope", &sample_refresh("r2", "g"), T0, T0)
        .await
        .unwrap();
    assert_eq!(rotated, Rotation::Unknown);
}

pub async fn grant_is_stored_with_its_refresh_token_or_not_at_all(s: &dyn Storage) {
    let grant = grant_with_refresh(s).await;
    assert_eq!(s.load_grant("g").await.unwrap(), Some(grant.clone()));
    let (token, of) = s.load_refresh("r1").await.unwrap().unwrap();
    assert_eq!((token, of), (sample_refresh("r1", "g"), grant));
    let without = sample_grant("bare", "c", "u");
    s.insert_grant(&without, None).await.unwrap();
    assert_eq!(s.load_grant("bare").await.unwrap(), Some(without));
    let clash = s
        .insert_grant(&sample_grant("g2", "c", "u"), Some(&sample_refresh("r1", "g2")))
        .await;
    assert!(
        matches!(clash, Err(StorageError::Conflict(_))),
        "taken token hash: {clash:?}"
    );
    assert_eq!(
        s.load_grant("g2").await.unwrap(),
        None,
        "the grant went with its token"
    );
}

pub async fn refresh_rotation_spends_the_old_token(s: &dyn Storage) {
    grant_with_refresh(s).await;
    let now = T0 + Duration::hours(1);
    let r2 = RefreshRecord {
        created_at: now,
        ..sample_refresh("r2", "g")
    };
    let later = T0 + Duration::days(2);
    assert_eq!(
        s.rotate_refresh("r1", &r2, later, now).await.unwrap(),
        Rotation::Rotated
    );
    let (old, grant) = s.load_refresh("r1").await.unwrap().unwrap();
    assert_eq!(
        old.used_at,
        Some(now),
        "the old token is spent, and still readable"
    );
    assert_eq!(
        grant.expires_at, later,
        "the grant lives as long as its newest token"
    );
    assert!(!grant.revoked);
    assert_eq!(s.load_refresh("r2").await.unwrap().unwrap().0, r2);
    let r3 = sample_refresh("r3", "g");
    assert_eq!(
        s.rotate_refresh("r2", &r3, later, now).await.unwrap(),
        Rotation::Rotated
    );
}

/// RFC 9700 §4.14.2: a spent refresh token presented again means one of two holders is an
/// attacker, so the whole family ends.
pub async fn reused_refresh_token_revokes_the_family(s: &dyn Storage) {
    grant_with_refresh(s).await;
    let end = T0 + Duration::days(2);
    let r2 = sample_refresh("r2", "g");
    assert_eq!(
        s.rotate_refresh("r1", &r2, end, T0).await.unwrap(),
        Rotation::Rotated
    );
    let r3 = sample_refresh("r3", "g");
    assert_eq!(
        s.rotate_refresh("r1", &r3, end, T0).await.unwrap(),
        Rotation::Reused
    );
    assert!(
        s.load_grant("g").await.unwrap().unwrap().revoked,
        "the family is revoked"
    );
    assert_eq!(
        s.load_refresh("r3").await.unwrap(),
        None,
        "no successor for a reuse"
    );
    let r4 = sample_refresh("r4", "g");
    assert_eq!(
        s.rotate_refresh("r2", &r4, end, T0).await.unwrap(),
        Rotation::Unknown,
        "the live token of a revoked family is no good"
    );
}

pub async fn concurrent_rotations_have_one_winner(s: &dyn Storage) {
    grant_with_refresh(s).await;
    let end = T0 + Duration::days(2);
    let (a, b) = (sample_refresh("a", "g"), sample_refresh("b", "g"));
    let (first, second) = futures::join!(
        s.rotate_refresh("r1", &a, end, T0),
        s.rotate_refresh("r1", &b, end, T0)
    );
    let mut results = [first.unwrap(), second.unwrap()];
    results.sort_by_key(|r| *r != Rotation::Rotated);
    assert_eq!(results, [Rotation::Rotated, Rotation::Reused]);
    assert!(
        s.load_grant("g").await.unwrap().unwrap().revoked,
        "the race ends the family"
    );
}

pub async fn revoked_grant_refresh_is_unknown(s: &dyn Storage) {
    grant_with_refresh(s).await;
    assert!(s.revoke_grant("g").await.unwrap());
    assert!(
        s.revoke_grant("g").await.unwrap(),
        "a revoked grant is still there"
    );
    let r2 = sample_refresh("r2", "g");
    let rotated = s.rotate_refresh("r1", &r2, T0 + Duration::days(2), T0).await;
    assert_eq!(rotated.unwrap(), Rotation::Unknown);
    let (token, grant) = s.load_refresh("r1").await.unwrap().unwrap();
    assert_eq!(token.used_at, None, "nothing changed");
    assert!(grant.revoked, "load_refresh shows the revoked grant");
    assert_eq!(grant.expires_at, T0 + Duration::days(1));
    assert_eq!(s.load_refresh("r2").await.unwrap(), None);
}

pub async fn revoked_access_tokens_are_remembered(s: &dyn Storage) {
    assert!(!s.access_token_revoked("j").await.unwrap());
    let exp = T0 + Duration::minutes(5);
    s.revoke_access_token("j", exp).await.unwrap();
    s.revoke_access_token("j", exp).await.unwrap();
    assert!(s.access_token_revoked("j").await.unwrap());
    assert!(!s.access_token_revoked("other").await.unwrap());
}

pub async fn consent_is_saved_and_replaced(s: &dyn Storage) {
    client_and_user(s, "c", "u").await;
    client_and_user(s, "c2", "u2").await;
    let c = ClientId::parse("c").unwrap();
    assert_eq!(s.consent("u", &c).await.unwrap(), None);
    let read = Scope::parse("read").unwrap();
    s.save_consent("u", &c, &read, T0).await.unwrap();
    assert_eq!(s.consent("u", &c).await.unwrap(), Some(read));
    let both = Scope::parse("read write").unwrap();
    s.save_consent("u", &c, &both, T0 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(s.consent("u", &c).await.unwrap(), Some(both), "replaced");
    assert_eq!(s.consent("u2", &c).await.unwrap(), None, "another user's");
    let c2 = ClientId::parse("c2").unwrap();
    assert_eq!(s.consent("u", &c2).await.unwrap(), None, "another client's");
}
