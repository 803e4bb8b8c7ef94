//! The audit log's read side: the filters `GET /admin/audit` takes, as an admin typed them, made
//! into a typed [`AuditQuery`] or refused with a message that names the parameter; and the
//! opaque cursor that pages through the log.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use keyward_storage::{ActionFilter, AuditQuery};
use keyward_types::ClientId;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{AdminError, PAGE_SIZES};

/// The audit filters as received; every member optional, every value still text.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Events about this client (their `target`).
    pub client_id: Option<String>,
    /// Events made by this caller (an admin client's id, `anonymous`, `keyward-cli`, …).
    pub actor: Option<String>,
    /// An action (`client.update`), or, ending in `.`, every action under it (`client.`).
    pub action: Option<String>,
    /// RFC 3339; events at or after it.
    pub since: Option<String>,
    /// RFC 3339; events before it.
    pub until: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `next_before` of the previous page (the id form of the cursor, kept for older callers).
    pub before: Option<String>,
}

/// Longest action name or prefix a filter may name; actions are short dotted words.
const MAX_ACTION_LEN: usize = 64;
/// What a cursor says before the id: a cursor from a later format is refused, never misread.
const CURSOR_PREFIX: &str = "a1.";

impl AuditFilter {
    /// The typed query, or `invalid_request` naming the first bad parameter.
    pub(crate) fn parse(&self) -> Result<AuditQuery, AdminError> {
        let limit = match &self.limit {
            None => crate::DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| PAGE_SIZES.contains(n))
                .ok_or_else(|| bad("limit must be a whole number between 1 and 500"))?,
        };
        let before = match (&self.cursor, &self.before) {
            (Some(_), Some(_)) => return Err(bad("send cursor or before, not both")),
            (Some(c), None) => Some(decode_cursor(c)?),
            (None, Some(b)) => Some(
                b.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("before must be a positive event id"))?,
            ),
            (None, None) => None,
        };
        let target = self
            .client_id
            .as_deref()
            .map(|raw| {
                ClientId::parse(raw)
                    .map(|id| id.to_string())
                    .map_err(|_| bad("client_id is not a valid client id"))
            })
            .transpose()?;
        let actor = match self.actor.as_deref() {
            Some(a) if a.is_empty() || a.len() > 255 => return Err(bad("actor must be 1 to 255 characters")),
            other => other.map(str::to_owned),
        };
        let action = self.action.as_deref().map(action_filter).transpose()?;
        let since = self.since.as_deref().map(|s| instant("since", s)).transpose()?;
        let until = self.until.as_deref().map(|s| instant("until", s)).transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(bad("since must not be after until"));
            }
        }
        Ok(AuditQuery {
            target,
            actor,
            action,
            since,
            until,
            before,
            limit,
        })
    }
}

fn bad(message: &'static str) -> AdminError {
    AdminError::InvalidRequest(message.into())
}

/// `client.update` → exact; `client.` → every action under `client.`. Lower-case letters,
/// digits, `.` and `_` only, so a filter can never be read as a pattern.
fn action_filter(raw: &str) -> Result<ActionFilter, AdminError> {
    let well_formed = !raw.is_empty()
        && raw.len() <= MAX_ACTION_LEN
        && !raw.starts_with('.')
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_');
    if !well_formed {
        return Err(bad(
            "action must be an action name such as client.update, or a prefix ending in '.' such as client.",
        ));
    }
    Ok(if raw.ends_with('.') {
        ActionFilter::Prefix(raw.to_owned())
    } else {
        ActionFilter::Exact(raw.to_owned())
    })
}

fn instant(name: &'static str, raw: &str) -> Result<OffsetDateTime, AdminError> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        AdminError::InvalidRequest(
            format!("{name} must be an RFC 3339 time such as 2026-01-31T12:00:00Z").into(),
        )
    })
}

/// The cursor that continues below event `id`. Opaque to callers: they pass back what they got.
pub(crate) fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

fn decode_cursor(raw: &str) -> Result<i64, AdminError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix(CURSOR_PREFIX)
                .and_then(|n| n.parse::<i64>().ok())
        })
        .filter(|n| *n > 0)
        .ok_or_else(|| bad("cursor is not one this server gave out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert!(decode_cursor("42").is_err());
    }

    #[test]
    fn action_prefix_needs_a_trailing_dot() {
        assert_eq!(
            action_filter("client.").unwrap(),
            ActionFilter::Prefix("client.".into())
        );
        assert_eq!(
            action_filter("client.update").unwrap(),
            ActionFilter::Exact("client.update".into())
        );
        assert!(action_filter("client%").is_err());
        assert!(action_filter("").is_err());
    }
}
