//! A scenario's figures (measured against the baseline day with the same honest users) and
//! its chart: honest success per hour and the attacker's spend over the day, as SVG.

use std::collections::HashMap;
use std::fmt::Write as _;

use shared::guard::rules::{DAY, HOUR, MINUTE};

use crate::verify_model::Actor;
use crate::world::{DAY0, Kind, Session, World};

/// EUR per delivery (the guard's default price).
pub const PRICE: f64 = 0.10;
/// The default never-verified budget per day (`spend_per_day`).
pub const NEW_BUDGET_EUR: f64 = 100.0;

#[derive(Debug, Clone, Copy, Default)]
pub struct Hour {
    pub returning: (usize, usize),
    pub new: (usize, usize),
    pub spent: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub name: String,
    /// Verified among the sessions that meant to finish: (verified, of).
    pub returning: (usize, usize),
    pub moved: (usize, usize),
    pub new: (usize, usize),
    /// The longest extra wait an honest user had, against the same user on the baseline day.
    pub worst_wait_caused_s: i64,
    pub attacker_deliveries: usize,
    pub attacker_eur: f64,
    /// The most attacker SMS (first deliveries) and calls to one number in one clock hour.
    pub bombing_per_hour: usize,
    pub bombing_calls_per_hour: usize,
    /// The most wrong codes that reached Verify for one number (brute-force odds / 1e6).
    pub guesses_per_number: usize,
    /// When the attacker's last hour with more than 5 deliveries ended (minutes into the
    /// day), or none when it never had one.
    pub contained_after_min: Option<i64>,
    /// Why honest users that did not verify were refused: rule, sessions.
    pub refusals: Vec<(&'static str, usize)>,
    /// Per hour: returning and new users' sessions (started, verified); attacker spend so
    /// far (EUR).
    pub hourly: Vec<Hour>,
}

fn pct((ok, of): (usize, usize)) -> f64 {
    if of == 0 {
        100.0
    } else {
        100.0 * ok as f64 / of as f64
    }
}

impl Figures {
    pub fn returning_pct(&self) -> f64 {
        pct(self.returning)
    }
    pub fn moved_pct(&self) -> f64 {
        pct(self.moved)
    }
    pub fn new_pct(&self) -> f64 {
        pct(self.new)
    }
    pub fn brute_force_per_day(&self) -> f64 {
        self.guesses_per_number as f64 / 1e6
    }

    pub fn measure(name: &str, w: &World, baseline: Option<&[Session]>) -> Self {
        let horizon = DAY0 + DAY + HOUR;
        let mut f = Figures {
            name: name.to_string(),
            ..Self::default()
        };
        for s in w.sessions.iter().filter(|s| s.finishes) {
            let slot = match s.kind {
                Kind::Returning => &mut f.returning,
                Kind::Moved => &mut f.moved,
                Kind::New => &mut f.new,
            };
            slot.1 += 1;
            slot.0 += usize::from(s.verified_at.is_some());
            if s.verified_at.is_none() {
                let why = s.refusals.last().copied().unwrap_or("never refused");
                match f.refusals.iter_mut().find(|(r, _)| *r == why) {
                    Some(r) => r.1 += 1,
                    None => f.refusals.push((why, 1)),
                }
            }
        }
        // Users on their own address and new users: a returning user on a new address is a
        // stranger to its number, and an attacker who targets it can keep it out (its own
        // row says how often).
        let counted = |s: &Session| s.finishes && s.kind != Kind::Moved;
        let waited = |s: &Session| s.wait().unwrap_or(30 * MINUTE);
        match baseline {
            Some(base) => {
                for (s, b) in w.sessions.iter().zip(base).filter(|(s, _)| counted(s)) {
                    let caused = (waited(s) - waited(b)).max(0);
                    f.worst_wait_caused_s = f.worst_wait_caused_s.max(caused / 1000);
                }
            }
            // Other honest users than the baseline's: the longest wait of any.
            None => {
                let worst = w.sessions.iter().filter(|s| counted(s)).map(waited).max();
                f.worst_wait_caused_s = worst.unwrap_or(0) / 1000;
            }
        }
        let mut per_hour: HashMap<(String, i64), usize> = HashMap::new();
        let mut calls_per_hour: HashMap<(String, i64), usize> = HashMap::new();
        let mut spend_by_hour = [0.0; 25];
        let mut busy_hours = Vec::new();
        let mut attacker_by_hour = [0usize; 25];
        for v in w
            .model
            .all
            .iter()
            .filter(|v| v.by == Actor::Attacker && v.start >= DAY0)
        {
            for (k, t) in v.delivery_times(horizon).enumerate() {
                f.attacker_deliveries += 1;
                let h = ((t - DAY0) / HOUR).clamp(0, 24);
                let slot = (v.number.clone(), h);
                match k {
                    0 => *per_hour.entry(slot).or_default() += 1,
                    _ => *calls_per_hour.entry(slot).or_default() += 1,
                }
                spend_by_hour[h as usize] += PRICE;
                attacker_by_hour[h as usize] += 1;
            }
        }
        for (h, n) in attacker_by_hour.iter().enumerate() {
            if *n > 5 {
                busy_hours.push(h as i64);
            }
        }
        f.contained_after_min = busy_hours.last().map(|h| (h + 1) * 60);
        f.attacker_eur = f.attacker_deliveries as f64 * PRICE;
        f.bombing_per_hour = per_hour.values().copied().max().unwrap_or(0);
        f.bombing_calls_per_hour = calls_per_hour.values().copied().max().unwrap_or(0);
        f.guesses_per_number = w.guesses.values().copied().max().unwrap_or(0);
        let mut spent = 0.0;
        for h in 0..24 {
            let mut hour = Hour::default();
            for s in w
                .sessions
                .iter()
                .filter(|s| (s.first - DAY0) / HOUR == h && s.finishes)
            {
                let slot = match s.kind {
                    Kind::New => &mut hour.new,
                    _ => &mut hour.returning,
                };
                slot.0 += 1;
                slot.1 += usize::from(s.verified_at.is_some());
            }
            spent += spend_by_hour[h as usize];
            hour.spent = spent;
            f.hourly.push(hour);
        }
        f
    }

    pub fn row(&self) -> String {
        let contained = match self.contained_after_min {
            None => "at once".to_string(),
            Some(m) if m >= 24 * 60 => "not in the day".to_string(),
            Some(m) => format!("{:.0} h", m as f64 / 60.0),
        };
        format!(
            "| {} | {:.1} % ({}/{}) | {:.1} % ({}/{}) | {:.1} % ({}/{}) | {} s | {} | EUR {:.2} | {} ({}) | {:.1e} | {} |",
            self.name,
            self.returning_pct(),
            self.returning.0,
            self.returning.1,
            self.new_pct(),
            self.new.0,
            self.new.1,
            self.moved_pct(),
            self.moved.0,
            self.moved.1,
            self.worst_wait_caused_s,
            self.attacker_deliveries,
            self.attacker_eur,
            self.bombing_per_hour,
            self.bombing_calls_per_hour,
            self.brute_force_per_day(),
            contained,
        )
    }
}

pub const HEADER: &str = "| scenario | returning users verified | new users verified | returning, from a new address | worst wait the attack caused (own address and new users; baseline, f, g: the longest wait) | attacker deliveries | attacker spend | most attacker SMS (calls) to one number in a clock hour | brute-force odds per number and day | attacker contained (<= 5 deliveries an hour) after |\n|---|---|---|---|---|---|---|---|---|---|";

/// The day as a chart: honest success per hour (left axis) and the attacker's spend so far
/// against the never-verified budget (right axis).
pub fn svg(f: &Figures, baseline: &Figures) -> String {
    let (w, h, left, top, plot_w, plot_h) = (780.0, 300.0, 50.0, 30.0, 640.0, 220.0);
    let x = |hour: f64| left + plot_w * hour / 24.0;
    let y_pct = |p: f64| top + plot_h * (1.0 - p / 100.0);
    let eur_max = (NEW_BUDGET_EUR * 1.25).max(f.attacker_eur);
    let y_eur = |e: f64| top + plot_h * (1.0 - e / eur_max);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="18" font-size="13" font-weight="bold">{name}: honest users verified (of those who finish) by the hour they start, and the attacker's spend</text>
"##,
        name = f.name
    );
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let y = y_pct(p);
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{p:.0} %</text>"##,
            left + plot_w,
            left - 4.0,
            y + 4.0,
        );
    }
    for hour in (0..=24).step_by(3) {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="middle">{hour:02}:00</text>"##,
            x(hour as f64),
            top + plot_h + 16.0
        );
    }
    let line = |series: &[(f64, f64)], colour: &str, dash: &str| {
        let pts: Vec<String> = series
            .iter()
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect();
        format!(
            r##"<polyline fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"##,
            pts.join(" ")
        )
    };
    let success = |fig: &Figures, new: bool| -> Vec<(f64, f64)> {
        fig.hourly
            .iter()
            .enumerate()
            .map(|(i, h)| (i, if new { h.new } else { h.returning }))
            .filter(|(_, (started, _))| *started > 0)
            .map(|(i, (s, v))| (x(i as f64 + 0.5), y_pct(100.0 * v as f64 / s as f64)))
            .collect()
    };
    out.push_str(&line(&success(baseline, true), "#999", "4 3"));
    out.push_str(&line(&success(f, false), "#1a7f37", ""));
    out.push_str(&line(&success(f, true), "#0969da", ""));
    let spend: Vec<(f64, f64)> = std::iter::once((x(0.0), y_eur(0.0)))
        .chain(
            f.hourly
                .iter()
                .enumerate()
                .map(|(i, h)| (x(i as f64 + 1.0), y_eur(h.spent))),
        )
        .collect();
    out.push_str(&line(&spend, "#cf222e", ""));
    let budget = y_eur(NEW_BUDGET_EUR);
    let _ = write!(
        out,
        r##"
<line x1="{left}" x2="{r}" y1="{budget}" y2="{budget}" stroke="#cf222e" stroke-dasharray="2 3"/>
<text x="{rt}" y="{by}" fill="#cf222e">EUR {eur_max:.0}</text>
<text x="{rt}" y="{bt}" fill="#cf222e">budget {NEW_BUDGET_EUR:.0}</text>
<text x="{left}" y="{ly}" fill="#1a7f37">— returning users verified</text>
<text x="{lx1}" y="{ly}" fill="#0969da">— new users verified</text>
<text x="{lx2}" y="{ly}" fill="#999">- - new users, baseline day</text>
<text x="{lx3}" y="{ly}" fill="#cf222e">— attacker spend so far (right axis)</text>
</svg>
"##,
        r = left + plot_w,
        rt = left + plot_w + 4.0,
        by = top + 4.0,
        bt = budget + 4.0,
        ly = h - 12.0,
        lx1 = left + 150.0,
        lx2 = left + 270.0,
        lx3 = left + 420.0,
    );
    out
}
