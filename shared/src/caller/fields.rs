//! The caller's parameters, from a JSON object or an HTML form (the web tutorials post
//! forms), with limits on size and content type enforced before anything else, and the
//! request-id lookups every endpoint but `/request` shares.

use serde_json::Value;

use crate::error::ProxyError;
use crate::verify::RequestId;

/// Both spellings the Node proxy's clients use.
pub const REQUEST_ID: &[&str] = &["request_id", "requestId"];
pub const REQUEST_IDS: &[&str] = &["request_ids", "requestIds"];
pub const MAX_SEARCH_IDS: usize = 10;

#[derive(Debug, Default, Clone)]
pub struct Fields {
    pairs: Vec<(String, String)>,
    /// Fields that came as JSON numbers: `4.477e11`, or `123` for the code `0123`, are not what
    /// the caller typed, so a phone number or a code sent that way is refused.
    numeric: Vec<String>,
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub fn media(content_type: Option<&str>) -> Option<String> {
    content_type
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
}

/// `application/json` or `application/*+json`: types a browser sends cross-origin only after
/// a CORS preflight.
pub fn is_json_media(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

impl Fields {
    /// Parses `body` by `content_type` (sniffed when absent); everything else is a 415.
    pub fn parse(
        content_type: Option<&str>,
        body: &[u8],
        max_bytes: usize,
    ) -> Result<Self, ProxyError> {
        if body.len() > max_bytes {
            return Err(ProxyError::PayloadTooLarge(max_bytes));
        }
        let is_json = match media(content_type).as_deref() {
            Some(m) if is_json_media(m) => true,
            Some("application/x-www-form-urlencoded") => false,
            Some(other) => return Err(ProxyError::UnsupportedMediaType(other.to_string())),
            None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        if is_json {
            Self::from_json(body)
        } else {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|_| ProxyError::MalformedBody("form data"))?;
            Ok(Self {
                pairs,
                numeric: Vec::new(),
            })
        }
    }

    fn from_json(body: &[u8]) -> Result<Self, ProxyError> {
        let Value::Object(map) =
            serde_json::from_slice(body).map_err(|_| ProxyError::MalformedBody("JSON"))?
        else {
            return Err(ProxyError::MalformedBody("JSON: expected an object"));
        };
        // Scalars and arrays of scalars are fields; anything nested is not ours and is
        // ignored, like unknown fields (a known field sent as an object reads as missing).
        let mut pairs = Vec::new();
        let mut numeric = Vec::new();
        for (k, v) in map {
            if v.is_number() {
                numeric.push(k.clone());
            }
            match v {
                Value::Array(items) => {
                    pairs.extend(items.into_iter().filter_map(scalar).map(|s| (k.clone(), s)))
                }
                other => pairs.extend(scalar(other).map(|s| (k, s))),
            }
        }
        Ok(Self { pairs, numeric })
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self {
            pairs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            numeric: Vec::new(),
        }
    }

    /// The first non-empty value under any of `names` (e.g. `request_id` or `requestId`).
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| names.contains(&k.as_str()) && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Every non-empty value under any of `names`.
    pub fn all(&self, names: &[&str]) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| names.contains(&k.as_str()) && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }
}

impl Fields {
    /// A mandatory text field; a JSON number is refused (it may not be what was typed).
    pub fn required(&self, name: &'static str) -> Result<&str, ProxyError> {
        if self.numeric.iter().any(|k| k == name) {
            return Err(ProxyError::invalid(
                name,
                "send it as a JSON string: as a number it can lose digits or leading zeros",
            ));
        }
        self.get(&[name]).ok_or(ProxyError::Missing(name))
    }

    /// The request id of a check/cancel/control call, under `request_id` or `requestId`.
    pub fn request_id(&self) -> Result<RequestId, ProxyError> {
        RequestId::parse(
            self.get(REQUEST_ID)
                .ok_or(ProxyError::Missing("request_id"))?,
        )
    }

    /// Search ids: `request_id`, or 1 to 10 `request_ids` (a JSON array, repeated form fields
    /// or a comma-separated string).
    pub fn search_ids(&self) -> Result<Vec<RequestId>, ProxyError> {
        if let Some(one) = self.get(REQUEST_ID) {
            return Ok(vec![RequestId::parse(one)?]);
        }
        let ids: Vec<&str> = self
            .all(REQUEST_IDS)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if ids.is_empty() {
            return Err(ProxyError::Missing("request_id"));
        }
        if ids.len() > MAX_SEARCH_IDS {
            return Err(ProxyError::TooManyIds);
        }
        ids.into_iter().map(RequestId::parse).collect()
    }
}

fn scalar(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_form_give_the_same_fields() {
        let j = Fields::parse(
            Some("application/json; charset=utf-8"),
            br#"{"requestId":"ab","code":"1234"}"#,
            1024,
        )
        .unwrap();
        let f = Fields::parse(
            Some("application/x-www-form-urlencoded"),
            b"requestId=ab&code=1234",
            1024,
        )
        .unwrap();
        for fields in [j, f] {
            assert_eq!(fields.get(&["request_id", "requestId"]), Some("ab"));
            assert_eq!(fields.get(&["code"]), Some("1234"));
        }
    }

    #[test]
    fn json_numbers_are_refused_where_digits_matter() {
        let f = Fields::parse(
            Some("application/json"),
            br#"{"number":4.477e11,"code":123,"pin_expiry":300}"#,
            1024,
        )
        .unwrap();
        assert!(matches!(
            f.required("number"),
            Err(ProxyError::Invalid {
                param: "number",
                ..
            })
        ));
        assert!(matches!(
            f.required("code"),
            Err(ProxyError::Invalid { param: "code", .. })
        ));
        // Numeric options are numbers by nature.
        assert_eq!(f.get(&["pin_expiry"]), Some("300"));
    }

    #[test]
    fn limits_and_types() {
        assert!(matches!(
            Fields::parse(Some("text/plain"), b"x", 10),
            Err(ProxyError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            Fields::parse(None, &[b'a'; 11], 10),
            Err(ProxyError::PayloadTooLarge(10))
        ));
        assert!(matches!(
            Fields::parse(Some("application/json"), b"[1,2]", 10),
            Err(ProxyError::MalformedBody(_))
        ));
        assert!(matches!(
            Fields::parse(Some("application/json"), b"{\"a\":", 10),
            Err(ProxyError::MalformedBody(_))
        ));
        let nested = Fields::parse(
            Some("application/json"),
            br#"{"a":{"b":1},"n":[[1]],"c":"2"}"#,
            100,
        )
        .unwrap();
        assert_eq!(
            (nested.get(&["a"]), nested.get(&["n"]), nested.get(&["c"])),
            (None, None, Some("2"))
        );
        assert!(Fields::parse(None, b"", 10).unwrap().get(&["a"]).is_none());
        assert_eq!(
            Fields::parse(None, b" {\"a\":\"1\"}", 100)
                .unwrap()
                .get(&["a"]),
            Some("1")
        );
        assert_eq!(
            Fields::parse(None, b"a=1", 100).unwrap().get(&["a"]),
            Some("1")
        );
    }

    #[test]
    fn search_id_rules() {
        let id = "abcdef0123456789abcdef0123456789";
        let many: Vec<(&str, &str)> = (0..11).map(|_| ("request_ids", id)).collect();
        assert!(matches!(
            Fields::from_pairs(&many).search_ids(),
            Err(ProxyError::TooManyIds)
        ));
        assert_eq!(
            Fields::from_pairs(&many[..10]).search_ids().unwrap().len(),
            10
        );
        let csv = format!("{id},{id}");
        assert_eq!(
            Fields::from_pairs(&[("requestIds", &csv)])
                .search_ids()
                .unwrap()
                .len(),
            2
        );
        let one = Fields::from_pairs(&[("requestId", id), ("request_ids", "x")])
            .search_ids()
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].as_str(), id);
        assert!(matches!(
            Fields::default().search_ids(),
            Err(ProxyError::Missing(_))
        ));
        assert!(matches!(
            Fields::from_pairs(&[("code", "1234")]).request_id(),
            Err(ProxyError::Missing("request_id"))
        ));
    }

    #[test]
    fn arrays_and_repeats() {
        let j = Fields::parse(
            Some("application/json"),
            br#"{"request_ids":["a","b"]}"#,
            100,
        )
        .unwrap();
        assert_eq!(j.all(&["request_ids"]), vec!["a", "b"]);
        let f = Fields::parse(
            Some("application/x-www-form-urlencoded"),
            b"request_ids=a&request_ids=b",
            100,
        )
        .unwrap();
        assert_eq!(f.all(&["request_ids"]), vec!["a", "b"]);
    }
}
