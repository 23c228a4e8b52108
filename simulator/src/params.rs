//! Verify accepts parameters in the query string, a form body or a JSON body, and the
//! credentials in any of them or in a Basic auth header. This flattens all of that into one
//! ordered list of (name, value) pairs; the first occurrence of a name wins, as on the real API.

use serde_json::Value;

#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// The body claims to be JSON but is not a JSON object.
    BadJson,
}

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    pub fn parse_query(query: &str) -> Self {
        Self::from_pairs(serde_urlencoded::from_str(query).unwrap_or_default())
    }

    /// Parses a body by its content type; anything that is not JSON is read as a form.
    pub fn parse_body(content_type: &str, body: &[u8]) -> Result<Self, ParamsError> {
        if body.is_empty() {
            return Ok(Self::default());
        }
        if content_type.to_ascii_lowercase().contains("json") {
            let value: Value = serde_json::from_slice(body).map_err(|_| ParamsError::BadJson)?;
            let Value::Object(map) = value else {
                return Err(ParamsError::BadJson);
            };
            let mut pairs = Vec::new();
            for (k, v) in map {
                match v {
                    Value::Array(items) => {
                        pairs.extend(items.into_iter().map(|item| (k.clone(), scalar(item))))
                    }
                    other => pairs.push((k, scalar(other))),
                }
            }
            Ok(Self { pairs })
        } else {
            Ok(Self::from_pairs(
                serde_urlencoded::from_bytes(body).unwrap_or_default(),
            ))
        }
    }

    pub fn extend(&mut self, other: Params) {
        self.pairs.extend(other.pairs);
    }

    pub fn push(&mut self, name: &str, value: String) {
        self.pairs.push((name.to_string(), value));
    }

    /// The first value of `name`; empty strings count as missing, as on the real API.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

fn scalar(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_and_arrays_flatten() {
        let p = Params::parse_body(
            "application/json",
            br#"{"code_length":6,"request_ids":["a","b"],"brand":"X"}"#,
        )
        .unwrap();
        assert_eq!(p.get("code_length"), Some("6"));
        assert_eq!(p.all("request_ids"), vec!["a", "b"]);
        assert_eq!(p.get("brand"), Some("X"));
    }

    #[test]
    fn form_first_wins_and_empty_is_missing() {
        let p = Params::parse_body("", b"request_id=a&request_id=b&api_key=").unwrap();
        assert_eq!(p.get("request_id"), Some("a"));
        assert_eq!(p.get("api_key"), None);
    }

    #[test]
    fn bad_json_is_an_error() {
        assert_eq!(
            Params::parse_body("application/json", b"[1]").unwrap_err(),
            ParamsError::BadJson
        );
        assert!(Params::parse_body("application/json", b"{").is_err());
    }
}
