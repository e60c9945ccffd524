//! Two Brook SQL servers with one service id: statements accepted by one are applied by both
//! (the command topic), each runs the persistent query as a member of its consumer group, and
//! when one stops the other carries on from the shared state without counting twice.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Stack, eventually, ksql_at};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message};

fn insert(url: &str, round: usize, users: usize, per_user: usize) {
    let statements: String = (0..users * per_user)
        .map(|i| {
            format!(
                "INSERT INTO clicks (user, page) VALUES ('u{}', 'p{round}-{i}');\n",
                i % users
            )
        })
        .collect();
    let (status, body) = ksql_at(url, &statements);
    assert_eq!(status, 200, "{body}");
}

/// The latest count per user in the output topic, once every user has `want`.
fn counts(bootstrap: &str, users: usize, want: i64) -> BTreeMap<String, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("scale-out-reader-{want}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["CLICKS_PER_USER"]).unwrap();
    let mut latest = BTreeMap::new();
    let mut max_seen: BTreeMap<String, i64> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while latest.len() < users || latest.values().any(|n| *n != want) {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out: {latest:?}"
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let user = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
            let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
            let n = v["N"].as_i64().unwrap();
            let top = max_seen.entry(user.clone()).or_default();
            *top = (*top).max(n);
            latest.insert(user, n);
        }
    }
    // No count ever went past the number of clicks: none was counted twice.
    assert!(max_seen.values().all(|n| *n <= want), "{max_seen:?}");
    latest
}

fn group_members(bootstrap: &str, group: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let groups = consumer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .unwrap();
    groups.groups().iter().map(|g| g.members().len()).sum()
}

#[test]
fn two_servers_share_statements_and_a_query() {
    let mut stack = Stack::start();
    let a = stack.url.clone();
    let second = stack.another_sql("ksql-state-b");
    let b = format!("http://{}", second.local_addr());
    let bootstrap = stack.bootstrap.clone();

    stack.ksql_ok("CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);");
    let created = stack.ksql_ok("CREATE TABLE clicks_per_user AS SELECT user, COUNT(*) AS n FROM clicks GROUP BY user EMIT CHANGES;");
    let query_id = created[0]["commandStatus"]["queryId"]
        .as_str()
        .unwrap()
        .to_string();

    // Server B applied both statements from the command topic and runs the query too.
    eventually(30, || {
        let (_, queries) = ksql_at(&b, "SHOW QUERIES;");
        (queries[0]["queries"][0]["id"] == query_id.as_str()).then_some(())
    });
    let group = format!("_confluent-ksql-default_query_{query_id}");
    eventually(60, || {
        (group_members(&bootstrap, &group) == 2).then_some(())
    });

    insert(&a, 1, 8, 5);
    let first = counts(&bootstrap, 8, 5);
    assert_eq!(first.len(), 8);

    // A leaves; B takes every partition and counts on from the shared state.
    stack.stop_sql();
    eventually(60, || {
        (group_members(&bootstrap, &group) == 1).then_some(())
    });
    insert(&b, 2, 8, 3);
    counts(&bootstrap, 8, 8);

    // A statement accepted by B reaches a restarted A.
    stack.start_sql();
    let (status, body) = ksql_at(&b, &format!("TERMINATE {query_id};"));
    assert_eq!(status, 200, "{body}");
    eventually(30, || {
        let (_, queries) = ksql_at(&stack.url, "SHOW QUERIES;");
        queries[0]["queries"]
            .as_array()
            .unwrap()
            .is_empty()
            .then_some(())
    });
    stack.runtime.block_on(second.shutdown());
}
