use keyward_storage::StorageError;
use time::OffsetDateTime;

/// Times are stored as Unix nanoseconds: exact, and ordered like the instants they stand for.
pub(crate) fn to_col(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

pub(crate) fn from_col(n: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(n))
        .map_err(|source| StorageError::Timestamp { nanos: n, source })
}

pub(crate) fn db_err(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StorageError::Conflict(d.message().to_owned()),
        _ => StorageError::unavailable(e),
    }
}
