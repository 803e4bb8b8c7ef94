use async_trait::async_trait;
use keyward_jose::verify_hmac;
use keyward_types::{AuthMethod, ClientEntry};

use super::rules::before_signature;
use crate::{AuthContext, AuthFailure, ClientAuthenticator, Presented};

/// `client_secret_jwt` (RFC 7523 §2.2, OIDC Core §9): an assertion MACed with the client's
/// secret. During a rotation's grace period both secrets verify.
#[derive(Debug, Default)]
pub struct ClientSecretJwtMethod;

#[async_trait]
impl ClientAuthenticator for ClientSecretJwtMethod {
    fn methods(&self) -> &[AuthMethod] {
        &[AuthMethod::ClientSecretJwt]
    }

    async fn verify(
        &self,
        presented: &Presented,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthFailure> {
        let (a, alg, checked) = before_signature(presented, &entry.client, AuthMethod::ClientSecretJwt, ctx)?;
        let mut usable = false;
        let mut verified = false;
        for s in entry.secrets.iter().filter(|s| s.is_valid_at(ctx.now)) {
            let Some(secret) = s
                .encrypted
                .as_deref()
                .and_then(|sealed| ctx.vault.open(&s.id, sealed))
            else {
                continue;
            };
            usable = true;
            verified |= verify_hmac(alg, &secret, a.signing_input.as_bytes(), &a.signature).is_ok();
        }
        if !usable {
            return Err(AuthFailure::NoUsableSecret);
        }
        if !verified {
            return Err(AuthFailure::SignatureInvalid);
        }
        ctx.first_use(&entry.client, checked).await
    }
}
