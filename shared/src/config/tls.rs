//! Outbound TLS: the roots trusted besides the compiled-in ones (webpki-roots), for every
//! client of ours (Verify, App Check keys) and the AWS SDK's.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::env::{ConfigError, Env};

#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// `TLS_EXTRA_ROOTS_FILE` (PEM): a private CA in front of Verify or AWS, a test CA.
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl TlsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            extra_roots: extra_roots(env)?,
        })
    }
}

/// Every certificate in the PEM file `TLS_EXTRA_ROOTS_FILE` names (at least one).
fn extra_roots(env: &Env) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    const NAME: &str = "TLS_EXTRA_ROOTS_FILE";
    let Some(path) = env.plain(NAME) else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(&path).map_err(|e| ConfigError::new(NAME, format!("{path}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::new(NAME, format!("{path}: {e}")))?;
    if certs.is_empty() {
        return Err(ConfigError::new(NAME, format!("{path}: no certificate")));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roots_file_must_hold_certificates() {
        assert!(
            TlsConfig::from_env(&Env::default())
                .unwrap()
                .extra_roots
                .is_empty()
        );
        for path in ["/no/such/file.pem", "Cargo.toml"] {
            let env = Env::from_pairs(&[("TLS_EXTRA_ROOTS_FILE", path)]);
            assert_eq!(
                TlsConfig::from_env(&env).unwrap_err().name,
                "TLS_EXTRA_ROOTS_FILE"
            );
        }
    }
}
