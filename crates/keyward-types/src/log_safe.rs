//! Untrusted text in log lines and error messages.
//!
//! Anything a peer sent (an unverified `sub`, a `client_id`, a `kid`, a `jti`, a URL) can be as
//! long as the request allows: logged whole, one 60 KiB token request becomes a 60 KiB log
//! line, and a flood of them fills the disk or drowns the lines that matter. Raw control
//! characters forge extra lines in a text log, and bidirectional overrides make a line read
//! differently than it is. [`Untrusted`] shows such a value bounded and inert.

use std::fmt::{self, Write};

/// Characters of an untrusted value shown before it is cut.
pub const LOG_VALUE_MAX_CHARS: usize = 64;

/// Displays at most [`LOG_VALUE_MAX_CHARS`] characters of an untrusted string, then `…` if
/// there was more; control and invisible formatting characters are escaped (`\n`, `\u{202e}`).
/// Use it for every value from outside that reaches a log line:
/// `tracing::info!(client_id = %Untrusted(claimed), "…")`.
#[derive(Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl Untrusted<'_> {
    /// The displayed form as an owned string (for an error message that repeats the value).
    pub fn shown(&self) -> String {
        self.to_string()
    }
}

/// Zero-width and bidirectional formatting characters (Unicode category Cf that matter in
/// text): they do not show, or reorder what follows, so a reader sees something else.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(LOG_VALUE_MAX_CHARS) {
            if c.is_control() || is_invisible_format(c) {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// The same bounded form, so `?value` in a log macro is as safe as `%value`.
impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(Untrusted("svc-a").to_string(), "svc-a");
        assert_eq!(Untrusted("").to_string(), "");
        let exact = "a".repeat(LOG_VALUE_MAX_CHARS);
        assert_eq!(Untrusted(&exact).to_string(), exact);
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        let long = "x".repeat(47 * 1024);
        let shown = Untrusted(&long).to_string();
        assert_eq!(shown, format!("{}…", "x".repeat(LOG_VALUE_MAX_CHARS)));
    }

    #[test]
    fn cuts_on_characters_not_bytes() {
        let long = "é".repeat(100);
        let shown = Untrusted(&long).to_string();
        assert_eq!(shown.chars().count(), LOG_VALUE_MAX_CHARS + 1);
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(
            Untrusted("a\nlevel=ERROR forged").to_string(),
            "a\\nlevel=ERROR forged"
        );
        assert_eq!(Untrusted("a\u{1b}[31m").to_string(), "a\\u{1b}[31m");
        assert_eq!(
            Untrusted("evil\u{202e}gnp.exe").to_string(),
            "evil\\u{202e}gnp.exe"
        );
        assert_eq!(
            format!("{:?}", Untrusted(&"y".repeat(100))),
            format!("{}…", "y".repeat(64))
        );
    }
}
