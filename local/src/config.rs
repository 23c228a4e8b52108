//! The local server's own settings (none of them exist in Lambda), read through the same
//! [`Env`] as the proxy's.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use shared::config::{ConfigError, Env};
use verify_sim::Limits;

use crate::listener::Serving;

#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// `LISTEN`, default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `SIM_LOG_OUTBOX=1`: log the simulator's outbox lines (they carry PINs and numbers).
    pub show_outbox: bool,
    /// `SIM_SEED`: the simulator's codes and ids repeat run to run.
    pub sim_seed: Option<u64>,
    /// `SIM_LIMITS=real|off`: Verify's own rate limits in the simulator.
    pub sim_limits: Limits,
    /// `LOCAL_STATE_DIR`, default `.verify-proxy/`: the token key kept across restarts.
    pub state_dir: PathBuf,
    /// `LOCAL_MAX_CONNECTIONS` (default 1024) and `LOCAL_HEADER_TIMEOUT_S` (default 10).
    pub serving: Serving,
}

impl LocalConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Serving::default();
        Ok(Self {
            listen: env
                .parsed("LISTEN", "an address such as 127.0.0.1:3000")?
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
            show_outbox: env.flag("SIM_LOG_OUTBOX")?,
            sim_seed: env.parsed("SIM_SEED", "a whole number")?,
            sim_limits: env
                .choice(
                    "SIM_LIMITS",
                    &[("real", Limits::REAL), ("off", Limits::OFF)],
                )?
                .unwrap_or(Limits::REAL),
            state_dir: env
                .plain("LOCAL_STATE_DIR")
                .map_or_else(|| PathBuf::from(".verify-proxy"), PathBuf::from),
            serving: Serving {
                max_connections: env
                    .number_in("LOCAL_MAX_CONNECTIONS", 1..=100_000, "connections")?
                    .map_or(d.max_connections, |n| n as usize),
                header_timeout: env
                    .number_in("LOCAL_HEADER_TIMEOUT_S", 1..=300, "seconds")?
                    .map_or(d.header_timeout, Duration::from_secs),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = LocalConfig::from_env(&Env::default()).unwrap();
        assert_eq!(c.listen.port(), 3000);
        assert!(!c.show_outbox && c.sim_limits == Limits::REAL);
        for (name, value) in [
            ("LISTEN", "localhost"),
            ("SIM_SEED", "-1"),
            ("SIM_LIMITS", "some"),
            ("LOCAL_MAX_CONNECTIONS", "0"),
            ("LOCAL_HEADER_TIMEOUT_S", "soon"),
        ] {
            let e = LocalConfig::from_env(&Env::from_pairs(&[(name, value)])).unwrap_err();
            assert_eq!(e.name, name);
        }
        let c = LocalConfig::from_env(&Env::from_pairs(&[
            ("SIM_LIMITS", "off"),
            ("SIM_SEED", "3"),
        ]))
        .unwrap();
        assert_eq!((c.sim_limits, c.sim_seed), (Limits::OFF, Some(3)));
    }
}
