//! Fail points: a testing aid for crash safety.
//!
//! Setting `STRATA_FAILPOINT=NAME[,NAME…]` in the environment of a process (the `strata` daemon
//! or any program embedding strata) makes it **abort** — no destructors, no flush, like `kill -9`
//! — the first time it reaches a step of that name. The crash tests in `tests/` start the real
//! daemon with it and check that a restart loses and doubles nothing. Unset (always, in
//! production) a fail point costs one load of a cached flag.
//!
//! | name | the process aborts … |
//! |---|---|
//! | `compaction-during-write` | after the first output table of a compaction is written, before the others |
//! | `compaction-after-write` | after every output is written and fsynced (file and directory), before the manifest edit |
//! | `compaction-after-manifest` | after the manifest edit is fsynced, before the new version is published |
//! | `compaction-after-install` | after the new version is published, before the replaced files are deleted |

use std::sync::OnceLock;

/// The documented fail point names.
pub const NAMES: &[&str] = &[
    "compaction-during-write",
    "compaction-after-write",
    "compaction-after-manifest",
    "compaction-after-install",
];

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        let v: Vec<String> = std::env::var("STRATA_FAILPOINT")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for n in &v {
            if !NAMES.contains(&n.as_str()) {
                tracing::warn!(failpoint = %n, known = ?NAMES, "STRATA_FAILPOINT names an unknown fail point");
            } else {
                tracing::warn!(failpoint = %n, "fail point armed: the process will abort there");
            }
        }
        v
    })
}

/// Abort the process here if the fail point `name` is armed.
pub fn hit(name: &str) {
    if armed().iter().any(|n| n == name) {
        tracing::error!(failpoint = name, "fail point reached: aborting");
        eprintln!("strata: fail point {name} reached: aborting");
        std::process::abort();
    }
}
