//! Scenario: hostile queries through `strata serve` (issue #15's measured cases). Long operator
//! chains do not overflow the stack (a chain of `+` past the nesting limit is a 400 naming the
//! limit; long AND/OR chains are answered; regexes costly to compile are refused before they
//! are: nested classes, more than 64 KiB of them); a GROUP BY time() over years of empty buckets is
//! stopped by `query_memory_limit` before it holds the memory, and by `max_select_buckets`
//! before it makes a bucket; so is a holt_winters forecast of a trillion buckets. The daemon
//! stays up and bounded throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

const BASE: i64 = 1_700_000_000_000_000_000;

fn load(sock: &std::path::Path) {
    assert_eq!(
        request(sock, "POST", "/query?q=CREATE+DATABASE+h", b"").status,
        200
    );
    // 100 series x 1,000 points.
    for chunk in 0..10 {
        let mut body = String::new();
        for host in 0..100 {
            for i in 0..100 {
                let n = chunk * 100 + i;
                body.push_str(&format!(
                    "m,host=h{host} v={n}i {}\n",
                    BASE + n * 1_000_000_000
                ));
            }
        }
        let w = write(sock, "h", &body);
        assert_eq!(w.status, 204, "{}", w.body);
    }
}

fn alive(sock: &std::path::Path) {
    assert_eq!(request(sock, "GET", "/ping", b"").status, 204);
}

#[test]
fn hostile_queries_are_refused_or_answered_and_the_daemon_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &data,
        &sock,
        &["--query-memory-limit", &(64u64 << 20).to_string()],
    );
    load(&sock);

    // 5,000 terms of `+` (a 10 KB query): a 400 naming the limit, not a crash.
    let q = format!("SELECT {} FROM m", vec!["v"; 5000].join("+"));
    let a = query_form(&sock, "h", &q);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("nested more than 200 levels"), "{}", a.body);
    alive(&sock);

    // 1,000 case-insensitive negated classes nested in classes (11 KB; the regex crate took
    // about 6 s to compile them): refused before compiling, naming what is not supported.
    let q = format!(
        "SELECT v FROM m WHERE host =~ /{}/",
        "(?i)[a[^b]]".repeat(1000)
    );
    let a = query_form(&sock, "h", &q);
    let head: String = a.body.chars().take(300).collect();
    assert_eq!(a.status, 400, "{head}");
    assert!(a.body.contains("nested character classes"), "{head}");
    // More than 64 KiB of regex in one query: refused before the literal past it is compiled.
    let q = format!(
        "SELECT v FROM m WHERE host =~ /{}/ OR host =~ /{}/",
        "a".repeat(40_000),
        "b".repeat(40_000)
    );
    let a = query_form(&sock, "h", &q);
    let head: String = a.body.chars().take(300).collect();
    assert_eq!(a.status, 400, "{head}");
    assert!(
        a.body
            .contains("regex literals hold more than 65536 bytes in all"),
        "{head}"
    );
    // An invalid regex of 60 KB: the 400 quotes its first 80 characters, not all of it.
    let q = format!("SELECT v FROM m WHERE host =~ /{}(/", "c".repeat(60_000));
    let a = query_form(&sock, "h", &q);
    let head: String = a.body.chars().take(300).collect();
    assert_eq!(a.status, 400, "{head}");
    assert!(a.body.contains("unclosed group"), "{head}");
    assert!(a.body.len() < 400, "{} bytes: {head}", a.body.len());
    // A window of a trillion values: nothing is allocated for it up front (the windows grow
    // with the points read, which the query's memory is charged for), and a moving average
    // costs the same a point whatever its window. With fewer points than the window, nothing
    // is answered.
    let q = "SELECT kaufmans_efficiency_ratio(v, 1000000000000), \
             chande_momentum_oscillator(v, 1000000000000, -1, 'none'), \
             moving_average(v, 1000000000000) FROM m WHERE host = 'h0'";
    let a = query_form(&sock, "h", q);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["results"][0].get("series"), None, "{}", a.body);
    let q = "SELECT kaufmans_efficiency_ratio(v, 1000000000000, 0) FROM m WHERE host = 'h0'";
    let a = query_form(&sock, "h", q);
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    assert_eq!(
        v["results"][0]["series"][0]["values"]
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
    alive(&sock);
    // A holt_winters forecast of a trillion buckets: its values are charged to
    // query_memory_limit before any is made, and refused; a small one is answered.
    let hw = |n: &str| {
        format!(
            "SELECT holt_winters(mean(v), {n}, 0) FROM m WHERE host = 'h0' AND time >= {BASE} \
             AND time < {} GROUP BY time(10s)",
            BASE + 1_000_000_000_000
        )
    };
    let a = query_form(&sock, "h", &hw("1000000000000"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("query_memory_limit exceeded"), "{}", a.body);
    let a = query_form(&sock, "h", &hw("3"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json()["results"][0]["series"][0]["values"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{}",
        a.body
    );
    alive(&sock);
    // A dashboard's alternation of 2,000 host names (58 KB) is answered.
    let hosts: Vec<String> = (0..2000).map(|i| format!("h{i}")).collect();
    let q = format!(
        "SELECT count(v) FROM m WHERE host =~ /^({})$/",
        hosts.join("|")
    );
    let v = query_form(&sock, "h", &q);
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.json()["results"][0]["series"][0]["values"][0][1], 100_000);
    alive(&sock);

    // 10,000 conditions joined by AND: answered (over one series: every point evaluates them
    // all).
    let q = format!(
        "SELECT count(v) FROM m WHERE host = 'h0' AND {}",
        vec!["v >= 0"; 10_000].join(" AND ")
    );
    let a = query_form(&sock, "h", &q);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains(",1000]"), "{}", a.body);
    alive(&sock);

    // 100,000 tag comparisons joined by OR: answered.
    let terms: Vec<String> = (0..100_000).map(|i| format!("host='h{i}'")).collect();
    let q = format!("SELECT count(v) FROM m WHERE {}", terms.join(" OR "));
    let a = query_form(&sock, "h", &q);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("100000"), "{}", a.body);
    alive(&sock);

    // Every 3-minute bucket since 1970 for 100 series (about 10 million each): stopped by the
    // memory limit before the rows exist.
    let before = peak_rss_kib(d.child.id());
    for interval in ["3m", "2h"] {
        let q = format!(
            "SELECT count(v) FROM m WHERE time >= 0 AND time < now() GROUP BY time({interval}), host"
        );
        let a = query(&sock, "h", &q);
        assert!(
            a.body.contains("query_memory_limit exceeded"),
            "{interval}: {}",
            &a.body[..a.body.len().min(300)]
        );
        alive(&sock);
    }
    let after = peak_rss_kib(d.child.id());
    eprintln!("peak RSS before the bucket queries {before} KiB, after {after} KiB");
    assert!(
        after < before + 3 * (64 << 10),
        "the bucket queries grew the peak RSS from {before} KiB to {after} KiB with a 64 MiB limit"
    );
    drop(d);

    // max_select_buckets refuses before any bucket is made.
    let d = Daemon::start(&data, &sock, &["--max-select-buckets", "1000"]);
    let q = "SELECT count(v) FROM m WHERE time >= 0 AND time < now() GROUP BY time(3m)";
    let a = query(&sock, "h", q);
    assert!(
        a.body.contains("max-select-buckets limit exceeded: ("),
        "{}",
        a.body
    );
    assert!(a.body.contains("/1000)"), "{}", a.body);
    // Within the limit: answered.
    let q = format!(
        "SELECT count(v) FROM m WHERE time >= {BASE} AND time < {} GROUP BY time(1m)",
        BASE + 1000 * 1_000_000_000
    );
    let a = query(&sock, "h", &q);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(!a.body.contains("error"), "{}", a.body);
    drop(d);
}
