//! Build script of `strata-actors` (named by `build = "src/build.rs"` in Cargo.toml).
//!
//! The loom suite plants one bug at a time behind `cfg(strata_loom_mutant = "NAME")`. Passing that
//! cfg through `RUSTFLAGS` works but changes every crate's fingerprint, so each mutant would
//! rebuild loom and every other dependency. Setting `STRATA_LOOM_MUTANT=NAME` instead sets the same
//! cfg for this crate only, so a mutant build recompiles just `strata-actors` and its dependents.
//! Unset (production and plain `cargo test`), it does nothing.

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    println!("cargo:rerun-if-env-changed=STRATA_LOOM_MUTANT");
    if let Ok(name) = std::env::var("STRATA_LOOM_MUTANT") {
        let name = name.trim();
        if !name.is_empty() {
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "STRATA_LOOM_MUTANT must be an identifier, got {name:?}"
            );
            println!("cargo:rustc-cfg=strata_loom_mutant=\"{name}\"");
        }
    }
}
