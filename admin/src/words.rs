//! The explanation in plain words, for a person answering "I get no code".

use serde_json::Value;
use shared::guard::rules::datetime;

fn when(ms: i64, now: i64) -> String {
    let left = (ms - now) / 1000;
    let rel = match left {
        l if l <= 0 => "now".to_string(),
        l if l < 120 => format!("in {l} s"),
        l if l < 7200 => format!("in {} min", l / 60),
        l => format!("in {} h", l / 3600),
    };
    format!("{} UTC ({rel})", datetime(ms))
}

/// A rule's count or limit in its unit: spend is kept in 1/10000 EUR.
fn amount(rule: &str, n: i64) -> String {
    match rule.contains("spend") {
        true => format!("EUR {:.2}", n as f64 / 10_000.0),
        false => n.to_string(),
    }
}

/// The lines `explain` prints without `--json`.
pub fn explain(v: &Value) -> String {
    let now = v["now"].as_i64().unwrap_or(0);
    let at = |k: &str| v[k].as_i64();
    let mut out = vec![format!(
        "{} (number_hmac {}, calling code {})",
        v["number"].as_str().unwrap_or("?"),
        v["number_hmac"].as_str().unwrap_or("?"),
        v["calling_code"].as_str().unwrap_or("?")
    )];
    out.push(match at("last_verified") {
        Some(t) => format!("  last verified {} UTC", datetime(t)),
        None => "  never verified (or not in the last 400 days)".into(),
    });
    if let Some(t) = at("live_until") {
        out.push(format!("  a verification is live until {}", when(t, now)));
    }
    let rules = v["rules"].as_array().cloned().unwrap_or_default();
    let refusing: Vec<&Value> = rules.iter().filter(|r| r["refuses"] == true).collect();
    if refusing.is_empty() {
        out.push("  no rule refuses a start to it from a new address now".into());
    } else {
        out.push("  refused now by:".into());
        for r in &refusing {
            let what = match (
                r["blocked"] == true,
                r["count"].as_i64(),
                r["limit"].as_i64(),
            ) {
                (true, _, _) => format!("blocked (strike {})", r["strikes"]),
                (false, Some(c), Some(l)) => {
                    let rule = r["rule"].as_str().unwrap_or("");
                    format!("{} of {}", amount(rule, c), amount(rule, l))
                }
                _ => "holding".into(),
            };
            out.push(format!(
                "    {} [{}]: {what}, until {}",
                r["rule"].as_str().unwrap_or("?"),
                r["mode"].as_str().unwrap_or("?"),
                when(r["until"].as_i64().unwrap_or(now), now)
            ));
        }
    }
    out.push("  counts:".into());
    for r in rules.iter().filter(|r| r["refuses"] != true) {
        if let (Some(c), Some(l)) = (r["count"].as_i64(), r["limit"].as_i64()) {
            let rule = r["rule"].as_str().unwrap_or("?");
            // A month's window is the calendar month's; its `until` is a refusal's retry.
            let window = match rule.ends_with("per_month") {
                true => String::new(),
                false => format!(
                    ", the window ends {}",
                    when(r["until"].as_i64().unwrap_or(now), now)
                ),
            };
            out.push(format!(
                "    {rule} [{}]: {} of {}{window}",
                r["mode"].as_str().unwrap_or("?"),
                amount(rule, c),
                amount(rule, l)
            ));
        }
    }
    out.push(
        "  (an address's own limits, and its wrong-code backoff, are not the number's: not shown)"
            .into(),
    );
    out.join("\n")
}
