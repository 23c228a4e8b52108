//! Phone-number normalisation: differently written copies of one number must be the same
//! number, because Verify's concurrency rule (status 10) is per number.

/// ISO 3166 alpha-2 -> calling code, for the `country` parameter (national numbers).
const CALLING_CODES: &[(&str, &str)] = &[
    ("AE", "971"),
    ("AR", "54"),
    ("AT", "43"),
    ("AU", "61"),
    ("BE", "32"),
    ("BG", "359"),
    ("BR", "55"),
    ("CA", "1"),
    ("CH", "41"),
    ("CL", "56"),
    ("CN", "86"),
    ("CO", "57"),
    ("CZ", "420"),
    ("DE", "49"),
    ("DK", "45"),
    ("EE", "372"),
    ("EG", "20"),
    ("ES", "34"),
    ("FI", "358"),
    ("FR", "33"),
    ("GB", "44"),
    ("GR", "30"),
    ("HK", "852"),
    ("HR", "385"),
    ("HU", "36"),
    ("ID", "62"),
    ("IE", "353"),
    ("IL", "972"),
    ("IN", "91"),
    ("IS", "354"),
    ("IT", "39"),
    ("JP", "81"),
    ("KE", "254"),
    ("KR", "82"),
    ("LT", "370"),
    ("LU", "352"),
    ("LV", "371"),
    ("MT", "356"),
    ("MX", "52"),
    ("MY", "60"),
    ("NG", "234"),
    ("NL", "31"),
    ("NO", "47"),
    ("NZ", "64"),
    ("PH", "63"),
    ("PK", "92"),
    ("PL", "48"),
    ("PT", "351"),
    ("RO", "40"),
    ("RS", "381"),
    ("RU", "7"),
    ("SA", "966"),
    ("SE", "46"),
    ("SG", "65"),
    ("SI", "386"),
    ("SK", "421"),
    ("TH", "66"),
    ("TR", "90"),
    ("TW", "886"),
    ("UA", "380"),
    ("US", "1"),
    ("VN", "84"),
    ("ZA", "27"),
];

/// The calling code of a 2-letter country, if known.
pub fn calling_code(country: &str) -> Option<&'static str> {
    let upper = country.to_ascii_uppercase();
    CALLING_CODES
        .iter()
        .find(|(iso, _)| *iso == upper)
        .map(|(_, code)| *code)
}

/// Normalises `raw` to E.164 digits without `+`, or `None` when it is not a plausible number.
/// `+44 7700-900 000`, `00447700900000` and `447700900000` all become `447700900000`; with
/// `country` = GB, `07700 900000` does too.
pub fn normalise(raw: &str, country: Option<&str>) -> Option<String> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let (international, digits) = if let Some(rest) = compact.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = compact.strip_prefix("00") {
        (true, rest)
    } else {
        (false, compact.as_str())
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match (international, country.and_then(calling_code)) {
        (false, Some(cc)) => {
            if let Some(national) = digits.strip_prefix('0') {
                format!("{cc}{national}")
            } else if digits.starts_with(cc) && digits.len() >= 10 {
                digits.to_string()
            } else {
                format!("{cc}{digits}")
            }
        }
        _ => digits.to_string(),
    };
    if (7..=15).contains(&full.len()) && !full.starts_with('0') {
        Some(full)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notations_of_one_number_agree() {
        let want = Some("447700900000".to_string());
        assert_eq!(normalise("447700900000", None), want);
        assert_eq!(normalise("+44 7700 900000", None), want);
        assert_eq!(normalise("0044-7700-900000", None), want);
        assert_eq!(normalise("(07700) 900000", Some("GB")), want);
        assert_eq!(normalise("447700900000", Some("gb")), want);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(normalise("", None), None);
        assert_eq!(normalise("abc", None), None);
        assert_eq!(normalise("+44 77a0", None), None);
        assert_eq!(normalise("12345", None), None);
        assert_eq!(normalise("1234567890123456", None), None);
        assert_eq!(normalise("07700900000", None), None);
    }

    #[test]
    fn unknown_country_is_none() {
        assert_eq!(calling_code("XX"), None);
        assert_eq!(calling_code("de"), Some("49"));
    }
}
