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
    /// client_id → what binds it to a certificate. keyward's client metadata has no field for
    /// RFC 8705's `tls_client_auth_subject_dn`, and only `private_key_jwt` clients hold keys,
    /// so the method keeps its own registry (given at startup), as any extension may.
    bindings: HashMap<String, Binding>,
}

/// What a client is registered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// `tls_client_auth`: the subject DN, RFC 4514 text as `x509-parser` prints it (e.g.
    /// `CN=svc, O=Example`); the proxy has checked the chain against the PKI.
    SubjectDn(String),
    /// `self_signed_tls_client_auth`: SHA-256 of the certificate's DER.
    Certificate([u8; 32]),
}

impl Binding {
    /// The binding of a self-signed certificate, from its PEM.
    pub fn certificate_pem(pem: &[u8]) -> Option<Self> {
        let block = Pem::iter_from_buffer(pem).next()?.ok()?;
        let sum = digest::digest(&digest::SHA256, &block.contents);
        sum.as_ref().try_into().ok().map(Binding::Certificate)
    }
}

impl ForwardedCertMethod {
    pub fn new(
        trusted_proxies: Vec<IpNet>,
        bindings: impl IntoIterator<Item = (String, Binding)>,
    ) -> Result<Self, TypeError> {
        Ok(Self {
            tls: AuthMethod::custom(TLS_CLIENT_AUTH)?,
            self_signed: AuthMethod::custom(SELF_SIGNED)?,
            trusted_proxies,
            bindings: bindings.into_iter().collect(),
        })
    }

    fn is_trusted_proxy(&self, peer: Option<IpAddr>) -> bool {
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
        if !self.is_trusted_proxy(request.peer.map(|p| p.ip())) {
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
        let binding = self
            .bindings
            .get(entry.client.client_id.as_str())
            .ok_or(AuthFailure::Method("forwarded_cert.not_registered"))?;
        let matches = match binding {
            Binding::SubjectDn(dn) if method == &self.tls => &parsed.subject().to_string() == dn,
            Binding::Certificate(sha256) if method == &self.self_signed => {
                digest::digest(&digest::SHA256, &cert.0).as_ref() == sha256.as_slice()
            }
            // Registered for the other method of the two.
            _ => return Err(AuthFailure::Method("forwarded_cert.wrong_binding").into()),
        };
        if matches {
            Ok(())
        } else {
            Err(AuthFailure::Method("forwarded_cert.mismatch").into())
        }
    }
}

/// Percent-encoded PEM (what nginx and AWS ALB send) to DER. Percent-decoding only: a `+`
/// is base64, not a space.
fn decode(header: &[u8]) -> Option<Vec<u8>> {
    let text: Vec<u8> = percent_encoding::percent_decode(header).collect();
    let pem = Pem::iter_from_buffer(&text).next()?.ok()?;
    (pem.label == "CERTIFICATE").then_some(pem.contents)
}

fn x509_time(now: time::OffsetDateTime) -> x509_parser::time::ASN1Time {
    x509_parser::time::ASN1Time::from_timestamp(now.unix_timestamp())
        .unwrap_or_else(|_| x509_parser::time::ASN1Time::now())
}
