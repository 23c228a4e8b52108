//! `/verify/control/json`: cancel (within its window) and trigger_next_event.

use serde_json::json;

use super::Engine;
use super::rules::{CANCEL_AFTER_MS, Reply, error};
use super::verification::State;
use crate::params::Params;

impl Engine {
    /// `/verify/control/json`.
    pub fn control(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.admit(p, false, now) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let Some(id) = p.get("request_id") else {
            return error("2", "Missing mandatory parameter: request_id");
        };
        let Some(cmd) = p.get("cmd") else {
            return error("2", "Missing mandatory parameter: cmd");
        };
        if cmd != "cancel" && cmd != "trigger_next_event" {
            return error("3", "Invalid parameter found: cmd");
        }
        self.command(&account.api_key, id, cmd, now)
    }

    /// `cancel` or `trigger_next_event` on a live verification of `api_key` (both faces).
    pub(crate) fn command(&mut self, api_key: &str, id: &str, cmd: &str, now: i64) -> Reply {
        let id = id.to_string();
        self.catch_up_one(&id, now);
        let Some(v) = self
            .requests
            .get(&id)
            .filter(|v| v.api_key == api_key && v.state == State::InProgress)
        else {
            return error(
                "6",
                format!("The requestId '{id}' does not exist or its no longer active."),
            );
        };
        if cmd == "cancel" {
            if now - v.submitted < CANCEL_AFTER_MS {
                return error(
                    "19",
                    format!(
                        "Verification request ['{id}'] can't be cancelled within the first 30 seconds."
                    ),
                );
            }
            if v.events.len() >= 2 {
                // The double space is the real API's.
                return error(
                    "19",
                    format!(
                        "Verification request  ['{id}'] can't be cancelled now. Too many attempts to re-deliver have already been made."
                    ),
                );
            }
            self.finish(&id, State::Cancelled, now);
            return json!({ "status": "0", "command": "cancel" });
        }
        if v.events.len() >= v.sequence.len() {
            return error(
                "19",
                format!("No more events are left to execute for the request ['{id}']"),
            );
        }
        self.fire_next(&id, now);
        json!({ "status": "0", "command": "trigger_next_event" })
    }
}
