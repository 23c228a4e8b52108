//! Gives memory back: the guard's memory store drops what expired once a minute of the
//! guard's clock (which `/_sim/clock/advance` moves; the simulator forgets on its own ticker),
//! and freed heap pages go back to the system. Before, a flood's 534 MiB stayed two simulated
//! days later.

use std::sync::Arc;
use std::time::Duration;

use shared::Deps;

pub fn spawn(deps: Arc<Deps>) {
    tokio::spawn(async move {
        let mut last = i64::MIN;
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            let now = deps.guard.now();
            if now.saturating_sub(last) < 60_000 {
                continue;
            }
            last = now;
            let removed = deps.guard.sweep_expired();
            if removed > 0 {
                tracing::debug!(removed, "guard: swept expired items");
            }
            // The simulator forgets on its own ticker: trim after every sweep, a few ms a minute.
            trim();
        }
    });
}

/// glibc keeps freed memory in its arenas; `malloc_trim` returns what it can.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim() {
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}
