//! Users against a real SQLite database: passwords verify, the rules hold, and no password
//! or hash reaches the audit log.

use keyward_storage::AuditQuery;

use crate::{first_admin, tests::fixture, Actor, AdminError, NewUser, Password, UserPatch};

fn new_user(username: &str, password: &str, admin: bool) -> NewUser {
    NewUser {
        username: username.into(),
        password: Password::new(password.into()),
        name: None,
        email: None,
        roles: admin.then(|| vec!["admin".to_owned()]),
    }
}

#[tokio::test]
async fn first_admin_is_an_enabled_admin_whose_password_verifies() {
    let f = fixture().await;
    let now = time::macros::datetime!(2030-01-01 00:00 UTC);
    let password = Password::new("first-password".into());
    let record = first_admin("admin", &password, now).await.unwrap();
    assert_eq!(record.roles, ["admin"]);
    assert!(record.enabled);
    let audit = keyward_storage::AuditEvent {
        at: now,
        actor: "keyward".into(),
        action: "user.create".into(),
        target: "admin".into(),
        outcome: "success".into(),
        detail: serde_json::json!({}),
    };
    f.storage.insert_user(&record, &audit).await.unwrap();
    let user = f.ops.verify_password("admin", &password).await.unwrap();
    assert_eq!(user.username, "admin");
    assert!(first_admin("no spaces", &password, now).await.is_err());
    assert!(first_admin("admin", &Password::new("short".into()), now)
        .await
        .is_err());
}

#[tokio::test]
async fn verify_password_gives_one_answer_for_unknown_wrong_and_disabled() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    f.ops
        .create_user(&actor, new_user("root", "root-password", true))
        .await
        .unwrap();
    f.ops
        .create_user(&actor, new_user("bob", "bob-password", false))
        .await
        .unwrap();
    let wrong = f
        .ops
        .verify_password("bob", &Password::new("nope-nope".into()))
        .await;
    assert!(matches!(wrong, Err(AdminError::WrongPassword)), "{wrong:?}");
    let unknown = f
        .ops
        .verify_password("carol", &Password::new("bob-password".into()))
        .await;
    assert!(matches!(unknown, Err(AdminError::WrongPassword)), "{unknown:?}");
    let patch = UserPatch {
        enabled: Some(false),
        ..UserPatch::default()
    };
    f.ops.update_user(&actor, "bob", patch).await.unwrap();
    let disabled = f
        .ops
        .verify_password("bob", &Password::new("bob-password".into()))
        .await;
    assert!(matches!(disabled, Err(AdminError::WrongPassword)), "{disabled:?}");
}

#[tokio::test]
async fn a_changed_password_verifies_and_the_old_one_does_not() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    f.ops
        .create_user(&actor, new_user("bob", "old-password", false))
        .await
        .unwrap();
    let patch = UserPatch {
        password: Some(Password::new("new-password".into())),
        ..UserPatch::default()
    };
    f.ops.update_user(&actor, "bob", patch).await.unwrap();
    assert!(f
        .ops
        .verify_password("bob", &Password::new("new-password".into()))
        .await
        .is_ok());
    assert!(f
        .ops
        .verify_password("bob", &Password::new("old-password".into()))
        .await
        .is_err());
}

#[tokio::test]
async fn audit_log_holds_neither_password_nor_hash() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    f.ops
        .create_user(&actor, new_user("bob", "first-secret-pw", true))
        .await
        .unwrap();
    f.ops
        .create_user(&actor, new_user("ann", "other-secret-pw", true))
        .await
        .unwrap();
    let patch = UserPatch {
        password: Some(Password::new("second-secret-pw".into())),
        ..UserPatch::default()
    };
    f.ops.update_user(&actor, "bob", patch).await.unwrap();
    let refused = UserPatch {
        password: Some(Password::new("short".into())),
        ..UserPatch::default()
    };
    assert!(f.ops.update_user(&actor, "bob", refused).await.is_err());
    let hash = f.storage.load_user("bob").await.unwrap().unwrap().password_hash;
    let log = f.storage.list_audit(&AuditQuery::newest(50)).await.unwrap();
    assert_eq!(log.len(), 4);
    let text = serde_json::to_string(&log).unwrap();
    for secret in [
        "first-secret-pw",
        "other-secret-pw",
        "second-secret-pw",
        "short",
        &hash,
        "$argon2id",
    ] {
        assert!(!text.contains(secret), "audit log holds {secret}: {text}");
    }
}

#[tokio::test]
async fn refused_create_is_audited_under_the_username_only_when_it_is_one() {
    let f = fixture().await;
    let actor = Actor::new("tester");
    let bad_name = f
        .ops
        .create_user(&actor, new_user("no spaces allowed", "long-enough", false))
        .await;
    assert!(
        matches!(&bad_name, Err(AdminError::InvalidUserField { field, .. }) if field == "username"),
        "{bad_name:?}"
    );
    let bad_password = f.ops.create_user(&actor, new_user("valid", "short", false)).await;
    assert!(
        matches!(&bad_password, Err(AdminError::InvalidUserField { field, .. }) if field == "password"),
        "{bad_password:?}"
    );
    let log = f.storage.list_audit(&AuditQuery::newest(10)).await.unwrap();
    let targets: Vec<(&str, &str)> = log
        .iter()
        .map(|r| (r.event.target.as_str(), r.event.outcome.as_str()))
        .collect();
    assert_eq!(targets, [("valid", "failure"), ("-", "failure")]);
    assert_eq!(f.storage.count_users().await.unwrap(), 0);
}
