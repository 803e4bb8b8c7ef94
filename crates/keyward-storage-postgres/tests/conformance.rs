//! The shared storage conformance suite, run against a fresh schema per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use keyward_storage_postgres::PostgresStorage;

async fn fresh() -> (PostgresStorage, common::Schema) {
    let schema = common::Schema::new();
    (schema.open("node").await, schema)
}

keyward_storage::conformance_tests!(fresh());
