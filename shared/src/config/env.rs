//! The one place the process environment is read. Every setting in `shared/` and `local/` is
//! asked for through [`Env`], so each is trimmed the same way, an empty value means unset, a
//! bad value names its variable, and every reader can be tested with a map.

use std::collections::BTreeMap;
use std::str::FromStr;

use thiserror::Error;

/// A setting that stops the instance: which variable, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name} is invalid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// A snapshot of the environment (or of a test's map).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The process environment, read once.
    pub fn process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// A test's environment.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self {
            vars: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// This environment with one more variable (tests).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The trimmed value; empty counts as unset (as CloudFormation leaves an unset parameter).
    pub fn plain(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.plain(name).is_some()
    }

    /// `1/true/yes/on` or `0/false/no/off` (any case); unset is `false`.
    pub fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.plain(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(false),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(_) => Err(ConfigError::new(name, "use true or false")),
        }
    }

    /// Comma-separated, each item trimmed, empty items dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.plain(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Parsed with `FromStr`; a value that does not parse is an error saying `expected`.
    pub fn parsed<T: FromStr>(
        &self,
        name: &'static str,
        expected: &str,
    ) -> Result<Option<T>, ConfigError> {
        match self.plain(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ConfigError::new(name, expected)),
        }
    }

    /// A whole number in `range` (both ends included).
    pub fn number_in(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<u64>,
        unit: &str,
    ) -> Result<Option<u64>, ConfigError> {
        let expected = format!("must be {}..{} {unit}", range.start(), range.end());
        match self.parsed::<u64>(name, &expected)? {
            Some(n) if !range.contains(&n) => Err(ConfigError::new(name, expected)),
            n => Ok(n),
        }
    }

    /// One of the named values; unset is `None`.
    pub fn choice<T: Copy>(
        &self,
        name: &'static str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, ConfigError> {
        let Some(v) = self.plain(name) else {
            return Ok(None);
        };
        match choices.iter().find(|(k, _)| *k == v) {
            Some((_, t)) => Ok(Some(*t)),
            None => {
                let names: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
                Err(ConfigError::new(name, format!("use {}", or_list(&names))))
            }
        }
    }

    /// Set by the Lambda runtime: the fail-closed start-up rules apply.
    pub fn in_lambda(&self) -> bool {
        self.is_set("AWS_LAMBDA_FUNCTION_NAME")
    }
}

/// `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_empty_is_unset() {
        let env = Env::from_pairs(&[("A", "  x "), ("B", "   "), ("L", " a, ,b ,")]);
        assert_eq!(env.plain("A").as_deref(), Some("x"));
        assert_eq!(env.plain("B"), None);
        assert_eq!(env.plain("C"), None);
        assert_eq!(env.list("L"), vec!["a", "b"]);
        assert!(env.list("C").is_empty());
    }

    #[test]
    fn flags_choices_and_numbers_name_the_variable() {
        let env = Env::from_pairs(&[("F", "Yes"), ("G", "maybe"), ("M", "v3"), ("N", "abc")]);
        assert!(env.flag("F").unwrap());
        assert!(!env.flag("UNSET").unwrap());
        assert_eq!(env.flag("G").unwrap_err().name, "G");
        let e = env.choice("M", &[("v1", 1), ("v2", 2)]).unwrap_err();
        assert_eq!(e.to_string(), "M is invalid: use v1 or v2");
        assert_eq!(env.choice("UNSET", &[("v1", 1)]).unwrap(), None);
        assert!(env.parsed::<u64>("N", "a number").is_err());
        assert_eq!(
            env.with("N", "7").number_in("N", 1..=9, "s").unwrap(),
            Some(7)
        );
        let e = Env::from_pairs(&[("N", "10")])
            .number_in("N", 1..=9, "seconds")
            .unwrap_err();
        assert_eq!(e.reason, "must be 1..9 seconds");
    }
}
