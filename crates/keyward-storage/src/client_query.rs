//! Which clients a list asks for: a keyset page in `client_id` order, optionally only the
//! clients whose id or name contains a search string.

use keyward_types::ClientId;

/// A page of clients: those after `after` in `client_id` order, at most `limit`, and, with
/// `search`, only those whose `client_id` or `client_name` contains it, ignoring case
/// (characters are matched literally: `%`, `_` and `\` are not wildcards).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientQuery {
    pub after: Option<ClientId>,
    pub limit: u32,
    pub search: Option<String>,
}

impl ClientQuery {
    /// The first `limit` clients, unfiltered.
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit,
            search: None,
        }
    }

    /// `search` as a SQL `LIKE` pattern that matches it as a substring, with `\` as the escape
    /// character (to be used with `ESCAPE '\'`); `None` when there is no search, or it is empty.
    pub fn like_pattern(&self) -> Option<String> {
        let search = self.search.as_deref().filter(|s| !s.is_empty())?;
        let mut pattern = String::with_capacity(search.len() + 2);
        pattern.push('%');
        for c in search.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Some(pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::ClientQuery;

    fn pattern(search: &str) -> Option<String> {
        ClientQuery {
            search: Some(search.into()),
            ..ClientQuery::first(10)
        }
        .like_pattern()
    }

    #[test]
    fn escapes_like_wildcards_and_the_escape_character() {
        assert_eq!(pattern("a%b_c\\d").as_deref(), Some("%a\\%b\\_c\\\\d%"));
        assert_eq!(pattern("plain").as_deref(), Some("%plain%"));
    }

    #[test]
    fn empty_search_matches_everything() {
        assert_eq!(pattern(""), None);
        assert_eq!(ClientQuery::first(1).like_pattern(), None);
    }
}
