//! What a delivery is estimated to cost, by calling code and channel (`GUARD_PRICES`): the
//! budgets count these estimates, corrected to Verify's own `price` when a check gives it
//! (`budgets::billed`).

/// EUR per SMS (or WhatsApp) delivery and per voice call, by calling code (longest prefix
/// wins), each with a default; a code without a call price of its own has its SMS's.
#[derive(Debug, Clone)]
pub struct Prices {
    texts: Vec<(String, f64)>,
    default_text: f64,
    calls: Vec<(String, f64)>,
    default_call: Option<f64>,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            texts: Vec::new(),
            default_text: 0.10,
            calls: Vec::new(),
            default_call: None,
        }
    }
}

impl Prices {
    /// `calling_code:eur,...`, `*` for the rest, and `voice.` before either for a call's price
    /// (`44:0.05,voice.44:0.20,*:0.10`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut p = Self::default();
        for (code, value) in pairs(spec, ':')? {
            let eur: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("GUARD_PRICES: {code} needs a price in EUR"))?;
            let (call, digits) = match code.strip_prefix("voice.") {
                Some(rest) => (true, rest),
                None => (false, code),
            };
            let is_code = !digits.is_empty()
                && digits.len() <= 6
                && digits.bytes().all(|b| b.is_ascii_digit());
            match (digits, call) {
                ("*", false) => p.default_text = eur,
                ("*", true) => p.default_call = Some(eur),
                _ if !is_code => {
                    return Err(format!("GUARD_PRICES: {code:?} is not a calling code"));
                }
                (d, false) => p.texts.push((d.to_string(), eur)),
                (d, true) => p.calls.push((d.to_string(), eur)),
            }
        }
        p.texts.sort_by_key(|(c, _)| std::cmp::Reverse(c.len()));
        p.calls.sort_by_key(|(c, _)| std::cmp::Reverse(c.len()));
        Ok(p)
    }

    /// One SMS to `digits`, in 1/10000 EUR (whole units for counters).
    pub fn text(&self, digits: &str) -> i64 {
        eur_units(longest(&self.texts, digits).unwrap_or(self.default_text))
    }

    /// One call to `digits`: its own price, else the default call price, else its SMS's.
    pub fn call(&self, digits: &str) -> i64 {
        match longest(&self.calls, digits).or(self.default_call) {
            Some(eur) => eur_units(eur),
            None => self.text(digits),
        }
    }
}

fn longest(table: &[(String, f64)], digits: &str) -> Option<f64> {
    table
        .iter()
        .find(|(c, _)| digits.starts_with(c.as_str()))
        .map(|(_, p)| *p)
}

/// EUR as whole counter units of 1/10000 EUR (prices and spend caps alike).
pub fn eur_units(eur: f64) -> i64 {
    (eur * 10_000.0).round() as i64
}

pub(super) fn pairs(spec: &str, sep: char) -> Result<Vec<(&str, &str)>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.split_once(sep)
                .map(|(k, v)| (k.trim(), v.trim()))
                .ok_or_else(|| format!("{item:?}: expected name{sep}value"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_calls_by_longest_prefix() {
        let p = Prices::parse("44:0.05,4420:0.30,voice.44:0.20,*:0.10,voice.*:0.15").unwrap();
        assert_eq!(p.text("447700900123"), 500);
        assert_eq!(p.text("442012345678"), 3000, "longest prefix wins");
        assert_eq!(p.text("33612345678"), 1000);
        assert_eq!(p.call("447700900123"), 2000);
        assert_eq!(p.call("33612345678"), 1500, "the default call price");
        let sms_only = Prices::parse("44:0.05").unwrap();
        assert_eq!(
            sms_only.call("447700900123"),
            500,
            "a call priced as the SMS"
        );
        assert_eq!(sms_only.call("33612345678"), 1000);
        for bad in [
            "UK:0.1",
            "voice.:0.1",
            "voice.UK:1",
            "44:-1",
            "44:x",
            "voice.44",
        ] {
            assert!(Prices::parse(bad).is_err(), "{bad}");
        }
    }
}
