//! The server side: a [`ClientAuthMethod`] registered with `keyward_app`'s builder.

use std::{collections::HashMap, net::IpAddr};

use async_trait::async_trait;
use aws_lc_rs::digest;
use ipnet::IpNet;
use keyward_client_auth::{
    AuthContext, AuthError, AuthFailure, ClientAuthMethod, Presentation, RequestParts,
};
use keyward_types::{AuthMethod, ClientEntry, TypeError};
use x509_parser::{certificate::X509Certificate, pem::Pem, prelude::FromDer};

/// The header the proxy writes: the client certificate as URL-encoded PEM.
pub const CERT_HEADER: &str = "x-ssl-client-cert";
pub const TLS_CLIENT_AUTH: &str = "tls_client_auth";
pub const SELF_SIGNED: &str = "self_signed_tls_client_auth";

/// Larger than any client certificate a proxy should forward; more is refused unread.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Both RFC 8705 methods, for a keyward behind the proxies in `trusted_proxies`.
pub struct ForwardedCertMethod {
    tls: AuthMethod,
    self_signed: AuthMethod,
    trusted_proxies: Vec<IpNet>,
    /// client_id → the subject DN registered for `tls_client_auth` (RFC 4514 text, as
    /// `x509-parser` prints it, e.g. `CN=svc, O=Example`).
    subject_dns: HashMap<String, String>,
}

impl ForwardedCertMethod {
    pub fn new(
        trusted_proxies: Vec<IpNet>,
        subject_dns: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, TypeError> {
        Ok(Self {
            tls: AuthMethod::custom(TLS_CLIENT_AUTH)?,
            self_signed: AuthMethod::custom(SELF_SIGNED)?,
            trusted_proxies,
            subject_dns: subject_dns.into_iter().collect(),
        })
    }

    fn from_trusted_proxy(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.trusted_proxies.iter().any(|net| net.contains(&ip)))
    }
}

/// What the proxy forwarded: the leaf certificate's DER.
pub struct ForwardedCert(Vec<u8>);

#[async_trait]
impl ClientAuthMethod for ForwardedCertMethod {
    type Credentials = ForwardedCert;

    fn methods(&self) -> Vec<AuthMethod> {
        vec![self.tls.clone(), self.self_signed.clone()]
    }

    fn presents(&self, request: &RequestParts<'_>) -> bool {
        request.headers.contains_key(CERT_HEADER)
    }

    fn extract(&self, request: &RequestParts<'_>) -> Result<Presentation<ForwardedCert>, AuthError> {
        if !self.from_trusted_proxy(request.peer.map(|p| p.ip())) {
            // Anyone can send the header; only the proxy's copy means a verified TLS session.
            return Err(AuthFailure::Method("forwarded_cert.untrusted_source").into());
        }
        let Some(client_id) = request.form.get("client_id") else {
            return Err(AuthError::InvalidRequest(
                "client_id is required with a forwarded client certificate",
            ));
        };
        let header = request
            .headers
            .get(CERT_HEADER)
            .map(http::HeaderValue::as_bytes)
            .unwrap_or_default();
        if header.len() > MAX_HEADER_BYTES {
            return Err(AuthFailure::Method("forwarded_cert.too_large").into());
        }
        let der = decode(header).ok_or(AuthFailure::Method("forwarded_cert.malformed"))?;
        Ok(Presentation {
            client_id: client_id.to_owned(),
            credentials: ForwardedCert(der),
        })
    }

    async fn verify(
        &self,
        cert: &ForwardedCert,
        method: &AuthMethod,
        entry: &ClientEntry,
        ctx: &AuthContext<'_>,
    ) -> Result<(), AuthError> {
        let (_, parsed) = X509Certificate::from_der(&cert.0)
            .map_err(|_| AuthFailure::Method("forwarded_cert.malformed"))?;
        if !parsed.validity().is_valid_at(x509_time(ctx.now)) {
            return Err(AuthFailure::Method("forwarded_cert.expired").into());
        }
        if method == &self.tls {
            let registered = self
                .subject_dns
                .get(entry.client.client_id.as_str())
                .ok_or(AuthFailure::Method("forwarded_cert.no_subject_dn"))?;
            return if &parsed.subject().to_string() == registered {
                Ok(())
            } else {
                Err(AuthFailure::Method("forwarded_cert.subject_mismatch").into())
            };
        }
        let presented = digest::digest(&digest::SHA256, &cert.0);
        let registered = entry
            .credentials
            .iter()
            .filter(|c| c.is_usable_at(ctx.now))
            .filter_map(|c| c.jwk.x5c.as_ref()?.first().cloned())
            .filter_map(|b64| base64_der(&b64))
            .any(|der| digest::digest(&digest::SHA256, &der).as_ref() == presented.as_ref());
        if registered {
            Ok(())
        } else {
            Err(AuthFailure::Method("forwarded_cert.not_registered").into())
        }
    }
}

/// URL-encoded PEM (what nginx and AWS ALB send) to DER.
fn decode(header: &[u8]) -> Option<Vec<u8>> {
    let text: String = url::form_urlencoded::parse(&[b"c=", header].concat())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let pem = Pem::iter_from_buffer(text.as_bytes()).next()?.ok()?;
    (pem.label == "CERTIFICATE").then_some(pem.contents)
}

fn base64_der(b64: &str) -> Option<Vec<u8>> {
    use base64::{engine::general_purpose::STANDARD, Engine};
    STANDARD.decode(b64).ok()
}

fn x509_time(now: time::OffsetDateTime) -> x509_parser::time::ASN1Time {
    x509_parser::time::ASN1Time::from_timestamp(now.unix_timestamp())
        .unwrap_or_else(|_| x509_parser::time::ASN1Time::now())
}
