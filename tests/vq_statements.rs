//! Scenario: a vq file using every statement runs through `strata vq FILE.vq`: exit 0, nothing
//! on stderr, and stdout exactly as VQ.md §6.1 (one line per result, in statement order).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::vq_ok;

const PROGRAM: &str = "// every statement of vq
TABLES;
CREATE TABLE climate TAGS region, season, region;
CREATE TABLE empty;
TABLES;
ADD TAGS unit TO climate;   REMOVE TAGS season FROM climate;
ADD TAGS city, unit TO empty;
REMOVE TAGS unit FROM empty;
PUT temperature 1234 23.5 INTO climate TAGS region=west, unit=celsius;
PUT temperature 1234 20 INTO climate;
PUT temperature 1000 1234567 INTO climate TAGS region=east;
PUT temperature 2000 -0.25 INTO climate TAGS region=west, region=east;
PUT temperature 3000 0.00001 INTO climate TAGS unit=kelvin;
PUT humidity 1234 55 INTO climate TAGS region=west;
SELECT DATA temperature FROM climate ALL;
SELECT DATA temperature FROM climate BETWEEN 1234 AND 2000 WHERE region=west;
SELECT DATA temperature FROM climate AT 1;
SELECT COUNT temperature FROM climate ALL;
SELECT COUNT temperature FROM climate AT 9;
SELECT SUM temperature FROM climate BETWEEN 1001 AND 3000;
SELECT AVG temperature FROM climate ALL WHERE region=west;
SELECT MIN temperature FROM climate ALL;
SELECT MAX temperature FROM climate BETWEEN 0 AND 1500;
PUT temperature 1234 21 INTO climate;
DELETE temperature 1000 FROM climate TAGS region=east;
DELETE temperature 1234 FROM climate TAGS region=nowhere;
SELECT DATA temperature FROM climate BETWEEN 0 AND 1234;
SELECT DATA humidity FROM climate ALL;
DROP TABLE empty;
TABLES;
";

const EXPECTED: &str = "
climate empty
[[{00000000000000001000}{temperature}{region:east}|1.23457e+06];\
[{00000000000000001234}{temperature}{}|20];\
[{00000000000000001234}{temperature}{region:west,unit:celsius}|23.5];\
[{00000000000000002000}{temperature}{region:west}|-0.25];\
[{00000000000000003000}{temperature}{unit:kelvin}|1e-05]]
[[{00000000000000001234}{temperature}{region:west,unit:celsius}|23.5];\
[{00000000000000002000}{temperature}{region:west}|-0.25]]
[]
5
0
43.250010
11.625000
-0.250000
1234567.000000
[[{00000000000000001234}{temperature}{}|21];\
[{00000000000000001234}{temperature}{region:west,unit:celsius}|23.5]]
[[{00000000000000001234}{humidity}{region:west}|55]]
climate
";

#[test]
fn every_statement_through_the_binary() {
    let root = tempfile::tempdir().unwrap();
    assert_eq!(vq_ok(root.path(), PROGRAM), EXPECTED);
}
