//! What reading numbers with libphonenumber's metadata costs: the first parse (the metadata
//! loads), the first number of each new country (its patterns compile), and a warm parse.
//! `scripts/bench` runs it at full CPU and at Lambda's 128 MB share.

use std::time::Instant;

use shared::verify::Number;

fn micros(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e6
}

fn main() {
    let t = Instant::now();
    shared::verify::number::warm_up();
    println!("metadata load (first parse): {:.0} us", micros(t));
    for raw in [
        "+33612345678",
        "+4915123456789",
        "+14155550100",
        "+8613800138000",
    ] {
        let t = Instant::now();
        let ok = Number::parse(raw).is_ok();
        println!(
            "first number of its country {raw:>16}: {:.0} us ({ok})",
            micros(t)
        );
    }
    let n = 10_000;
    let t = Instant::now();
    for i in 0..n {
        let _ = Number::parse(&format!("+44 7819 9{:05}", i % 100_000));
    }
    println!("warm parse: {:.1} us each", micros(t) / f64::from(n));
}
