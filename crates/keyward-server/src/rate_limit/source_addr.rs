//! Which address a request comes from, for the failure limiter: the TCP peer, unless the peer is
//! a configured trusted proxy; then the right-most address of the chosen forwarding header that
//! no trusted proxy wrote. Addresses left of that one were written by the client itself and
//! prove nothing, so they are never believed.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, SocketAddr},
};

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Which header a trusted proxy reports the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (de facto standard).
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client, for="[2001:db8::1]:4711"` (RFC 7239).
    #[serde(rename = "forwarded")]
    Forwarded,
}

impl ProxyHeader {
    fn name(self) -> HeaderName {
        match self {
            ProxyHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ProxyHeader::Forwarded => HeaderName::from_static("forwarded"),
        }
    }
}

/// What one bucket is kept for: an IPv4 address, or an IPv6 /64. A single host is commonly
/// given a whole /64, so counting IPv6 addresses one by one would hand an attacker 2^64 buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SourceKey {
    V4(Ipv4Addr),
    /// The upper 64 bits of the address.
    V6Net(u64),
}

impl SourceKey {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => SourceKey::V4(v4),
            IpAddr::V6(v6) => SourceKey::V6Net(u64::try_from(u128::from(v6) >> 64).unwrap_or(u64::MAX)),
        }
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceKey::V4(v4) => write!(f, "{v4}"),
            SourceKey::V6Net(net) => {
                let prefix = std::net::Ipv6Addr::from(u128::from(*net) << 64);
                write!(f, "{prefix}/64")
            }
        }
    }
}

/// The configured proxies and the header they write.
#[derive(Debug, Clone)]
pub(crate) struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ProxyHeader,
}

impl TrustedProxies {
    pub(crate) fn new(nets: Vec<IpNet>, header: ProxyHeader) -> Self {
        Self { nets, header }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: walks the header from the right while the hop that wrote the
    /// next entry is trusted. An entry that names no address (`unknown`, an obfuscated node,
    /// garbage) stops the walk at the trusted hop that wrote it.
    pub(crate) fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<Option<IpAddr>> = Vec::new();
        for value in headers.get_all(self.header.name()) {
            let Ok(text) = value.to_str() else {
                // Not text: nothing in it can be read, so nothing past this hop is believed.
                hops.clear();
                break;
            };
            match self.header {
                ProxyHeader::XForwardedFor => hops.extend(text.split(',').map(|e| node_addr(e.trim()))),
                ProxyHeader::Forwarded => hops.extend(forwarded_for(text)),
            }
        }
        let mut current = peer;
        let mut from_right = hops.into_iter().rev();
        while self.trusts(current) {
            match from_right.next() {
                Some(Some(ip)) => current = ip,
                _ => break,
            }
        }
        current
    }
}

/// An address as a forwarding header writes it: `192.0.2.1`, `192.0.2.1:80`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`. Anything else (`unknown`, `_hidden`) is `None`.
fn node_addr(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = node.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    node.strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .and_then(|n| n.parse::<IpAddr>().ok())
}

/// The `for` node of each element of a `Forwarded` value (RFC 7239 §4), in order: elements are
/// split on commas and pairs on semicolons outside quoted strings; an element with no readable
/// `for` is `None`.
fn forwarded_for(value: &str) -> Vec<Option<IpAddr>> {
    split_outside_quotes(value, ',')
        .into_iter()
        .map(|element| {
            split_outside_quotes(element, ';').into_iter().find_map(|pair| {
                let (name, raw) = pair.split_once('=')?;
                if !name.trim().eq_ignore_ascii_case("for") {
                    return None;
                }
                Some(node_addr(&unquote(raw.trim())?))
            })?
        })
        .collect()
}

/// `s` split at each `sep` that is not inside a quoted string (RFC 9110 §5.6.4).
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(s.get(start..i).unwrap_or_default());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

/// A token as is, a quoted string without its quotes and escapes; an unterminated quote is `None`.
fn unquote(raw: &str) -> Option<String> {
    let Some(inner) = raw.strip_prefix('"') else {
        return Some(raw.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next()? } else { c });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(nets: &[&str], header: ProxyHeader) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect(), header)
    }

    fn headers(name: &'static str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(name, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_key() {
        assert_eq!(
            SourceKey::of(ip("2001:db8:1:2::1")),
            SourceKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            SourceKey::of(ip("2001:db8:1:2::1")),
            SourceKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            SourceKey::of(ip("2001:db8:1:2::9")).to_string(),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        assert_eq!(
            SourceKey::of(ip("::ffff:192.0.2.7")),
            SourceKey::of(ip("192.0.2.7"))
        );
    }

    #[test]
    fn header_from_an_untrusted_peer_is_ignored() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["192.0.2.1"]);
        assert_eq!(p.client_addr(ip("198.51.100.9"), &h), ip("198.51.100.9"));
    }

    #[test]
    fn right_most_untrusted_entry_of_x_forwarded_for() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["1.1.1.1, 192.0.2.1", "10.0.0.2"]);
        assert_eq!(p.client_addr(ip("10.0.0.1"), &h), ip("192.0.2.1"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_trusted_hop() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::XForwardedFor);
        let h = headers("x-forwarded-for", &["192.0.2.1, nonsense, 10.0.0.3"]);
        assert_eq!(p.client_addr(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        assert_eq!(p.client_addr(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_elements_quotes_ports_and_parameters() {
        let p = proxies(&["10.0.0.0/8"], ProxyHeader::Forwarded);
        let h = headers(
            "forwarded",
            &[
                r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711""#,
                "for=10.0.0.5;proto=\"a,b\"",
            ],
        );
        assert_eq!(p.client_addr(ip("10.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers("forwarded", &["for=unknown, for=10.0.0.7"]);
        assert_eq!(p.client_addr(ip("10.0.0.1"), &h), ip("10.0.0.7"));
        assert_eq!(
            forwarded_for(r#"for="192.0.2.1:80";by=x"#),
            vec![Some(ip("192.0.2.1"))]
        );
        assert_eq!(forwarded_for(r#"for="[::1"#), vec![None]);
    }
}
