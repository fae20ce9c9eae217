//! Scenario: vq and InfluxQL share the data. Points written by `strata vq` are read back by
//! InfluxQL (embedded, `Db::query`, database `vq`, seconds → nanoseconds), and points written as
//! line protocol are read by `strata vq`, with the same answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::{data_dir, vq_ok};

#[test]
fn vq_writes_influxql_reads_and_the_reverse() {
    let _serial = common::one_at_a_time();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    vq_ok(
        r,
        "CREATE TABLE weather TAGS city;\
         PUT temperature 1700000000 21.5 INTO weather TAGS city=paris;\
         PUT temperature 1700000060 22.5 INTO weather TAGS city=paris;\
         PUT temperature 1700000000 10 INTO weather TAGS city=oslo;",
    );
    {
        let db = strata::Db::open(data_dir(r), strata::Config::new()).unwrap();
        let json = db
            .query("vq", "SELECT temperature FROM weather WHERE city = 'paris'")
            .unwrap()
            .to_json();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let values = &json["results"][0]["series"][0]["values"];
        assert_eq!(values[0][1], 21.5, "{json}");
        assert_eq!(values[1][1], 22.5, "{json}");
        assert_eq!(values[0][0], "2023-11-14T22:13:20Z", "{json}");
        let mean = db
            .query(
                "vq",
                "SELECT mean(temperature) FROM weather WHERE time >= 1700000000s AND time <= 1700000060s AND city = 'paris'",
            )
            .unwrap()
            .to_json();
        let mean: serde_json::Value = serde_json::from_str(&mean).unwrap();
        assert_eq!(
            mean["results"][0]["series"][0]["values"][0][1], 22.0,
            "{mean}"
        );
        // The reverse: line protocol (ns) into the same table, then into a new one vq declares.
        db.write_lines(
            "vq",
            "weather,city=oslo temperature=12 1700000060000000000\n\
             sensors,room=lab co2=400 1700000000000000000\n\
             sensors,room=lab co2=420 1700000001500000000\n",
        )
        .unwrap();
        db.close().unwrap();
    }
    assert_eq!(
        vq_ok(
            r,
            "SELECT AVG temperature FROM weather BETWEEN 1700000000 AND 1700000060 WHERE city=paris;\
             SELECT DATA temperature FROM weather ALL WHERE city=oslo;\
             TABLES; CREATE TABLE sensors TAGS room; SELECT SUM co2 FROM sensors ALL WHERE room=lab;\
             SELECT DATA co2 FROM sensors BETWEEN 1700000001 AND 1700000002;"
        ),
        // A point at 1700000001.5 s shows its whole seconds.
        "22.000000\n\
         [[{00000000001700000000}{temperature}{city:oslo}|10];\
         [{00000000001700000060}{temperature}{city:oslo}|12]]\n\
         weather\n820.000000\n[[{00000000001700000001}{co2}{room:lab}|420]]\n"
    );
    // A measurement InfluxQL wrote before vq declared it has data: it is populated.
    let run = common::vq::vq_file(r, "ADD TAGS x TO sensors;");
    assert_eq!(
        run.stderr,
        "[line 1:col 15] Runtime error: Table 'sensors' has previously been populated with data.\n"
    );
}
