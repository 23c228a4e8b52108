//! JWTs for a Vonage application: RS256 with the application's private key, claims
//! `application_id`, `iat`, `exp` and `jti`. One is minted and reused until shortly before it
//! expires (signing with RSA costs far more than a request), and minted again when the key
//! changes (a rotated SSM parameter).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// How long a minted JWT is valid, and how long before its end a new one is made.
const LIFETIME_S: u64 = 900;
const RENEW_BEFORE_S: u64 = 60;

#[derive(Serialize)]
struct Claims<'a> {
    application_id: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

struct Minted {
    /// Which application and key it was signed for (a digest: no key material kept twice).
    signer: [u8; 32],
    token: String,
    expires: u64,
}

#[derive(Default)]
pub struct AppJwt {
    cache: Mutex<Option<Minted>>,
}

impl AppJwt {
    /// A JWT for `application_id` signed with `private_key_pem`, from the cache when it has
    /// one for that key with more than a minute left.
    pub async fn token(
        &self,
        application_id: &str,
        private_key_pem: &str,
    ) -> Result<String, String> {
        self.token_at(application_id, private_key_pem, now_s())
            .await
    }

    pub async fn token_at(
        &self,
        application_id: &str,
        private_key_pem: &str,
        now: u64,
    ) -> Result<String, String> {
        let signer: [u8; 32] = Sha256::new()
            .chain_update(application_id.as_bytes())
            .chain_update([0])
            .chain_update(private_key_pem.as_bytes())
            .finalize()
            .into();
        let mut cache = self.cache.lock().await;
        if let Some(m) = cache.as_ref()
            && m.signer == signer
            && m.expires > now + RENEW_BEFORE_S
        {
            return Ok(m.token.clone());
        }
        let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes())
            .map_err(|e| format!("the application's private key is not an RSA PEM key: {e}"))?;
        let mut jti = [0u8; 16];
        SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| "no randomness for the JWT id".to_string())?;
        let claims = Claims {
            application_id,
            iat: now,
            exp: now + LIFETIME_S,
            jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
            .map_err(|e| format!("could not sign the application JWT: {e}"))?;
        *cache = Some(Minted {
            signer,
            token: token.clone(),
            expires: now + LIFETIME_S,
        });
        Ok(token)
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode};

    const PRIVATE: &str =
        include_str!("../../../../simulator/tests/fixtures/test-only-app-private.pem");
    const PUBLIC: &str =
        include_str!("../../../../simulator/tests/fixtures/test-only-app-public.pem");

    #[derive(serde::Deserialize)]
    struct Seen {
        application_id: String,
        iat: u64,
        exp: u64,
        jti: String,
    }

    #[tokio::test]
    async fn minted_once_and_renewed_before_expiry() {
        let jwt = AppJwt::default();
        let t0 = 1_800_000_000;
        let a = jwt.token_at("app-1", PRIVATE, t0).await.unwrap();
        let key = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        let claims = decode::<Seen>(&a, &key, &v).unwrap().claims;
        assert_eq!(claims.application_id, "app-1");
        assert_eq!((claims.iat, claims.exp), (t0, t0 + LIFETIME_S));
        assert_eq!(claims.jti.len(), 32);
        assert_eq!(
            jwt.token_at("app-1", PRIVATE, t0 + 600).await.unwrap(),
            a,
            "cached"
        );
        let renewed = jwt
            .token_at("app-1", PRIVATE, t0 + LIFETIME_S - RENEW_BEFORE_S)
            .await
            .unwrap();
        assert_ne!(renewed, a, "renewed a minute before it ends");
        let other = jwt.token_at("app-2", PRIVATE, t0 + 1).await.unwrap();
        assert_ne!(other, renewed, "another application, another token");
        assert!(jwt.token_at("app-1", "not a key", t0).await.is_err());
    }
}
