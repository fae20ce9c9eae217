//! strata's actor runtime and protocols.
