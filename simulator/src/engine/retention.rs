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
