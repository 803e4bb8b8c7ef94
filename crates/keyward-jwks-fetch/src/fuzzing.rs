//! Entry points for the coverage-guided fuzz targets (`fuzz/`, through the `keyward-fuzz`
//! crate): the two parsers of what a JWKS URL answers, callable without a network. Not an API;
//! hidden from the documentation.

use keyward_types::Credential;
use time::OffsetDateTime;

use crate::{FetchConfig, FetchError};

/// A fetched JWKS document, under the default limits.
pub fn jwks_document(body: &[u8], now: OffsetDateTime) -> Result<Vec<Credential>, FetchError> {
    crate::document::parse(body, &FetchConfig::default(), now)
}

/// `max-age` from a `Cache-Control` value.
pub fn cache_control(value: &str) -> Option<i64> {
    crate::http::parse_max_age(value)
}
