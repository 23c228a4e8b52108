//! How long the simulator remembers a finished verification: a day after it ended (Vonage
//! documents no retention; search of a forgotten id answers as for an unknown one). Without
//! it every start stayed in memory for the process's life, with its outbox messages.

use std::collections::HashSet;

use super::Engine;

pub const RETENTION_MS: i64 = 24 * 3600 * 1000;

impl Engine {
    /// Forgets the verifications that ended over a day before `now`, and their messages;
    /// returns how many went.
    pub fn forget_finished(&mut self, now: i64) -> usize {
        let cutoff = now - RETENTION_MS;
        let gone: HashSet<String> = self
            .requests
            .iter()
            .filter(|(_, v)| v.finalized.is_some_and(|at| at < cutoff))
            .map(|(id, _)| id.clone())
            .collect();
        if gone.is_empty() {
            return 0;
        }
        self.requests.retain(|id, _| !gone.contains(id));
        self.outbox.retain(|m| !gone.contains(&m.request_id));
        // Give the memory back, not only the entries.
        self.requests.shrink_to_fit();
        self.outbox.shrink_to_fit();
        gone.len()
    }

    /// How many verifications the engine holds (for tests).
    pub fn held(&self) -> usize {
        self.requests.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StartKind;
    use crate::engine::tests::{engine, params};

    #[test]
    fn a_finished_verification_is_forgotten_a_day_after_it_ended() {
        let mut e = engine();
        let t0 = 1_000_000;
        let live = e.start(
            &params("number=447700900001&brand=B&workflow_id=6"),
            StartKind::Standard,
            t0,
        );
        e.catch_up_all(t0 + 300_000); // expired at t0 + 300 s
        let later = t0 + 300_000 + RETENTION_MS - 1_000;
        let next = e.start(
            &params("number=447700900002&brand=B&workflow_id=6"),
            StartKind::Standard,
            later,
        );
        assert_eq!(e.forget_finished(later), 0, "within a day of its end");
        assert_eq!(e.forget_finished(later + 2_000), 1);
        assert_eq!(e.held(), 1, "the live one stays");
        assert!(e.inspect(live["request_id"].as_str().unwrap()).is_none());
        assert!(e.inspect(next["request_id"].as_str().unwrap()).is_some());
        assert!(
            e.messages(Some("447700900001"), None).is_empty(),
            "its messages went too"
        );
    }
}
