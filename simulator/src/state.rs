//! The simulator's state handle (as mini-redis's `db.rs`): the engine, the clock, the faults
//! and the callback target behind one cheap-to-clone `Simulator`. Both HTTP faces
//! (`server.rs` with `v2/`, and `hooks.rs`) import it; it imports neither.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::Clock;
use crate::engine::{Account, Engine};
use crate::faults::Faults;
use crate::limits::Limits;
use crate::network::Networks;
use crate::v2::auth::Application;
use crate::v2::callbacks::CallbackTarget;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub accounts: Vec<Account>,
    /// Seed for PINs and request ids (deterministic mode); random when `None`.
    pub seed: Option<u64>,
    /// Fire due events every second even when nobody asks (so the outbox fills in real time).
    /// State catches up lazily on every call anyway; benchmarks turn this off because one
    /// sweep over tens of thousands of live verifications stalls the lock.
    pub ticker: bool,
    /// Verify's rate limits and search gap; [`Limits::OFF`] for load and attack tests.
    pub limits: Limits,
    /// Vonage applications whose RS256 JWTs the v2 face accepts.
    pub applications: Vec<Application>,
    /// Where v2 summaries are posted, signed (also `POST /_sim/callbacks`).
    pub callbacks: Option<CallbackTarget>,
    /// The accounts may call the Network Unblock API (a capability Vonage's sales enable).
    pub network_unblock: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            accounts: vec![Account {
                api_key: "test-key".into(),
                api_secret: "test-secret".into(),
                pin_code_enabled: false,
            }],
            seed: None,
            ticker: true,
            limits: Limits::REAL,
            applications: Vec::new(),
            callbacks: None,
            network_unblock: false,
        }
    }
}

/// Shared simulator state; cheap to clone.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    ticker: bool,
    applications: Vec<Application>,
    callbacks: Mutex<Option<CallbackTarget>>,
    sent: std::sync::atomic::AtomicU64,
    /// When the ticker last forgot old verifications (simulated time).
    forgot_at: std::sync::atomic::AtomicI64,
    engine: Mutex<Engine>,
    clock: Clock,
    faults: Mutex<Faults>,
    networks: Mutex<Networks>,
    network_unblock: bool,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        let mut engine = Engine::new(config.accounts, config.seed);
        engine.set_limits(config.limits);
        Self {
            inner: Arc::new(Inner {
                ticker: config.ticker,
                applications: config.applications,
                callbacks: Mutex::new(config.callbacks),
                sent: std::sync::atomic::AtomicU64::new(1),
                forgot_at: std::sync::atomic::AtomicI64::new(i64::MIN),
                engine: Mutex::new(engine),
                clock: Clock::default(),
                faults: Mutex::new(Faults::default()),
                networks: Mutex::new(Networks::default()),
                network_unblock: config.network_unblock,
            }),
        }
    }

    pub(crate) fn accounts(&self) -> Vec<Account> {
        self.engine().accounts().to_vec()
    }

    /// Vonage's network blocks (status 7) and their unblocks.
    pub fn networks(&self) -> MutexGuard<'_, Networks> {
        self.inner
            .networks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn network_unblock_allowed(&self) -> bool {
        self.inner.network_unblock
    }

    pub(crate) fn applications(&self) -> Vec<Application> {
        self.inner.applications.clone()
    }

    pub fn set_callbacks(&self, target: Option<CallbackTarget>) {
        *self
            .inner
            .callbacks
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = target;
    }

    /// Posts the summaries of v2 verifications that finished (dropped when no URL is set).
    pub(crate) fn deliver(&self) {
        let summaries = self.engine().take_summaries();
        let target = self
            .inner
            .callbacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(target) = target else {
            return;
        };
        for (api_key, body) in summaries {
            let seq = self
                .inner
                .sent
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            crate::v2::callbacks::send(&target, &api_key, &body, seq);
        }
    }

    pub fn limits(&self) -> Limits {
        self.engine().limits()
    }

    /// Replaces the rate limits and search gap (also `POST /_sim/limits`).
    pub fn set_limits(&self, limits: Limits) {
        self.engine().set_limits(limits);
    }

    /// Whether a served simulator runs its one-second ticker.
    pub(crate) fn ticks(&self) -> bool {
        self.inner.ticker
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Locks the engine; a poisoned lock is recovered since the state stays consistent
    /// (every mutation completes before the guard drops).
    pub(crate) fn engine(&self) -> MutexGuard<'_, Engine> {
        self.inner
            .engine
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.inner
            .faults
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fires due events and expiries for every request (the ticker and the outbox call it).
    pub fn tick(&self) {
        use std::sync::atomic::Ordering;
        let now = self.inner.clock.now_ms();
        {
            let mut engine = self.engine();
            engine.catch_up_all(now);
            // A sweep a (simulated) minute: it visits every verification held.
            let last = self.inner.forgot_at.load(Ordering::Relaxed);
            if now.saturating_sub(last) >= 60_000 {
                self.inner.forgot_at.store(now, Ordering::Relaxed);
                engine.forget_finished(now);
            }
        }
        self.deliver();
    }

    /// Runs [`Simulator::tick`] every second in a background task.
    pub fn spawn_ticker(&self) {
        let ticker = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                ticker.tick();
            }
        });
    }
}
