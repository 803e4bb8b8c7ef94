//! One guarded GET of a JWKS document: no redirects, connect and total timeouts, a body cap
//! enforced while reading (a server cannot make us buffer more by lying about its length).

use std::sync::Arc;

use crate::{guard::GuardedResolver, FetchConfig, FetchError};

pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    /// `Cache-Control: max-age`, when present and parseable.
    pub(crate) max_age: Option<i64>,
}

pub(crate) fn client(config: &FetchConfig) -> Result<reqwest::Client, FetchError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|_| FetchError::Connect)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.total_timeout)
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: config.allow_private_networks,
        }))
        .no_proxy()
        .user_agent("keyward-jwks-fetch")
        .build()
        .map_err(|_| FetchError::Connect)
}

pub(crate) async fn get(
    client: &reqwest::Client,
    url: url::Url,
    config: &FetchConfig,
) -> Result<Fetched, FetchError> {
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            return FetchError::Timeout;
        }
        // The guarded resolver refused every address: say so, not "connect failed".
        match crate::guard::refused_host(&e) {
            Some(host) => FetchError::PrivateAddress(host.to_owned()),
            None => FetchError::Connect,
        }
    };
    let mut resp = client
        .get(url)
        .header(
            reqwest::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .send()
        .await
        .map_err(classify)?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(FetchError::Redirect);
    }
    if !status.is_success() {
        return Err(FetchError::Status(status.as_u16()));
    }
    let cap = config.max_body_bytes;
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(FetchError::TooLarge(cap));
    }
    let max_age = resp
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_max_age);
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > cap {
            return Err(FetchError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// `max-age=N` from a Cache-Control value; `no-store`/`no-cache` count as 0 (then clamped to
/// the minimum TTL: a client cannot make us fetch on every request).
pub(crate) fn parse_max_age(value: &str) -> Option<i64> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            age = n.trim_matches('"').parse::<i64>().ok();
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resolver's refusal reaches the caller as its own error, with the host it refused,
    /// through the HTTP client's error chain.
    #[tokio::test]
    async fn a_name_with_only_refused_addresses_is_a_private_address() {
        let config = FetchConfig::default();
        let Ok(client) = client(&config) else {
            panic!("no HTTP client");
        };
        let Ok(url) = url::Url::parse("http://localhost:1/jwks") else {
            panic!("bad URL");
        };
        let r = get(&client, url, &config).await.err();
        assert_eq!(r, Some(FetchError::PrivateAddress("localhost".into())));
    }

    #[test]
    fn reads_max_age() {
        assert_eq!(parse_max_age("public, max-age=600"), Some(600));
        assert_eq!(parse_max_age("no-store"), Some(0));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }
}
