//! Scenario: an HTTP writer waits while the flusher is held and `max_frozen_memtables` is
//! reached; after `write_timeout` it gets 503 (and never a half-applied write); once the flusher
//! proceeds, writes are acknowledged again and exactly the acknowledged points are there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::sync::Arc;
use std::time::Duration;

use strata::server::{serve_until, ServeOptions};
use strata::{Config, Db};

#[test]
fn http_writers_get_503_while_the_flusher_is_held_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let cfg = Config::new()
        .memtable_size_bytes(2048)
        .max_frozen_memtables(1)
        .write_timeout(Duration::from_millis(300));
    let db = Arc::new(Db::open(dir.path().join("data"), cfg).unwrap());
    db.create_database("h").unwrap();
    db.database("h").unwrap().set_flush_paused(true);

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let (db, sock) = (db.clone(), sock.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(serve_until(db, ServeOptions::new(sock), async {
                let _ = stop_rx.await;
            }))
            .unwrap();
        })
    };
    while !sock.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut acked = 0i64;
    let mut answer = None;
    for i in 0..5000i64 {
        let a = write(&sock, "h", &format!("m v={i}i {}\n", i * 1000));
        if a.status == 204 {
            acked += 1;
        } else {
            answer = Some(a);
            break;
        }
    }
    let a = answer.expect("a write must wait and time out while the flusher is held");
    assert_eq!(a.status, 503, "{}", a.body);
    let msg = a.json()["error"].as_str().unwrap().to_string();
    assert!(msg.starts_with("timeout"), "{msg}");
    let committing = msg.contains("will become visible");
    assert!(
        committing || msg.contains("nothing from this request was written"),
        "{msg}"
    );

    // The flusher proceeds: writes are acknowledged again.
    db.database("h").unwrap().set_flush_paused(false);
    let a = write(&sock, "h", "m v=-1i 1\n");
    assert_eq!(a.status, 204, "{}", a.body);
    acked += 1;
    let v = query_json(&sock, "h", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), acked + i64::from(committing));

    stop_tx.send(()).unwrap();
    server.join().unwrap();
    assert!(!sock.exists(), "socket removed on shutdown");
}
