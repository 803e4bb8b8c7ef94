use base64::{engine::general_purpose::STANDARD, Engine};
use zeroize::Zeroizing;

use crate::AuthFailure;

/// Decodes `Authorization: Basic …` per RFC 6749 §2.3.1: base64 of
/// `urlencode(client_id) ":" urlencode(client_secret)`. Both halves are form-urlencoded before
/// encoding, so `+` is a space and `%XX` a byte; anything else malformed is refused rather
/// than passed through.
pub(crate) fn decode_basic(header: &str) -> Result<(String, Zeroizing<String>), AuthFailure> {
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AuthFailure::UnsupportedScheme);
    }
    let raw = Zeroizing::new(
        STANDARD
            .decode(rest.trim_matches(' '))
            .map_err(|_| AuthFailure::BasicBadBase64)?,
    );
    let colon = raw
        .iter()
        .position(|&b| b == b':')
        .ok_or(AuthFailure::BasicNoColon)?;
    let (id, secret) = raw.split_at(colon);
    let secret = secret.get(1..).unwrap_or_default();
    let id = String::from_utf8(form_unescape(id)?).map_err(|_| AuthFailure::BasicNotUtf8)?;
    let secret = Zeroizing::new(form_unescape(secret)?);
    let secret = std::str::from_utf8(&secret).map_err(|_| AuthFailure::BasicNotUtf8)?;
    Ok((id, Zeroizing::new(secret.to_owned())))
}

/// Strict `application/x-www-form-urlencoded` unescaping of one value.
fn form_unescape(input: &[u8]) -> Result<Vec<u8>, AuthFailure> {
    let mut out = Vec::with_capacity(input.len());
    let mut bytes = input.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(|h| hex(*h));
                let lo = bytes.next().and_then(|l| hex(*l));
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(AuthFailure::BasicBadEncoding),
                }
            }
            _ => out.push(b),
        }
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &[u8]) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn decodes_form_urlencoded_halves() {
        let (id, secret) = decode_basic(&basic(b"my%3Aclient:p%40ss+word%25")).unwrap_or_default();
        assert_eq!(id, "my:client");
        assert_eq!(secret.as_str(), "p@ss word%");
    }

    #[test]
    fn secret_may_contain_colons() {
        let (_, secret) = decode_basic(&basic(b"a:b:c")).unwrap_or_default();
        assert_eq!(secret.as_str(), "b:c");
    }

    #[test]
    fn rejects_each_malformation() {
        assert_eq!(decode_basic("Basic !!!").err(), Some(AuthFailure::BasicBadBase64));
        assert_eq!(
            decode_basic(&basic(b"nocolon")).err(),
            Some(AuthFailure::BasicNoColon)
        );
        assert_eq!(
            decode_basic(&basic(b"a%zz:b")).err(),
            Some(AuthFailure::BasicBadEncoding)
        );
        assert_eq!(
            decode_basic(&basic(b"a:b%4")).err(),
            Some(AuthFailure::BasicBadEncoding)
        );
        assert_eq!(
            decode_basic(&basic(b"a%ff:b")).err(),
            Some(AuthFailure::BasicNotUtf8)
        );
        assert_eq!(
            decode_basic(&basic(b"a:\xff")).err(),
            Some(AuthFailure::BasicNotUtf8)
        );
        assert_eq!(
            decode_basic("Bearer abc").err(),
            Some(AuthFailure::UnsupportedScheme)
        );
    }
}
