//! The attackers, one per scenario, each a generator of timed actions on the world.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng;
use shared::guard::rules::{DAY, HOUR, MINUTE, SECOND};

use crate::verify_model::Actor;
use crate::world::{DAY0, Started, World};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// No attacker: the honest day the others are compared with.
    Baseline,
    /// (a) 1,000 IPv4 addresses and 500 IPv6 /64s of one /48, random mobiles, paced under
    /// the per-address limits (one start each per 15 minutes), all day.
    Vandal,
    /// (b) sequential numbers in three ranges of one country, from 200 addresses.
    Pumper,
    /// (c) 100 chosen returning users, each hit every 2 minutes from a fresh address with a
    /// start and, when it goes ahead, three wrong codes.
    Lockout,
    /// (d) 500 calls from one address at 08:00, then 26 addresses x 20 starts at 09:00.
    CapKill,
    /// (e) one returning user's number bombed from 500 addresses, each every 10 minutes.
    Bombing,
    /// (f) 10x the normal rate of new users for 2 hours, half of whom finish.
    Surge,
    /// (g) 20 % of honest starts lose their answer and retry.
    LostAnswers,
    /// (h) the lockout (c) through one api-key backend that names its end users: an honest
    /// user's account is the same from any address; the attacker opens one per address.
    BehindBackend,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Baseline,
        Scenario::Vandal,
        Scenario::Pumper,
        Scenario::Lockout,
        Scenario::CapKill,
        Scenario::Bombing,
        Scenario::Surge,
        Scenario::LostAnswers,
        Scenario::BehindBackend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Baseline => "baseline",
            Scenario::Vandal => "a-vandal",
            Scenario::Pumper => "b-pumper",
            Scenario::Lockout => "c-lockout",
            Scenario::CapKill => "d-cap-kill",
            Scenario::Bombing => "e-bombing",
            Scenario::Surge => "f-surge",
            Scenario::LostAnswers => "g-lost-answers",
            Scenario::BehindBackend => "h-lockout-behind-backend",
        }
    }

    pub fn by_name(name: &str) -> Option<Scenario> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// An attacker's state; `act` runs one action and says when the next ones are.
pub struct Attack {
    pub scenario: Scenario,
    /// The numbers under attack (lockout victims, the bombed number).
    pub victims: Vec<String>,
    /// Live verification ids the attacker holds (for the wrong codes), by tag.
    next_address: u32,
    pumped: u64,
}

/// Tags: the action's kind in the high bits, its subject in the low ones.
const VANDAL: u64 = 1 << 40;
const PUMPER: u64 = 2 << 40;
const LOCKOUT: u64 = 3 << 40;
const BURST_ONE: u64 = 4 << 40;
const BURST_MANY: u64 = 5 << 40;
const BOMB: u64 = 6 << 40;
const LOW: u64 = (1 << 40) - 1;

impl Attack {
    pub fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            victims: Vec::new(),
            next_address: 0,
            pumped: 0,
        }
    }

    /// Schedules the attack's first actions (after the honest users are planned, so the
    /// victims are real returning users).
    pub fn plan(&mut self, w: &mut World) {
        match self.scenario {
            Scenario::Vandal => {
                for source in 0..1_500u64 {
                    let t = DAY0 + w.rng.random_range(0..15 * MINUTE);
                    w.attack_at(t, VANDAL | source);
                }
            }
            Scenario::Pumper => {
                for source in 0..200u64 {
                    let t = DAY0 + w.rng.random_range(0..10 * MINUTE);
                    w.attack_at(t, PUMPER | source);
                }
            }
            Scenario::Lockout | Scenario::BehindBackend => {
                self.victims = w
                    .returning
                    .iter()
                    .take(100)
                    .map(|(n, _)| n.clone())
                    .collect();
                for v in 0..self.victims.len() as u64 {
                    let t = DAY0 + w.rng.random_range(0..2 * MINUTE);
                    w.attack_at(t, LOCKOUT | v);
                }
            }
            Scenario::CapKill => {
                for i in 0..500u64 {
                    w.attack_at(DAY0 + 8 * HOUR + i as i64 * 100, BURST_ONE | i);
                }
                for i in 0..(26 * 20) as u64 {
                    w.attack_at(DAY0 + 9 * HOUR + i as i64 * 100, BURST_MANY | i);
                }
            }
            Scenario::Bombing => {
                self.victims = w.returning.iter().take(1).map(|(n, _)| n.clone()).collect();
                for source in 0..500u64 {
                    let t = DAY0 + w.rng.random_range(0..10 * MINUTE);
                    w.attack_at(t, BOMB | source);
                }
            }
            Scenario::Baseline | Scenario::Surge | Scenario::LostAnswers => {}
        }
    }

    fn fresh_v4(&mut self) -> IpAddr {
        self.next_address += 1;
        let n = self.next_address;
        IpAddr::V4(Ipv4Addr::new(45, (n >> 16) as u8, (n >> 8) as u8, n as u8))
    }

    /// One action; the next ones as (time, tag).
    pub async fn act(&mut self, w: &mut World, tag: u64) -> Vec<(i64, u64)> {
        let now = w.now();
        let end = DAY0 + DAY;
        let (kind, low) = (tag & !LOW, tag & LOW);
        let again = |every: i64| match now + every < end {
            true => vec![(now + every, tag)],
            false => Vec::new(),
        };
        match kind {
            VANDAL => {
                let from = if low < 1_000 {
                    IpAddr::V4(Ipv4Addr::new(
                        185,
                        (low >> 8) as u8,
                        low as u8,
                        (low % 250 + 1) as u8,
                    ))
                } else {
                    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xbad, low as u16, 0, 0, 0, 1))
                };
                let number = w.mobile();
                w.start(&number, from, Actor::Attacker).await;
                again(15 * MINUTE)
            }
            PUMPER => {
                self.pumped += 1;
                let range = self.pumped % 3;
                let number = format!("+4478009{range}{:04}", self.pumped / 3 % 10_000);
                let from = IpAddr::V4(Ipv4Addr::new(
                    193,
                    0,
                    (low / 250) as u8,
                    (low % 250) as u8 + 1,
                ));
                w.start(&number, from, Actor::Attacker).await;
                again(10 * MINUTE)
            }
            LOCKOUT => {
                let victim = self.victims[low as usize].clone();
                let from = self.fresh_v4();
                if let Started::Id(id) = w.start(&victim, from, Actor::Attacker).await {
                    for _ in 0..3 {
                        let _ = w.check(&id, from, false, Actor::Attacker).await;
                    }
                }
                again(2 * MINUTE)
            }
            BURST_ONE => {
                let number = w.mobile();
                let from = IpAddr::V4(Ipv4Addr::new(45, 200, 0, 1));
                w.start(&number, from, Actor::Attacker).await;
                Vec::new()
            }
            BURST_MANY => {
                let number = w.mobile();
                let from = IpAddr::V4(Ipv4Addr::new(45, 201, 0, (low / 20) as u8 + 1));
                w.start(&number, from, Actor::Attacker).await;
                Vec::new()
            }
            BOMB => {
                let victim = self.victims[0].clone();
                let from = IpAddr::V4(Ipv4Addr::new(
                    45,
                    202,
                    (low / 250) as u8,
                    (low % 250) as u8 + 1,
                ));
                w.start(&victim, from, Actor::Attacker).await;
                let jitter = w.rng.random_range(0..30) * SECOND;
                again(10 * MINUTE + jitter)
            }
            _ => Vec::new(),
        }
    }
}
