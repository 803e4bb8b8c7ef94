//! `x-test-shared-header`: a client authentication method that keyward's crates do not know,
//! written only against the extension point (`keyward_client_auth::ClientAuthMethod`).
//!
//! The client sends `X-Client-Id: <client_id>` and `X-Client-Proof: base64url(HMAC-SHA256(key,
//! client_id))`, where `key` is a value shared with this method's registry, not with keyward.
//! It is small on purpose (the proof does not expire), enough to show that a method receives
//! what it needs from the request and answers for itself.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_client_auth::{
    AuthContext, AuthError, AuthFailure, ClientAuthMethod, Presentation, RequestParts,
};
use keyward_types::{AuthMethod, ClientEntry, TypeError};

/// The method's name, as clients register it in `token_endpoint_auth_method`.
pub const NAME: &str = "x-test-shared-header";
pub const CLIENT_ID_HEADER: &str = "x-client-id";
pub const PROOF_HEADER: &str = "x-client-proof";

/// The method, with the key of each client that may use it.
pub struct SharedHeaderMethod {
    method: AuthMethod,
    keys: HashMap<String, hmac::Key>,
}

/// The proof a client sent, decoded.
pub struct Proof(Vec<u8>);

impl SharedHeaderMethod {
    /// `keys`: client id → shared key.
    pub fn new<'a>(keys: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<Self, TypeError> {
        Ok(Self {
            method: AuthMethod::custom(NAME)?,
            keys: keys
                .into_iter()
                .map(|(id, key)| (id.to_owned(), hmac::Key::new(hmac::HMAC_SHA256, key)))
                .collect(),
        })
    }
}

/// What a client sends in [`PROOF_HEADER`].
pub fn proof(key: &[u8], client_id: &str) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), client_id.as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

#[async_trait]
impl ClientAuthMethod for SharedHeaderMethod {
    type Credentials = Proof;

    fn methods(&self) -> Vec<AuthMethod> {
        vec![self.method.clone()]
    }

    fn presents(&self, request: &RequestParts<'_>) -> bool {
        request.headers.contains_key(CLIENT_ID_HEADER) || request.headers.contains_key(PROOF_HEADER)
    }

    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<Proof>, AuthError> {
        let header = |name| request.headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(client_id), Some(proof)) = (header(CLIENT_ID_HEADER), header(PROOF_HEADER)) else {
            return Err(AuthError::InvalidRequest(
                "X-Client-Id and X-Client-Proof must be sent together, as text",
            ));
        };
        if request.form.get("client_id").is_some_and(|id| id != client_id) {
            return Err(AuthError::InvalidRequest(
                "client_id parameter differs from X-Client-Id",
            ));
        }
        let proof = URL_SAFE_NO_PAD
            .decode(proof)
            .map_err(|_| AuthFailure::Method("shared_header.malformed_proof"))?;
        Ok(Presentation {
            client_id: client_id.to_owned(),
            credentials: Proof(proof),
        })
    }

    async fn verify(
        &self,
        proof: &Proof,
        _: &AuthMethod,
        entry: &ClientEntry,
        _: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        let client_id = entry.client.client_id.as_str();
        let key = self
            .keys
            .get(client_id)
            .ok_or(AuthFailure::Method("shared_header.no_key"))?;
        hmac::verify(key, client_id.as_bytes(), &proof.0)
            .map_err(|_| AuthFailure::Method("shared_header.proof_mismatch").into())
    }
}
