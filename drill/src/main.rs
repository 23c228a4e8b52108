//! `drill [--out DIR] [--seed N] [SCENARIO...]`: runs the scenarios (all by default), prints
//! the table and writes `DIR/<scenario>.svg` and `DIR/results.md`.

use std::path::PathBuf;

use drill::attacks::Scenario;
use drill::report::{self, Figures};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let mut out = PathBuf::from("bench/drills");
    let mut seed = 7;
    let mut only = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            name => match Scenario::by_name(name) {
                Some(s) => only.push(s),
                None => {
                    eprintln!("unknown scenario {name:?}; one of:");
                    Scenario::ALL
                        .iter()
                        .for_each(|s| eprintln!("  {}", s.name()));
                    return std::process::ExitCode::from(2);
                }
            },
        }
    }
    if only.is_empty() {
        only = Scenario::ALL.to_vec();
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("{}: {e}", out.display());
        return std::process::ExitCode::FAILURE;
    }
    let t = std::time::Instant::now();
    let base_world = drill::day(Scenario::Baseline, seed).await;
    let baseline = Figures::measure("baseline", &base_world, None);
    if std::env::var_os("DRILL_DEBUG").is_some() {
        let worst = base_world
            .sessions
            .iter()
            .filter(|s| s.finishes)
            .max_by_key(|s| s.wait());
        eprintln!("  baseline's longest wait: {worst:?}");
        if let Some(w) = worst {
            for s in base_world.sessions.iter().filter(|s| s.number == w.number) {
                eprintln!("    same number: {s:?}");
            }
            for v in base_world
                .model
                .all
                .iter()
                .filter(|v| v.number == w.number[1..])
            {
                eprintln!("    verification: {v:?}");
            }
        }
    }
    let mut table = vec![report::HEADER.to_string()];
    println!("{}", report::HEADER);
    for s in only {
        let f = match s {
            Scenario::Baseline => baseline.clone(),
            _ => drill::measure(s, seed, &base_world.sessions).await,
        };
        println!("{}", f.row());
        if std::env::var_os("DRILL_DEBUG").is_some() {
            eprintln!("  {}: {:?}", s.name(), f.refusals);
        }
        table.push(f.row());
        let path = out.join(format!("{}.svg", s.name()));
        if let Err(e) = std::fs::write(&path, report::svg(&f, &baseline)) {
            eprintln!("{}: {e}", path.display());
        }
    }
    let md = format!(
        "Drill results (`scripts/drill`, seed {seed}; one simulated day each, default policy).\n\n{}\n",
        table.join("\n")
    );
    let _ = std::fs::write(out.join("results.md"), md);
    eprintln!("drill: {:.1} s", t.elapsed().as_secs_f64());
    std::process::ExitCode::SUCCESS
}
