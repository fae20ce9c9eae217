//! Scenario: `strata serve --auth-enabled` from its first admin to users with roles, through
//! the socket as InfluxDB 1.x clients talk to it: the first-admin rule, every user statement
//! with 1.x's answers and errors, each credential form (HTTP Basic, `u`/`p` in the URL and in
//! a form body, `Authorization: Token user:password`), 401 and 403 with 1.x's texts, and what
//! READ, WRITE, ALL and admin allow.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use base64ct::Encoding as _;

/// An answer with its head (status line and headers), to check headers too.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// One HTTP/1.1 request with exactly the headers given.
fn http(sock: &Path, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut s = UnixStream::connect(sock).unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    // The server may answer (a 401 decided from the headers) and close before it has read the
    // whole body: a failed write is not the end, the answer is still in the receive buffer.
    let _ = s
        .write_all(head.as_bytes())
        .and_then(|()| s.write_all(body));
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((len, r)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&r[..n]);
            rest = &r[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    Reply {
        status,
        head: head.to_string(),
        body,
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn basic(user: &str, password: &str) -> Vec<(&'static str, String)> {
    let b64 = base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes());
    vec![("Authorization", format!("Basic {b64}"))]
}

/// `q` on `/query?db=db` as `user` with HTTP Basic credentials.
fn q_as(sock: &Path, user: &str, password: &str, q: &str) -> Reply {
    http(
        sock,
        "POST",
        &format!("/query?db=db&q={}", enc(q)),
        &basic(user, password),
        b"",
    )
}

/// `q` as the admin; asserts a 200 and returns the JSON.
fn admin(sock: &Path, q: &str) -> serde_json::Value {
    let r = q_as(sock, "admin", "admin pw", q);
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.json()
}

fn write_as(sock: &Path, headers: &[(&str, String)], query: &str) -> Reply {
    http(
        sock,
        "POST",
        &format!("/write?db=db{query}"),
        headers,
        b"cpu,host=a v=1 1700000000000000000\n",
    )
}

#[test]
fn users_roles_and_credentials_as_influxdb_1x() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &["--auth-enabled"]);

    // /ping and /health stay open.
    assert_eq!(http(&sock, "GET", "/ping", &[], b"").status, 204);
    assert_eq!(http(&sock, "GET", "/health", &[], b"").status, 200);

    // No user yet: only the first admin may be created, without credentials.
    for q in ["SHOW DATABASES", "CREATE USER bob WITH PASSWORD 'x'"] {
        let r = http(&sock, "GET", &format!("/query?q={}", enc(q)), &[], b"");
        assert_eq!(r.status, 403, "{q}: {}", r.body);
        assert_eq!(
            r.error(),
            "error authorizing query: create admin user first or disable authentication"
        );
    }
    let r = http(
        &sock,
        "POST",
        &format!(
            "/query?q={}",
            enc("CREATE USER admin WITH PASSWORD 'admin pw' WITH ALL PRIVILEGES")
        ),
        &[],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        serde_json::json!({"results": [{"statement_id": 0}]})
    );

    // From now on credentials are needed: missing ones, a wrong password and an unknown user
    // are 401 with 1.x's texts and a Basic challenge.
    let r = http(&sock, "GET", "/query?q=SHOW+DATABASES", &[], b"");
    assert_eq!(r.status, 401);
    assert_eq!(r.error(), "unable to parse authentication credentials");
    assert!(
        r.head
            .contains("WWW-Authenticate: Basic realm=\"InfluxDB\"")
            || r.head
                .contains("www-authenticate: Basic realm=\"InfluxDB\""),
        "{}",
        r.head
    );
    for (u, p) in [("admin", "wrong"), ("nobody", "admin pw")] {
        let r = q_as(&sock, u, p, "SHOW DATABASES");
        assert_eq!(
            (r.status, r.error()),
            (401, "authorization failed".to_string())
        );
    }
    let r = http(&sock, "GET", "/query?q=SHOW+USERS", &basic("", "pw"), b"");
    assert_eq!(
        (r.status, r.error()),
        (401, "username required".to_string())
    );
    let r = http(
        &sock,
        "GET",
        "/query?q=SHOW+USERS",
        &[("Authorization", "Bearer abc.def.ghi".to_string())],
        b"",
    );
    assert_eq!(
        (r.status, r.error()),
        (401, "bearer auth disabled".to_string())
    );
    let r = write_as(&sock, &[], "");
    assert_eq!(r.status, 401, "{}", r.body);

    // The admin sets up databases and users.
    admin(&sock, "CREATE DATABASE db; CREATE DATABASE secret");
    admin(
        &sock,
        "CREATE USER reader WITH PASSWORD 'r-pw'; CREATE USER writer WITH PASSWORD 'w-pw'; \
         CREATE USER \"all\" WITH PASSWORD 'a pw'",
    );
    admin(
        &sock,
        "GRANT READ ON db TO reader; GRANT WRITE ON db TO writer; GRANT ALL ON db TO \"all\"",
    );
    // Creating a user again with the same password and flag is fine; otherwise 1.x's error.
    let v = admin(
        &sock,
        "CREATE USER reader WITH PASSWORD 'r-pw'; CREATE USER reader WITH PASSWORD 'other'; \
         CREATE USER reader WITH PASSWORD 'r-pw' WITH ALL PRIVILEGES",
    );
    assert_eq!(v["results"][0].get("error"), None, "{v}");
    assert_eq!(v["results"][1]["error"], "user already exists", "{v}");
    assert_eq!(v["results"][2]["error"], "user already exists", "{v}");
    let v = admin(
        &sock,
        "DROP USER nobody; SET PASSWORD FOR nobody = 'x'; GRANT READ ON db TO nobody; \
         REVOKE READ ON db FROM nobody; SHOW GRANTS FOR nobody; GRANT ALL PRIVILEGES TO nobody; \
         GRANT READ ON nodb TO reader",
    );
    for i in 0..6 {
        assert_eq!(v["results"][i]["error"], "user not found", "{i}: {v}");
    }
    assert_eq!(v["results"][6]["error"], "database not found: nodb", "{v}");
    let v = admin(&sock, "SHOW USERS");
    assert_eq!(
        v["results"][0]["series"][0],
        serde_json::json!({
            "columns": ["user", "admin"],
            "values": [["admin", true], ["reader", false], ["writer", false], ["all", false]]
        }),
        "{v}"
    );
    let v = admin(
        &sock,
        "SHOW GRANTS FOR reader; SHOW GRANTS FOR \"all\"; SHOW GRANTS FOR admin",
    );
    assert_eq!(
        v["results"][0]["series"][0],
        serde_json::json!({"columns": ["database", "privilege"], "values": [["db", "READ"]]})
    );
    assert_eq!(
        v["results"][1]["series"][0]["values"],
        serde_json::json!([["db", "ALL PRIVILEGES"]])
    );
    assert_eq!(
        v["results"][2]["series"][0],
        serde_json::json!({"columns": ["database", "privilege"]}),
        "an empty SHOW GRANTS still has its columns, as 1.x"
    );

    // Every credential form: the writer writes with each of them.
    let token = vec![("Authorization", "Token writer:w-pw".to_string())];
    for (how, headers, query) in [
        ("basic", basic("writer", "w-pw"), String::new()),
        ("url", Vec::new(), format!("&u=writer&p={}", enc("w-pw"))),
        ("token", token, String::new()),
    ] {
        let r = write_as(&sock, &headers, &query);
        assert_eq!(r.status, 204, "{how}: {}", r.body);
    }
    // ... and the reader reads with each of them, the form body included.
    let select = format!("q={}", enc("SELECT count(v) FROM cpu"));
    let url = http(
        &sock,
        "GET",
        &format!("/query?db=db&{select}&u=reader&p={}", enc("r-pw")),
        &[],
        b"",
    );
    let form = http(
        &sock,
        "POST",
        "/query",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        )],
        format!("db=db&{select}&u=reader&p={}", enc("r-pw")).as_bytes(),
    );
    let token = http(
        &sock,
        "GET",
        &format!("/query?db=db&{select}"),
        &[("Authorization", "Token reader:r-pw".to_string())],
        b"",
    );
    let basic_r = http(
        &sock,
        "GET",
        &format!("/query?db=db&{select}"),
        &basic("reader", "r-pw"),
        b"",
    );
    for (how, r) in [
        ("url", url),
        ("form", form),
        ("token", token),
        ("basic", basic_r),
    ] {
        assert_eq!(r.status, 200, "{how}: {}", r.body);
        assert_eq!(scalar(&r.json()), 1, "{how}: {}", r.body);
    }
    // A wrong password in the form body is refused like any other.
    let r = http(
        &sock,
        "POST",
        "/query",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        )],
        format!("db=db&{select}&u=reader&p=wrong").as_bytes(),
    );
    assert_eq!(
        (r.status, r.error()),
        (401, "authorization failed".to_string())
    );

    // READ reads but does not write; WRITE writes but does not read; neither administers.
    let r = write_as(&sock, &basic("reader", "r-pw"), "");
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.error(),
        "\"reader\" user is not authorized to write to database \"db\""
    );
    // The same for a Prometheus remote write (the body is checked after the grant).
    let r = http(
        &sock,
        "POST",
        "/api/v1/prom/write?db=db",
        &basic("reader", "r-pw"),
        b"not snappy",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        r.error(),
        "\"reader\" user is not authorized to write to database \"db\""
    );
    let r = http(
        &sock,
        "POST",
        "/api/v1/prom/write?db=db",
        &basic("writer", "w-pw"),
        b"not snappy",
    );
    assert_eq!(r.status, 400, "WRITE gets to the body: {}", r.body);
    let r = q_as(&sock, "writer", "w-pw", "SELECT * FROM cpu");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error(),
        "error authorizing query: writer not authorized to execute statement 'SELECT * FROM cpu', requires READ on db"
    );
    let r = q_as(
        &sock,
        "writer",
        "w-pw",
        "SHOW SERIES EXACT CARDINALITY GROUP BY host",
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error(),
        "error authorizing query: writer not authorized to execute statement 'SHOW SERIES EXACT CARDINALITY GROUP BY host', requires READ on db"
    );
    let r = q_as(&sock, "reader", "r-pw", "SHOW SERIES CARDINALITY");
    assert_eq!(r.status, 200, "READ allows counting: {}", r.body);
    let r = q_as(&sock, "reader", "r-pw", "DROP DATABASE db");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error(),
        "error authorizing query: reader not authorized to execute statement 'DROP DATABASE db', requires admin privilege"
    );
    let r = q_as(&sock, "reader", "r-pw", "SHOW USERS");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.error(),
        "error authorizing query: reader not authorized to execute statement 'SHOW USERS', requires admin privilege"
    );
    let r = q_as(
        &sock,
        "reader",
        "r-pw",
        "CREATE USER x WITH PASSWORD 'secret'",
    );
    assert_eq!(
        r.error(),
        "error authorizing query: reader not authorized to execute statement 'CREATE USER x WITH PASSWORD [REDACTED]', requires admin privilege"
    );
    let r = q_as(&sock, "reader", "r-pw", "SELECT * FROM secret..cpu");
    assert_eq!(
        r.error(),
        "error authorizing query: reader not authorized to execute statement 'SELECT * FROM secret..cpu', requires READ on secret"
    );
    let r = q_as(
        &sock,
        "writer",
        "w-pw",
        "DELETE FROM cpu WHERE host = 'zzz'",
    );
    assert_eq!(r.status, 200, "WRITE allows DELETE: {}", r.body);
    let r = q_as(
        &sock,
        "reader",
        "r-pw",
        "DELETE FROM cpu WHERE host = 'zzz'",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // ALL reads and writes.
    assert_eq!(write_as(&sock, &basic("all", "a pw"), "").status, 204);
    assert_eq!(q_as(&sock, "all", "a pw", "SELECT * FROM cpu").status, 200);
    // SHOW DATABASES lists what the user may read or write, all of them to the admin.
    let names = |v: serde_json::Value| v["results"][0]["series"][0]["values"].clone();
    assert_eq!(
        names(q_as(&sock, "reader", "r-pw", "SHOW DATABASES").json()),
        serde_json::json!([["db"]])
    );
    assert_eq!(
        names(admin(&sock, "SHOW DATABASES")),
        serde_json::json!([["db"], ["secret"]])
    );
    // strata's /internal/compact is for admins.
    let r = http(
        &sock,
        "POST",
        "/internal/compact?db=db",
        &basic("all", "a pw"),
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = http(
        &sock,
        "POST",
        "/internal/compact?db=db",
        &basic("admin", "admin pw"),
        b"",
    );
    assert_eq!(r.status, 204, "{}", r.body);
    // A parse error keeps its line and column.
    let r = q_as(
        &sock,
        "admin",
        "admin pw",
        "SHOW USERS;\nGRANT READ db TO reader",
    );
    assert_eq!(
        (r.status, r.error()),
        (
            400,
            "error parsing query: found db, expected ON at line 2, char 12".to_string()
        )
    );

    // SET PASSWORD: the old password stops working at once (even though it was cached).
    admin(&sock, "SET PASSWORD FOR reader = 'new-pw'");
    assert_eq!(q_as(&sock, "reader", "r-pw", "SHOW DATABASES").status, 401);
    assert_eq!(
        q_as(&sock, "reader", "new-pw", "SHOW DATABASES").status,
        200
    );
    // REVOKE clears bits as 1.x: ALL minus READ is WRITE; REVOKE ALL leaves NO PRIVILEGES.
    admin(
        &sock,
        "REVOKE READ ON db FROM \"all\"; REVOKE READ ON db FROM reader",
    );
    let v = admin(&sock, "SHOW GRANTS FOR \"all\"; SHOW GRANTS FOR reader");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["db", "WRITE"]])
    );
    assert_eq!(
        v["results"][1]["series"][0]["values"],
        serde_json::json!([["db", "NO PRIVILEGES"]])
    );
    assert_eq!(
        q_as(&sock, "reader", "new-pw", "SELECT * FROM cpu").status,
        403
    );
    // GRANT ALL PRIVILEGES TO makes an admin; REVOKE ALL PRIVILEGES FROM unmakes one.
    admin(&sock, "GRANT ALL PRIVILEGES TO reader");
    assert_eq!(q_as(&sock, "reader", "new-pw", "SHOW USERS").status, 200);
    admin(&sock, "REVOKE ALL PRIVILEGES FROM reader");
    assert_eq!(q_as(&sock, "reader", "new-pw", "SHOW USERS").status, 403);
    // DROP USER: its credentials stop working at once.
    admin(&sock, "DROP USER writer");
    assert_eq!(write_as(&sock, &basic("writer", "w-pw"), "").status, 401);
    // DROP DATABASE takes the privileges on it along.
    admin(&sock, "DROP DATABASE db");
    let v = admin(&sock, "SHOW GRANTS FOR \"all\"");
    assert_eq!(v["results"][0]["series"][0].get("values"), None, "{v}");
    assert!(d.stop().success());
}
