//! Kafka Connect's REST API over plain HTTP against a worker and a broker in this process:
//! the course's Datagen flow (create `OrdersConnector_tutorial`, RUNNING, orders with the
//! quickstart's fields arrive, pause — none arrive —, resume, delete), a restart of the
//! worker that continues the iterations, plugins and validation, and the error shapes.

use std::time::{Duration, Instant};

use brook_broker::{Broker, BrokerConfig};
use brook_client::ClusterSettings;
use brook_connect::rest::ConnectServer;
use brook_connect::worker::{Worker, WorkerConfig};
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::{Value as Json, json};

struct Stack {
    runtime: tokio::runtime::Runtime,
    _broker: Broker,
    bootstrap: String,
    server: Option<ConnectServer>,
    url: String,
    _dir: tempfile::TempDir,
}

impl Stack {
    fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let broker = runtime.block_on(async {
            Broker::start(BrokerConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: dir.path().join("data"),
                group_initial_rebalance_delay: Duration::ZERO,
                ..BrokerConfig::default()
            })
            .await
            .unwrap()
        });
        let bootstrap = broker.local_addr().to_string();
        let mut stack = Stack {
            runtime,
            _broker: broker,
            bootstrap,
            server: None,
            url: String::new(),
            _dir: dir,
        };
        stack.start_worker();
        stack
    }

    fn start_worker(&mut self) {
        let mut config = WorkerConfig::new(ClusterSettings::new(&self.bootstrap), "127.0.0.1:8083");
        config.offset_flush_interval = Duration::from_millis(500);
        let worker = Worker::start(config).unwrap();
        let server = self
            .runtime
            .block_on(ConnectServer::start(worker, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        self.url = format!("http://{}", server.local_addr());
        self.server = Some(server);
    }

    fn stop_worker(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let mut response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("DELETE", _) => agent.delete(&url).call(),
            ("POST", Some(b)) => agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            ("POST", None) => agent.post(&url).send_empty(),
            ("PUT", Some(b)) => agent
                .put(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            ("PUT", None) => agent.put(&url).send_empty(),
            ("PATCH", Some(b)) => agent
                .patch(&url)
                .header("Content-Type", "application/json")
                .send(b.to_string()),
            _ => unreachable!(),
        }
        .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Json::String(text)),
        )
    }
}

/// Reads everything in `topic` within `wait` after its end stops moving.
fn read_all(bootstrap: &str, topic: &str) -> Vec<(String, Json)> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata.topics()[0].partitions().len() as i32;
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut remaining = 0;
    for p in 0..partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .unwrap();
        remaining += high;
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while (out.len() as i64) < remaining && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let key = String::from_utf8(m.key().unwrap_or_default().to_vec()).unwrap();
            let value: Json = serde_json::from_slice(m.payload().unwrap()).unwrap();
            out.push((key, value));
        }
    }
    out
}

fn count(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)) else {
        return 0;
    };
    let partitions = metadata.topics()[0].partitions().len() as i32;
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .map_or(0, |(_, h)| h)
        })
        .sum()
}

fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_courses_datagen_flow_over_http() {
    let mut stack = Stack::start();
    let (status, root) = stack.call("GET", "/", None);
    assert_eq!(status, 200);
    assert!(
        root["version"].is_string() && root["kafka_cluster_id"].is_string(),
        "{root}"
    );
    let (_, plugins) = stack.call("GET", "/connector-plugins", None);
    assert!(
        plugins.as_array().unwrap().iter().any(|p| p["class"]
            == "io.confluent.kafka.connect.datagen.DatagenConnector"
            && p["type"] == "source"),
        "{plugins}"
    );

    // Create the tutorial's connector.
    let config = json!({
        "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
        "kafka.topic": "tutorial_topic",
        "quickstart": "orders",
        "max.interval": "20",
        "tasks.max": "1"
    });
    let (status, created) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "OrdersConnector_tutorial", "config": config})),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "OrdersConnector_tutorial");
    assert_eq!(created["type"], "source");
    assert_eq!(
        created["tasks"],
        json!([{"connector": "OrdersConnector_tutorial", "task": 0}])
    );
    let (status, again) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "OrdersConnector_tutorial", "config": config})),
    );
    assert_eq!(
        (status, again["error_code"].clone()),
        (409, json!(409)),
        "{again}"
    );

    // It runs, and orders arrive with the quickstart's fields.
    let (status, s) = stack.call("GET", "/connectors/OrdersConnector_tutorial/status", None);
    assert_eq!(status, 200);
    assert_eq!(s["connector"]["state"], "RUNNING", "{s}");
    assert_eq!(s["tasks"][0]["state"], "RUNNING", "{s}");
    eventually(30, || {
        (count(&stack.bootstrap, "tutorial_topic") >= 20).then_some(())
    });
    let orders = read_all(&stack.bootstrap, "tutorial_topic");
    for (key, order) in &orders {
        for field in ["ordertime", "orderid", "itemid", "orderunits", "address"] {
            assert!(order.get(field).is_some(), "{field} in {order}");
        }
        assert_eq!(key, &order["orderid"].to_string(), "the key is the orderid");
        assert!(
            order["address"]["city"]
                .as_str()
                .unwrap()
                .starts_with("City_")
        );
        let units = order["orderunits"].as_f64().unwrap();
        assert!((0.1..10.0).contains(&units));
    }
    let (_, listed) = stack.call("GET", "/connectors?expand=status&expand=info", None);
    assert_eq!(
        listed["OrdersConnector_tutorial"]["status"]["connector"]["state"], "RUNNING",
        "{listed}"
    );

    // Paused: no more orders arrive.
    let (status, _) = stack.call("PUT", "/connectors/OrdersConnector_tutorial/pause", None);
    assert_eq!(status, 202);
    eventually(10, || {
        let (_, s) = stack.call("GET", "/connectors/OrdersConnector_tutorial/status", None);
        (s["connector"]["state"] == "PAUSED" && s["tasks"][0]["state"] == "PAUSED").then_some(())
    });
    let paused_at = count(&stack.bootstrap, "tutorial_topic");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        count(&stack.bootstrap, "tutorial_topic"),
        paused_at,
        "nothing arrives while paused"
    );

    // Resumed: they arrive again.
    let (status, _) = stack.call("PUT", "/connectors/OrdersConnector_tutorial/resume", None);
    assert_eq!(status, 202);
    eventually(30, || {
        (count(&stack.bootstrap, "tutorial_topic") > paused_at + 10).then_some(())
    });

    // A worker restart continues where it stopped: order ids go on without repeating more
    // than what was written after the last offset commit.
    stack.stop_worker();
    let before = read_all(&stack.bootstrap, "tutorial_topic");
    let highest = before
        .iter()
        .map(|(_, o)| o["orderid"].as_i64().unwrap())
        .max()
        .unwrap();
    stack.start_worker();
    let (_, s) = stack.call("GET", "/connectors/OrdersConnector_tutorial/status", None);
    assert_eq!(
        s["connector"]["state"], "RUNNING",
        "the connector is back: {s}"
    );
    eventually(30, || {
        (count(&stack.bootstrap, "tutorial_topic") as usize > before.len() + 10).then_some(())
    });
    let after = read_all(&stack.bootstrap, "tutorial_topic");
    let first_new = after[before.len()..]
        .iter()
        .map(|(_, o)| o["orderid"].as_i64().unwrap())
        .min()
        .unwrap();
    assert!(
        first_new > highest - 5 && first_new <= highest + 1,
        "resumed at {first_new} after {highest}"
    );

    // The config and tasks endpoints, then delete.
    let (_, c) = stack.call("GET", "/connectors/OrdersConnector_tutorial/config", None);
    assert_eq!(c["quickstart"], "orders");
    assert_eq!(c["name"], "OrdersConnector_tutorial");
    let (_, tasks) = stack.call("GET", "/connectors/OrdersConnector_tutorial/tasks", None);
    assert_eq!(
        tasks[0]["id"],
        json!({"connector": "OrdersConnector_tutorial", "task": 0})
    );
    let (status, _) = stack.call("DELETE", "/connectors/OrdersConnector_tutorial", None);
    assert_eq!(status, 204);
    let (status, gone) = stack.call("GET", "/connectors/OrdersConnector_tutorial", None);
    assert_eq!(status, 404);
    assert_eq!(
        gone["message"],
        "Connector OrdersConnector_tutorial not found"
    );
    let (_, listed) = stack.call("GET", "/connectors", None);
    assert_eq!(listed, json!([]));
    let stopped_at = count(&stack.bootstrap, "tutorial_topic");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        count(&stack.bootstrap, "tutorial_topic"),
        stopped_at,
        "a deleted connector writes nothing"
    );
}

#[test]
fn validation_errors_and_stopped_connectors() {
    let stack = Stack::start();
    // Validation: a missing topic and a bad quickstart, per setting.
    let (status, v) = stack.call(
        "PUT",
        "/connector-plugins/DatagenConnector/config/validate",
        Some(json!({"connector.class": "DatagenConnector", "quickstart": "nope"})),
    );
    assert_eq!(status, 200);
    assert_eq!(v["error_count"], 2, "{v}");
    let errors_of = |name: &str| -> Json {
        v["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["value"]["name"] == name)
            .unwrap()["value"]["errors"]
            .clone()
    };
    assert!(
        errors_of("kafka.topic")[0]
            .as_str()
            .unwrap()
            .contains("Missing required configuration")
    );
    assert!(
        errors_of("quickstart")[0]
            .as_str()
            .unwrap()
            .contains("must be one out of")
    );

    // Creating that config fails with 400 and the reasons.
    let (status, e) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "bad", "config": {"connector.class": "DatagenConnector", "quickstart": "nope"}})),
    );
    assert_eq!(status, 400, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("contains the following 2 error(s)"),
        "{e}"
    );
    let (status, e) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "bad", "config": {"connector.class": "com.example.Nope"}})),
    );
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Failed to find any class"),
        "{e}"
    );
    let (status, e) = stack.call(
        "POST",
        "/connectors",
        Some(
            json!({"name": "bad-settings", "config": {"connector.class": "DatagenConnector",
            "kafka.topic": "t", "quickstart": "orders", "transforms": "mask,route",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "errors.tolerance": "some", "errors.deadletterqueue.topic.name": "dlq"}}),
        ),
    );
    assert_eq!(status, 400, "{e}");
    let message = e["message"].as_str().unwrap();
    for expected in [
        "contains the following 4 error(s)",
        "Invalid value for configuration transforms.mask.type: Missing required configuration",
        "transforms.route.type: Missing required configuration \"regex\" for RegexRouter",
        "String must be one of: none, all",
        "Dead letter queues are for sink connectors",
    ] {
        assert!(message.contains(expected), "{expected} in {e}");
    }
    let (status, e) = stack.call("POST", "/connectors", Some(json!("not an object")));
    assert_eq!(status, 400, "{e}");
    let (status, _) = stack.call("PUT", "/connectors/nope/pause", None);
    assert_eq!(status, 404);

    // Created through PUT config with a schema of our own and 5 iterations; then stopped.
    let (status, created) = stack.call(
        "PUT",
        "/connectors/users/config",
        Some(json!({
            "connector.class": "DatagenConnector",
            "kafka.topic": "users",
            "schema.string": "{\"type\":\"record\",\"name\":\"user\",\"fields\":[{\"name\":\"id\",\"type\":{\"type\":\"long\",\"arg.properties\":{\"iteration\":{\"start\":1}}}}]}",
            "schema.keyfield": "id",
            "iterations": "5",
            "max.interval": "0",
            "tasks.max": "1"
        })),
    );
    assert_eq!(status, 201, "{created}");
    eventually(30, || (count(&stack.bootstrap, "users") == 5).then_some(()));
    let users = read_all(&stack.bootstrap, "users");
    let mut ids: Vec<i64> = users
        .iter()
        .map(|(_, u)| u["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3, 4, 5], "iterations=5 writes exactly five");
    let (status, _) = stack.call("PUT", "/connectors/users/stop", None);
    assert_eq!(status, 202);
    eventually(10, || {
        let (_, s) = stack.call("GET", "/connectors/users/status", None);
        (s["connector"]["state"] == "STOPPED" && s["tasks"] == json!([])).then_some(())
    });
}

/// Kafka's file connectors: lines of a file into a topic and back out into another file,
/// lines appended later too, and a worker restart that neither loses nor repeats a line.
#[test]
fn file_source_and_sink_round_trip_lines() {
    let mut stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.txt"), dir.path().join("out.txt"));
    let mut want: Vec<String> = (0..1000)
        .map(|i| format!("ride {i},vendor {},{}.5", i % 2 + 1, i))
        .collect();
    std::fs::write(
        &input,
        want.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    let append = |lines: &[String]| {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    };
    let strings = "org.apache.kafka.connect.storage.StringConverter";
    let (status, body) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "lines-in", "config": {
            "connector.class": "FileStreamSource", "file": input.to_str().unwrap(),
            "topic": "lines", "value.converter": strings}})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "lines-out", "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "file": output.to_str().unwrap(), "topics": "lines", "value.converter": strings}})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["type"], "sink");
    let written = || -> Vec<String> {
        std::fs::read_to_string(&output)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    eventually(30, || (written().len() >= want.len()).then_some(()));
    assert_eq!(written(), want);

    // Lines appended later follow.
    let more: Vec<String> = (1000..1500).map(|i| format!("ride {i}")).collect();
    append(&more);
    want.extend(more);
    eventually(30, || (written().len() >= want.len()).then_some(()));
    assert_eq!(written(), want);

    // Across a worker restart: nothing lost, nothing repeated (a clean stop commits).
    stack.stop_worker();
    let more: Vec<String> = (1500..1600).map(|i| format!("ride {i}")).collect();
    append(&more);
    want.extend(more);
    stack.start_worker();
    eventually(30, || (written().len() >= want.len()).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(written(), want);

    // KIP-558: the topics each connector used.
    let (status, topics) = stack.call("GET", "/connectors/lines-in/topics", None);
    assert_eq!(status, 200, "{topics}");
    assert_eq!(topics, json!({"lines-in": {"topics": ["lines"]}}));
    eventually(10, || {
        let (_, t) = stack.call("GET", "/connectors/lines-out/topics", None);
        (t == json!({"lines-out": {"topics": ["lines"]}})).then_some(())
    });

    // KIP-875: the source's offset is its position in the file; the sink's, its group's.
    let file_len = std::fs::metadata(&input).unwrap().len();
    eventually(10, || {
        let (_, o) = stack.call("GET", "/connectors/lines-in/offsets", None);
        (o == json!({"offsets": [{"partition": {"filename": input.to_str().unwrap()},
                                  "offset": {"position": file_len}}]}))
        .then_some(())
    });
    eventually(10, || {
        let (_, o) = stack.call("GET", "/connectors/lines-out/offsets", None);
        (o == json!({"offsets": [{"partition": {"kafka_topic": "lines", "kafka_partition": 0},
                                  "offset": {"kafka_offset": 1600}}]}))
        .then_some(())
    });
    // Only a stopped connector's offsets change.
    let rewind = json!({"offsets": [{"partition": {"kafka_topic": "lines", "kafka_partition": 0},
                                     "offset": {"kafka_offset": 1500}}]});
    let (status, e) = stack.call(
        "PATCH",
        "/connectors/lines-out/offsets",
        Some(rewind.clone()),
    );
    assert_eq!(status, 400, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("STOPPED state"),
        "{e}"
    );
    // The sink rewound by 100 records writes them again.
    assert_eq!(stack.call("PUT", "/connectors/lines-out/stop", None).0, 202);
    let (status, m) = stack.call("PATCH", "/connectors/lines-out/offsets", Some(rewind));
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        m["message"],
        "The offsets for this connector have been altered successfully"
    );
    assert_eq!(
        stack.call("PUT", "/connectors/lines-out/resume", None).0,
        202
    );
    want.extend_from_within(1500..1600);
    eventually(30, || (written().len() >= want.len()).then_some(()));
    assert_eq!(written(), want);
    // The source's offsets reset: it reads the whole file again.
    assert_eq!(stack.call("PUT", "/connectors/lines-in/stop", None).0, 202);
    let (status, m) = stack.call("DELETE", "/connectors/lines-in/offsets", None);
    assert_eq!(status, 200, "{m}");
    let (_, o) = stack.call("GET", "/connectors/lines-in/offsets", None);
    assert_eq!(o, json!({"offsets": []}));
    assert_eq!(
        stack.call("PUT", "/connectors/lines-in/resume", None).0,
        202
    );
    want.extend_from_within(..1600);
    eventually(30, || (written().len() >= want.len()).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(written(), want);

    // /admin/loggers: this server was started without a way to change levels.
    let (status, loggers) = stack.call("GET", "/admin/loggers", None);
    assert_eq!(status, 200);
    assert_eq!(
        loggers,
        json!({"root": {"level": "INFO", "last_modified": null}})
    );
    let (status, e) = stack.call(
        "PUT",
        "/admin/loggers/brook_connect",
        Some(json!({"level": "DEBUG"})),
    );
    assert_eq!(status, 500, "{e}");

    // A sink needs topics.
    let (status, e) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "no-topics", "config": {"connector.class": "FileStreamSink", "file": "/tmp/x"}})),
    );
    assert_eq!(status, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Must configure one of topics or topics.regex"),
        "{e}"
    );
}

/// Writes raw values to `topic` (one partition).
fn produce_raw(bootstrap: &str, topic: &str, values: &[&[u8]]) {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for v in values {
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(topic)
                    .key(b"k".as_slice())
                    .payload(*v),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// Headers as (name, text).
type TextHeaders = Vec<(String, String)>;

/// Every record of `topic`: its value and headers (as text).
fn read_with_headers(bootstrap: &str, topic: &str, want: usize) -> Vec<(Vec<u8>, TextHeaders)> {
    use rdkafka::message::Headers as _;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < want && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let headers = m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| {
                            (
                                h.key.to_string(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((m.payload().unwrap_or_default().to_vec(), headers));
        }
    }
    out
}

/// A record the converter cannot read: with `errors.tolerance=all` it goes to the dead
/// letter queue as it was read, with Kafka Connect's context headers, and the records around
/// it reach the sink (through a transform); with the default tolerance the task fails with
/// the cause in its trace.
#[test]
fn unreadable_records_go_to_the_dead_letter_queue_or_fail_the_task() {
    let stack = Stack::start();
    let dir = tempfile::tempdir().unwrap();
    produce_raw(
        &stack.bootstrap,
        "rides_json",
        &[
            br#"{"ride": {"vendor": 1, "fare": 7.5}}"#,
            b"this is not JSON",
            br#"{"ride": {"vendor": 2, "fare": 12.0}}"#,
        ],
    );
    let output = dir.path().join("rides.txt");
    let (status, body) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "tolerant", "config": {
            "connector.class": "FileStreamSink", "file": output.to_str().unwrap(),
            "topics": "rides_json",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "transforms": "ride",
            "transforms.ride.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
            "transforms.ride.field": "ride",
            "errors.tolerance": "all",
            "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": "dlq_rides",
            "errors.deadletterqueue.context.headers.enable": "true"}})),
    );
    assert_eq!(status, 201, "{body}");
    let lines = eventually(30, || {
        let text = std::fs::read_to_string(&output).unwrap_or_default();
        (text.lines().count() >= 2).then_some(text)
    });
    assert_eq!(
        lines.lines().collect::<Vec<_>>(),
        vec![r#"{"fare":7.5,"vendor":1}"#, r#"{"fare":12.0,"vendor":2}"#]
    );
    let dead = read_with_headers(&stack.bootstrap, "dlq_rides", 1);
    assert_eq!(dead.len(), 1);
    let (value, headers) = &dead[0];
    assert_eq!(value, b"this is not JSON");
    let header = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no header {k} in {headers:?}"))
    };
    assert_eq!(header("__connect.errors.topic"), "rides_json");
    assert_eq!(header("__connect.errors.partition"), "0");
    assert_eq!(header("__connect.errors.offset"), "1");
    assert_eq!(header("__connect.errors.connector.name"), "tolerant");
    assert_eq!(header("__connect.errors.task.id"), "0");
    assert_eq!(header("__connect.errors.stage"), "VALUE_CONVERTER");
    assert_eq!(
        header("__connect.errors.class.name"),
        "org.apache.kafka.connect.json.JsonConverter"
    );
    assert_eq!(
        header("__connect.errors.exception.class.name"),
        "org.apache.kafka.connect.errors.DataException"
    );
    assert!(!header("__connect.errors.exception.message").is_empty());
    let (_, s) = stack.call("GET", "/connectors/tolerant/status", None);
    assert_eq!(s["tasks"][0]["state"], "RUNNING", "{s}");

    // Without tolerance the same record fails the task, and the trace says why.
    let (status, body) = stack.call(
        "POST",
        "/connectors",
        Some(json!({"name": "strict", "config": {
            "connector.class": "FileStreamSink",
            "file": dir.path().join("strict.txt").to_str().unwrap(),
            "topics": "rides_json",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false"}})),
    );
    assert_eq!(status, 201, "{body}");
    let trace = eventually(30, || {
        let (_, s) = stack.call("GET", "/connectors/strict/status", None);
        (s["tasks"][0]["state"] == "FAILED")
            .then(|| s["tasks"][0]["trace"].as_str().unwrap().to_string())
    });
    for expected in [
        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler at topic 'rides_json', partition 0, offset 1",
        "Caused by: org.apache.kafka.connect.errors.DataException: Converting the record failed in stage VALUE_CONVERTER (org.apache.kafka.connect.json.JsonConverter)",
    ] {
        assert!(trace.contains(expected), "{expected} in {trace}");
    }
    // Nothing past the bad record was written (as in Kafka Connect, the batch it came in is
    // not handed to the task), and no offset past it was committed.
    let written = std::fs::read_to_string(dir.path().join("strict.txt")).unwrap_or_default();
    assert!(!written.contains("\"vendor\":2"), "{written}");
    let (_, o) = stack.call("GET", "/connectors/strict/offsets", None);
    assert!(
        o["offsets"][0]["offset"]["kafka_offset"]
            .as_i64()
            .unwrap_or(0)
            <= 1,
        "{o}"
    );
}

/// Datagen orders (a nested struct) written through each of Confluent's registry converters
/// and read back by a file sink through the same converter: every field survives, and the
/// schema is registered under the topic's value subject with its type.
#[test]
fn registry_converters_round_trip_orders() {
    let stack = Stack::start();
    let registry = stack
        .runtime
        .block_on(brook_registry::RegistryServer::start(
            brook_registry::RegistryConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                cluster: ClusterSettings::new(&stack.bootstrap),
                topic: "_schemas".into(),
                advertised_url: None,
            },
        ))
        .unwrap();
    let registry_url = format!("http://{}", registry.local_addr());
    let dir = tempfile::tempdir().unwrap();
    for (short, class, schema_type) in [
        ("avro", "io.confluent.connect.avro.AvroConverter", None),
        (
            "json_sr",
            "io.confluent.connect.json.JsonSchemaConverter",
            Some("JSON"),
        ),
        (
            "protobuf",
            "io.confluent.connect.protobuf.ProtobufConverter",
            Some("PROTOBUF"),
        ),
    ] {
        let topic = format!("orders_{short}");
        let (status, body) = stack.call(
            "POST",
            "/connectors",
            Some(json!({"name": format!("gen-{short}"), "config": {
                "connector.class": "DatagenConnector", "kafka.topic": topic,
                "quickstart": "orders", "iterations": "20", "max.interval": "0",
                "value.converter": class,
                "value.converter.schema.registry.url": registry_url}})),
        );
        assert_eq!(status, 201, "{body}");
        let out = dir.path().join(format!("{short}.txt"));
        let (status, body) = stack.call(
            "POST",
            "/connectors",
            Some(json!({"name": format!("sink-{short}"), "config": {
                "connector.class": "FileStreamSink", "topics": topic,
                "file": out.to_str().unwrap(), "value.converter": class,
                "value.converter.schema.registry.url": registry_url}})),
        );
        assert_eq!(status, 201, "{body}");
        let text = eventually(30, || {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            (text.lines().count() >= 20).then_some(text)
        });
        let mut ids: Vec<i64> = Vec::new();
        for line in text.lines() {
            let order: Json = serde_json::from_str(line).unwrap();
            ids.push(
                order["orderid"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{short}: {line}")),
            );
            assert!(
                order["itemid"].as_str().unwrap().starts_with("Item_"),
                "{short}: {line}"
            );
            assert!(
                order["address"]["city"]
                    .as_str()
                    .unwrap()
                    .starts_with("City_"),
                "{short}: {line}"
            );
            assert!(
                order["address"]["zipcode"].as_i64().unwrap() >= 10_000,
                "{short}: {line}"
            );
            assert!(
                order["orderunits"].as_f64().unwrap() > 0.0,
                "{short}: {line}"
            );
        }
        ids.sort();
        assert_eq!(ids, (0..20).collect::<Vec<i64>>(), "{short}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let latest: Json = serde_json::from_str(
            &agent
                .get(&format!(
                    "{registry_url}/subjects/{topic}-value/versions/latest"
                ))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            latest["schemaType"].as_str(),
            schema_type,
            "{short}: {latest}"
        );
    }
    stack.runtime.block_on(registry.shutdown());
}
