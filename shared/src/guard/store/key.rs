//! Every key the guard stores, spelled once: the decisions (`guard/mod.rs`) and both adapters
//! build keys only through these. Arguments are digests (`Subject`'s and `Record`'s fields),
//! never a readable number or address. A windowed counter is `windowed(base, index)`: the
//! base names what is counted, the index which window (`rules::window`).

/// A verification this deployment started (`Record`).
pub fn record(request_id: &str) -> String {
    format!("req:{request_id}")
}

/// A counter's key in one window of its length.
pub fn windowed(base: &str, index: i64) -> String {
    format!("{base}:{index}")
}

/// Deliveries to a number per hour and per day (bases).
pub fn number_per_hour(number: &str) -> String {
    format!("n:{number}:h")
}
pub fn number_per_day(number: &str) -> String {
    format!("n:{number}:d")
}

/// Starts from an address per 10 minutes and per day (bases).
pub fn ip_per_10min(ip: &str) -> String {
    format!("i:{ip}:10m")
}
pub fn ip_per_day(ip: &str) -> String {
    format!("i:{ip}:d")
}

/// Every start, per day (base).
pub const GLOBAL_STARTS: &str = "g:starts:d";

/// Estimated spend on day `day` and in month `month` (`YYYY-MM`).
pub fn spend_day(day: i64) -> String {
    format!("g:spend:d:{day}")
}
pub fn spend_month(month: &str) -> String {
    format!("g:spend:m:{month}")
}

/// When this deployment first counted anything (the auto-block's learning period).
pub const DEPLOYED: &str = "g:deployed";

/// Unverified starts to a number range (base; windowed by day).
pub fn range_unverified(range: &str) -> String {
    format!("r:{range}:unv")
}

/// A calling code's unverified and verified starts on day `day`.
pub fn country_unverified(calling_code: &str, day: i64) -> String {
    format!("c:{calling_code}:unv:{day}")
}
pub fn country_verified(calling_code: &str, day: i64) -> String {
    format!("c:{calling_code}:ver:{day}")
}

/// The calling codes an address started to on day `day` (a set).
pub fn ip_calling_codes(ip: &str, day: i64) -> String {
    format!("i:{ip}:cc:{day}")
}

/// Wrong codes from an address (base; windowed by hour) and to a number (base; by day).
pub fn ip_wrong_codes(ip: &str) -> String {
    format!("i:{ip}:wrong")
}
pub fn number_wrong_codes(number: &str) -> String {
    format!("n:{number}:wrong")
}

/// Locks: a range's block, a calling code's auto-block, a number's wrong-code lock.
pub fn range_lock(range: &str) -> String {
    format!("lock:r:{range}")
}
pub fn country_lock(calling_code: &str) -> String {
    format!("lock:c:{calling_code}")
}
pub fn wrong_code_lock(number: &str) -> String {
    format!("lock:nw:{number}")
}

/// Gates: a number's resend cooldown, a verification's trigger gap.
pub fn cooldown_gate(number: &str) -> String {
    format!("gate:n:{number}")
}
pub fn trigger_gate(request_id: &str) -> String {
    format!("gate:t:{request_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shapes are the stored data's: a changed spelling would orphan every live counter
    /// and lock of a running deployment.
    #[test]
    fn shapes_are_stable() {
        assert_eq!(record("ab"), "req:ab");
        assert_eq!(windowed(&number_per_hour("n1"), 7), "n:n1:h:7");
        assert_eq!(windowed(&range_unverified("r1"), 3), "r:r1:unv:3");
        assert_eq!(country_unverified("44", 3), "c:44:unv:3");
        assert_eq!(wrong_code_lock("n1"), "lock:nw:n1");
        assert_eq!(cooldown_gate("n1"), "gate:n:n1");
        assert_eq!(trigger_gate("ab"), "gate:t:ab");
        assert_eq!(spend_month("2026-12"), "g:spend:m:2026-12");
    }
}
