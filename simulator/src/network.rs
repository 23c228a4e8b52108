//! Vonage's own network blocks and the Network Unblock API, as `verify.yml` describes them: a
//! start to a blocked network answers status 7 with the network's code, and
//! `POST /verify/network-unblock` (or `/v2/verify/network-unblock`) `{"network",
//! "unblock_duration"}` lifts the block for 0 to 86,400 s (default 3,600): 202 with
//! `unblocked_until`, 404 for a network with no active block, 403 for an account without the
//! capability (off on real accounts; `--network-unblock` here), 422 for a bad body. Blocks are
//! set with the `/_sim/network-blocks` hook (a network code and the number prefix it covers).
//! This file is the state (below `state.rs`); `network_api.rs` the two HTTP faces.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::clock::format_utc;

pub const BLOCKED_TEXT: &str =
    "The network you are trying to verify has been blocked due to possible fraudulent activity";
pub const MAX_UNBLOCK_S: i64 = 86_400;
pub const DEFAULT_UNBLOCK_S: i64 = 3_600;

#[derive(Debug, Default)]
pub struct Networks {
    /// (number prefix, network code), longest prefix first.
    blocks: Vec<(String, String)>,
    /// Network code -> unblocked until (epoch ms).
    unblocked: HashMap<String, i64>,
}

impl Networks {
    pub fn block(&mut self, network: &str, prefix: &str) {
        self.blocks.retain(|(p, _)| p != prefix);
        self.blocks.push((prefix.to_string(), network.to_string()));
        self.blocks.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.unblocked.clear();
    }

    pub fn list(&self, now: i64) -> Value {
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .map(|(prefix, network)| {
                let until = self.unblocked.get(network).filter(|u| **u > now);
                json!({ "network": network, "prefix": prefix,
                        "unblocked_until": until.map(|u| iso(*u)) })
            })
            .collect();
        json!({ "blocks": blocks })
    }

    /// The network that blocks a start to `number` (digits) at `now`, if any.
    pub fn blocking(&self, number: &str, now: i64) -> Option<String> {
        let (_, network) = self.blocks.iter().find(|(p, _)| number.starts_with(p))?;
        let unblocked = self.unblocked.get(network).is_some_and(|u| *u > now);
        (!unblocked).then(|| network.clone())
    }

    /// Lifts `network`'s block for `seconds`; until when, or `None` when it has none.
    pub fn unblock(&mut self, network: &str, seconds: i64, now: i64) -> Option<i64> {
        if !self.blocks.iter().any(|(_, n)| n == network) {
            return None;
        }
        let until = now + seconds * 1000;
        self.unblocked.insert(network.to_string(), until);
        Some(until)
    }
}

/// `2024-04-22T08:34:58Z`, as `unblocked_until` is written.
pub fn iso(ms: i64) -> String {
    format!("{}Z", format_utc(ms).replace(' ', "T"))
}
