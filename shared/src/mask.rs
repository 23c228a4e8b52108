//! Masking for logs: no full phone number ever reaches a log line.

/// `447700900123` or `+447700900123` -> `+44*******123`.
pub fn number(n: &str) -> String {
    let digits: Vec<char> = n.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 7 {
        return "+***".to_string();
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    format!("+{head}{}{tail}", "*".repeat(digits.len() - 5))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_all_but_edges() {
        assert_eq!(super::number("447700900123"), "+44*******123");
        assert_eq!(super::number("+1 555 010 9999"), "+15******999");
        assert_eq!(super::number("123"), "+***");
    }
}
