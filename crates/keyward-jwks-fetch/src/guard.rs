//! SSRF guard. A client chooses its `jwks_uri`, so without a guard it could make the server
//! fetch from the cloud metadata service, an admin port on loopback, or the internal network.
//! Host names are resolved by [`GuardedResolver`], which hands the connector only allowed
//! addresses: the address checked is the address connected to, so a DNS answer that changes
//! between check and connect (rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{FetchConfig, FetchError};

/// Whether an address is globally routable unicast: not loopback, private (RFC 1918, ULA),
/// link-local (incl. 169.254.169.254 metadata), site-local, CGNAT, unspecified, multicast,
/// documentation or benchmarking ranges, nor a form of IPv6 that embeds or translates to an
/// IPv4 address in one of those.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
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

/// The IPv4 address in 32 bits of an IPv6 address, high segment first.
fn v4_from(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = v6.segments();
    // IPv4-mapped ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): the socket talks IPv4 to a.b.c.d.
    if let Some(v4) = v6.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // Forms that a translator or relay delivers to an IPv4 address they carry: such an address
    // is as public as the IPv4 address it reaches, so that one is checked (both, for Teredo,
    // which carries two).
    let via: Option<Vec<Ipv4Addr>> = if (s0, s1, s2, s3, s4, s5) == (0, 0, 0, 0, 0xffff, 0) {
        // SIIT IPv4-translated ::ffff:0:a.b.c.d (RFC 2765 §2.1, RFC 6145).
        Some(vec![v4_from(s6, s7)])
    } else if (s0, s1, s2, s3, s4, s5) == (0x64, 0xff9b, 0, 0, 0, 0) {
        // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
        Some(vec![v4_from(s6, s7)])
    } else if s0 == 0x2002 {
        // 6to4 2002:V4ADDR::/48 (RFC 3056 §2): the relay sends to the IPv4 in bits 16..48.
        Some(vec![v4_from(s1, s2)])
    } else if (s0, s1) == (0x2001, 0) {
        // Teredo 2001:0::/32 (RFC 4380 §4): the server's IPv4 in bits 32..64, the client's
        // in the last 32 bits, inverted.
        Some(vec![v4_from(s2, s3), v4_from(!s6, !s7)])
    } else {
        None
    };
    if let Some(addresses) = via {
        return addresses.into_iter().all(is_public_v4);
    }
    !(
        // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 §2.5.5.1), with :: and ::1.
        (s0, s1, s2, s3, s4, s5) == (0, 0, 0, 0, 0, 0)
        // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): translated to whatever the operator chose.
        || (s0, s1, s2) == (0x64, 0xff9b, 1)
        // Discard-only 100::/64 (RFC 6666).
        || (s0, s1, s2, s3) == (0x100, 0, 0, 0)
        || v6.is_multicast()
        // Unique local fc00::/7 (RFC 4193).
        || (s0 & 0xfe00) == 0xfc00
        // Link-local fe80::/10.
        || (s0 & 0xffc0) == 0xfe80
        // Site-local fec0::/10 (deprecated by RFC 3879, still routed inside some sites).
        || (s0 & 0xffc0) == 0xfec0
        // Benchmarking 2001:2::/48 (RFC 5180).
        || (s0, s1, s2) == (0x2001, 2, 0)
        // Documentation 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637).
        || (s0, s1) == (0x2001, 0x0db8)
        || (s0 == 0x3fff && s1 < 0x1000)
    )
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

/// The guarded resolver's refusal: the name resolves only to addresses the config does not
/// allow. It travels through the HTTP client as the cause of its connect error, where
/// [`refused_host`] finds it again.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to no allowed address")]
pub(crate) struct Refused {
    host: String,
}

/// The host the guarded resolver refused, if that is why `error` happened. An I/O error hides
/// the error it wraps from `source()`, so it is looked into as well.
pub(crate) fn refused_host<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e str> {
    let mut source = Some(error);
    while let Some(err) = source {
        let wrapped = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<Refused>());
        if let Some(refused) = err.downcast_ref::<Refused>().or(wrapped) {
            return Some(&refused.host);
        }
        source = err.source();
    }
    None
}

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
                return Err(Box::new(Refused { host }) as Box<dyn std::error::Error + Send + Sync>);
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

    fn public(addr: &str) -> bool {
        is_public(addr.parse().unwrap_or_else(|e| panic!("{addr}: {e}")))
    }

    #[test]
    fn refuses_site_local() {
        for a in ["fec0::1", "fec0:0:0:1::1", "feff:ffff::1"] {
            assert!(!public(a), "{a}");
        }
    }

    #[test]
    fn refuses_local_use_nat64() {
        // 64:ff9b:1::/48 translates to whatever the operator chose, public embedding or not.
        for a in ["64:ff9b:1::a00:1", "64:ff9b:1::808:808", "64:ff9b:1:ffff::1"] {
            assert!(!public(a), "{a}");
        }
    }

    #[test]
    fn checks_the_ipv4_in_6to4() {
        // 2002:V4ADDR::/48; 2002:a00:1:: is 10.0.0.1, 2002:a9fe:a9fe:: is 169.254.169.254.
        for a in [
            "2002:a00:1::",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "2002:c0a8:101:1::1",
        ] {
            assert!(!public(a), "{a}");
        }
        assert!(public("2002:808:808::1"), "6to4 of 8.8.8.8");
    }

    #[test]
    fn checks_both_ipv4_addresses_in_teredo() {
        // RFC 4380 §4's example: server 65.54.227.120, client !0x3ffffdd2 = 192.0.2.45
        // (documentation), so refused for the client.
        assert!(!public("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
        // Public server 65.54.227.120, client 10.0.0.1 (!0xf5fffffe).
        assert!(!public("2001:0:4136:e378::f5ff:fffe"));
        // Server 127.0.0.1, client 8.8.8.8 (!0xf7f7f7f7).
        assert!(!public("2001:0:7f00:1::f7f7:f7f7"));
        // Server 65.54.227.120, client 8.8.8.8: both public.
        assert!(public("2001:0:4136:e378::f7f7:f7f7"));
    }

    #[test]
    fn checks_the_ipv4_in_nat64() {
        for a in [
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::",
        ] {
            assert!(!public(a), "{a}");
        }
        assert!(public("64:ff9b::808:808"), "NAT64 of 8.8.8.8");
    }

    #[test]
    fn checks_the_ipv4_in_siit_translated() {
        // ::ffff:0:a.b.c.d (RFC 2765), besides IPv4-mapped ::ffff:a.b.c.d.
        for a in [
            "::ffff:0:7f00:1",
            "::ffff:0:a00:1",
            "::ffff:0:a9fe:a9fe",
            "::ffff:0:0:0",
        ] {
            assert!(!public(a), "{a}");
        }
        assert!(public("::ffff:0:808:808"), "SIIT of 8.8.8.8");
        assert!(!public("::ffff:a9fe:a9fe"), "IPv4-mapped metadata address");
        assert!(public("::ffff:8.8.8.8"), "IPv4-mapped 8.8.8.8");
    }

    #[test]
    fn refuses_other_special_ipv6_ranges() {
        for a in [
            "100::1",
            "2001:2::1",
            "2001:db8::1",
            "3fff::1",
            "3fff:fff::1",
            "::a00:1",
            "ff02::1",
        ] {
            assert!(!public(a), "{a}");
        }
        for a in ["3fff:1000::1", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e"] {
            assert!(public(a), "{a}");
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
