//! A third-party ksqlDB client against Brook SQL: the `ksqldb-client` npm package, which
//! speaks HTTP/2 to every endpoint — statements, inserts, push and pull queries, listings and
//! terminating a push query (tests/node/ksqldb_client.js; `./scripts/test` installs it).

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use common::{Server, free_port};
use serde_json::{Value as Json, json};

#[test]
fn the_ksqldb_client_npm_package_works_unchanged() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/node/ksqldb_client.js");
    assert!(
        root.join("tests/node/node_modules/ksqldb-client").is_dir(),
        "tests/node has no node_modules: run ./scripts/test (npm ci --prefix tests/node)"
    );
    let dir = tempfile::tempdir().unwrap();
    let sql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _server = Server::start_with_sql(
        &dir.path().join("data"),
        free_port(),
        sql,
        &dir.path().join("log"),
    );

    let out = Command::new("node")
        .arg(&script)
        .args(["127.0.0.1", &sql.port().to_string()])
        .output()
        .expect("node runs (Debian's nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Json = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    // The client's own shapes: rows of /ksql entities, of insert acks, of named columns.
    assert_eq!(seen["create"]["status"], 200, "{seen}");
    assert_eq!(
        seen["create"]["data"]["rows"][0]["commandStatus"]["message"],
        "Stream created"
    );
    for insert in seen["inserts"].as_array().unwrap() {
        assert_eq!(insert["status"], 200, "{insert}");
        assert_eq!(insert["data"]["rows"][0]["status"], "ok", "{insert}");
    }
    assert_eq!(seen["push"]["status"], 200, "{seen}");
    assert_eq!(
        seen["push"]["data"]["metadata"]["columnNames"],
        json!(["USER", "PAGE"])
    );
    assert_eq!(
        seen["pushed"],
        json!([
            {"USER": "ann", "PAGE": "/home"},
            {"USER": "bob", "PAGE": "/cart"},
            {"USER": "ann", "PAGE": "/pay"}
        ])
    );
    assert_eq!(
        seen["ctas"]["data"]["rows"][0]["commandStatus"]["queryId"]
            .as_str()
            .map(|q| q.starts_with("CTAS_CLICKS_PER_USER_")),
        Some(true),
        "{seen}"
    );
    assert_eq!(
        seen["pull"]["data"]["rows"],
        json!([{"USER": "ann", "N": 2}]),
        "{seen}"
    );
    assert_eq!(seen["streams"][0]["name"], "CLICKS", "{seen}");
    assert_eq!(
        seen["queries"][0]["sinks"],
        json!(["CLICKS_PER_USER"]),
        "{seen}"
    );
    assert_eq!(seen["describe"]["name"], "CLICKS", "{seen}");
    assert_eq!(seen["describe"]["fields"][0]["type"], "KEY", "{seen}");
    assert_eq!(seen["terminate"]["status"], 200, "{seen}");
    assert_eq!(
        seen["terminated"], true,
        "the push query's request ended: {seen}"
    );
}
