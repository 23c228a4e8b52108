//! The v2 workflow a deployment sends: its channels in order (each a fallback for the one
//! before), how long each waits, the code's length and the language. Only channels that
//! reach a phone number: this proxy verifies numbers.

use std::fmt;

/// A v2 channel that delivers a code to a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Voice,
    Whatsapp,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Voice, Channel::Whatsapp];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The v2 wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Voice => "voice",
            Self::Whatsapp => "whatsapp",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The v2 limits this proxy follows (docs/verify-v2.md has their sources).
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 15..=900;
pub const MAX_STEPS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// `VERIFY_CHANNELS`, default `sms,voice`.
    pub channels: Vec<Channel>,
    /// `ALLOWED_CHANNELS`: the channels a caller may put first (`"channel"`); empty: none.
    pub allowed: Vec<Channel>,
    /// `VERIFY_CHANNEL_TIMEOUT` seconds per channel, default 180.
    pub channel_timeout: u32,
    /// `VERIFY_CODE_LENGTH`, default 6.
    pub code_length: usize,
    /// `VERIFY_LOCALE`, e.g. `en-gb`; Vonage picks by number when absent.
    pub locale: Option<String>,
    /// `VERIFY_WHATSAPP_FROM`: the WhatsApp Business number (required by that channel).
    pub whatsapp_from: Option<String>,
}

impl Default for Workflow {
    fn default() -> Self {
        Self {
            channels: vec![Channel::Sms, Channel::Voice],
            allowed: Vec::new(),
            channel_timeout: 180,
            code_length: crate::verify::values::CodeLength::DEFAULT.get(),
            locale: None,
            whatsapp_from: None,
        }
    }
}

impl Workflow {
    /// The channels for one start: the caller's pick first, then the configured ones as its
    /// fallbacks (at most v2's three steps).
    pub fn steps(&self, first: Option<Channel>) -> Vec<Channel> {
        let mut steps: Vec<Channel> = first.into_iter().collect();
        steps.extend(self.channels.iter().filter(|c| Some(**c) != first));
        steps.truncate(MAX_STEPS);
        steps
    }

    /// How long a verification can live: every step's timeout (its code is valid until the
    /// last one ends).
    pub fn lifetime_ms(&self) -> i64 {
        i64::from(self.channel_timeout) * 1000 * MAX_STEPS.min(self.channels.len().max(1)) as i64
    }

    /// A comma-separated channel list (`VERIFY_CHANNELS`, `ALLOWED_CHANNELS`).
    pub fn parse_channels(raw: &str) -> Result<Vec<Channel>, String> {
        let mut out = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let c = match name {
                "email" => {
                    return Err(
                        "email needs an address, and this proxy verifies phone numbers".into(),
                    );
                }
                "silent_auth" | "whatsapp_interactive" | "rcs" => {
                    return Err(format!("{name} is not supported by this proxy"));
                }
                other => Channel::parse(other).ok_or_else(|| {
                    format!("unknown channel {other:?}: use sms, voice, whatsapp")
                })?,
            };
            if out.contains(&c) {
                return Err(format!("{c} is listed twice"));
            }
            out.push(c);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_pick_goes_first_and_the_rest_fall_back() {
        let w = Workflow {
            channels: vec![Channel::Sms, Channel::Voice, Channel::Whatsapp],
            ..Workflow::default()
        };
        assert_eq!(
            w.steps(Some(Channel::Whatsapp)),
            [Channel::Whatsapp, Channel::Sms, Channel::Voice]
        );
        assert_eq!(w.steps(None), w.channels);
        assert_eq!(w.lifetime_ms(), 3 * 180_000);
    }

    #[test]
    fn channel_lists() {
        assert_eq!(
            Workflow::parse_channels("sms, voice").unwrap(),
            [Channel::Sms, Channel::Voice]
        );
        for bad in ["email", "sms,sms", "fax", "silent_auth"] {
            assert!(Workflow::parse_channels(bad).is_err(), "{bad}");
        }
    }
}
