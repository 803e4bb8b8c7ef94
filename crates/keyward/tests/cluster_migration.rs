//! Moving a single-node SQLite install to PostgreSQL with `keyward admin export` / `import`,
//! and what a PostgreSQL node refuses without shared keys.
//! Needs the PostgreSQL at `KEYWARD_TEST_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::{
    cluster::*,
    fixtures::{ec_jwk, ec_key, ec_kid},
    jose::verify_at,
    pg::{database_url, psql, TestDb},
    process::LISTENING,
    remote::*,
};
use serde_json::json;

/// Rows in `table` of `db`; 0 when the table does not even exist.
fn rows(db: &TestDb, table: &str) -> usize {
    if psql(&db.url, &format!("SELECT to_regclass('{table}')")).is_empty() {
        return 0;
    }
    psql(&db.url, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
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

    let (status, import) = pg.run(out.path(), &["admin", "import", file]);
    assert!(
        status.success(),
        "import failed: {status}\n{}",
        import.stderr_text()
    );
    // The four clients and the bootstrap admin client; the SQLite node's one signing key.
    assert_eq!(
        import.stdout_text().trim(),
        "imported 5 clients (0 skipped) and 1 signing keys (0 already present)"
    );

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
