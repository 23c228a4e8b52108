//! The verification token: proof, for the app's backend, that a number was verified. A
//! successful `/check` answers a short-lived JWT (EdDSA or ES256) naming the E.164 number and
//! the request; backends verify it with the public keys at `/.well-known/jwks.json`.
//!
//! Keys are PKCS#8 PEM private keys (SSM SecureString in AWS, environment or a generated file
//! locally). Several keys in one value rotate: the first signs, all are published.

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;

use crate::config::TokenConfig;
use crate::verify::Number;

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";

struct SigningKey {
    alg: Algorithm,
    kid: String,
    key: EncodingKey,
    public: Jwk,
}

pub struct TokenSigner {
    keys: Vec<SigningKey>,
    config: TokenConfig,
}

#[derive(Debug, Serialize)]
struct Claims<'a> {
    /// The verified number in E.164 form (`+447700900000`).
    sub: String,
    request_id: &'a str,
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        write!(f, "TokenSigner(kids={kids:?}, <keys redacted>)")
    }
}

impl TokenSigner {
    /// One or more PEM private keys (Ed25519 or P-256, PKCS#8), the first signs.
    pub fn from_pem(pems: &str, config: TokenConfig) -> Result<Self, String> {
        let blocks: Vec<String> = pems
            .split(PEM_BEGIN)
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(|b| format!("{PEM_BEGIN}\n{b}\n"))
            .collect();
        if blocks.is_empty() {
            return Err("no PKCS#8 private key (-----BEGIN PRIVATE KEY-----) found".into());
        }
        let keys = blocks
            .iter()
            .enumerate()
            .map(|(i, pem)| signing_key(pem).map_err(|e| format!("key {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { keys, config })
    }

    /// A new Ed25519 key as PKCS#8 PEM (the local server's first start).
    pub fn generate_pem() -> Result<String, String> {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::Ed25519KeyPair;
        use base64::Engine;
        let doc = Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new())
            .map_err(|_| "could not generate an Ed25519 key".to_string())?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(doc.as_ref());
        Ok(format!("{PEM_BEGIN}\n{b64}\n-----END PRIVATE KEY-----\n"))
    }

    /// The token for a verified number.
    pub fn sign(&self, number: &Number, request_id: &str, now_s: i64) -> Result<String, String> {
        let key = self.keys.first().ok_or("no key")?;
        sign_with(key, &self.claims(number, request_id, now_s))
    }

    fn claims<'a>(&'a self, number: &Number, request_id: &'a str, now_s: i64) -> Claims<'a> {
        Claims {
            sub: format!("+{}", number.digits()),
            request_id,
            iss: &self.config.issuer,
            aud: &self.config.audience,
            iat: now_s,
            exp: now_s + self.config.ttl.as_secs() as i64,
        }
    }

    /// The public keys, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().map(|k| k.public.clone()).collect(),
        }
    }
}

fn sign_with(key: &SigningKey, claims: &Claims<'_>) -> Result<String, String> {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    encode(&header, claims, &key.key).map_err(|e| e.to_string())
}

fn signing_key(pem: &str) -> Result<SigningKey, String> {
    let (alg, key) = match EncodingKey::from_ed_pem(pem.as_bytes()) {
        Ok(k) => (Algorithm::EdDSA, k),
        Err(_) => match EncodingKey::from_ec_pem(pem.as_bytes()) {
            Ok(k) => (Algorithm::ES256, k),
            Err(_) => return Err("not an Ed25519 or P-256 PKCS#8 private key".into()),
        },
    };
    let mut public = Jwk::from_encoding_key(&key, alg).map_err(|e| e.to_string())?;
    let kid = public
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| e.to_string())?;
    public.common.key_id = Some(kid.clone());
    public.common.public_key_use = Some(PublicKeyUse::Signature);
    let key = SigningKey {
        alg,
        kid,
        key,
        public,
    };
    // Sign once now, so a key that cannot sign fails the start, not a user's check.
    let probe = Claims {
        sub: String::new(),
        request_id: "",
        iss: "",
        aud: "",
        iat: 0,
        exp: 0,
    };
    sign_with(&key, &probe)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};
    use std::time::Duration;

    fn config() -> TokenConfig {
        TokenConfig {
            issuer: "https://verify.example".into(),
            audience: "backend".into(),
            ttl: Duration::from_secs(300),
            ..TokenConfig::default()
        }
    }

    #[derive(serde::Deserialize)]
    struct Got {
        sub: String,
        request_id: String,
        exp: i64,
        iat: i64,
    }

    fn verify(signer: &TokenSigner, token: &str) -> Result<Got, jsonwebtoken::errors::Error> {
        let header = jsonwebtoken::decode_header(token)?;
        let jwks = signer.jwks();
        let jwk = jwks.find(header.kid.as_deref().unwrap_or("")).unwrap();
        let mut v = Validation::new(header.alg);
        v.set_issuer(&["https://verify.example"]);
        v.set_audience(&["backend"]);
        decode::<Got>(token, &DecodingKey::from_jwk(jwk)?, &v).map(|d| d.claims)
    }

    #[test]
    fn generated_key_signs_tokens_the_jwks_verifies() {
        let signer =
            TokenSigner::from_pem(&TokenSigner::generate_pem().unwrap(), config()).unwrap();
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let n = Number::parse("+44 7700 900123").unwrap();
        let token = signer.sign(&n, "abc123", now).unwrap();
        let got = verify(&signer, &token).unwrap();
        assert_eq!(got.sub, "+447700900123");
        assert_eq!(got.request_id, "abc123");
        assert_eq!(got.exp - got.iat, 300);
        let jwks = serde_json::to_value(signer.jwks()).unwrap();
        assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
        assert_eq!(jwks["keys"][0]["use"], "sig");
        assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    }

    #[test]
    fn rotation_publishes_both_and_signs_with_the_first() {
        let (a, b) = (
            TokenSigner::generate_pem().unwrap(),
            TokenSigner::generate_pem().unwrap(),
        );
        let old = TokenSigner::from_pem(&b, config()).unwrap();
        let both = TokenSigner::from_pem(&format!("{a}{b}"), config()).unwrap();
        assert_eq!(both.jwks().keys.len(), 2);
        let n = Number::parse("+447700900123").unwrap();
        let now = jsonwebtoken::get_current_timestamp() as i64;
        // A token from the old key still verifies against the new set.
        let t = old.sign(&n, "r", now).unwrap();
        assert!(verify(&both, &t).is_ok());
        // New tokens are signed by the first key, which the old set does not have.
        let t = both.sign(&n, "r", now).unwrap();
        let kid = jsonwebtoken::decode_header(&t).unwrap().kid.unwrap();
        assert_eq!(kid, both.jwks().keys[0].common.key_id.clone().unwrap());
        assert!(old.jwks().find(&kid).is_none());
        assert!(verify(&both, &t).is_ok());
    }

    #[test]
    fn expired_and_tampered_tokens_fail() {
        let signer =
            TokenSigner::from_pem(&TokenSigner::generate_pem().unwrap(), config()).unwrap();
        let n = Number::parse("+447700900123").unwrap();
        let old = jsonwebtoken::get_current_timestamp() as i64 - 3600;
        assert!(verify(&signer, &signer.sign(&n, "r", old).unwrap()).is_err());
        let now = old + 3600;
        let t = signer.sign(&n, "r", now).unwrap();
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        parts[1] = parts[1].replace('A', "B");
        assert!(verify(&signer, &parts.join(".")).is_err());
    }

    #[test]
    fn refuses_what_is_not_a_signing_key() {
        assert!(TokenSigner::from_pem("", config()).is_err());
        assert!(TokenSigner::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n", config()).is_err());
    }

    #[test]
    fn debug_shows_no_key() {
        let pem = TokenSigner::generate_pem().unwrap();
        let signer = TokenSigner::from_pem(&pem, config()).unwrap();
        let shown = format!("{signer:?}");
        assert!(shown.contains("redacted"));
        let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
        assert!(!shown.contains(&body));
    }
}
