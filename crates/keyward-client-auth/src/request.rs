//! What the server hands every method from a token request, without knowing which method reads
//! what: the headers, the form parameters, and where the request came from.

use std::{collections::HashMap, net::SocketAddr};

use http::HeaderMap;
use thiserror::Error;
use zeroize::Zeroize;

/// One token request, as the methods' extraction sees it.
#[derive(Clone, Copy)]
pub struct RequestParts<'a> {
    /// Every header as received; the server has already refused a repeated `Authorization`.
    pub headers: &'a HeaderMap,
    pub form: &'a FormParams,
    /// The peer's address, when the listener records it.
    pub peer: Option<SocketAddr>,
    /// The TLS session, when the request came over TLS and the listener records it.
    pub tls: Option<&'a TlsInfo>,
}

/// What a TLS listener learned of the peer, for methods that bind clients to a certificate
/// (RFC 8705).
#[derive(Debug, Clone, Default)]
pub struct TlsInfo {
    /// The client's certificate chain, leaf first, DER.
    pub peer_certificates: Vec<Vec<u8>>,
}

/// A form's parameters, each at most once (RFC 6749 §3.2: "parameters MUST NOT be included more
/// than once"). Values are wiped on drop: one of them may be a client secret.
#[derive(Default)]
pub struct FormParams(HashMap<String, String>);

/// A form parameter sent twice; which one counts would be ambiguous, so neither does.
#[derive(Debug, Error)]
#[error("parameter '{name}' is repeated")]
pub struct RepeatedParameter {
    pub name: String,
}

impl FormParams {
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, RepeatedParameter>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut map = HashMap::new();
        for (name, value) in pairs {
            let name = name.into();
            if map.contains_key(&name) {
                let mut value: String = value.into();
                value.zeroize();
                return Err(RepeatedParameter { name });
            }
            map.insert(name, value.into());
        }
        Ok(Self(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl Drop for FormParams {
    fn drop(&mut self) {
        for v in self.0.values_mut() {
            v.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_repeated_parameter() {
        let err = FormParams::from_pairs([("a", "1"), ("b", "2"), ("a", "3")]).err();
        assert_eq!(err.map(|e| e.name), Some("a".to_owned()));
    }

    #[test]
    fn reads_each_parameter() {
        let form = FormParams::from_pairs([("a", "1"), ("b", "")]).unwrap();
        assert_eq!(form.get("a"), Some("1"));
        assert_eq!(form.get("b"), Some(""));
        assert_eq!(form.get("c"), None);
    }
}
