//! One simulated day on the real guard (default policy, memory store, fake clock): honest
//! sessions on a daily pattern and one attacker, as events in time order. Honest users are
//! returning (verified before, usually from their own address) or new; they finish or not,
//! mistype, lose the answer and retry, and honour `Retry-After` up to half an hour.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::ProxyError;
use shared::guard::rules::{DAY, HOUR, MINUTE, SECOND};
use shared::guard::store::memory::MemoryStore;
use shared::guard::{AnyStore, Clock, FakeClock, Guard, Hasher, Policy, Source};
use shared::verify::{LineType, Number};

use crate::attacks::Attack;
use crate::verify_model::{Actor, LIFETIME, VerifyModel};

/// 2027-03-01T00:00:00Z: the drill's day (the deployment has run for a month before it).
pub const DAY0: i64 = 1_803_859_200_000;
/// An honest user gives up after waiting this long in all.
const PATIENCE: i64 = 30 * MINUTE;
/// The share of honest starts per UTC hour (a day's pattern: quiet at night, busy evenings).
const HOURLY: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 3.5, 3.5, 4.0, 4.0, 3.5, 3.5, 3.5, 4.0, 4.5,
    5.0, 5.0, 4.0, 3.0, 2.0,
];

/// The honest population.
#[derive(Debug, Clone)]
pub struct Honest {
    pub starts_per_day: usize,
    pub returning_pool: usize,
    pub returning_share: f64,
    pub finish_new: f64,
    pub finish_returning: f64,
    pub mistype: f64,
    pub lost: f64,
    /// Returning users coming from another address than the one they verified from.
    pub moved: f64,
    /// Users behind the carriers' NAT (four addresses).
    pub nat: f64,
    /// (first hour, hours, x normal rate, finishing share) of a surge of new users.
    pub surge: Option<(i64, i64, f64, f64)>,
}

impl Default for Honest {
    fn default() -> Self {
        Self {
            starts_per_day: 400,
            returning_pool: 600,
            returning_share: 0.6,
            finish_new: 0.7,
            finish_returning: 0.9,
            mistype: 0.1,
            lost: 0.1,
            moved: 0.1,
            nat: 0.3,
            surge: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Returning,
    Moved,
    New,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub kind: Kind,
    pub number: String,
    pub from: IpAddr,
    pub first: i64,
    pub finishes: bool,
    mistypes: bool,
    loses: bool,
    pub verified_at: Option<i64>,
    /// When the start that led to the verification went ahead.
    pub admitted_at: Option<i64>,
    pub gave_up: bool,
    id: Option<String>,
    /// What refused it on the way (rule names), for the drill's breakdown.
    pub refusals: Vec<&'static str>,
}

impl Session {
    /// The wait from the first try to the start that got the code through.
    pub fn wait(&self) -> Option<i64> {
        self.admitted_at.map(|a| a - self.first)
    }
}

enum Event {
    Attempt(usize),
    Check(usize, bool),
    Attack(u64),
}

pub struct World {
    pub guard: Guard,
    pub clock: FakeClock,
    pub model: VerifyModel,
    pub rng: StdRng,
    pub sessions: Vec<Session>,
    pub returning: Vec<(String, IpAddr)>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    events: HashMap<u64, Event>,
    seq: u64,
    /// Checks that reached Verify, per number (brute-force odds).
    pub guesses: HashMap<String, usize>,
    /// Calls come through one api-key backend that names its end users.
    pub behind_backend: bool,
}

/// What a start came to, for the caller.
pub enum Started {
    Id(String),
    /// Refused or status 10: retry after this many seconds; the refusal's name.
    Wait(u64, &'static str),
    Refused,
}

impl World {
    pub fn new(seed: u64) -> Self {
        let clock = FakeClock::at(DAY0 - 30 * DAY);
        let guard = Guard::new(
            Policy::default(),
            AnyStore::Memory(MemoryStore::new()),
            Hasher::new(b"drill-key-0123456789").unwrap_or_else(|e| panic!("{e}")),
            Arc::new(clock.clone()),
            false,
        );
        Self {
            guard,
            clock,
            model: VerifyModel::default(),
            rng: StdRng::seed_from_u64(seed),
            sessions: Vec::new(),
            returning: Vec::new(),
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            seq: 0,
            guesses: HashMap::new(),
            behind_backend: false,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn at(&mut self, t: i64, e: Event) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq)));
        self.events.insert(self.seq, e);
    }

    pub fn attack_at(&mut self, t: i64, tag: u64) {
        self.at(t, Event::Attack(tag));
    }

    /// A random number the metadata calls a mobile (UK 70 %, France 30 %): what honest users
    /// and a vandal who knows the numbering plan both type.
    pub fn mobile(&mut self) -> String {
        loop {
            let raw = match self.rng.random_bool(0.7) {
                true => format!("+447{:09}", self.rng.random_range(0..1_000_000_000u64)),
                false => format!("+336{:08}", self.rng.random_range(0..100_000_000u64)),
            };
            let mobile = Number::parse(&raw).is_ok_and(|n| n.line_type() == LineType::Mobile);
            if mobile {
                return raw;
            }
        }
    }

    pub fn address(&mut self) -> IpAddr {
        if self.rng.random_bool(0.2) {
            let s: [u16; 4] = self.rng.random();
            IpAddr::V6(Ipv6Addr::new(0x2a00, s[0], s[1], s[2], s[3], 0, 0, 1))
        } else {
            let b: [u8; 3] = self.rng.random();
            IpAddr::V4(Ipv4Addr::new(81, b[0], b[1], b[2].max(1)))
        }
    }

    fn nat(&mut self) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(100, 64, 0, self.rng.random_range(1..=4)))
    }

    /// Who the guard counts a call as: its address; behind a backend, the end user it names
    /// (an honest user's account is the same wherever it connects from; an attacker's is a
    /// new one per address).
    fn source(&self, from: IpAddr, by: Actor, number: &str) -> Source {
        if !self.behind_backend {
            return Source::Peer(Some(from));
        }
        let key = match by {
            Actor::Honest => format!("user{}", number.trim_start_matches('+')),
            Actor::Attacker => format!("acct{}", from).replace(['.', ':'], "-"),
        };
        Source::EndUser {
            ip: Some(from),
            key: Some(key),
        }
    }

    /// A start as `/request` makes it: the guard, then Verify, then the guard's record.
    pub async fn start(&mut self, number: &str, from: IpAddr, by: Actor) -> Started {
        let Ok(n) = Number::parse(number) else {
            return Started::Refused;
        };
        let source = self.source(from, by, number);
        let s = self
            .guard
            .subject_from(&n, &source)
            .with_workflow(3, LIFETIME)
            .with_calls(2);
        let admitted = match self.guard.admit_start(&s).await {
            Ok(a) => a,
            Err(e) => return wait_of(&e),
        };
        if let Some(id) = admitted.replay {
            return Started::Id(id); // its own live verification, answered again
        }
        let now = self.now();
        match self.model.start(n.digits(), now, by) {
            Some(id) => {
                self.guard.started(&s, &admitted, &id).await;
                Started::Id(id)
            }
            None => {
                self.guard.concurrent(&admitted).await;
                Started::Wait(admitted.retry_after, "verify_status_10")
            }
        }
    }

    /// A check as `/check` makes it; Verify's status, or the guard's refusal.
    pub async fn check(
        &mut self,
        id: &str,
        from: IpAddr,
        right: bool,
        by: Actor,
    ) -> Result<&'static str, ProxyError> {
        let record = self
            .guard
            .known(id)
            .await?
            .ok_or(ProxyError::UnknownRequest)?;
        let number = self.model_number(id).unwrap_or_default();
        let source = self.source(from, by, &format!("+{number}"));
        let source = self.guard.source_of(&source);
        self.guard.admit_check(&record, id, &source).await?;
        let now = self.now();
        let status = self.model.check(id, right, now);
        if let Some(v) = self.model_number(id) {
            *self.guesses.entry(v).or_default() += usize::from(!right);
        }
        self.guard
            .checked_code(id, &record, &source, status, None)
            .await;
        Ok(status)
    }

    fn model_number(&self, id: &str) -> Option<String> {
        let i = usize::from_str_radix(id, 16).ok()?.checked_sub(1)?;
        self.model.all.get(i).map(|v| v.number.clone())
    }

    /// The returning users: each verified once from its own address in the days before.
    pub async fn seed_returning(&mut self, h: &Honest) {
        // The deployment's first start, a month ago: the auto-block has its baseline.
        self.clock.set_ms(DAY0 - 30 * DAY);
        let first = self.mobile();
        let from = self.address();
        self.start(&first, from, Actor::Honest).await;
        let span = 2 * DAY;
        for i in 0..h.returning_pool {
            self.clock
                .set_ms(DAY0 - 3 * DAY + span * i as i64 / h.returning_pool as i64);
            let number = self.mobile();
            let home = if self.rng.random_bool(h.nat) {
                self.nat()
            } else {
                self.address()
            };
            if let Started::Id(id) = self.start(&number, home, Actor::Honest).await {
                let _ = self.check(&id, home, true, Actor::Honest).await;
                self.returning.push((number, home));
            }
        }
    }

    /// The day's honest sessions, at times drawn from the daily pattern.
    pub fn plan_honest(&mut self, h: &Honest) {
        let total: f64 = HOURLY.iter().sum();
        let mut plan = Vec::new();
        for (hour, w) in HOURLY.iter().enumerate() {
            let mut n = h.starts_per_day as f64 * w / total;
            let mut finish_new = h.finish_new;
            let mut returning_share = h.returning_share;
            if let Some((first, hours, factor, finish)) = h.surge
                && (first..first + hours).contains(&(hour as i64))
            {
                n *= factor;
                finish_new = finish;
                returning_share /= factor;
            }
            for _ in 0..n.round() as usize {
                let t = DAY0 + hour as i64 * HOUR + self.rng.random_range(0..HOUR);
                plan.push((t, finish_new, returning_share));
            }
        }
        for (t, finish_new, returning_share) in plan {
            let returning = !self.returning.is_empty() && self.rng.random_bool(returning_share);
            let (kind, number, from) = if returning {
                let (number, home) =
                    self.returning[self.rng.random_range(0..self.returning.len())].clone();
                match self.rng.random_bool(h.moved) {
                    true => (Kind::Moved, number, self.address()),
                    false => (Kind::Returning, number, home),
                }
            } else {
                let number = self.mobile();
                let from = if self.rng.random_bool(h.nat) {
                    self.nat()
                } else {
                    self.address()
                };
                (Kind::New, number, from)
            };
            let finish = if kind == Kind::New {
                finish_new
            } else {
                h.finish_returning
            };
            self.sessions.push(Session {
                kind,
                number,
                from,
                first: t,
                finishes: self.rng.random_bool(finish),
                mistypes: self.rng.random_bool(h.mistype),
                loses: self.rng.random_bool(h.lost),
                verified_at: None,
                admitted_at: None,
                gave_up: false,
                id: None,
                refusals: Vec::new(),
            });
            let i = self.sessions.len() - 1;
            self.at(t, Event::Attempt(i));
        }
    }

    /// Runs every event until the day (and the verifications it started) are over.
    pub async fn run(&mut self, attack: &mut Attack) {
        let end = DAY0 + DAY + HOUR;
        while let Some(Reverse((t, seq))) = self.queue.pop() {
            if t > end {
                break;
            }
            self.clock.set_ms(t);
            let Some(event) = self.events.remove(&seq) else {
                continue;
            };
            match event {
                Event::Attempt(i) => self.attempt(i).await,
                Event::Check(i, right) => self.honest_check(i, right).await,
                Event::Attack(tag) => {
                    for (at, tag) in attack.act(self, tag).await {
                        self.attack_at(at, tag);
                    }
                }
            }
        }
    }

    async fn attempt(&mut self, i: usize) {
        let (number, from) = (self.sessions[i].number.clone(), self.sessions[i].from);
        let now = self.now();
        match self.start(&number, from, Actor::Honest).await {
            Started::Id(id) => {
                let s = &mut self.sessions[i];
                if s.loses && s.id.is_none() && s.admitted_at.is_none() {
                    // The answer never arrives: the app retries 10 s later.
                    s.loses = false;
                    self.at(now + 10 * SECOND, Event::Attempt(i));
                    return;
                }
                s.id = Some(id);
                s.admitted_at = Some(now);
                if s.finishes {
                    let think = self.rng.random_range(20..90) * SECOND;
                    let right = !self.sessions[i].mistypes;
                    self.at(now + think, Event::Check(i, right));
                }
            }
            Started::Wait(secs, why) => {
                self.sessions[i].refusals.push(why);
                self.retry(i, secs as i64 * SECOND)
            }
            Started::Refused => self.sessions[i].gave_up = true,
        }
    }

    fn retry(&mut self, i: usize, wait: i64) {
        let now = self.now();
        let s = &mut self.sessions[i];
        if now + wait - s.first > PATIENCE {
            s.gave_up = true;
        } else {
            self.at(now + wait, Event::Attempt(i));
        }
    }

    async fn honest_check(&mut self, i: usize, right: bool) {
        let Some(id) = self.sessions[i].id.clone() else {
            return;
        };
        let from = self.sessions[i].from;
        match self.check(&id, from, right, Actor::Honest).await {
            Ok("0") => self.sessions[i].verified_at = Some(self.now()),
            Ok("16") => {
                let now = self.now();
                self.at(now + 15 * SECOND, Event::Check(i, true));
            }
            // Spent or expired: a new start.
            Ok(_) | Err(ProxyError::CodeLocked { .. }) => {
                self.sessions[i].id = None;
                self.sessions[i].admitted_at = None;
                self.retry(i, SECOND);
            }
            Err(e) => match e.retry_after() {
                Some(secs) => {
                    self.sessions[i].refusals.push(e.outcome());
                    let now = self.now();
                    let s = &mut self.sessions[i];
                    if now + secs as i64 * SECOND - s.first > PATIENCE {
                        s.gave_up = true;
                    } else {
                        self.at(now + secs as i64 * SECOND, Event::Check(i, right));
                    }
                }
                None => self.sessions[i].gave_up = true,
            },
        }
    }
}

fn wait_of(e: &ProxyError) -> Started {
    match e.retry_after() {
        Some(s) => Started::Wait(s, e.outcome()),
        None => Started::Refused,
    }
}
