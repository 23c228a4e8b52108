//! Verify's per-account request limits and its search blind spot after completion
//! (`docs/verify-v1.md` sections 6 and 10): on by default, switchable per simulator (and at
//! run time through `/_sim/limits`) because load and attack tests measure the proxy, not them.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Window the rates are counted over.
const WINDOW_MS: i64 = 1_000;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Verify calls per account per second (every path); more answer status 1. `None`: no limit.
    pub requests_per_second: Option<u32>,
    /// Searches per account per second; more answer status 1. `None`: no limit.
    pub searches_per_second: Option<u32>,
    /// For this long after a verification finishes, search answers 101 for it ("this also
    /// occurs immediately after completion, wait 60 seconds and try again").
    pub search_hidden_after_completion_s: u32,
}

impl Limits {
    /// What the reference documents: 30 requests/s, 1 search/s, 60 s without search.
    pub const REAL: Self = Self {
        requests_per_second: Some(30),
        searches_per_second: Some(1),
        search_hidden_after_completion_s: 60,
    };
    pub const OFF: Self = Self {
        requests_per_second: None,
        searches_per_second: None,
        search_hidden_after_completion_s: 0,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::REAL
    }
}

/// Counts admitted calls per (account, kind) in a sliding one-second window. Refused calls
/// are not counted, so a client that backs off gets through after the window.
#[derive(Debug, Default)]
pub struct Meter {
    seen: HashMap<(String, bool), VecDeque<i64>>,
}

impl Meter {
    /// Admits one call by `account` at `now` (a search when `search`), or says it is over.
    pub fn admit(&mut self, limits: &Limits, account: &str, search: bool, now: i64) -> bool {
        let mut checks = vec![(false, limits.requests_per_second)];
        if search {
            checks.push((true, limits.searches_per_second));
        }
        let over = checks.iter().any(|&(kind, limit)| {
            limit.is_some_and(|limit| {
                let window = self.window(account, kind, now);
                window.len() >= limit as usize
            })
        });
        if over {
            return false;
        }
        for (kind, limit) in checks {
            if limit.is_some() {
                self.window(account, kind, now).push_back(now);
            }
        }
        true
    }

    fn window(&mut self, account: &str, search: bool, now: i64) -> &mut VecDeque<i64> {
        let window = self.seen.entry((account.to_string(), search)).or_default();
        while window.front().is_some_and(|&t| t <= now - WINDOW_MS) {
            window.pop_front();
        }
        window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_a_second_then_the_window_moves_on() {
        let mut m = Meter::default();
        let l = Limits::REAL;
        for i in 0..30 {
            assert!(m.admit(&l, "k", false, 1_000 + i), "call {i}");
        }
        assert!(!m.admit(&l, "k", false, 1_500), "the 31st within a second");
        assert!(m.admit(&l, "other", false, 1_500), "per account");
        assert!(
            m.admit(&l, "k", false, 2_000),
            "the first call has left the window"
        );
    }

    #[test]
    fn one_search_a_second_and_searches_count_as_calls() {
        let mut m = Meter::default();
        let l = Limits::REAL;
        assert!(m.admit(&l, "k", true, 0));
        assert!(!m.admit(&l, "k", true, 999));
        assert!(m.admit(&l, "k", false, 999), "other calls still pass");
        assert!(m.admit(&l, "k", true, 1_000));
        let off = Limits::OFF;
        assert!((0..100).all(|_| m.admit(&off, "k", true, 1_000)));
    }
}
