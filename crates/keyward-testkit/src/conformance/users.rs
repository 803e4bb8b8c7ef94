//! Users and their sign-in sessions.

use keyward_storage::{AuditQuery, SessionRecord, Storage, StorageError, UserRecord};
use time::Duration;

use super::{audit, T0};

/// An enabled user `name` without roles, made at [`T0`], whose hash is `hash-of-{name}`.
pub fn sample_user(name: &str) -> UserRecord {
    UserRecord {
        username: name.to_owned(),
        password_hash: format!("hash-of-{name}"),
        name: Some(format!("Name of {name}")),
        email: Some(format!("{name}@example.com")),
        roles: vec![],
        enabled: true,
        created_at: T0,
        updated_at: T0,
    }
}

/// A session `id` of `username`, made at [`T0`], expiring an hour later.
pub fn sample_session(id: &str, username: &str) -> SessionRecord {
    SessionRecord {
        id_hash: id.to_owned(),
        username: username.to_owned(),
        created_at: T0,
        last_seen: T0,
        expires_at: T0 + Duration::hours(1),
    }
}

async fn insert(s: &dyn Storage, user: &UserRecord) {
    s.insert_user(user, &audit("user.create", &user.username))
        .await
        .unwrap();
}

pub async fn inserts_loads_and_counts_users(s: &dyn Storage) {
    assert_eq!(s.count_users().await.unwrap(), 0, "a fresh store has no users");
    let mut u = sample_user("alice");
    u.roles = vec!["admin".into()];
    insert(s, &u).await;
    assert_eq!(
        s.load_user("alice").await.unwrap(),
        Some(u),
        "loaded user differs"
    );
    assert_eq!(
        s.load_user("nobody").await.unwrap(),
        None,
        "unknown user loads as None"
    );
    assert_eq!(s.count_users().await.unwrap(), 1);
    let log = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    assert_eq!(log.len(), 1, "the insert is audited");
}

pub async fn rejects_duplicate_username_and_keeps_first(s: &dyn Storage) {
    insert(s, &sample_user("dup")).await;
    let mut other = sample_user("dup");
    other.password_hash = "other".into();
    let second = s.insert_user(&other, &audit("user.create", "dup")).await;
    assert!(
        matches!(second, Err(StorageError::Conflict(_))),
        "duplicate insert must be Conflict, got {second:?}"
    );
    let kept = s.load_user("dup").await.unwrap().unwrap();
    assert_eq!(kept.password_hash, "hash-of-dup", "first user was overwritten");
    let log = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    assert_eq!(log.len(), 1, "a failed insert must not leave its audit event");
}

pub async fn lists_users_in_pages(s: &dyn Storage) {
    for name in ["b", "a", "d", "c", "e"] {
        insert(s, &sample_user(name)).await;
    }
    let names = |users: Vec<UserRecord>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(s.list_users(None, 2).await.unwrap()), ["a", "b"]);
    assert_eq!(names(s.list_users(Some("b"), 2).await.unwrap()), ["c", "d"]);
    assert_eq!(names(s.list_users(Some("d"), 2).await.unwrap()), ["e"]);
    assert!(s.list_users(Some("e"), 2).await.unwrap().is_empty());
}

pub async fn updates_and_deletes_user_with_audit(s: &dyn Storage) {
    insert(s, &sample_user("u")).await;
    let mut changed = sample_user("u");
    changed.name = None;
    changed.email = Some("new@example.com".into());
    changed.updated_at = T0 + Duration::minutes(1);
    s.update_user(&changed, &audit("user.update", "u")).await.unwrap();
    assert_eq!(s.load_user("u").await.unwrap(), Some(changed));

    let missing = s
        .update_user(&sample_user("ghost"), &audit("user.update", "ghost"))
        .await;
    assert!(
        matches!(missing, Err(StorageError::NotFound)),
        "update of unknown user: {missing:?}"
    );
    let missing = s.delete_user("ghost", &audit("user.delete", "ghost")).await;
    assert!(
        matches!(missing, Err(StorageError::NotFound)),
        "delete of unknown user: {missing:?}"
    );

    s.delete_user("u", &audit("user.delete", "u")).await.unwrap();
    assert_eq!(s.load_user("u").await.unwrap(), None);
    assert_eq!(s.count_users().await.unwrap(), 0);
    let log = s.list_audit(&AuditQuery::newest(10)).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.delete", "user.update", "user.create"],
        "only successful writes are audited"
    );
}

pub async fn sessions_round_trip_touch_and_delete(s: &dyn Storage) {
    insert(s, &sample_user("u")).await;
    let session = sample_session("h1", "u");
    s.insert_session(&session).await.unwrap();
    assert_eq!(s.load_session("h1").await.unwrap(), Some(session.clone()));
    let later = T0 + Duration::minutes(5);
    s.touch_session("h1", later).await.unwrap();
    let touched = s.load_session("h1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen, later);
    assert_eq!(touched.created_at, T0, "touch changes only last_seen");
    s.touch_session("gone", later).await.unwrap();
    let orphan = s.insert_session(&sample_session("h2", "nobody")).await;
    assert!(
        matches!(orphan, Err(StorageError::NotFound)),
        "session of unknown user: {orphan:?}"
    );
    assert!(s.delete_session("h1").await.unwrap());
    assert!(
        !s.delete_session("h1").await.unwrap(),
        "second delete finds nothing"
    );
    assert_eq!(s.load_session("h1").await.unwrap(), None);
}

pub async fn purges_expired_and_idle_sessions(s: &dyn Storage) {
    insert(s, &sample_user("u")).await;
    let mut expired = sample_session("expired", "u");
    expired.expires_at = T0 + Duration::minutes(10);
    let mut idle = sample_session("idle", "u");
    idle.last_seen = T0;
    let mut live = sample_session("live", "u");
    live.last_seen = T0 + Duration::minutes(9);
    for session in [&expired, &idle, &live] {
        s.insert_session(session).await.unwrap();
    }
    // Touch the expired one so it is not idle: only its absolute expiry ends it.
    s.touch_session("expired", T0 + Duration::minutes(9))
        .await
        .unwrap();
    let now = T0 + Duration::minutes(10);
    let purged = s.purge_sessions(now, T0 + Duration::minutes(1)).await.unwrap();
    assert_eq!(purged, 2, "the expired and the idle session go");
    assert!(
        s.load_session("live").await.unwrap().is_some(),
        "the live session stays"
    );
    assert!(s.load_session("idle").await.unwrap().is_none());
    assert!(s.load_session("expired").await.unwrap().is_none());
}

/// Disabling, a new password and changed roles each end the user's sessions; a change of name
/// or email does not; deleting the user deletes them too. Other users' sessions stay.
pub async fn user_changes_that_matter_end_sessions(s: &dyn Storage) {
    insert(s, &sample_user("u")).await;
    insert(s, &sample_user("other")).await;
    s.insert_session(&sample_session("o1", "other")).await.unwrap();
    let base = sample_user("u");
    let mut renamed = base.clone();
    renamed.name = Some("Renamed".into());
    renamed.email = None;
    let mut disabled = base.clone();
    disabled.enabled = false;
    let mut new_password = base.clone();
    new_password.password_hash = "new-hash".into();
    let mut promoted = base.clone();
    promoted.roles = vec!["admin".into()];
    let cases = [
        (renamed, false),
        (disabled, true),
        (new_password, true),
        (promoted, true),
    ];
    for (i, (change, ends)) in cases.into_iter().enumerate() {
        s.update_user(&base, &audit("user.update", "u")).await.unwrap();
        let id = format!("u{i}");
        s.insert_session(&sample_session(&id, "u")).await.unwrap();
        s.update_user(&change, &audit("user.update", "u")).await.unwrap();
        let kept = s.load_session(&id).await.unwrap().is_some();
        assert_eq!(kept, !ends, "case {i}: session kept = {kept}");
        s.delete_session(&id).await.unwrap();
    }
    s.update_user(&base, &audit("user.update", "u")).await.unwrap();
    s.insert_session(&sample_session("last", "u")).await.unwrap();
    s.delete_user("u", &audit("user.delete", "u")).await.unwrap();
    assert!(
        s.load_session("last").await.unwrap().is_none(),
        "a deleted user's sessions go"
    );
    assert!(
        s.load_session("o1").await.unwrap().is_some(),
        "other users' sessions stay"
    );
}

/// Only hashes are stored: a user's Debug never shows its password hash.
pub async fn user_debug_redacts_password_hash(_s: &dyn Storage) {
    let u = sample_user("secretive");
    let shown = format!("{u:?}");
    assert!(
        !shown.contains("hash-of-secretive"),
        "Debug shows the hash: {shown}"
    );
    assert!(shown.contains("[redacted]"));
}
