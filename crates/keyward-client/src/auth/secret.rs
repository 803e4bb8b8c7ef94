//! The two methods that send the secret itself (RFC 6749 §2.3.1).

use base64::{engine::general_purpose::STANDARD, Engine};
use keyward_types::ClientSecret;
use reqwest::header::AUTHORIZATION;
use zeroize::Zeroizing;

use super::{AuthRequest, ClientAuth};
use crate::ClientError;

/// `client_secret_basic`: HTTP Basic, each half form-urlencoded first, as §2.3.1 requires (a
/// server that decodes them, as keyward does, reads a `:` or `%` in a secret correctly).
#[derive(Debug)]
pub struct SecretBasic(pub ClientSecret);

/// `client_secret_post`: `client_id` and `client_secret` in the form.
#[derive(Debug)]
pub struct SecretPost(pub ClientSecret);

impl ClientAuth for SecretBasic {
    fn method(&self) -> &str {
        "client_secret_basic"
    }

    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError> {
        let pair = Zeroizing::new(format!(
            "{}:{}",
            form_encode(request.client_id).as_str(),
            form_encode(self.0.expose()).as_str()
        ));
        let value = Zeroizing::new(format!("Basic {}", STANDARD.encode(pair.as_bytes())));
        request.header(AUTHORIZATION, &value)
    }
}

impl ClientAuth for SecretPost {
    fn method(&self) -> &str {
        "client_secret_post"
    }

    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError> {
        request.param("client_id", request.client_id);
        request.param("client_secret", self.0.expose());
        Ok(())
    }
}

fn form_encode(value: &str) -> Zeroizing<String> {
    Zeroizing::new(url::form_urlencoded::byte_serialize(value.as_bytes()).collect())
}
