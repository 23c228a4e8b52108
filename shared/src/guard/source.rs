//! Who a call is from, as the guard counts it. An app calling directly is its TCP peer; an
//! authenticated backend (`api-key`, `iam`) may name its end user (address and/or an opaque
//! key), and per-address rules then key on that end user; a backend that names none is one
//! caller for all its users, so the per-address rules are off for it (they would be limits on
//! the whole app) and nobody is a number's owner through it.

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The TCP peer (API Gateway's `sourceIp`).
    Peer(Option<IpAddr>),
    /// The end user an authenticated backend named.
    EndUser {
        ip: Option<IpAddr>,
        key: Option<String>,
    },
    /// An authenticated backend that named no end user.
    Backend,
}

impl Source {
    /// The end user's (or peer's) address, when known.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Source::Peer(ip) | Source::EndUser { ip, .. } => *ip,
            Source::Backend => None,
        }
    }
}
