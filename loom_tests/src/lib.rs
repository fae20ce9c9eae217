//! loom models of strata's actor protocols.
//!
//! Each model in `tests/` drives the real loops and types of `strata-actors` over facade
//! mailboxes with tiny capacities and the in-memory fakes below. Built with
//! `RUSTFLAGS="--cfg strata_loom"`, [`model`] explores the interleavings with loom; under plain
//! `cargo test` it runs the same body a few times on std threads as a smoke test.
//! `scripts/loom.sh` runs every model clean and again against each planted bug
//! (`cfg(strata_loom_mutant = "...")` in `strata-actors`), which must make it fail.

pub mod fakes;

/// Run `body` under `loom::model` (bounded by `LOOM_MAX_PREEMPTIONS`, default 2).
#[cfg(strata_loom)]
pub fn model<F: Fn() + Sync + Send + 'static>(body: F) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(body);
}

/// Smoke mode: run `body` a few times on std threads.
#[cfg(not(strata_loom))]
pub fn model<F: Fn() + Sync + Send + 'static>(body: F) {
    for _ in 0..25 {
        body();
    }
}

/// Silence the panic hook for panics a model provokes on purpose (payloads starting with
/// "planted"), so the output of thousands of loom iterations stays readable.
pub fn quiet_planted_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let planted = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|s| s.starts_with("planted"));
            if !planted {
                default(info);
            }
        }));
    });
}
