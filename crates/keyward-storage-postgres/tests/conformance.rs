//! The shared storage conformance suite, run against a fresh schema per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keyward_storage_postgres::PostgresStorage;
use keyward_testkit::pg;

async fn fresh() -> (PostgresStorage, pg::Schema) {
    let schema = pg::Schema::new();
    (schema.open("node").await, schema)
}

keyward_testkit::conformance_tests!(fresh());
