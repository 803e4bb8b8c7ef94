//! Reading one JSON object of a config: every value read is taken out, so what is left at the
//! end are unknown keys (a warning, not an error: adapter files carry many settings a token
//! client has no use for). String values go through `${env.NAME}` substitution, so passwords
//! need not be written in the file.

use serde_json::{Map, Value};

use crate::ConfigError;

/// Looks up an environment variable (the process environment, or a map in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(crate) struct Fields<'e> {
    /// The dotted path of this object (`credentials.jwt.`), to name keys in errors.
    prefix: String,
    map: Map<String, Value>,
    env: Env<'e>,
}

impl<'e> Fields<'e> {
    pub(crate) fn new(prefix: &str, value: Value, env: Env<'e>) -> Result<Self, ConfigError> {
        match value {
            Value::Object(map) => Ok(Self {
                prefix: prefix.to_owned(),
                map,
                env,
            }),
            _ => Err(ConfigError::WrongType {
                key: prefix.trim_end_matches('.').to_owned(),
                expected: "an object",
            }),
        }
    }

    pub(crate) fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => substitute(&self.key(key), &s, self.env).map(Some),
            Some(_) => Err(ConfigError::WrongType {
                key: self.key(key),
                expected: "a string",
            }),
        }
    }

    pub(crate) fn required(&mut self, key: &str) -> Result<String, ConfigError> {
        self.string(key)?
            .ok_or_else(|| ConfigError::MissingKey(self.key(key)))
    }

    /// A whole number, written as a number or (after substitution) as a string.
    pub(crate) fn integer(&mut self, key: &str) -> Result<Option<i64>, ConfigError> {
        let name = self.key(key);
        let wrong = || ConfigError::WrongType {
            key: name.clone(),
            expected: "a whole number",
        };
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(wrong),
            Some(Value::String(s)) => substitute(&name, &s, self.env)?
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    pub(crate) fn object(&mut self, key: &str) -> Result<Option<Fields<'e>>, ConfigError> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => Fields::new(&format!("{}.", self.key(key)), v, self.env).map(Some),
        }
    }

    /// Warns about every key nobody read; `ignored` are known settings of the format that a
    /// token client does not use, dropped silently.
    pub(crate) fn finish(self, ignored: &[&str]) {
        for key in self.map.keys() {
            if !ignored.contains(&key.as_str()) {
                tracing::warn!(key = %format!("{}{key}", self.prefix), "unknown client config key ignored");
            }
        }
    }
}

/// Replaces every `${env.NAME}` in `value` by that variable's value; an unset variable is an
/// error naming both the key and the variable, never an empty password.
pub(crate) fn substitute(key: &str, value: &str, env: Env<'_>) -> Result<String, ConfigError> {
    const OPEN: &str = "${env.";
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let after = after.get(OPEN.len()..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            return Err(ConfigError::InvalidValue {
                key: key.to_owned(),
                message: "`${env.` without a closing `}`".into(),
            });
        };
        let name = after.get(..end).unwrap_or_default();
        let found = env(name).ok_or_else(|| ConfigError::MissingEnv {
            key: key.to_owned(),
            name: name.to_owned(),
        })?;
        out.push_str(&found);
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}
