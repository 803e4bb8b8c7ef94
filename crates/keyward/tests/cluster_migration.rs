//! Moving a single-node SQLite install to PostgreSQL with `keyward admin export` / `import`,
//! and what a PostgreSQL node refuses without shared keys.
//! Needs the PostgreSQL at `KEYWARD_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_admin::{verify_hash, Password};
use keyward_testkit::{
    cluster::*,
    fixtures::{ec_jwk, ec_key, ec_kid},
    jose::verify_at,
    pg::{database_url, psql, TestDb},
    process::LISTENING,
    remote::*,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const OPERATOR: &str = "m-operator";
const OPERATOR_PASSWORD: &str = "operator-password-0123";

/// Rows in `table` of `db`; 0 when the table does not even exist.
fn rows(db: &TestDb, table: &str) -> usize {
    if psql(&db.url, &format!("SELECT to_regclass('{table}')")).is_empty() {
        return 0;
    }
    psql(&db.url, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

/// The stored password hash of `username` in `db` ("" when there is no such user).
fn password_hash(db: &TestDb, username: &str) -> String {
    psql(
        &db.url,
        &format!("SELECT password_hash FROM users WHERE username = '{username}'"),
    )
}

async fn verifies(hash: &str, password: &str) -> bool {
    verify_hash(&Password::new(password.into()), hash).await.unwrap()
}

/// Row counts of the tables an import writes.
fn counts(db: &TestDb) -> [usize; 3] {
    ["clients", "users", "signing_keys"].map(|t| rows(db, t))
}

/// An import into a target that has been started (so it has the bootstrap client and user
/// `admin`, with its own password): refused on the user `admin` before any write, then done
/// with `--skip-existing`, which keeps the target's `admin` and brings the operator.
fn import_into_started_target(pg: &NodeEnv, dir: &std::path::Path, file: &str) {
    let db = TestDb::create();
    let mut env = pg.clone();
    env.set("KEYWARD_DATABASE_URL", &db.url);
    env.set("KEYWARD_ADMIN_PASSWORD", "target-admin-password");
    start_nodes(&env, 1).pop().unwrap().proc.stop();
    let before = counts(&db);
    assert_eq!(before, [1, 1, 1], "a first start's clients, users, keys");
    let target_admin = password_hash(&db, "admin");

    let (status, refused) = env.run(dir, &["admin", "import", file]);
    assert!(
        !status.success(),
        "import over an existing user succeeded:\n{}",
        refused.stdout_text()
    );
    assert!(
        refused.stderr_text().contains("user admin already exists")
            && refused.stderr_text().contains("--skip-existing"),
        "the error does not name the user and --skip-existing:\n{}",
        refused.stderr_text()
    );
    assert_eq!(counts(&db), before, "the refused import wrote something");
    assert_eq!(
        password_hash(&db, OPERATOR),
        "",
        "the refused import wrote a user"
    );

    let (status, import) = env.run(dir, &["admin", "import", "--skip-existing", file]);
    assert!(
        status.success(),
        "import --skip-existing failed: {status}\n{}",
        import.stderr_text()
    );
    assert_eq!(
        import.stdout_text().trim(),
        "imported 4 clients (1 skipped), 1 users (1 skipped) and 1 signing keys (0 already present)"
    );
    assert_eq!(counts(&db), [5, 2, 2]);
    assert_eq!(
        password_hash(&db, "admin"),
        target_admin,
        "the target's admin was replaced"
    );
}

#[tokio::test]
async fn export_from_sqlite_import_into_postgres_keeps_every_client_working() {
    let _serial = serial().await;
    let http = http();

    // A single node on SQLite, with key files in its data dir.
    let data = tempfile::tempdir().unwrap();
    let mut sqlite = NodeEnv::new(&format!("sqlite://{}/keyward.db", data.path().display()));
    sqlite.remove("KEYWARD_PEPPER");
    sqlite.remove("KEYWARD_KEY_ENCRYPTION_KEY");
    sqlite.set("KEYWARD_DATA_DIR", data.path().to_str().unwrap());
    let mut node = start_nodes(&sqlite, 1).pop().unwrap();
    let base = node.base.clone();
    let (basic_id, basic_secret) =
        create_client(&http, &base, json!({"client_id": "m-basic", "scope": "read"})).await;
    let (post_id, post_secret) = create_client(
        &http,
        &base,
        json!({"client_id": "m-post", "scope": "read", "token_endpoint_auth_method": "client_secret_post"}),
    )
    .await;
    let (jwt_id, jwt_secret) = create_client(
        &http,
        &base,
        json!({"client_id": "m-jwt", "scope": "read", "token_endpoint_auth_method": "client_secret_jwt"}),
    )
    .await;
    let (key_id, _) = create_client(
        &http,
        &base,
        json!({"client_id": "m-key", "scope": "read",
        "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [ec_jwk()]}}),
    )
    .await;
    let (status, user) = admin(
        &http,
        &base,
        Method::POST,
        "/admin/users",
        Some(json!({"username": OPERATOR, "password": OPERATOR_PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (key, kid) = (ec_key(), ec_kid());
    let before_move = access_token(&token_basic(&http, &base, &basic_id, &basic_secret).await);
    access_token(&token_post(&http, &base, &post_id, &post_secret).await);
    access_token(&token_assertion(&http, &base, &hs256_assertion(&jwt_secret, &jwt_id)).await);
    access_token(&token_assertion(&http, &base, &key_assertion(&key, &kid, &key_id).0).await);
    node.proc.stop();

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("keyward-export.json");
    let (status, export) = sqlite.run(out.path(), &["admin", "export", "--out", file.to_str().unwrap()]);
    assert!(
        status.success(),
        "export failed: {status}\n{}",
        export.stderr_text()
    );
    let file = file.to_str().unwrap();
    let document: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let exported_users = document["users"].as_array().unwrap();
    let names: Vec<_> = exported_users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", OPERATOR], "the first user and the operator");
    let operator_hash = exported_users[1]["password_hash"].as_str().unwrap().to_owned();
    assert!(operator_hash.starts_with("$argon2id$"), "{operator_hash}");
    let read_key = |name: &str| {
        std::fs::read_to_string(data.path().join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let (pepper, kek) = (read_key("pepper.key"), read_key("kek.key"));

    let db = TestDb::create();
    let mut pg = NodeEnv::new(&db.url);
    pg.set("KEYWARD_PEPPER", &pepper);
    pg.set("KEYWARD_KEY_ENCRYPTION_KEY", &kek);

    // With another pepper the import is refused, naming the pepper, before any write.
    let mut wrong = pg.clone();
    wrong.set("KEYWARD_PEPPER", &random_key());
    let (status, refused) = wrong.run(out.path(), &["admin", "import", file]);
    assert!(
        !status.success(),
        "import with another pepper succeeded:\n{}",
        refused.stdout_text()
    );
    assert!(
        refused.stderr_text().contains("pepper"),
        "error does not name the pepper:\n{}",
        refused.stderr_text()
    );
    assert_eq!(rows(&db, "clients"), 0, "the refused import wrote clients");
    assert_eq!(
        rows(&db, "signing_keys"),
        0,
        "the refused import wrote signing keys"
    );
    assert_eq!(rows(&db, "users"), 0, "the refused import wrote users");

    let (status, import) = pg.run(out.path(), &["admin", "import", file]);
    assert!(
        status.success(),
        "import failed: {status}\n{}",
        import.stderr_text()
    );
    // The four clients and the bootstrap admin client; the SQLite node's first user `admin`
    // and the operator; the SQLite node's one signing key.
    assert_eq!(
        import.stdout_text().trim(),
        "imported 5 clients (0 skipped), 2 users (0 skipped) and 1 signing keys (0 already present)"
    );
    let imported_hash = password_hash(&db, OPERATOR);
    assert_eq!(
        imported_hash, operator_hash,
        "the operator's hash changed on the way"
    );
    assert!(verifies(&imported_hash, OPERATOR_PASSWORD).await);
    assert!(!verifies(&imported_hash, "not-the-operator-password").await);
    let audited = "SELECT count(*) FROM audit_events WHERE action = 'user.import' \
                   AND actor = 'keyward admin import' AND detail::text NOT LIKE '%argon2%'";
    assert_eq!(psql(&db.url, audited), "2", "each user audited, without its hash");

    import_into_started_target(&pg, out.path(), file);

    let node = start_nodes(&pg, 1).pop().unwrap();
    let base = node.base.clone();
    access_token(&token_basic(&http, &base, &basic_id, &basic_secret).await);
    access_token(&token_post(&http, &base, &post_id, &post_secret).await);
    access_token(&token_assertion(&http, &base, &hs256_assertion(&jwt_secret, &jwt_id)).await);
    access_token(&token_assertion(&http, &base, &key_assertion(&key, &kid, &key_id).0).await);
    admin_token(&http, &base).await;
    assert_invalid_client(&token_basic(&http, &base, &basic_id, &post_secret).await);
    let claims = verify_at(&http, &base, &before_move).await;
    assert_eq!(claims["client_id"], "m-basic", "{claims}");
}

#[tokio::test]
async fn postgres_without_shared_keys_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = NodeEnv::new(&database_url());
    env.remove("KEYWARD_PEPPER");
    let (status, refused) = env.run(dir.path(), &["serve"]);
    assert!(
        !status.success(),
        "serve started without a pepper:\n{}",
        refused.stderr_text()
    );
    assert!(
        refused.stderr_text().contains("KEYWARD_PEPPER"),
        "the error does not name KEYWARD_PEPPER:\n{}",
        refused.stderr_text()
    );
    assert!(!refused.stderr_text().contains(LISTENING));
    assert!(
        !dir.path().join("pepper.key").exists(),
        "a per-node pepper file was made"
    );
}
