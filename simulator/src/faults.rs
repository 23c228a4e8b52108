//! Fault injection per path, so a proxy's handling of a slow, failing, garbled, dropped or
//! throttled upstream can be tested against the same simulator.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The path it applies to, e.g. `/verify/json`, or `*` for every Verify path.
    pub path: String,
    /// Delay before answering (applied before any other effect).
    #[serde(default)]
    pub latency_ms: u64,
    /// Answer with this HTTP status (e.g. 500, 503) and a non-JSON body.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Answer HTTP 200 `application/json` with a truncated, unparseable body.
    #[serde(default)]
    pub malformed: bool,
    /// Send headers, then drop the connection mid-body.
    #[serde(default)]
    pub drop: bool,
    /// Answer `{"status":"1","error_text":"Throttled"}` (shorthand for `status: "1"`).
    #[serde(default)]
    pub throttle: bool,
    /// Answer this Verify status (e.g. "5", "7", "9", "15", "29") with its standard text.
    #[serde(default)]
    pub status: Option<String>,
    /// Answer HTTP 200 with exactly this JSON (any shape, e.g. `{"status":"0"}` with no
    /// `request_id`, or an `error_text` carrying internals): for testing what callers get.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// How many requests it applies to; unlimited when absent.
    #[serde(default)]
    pub times: Option<u32>,
}

#[derive(Debug, Default)]
pub struct Faults {
    list: Vec<Fault>,
}

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        self.list.push(fault);
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.list.clone()
    }

    /// Takes the first fault matching `path`, consuming one of its `times`.
    pub fn take(&mut self, path: &str) -> Option<Fault> {
        let idx = self
            .list
            .iter()
            .position(|f| f.path == path || f.path == "*")?;
        let fault = self.list[idx].clone();
        if let Some(times) = self.list[idx].times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.list.remove(idx);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_consumed_and_wildcard_matches() {
        let mut f = Faults::default();
        f.add(Fault {
            path: "/verify/json".into(),
            throttle: true,
            times: Some(2),
            ..Fault::default()
        });
        f.add(Fault {
            path: "*".into(),
            latency_ms: 5,
            ..Fault::default()
        });
        assert!(f.take("/verify/json").is_some_and(|x| x.throttle));
        assert!(f.take("/verify/json").is_some_and(|x| x.throttle));
        assert_eq!(f.take("/verify/json").map(|x| x.latency_ms), Some(5));
        assert_eq!(f.take("/verify/check/json").map(|x| x.latency_ms), Some(5));
    }
}
