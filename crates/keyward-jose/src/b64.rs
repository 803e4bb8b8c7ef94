use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// base64url without padding, as JOSE uses everywhere (RFC 7515 §2).
pub fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: padding or characters of the other alphabet are rejected, so one
/// token has exactly one encoding.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
