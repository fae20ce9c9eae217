//! `GET /metrics`: the daemon's counters in the Prometheus text format (per database and
//! layer: tables, bytes, points, compaction debt and work; queries by path; the block cache).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{with_version, AppState};
use crate::db::Db;

/// Per-database, per-layer compaction metrics in the Prometheus text format.
pub fn metrics_text(db: &Db) -> String {
    type Get = fn(&crate::compaction::LayerStats) -> f64;
    let gauges: [(&str, &str, &str, Get); 10] = [
        (
            "strata_layer_tables",
            "gauge",
            "SSTables in the layer",
            |l| l.tables as f64,
        ),
        (
            "strata_layer_bytes",
            "gauge",
            "bytes of the layer's SSTables",
            |l| l.bytes as f64,
        ),
        (
            "strata_layer_points",
            "gauge",
            "points in the layer's SSTables",
            |l| l.points as f64,
        ),
        (
            "strata_compactions_total",
            "counter",
            "compactions out of the layer",
            |l| l.compactions as f64,
        ),
        (
            "strata_compaction_bytes_read_total",
            "counter",
            "bytes read by the layer's merges",
            |l| l.bytes_read as f64,
        ),
        (
            "strata_compaction_bytes_written_total",
            "counter",
            "bytes written by the layer's merges",
            |l| l.bytes_written as f64,
        ),
        (
            "strata_compaction_bytes_moved_total",
            "counter",
            "bytes of tables moved out of the layer",
            |l| l.bytes_moved as f64,
        ),
        (
            "strata_compaction_write_amplification",
            "gauge",
            "bytes written per byte moved into the next layer",
            |l| l.write_amplification,
        ),
        (
            "strata_compaction_debt_tables",
            "gauge",
            "tables over the layer's limit",
            |l| l.debt_tables as f64,
        ),
        (
            "strata_compaction_debt_bytes",
            "gauge",
            "bytes of the tables over the layer's limit",
            |l| l.debt_bytes as f64,
        ),
    ];
    let stats: Vec<(String, crate::compaction::CompactionStats)> = db
        .database_names()
        .into_iter()
        .filter_map(|n| db.database(&n).ok().map(|d| (n, d.compaction_stats())))
        .collect();
    let mut out = String::new();
    for (name, kind, help, get) in gauges {
        let samples = stats.iter().flat_map(|(dbname, s)| {
            s.layers
                .iter()
                .map(move |l| (format!("db=\"{dbname}\",layer=\"C{}\"", l.layer), get(l)))
        });
        family(&mut out, name, kind, help, samples);
    }
    let paths = db.query_paths();
    family(
        &mut out,
        "strata_queries_total",
        "counter",
        "queries run, by where: on the connection's thread (inline) or on the query pool",
        [
            ("path=\"inline\"".to_string(), paths.inline),
            ("path=\"pool\"".to_string(), paths.pooled),
        ],
    );
    family(
        &mut out,
        "strata_queries_moved_to_pool_total",
        "counter",
        "queries started inline whose estimate went past query_inline_max_points",
        [(String::new(), paths.moved)],
    );
    let bc = db.block_cache_stats();
    family(
        &mut out,
        "strata_block_cache_reads_total",
        "counter",
        "query block reads, by whether the block cache held the block (hit) or it was read from its file (miss)",
        [
            ("result=\"hit\"".to_string(), bc.hits),
            ("result=\"miss\"".to_string(), bc.misses),
        ],
    );
    family(
        &mut out,
        "strata_block_cache_bytes",
        "gauge",
        "bytes the block cache holds (block_cache_bytes bounds it)",
        [(String::new(), bc.bytes)],
    );
    family(
        &mut out,
        "strata_flush_stalls_total",
        "counter",
        "flushes that waited for C0 compaction",
        stats
            .iter()
            .map(|(dbname, s)| (format!("db=\"{dbname}\""), s.flush_stalls)),
    );
    out
}

/// Append one metric family in the Prometheus text format: its HELP and TYPE lines, then a
/// sample per (labels, value), the labels in braces unless there are none.
fn family<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, V)>,
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = if labels.is_empty() {
            writeln!(out, "{name} {value}")
        } else {
            writeln!(out, "{name}{{{labels}}} {value}")
        };
    }
}

pub(super) async fn metrics(State(st): State<AppState>) -> Response {
    let body = metrics_text(&st.db);
    with_version(
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            body,
        )
            .into_response(),
    )
}
