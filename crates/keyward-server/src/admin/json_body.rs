//! The first step of reading any admin JSON body, shared by every admin resource.

use keyward_types::strict_json::{ensure_unique_members, StrictJsonError};

use crate::error::ApiError;

/// Refuses a body with two members of the same name in any object, before the typed parse.
///
/// A derived `Deserialize` refuses duplicates of the fields it knows, but a body read as a
/// map (a PATCH) keeps the last one silently, and serde's refusal is worded per field; so two
/// endpoints could read one body differently. This check makes every admin endpoint refuse
/// duplicates alike: `400 invalid_request` naming the member. A body that is not JSON at all
/// passes through to the typed parse, which says so in its own words.
pub(crate) fn refuse_duplicate_members(body: &[u8]) -> Result<(), ApiError> {
    match ensure_unique_members(body) {
        Ok(()) | Err(StrictJsonError::Syntax) => Ok(()),
        Err(e) => Err(ApiError::InvalidRequest(e.to_string().into())),
    }
}
