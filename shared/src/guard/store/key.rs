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
pub fn range_verified(range: &str) -> String {
    format!("r:{range}:ver")
}

/// A calling code's unverified and verified starts (bases; windowed by day).
pub fn country_unverified(calling_code: &str) -> String {
    format!("c:{calling_code}:unv")
}
pub fn country_verified(calling_code: &str) -> String {
    format!("c:{calling_code}:ver")
}

/// The same for a network prefix (its digest).
pub fn prefix_unverified(prefix: &str) -> String {
    format!("q:{prefix}:unv")
}
pub fn prefix_verified(prefix: &str) -> String {
    format!("q:{prefix}:ver")
}

/// The calling codes an address started to on day `day` (a set).
pub fn ip_calling_codes(ip: &str, day: i64) -> String {
    format!("i:{ip}:cc:{day}")
}

/// Wrong codes from an address (base; windowed by hour) and on one verification.
pub fn ip_wrong_codes(ip: &str) -> String {
    format!("i:{ip}:wrong")
}
/// One verification is one start of an id (a test number's id is the same at every start).
pub fn request_wrong_codes(request_id: &str, started_at: i64) -> String {
    format!("rw:{request_id}:{started_at}")
}

/// A number's owner allowance per hour and per day (bases) and its own resend gate.
pub fn owner_per_hour(number: &str) -> String {
    format!("n:{number}:own:h")
}
pub fn owner_per_day(number: &str) -> String {
    format!("n:{number}:own:d")
}
pub fn owner_gate(number: &str) -> String {
    format!("gate:n:{number}:own")
}

/// Marks: a number verified before (its last time, how often), and an address or end-user
/// key that verified it (the number's owner).
pub fn returning(number: &str) -> String {
    format!("v:{number}")
}
pub fn owner(number: &str, source: &str) -> String {
    format!("o:{number}:{source}")
}

/// A source's wait after failed verifications on a number (a lock with its strikes).
pub fn backoff(number: &str, source: &str) -> String {
    format!("w:{number}:{source}")
}

/// A number's live verification (until when; strikes 1 when its owner started it), and the
/// hold an owner kept waiting by someone else's puts on it.
pub fn live(number: &str) -> String {
    format!("live:n:{number}")
}
/// The live verification a source started to a number (a note holding its request id).
pub fn live_by(number: &str, source: &str) -> String {
    format!("live:n:{number}:{source}")
}
pub fn hold(number: &str) -> String {
    format!("hold:n:{number}")
}

/// An `Idempotency-Key` of one caller (its digest): held while its start runs, then a note
/// of the body's digest and the request id for the replay window.
pub fn idempotency(digest: &str) -> String {
    format!("idem:{digest}")
}

/// Unverified and verified starts from an address, and unverified from an IPv6 /48 (bases;
/// windowed by day).
pub fn ip_unverified(ip: &str) -> String {
    format!("i:{ip}:unv")
}
pub fn ip_verified(ip: &str) -> String {
    format!("i:{ip}:ver")
}
pub fn net_unverified(net: &str) -> String {
    format!("net:{net}:unv")
}

/// The returning numbers' budget: their owners' starts per day (base) and spend per day and
/// month, and the spend per day and month started by others than the numbers' owners.
pub const RETURNING_STARTS: &str = "g:rstarts:d";
pub fn returning_spend_day(day: i64) -> String {
    format!("g:rspend:d:{day}")
}
pub fn returning_spend_month(month: &str) -> String {
    format!("g:rspend:m:{month}")
}
/// What an authenticated caller's never-verified starts that converted had cost, that day.
pub fn caller_converted_day(caller: &str, day: i64) -> String {
    format!("u:{caller}:conv:d:{day}")
}
/// An authenticated caller's never-verified spend on a UTC day.
pub fn caller_spend_day(caller: &str, day: i64) -> String {
    format!("u:{caller}:spend:d:{day}")
}
pub fn stranger_spend_day(day: i64) -> String {
    format!("g:rsspend:d:{day}")
}
pub fn stranger_spend_month(month: &str) -> String {
    format!("g:rsspend:m:{month}")
}

/// Locks: a range's block, a calling code's and a network prefix's auto-blocks.
pub fn range_lock(range: &str) -> String {
    format!("lock:r:{range}")
}
pub fn country_lock(calling_code: &str) -> String {
    format!("lock:c:{calling_code}")
}
pub fn prefix_lock(prefix: &str) -> String {
    format!("lock:q:{prefix}")
}

/// A signed callback seen (its `jti`'s digest), for the freshness window of its signature.
pub fn callback(jti: &str) -> String {
    format!("cb:{jti}")
}

/// An operator's change (`verify-proxy-admin`), by when and a digest.
pub fn audit(at: i64, digest: &str) -> String {
    format!("audit:{at}:{digest}")
}

/// A limited-use App Check token, spent; and an App Check token's starts (base).
pub fn app_token(token: &str) -> String {
    format!("at:{token}")
}
pub fn token_starts(token: &str) -> String {
    format!("t:{token}:h")
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
        assert_eq!(windowed(&country_unverified("44"), 3), "c:44:unv:3");
        assert_eq!(owner("n1", "i1"), "o:n1:i1");
        assert_eq!(returning("n1"), "v:n1");
        assert_eq!(cooldown_gate("n1"), "gate:n:n1");
        assert_eq!(trigger_gate("ab"), "gate:t:ab");
        assert_eq!(spend_month("2026-12"), "g:spend:m:2026-12");
    }
}
