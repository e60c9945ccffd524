//! ksqlDB's tutorial flow through plain HTTP: create a stream over a topic, insert rows, watch
//! them arrive in a push query on /query-stream, derive a stream, terminate and drop it.

mod common;

use common::{Stack, eventually};
use serde_json::json;

#[test]
fn tutorial_flow_over_plain_http() {
    let stack = Stack::start();

    // /info and /healthcheck.
    let (status, info) = stack.get("/info");
    assert_eq!(status, 200);
    assert_eq!(info["KsqlServerInfo"]["ksqlServiceId"], "default_");
    let (status, health) = stack.get("/healthcheck");
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["isHealthy"], true);

    let created = stack.ksql_ok(
        "CREATE STREAM riderLocations (profileId VARCHAR, latitude DOUBLE, longitude DOUBLE)
         WITH (kafka_topic='locations', value_format='json', partitions=1);",
    );
    assert_eq!(created[0]["@type"], "currentStatus");
    assert_eq!(created[0]["commandStatus"]["status"], "SUCCESS");
    assert_eq!(created[0]["commandStatus"]["message"], "Stream created");

    // A push query, started before the rows exist (it starts at the end of the topic).
    let mut lines = stack.query_stream(
        "SELECT profileId, latitude, longitude FROM riderLocations WHERE latitude > 37.7 EMIT CHANGES LIMIT 3;",
        json!({}),
    );
    let header = lines.next_json().unwrap();
    assert_eq!(
        header["columnNames"],
        json!(["PROFILEID", "LATITUDE", "LONGITUDE"])
    );
    assert_eq!(header["columnTypes"], json!(["STRING", "DOUBLE", "DOUBLE"]));
    assert!(
        header["queryId"]
            .as_str()
            .unwrap()
            .starts_with("transient_")
    );

    let rows = [
        ("c2309eec", 37.7877, -122.4205),
        ("18f4ea86", 37.3903, -122.0643),
        ("4ab5cbad", 37.3952, -122.0813),
        ("8b6eae59", 37.3944, -122.0813),
        ("4a7c7b41", 37.4049, -122.0822),
        ("4ddad000", 37.7857, -122.4011),
        ("1ee5aa45", 37.7900, -122.4000),
    ];
    let inserts: String = rows
        .iter()
        .map(|(id, lat, lon)| {
            format!("INSERT INTO riderLocations (profileId, latitude, longitude) VALUES ('{id}', {lat}, {lon});\n")
        })
        .collect();
    let inserted = stack.ksql_ok(&inserts);
    assert_eq!(inserted, json!([]));

    let mut seen = Vec::new();
    while let Some(row) = lines.next_json() {
        seen.push(row);
    }
    assert_eq!(
        seen,
        vec![
            json!(["c2309eec", 37.7877, -122.4205]),
            json!(["4ddad000", 37.7857, -122.4011]),
            json!(["1ee5aa45", 37.79, -122.4]),
        ]
    );

    // A persistent query, its listing, termination and cleanup.
    let created = stack.ksql_ok(
        "CREATE STREAM near_sf AS SELECT profileId, ROUND(latitude, 2) AS lat FROM riderLocations WHERE latitude > 37.7 EMIT CHANGES;",
    );
    let query_id = created[0]["commandStatus"]["queryId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(query_id.starts_with("CSAS_NEAR_SF_"), "{query_id}");
    let queries = stack.ksql_ok("SHOW QUERIES;");
    assert_eq!(queries[0]["queries"][0]["id"], query_id.as_str());
    assert_eq!(
        queries[0]["queries"][0]["sinkKafkaTopics"],
        json!(["NEAR_SF"])
    );

    // Its output, read back with a push query from the beginning.
    let mut lines = stack.query_stream(
        "SELECT * FROM near_sf EMIT CHANGES LIMIT 3;",
        json!({"auto.offset.reset": "earliest"}),
    );
    let header = lines.next_json().unwrap();
    assert_eq!(header["columnNames"], json!(["PROFILEID", "LAT"]));
    let mut derived = Vec::new();
    while let Some(row) = lines.next_json() {
        derived.push(row);
    }
    assert_eq!(
        derived,
        vec![
            json!(["c2309eec", 37.79]),
            json!(["4ddad000", 37.79]),
            json!(["1ee5aa45", 37.79])
        ]
    );

    let (status, refused) = stack.ksql("DROP STREAM near_sf;");
    assert_eq!(status, 400);
    assert!(
        refused["message"].as_str().unwrap().contains(&query_id),
        "{refused}"
    );

    let terminated = stack.ksql_ok(&format!("TERMINATE {query_id};"));
    assert_eq!(
        terminated[0]["commandStatus"]["message"],
        "Query terminated."
    );
    let dropped = stack.ksql_ok("DROP STREAM near_sf DELETE TOPIC;");
    assert!(
        dropped[0]["commandStatus"]["message"]
            .as_str()
            .unwrap()
            .contains("was dropped")
    );
    eventually(20, || {
        let topics = stack.ksql_ok("SHOW TOPICS;");
        let names: Vec<&str> = topics[0]["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        (!names.contains(&"NEAR_SF") && names.contains(&"locations")).then_some(())
    });
    let streams = stack.ksql_ok("SHOW STREAMS;");
    let names: Vec<&str> = streams[0]["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["RIDERLOCATIONS"]);
}

#[test]
fn bad_statements_get_ksqldb_errors() {
    let stack = Stack::start();
    let (status, body) = stack.ksql("SELECT * \nFORM x EMIT CHANGES;");
    assert_eq!(status, 400);
    assert_eq!(body["@type"], "statement_error");
    assert_eq!(body["error_code"], 40001);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("line 2:1: syntax error at or near 'FORM'"),
        "{body}"
    );
    assert!(body["statementText"].as_str().unwrap().contains("FORM x"));

    stack.ksql_ok("CREATE STREAM s (id INT KEY, name STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);");
    let (status, body) = stack.ksql("CREATE STREAM t AS SELECT id, nme FROM s;");
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("NME cannot be resolved"),
        "{body}"
    );
    let (_, body) = stack.ksql("CREATE STREAM t AS SELECT id, NOPE(name) FROM s;");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Can't find any functions with the name 'NOPE'"),
        "{body}"
    );
    let (_, body) = stack.ksql("CREATE STREAM t AS SELECT id, name + 1 FROM s;");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Unsupported arithmetic types"),
        "{body}"
    );
    let (_, body) = stack.ksql("CREATE STREAM u (a STRUCT<b INT>) WITH (kafka_topic='u', value_format='DELIMITED', partitions=1);");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'DELIMITED' format does not support type 'STRUCT'"),
        "{body}"
    );
    let (_, body) = stack.ksql("INSERT INTO s (id, name) VALUES ('x', 'y');");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Expected type INTEGER for column ID"),
        "{body}"
    );
    let (status, body) = stack.ksql("SELECT * FROM s EMIT CHANGES;");
    assert_eq!(status, 400);
    assert_eq!(body["error_code"], 40002);
    let (status, body) = stack.post("/ksql", &json!({"nope": 1}));
    assert_eq!(status, 400, "{body}");
}

#[test]
fn query_stream_over_http2_inserts_stream_query_and_close_query() {
    let stack = Stack::start();
    stack.ksql_ok("CREATE STREAM pings (id INT KEY, host STRING, ms DOUBLE) WITH (kafka_topic='pings', value_format='JSON', partitions=1);");

    // /inserts-stream: a target line, then rows; one ack per row.
    let body = "{\"target\": \"PINGS\"}\n{\"id\": 1, \"host\": \"a\", \"ms\": 1.5}\n{\"ID\": 2, \"HOST\": \"b\", \"MS\": 2.5}\n{\"id\": 3, \"host\": \"c\", \"ms\": 3.5}\n";
    let mut response = common::agent()
        .post(&format!("{}/inserts-stream", stack.url))
        .send(body)
        .unwrap();
    let acks = response.body_mut().read_to_string().unwrap();
    let acks: Vec<serde_json::Value> = acks
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        acks,
        vec![
            json!({"status": "ok", "seq": 0}),
            json!({"status": "ok", "seq": 1}),
            json!({"status": "ok", "seq": 2})
        ]
    );

    // /query-stream over HTTP/2 (cleartext, prior knowledge), as ksqlDB's Java client speaks it.
    let out = std::process::Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "-X", "POST", "-w", "\nHTTP/%{http_version}\n"])
        .arg(format!("{}/query-stream", stack.url))
        .args(["-H", "Accept: application/vnd.ksqlapi.delimited.v1", "-d"])
        .arg(json!({"sql": "SELECT id, host FROM pings EMIT CHANGES LIMIT 3;", "properties": {"auto.offset.reset": "earliest"}}).to_string())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.last(), Some(&"HTTP/2"), "{text}");
    let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(header["columnNames"], json!(["ID", "HOST"]));
    assert_eq!(&lines[1..4], &["[1,\"a\"]", "[2,\"b\"]", "[3,\"c\"]"]);

    // /query-stream with Accept: application/json is one JSON array.
    let mut response = common::agent()
        .post(&format!("{}/query-stream", stack.url))
        .header("Accept", "application/json")
        .send(json!({"sql": "SELECT host, ms FROM pings EMIT CHANGES LIMIT 2;", "properties": {"auto.offset.reset": "earliest"}}).to_string())
        .unwrap();
    let array: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(array[0]["columnTypes"], json!(["STRING", "DOUBLE"]));
    assert_eq!(array[1], json!(["a", 1.5]));
    assert_eq!(array[2], json!(["b", 2.5]));

    // The older /query endpoint: header, rows, final message.
    let (status, body) = stack.post("/query", &json!({"ksql": "SELECT host FROM pings EMIT CHANGES LIMIT 2;", "streamsProperties": {"auto.offset.reset": "earliest"}}));
    assert_eq!(status, 200);
    assert_eq!(body[0]["header"]["schema"], "`HOST` STRING");
    assert_eq!(body[1]["row"]["columns"], json!(["a"]));
    assert_eq!(body[2]["row"]["columns"], json!(["b"]));
    assert_eq!(body[3]["finalMessage"], "Limit Reached");
    assert_eq!(body.as_array().unwrap().len(), 4, "{body}");

    // /close-query ends a push query that has no limit.
    let mut lines = stack.query_stream(
        "SELECT * FROM pings EMIT CHANGES;",
        json!({"auto.offset.reset": "earliest"}),
    );
    let header = lines.next_json().unwrap();
    let id = header["queryId"].as_str().unwrap().to_string();
    for _ in 0..3 {
        lines.next_json().unwrap();
    }
    let (status, _) = stack.post("/close-query", &json!({"queryId": id}));
    assert_eq!(status, 200);
    assert_eq!(
        lines.next_json(),
        None,
        "the response ends once the query is closed"
    );
    let (status, _) = stack.post("/close-query", &json!({"queryId": id}));
    assert_eq!(status, 400, "a closed query is gone");

    // Functions: the listing and one description of each kind.
    let described = stack.ksql_ok("DESCRIBE FUNCTION ucase;");
    assert_eq!(described[0]["type"], "SCALAR");
    assert_eq!(described[0]["functions"][0]["description"], "UCASE(STRING)");
    let described = stack.ksql_ok("DESCRIBE FUNCTION LATEST_BY_OFFSET;");
    assert_eq!(described[0]["type"], "AGGREGATE");
    let (status, body) = stack.ksql("DESCRIBE FUNCTION nope;");
    assert_eq!(status, 400, "{body}");
    let listed = stack.ksql_ok("SHOW FUNCTIONS;");
    assert_eq!(listed[0]["functions"].as_array().unwrap().len(), 80 + 14);

    // /status and /clusterStatus.
    let (status, body) = stack.get("/status");
    assert_eq!(status, 200);
    assert_eq!(body["commandStatuses"]["stream/`PINGS`/create"], "SUCCESS");
    let (status, body) = stack.get("/clusterStatus");
    assert_eq!(status, 200);
    assert!(
        body["clusterStatus"]
            .as_object()
            .unwrap()
            .values()
            .all(|h| h["hostAlive"] == true)
    );
}

/// GROUP BY over a table: a row that moves to another group leaves its old one, a deleted
/// row leaves its group; aggregates that cannot take a row out are refused. Then a SOURCE
/// table over the same topic: materialized for pull queries, read-only, dropped with its query.
#[test]
fn aggregations_over_tables_and_source_tables() {
    let stack = Stack::start();
    stack.ksql_ok("CREATE TABLE drivers (id STRING PRIMARY KEY, zone INT, rating DOUBLE) WITH (KAFKA_TOPIC='drivers', VALUE_FORMAT='JSON', PARTITIONS=2);");
    stack.ksql_ok("SET 'auto.offset.reset' = 'earliest';");
    let (status, body) = stack.ksql(
        "CREATE TABLE best AS SELECT zone, MAX(rating) AS best FROM drivers GROUP BY zone EMIT CHANGES;",
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "The aggregation function(s) (MAX) cannot be applied to a table source, only to a stream source."
    );
    stack.ksql_ok(
        "CREATE TABLE drivers_per_zone AS SELECT zone, COUNT(*) AS drivers, SUM(rating) AS ratings,
           COLLECT_LIST(id) AS ids FROM drivers WHERE rating > 1 GROUP BY zone EMIT CHANGES;",
    );
    for (id, zone, rating) in [
        ("ann", 132, 4.5),
        ("bob", 132, 4.0),
        ("cyd", 48, 5.0),
        ("dan", 48, 0.5), // outside the WHERE: in no group
        ("ann", 48, 4.5), // ann moves from 132 to 48
    ] {
        stack.ksql_ok(&format!(
            "INSERT INTO drivers (id, zone, rating) VALUES ('{id}', {zone}, {rating});"
        ));
    }
    let pull = |stack: &Stack| -> Vec<serde_json::Value> {
        let (status, body) = stack.post(
            "/query",
            &json!({"ksql": "SELECT zone, drivers, ratings, ids FROM drivers_per_zone;"}),
        );
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap()[1..]
            .iter()
            .map(|r| r["row"]["columns"].clone())
            .collect()
    };
    let want = vec![
        json!([48, 2, 9.5, ["cyd", "ann"]]),
        json!([132, 1, 4.0, ["bob"]]),
    ];
    eventually(30, || (pull(&stack) == want).then_some(()));

    // A tombstone on the table's topic deletes bob: 132 has no driver left. (Partitioned
    // as a Java producer, and INSERT INTO, partition keys.)
    let producer: rdkafka::producer::BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &stack.bootstrap)
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    producer
        .send(rdkafka::producer::BaseRecord::<str, [u8]>::to("drivers").key("bob"))
        .unwrap();
    rdkafka::producer::Producer::flush(&producer, std::time::Duration::from_secs(10)).unwrap();
    let want = vec![
        json!([48, 2, 9.5, ["cyd", "ann"]]),
        json!([132, 0, 0.0, []]),
    ];
    eventually(30, || (pull(&stack) == want).then_some(()));

    stack.ksql_ok("CREATE SOURCE TABLE drivers_now (id STRING PRIMARY KEY, zone INT, rating DOUBLE) WITH (KAFKA_TOPIC='drivers', VALUE_FORMAT='JSON');");
    let rows = |sql: &str| -> Vec<serde_json::Value> {
        let (status, body) = stack.post("/query", &json!({ "ksql": sql }));
        assert_eq!(status, 200, "{sql}: {body}");
        body.as_array().unwrap()[1..]
            .iter()
            .map(|r| r["row"]["columns"].clone())
            .collect()
    };
    let all = eventually(30, || {
        let all = rows("SELECT id, zone FROM drivers_now;");
        (all.len() == 3).then_some(all)
    });
    assert_eq!(
        all,
        vec![json!(["ann", 48]), json!(["cyd", 48]), json!(["dan", 48])]
    );
    assert_eq!(
        rows("SELECT rating FROM drivers_now WHERE id = 'cyd';"),
        vec![json!([5.0])]
    );
    let (status, body) =
        stack.ksql("INSERT INTO drivers_now (id, zone, rating) VALUES ('eve', 1, 1.0);");
    assert_eq!(status, 400, "{body}");
    let shown = stack.ksql_ok("SHOW QUERIES;");
    assert!(
        shown[0]["queries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"] == "CST_DRIVERS_NOW"),
        "{shown}"
    );
    stack.ksql_ok("DROP TABLE drivers_now;");
    let shown = stack.ksql_ok("SHOW QUERIES;");
    assert!(
        !shown[0]["queries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"] == "CST_DRIVERS_NOW"),
        "{shown}"
    );
}
