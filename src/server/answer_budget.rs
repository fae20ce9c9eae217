//! What the daemon holds of answers it has made and its clients have not yet taken, bounded.
//!
//! A query's answer is charged to the query's own `query_memory_limit` while it is rendered,
//! but once handed to hyper it stays in memory until the client has read it: a client that
//! reads slowly, or not at all, would otherwise hold its answer outside every budget, and
//! `max_connections` such clients as many answers. Each answer (the JSON of `/query`, the body
//! of a Prometheus remote read) is therefore also charged to one budget shared by the whole
//! server, `max_concurrent_queries` × `query_memory_limit` (as much as the running queries
//! may hold), before it is rendered; the charge travels with the bytes and is given back when
//! hyper drops the last of them — written to the client, or the connection closed (the send
//! timeout closes one whose client stops reading). An answer that does not fit is refused
//! with 503 ([`Error::AnswersBacklog`]): overload is refused, not absorbed.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::with_version;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::query::limits::{Charge, QueryMemory};

/// The server-wide budget of answers not yet taken by their clients.
#[derive(Clone, Debug)]
pub(super) struct AnswerBudget {
    memory: QueryMemory,
}

impl AnswerBudget {
    /// `max_concurrent_queries` × `query_memory_limit` bytes (no bound when the query memory
    /// limit is 0).
    pub(super) fn new(config: &Config) -> AnswerBudget {
        let queries = u64::try_from(config.get_max_concurrent_queries()).unwrap_or(u64::MAX);
        AnswerBudget {
            memory: QueryMemory::new(config.get_query_memory_limit().saturating_mul(queries)),
        }
    }

    /// Charge `bytes` of an answer about to be made; past the budget, [`Error::AnswersBacklog`].
    pub(super) fn charge(&self, bytes: u64) -> Result<Charge> {
        self.memory.charge(bytes).map_err(backlog)
    }

    /// Bytes held now.
    #[cfg(test)]
    fn held(&self) -> u64 {
        self.memory.used()
    }
}

/// The budget's refusal, in its own words.
fn backlog(e: Error) -> Error {
    match e {
        Error::QueryMemoryLimitExceeded {
            limit,
            held,
            wanted,
        } => Error::AnswersBacklog {
            limit,
            held,
            wanted,
        },
        e => e,
    }
}

/// Make `charge` exactly the answer's size and grow it to fit more, as the answer changes
/// (the bound charged before rendering, then the rendered size).
pub(super) fn resize(charge: &mut Charge, bytes: usize) -> Result<()> {
    charge
        .set(u64::try_from(bytes).unwrap_or(u64::MAX))
        .map_err(backlog)
}

/// Counts the bytes an answer's writer writes, to size the answer before it is made.
pub(super) struct ByteCount(pub(super) usize);

impl std::fmt::Write for ByteCount {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// An answer's bytes and their charge, given back with the bytes.
struct ChargedBytes {
    bytes: Vec<u8>,
    _charge: Charge,
}

impl AsRef<[u8]> for ChargedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// A 200 answer of `bytes` (of `content_type`) whose body holds `charge` until hyper drops the
/// last of them.
pub(super) fn answer(content_type: &'static str, bytes: Vec<u8>, charge: Charge) -> Response {
    let body = Body::from(Bytes::from_owner(ChargedBytes {
        bytes,
        _charge: charge,
    }));
    with_version(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_charge_travels_with_the_bytes_and_is_given_back_with_the_last_of_them() {
        let config = Config::new()
            .max_concurrent_queries(2)
            .query_memory_limit(1000);
        let budget = AnswerBudget::new(&config);
        let mut charge = budget.charge(1500).expect("fits");
        assert!(matches!(
            budget.charge(600),
            Err(Error::AnswersBacklog {
                limit: 2000,
                held: 1500,
                wanted: 600
            })
        ));
        resize(&mut charge, 100).expect("shrinks");
        assert_eq!(budget.held(), 100);
        let bytes = Bytes::from_owner(ChargedBytes {
            bytes: vec![7; 100],
            _charge: charge,
        });
        let part = bytes.slice(10..20);
        drop(bytes);
        assert_eq!(budget.held(), 100, "a slice still holds the answer");
        assert_eq!(part.as_ref(), &[7; 10]);
        drop(part);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn no_query_memory_limit_is_no_bound() {
        let budget = AnswerBudget::new(&Config::new().query_memory_limit(0));
        let _held = budget.charge(u64::MAX / 2).expect("no bound");
        assert!(budget.charge(u64::MAX / 4).is_ok());
    }
}
