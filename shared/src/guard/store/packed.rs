//! A record as the memory store keeps it: each 32-hex-digit digest in 16 bytes and the sealed
//! number as its raw bytes, in one allocation of ~250 bytes where the record's strings took
//! ~900. What goes in comes out equal (`unpack(pack(r)) == r`), whatever the strings hold.

use super::Record;

/// A digest or request id as 16 bytes when it is 32 lowercase hex digits (what the guard's
/// keys and Verify v1's ids are), else the text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Empty,
    Hex([u8; 16]),
    Other(Box<str>),
}

impl Text {
    pub fn pack(s: &str) -> Self {
        if s.is_empty() {
            return Self::Empty;
        }
        let b = s.as_bytes();
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if b.len() == 32 {
            let mut out = [0u8; 16];
            let all = out.iter_mut().enumerate().all(|(i, o)| {
                match (nibble(b[2 * i]), nibble(b[2 * i + 1])) {
                    (Some(h), Some(l)) => {
                        *o = (h << 4) | l;
                        true
                    }
                    _ => false,
                }
            });
            if all {
                return Self::Hex(out);
            }
        }
        Self::Other(s.into())
    }

    pub fn unpack(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Hex(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            Self::Other(s) => s.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    number: Text,
    range: Text,
    prefix: Text,
    ip: Text,
    net: Text,
    caller: Text,
    sealed: Box<str>,
    calling_code: Box<str>,
    outcome: Option<Box<(Box<str>, i64)>>,
    created_at: i64,
    spend: i64,
    verified: bool,
    class: u8,
    deliveries: u8,
}

impl Packed {
    pub fn pack(r: &Record) -> Self {
        Self {
            number: Text::pack(&r.number),
            range: Text::pack(&r.range),
            prefix: Text::pack(&r.prefix),
            ip: Text::pack(&r.ip),
            net: Text::pack(&r.net),
            caller: Text::pack(&r.caller),
            sealed: r.sealed.as_str().into(),
            calling_code: r.calling_code.as_str().into(),
            outcome: r
                .outcome
                .as_ref()
                .map(|(o, at)| Box::new((o.as_str().into(), *at))),
            created_at: r.created_at,
            spend: r.spend,
            verified: r.verified,
            class: r.class,
            deliveries: r.deliveries,
        }
    }

    pub fn unpack(&self) -> Record {
        Record {
            number: self.number.unpack(),
            sealed: self.sealed.to_string(),
            range: self.range.unpack(),
            prefix: self.prefix.unpack(),
            calling_code: self.calling_code.to_string(),
            ip: self.ip.unpack(),
            net: self.net.unpack(),
            caller: self.caller.unpack(),
            created_at: self.created_at,
            verified: self.verified,
            outcome: self.outcome.as_ref().map(|o| (o.0.to_string(), o.1)),
            class: self.class,
            spend: self.spend,
            deliveries: self.deliveries,
        }
    }

    pub fn verified(&self) -> bool {
        self.verified
    }

    pub fn set_verified(&mut self) {
        self.verified = true;
    }

    pub fn has_outcome(&self) -> bool {
        self.outcome.is_some()
    }

    pub fn set_outcome(&mut self, outcome: &str, at: i64) {
        self.outcome = Some(Box::new((outcome.into(), at)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_goes_in_comes_out() {
        let hex = "0123456789abcdef0123456789abcdef";
        let mut r = Record {
            number: hex.into(),
            sealed: "c2VhbGVk".into(),
            range: "fedcba9876543210fedcba9876543210".into(),
            prefix: String::new(),
            calling_code: "44".into(),
            ip: "0123456789ABCDEF0123456789abcdef".into(), // upper case: kept as text
            net: "short".into(),
            caller: String::new(),
            created_at: 7,
            verified: false,
            outcome: None,
            class: 1,
            spend: 3000,
            deliveries: 3,
        };
        assert_eq!(Packed::pack(&r).unpack(), r);
        r.outcome = Some(("SUCCESS".into(), 9));
        r.verified = true;
        assert_eq!(Packed::pack(&r).unpack(), r);
        assert!(
            std::mem::size_of::<Packed>() <= 216,
            "{}",
            std::mem::size_of::<Packed>()
        );
    }
}
