//! SSRF guard. A client chooses its `jwks_uri`, so without a guard it could make the server
//! fetch from the cloud metadata service, an admin port on loopback, or the internal network.
//! Host names are resolved by [`GuardedResolver`], which hands the connector only allowed
//! addresses: the address checked is the address connected to, so a DNS answer that changes
//! between check and connect (rebinding) gains nothing.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{FetchConfig, FetchError};

/// Whether an address is globally routable unicast: not loopback, private (RFC 1918, ULA),
/// link-local (incl. 169.254.169.254 metadata), CGNAT, unspecified, multicast, documentation or
/// benchmarking ranges, nor an IPv4-mapped form of one of those.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            let first = seg.first().copied().unwrap_or(0);
            // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) embed an IPv4
            // address that may be private: refused rather than decoded.
            let embeds_v4 = seg.iter().take(6).all(|s| *s == 0)
                || (seg.first() == Some(&0x64)
                    && seg.get(1) == Some(&0xff9b)
                    && seg.iter().skip(2).take(4).all(|s| *s == 0));
            !(embeds_v4
                || v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments().get(1) == Some(&0x0db8))
        }
    }
}

/// Checks a `jwks_uri` as far as it can be checked without DNS: an absolute URL, https unless
/// http is allowed, and not a literal non-public address unless those are allowed. Used at
/// registration and before every fetch.
pub fn check_jwks_uri(uri: &str, config: &FetchConfig) -> Result<url::Url, FetchError> {
    let url = url::Url::parse(uri).map_err(|_| FetchError::BadUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if config.allow_http => {}
        _ => return Err(FetchError::NotHttps),
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadUrl);
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
        Some(url::Host::Domain(_)) => None,
        None => return Err(FetchError::BadUrl),
    };
    if let Some(ip) = literal {
        if !config.allow_private_networks && !is_public(ip) {
            return Err(FetchError::PrivateAddress(ip.to_string()));
        }
    }
    Ok(url)
}

/// The end of the resolver's error when a name has only refused addresses.
pub(crate) const NO_ALLOWED_ADDRESS: &str = "resolves to no allowed address";

/// Resolves host names and drops every address the config does not allow.
pub(crate) struct GuardedResolver {
    pub(crate) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                let e: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} {NO_ALLOWED_ADDRESS}").into();
                return Err(e);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                !is_public(
                    private
                        .parse()
                        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                ),
                "{private}"
            );
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(
                is_public(
                    public
                        .parse()
                        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
                ),
                "{public}"
            );
        }
    }

    #[test]
    fn checks_scheme_and_literal_addresses() {
        let strict = FetchConfig::default();
        assert_eq!(
            check_jwks_uri("http://example.com/jwks", &strict).err(),
            Some(FetchError::NotHttps)
        );
        assert!(matches!(
            check_jwks_uri("https://127.0.0.1/jwks", &strict),
            Err(FetchError::PrivateAddress(_))
        ));
        assert!(matches!(
            check_jwks_uri("https://[::1]/jwks", &strict),
            Err(FetchError::PrivateAddress(_))
        ));
        assert!(matches!(
            check_jwks_uri("https://localhost/jwks", &strict),
            Err(FetchError::PrivateAddress(_))
        ));
        assert!(check_jwks_uri("https://example.com/jwks", &strict).is_ok());
        let open = FetchConfig {
            allow_http: true,
            allow_private_networks: true,
            ..FetchConfig::default()
        };
        assert!(check_jwks_uri("http://127.0.0.1:8080/jwks", &open).is_ok());
        assert_eq!(
            check_jwks_uri("ftp://example.com/", &open).err(),
            Some(FetchError::NotHttps)
        );
    }
}
