use async_trait::async_trait;
use keyward_types::{AuthMethod, ClientEntry, SecretHash};

use crate::{AuthContext, AuthFailure, ClientAuthenticator, Presented};

/// `client_secret_basic` and `client_secret_post`: one HMAC of the presented secret, compared in
/// constant time with each stored hash that is valid now (at most two, during a rotation).
#[derive(Debug, Default)]
pub struct ClientSecretMethod;

#[async_trait]
impl ClientAuthenticator for ClientSecretMethod {
    fn methods(&self) -> &[AuthMethod] {
        &[AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost]
    }

    async fn verify(
        &self,
        presented: &Presented,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthFailure> {
        let secret = match presented {
            Presented::Basic { secret, .. } | Presented::Post { secret, .. } => secret,
            _ => return Err(AuthFailure::MethodMismatch),
        };
        let presented_hash = SecretHash::compute(ctx.pepper, secret);
        // Compare against every valid secret without stopping early, so timing does not tell
        // whether the current or the previous secret matched.
        let matched = entry
            .secrets
            .iter()
            .filter(|s| s.is_valid_at(ctx.now))
            .fold(false, |acc, s| s.hash.matches(&presented_hash) | acc);
        if matched {
            Ok(())
        } else {
            Err(AuthFailure::SecretMismatch)
        }
    }
}
