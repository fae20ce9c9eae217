//! Writes the seed corpus of the fuzz targets (`fuzz/corpus/<target>/seed-*`) from real inputs:
//! line protocol bodies, InfluxQL statements, and an SSTable, WAL segments and a manifest that
//! an embedded `Db` writes. Each seed is the target's mode byte(s) (see `fuzz/fuzz_targets/`)
//! followed by the input.
//!
//! ```sh
//! cargo run --example fuzz_seeds -- fuzz/corpus
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use strata::{Config, Db};

const LINE_PROTOCOL: &[&str] = &[
    "cpu,host=a,region=eu usage=12.5 1700000000000000000\ncpu,host=b,region=eu usage=7 1700000010000000000\n",
    "m,t=x f=1.5,i=-3i,u=7u,b=true,s=\"str\" 1700000000000000000\n",
    "weather,location=us\\,midwest temperature=82 1465839830100400200\n",
    "weather,location\\ place=us-midwest temperature=82,note=\"a \\\"quoted\\\" \\\\ string\"\n",
    "\"measurement\\ with\\ quotes\",tag\\ key\\ with\\ spaces=tag\\,value\\,with\"commas\" field_key\\\\\\\\=\"string field value, only \\\" need be escaped\"\n",
    "# a comment\n\n  \tcpu value=1 1\r\ncpu value=2i 2\r\n",
    "m f=1e300,g=-0.0,h=1E-7,t=T,ff=FALSE 1\nm time=1 5\nm,time=1 f=1 5\n",
    "bad line\nm f=NaN\nm f=1 1 2\nm,a=1,a=2 f=1\nm f=\"unbalanced\n",
    "m,b=2,a=1 f=1,f=2,time=3 -9223372036854775806\nm f=18446744073709551615u 9223372036854775806\n",
    "disk,host=h1,path=/var free=1024u,used_percent=41.2,ok=t 1700000000\n",
];

/// Remote write requests as Prometheus sends them: a counter and a gauge with labels, a
/// staleness marker (NaN), an infinity, a series without `__name__`, an empty label value.
fn prometheus_requests() -> Vec<strata::ingest::prometheus::WriteRequest> {
    use strata::ingest::prometheus::{TimeSeries, WriteRequest};
    let series = TimeSeries::new;
    let t = 1_700_000_000_000;
    vec![
        WriteRequest {
            timeseries: vec![
                series(
                    &[
                        ("__name__", "http_requests_total"),
                        ("instance", "127.0.0.1:9090"),
                        ("job", "prometheus"),
                        ("code", "200"),
                    ],
                    &[(1027.0, t), (1031.0, t + 15_000)],
                ),
                series(
                    &[("__name__", "up"), ("job", "node")],
                    &[(1.0, t), (f64::NAN, t + 15_000)],
                ),
            ],
        },
        WriteRequest {
            timeseries: vec![
                series(
                    &[("job", "x"), ("empty", "")],
                    &[(0.5, -1), (f64::INFINITY, 0)],
                ),
                series(
                    &[("__name__", "m m,=\\"), ("time", "1")],
                    &[(-0.0, i64::MAX)],
                ),
            ],
        },
    ]
}

/// Remote read requests as Prometheus sends them: a name and label matchers of every kind,
/// values that need quoting, a bad regex.
fn prometheus_read_requests() -> Vec<strata::query::prometheus_read::ReadRequest> {
    use strata::query::prometheus_read::{LabelMatcher, MatchType, Query, ReadRequest};
    let matcher = |kind: MatchType, name: &str, value: &str| LabelMatcher {
        r#type: kind as i32,
        name: name.into(),
        value: value.into(),
    };
    let query = |matchers| Query {
        start_timestamp_ms: 1_700_000_000_000,
        end_timestamp_ms: 1_700_000_300_000,
        matchers,
    };
    vec![
        ReadRequest {
            queries: vec![query(vec![
                matcher(MatchType::Eq, "__name__", "up"),
                matcher(MatchType::Re, "job", "api|web.*"),
                matcher(MatchType::Neq, "env", "it's \\ a \"test\""),
                matcher(MatchType::Nre, "instance", "a/b"),
            ])],
        },
        ReadRequest {
            queries: vec![
                query(vec![matcher(MatchType::Re, "__name__", "cpu.*|x,y")]),
                query(vec![matcher(MatchType::Nre, "__name__", "up")]),
                query(vec![matcher(MatchType::Re, "job", "(")]),
            ],
        },
    ]
}

const INFLUXQL: &[&str] = &[
    "SELECT * FROM cpu",
    "SELECT mean(usage_idle) AS idle FROM telegraf.autogen.cpu WHERE time > now() - 1h GROUP BY time(1m), host fill(none)",
    "SELECT percentile(v, 99.9), top(v, host, 3), bottom(v, 2) FROM m",
    "SELECT derivative(mean(v), 1s), non_negative_derivative(max(v)) FROM m WHERE time >= '2024-01-01T00:00:00Z' GROUP BY time(10s, -5s)",
    "SELECT (a + b) * c, a - (b - c), -a, -(a + b), - -1 FROM m",
    "SELECT v::float, host::tag, \"f\"::integer FROM m",
    "SELECT /^usage/ FROM /^cpu/, db.rp./m.*/",
    "SELECT a FROM m WHERE NOT a = 1 AND NOT (b = 2 OR c = 3)",
    "SELECT a FROM m WHERE host =~ /^web-\\d+$/ AND region !~ /a\\/b/",
    "SELECT a FROM m WHERE s = 'it\\'s a \\\\ test\\n' AND b = true AND c = false",
    "SELECT a FROM m WHERE x <> 1.5 AND y <= -2 AND z >= 1e100 AND w < -0.001",
    "SELECT a FROM m GROUP BY time(1h, now()), /^h/ fill(previous) ORDER BY time DESC LIMIT 10 OFFSET 5 SLIMIT 2 SOFFSET 1 tz('Europe/Paris')",
    "SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY time(1m), host) GROUP BY time(1h)",
    "SELECT \"select\", \"a b\", \"q\\\"uote\" AS \"from\" FROM \"where\"",
    "EXPLAIN ANALYZE SELECT count(a) FROM m WHERE time > now() - 5m",
    "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cpu/ WHERE host = 'a' LIMIT 1 OFFSET 2",
    "SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region) WHERE a = 'b' LIMIT 1",
    "SHOW FIELD KEYS ON db FROM cpu; SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 10",
    "KILL QUERY 7",
    "CREATE DATABASE db WITH DURATION INF REPLICATION 1 SHARD DURATION 1h NAME one",
    "DELETE FROM /c/ WHERE time < now() - 30d",
    "CREATE RETENTION POLICY rp ON db DURATION 90d REPLICATION 1 SHARD DURATION 1d DEFAULT",
    "ALTER RETENTION POLICY rp ON db REPLICATION 2 DEFAULT",
    "DROP SERIES FROM cpu WHERE host = 'a' -- comment\n/* block */",
];

/// Seeds of the `vq` target: every statement, comments, and texts that fail to parse.
const VQ: &[&str] = &[
    "TABLES;",
    "CREATE TABLE climate TAGS region, season;\nPUT temperature 1234 23.5 INTO climate TAGS region=west;",
    "SELECT DATA temperature FROM climate ALL WHERE region=west, season=dry;",
    "SELECT AVG temperature FROM climate BETWEEN 0 AND 999;\nSELECT SUM t FROM c AT 5;",
    "SELECT COUNT m FROM t ALL; SELECT MIN m FROM t ALL; SELECT MAX m FROM t AT 1;",
    "DELETE temperature 1234 FROM climate TAGS region=west;\nDROP TABLE climate;",
    "ADD TAGS a, b TO t; REMOVE TAGS a FROM t;",
    "// a comment\n\tPUT m -1.5 -2 INTO t; // trailing",
    "CREATE TABLE t TAGS a=b;",
    "SELECT DATA m FROM t BETWEEN 1 2;",
    "123..45 -123. -- 1e5 'a' \\\"x\\\" é",
    "PUT m 99999999999999999999 1 INTO t TAGS id=1;",
];

/// vctsdb JSON and CSV bodies for the `records` target, each after its mode byte (bit 0 CSV,
/// bit 1 a default measurement, bit 2 the `;` delimiter, bit 3 a 64-byte record limit). The
/// last two are inputs the fuzzer found: an empty field name, and a header naming a column
/// twice (both now refused by name instead of reaching the engine's parser).
const RECORDS: &[(u8, &[u8])] = &[
    (
        0,
        b"[{\"timestamp\": 1700000000, \"value\": 42.5, \"series\": \"temperature\"},\n {\"timestamp\": 1700000060.5, \"value\": 43, \"series\": \"temperature\", \"other\": 1}]",
    ),
    (
        0,
        b"{\"timestamp\": 1, \"series\": \"cpu\", \"tags\": {\"host\": \"a b\", \"e\": \"\"}, \"fields\": {\"usage\": 0.5, \"cores\": {\"int\": 4}, \"u\": {\"uint\": 7}, \"ok\": true, \"s\": \"say \\\"hi\\\"\"}}\n{\"timestamp\": 2, \"series\": \"cpu\", \"value\": -1e300}\n",
    ),
    (
        2,
        b"[{\"timestamp\": 5, \"value\": 1}, {\"value\": 2}, {\"timestamp\": \"3\", \"value\": 3}, [1], 42]",
    ),
    (
        8,
        b"[{\"timestamp\": 1, \"value\": 1, \"series\": \"a-much-longer-series-name-than-sixty-four-bytes-allow-here\"}, {\"timestamp\": 2",
    ),
    (
        1,
        b"timestamp,value,series,region,datacenter\n1000,42.5,test_series,us-west,dc1\n2000,4.5e1,s,,dc2\n1000.0,1,s,a,b\n1,not_a_number,s,a,b\n1,NaN,s,a,b\n1,2,s\n",
    ),
    (
        7,
        b"timestamp;value;site\n100;1.5;x\n200;2,5;y\r\n\"300\";\"3\";\"quoted;cell\"\n",
    ),
    (
        1,
        b"time,value,series\n1,1,nothing\n",
    ),
    (
        3,
        b"timestamp,value\n9223372036854775807,1\n-9223372036854775808,2\n5,3\n",
    ),
    (
        0,
        b"{\"timestamp\": 1, \"series\": \"\x9d\x96u\", \"tags\": {\"host\": \"a b\", \"e\": \"\"}, \"fields\": {\"usage\": 0.5, \"cores\": {\"int\": 4}, \"u\": {\"uint\": 7}, \"\": \"say \\\"hi\\\"\"}}\n{\"timestamp\": 2, \"series\": \"cpu\", \"value\": -1e300}\n",
    ),
    (
        1,
        b"timestamp,value,]eamp,serie,value,]eamp,series,region,datacenter\n1000,42.5,test_series.0,1,value,]ewalue,series,region,datacenter\n4428,42.5,test_\xff+riwep,value,datacenter\n1000,42.5,test_series.0,1,s,a,b\n1,us-west,d,s\n",
    ),
];

fn seed(dir: &Path, name: &str, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut data = head.to_vec();
    data.extend_from_slice(body);
    fs::write(dir.join(format!("seed-{name}")), data)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    e.finish()
}

/// The files of `dir` whose names end with `suffix`, sorted.
fn files(dir: &Path, suffix: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    Ok(v)
}

/// Line protocol that fills a table with every field type, a run longer than one block
/// (regular timestamps) and irregular timestamps.
fn table_lines() -> String {
    let mut s = String::new();
    let base = 1_700_000_000_000_000_000i64;
    for i in 0..1200i64 {
        s.push_str(&format!(
            "cpu,host=a usage={}.25 {}\n",
            i % 97,
            base + i * 10_000_000_000
        ));
    }
    for i in 0..40i64 {
        let ts = base + i * i * 1_000_003;
        s.push_str(&format!(
            "m,t=x f={},i={}i,u={}u,b={},s=\"v{i}\" {ts}\n",
            i as f64 / 3.0,
            -i * 1000,
            i * 7,
            i % 2 == 0
        ));
    }
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );

    let lp = out.join("lineproto");
    for (i, body) in LINE_PROTOCOL.iter().enumerate() {
        // Mode byte: the precision (0 = ns, 3 = s) and, for one, the 64-byte line limit.
        let mode = match i {
            9 => 3,
            7 => 0x20,
            _ => 0,
        };
        seed(&lp, &format!("{i:02}"), &[mode], body.as_bytes())?;
    }

    let q = out.join("influxql");
    for (i, text) in INFLUXQL.iter().enumerate() {
        seed(&q, &format!("{i:02}"), &[], text.as_bytes())?;
    }

    let v = out.join("vq");
    for (i, text) in VQ.iter().enumerate() {
        seed(&v, &format!("{i:02}"), &[], text.as_bytes())?;
    }

    let records = out.join("records");
    for (i, (mode, body)) in RECORDS.iter().enumerate() {
        seed(&records, &format!("{i:02}"), &[*mode], body)?;
    }

    // Prometheus remote writes: mode 1 (the protobuf, compressed by the harness) and mode 0
    // (the snappy body itself).
    let pw = out.join("prom_write");
    for (i, request) in prometheus_requests().iter().enumerate() {
        let protobuf = prost::Message::encode_to_vec(request);
        seed(&pw, &format!("{i:02}-protobuf"), &[1], &protobuf)?;
        let body = snap::raw::Encoder::new().compress_vec(&protobuf)?;
        seed(&pw, &format!("{i:02}-snappy"), &[0], &body)?;
    }

    let pr = out.join("prom_read");
    for (i, request) in prometheus_read_requests().iter().enumerate() {
        let protobuf = prost::Message::encode_to_vec(request);
        seed(&pr, &format!("{i:02}-protobuf"), &[1], &protobuf)?;
        let body = snap::raw::Encoder::new().compress_vec(&protobuf)?;
        seed(&pr, &format!("{i:02}-snappy"), &[0], &body)?;
    }

    let hw = out.join("http_write");
    let body = LINE_PROTOCOL[1].as_bytes();
    seed(&hw, "plain", &[0, 0, 0], LINE_PROTOCOL[0].as_bytes())?;
    seed(&hw, "gzip", &[1, 8, 0], body)?;
    seed(
        &hw,
        "gzip-two-members",
        &[2, 3, 100],
        LINE_PROTOCOL[9].as_bytes(),
    )?;
    seed(
        &hw,
        "raw-gzip",
        &[3, 0, 0],
        &gzip(LINE_PROTOCOL[2].as_bytes())?,
    )?;
    let mut two = gzip(b"cpu value=1 1\n")?;
    two.extend(gzip(b"cpu value=2 2\n")?);
    seed(&hw, "raw-gzip-two-members", &[3, 2, 0], &two)?;
    seed(&hw, "small-limit", &[4, 11, 0], LINE_PROTOCOL[4].as_bytes())?;

    // A real database: a flushed table, a compaction (so the manifest holds pending, add and
    // remove edits), then writes that stay in the WAL.
    let tmp = tempfile::tempdir()?;
    let db = Db::open(tmp.path(), Config::new().wal_segment_bytes(2048))?;
    db.create_database("demo")?;
    db.write_lines("demo", &table_lines())?;
    db.flush()?;
    db.write_lines("demo", "cpu,host=b usage=1 1700000000000000000\n")?;
    db.flush()?;
    db.major_compact("demo")?;
    for i in 0..6 {
        db.write_lines(
            "demo",
            &format!("cpu,host=c{i} usage={i}.5,n={i}i 17000000{i}0000000000\nm,t=y s=\"w{i}\",b=t 17000000{i}0000000001\n"),
        )?;
    }
    let dbdir = tmp.path().join("demo");

    let sst = out.join("sstable");
    let tables = files(&dbdir.join("sst"), ".sst")?;
    let table = tables.first().ok_or("the flush wrote no table")?;
    let bytes = fs::read(table)?;
    seed(&sst, "table", &[0], &bytes)?;
    seed(&sst, "table-fix", &[1], &bytes)?;

    let wal = out.join("wal_replay");
    let segments = files(&dbdir.join("wal"), ".wal")?;
    let mut all = Vec::new();
    for s in &segments {
        all.extend(fs::read(s)?);
    }
    let first = segments
        .iter()
        .map(fs::read)
        .find(|b| b.as_ref().is_ok_and(|b| !b.is_empty()))
        .ok_or("no WAL segment with records")??;
    seed(&wal, "segment", &[0, 0], &first)?;
    seed(&wal, "segment-fix", &[1, 0], &first)?;
    seed(&wal, "two-segments", &[3, 128], &all)?;

    let man = out.join("manifest_replay");
    let manifests = files(&dbdir, "")?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("MANIFEST-"))
        })
        .collect::<Vec<_>>();
    let m = fs::read(manifests.last().ok_or("no manifest")?)?;
    seed(&man, "manifest", &[0], &m)?;
    seed(&man, "manifest-fix", &[1], &m)?;

    db.close()?;
    println!("seeds written under {}", out.display());
    Ok(())
}
