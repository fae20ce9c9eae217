//! loom models of strata's actor protocols.
