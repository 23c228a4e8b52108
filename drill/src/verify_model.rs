//! What the drill needs of Verify v1 (the simulator's engine does the same over HTTP): one live
//! verification per number (another start is status 10), workflow 1's deliveries (an SMS at
//! once, calls after 125 and 305 s) for as long as it lives (605 s), 3 wrong codes end it (17).

use std::collections::HashMap;

/// Who started a verification: the drill's figures are per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Honest,
    Attacker,
}

pub const DELIVERY_OFFSETS: [i64; 3] = [0, 125_000, 305_000];
pub const LIFETIME: i64 = 605_000;

#[derive(Debug, Clone)]
pub struct Verification {
    pub number: String,
    pub start: i64,
    pub end: Option<i64>,
    pub wrong: u8,
    pub by: Actor,
}

impl Verification {
    pub fn ends_at(&self) -> i64 {
        self.end.unwrap_or(self.start + LIFETIME)
    }

    /// The deliveries made before it ended (or by `horizon`).
    pub fn deliveries(&self, horizon: i64) -> usize {
        let end = self.ends_at().min(horizon);
        DELIVERY_OFFSETS
            .iter()
            .filter(|o| self.start + **o < end.max(self.start + 1))
            .count()
    }

    /// When each delivery happened (by `horizon`).
    pub fn delivery_times(&self, horizon: i64) -> impl Iterator<Item = i64> + '_ {
        let n = self.deliveries(horizon);
        DELIVERY_OFFSETS.iter().take(n).map(|o| self.start + o)
    }
}

#[derive(Default)]
pub struct VerifyModel {
    pub all: Vec<Verification>,
    by_id: HashMap<String, usize>,
    live: HashMap<String, usize>,
}

impl VerifyModel {
    fn live_at(&self, number: &str, now: i64) -> Option<usize> {
        self.live
            .get(number)
            .copied()
            .filter(|i| now < self.all[*i].ends_at())
    }

    /// A start: its request id, or `None` for status 10.
    pub fn start(&mut self, number: &str, now: i64, by: Actor) -> Option<String> {
        if self.live_at(number, now).is_some() {
            return None;
        }
        let i = self.all.len();
        let id = format!("{:032x}", i as u128 + 1);
        self.all.push(Verification {
            number: number.to_string(),
            start: now,
            end: None,
            wrong: 0,
            by,
        });
        self.by_id.insert(id.clone(), i);
        self.live.insert(number.to_string(), i);
        Some(id)
    }

    /// A check: Verify's status.
    pub fn check(&mut self, id: &str, right: bool, now: i64) -> &'static str {
        let Some(&i) = self.by_id.get(id) else {
            return "6";
        };
        let v = &mut self.all[i];
        if now >= v.ends_at() {
            return "6";
        }
        if right {
            v.end = Some(now);
            return "0";
        }
        v.wrong += 1;
        if v.wrong >= 3 {
            v.end = Some(now);
            "17"
        } else {
            "16"
        }
    }

    pub fn cancel(&mut self, id: &str, now: i64) -> bool {
        match self.by_id.get(id) {
            Some(&i) if now < self.all[i].ends_at() => {
                self.all[i].end = Some(now);
                true
            }
            _ => false,
        }
    }
}
