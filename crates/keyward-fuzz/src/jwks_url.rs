//! What a client's JWKS URL answers: the document and its `Cache-Control` header.

use keyward_jwks_fetch::fuzzing;

/// The largest number of keys a document may hold under the default limits.
const MAX_KEYS: usize = 100;

/// A fetched JWKS document. What it yields is at most the limit of keys, each public, of an
/// algorithm keyward verifies with and never HMAC.
pub fn jwks_document(data: &[u8]) {
    let Ok(credentials) = fuzzing::jwks_document(data, crate::NOW) else {
        return;
    };
    assert!(credentials.len() <= MAX_KEYS, "more keys than the limit");
    for c in &credentials {
        let json = serde_json::to_value(&c.jwk).unwrap_or_default();
        assert!(
            ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
                .iter()
                .all(|m| json.get(m).is_none()),
            "a fetched key carries private material"
        );
        assert!(
            !c.alg.is_some_and(|a| a.is_symmetric()),
            "a fetched key verifies HMAC"
        );
        assert_eq!(
            c.thumbprint,
            c.jwk.thumbprint(),
            "the stored thumbprint is not the key's"
        );
    }
}

/// A `Cache-Control` value. A positive age comes from a `max-age` directive.
pub fn cache_control(data: &[u8]) {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(age) = fuzzing::cache_control(value) {
        assert!(
            age == 0 || value.to_ascii_lowercase().contains("max-age="),
            "an age without a max-age directive"
        );
    }
}
