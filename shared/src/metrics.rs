//! Metrics as CloudWatch Embedded Metric Format: one JSON line per invocation on stdout, which
//! Lambda ships to CloudWatch Logs and CloudWatch turns into metrics (no API call, no extra
//! latency). Written with serde_json: the maintained EMF crates bring a metrics facade and a
//! flush cycle that one line per invocation does not need.
//!
//! Namespace `METRICS_NAMESPACE`; every metric also has a no-dimension series for alarms.

use serde_json::{Map, Value, json};

use crate::error::ProxyError;
use crate::guard::Seen;

/// What happened in one invocation, as far as metrics care.
#[derive(Debug, Default)]
pub struct Facts<'a> {
    pub endpoint: &'static str,
    /// Verify's status of the answer (ours for refusals).
    pub verify_status: &'a str,
    pub error: Option<&'a ProxyError>,
    pub seen: Option<&'a Seen>,
    /// Verify's status and how long it took, when Verify was called.
    pub upstream: Option<(&'a str, u64)>,
    /// A message went out (a start, or `trigger_next_event`; test numbers send none).
    pub delivered: bool,
    pub store_errors: u64,
    /// A v2 status event recorded how a verification ended (`SUCCESS`, `EXPIRED`, ...).
    pub outcome: Option<&'a str>,
}

const COUNT: &str = "Count";

struct Doc {
    root: Map<String, Value>,
    directives: Vec<Value>,
}

impl Doc {
    fn add(&mut self, dimensions: &[&[&str]], metrics: &[(&str, &str, f64)]) {
        for (name, _, value) in metrics {
            self.root.insert((*name).into(), json!(value));
        }
        let defs: Vec<Value> = metrics
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
            .collect();
        self.directives
            .push(json!({"Dimensions": dimensions, "Metrics": defs}));
    }
}

/// The EMF document for one invocation; `None` when nothing worth a metric happened.
pub fn document(namespace: &str, f: &Facts<'_>, timestamp_ms: i64) -> Option<Value> {
    let mut doc = Doc {
        root: Map::new(),
        directives: Vec::new(),
    };
    doc.root.insert("Endpoint".into(), json!(f.endpoint));
    let calling_code = f.seen.and_then(|s| s.calling_code.clone());
    let by_code: &[&[&str]] = match &calling_code {
        Some(c) => {
            doc.root.insert("CallingCode".into(), json!(c));
            &[&[], &["CallingCode"]]
        }
        None => &[&[]],
    };
    let ok = f.error.is_none() && f.verify_status == "0";
    let mut outcomes: Vec<(&str, &str, f64)> = Vec::new();
    let replayed = f.seen.is_some_and(|s| s.replayed);
    if ok && f.endpoint == "request" && !replayed {
        outcomes.push(("Started", COUNT, 1.0));
    }
    if ok && f.delivered {
        outcomes.push(("Delivered", COUNT, 1.0));
    }
    if f.endpoint == "check" && f.error.is_none() {
        match f.verify_status {
            "0" => outcomes.push(("Verified", COUNT, 1.0)),
            "16" | "17" => outcomes.push(("WrongCode", COUNT, 1.0)),
            _ => {}
        }
    }
    if !outcomes.is_empty() {
        doc.add(by_code, &outcomes);
    }
    if let Some(o) = f.outcome {
        doc.root.insert("Outcome".into(), json!(o));
        doc.add(&[&[], &["Outcome"]], &[("Finished", COUNT, 1.0)]);
    }
    if let Some(rule) = f.error.and_then(refusal_rule) {
        doc.root.insert("Rule".into(), json!(rule));
        doc.add(&[&[], &["Rule"]], &[("Refused", COUNT, 1.0)]);
    }
    if let Some((status, ms)) = f.upstream {
        // A dimension value is a metric of its own: only Verify's short numeric statuses.
        let status = if !status.is_empty()
            && status.len() <= 3
            && status.bytes().all(|b| b.is_ascii_digit())
        {
            status
        } else {
            "other"
        };
        doc.root.insert("UpstreamStatus".into(), json!(status));
        doc.add(&[&["UpstreamStatus"]], &[("UpstreamCalls", COUNT, 1.0)]);
        doc.add(
            &[&[], &["Endpoint"]],
            &[("UpstreamLatency", "Milliseconds", ms as f64)],
        );
    }
    if f.store_errors > 0 {
        doc.add(&[&[]], &[("StoreErrors", COUNT, f.store_errors as f64)]);
    }
    if let Some((spent, cap)) = f.seen.and_then(|s| s.spend_month) {
        let mut m = vec![("SpendMonthToDateEUR", "None", spent as f64 / 10_000.0)];
        if cap > 0 {
            m.push((
                "SpendCapUsedPercent",
                "Percent",
                100.0 * spent as f64 / cap as f64,
            ));
        }
        doc.add(&[&[]], &m);
    }
    if doc.directives.is_empty() {
        return None;
    }
    let mut root = doc.root;
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": doc
                .directives
                .into_iter()
                .map(|mut d| {
                    d["Namespace"] = json!(namespace);
                    d
                })
                .collect::<Vec<_>>(),
        }),
    );
    Some(Value::Object(root))
}

/// The rule a refusal names (a dimension value: a small fixed set).
fn refusal_rule(e: &ProxyError) -> Option<&'static str> {
    Some(match e {
        ProxyError::Limited { rule, .. } => rule,
        ProxyError::AlreadySent { .. } => "already_sent",
        ProxyError::CodeLocked { .. } => "code_locked",
        ProxyError::IdempotencyMismatch | ProxyError::IdempotencyInFlight => "idempotency",
        ProxyError::DestinationNotAllowed => "destination",
        ProxyError::Unauthorized { .. } => "unauthorized",
        ProxyError::OriginNotAllowed => "origin",
        _ => return None,
    })
}

/// Writes the document as one stdout line (Lambda sends stdout to CloudWatch Logs).
pub fn emit(namespace: &str, facts: &Facts<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    if let Some(doc) = document(namespace, facts, now) {
        use std::io::Write;
        let mut line = doc.to_string();
        line.push('\n');
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric_names(doc: &Value) -> Vec<String> {
        doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["Metrics"].as_array().unwrap().clone())
            .map(|m| m["Name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Every metric a directive names has a numeric value at the root, and every dimension
    /// it names a string value: what CloudWatch requires of an EMF line.
    fn valid(doc: &Value) {
        for d in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], "VP");
            for m in d["Metrics"].as_array().unwrap() {
                assert!(doc[m["Name"].as_str().unwrap()].is_number(), "{doc}");
            }
            for set in d["Dimensions"].as_array().unwrap() {
                for dim in set.as_array().unwrap() {
                    assert!(doc[dim.as_str().unwrap()].is_string(), "{doc}");
                }
            }
        }
    }

    #[test]
    fn a_v2_outcome_counts_per_outcome() {
        let f = Facts {
            endpoint: "events",
            outcome: Some("EXPIRED"),
            ..Facts::default()
        };
        let doc = document("VP", &f, 1).unwrap();
        valid(&doc);
        assert_eq!(metric_names(&doc), ["Finished"]);
        assert_eq!(doc["Outcome"], "EXPIRED");
        assert!(
            document(
                "VP",
                &Facts {
                    endpoint: "events",
                    ..Facts::default()
                },
                1
            )
            .is_none()
        );
    }

    #[test]
    fn a_start_counts_per_calling_code_with_spend() {
        let seen = Seen {
            calling_code: Some("44".into()),
            spend_month: Some((4_000_000, 5_000_000)),
            ..Seen::default()
        };
        let f = Facts {
            endpoint: "request",
            verify_status: "0",
            seen: Some(&seen),
            upstream: Some(("0", 120)),
            delivered: true,
            ..Facts::default()
        };
        let doc = document("VP", &f, 1).unwrap();
        valid(&doc);
        assert_eq!(
            metric_names(&doc),
            [
                "Started",
                "Delivered",
                "UpstreamCalls",
                "UpstreamLatency",
                "SpendMonthToDateEUR",
                "SpendCapUsedPercent"
            ]
        );
        assert_eq!(doc["CallingCode"], "44");
        assert_eq!(doc["SpendCapUsedPercent"], 80.0);
        assert_eq!(doc["SpendMonthToDateEUR"], 400.0);
    }

    #[test]
    fn refusals_name_their_rule_and_send_nothing() {
        let e = ProxyError::Limited {
            rule: "ip_per_day",
            retry_after: 1,
        };
        let f = Facts {
            endpoint: "request",
            verify_status: "1",
            error: Some(&e),
            store_errors: 2,
            ..Facts::default()
        };
        let doc = document("VP", &f, 1).unwrap();
        valid(&doc);
        assert_eq!(metric_names(&doc), ["Refused", "StoreErrors"]);
        assert_eq!(doc["Rule"], "ip_per_day");
        assert_eq!(doc["StoreErrors"], 2.0);
    }

    #[test]
    fn odd_upstream_statuses_share_one_dimension_value() {
        let f = Facts {
            endpoint: "search",
            verify_status: "x",
            upstream: Some(("IN PROGRESS-or-anything-else", 3)),
            ..Facts::default()
        };
        assert_eq!(document("VP", &f, 1).unwrap()["UpstreamStatus"], "other");
    }

    #[test]
    fn checks_count_verified_and_wrong_codes() {
        let f = |s| Facts {
            endpoint: "check",
            verify_status: s,
            ..Facts::default()
        };
        assert_eq!(
            metric_names(&document("VP", &f("0"), 1).unwrap()),
            ["Verified"]
        );
        assert_eq!(
            metric_names(&document("VP", &f("16"), 1).unwrap()),
            ["WrongCode"]
        );
        assert!(document("VP", &f("6"), 1).is_none());
    }
}
