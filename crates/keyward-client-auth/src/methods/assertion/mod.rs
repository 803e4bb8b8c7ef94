//! RFC 7523 client assertions: `client_secret_jwt` and `private_key_jwt` are one mechanism
//! (`client_assertion` in the form), so one [`ClientAssertionMethod`] reads it and runs the
//! rules both share ([`rules`]); the client's registered method then says where the verifying
//! key comes from: its secret ([`client_secret_jwt`]) or its public keys ([`private_key_jwt`]).

pub(crate) mod rules;

mod client_secret_jwt;
mod prepared_keys;
mod private_key_jwt;

use async_trait::async_trait;
use keyward_jose::{CompactJws, JwsHeader};
use keyward_types::{AuthMethod, ClientEntry};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use self::prepared_keys::PreparedKeys;
use crate::{AuthContext, AuthError, AuthFailure, ClientAuthMethod, Presentation, RequestParts};

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client assertion split and decoded, nothing verified yet.
#[derive(Debug)]
pub struct Assertion {
    pub header: JwsHeader,
    pub claims: Map<String, Value>,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// `client_secret_jwt` and `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9).
#[derive(Debug, Default)]
pub struct ClientAssertionMethod {
    /// `private_key_jwt`'s parsed public keys, kept between requests.
    keys: PreparedKeys,
}

#[async_trait]
impl ClientAuthMethod for ClientAssertionMethod {
    type Credentials = Assertion;

    fn methods(&self) -> Vec<AuthMethod> {
        vec![AuthMethod::ClientSecretJwt, AuthMethod::PrivateKeyJwt]
    }

    fn presents(&self, request: &RequestParts<'_>) -> bool {
        request.form.get("client_assertion").is_some() || request.form.get("client_assertion_type").is_some()
    }

    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<Assertion>, AuthError> {
        let form = request.form;
        read_assertion(
            form.get("client_assertion_type"),
            form.get("client_assertion"),
            form.get("client_id"),
        )
    }

    async fn verify(
        &self,
        assertion: &Assertion,
        method: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        let (alg, checked) = rules::before_signature(assertion, &entry.client, method, ctx)?;
        match method {
            AuthMethod::ClientSecretJwt => client_secret_jwt::verify_signature(assertion, alg, entry, ctx)?,
            AuthMethod::PrivateKeyJwt => {
                private_key_jwt::verify_signature(&self.keys, assertion, alg, entry, ctx).await?
            }
            _ => return Err(AuthFailure::MethodMismatch.into()),
        }
        first_use(ctx, entry, checked).await
    }
}

/// First rule of DESIGN.md "Client assertion rules": the assertion type; then the JWT is
/// decoded (not verified) to learn which client it claims to be. A `client_id` parameter, if
/// sent, must be the assertion's `sub` (RFC 7523 §3).
pub(crate) fn read_assertion(
    kind: Option<&str>,
    jwt: Option<&str>,
    client_id: Option<&str>,
) -> Result<Presentation<Assertion>, AuthError> {
    let (Some(kind), Some(jwt)) = (kind, jwt) else {
        return Err(AuthError::InvalidRequest(
            "client_assertion and client_assertion_type must be sent together",
        ));
    };
    if kind != JWT_BEARER {
        return Err(AuthFailure::AssertionType.into());
    }
    let jws = CompactJws::parse(jwt).map_err(|_| AuthFailure::AssertionMalformed)?;
    let claims: Map<String, Value> = jws.claims().map_err(|_| AuthFailure::AssertionMalformed)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(AuthFailure::SubMissing)?
        .to_owned();
    if client_id.is_some_and(|id| id != sub) {
        return Err(AuthError::InvalidRequest(
            "client_id parameter differs from the assertion's sub",
        ));
    }
    Ok(Presentation {
        client_id: sub,
        credentials: Assertion {
            header: jws.header,
            signing_input: jws.signing_input.to_owned(),
            signature: jws.signature,
            claims,
        },
    })
}

/// The last assertion rule: one atomic insert of `(client_id, jti)`, kept until
/// `exp + skew` so that a clock a little behind cannot make an old assertion valid again.
/// A store that cannot answer fails closed: without a replay check there is no token.
async fn first_use(
    ctx: &AuthContext<'_>,
    entry: &ClientEntry,
    checked: rules::Checked,
) -> Result<(), AuthError> {
    let keep_until = OffsetDateTime::from_unix_timestamp(checked.exp.saturating_add(ctx.policy.skew_secs))
        .map_err(|_| AuthFailure::ExpMissing)?;
    let first = ctx
        .replay
        .first_use(&entry.client.client_id, &checked.jti, keep_until, ctx.now)
        .await?;
    if first {
        Ok(())
    } else {
        Err(AuthFailure::Replayed.into())
    }
}
