//! The client side: a [`ClientAuth`] for `tls_client_auth` / `self_signed_tls_client_auth`.

use keyward_client::{AuthRequest, ClientAuth, ClientError};
use reqwest::header::HeaderName;

use crate::{CERT_HEADER, SELF_SIGNED, TLS_CLIENT_AUTH};

/// Sends the `client_id`; the TLS client certificate itself is the HTTP client's (configure it
/// on the `reqwest::Client` given to `TokenClientBuilder::http`).
pub struct ForwardedCertClient {
    method: &'static str,
    /// The header a proxy would add, for tests that reach keyward without one.
    as_proxy: Option<String>,
}

impl ForwardedCertClient {
    /// `self_signed`: `self_signed_tls_client_auth`, else `tls_client_auth`.
    pub fn new(self_signed: bool) -> Self {
        Self {
            method: if self_signed { SELF_SIGNED } else { TLS_CLIENT_AUTH },
            as_proxy: None,
        }
    }

    /// Also writes the proxy's header with `cert_pem`, as a proxy in front of keyward would
    /// after verifying the TLS session.
    pub fn acting_as_proxy(mut self, cert_pem: &str) -> Self {
        let encoded = percent_encoding::utf8_percent_encode(cert_pem, percent_encoding::NON_ALPHANUMERIC);
        self.as_proxy = Some(encoded.to_string());
        self
    }
}

impl ClientAuth for ForwardedCertClient {
    fn method(&self) -> &str {
        self.method
    }

    fn authenticate(&self, request: &mut AuthRequest<'_>) -> Result<(), ClientError> {
        request.param("client_id", request.client_id);
        if let Some(header) = &self.as_proxy {
            request.header(HeaderName::from_static(CERT_HEADER), header)?;
        }
        Ok(())
    }
}
