//! Attack drills on the real guard. Each scenario is one simulated UTC day with the default
//! policy: the same honest users (returning and new, on a daily pattern) and one attacker;
//! its figures are measured against the baseline day without the attacker. `scripts/drill`
//! runs them all, prints the table and writes a chart per scenario to `bench/drills/`.

pub mod attacks;
pub mod report;
pub mod verify_model;
pub mod world;

use attacks::{Attack, Scenario};
use report::Figures;
use world::{Honest, Session, World};

/// The honest population of a scenario.
pub fn honest(scenario: Scenario) -> Honest {
    let mut h = Honest::default();
    match scenario {
        Scenario::Surge => h.surge = Some((14, 2, 10.0, 0.5)),
        Scenario::LostAnswers => h.lost = 0.2,
        _ => {}
    }
    h
}

/// Runs one scenario's day; the world it leaves (sessions, deliveries).
pub async fn day(scenario: Scenario, seed: u64) -> World {
    let h = honest(scenario);
    let mut w = World::new(seed);
    w.behind_backend = scenario == Scenario::BehindBackend;
    w.seed_returning(&h).await;
    w.plan_honest(&h);
    let mut attack = Attack::new(scenario);
    attack.plan(&mut w);
    w.run(&mut attack).await;
    w
}

/// A scenario's figures; waits are compared with `baseline` when its honest users are the
/// same (otherwise the worst wait is any honest user's).
pub async fn measure(scenario: Scenario, seed: u64, baseline: &[Session]) -> Figures {
    let w = day(scenario, seed).await;
    // Behind a backend the honest users are the same ones, counted by their accounts.
    let same = honest(scenario).lost == honest(Scenario::Baseline).lost
        && honest(scenario).surge.is_none();
    Figures::measure(scenario.name(), &w, same.then_some(baseline))
}
