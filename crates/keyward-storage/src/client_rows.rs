//! A [`ClientEntry`] from the rows of one `load_client` statement.
//!
//! Each SQL backend reads a client, its secrets and its credentials in one statement, so that
//! the token path sees one snapshot (a rotation committed meanwhile is seen whole or not at
//! all) for one round trip. The statement returns rows of three kinds, told apart by a `kind`
//! column with the values below, ordered by kind: the client first, then its secrets newest
//! first, then its credentials oldest first. The backend decodes each row; this module is the
//! one place that puts them together.

use keyward_types::{Client, ClientEntry, Credential, StoredSecret};

use crate::StorageError;

/// One decoded row of a `load_client` statement.
// Unboxed: one row lives only until it is moved into the entry, and a box would be one more
// allocation per credential on every cache miss.
#[allow(clippy::large_enum_variant)]
pub enum ClientRow {
    Client(Client),
    Secret(StoredSecret),
    Credential(Credential),
}

impl ClientRow {
    /// The `kind` column of the client's own row.
    pub const CLIENT: i64 = 0;
    /// The `kind` column of a secret's row.
    pub const SECRET: i64 = 1;
    /// The `kind` column of a credential's row.
    pub const CREDENTIAL: i64 = 2;

    /// The error for a `kind` value that is none of the above.
    pub fn unknown_kind(kind: i64) -> StorageError {
        StorageError::Corrupt(format!("client row of kind {kind}"))
    }
}

/// `None` when there is no client row first: secrets and credentials cannot outlive their
/// client (`ON DELETE CASCADE`), so that means no such client.
pub fn client_entry_from_rows(
    rows: impl IntoIterator<Item = Result<ClientRow, StorageError>>,
) -> Result<Option<ClientEntry>, StorageError> {
    let mut rows = rows.into_iter();
    let Some(ClientRow::Client(client)) = rows.next().transpose()? else {
        return Ok(None);
    };
    let mut entry = ClientEntry {
        client,
        secrets: Vec::new(),
        credentials: Vec::new(),
    };
    for row in rows {
        match row? {
            ClientRow::Secret(s) => entry.secrets.push(s),
            ClientRow::Credential(c) => entry.credentials.push(c),
            ClientRow::Client(_) => {
                return Err(StorageError::Corrupt("a second client row".into()));
            }
        }
    }
    Ok(Some(entry))
}
