//! A persistent Brook SQL query survives a `brook serve` restart: the statement is replayed
//! from the command topic, the query resumes from its committed offsets and its restored
//! state, and nothing is counted twice.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Server, free_port};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::{Value as Json, json};

fn ksql(sql: SocketAddr, statement: &str) -> Json {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("http://{sql}/ksql"))
        .send(
            json!({"ksql": statement, "streamsProperties": {"auto.offset.reset": "earliest"}})
                .to_string(),
        )
        .unwrap();
    let status = response.status().as_u16();
    let body: Json = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(status, 200, "{statement}: {body}");
    body
}

fn pull(sql: SocketAddr, statement: &str) -> Vec<Json> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("http://{sql}/query-stream"))
        .send(json!({"sql": statement}).to_string())
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The output records (user, count) from `from` on, until every user's count is `until`.
fn counts_from(bootstrap: &str, from: i64, users: usize, until: i64) -> Vec<(String, i64)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "sql-restart-reader")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("CLICKS_PER_USER", 0, Offset::Offset(from))
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut latest = std::collections::BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while latest.len() < users || latest.values().any(|n| *n != until) {
        assert!(Instant::now() < deadline, "timed out: {latest:?}");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let user = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
            let v: Json = serde_json::from_slice(m.payload().unwrap()).unwrap();
            let n = v["N"].as_i64().unwrap();
            latest.insert(user.clone(), n);
            out.push((user, n));
        }
    }
    out
}

fn end_offset(bootstrap: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    consumer
        .fetch_watermarks("CLICKS_PER_USER", 0, Duration::from_secs(10))
        .unwrap()
        .1
}

fn insert(sql: SocketAddr, round: usize, per_user: usize) {
    let statements: String = (0..per_user * 5)
        .map(|i| {
            format!(
                "INSERT INTO clicks (user, page) VALUES ('u{}', 'p{round}-{i}');\n",
                i % 5
            )
        })
        .collect();
    ksql(sql, &statements);
}

#[test]
fn a_persistent_query_survives_a_restart_without_counting_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let port = free_port();
    let sql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_sql(&data, port, sql, &log);
    let bootstrap = server.addr.to_string();

    ksql(
        sql,
        "CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);",
    );
    let created = ksql(
        sql,
        "CREATE TABLE clicks_per_user AS SELECT user, COUNT(*) AS n FROM clicks GROUP BY user EMIT CHANGES;",
    );
    let query_id = created[0]["commandStatus"]["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    insert(sql, 1, 20);
    counts_from(&bootstrap, 0, 5, 20);

    // Everything the query wrote before the restart; a recount would write after it.
    let from = end_offset(&bootstrap);
    assert!(server.terminate(), "brook serve exits cleanly");
    let first_log = std::fs::read_to_string(&log).unwrap();
    let closed: Vec<&str> = first_log
        .lines()
        .filter(|l| l.contains("query closed"))
        .collect();
    assert_eq!(closed.len(), 1, "{first_log}");
    // Each click once (grouping by the key needs no repartition).
    assert!(closed[0].contains("processed 100 records"), "{closed:?}");
    let server = restart(&data, port, sql, &log, &query_id);
    let bootstrap = server.addr.to_string();

    insert(sql, 2, 10);
    let after = counts_from(&bootstrap, from, 5, 30);
    // Counting went on from 20: nothing was counted again from the start.
    assert!(
        after.iter().all(|(_, n)| (21..=30).contains(n)),
        "{after:?}"
    );
    let rows = pull(
        sql,
        "SELECT user, n FROM clicks_per_user WHERE user = 'u3';",
    );
    assert_eq!(rows, vec![json!(["u3", 30])]);
    // The state came back from the query's local copy, not by re-reading its changelog.
    assert!(server.terminate(), "brook serve exits cleanly");
    let log = std::fs::read_to_string(&log).unwrap();
    let closed: Vec<&str> = log.lines().filter(|l| l.contains("query closed")).collect();
    assert_eq!(closed.len(), 1, "{log}");
    assert!(
        closed[0].contains(&query_id)
            && closed[0].contains("processed 50 records, restored 0 changelog records"),
        "{closed:?}"
    );
}

/// Restarts brook serve and checks the query is back.
fn restart(
    data: &std::path::Path,
    port: u16,
    sql: SocketAddr,
    log: &std::path::Path,
    query_id: &str,
) -> Server {
    let server = Server::start_with_sql(data, port, sql, log);
    let queries = ksql(sql, "SHOW QUERIES;");
    assert_eq!(queries[0]["queries"][0]["id"], query_id, "{queries}");
    let tables = ksql(sql, "SHOW TABLES;");
    assert_eq!(tables[0]["tables"][0]["name"], "CLICKS_PER_USER");
    server
}
