//! Who may call (`CALLER_AUTH`) and, for app attestation, what its tokens must say
//! (`APP_CHECK_*`).

use std::time::Duration;

use super::env::{ConfigError, Env};

/// `api-key` and `iam` are enforced by API Gateway; the function also refuses a request whose
/// context shows no such caller (a route deployed without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    #[default]
    None,
    ApiKey,
    Iam,
    AppCheck,
}

impl AuthMode {
    const NAMES: [(&str, AuthMode); 4] = [
        ("api-key", AuthMode::ApiKey),
        ("iam", AuthMode::Iam),
        ("app-check", AuthMode::AppCheck),
        ("none", AuthMode::None),
    ];

    pub fn parse(v: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == v).map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("none", |(n, _)| n)
    }
}

/// Where app attestation tokens come from and what they must say. The defaults are Firebase
/// App Check's, with the project number filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCheckConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// The request header that carries the token.
    pub header: String,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_ttl: Duration,
    /// `APP_CHECK_END_USER_HEADERS=trust`: the calls come from the app's own backend relaying
    /// its users' App Check tokens, so `X-End-User-IP`/`-Key` are believed as with `api-key`.
    /// Off by default: a token from a device says nothing about headers the device sets.
    pub trust_end_user_headers: bool,
    /// `APP_CHECK_LIMITED_USE=request`: a start needs a limited-use token (one with a `jti`,
    /// from `getLimitedUseToken()`), and each starts at most one verification (its `jti` is
    /// kept in the guard's store until the token expires). Other endpoints take any token.
    pub limited_use_on_request: bool,
}

pub const FIREBASE_APP_CHECK_JWKS: &str = "https://firebaseappcheck.googleapis.com/v1/jwks";

#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// Set exactly when `mode` is `AppCheck`.
    pub app_check: Option<AppCheckConfig>,
}

impl AuthConfig {
    /// In Lambda `CALLER_AUTH` must be said: an endpoint open to anyone is never a default.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mode = match env.choice("CALLER_AUTH", &AuthMode::NAMES)? {
            Some(mode) => mode,
            None if env.in_lambda() => {
                return Err(ConfigError::new(
                    "CALLER_AUTH",
                    "must be set in Lambda (api-key, iam, app-check, or none for development)",
                ));
            }
            None => AuthMode::None,
        };
        let app_check = match mode {
            AuthMode::AppCheck => Some(app_check(env)?),
            _ => None,
        };
        Ok(Self { mode, app_check })
    }
}

/// `APP_CHECK_PROJECT_NUMBER` gives Firebase's issuer and audience; `APP_CHECK_JWKS_URL`,
/// `APP_CHECK_ISSUER` and `APP_CHECK_AUDIENCE` (comma-separated) set them for any provider.
fn app_check(env: &Env) -> Result<AppCheckConfig, ConfigError> {
    let project = env.plain("APP_CHECK_PROJECT_NUMBER");
    let issuer = env
        .plain("APP_CHECK_ISSUER")
        .or_else(|| {
            project
                .as_ref()
                .map(|p| format!("https://firebaseappcheck.googleapis.com/{p}"))
        })
        .ok_or_else(|| {
            ConfigError::new(
                "APP_CHECK_ISSUER",
                "app-check needs APP_CHECK_PROJECT_NUMBER or APP_CHECK_ISSUER",
            )
        })?;
    let mut audiences = env.list("APP_CHECK_AUDIENCE");
    if audiences.is_empty()
        && let Some(p) = &project
    {
        audiences.push(format!("projects/{p}"));
    }
    if audiences.is_empty() {
        return Err(ConfigError::new(
            "APP_CHECK_AUDIENCE",
            "app-check needs APP_CHECK_PROJECT_NUMBER or APP_CHECK_AUDIENCE",
        ));
    }
    let jwks_url = env
        .plain("APP_CHECK_JWKS_URL")
        .unwrap_or_else(|| FIREBASE_APP_CHECK_JWKS.into());
    if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://127.0.0.1:")) {
        return Err(ConfigError::new(
            "APP_CHECK_JWKS_URL",
            "must be https (http only on 127.0.0.1, for tests)",
        ));
    }
    let jwks_ttl = env
        .number_in("APP_CHECK_JWKS_TTL_S", 60..=86_400, "seconds")?
        .unwrap_or(6 * 3600);
    Ok(AppCheckConfig {
        jwks_url,
        issuer,
        audiences,
        header: env
            .plain("APP_CHECK_HEADER")
            .unwrap_or_else(|| "x-firebase-appcheck".into())
            .to_ascii_lowercase(),
        jwks_ttl: Duration::from_secs(jwks_ttl),
        trust_end_user_headers: env
            .choice(
                "APP_CHECK_END_USER_HEADERS",
                &[("trust", true), ("ignore", false)],
            )?
            .unwrap_or(false),
        limited_use_on_request: env
            .choice(
                "APP_CHECK_LIMITED_USE",
                &[("request", true), ("off", false)],
            )?
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        AuthConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn lambda_needs_an_explicit_mode() {
        let lambda = [("AWS_LAMBDA_FUNCTION_NAME", "request")];
        assert_eq!(from(&lambda).unwrap_err().name, "CALLER_AUTH");
        assert_eq!(
            from(&[lambda[0], ("CALLER_AUTH", "none")]).unwrap().mode,
            AuthMode::None
        );
        assert_eq!(from(&[]).unwrap().mode, AuthMode::None, "local development");
        assert_eq!(
            from(&[("CALLER_AUTH", "open-sesame")]).unwrap_err().name,
            "CALLER_AUTH"
        );
        for (name, mode) in AuthMode::NAMES {
            assert_eq!(AuthMode::parse(name), Some(mode));
            assert_eq!(mode.name(), name);
        }
    }

    #[test]
    fn app_check_defaults_are_firebase() {
        let c = from(&[
            ("CALLER_AUTH", "app-check"),
            ("APP_CHECK_PROJECT_NUMBER", "123456"),
        ])
        .unwrap();
        let a = c.app_check.unwrap();
        assert_eq!(a.jwks_url, FIREBASE_APP_CHECK_JWKS);
        assert_eq!(a.issuer, "https://firebaseappcheck.googleapis.com/123456");
        assert_eq!(a.audiences, vec!["projects/123456"]);
        assert_eq!(a.header, "x-firebase-appcheck");
        assert!(!a.limited_use_on_request && !a.trust_end_user_headers);
        let limited = from(&[
            ("CALLER_AUTH", "app-check"),
            ("APP_CHECK_PROJECT_NUMBER", "123456"),
            ("APP_CHECK_LIMITED_USE", "request"),
        ]);
        assert!(limited.unwrap().app_check.unwrap().limited_use_on_request);
        let wrong = from(&[
            ("CALLER_AUTH", "app-check"),
            ("APP_CHECK_PROJECT_NUMBER", "123456"),
            ("APP_CHECK_LIMITED_USE", "always"),
        ]);
        assert_eq!(wrong.unwrap_err().name, "APP_CHECK_LIMITED_USE");
        assert!(from(&[("CALLER_AUTH", "app-check")]).is_err(), "no project");
        let plain_http = from(&[
            ("CALLER_AUTH", "app-check"),
            ("APP_CHECK_PROJECT_NUMBER", "123"),
            ("APP_CHECK_JWKS_URL", "http://evil.example/jwks"),
        ]);
        assert_eq!(plain_http.unwrap_err().name, "APP_CHECK_JWKS_URL");
    }
}
