//! Client authentication by the certificate a TLS-terminating proxy forwards (RFC 8705 §2),
//! written only against keyward's public extension points, on both sides:
//!
//! - [`ForwardedCertMethod`] (server): the proxy verifies the TLS client certificate and sends
//!   it to keyward URL-encoded in a header (nginx's `$ssl_client_escaped_cert`, AWS ALB's
//!   `X-Amzn-Mtls-Clientcert`). The header is believed only from the configured proxies: from
//!   any other address a request carrying it is refused, since anyone can write a header.
//!   - `tls_client_auth` (§2.1): the certificate's subject DN must equal the one registered for
//!     the client (the proxy has checked the chain against the PKI).
//!   - `self_signed_tls_client_auth` (§2.2): the certificate must be the one registered for
//!     the client, compared by SHA-256 of its DER.
//! - [`ForwardedCertClient`] (client): sends the `client_id`; the proof is the TLS connection.
//!   For a test without a proxy, [`ForwardedCertClient::acting_as_proxy`] also writes the header
//!   the proxy would.

mod client;
mod server;

pub use client::ForwardedCertClient;
pub use server::{Binding, ForwardedCert, ForwardedCertMethod, CERT_HEADER, SELF_SIGNED, TLS_CLIENT_AUTH};
