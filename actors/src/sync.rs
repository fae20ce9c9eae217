//! The sync facade: every actor protocol in this crate uses these types instead of `std::sync`
//! directly, so that building with `RUSTFLAGS="--cfg strata_loom"` swaps in loom's model-checked
//! versions. (The cfg is `strata_loom`, not `loom`: a global `--cfg loom` changes tokio too.)

#[cfg(strata_loom)]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

/// Atomics: loom's under `--cfg strata_loom`, std's otherwise.
#[cfg(strata_loom)]
pub mod atomic {
    pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
}

#[cfg(strata_loom)]
pub use loom::thread;

#[cfg(not(strata_loom))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

/// Atomics: loom's under `--cfg strata_loom`, std's otherwise.
#[cfg(not(strata_loom))]
pub mod atomic {
    pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
}

#[cfg(not(strata_loom))]
pub use std::thread;

/// Lock a mutex, recovering the guard if a panicking thread poisoned it. Actor state stays
/// consistent across a panic because every protocol step is completed before the lock is
/// released; a panic is reported separately through [`crate::Health`].
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Wait on a condition variable, recovering from poisoning like [`lock`].
pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    match cv.wait(g) {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
