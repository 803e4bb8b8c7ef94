//! The rules a user's fields must pass, each refusal naming its field.

use crate::{AdminError, ROLES};

const MAX_USERNAME_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 200;
const MAX_EMAIL_CHARS: usize = 254;

pub(crate) fn check_username(username: &str) -> Result<(), AdminError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
    let chars = username.chars().count();
    if chars == 0 || chars > MAX_USERNAME_CHARS || !username.chars().all(allowed) {
        return Err(AdminError::user_field(
            "username",
            "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '@' and '-'",
        ));
    }
    Ok(())
}

pub(crate) fn check_name(name: Option<&str>) -> Result<(), AdminError> {
    match name {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            Err(AdminError::user_field("name", "must be at most 200 characters"))
        }
        _ => Ok(()),
    }
}

pub(crate) fn check_email(email: Option<&str>) -> Result<(), AdminError> {
    match email {
        Some(e) if e.matches('@').count() != 1 || e.chars().count() > MAX_EMAIL_CHARS => Err(
            AdminError::user_field("email", "must contain exactly one '@' and at most 254 characters"),
        ),
        _ => Ok(()),
    }
}

/// The roles, each known, sorted and without repeats.
pub(crate) fn checked_roles(roles: Vec<String>) -> Result<Vec<String>, AdminError> {
    if let Some(unknown) = roles.iter().find(|r| !ROLES.contains(&r.as_str())) {
        let shown = keyward_types::Untrusted(unknown.as_str()).shown();
        return Err(AdminError::user_field(
            "roles",
            format!("unknown role '{shown}'; known roles: admin"),
        ));
    }
    let mut roles = roles;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn username_is_1_to_64_of_the_allowed_characters() {
        for ok in ["a", "Alice.Smith_2@example-corp", &"x".repeat(64)] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a/b", "a:b", "é", "a\u{0}"] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_has_exactly_one_at_sign() {
        assert!(check_email(None).is_ok());
        assert!(check_email(Some("a@b")).is_ok());
        for bad in ["ab", "a@@b", "a@b@c"] {
            assert!(check_email(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_is_at_most_200_characters() {
        assert!(check_name(Some(&"é".repeat(200))).is_ok());
        assert!(check_name(Some(&"é".repeat(201))).is_err());
    }

    #[test]
    fn roles_are_known_sorted_and_unique() {
        let roles = checked_roles(vec!["admin".into(), "admin".into()]).unwrap();
        assert_eq!(roles, ["admin"]);
        assert!(checked_roles(vec!["root".into()]).is_err());
    }
}
