//! A decision being built up: each rule over its limit is noted by its mode; the first
//! enforced one names the refusal, the latest `until` decides `Retry-After`; monitored rules
//! are only logged.

use super::rules::{Mode, Policy, Rule, retry_after_s};
use crate::error::ProxyError;

pub struct Verdict<'a> {
    policy: &'a Policy,
    now: i64,
    refused: Option<(Rule, i64)>,
    /// The country auto-block has no baseline yet: it only monitors.
    learning: bool,
}

impl<'a> Verdict<'a> {
    pub fn new(policy: &'a Policy, now: i64, learning: bool) -> Self {
        Self {
            policy,
            now,
            refused: None,
            learning,
        }
    }

    pub fn mode(&self, rule: Rule) -> Mode {
        match self.policy.mode(rule) {
            Mode::Enforce if rule == Rule::CountryAutoBlock && self.learning => Mode::Monitor,
            m => m,
        }
    }

    pub fn enforced(&self, rule: Rule) -> bool {
        self.mode(rule) == Mode::Enforce
    }

    /// The rule is over its limit until `until`.
    pub fn over(&mut self, rule: Rule, until: i64) {
        match self.mode(rule) {
            Mode::Off => {}
            Mode::Monitor => tracing::warn!(rule = rule.name(), "guard: would refuse (monitor)"),
            Mode::Enforce => {
                let until = self.refused.map_or(until, |(_, u)| u.max(until));
                let first = self.refused.map_or(rule, |(r, _)| r);
                self.refused = Some((first, until));
            }
        }
    }

    /// `over` when `total` passed `max`.
    pub fn count(&mut self, rule: Rule, total: i64, max: i64, until: i64) {
        if total > max {
            self.over(rule, until);
        }
    }

    pub fn refused(&self) -> bool {
        self.refused.is_some()
    }

    pub fn result(self) -> Result<(), ProxyError> {
        match self.refused {
            None => Ok(()),
            Some((rule, until)) => {
                tracing::warn!(rule = rule.name(), "guard: refused");
                Err(ProxyError::Limited {
                    rule: rule.name(),
                    retry_after: retry_after_s(until, self.now),
                })
            }
        }
    }
}
