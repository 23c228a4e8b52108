//! The end user behind a trusted caller. With `CALLER_AUTH=api-key` or `iam` every call comes
//! from the app's backend, whose one address would make the per-address rules limits on the
//! whole app; such a backend may name its end user in `X-End-User-IP` (the user's address)
//! and `X-End-User-Key` (an opaque user or session id, 1-128 characters of `A-Z a-z 0-9 . _ :
//! -`), and the guard counts by them. They are trusted only from an authenticated caller: with
//! `none` or `app-check` anyone could set them, so they are ignored there, unless an
//! `app-check` deployment says its backend relays the tokens (`APP_CHECK_END_USER_HEADERS`).

use std::net::IpAddr;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::error::ProxyError;
use crate::guard::Source;

pub const IP_HEADER: &str = "x-end-user-ip";
pub const KEY_HEADER: &str = "x-end-user-key";

/// Who the guard should count this call as; `trusted`: the caller may name its end user
/// (`CallerAuth::trusts_end_user_headers`).
pub fn source(req: &Request, trusted: bool) -> Result<Source, ProxyError> {
    let peer = caller_ip(req);
    if !trusted {
        return Ok(Source::Peer(peer));
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().map(str::trim).unwrap_or("\u{0}"))
            .filter(|v| !v.is_empty())
    };
    let ip = header(IP_HEADER)
        .map(|v| {
            v.parse()
                .map_err(|_| ProxyError::invalid("X-End-User-IP", "an IPv4 or IPv6 address"))
        })
        .transpose()?;
    let key = header(KEY_HEADER)
        .map(|v| {
            let ok = v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
            match ok {
                true => Ok(v.to_string()),
                false => Err(ProxyError::invalid(
                    "X-End-User-Key",
                    "1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'",
                )),
            }
        })
        .transpose()?;
    Ok(match (ip, key) {
        (None, None) => Source::Backend,
        (ip, key) => Source::EndUser { ip, key },
    })
}

/// The caller's address as API Gateway saw it (the TCP peer, never a header a client can
/// set); the local server fills the same field. `None` shares one bucket: never a free pass.
pub fn caller_ip(req: &Request) -> Option<IpAddr> {
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        _ => None,
    }?;
    ip.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        let mut b = lambda_http::http::Request::builder().method("POST");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn only_an_authenticated_caller_names_its_end_user() {
        let named = req(&[(IP_HEADER, "198.51.100.9"), (KEY_HEADER, "user:42")]);
        assert_eq!(source(&named, false).unwrap(), Source::Peer(None));
        assert_eq!(
            source(&named, true).unwrap(),
            Source::EndUser {
                ip: "198.51.100.9".parse().ok(),
                key: Some("user:42".into())
            }
        );
        assert_eq!(source(&req(&[]), true).unwrap(), Source::Backend);
        let ip_only = req(&[(IP_HEADER, "2001:db8::1")]);
        assert!(matches!(
            source(&ip_only, true).unwrap(),
            Source::EndUser { key: None, .. }
        ));
        for bad in [
            (IP_HEADER, "not-an-ip"),
            (KEY_HEADER, "white space"),
            (KEY_HEADER, &*"k".repeat(129)),
        ] {
            let r = req(&[bad]);
            assert!(source(&r, true).is_err(), "{bad:?}");
        }
    }
}
