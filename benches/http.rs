//! Criterion benchmarks of the daemon's front door: keep-alive round trips over its Unix
//! socket to an in-process `strata serve` (`server::serve_until`): `GET /ping` (the listener,
//! hyper and the connection's timeout bookkeeping alone) and a small `/query` answered in JSON
//! and in CSV (the answer budget, rendering, and the charge carried with the bytes).
//!
//! `cargo bench --bench http`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use strata::server::{serve_until, ServeOptions};
use strata::{Config, Db};

/// Send one keep-alive request and read its whole answer (Content-Length framed).
fn round_trip(stream: &mut UnixStream, request: &[u8], buf: &mut Vec<u8>) -> usize {
    stream.write_all(request).expect("send");
    buf.clear();
    let mut chunk = [0u8; 16 << 10];
    loop {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().expect("length"));
            if buf.len() >= head_end + 4 + length {
                return length;
            }
        }
    }
}

fn start(dir: &Path) -> (std::path::PathBuf, tokio::sync::oneshot::Sender<()>) {
    let socket = dir.join("s.sock");
    let db = Arc::new(Db::open(dir.join("data"), Config::new()).expect("open"));
    db.create_database("b").expect("create");
    let lines: String = (0..100)
        .map(|i| format!("m,host=h{} v={i}.5 {}\n", i % 4, i * 1_000_000_000))
        .collect();
    db.write_lines("b", &lines).expect("write");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let opts = ServeOptions::new(&socket);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime
            .block_on(serve_until(db, opts, async {
                let _ = stopped.await;
            }))
            .expect("serve");
    });
    while UnixStream::connect(&socket).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (socket, stop)
}

fn front_door(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (socket, stop) = start(dir.path());
    let mut stream = UnixStream::connect(&socket).expect("connect");
    let mut buf = Vec::new();
    let mut group = c.benchmark_group("http");
    let ping = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
    group.bench_function("ping", |b| {
        b.iter(|| round_trip(&mut stream, ping, &mut buf));
    });
    let query =
        b"GET /query?db=b&epoch=ns&q=SELECT+v+FROM+m+GROUP+BY+host HTTP/1.1\r\nHost: x\r\n\r\n";
    group.bench_function("query_100_points_json", |b| {
        b.iter(|| assert!(round_trip(&mut stream, query, &mut buf) > 1000));
    });
    let csv = b"GET /query?db=b&q=SELECT+v+FROM+m+GROUP+BY+host HTTP/1.1\r\nHost: x\r\nAccept: application/csv\r\n\r\n";
    group.bench_function("query_100_points_csv", |b| {
        b.iter(|| assert!(round_trip(&mut stream, csv, &mut buf) > 1000));
    });
    group.finish();
    let _ = stop.send(());
}

criterion_group!(benches, front_door);
criterion_main!(benches);
