//! What the guard counts by, without storing what it counts: phone numbers, number ranges and
//! IPs become keyed HMAC-SHA256 digests (the key lives in SSM, or the environment locally), so a
//! leaked table holds no number and no address. IPv6 addresses count per /64 (one subscriber).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::verify::Number;

/// The HMAC key. `Debug` never prints it.
#[derive(Clone)]
pub struct Hasher {
    key: Vec<u8>,
    /// AES-256-GCM under a subkey of `key`, derived once (see [`Hasher::seal`]).
    sealing: Arc<LessSafeKey>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher(<key redacted>)")
    }
}

impl Hasher {
    /// At least 16 bytes of key.
    pub fn new(key: &[u8]) -> Result<Self, String> {
        if key.len() < 16 {
            return Err("the guard's HMAC key must be at least 16 bytes".into());
        }
        let subkey = subkey(key, "seal-number-v1");
        let sealing = UnboundKey::new(&AES_256_GCM, &subkey)
            .map_err(|_| "could not derive the sealing key".to_string())?;
        Ok(Self {
            key: key.to_vec(),
            sealing: Arc::new(LessSafeKey::new(sealing)),
        })
    }

    /// `kind` separates the domains (a number and a range with the same digits differ).
    pub fn digest(&self, kind: &str, value: &str) -> String {
        // new_from_slice accepts any key length for HMAC; the fallback is never taken.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// The number encrypted (AES-256-GCM, a subkey of this key) and bound to `request_id`, so
    /// a successful check can name it in its token while the table holds no readable number.
    pub fn seal(&self, n: &Number, request_id: &str) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let mut data = n.digits().as_bytes().to_vec();
        self.sealing
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(request_id.as_bytes()),
                &mut data,
            )
            .ok()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Some(URL_SAFE_NO_PAD.encode(out))
    }

    /// The number [`Hasher::seal`] sealed for `request_id`; `None` when it was sealed under
    /// another key or id, or altered.
    pub fn open(&self, sealed: &str, request_id: &str) -> Option<Number> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = data.to_vec();
        let plain = self
            .sealing
            .open_in_place(nonce, Aad::from(request_id.as_bytes()), &mut data)
            .ok()?;
        Number::stored(std::str::from_utf8(plain).ok()?)
    }

    pub fn number(&self, n: &Number) -> String {
        self.digest("number", n.digits())
    }

    /// The number without its last four digits: one operator block, the unit SMS pumping
    /// walks through with sequential numbers.
    pub fn range(&self, n: &Number) -> String {
        let d = n.digits();
        self.digest("range", &d[..d.len().saturating_sub(4)])
    }

    /// The network prefix (`Number::network_prefix`): wider than a range, narrower than a
    /// country. Empty when the number has none.
    pub fn prefix(&self, n: &Number) -> String {
        n.network_prefix()
            .map(|p| self.digest("prefix", p))
            .unwrap_or_default()
    }

    pub fn ip(&self, ip: Option<IpAddr>) -> String {
        self.digest("ip", &ip_group(ip))
    }

    /// The IPv6 /48 an address is in (one site), for the limits on a whole site; none for
    /// IPv4 (a /24 is often a carrier's NAT pool of many users).
    pub fn net(&self, ip: Option<IpAddr>) -> Option<String> {
        net_group(ip).map(|g| self.digest("net", &g))
    }
}

/// The full 32-byte MAC of `label` under `key`: a subkey for another purpose than counting.
fn subkey(key: &[u8], label: &str) -> Vec<u8> {
    // new_from_slice accepts any key length for HMAC; the fallback is never taken.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// IPv4 as is; IPv6 by its /64 (the prefix one subscriber gets); an IPv4-mapped IPv6 address
/// is the IPv4 address. No address at all is one shared bucket, never a free pass.
pub fn ip_group(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".into(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// An IPv6 address's /48, unless it is IPv4-mapped.
pub fn net_group(ip: Option<IpAddr>) -> Option<String> {
    match ip? {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        _ => None,
    }
}

/// The E.164 calling code of a valid number. Calling codes are a prefix code: zones 1 and 7
/// are one digit, the two-digit codes are these, and every other code has three digits.
pub fn calling_code(n: &Number) -> &str {
    const TWO_DIGIT: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let d = n.digits();
    let len = if d.starts_with('1') || d.starts_with('7') {
        1
    } else if TWO_DIGIT.contains(&&d[..2]) {
        2
    } else {
        3
    };
    &d[..len]
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn a_sealed_number_opens_only_with_its_key_and_request_id() {
        let a = Hasher::new(b"0123456789abcdef").unwrap();
        let b = Hasher::new(b"0123456789abcdeF").unwrap();
        let num = n("+447700900123");
        let sealed = a.seal(&num, "req-1").unwrap();
        assert!(!sealed.contains("447700900123"));
        assert_ne!(
            sealed,
            a.seal(&num, "req-1").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(a.open(&sealed, "req-1"), Some(num));
        assert_eq!(a.open(&sealed, "req-2"), None, "bound to its request");
        assert_eq!(b.open(&sealed, "req-1"), None, "another key");
        let mut tampered = sealed.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(a.open(&String::from_utf8(tampered).unwrap(), "req-1"), None);
        assert_eq!(a.open("", "req-1"), None);
    }

    #[test]
    fn digests_are_keyed_and_separated() {
        let a = Hasher::new(b"0123456789abcdef").unwrap();
        let b = Hasher::new(b"0123456789abcdeF").unwrap();
        let num = n("+447700900123");
        assert_eq!(a.number(&num).len(), 32);
        assert_ne!(a.number(&num), b.number(&num), "the key matters");
        assert!(!a.number(&num).contains("447700900123"));
        assert_eq!(
            a.number(&num),
            a.number(&n("0044 7700 900123")),
            "any notation"
        );
        let real = n("+447819912345");
        assert_eq!(a.range(&real), a.range(&n("+447819919999")));
        assert_ne!(a.range(&real), a.range(&n("+447819929999")));
        assert!(Hasher::new(b"short").is_err());
        assert!(!format!("{a:?}").contains("0123"));
    }

    #[test]
    fn ipv6_counts_per_64() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            ip_group(ip("2001:db8:1:2:aaaa::1")),
            ip_group(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            ip_group(ip("2001:db8:1:2::1")),
            ip_group(ip("2001:db8:1:3::1"))
        );
        assert_eq!(ip_group(ip("::ffff:198.51.100.7")), "198.51.100.7");
        assert_eq!(ip_group(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(ip_group(None), "unknown");
        assert_eq!(
            net_group(ip("2001:db8:1:2::1")),
            net_group(ip("2001:db8:1:ffff::1"))
        );
        assert_eq!(net_group(ip("198.51.100.7")), None);
        assert_eq!(net_group(ip("::ffff:198.51.100.7")), None);
    }

    #[test]
    fn calling_codes() {
        for (number, code) in [
            ("+14155550100", "1"),
            ("+79161234567", "7"),
            ("+447700900123", "44"),
            ("+33612345678", "33"),
            ("+88216123456", "882"),
            ("+97336001234", "973"),
            ("+2348012345678", "234"),
            ("+8613812345678", "86"),
        ] {
            assert_eq!(calling_code(&n(number)), code, "{number}");
        }
    }
}
