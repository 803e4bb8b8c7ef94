//! What a form field's text becomes: trimmed text or nothing, a patch member or `null` (the
//! default), a whole number of seconds or a problem naming the field. One reading for every
//! console form, so an empty field means the same everywhere.

use std::str::FromStr;

use serde_json::Value;

use super::problem::Problem;

/// The text trimmed, or `None` when nothing was typed.
pub(crate) fn typed(v: &str) -> Option<String> {
    Some(v.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// A patch member: the text trimmed, or `null` (the default) when empty.
pub(crate) fn text_or_null(v: &str) -> Value {
    typed(v).map_or(Value::Null, Value::String)
}

/// A whole number of seconds typed into `field` (as a `T`), `null` when empty.
pub(crate) fn seconds_or_null<T>(field: &str, v: &str) -> Result<Value, Problem>
where
    T: FromStr + Into<Value>,
{
    match v.trim() {
        "" => Ok(Value::Null),
        t => t
            .parse::<T>()
            .map(Into::into)
            .map_err(|_| Problem::field(field, "Enter a whole number of seconds.")),
    }
}
