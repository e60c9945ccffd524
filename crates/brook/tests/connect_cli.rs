//! Brook Connect in the binary: `brook serve --connect-listen` serves Kafka Connect's REST
//! API beside the broker, and `brook connect` runs a worker alone against a cluster (here as
//! a second Connect cluster with its own group and topics). Each runs the Datagen orders
//! connector, and a restarted `brook connect` runs its connector again.

mod common;
mod pg;

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port};
use serde_json::{Value as Json, json};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn get(url: &str) -> (u16, Json) {
    let mut r = agent().get(url).call().unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap_or(Json::Null),
    )
}

fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn create_orders(url: &str, name: &str, topic: &str) {
    let mut r = agent()
        .post(&format!("{url}/connectors"))
        .header("Content-Type", "application/json")
        .send(
            json!({"name": name, "config": {
                "connector.class": "io.confluent.kafka.connect.datagen.DatagenConnector",
                "kafka.topic": topic, "quickstart": "orders", "max.interval": "10"}})
            .to_string(),
        )
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        201,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
}

/// The number of records in `topic` (its single partition's end), through `brook topic`.
fn records(bootstrap: SocketAddr, topic: &str) -> i64 {
    let out = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args([
            "-b",
            &bootstrap.to_string(),
            "-o",
            "json",
            "topic",
            "describe",
            topic,
        ])
        .output()
        .unwrap();
    let described: Json = serde_json::from_slice(&out.stdout).unwrap_or(Json::Null);
    described["partitions"].as_array().map_or(0, |ps| {
        ps.iter()
            .map(|p| p["log_end_offset"].as_i64().unwrap_or(0))
            .sum()
    })
}

fn eventually(secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `brook connect` with a group and topics of its own.
fn brook_connect(bootstrap: SocketAddr, listen: SocketAddr) -> Worker {
    brook_connect_with(
        bootstrap,
        listen,
        &[
            "--group-id",
            "standalone",
            "--config-topic",
            "standalone-configs",
            "--offset-topic",
            "standalone-offsets",
            "--status-topic",
            "standalone-status",
        ],
    )
}

/// `brook connect` with Kafka Connect's default group and topics, and `settings`.
fn brook_connect_with(bootstrap: SocketAddr, listen: SocketAddr, settings: &[&str]) -> Worker {
    let child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args([
            "-b",
            &bootstrap.to_string(),
            "connect",
            "--listen",
            &listen.to_string(),
        ])
        .args(settings)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(listen);
    Worker(child)
}

#[test]
fn serve_and_a_standalone_worker_run_datagen() {
    let dir = tempfile::tempdir().unwrap();
    let connect: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_args(
        &dir.path().join("data"),
        &["--connect-listen", &connect.to_string()],
    );
    wait_listening(connect);
    let url = format!("http://{connect}");
    let (status, root) = get(&format!("{url}/"));
    assert_eq!(status, 200, "{root}");
    create_orders(&url, "orders-in-serve", "orders_a");
    eventually(30, || records(server.addr, "orders_a") >= 10);

    // `brook connect` against the same broker, as another Connect cluster (its own group
    // and topics): it sees only its own connector.
    let standalone: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let worker = brook_connect(server.addr, standalone);
    let url2 = format!("http://{standalone}");
    let (_, listed) = get(&format!("{url2}/connectors"));
    assert_eq!(listed, json!([]));
    create_orders(&url2, "orders-standalone", "orders_b");
    eventually(30, || records(server.addr, "orders_b") >= 10);
    let (_, s) = get(&format!("{url2}/connectors/orders-standalone/status"));
    assert_eq!(s["connector"]["worker_id"], standalone.to_string(), "{s}");

    // Log levels change while the worker runs (KIP-495).
    let mut r = agent()
        .put(&format!("{url2}/admin/loggers/brook_connect::worker"))
        .header("Content-Type", "application/json")
        .send(json!({"level": "DEBUG"}).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let changed: Json = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(changed, json!(["brook_connect::worker"]));
    let (_, level) = get(&format!("{url2}/admin/loggers/brook_connect::worker::task"));
    assert_eq!(level["level"], "DEBUG", "{level}");
    let (_, all) = get(&format!("{url2}/admin/loggers"));
    assert_eq!(all["root"]["level"], "INFO", "{all}");
    assert!(
        all["brook_connect::worker"]["last_modified"].is_i64(),
        "{all}"
    );

    // Stopped and started again, the worker reads its config topic and runs the connector.
    drop(worker);
    let before = records(server.addr, "orders_b");
    let _worker = brook_connect(server.addr, standalone);
    let (_, s) = get(&format!("{url2}/connectors/orders-standalone/status"));
    assert_eq!(s["connector"]["state"], "RUNNING", "{s}");
    eventually(30, || records(server.addr, "orders_b") >= before + 10);

    // The connector in `brook serve` is deleted through its API; serve stops cleanly.
    let mut r = agent()
        .delete(&format!("{url}/connectors/orders-in-serve"))
        .call()
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        204,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
    let (status, _) = get(&format!("{url}/connectors/orders-in-serve"));
    assert_eq!(status, 404);
    assert!(
        server.terminate(),
        "brook serve stops cleanly with Connect running"
    );
}

/// The workers running the connector and each of its tasks, from a worker's status API.
fn placement(url: &str, name: &str) -> (String, Vec<(String, String)>) {
    let (_, s) = get(&format!("{url}/connectors/{name}/status"));
    let tasks = s["tasks"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| {
                    (
                        t["state"].as_str().unwrap_or_default().to_string(),
                        t["worker_id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (
        s["connector"]["worker_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        tasks,
    )
}

/// Each task's source offset (Datagen's `current.iteration`), through KIP-875's API.
fn iterations(url: &str, name: &str) -> Vec<(i64, i64)> {
    let (_, o) = get(&format!("{url}/connectors/{name}/offsets"));
    let mut found: Vec<(i64, i64)> = o["offsets"]
        .as_array()
        .map(|os| {
            os.iter()
                .map(|o| {
                    (
                        o["partition"]["task.id"].as_i64().unwrap_or(-1),
                        o["offset"]["current.iteration"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Two `brook connect` workers of one group share a connector's four tasks, two each; one
/// is killed with SIGKILL, and its tasks move to the other, which resumes them from their
/// committed source offsets.
#[test]
fn two_workers_share_four_tasks_and_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let (a, b): (SocketAddr, SocketAddr) = (
        format!("127.0.0.1:{}", free_port()).parse().unwrap(),
        format!("127.0.0.1:{}", free_port()).parse().unwrap(),
    );
    let _worker_a = brook_connect_with(server.addr, a, &[]);
    let mut worker_b = brook_connect_with(server.addr, b, &[]);
    let (url_a, url_b) = (format!("http://{a}"), format!("http://{b}"));
    let mut r = agent()
        .post(&format!("{url_b}/connectors"))
        .header("Content-Type", "application/json")
        .send(
            json!({"name": "orders", "config": {
                "connector.class": "DatagenConnector", "kafka.topic": "orders",
                "quickstart": "orders", "max.interval": "20", "tasks.max": "4"}})
            .to_string(),
        )
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        201,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );

    // Both workers show the same placement: four RUNNING tasks, two on each worker.
    let shared = |url: &str| {
        let (_, tasks) = placement(url, "orders");
        tasks.len() == 4
            && tasks.iter().all(|(state, _)| state == "RUNNING")
            && tasks.iter().filter(|(_, w)| *w == a.to_string()).count() == 2
            && tasks.iter().filter(|(_, w)| *w == b.to_string()).count() == 2
    };
    eventually(60, || shared(&url_a) && shared(&url_b));
    let (_, before) = placement(&url_a, "orders");
    let on_b: Vec<usize> = (0..4).filter(|t| before[*t].1 == b.to_string()).collect();
    // Every task commits its offsets (every 5 s).
    eventually(30, || {
        let it = iterations(&url_a, "orders");
        it.len() == 4 && it.iter().all(|(_, n)| *n > 0)
    });

    // Worker B dies without a word.
    worker_b.0.kill().unwrap();
    let _ = worker_b.0.wait();
    let at_kill = iterations(&url_a, "orders");
    let records_at_kill = records(server.addr, "orders");

    // After the group drops B (session timeout 10 s), A runs all four tasks.
    eventually(60, || {
        let (_, tasks) = placement(&url_a, "orders");
        tasks.len() == 4
            && tasks
                .iter()
                .all(|(state, w)| state == "RUNNING" && *w == a.to_string())
    });
    // B's tasks continue from their committed offsets: their iteration counts grow past
    // what was committed before the kill, and the topic keeps filling.
    eventually(60, || {
        let now = iterations(&url_a, "orders");
        on_b.iter().all(|t| {
            let then = at_kill
                .iter()
                .find(|(id, _)| *id == *t as i64)
                .map_or(0, |x| x.1);
            now.iter().any(|(id, n)| *id == *t as i64 && *n > then + 10)
        })
    });
    assert!(records(server.addr, "orders") > records_at_kill + 40);
}

fn post_connector(url: &str, body: Json) {
    let mut r = agent()
        .post(&format!("{url}/connectors"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(status, 201, "{}", r.body_mut().read_to_string().unwrap());
}

/// Every committed record of `topic` (read_committed, until nothing new comes for a while),
/// its value decoded through the schema registry.
fn committed_values(bootstrap: SocketAddr, topic: &str, registry: &str) -> Vec<Json> {
    use rdkafka::Message as _;
    use rdkafka::consumer::{BaseConsumer, Consumer as _};
    let client = brook_registry::client::RegistryClient::new(registry);
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap.to_string())
        .set("group.id", format!("check-{}", free_port()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let mut idle = Instant::now();
    let started = Instant::now();
    while idle.elapsed() < Duration::from_secs(3) || started.elapsed() < Duration::from_secs(5) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push(client.deserialize(m.payload().unwrap()).unwrap());
            idle = Instant::now();
        }
    }
    out
}

/// Avro's JSON for a union branch (`{"double": 1.5}`) as its plain value.
fn plain(v: &Json) -> Json {
    match v {
        Json::Object(m) if m.len() == 1 && !m.contains_key("VendorID") => {
            m.values().next().cloned().unwrap_or(Json::Null)
        }
        other => other.clone(),
    }
}

/// A ride's signature: vendor, pickup and drop-off (ms), passengers, total.
fn ride_signature(
    vendor: &Json,
    pickup: i64,
    dropoff: i64,
    passengers: &Json,
    total: f64,
) -> String {
    format!(
        "{}|{pickup}|{dropoff}|{}|{total:.2}",
        plain(vendor),
        plain(passengers)
    )
}

/// `yyyy-MM-dd HH:mm:ss` (UTC) as milliseconds since the epoch.
fn millis(text: &str) -> i64 {
    let (date, time) = text.split_once(' ').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<i64> = time.split(':').map(|x| x.parse().unwrap()).collect();
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + t[0]) * 60 + t[1]) * 60_000 + t[2] * 1000
}

/// The rides file's signatures, sorted.
fn file_signatures(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<String> = text
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |s: &str| -> Json {
                if s.is_empty() {
                    Json::Null
                } else {
                    json!(s.parse::<i64>().unwrap())
                }
            };
            ride_signature(
                &num(f[0]),
                millis(f[1]),
                millis(f[2]),
                &num(f[3]),
                f[16].parse().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The course's rides through Brook Connect end to end, with a `kill -9` of the worker in
/// each leg: rides.csv through the CSV source into a topic as Avro (schemas in the
/// registry), then through the PostgreSQL sink into a table equal to the file; then a
/// PostgreSQL source streams rows inserted later into a topic. Sources write exactly once
/// (records and offsets in one transaction), the sink upserts by Kafka coordinates, so each
/// restart neither loses nor repeats a row.
#[test]
fn rides_csv_to_postgres_and_back_survive_kill_9() {
    let pg = pg::Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(&dir.path().join("data"));
    let registry = format!("http://{}", server.registry.unwrap());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let settings = [
        "--schema-registry-url",
        registry.as_str(),
        "--exactly-once-source",
        "--offset-flush-interval-ms",
        "300",
    ];
    let mut worker = brook_connect_with(server.addr, listen, &settings);
    let url = format!("http://{listen}");
    let rides = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/rides.csv"
    ));
    let want = file_signatures(rides);
    assert_eq!(want.len(), 10_000);

    // 1. rides.csv → rides_avro, killed once records arrive.
    let (input, finished) = (dir.path().join("in"), dir.path().join("done"));
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(rides, input.join("rides.csv")).unwrap();
    let strings = "org.apache.kafka.connect.storage.StringConverter";
    let avro = "io.confluent.connect.avro.AvroConverter";
    post_connector(
        &url,
        json!({"name": "rides-csv", "config": {
            "connector.class": "SpoolDirCsvSourceConnector", "topic": "rides_avro",
            "input.path": input.to_str().unwrap(), "finished.path": finished.to_str().unwrap(),
            "schema.generation.key.fields": "VendorID", "batch.size": "100",
            "key.converter": strings, "value.converter": avro}}),
    );
    eventually(60, || records(server.addr, "rides_avro") >= 1);
    worker.0.kill().unwrap();
    let _ = worker.0.wait();
    let mut worker = brook_connect_with(server.addr, listen, &settings);
    eventually(90, || {
        finished.join("rides.csv").exists() && !input.join("rides.csv").exists()
    });
    let values = committed_values(server.addr, "rides_avro", &registry);
    let mut got: Vec<String> = values
        .iter()
        .map(|v| {
            ride_signature(
                &v["VendorID"],
                plain(&v["tpep_pickup_datetime"]).as_i64().unwrap(),
                plain(&v["tpep_dropoff_datetime"]).as_i64().unwrap(),
                &v["passenger_count"],
                plain(&v["total_amount"]).as_f64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got.len(), 10_000, "every row once, through a kill -9");
    assert_eq!(got, want);

    // 2. rides_avro → PostgreSQL, killed once rows arrive.
    post_connector(
        &url,
        json!({"name": "rides-pg", "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "topics": "rides_avro", "connection.url": pg.jdbc_url(),
            "connection.user": "brook", "table.name.format": "rides",
            "auto.create": "true", "insert.mode": "upsert", "pk.mode": "kafka",
            "batch.size": "500", "key.converter": strings, "value.converter": avro}}),
    );
    let mut db = pg.client();
    let count = |db: &mut postgres::Client| -> i64 {
        db.query_one("SELECT count(*) FROM rides", &[])
            .map(|r| r.get(0))
            .unwrap_or(0)
    };
    eventually(60, || count(&mut db) >= 1);
    worker.0.kill().unwrap();
    let _ = worker.0.wait();
    let mut worker = brook_connect_with(server.addr, listen, &settings);
    eventually(90, || count(&mut db) >= 10_000);
    std::thread::sleep(Duration::from_secs(2));
    let mut table: Vec<String> = db
        .query(
            "SELECT \"VendorID\", \"tpep_pickup_datetime\", \"tpep_dropoff_datetime\", \"passenger_count\", \"total_amount\" FROM rides",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let ts = |i: usize| r.get::<_, std::time::SystemTime>(i)
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            ride_signature(
                &json!(r.get::<_, Option<i64>>(0)),
                ts(1),
                ts(2),
                &json!(r.get::<_, Option<i64>>(3)),
                r.get::<_, f64>(4),
            )
        })
        .collect();
    table.sort();
    assert_eq!(
        table.len(),
        10_000,
        "10,000 rows, none repeated by the restart"
    );
    assert_eq!(table, want, "the table equals the file");

    // 3. A table → pg_trips: rows inserted later stream in; a kill -9 while rows are
    //    inserted loses and repeats none.
    db.batch_execute(
        "CREATE TABLE trips (id SERIAL PRIMARY KEY, vendor INT NOT NULL, fare DOUBLE PRECISION,          at TIMESTAMP NOT NULL DEFAULT now());          INSERT INTO trips (vendor, fare) SELECT i % 2 + 1, i * 1.5 FROM generate_series(1, 100) i;",
    )
    .unwrap();
    post_connector(
        &url,
        json!({"name": "trips-in", "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "connection.url": pg.jdbc_url(), "connection.user": "brook",
            "mode": "incrementing", "incrementing.column.name": "id",
            "table.whitelist": "trips", "topic.prefix": "pg_", "poll.interval.ms": "200",
            "batch.max.rows": "50", "value.converter": avro}}),
    );
    let ids = |values: &[Json]| -> Vec<i64> {
        let mut ids: Vec<i64> = values
            .iter()
            .map(|v| plain(&v["id"]).as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    eventually(60, || {
        committed_values(server.addr, "pg_trips", &registry).len() >= 100
    });
    db.batch_execute("INSERT INTO trips (vendor, fare) SELECT 1, i FROM generate_series(1, 100) i")
        .unwrap();
    eventually(60, || {
        committed_values(server.addr, "pg_trips", &registry).len() >= 200
    });
    worker.0.kill().unwrap();
    let _ = worker.0.wait();
    db.batch_execute("INSERT INTO trips (vendor, fare) SELECT 2, i FROM generate_series(1, 100) i")
        .unwrap();
    let _worker = brook_connect_with(server.addr, listen, &settings);
    eventually(90, || {
        committed_values(server.addr, "pg_trips", &registry).len() >= 300
    });
    let values = committed_values(server.addr, "pg_trips", &registry);
    assert_eq!(
        ids(&values),
        (1..=300).collect::<Vec<i64>>(),
        "each row once"
    );
    let first = &values[0];
    assert_eq!(plain(&first["vendor"]), json!(2));
    assert_eq!(plain(&first["fare"]), json!(1.5));

    // The same table in timestamp+incrementing mode: every row, in (at, id) order.
    post_connector(
        &url,
        json!({"name": "trips-by-time", "config": {
            "connector.class": "JdbcSourceConnector",
            "connection.url": pg.jdbc_url(), "connection.user": "brook",
            "mode": "timestamp+incrementing", "incrementing.column.name": "id",
            "timestamp.column.name": "at", "table.whitelist": "trips",
            "topic.prefix": "pgts_", "poll.interval.ms": "200", "value.converter": avro}}),
    );
    eventually(60, || {
        committed_values(server.addr, "pgts_trips", &registry).len() >= 300
    });
    let values = committed_values(server.addr, "pgts_trips", &registry);
    assert_eq!(ids(&values), (1..=300).collect::<Vec<i64>>());
    assert!(
        plain(&values[0]["at"]).as_i64().unwrap() > 1_700_000_000_000,
        "{}",
        values[0]
    );
}

/// `brook connector …` with `args`; (exit code, stdout).
fn connector_cli(url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(["connector", "--url", url])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The course's Datagen flow and a file connector through `brook connector`.
#[test]
fn the_connector_cli_manages_connectors() {
    let dir = tempfile::tempdir().unwrap();
    let connect: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start_with_args(
        &dir.path().join("data"),
        &["--connect-listen", &connect.to_string()],
    );
    wait_listening(connect);
    let url = format!("http://{connect}");
    let (code, out) = connector_cli(
        &url,
        &[
            "create",
            "OrdersConnector_tutorial",
            "--quickstart",
            "orders",
            "--topic",
            "tutorial_topic",
            "--set",
            "max.interval=20",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OrdersConnector_tutorial created (1 tasks)"),
        "{out}"
    );
    eventually(30, || records(server.addr, "tutorial_topic") >= 10);
    let (code, out) = connector_cli(&url, &["list"]);
    assert_eq!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("OrdersConnector_tutorial"))
        .unwrap_or_default();
    for expected in ["source", "DatagenConnector", "RUNNING", "1/1 running"] {
        assert!(line.contains(expected), "{expected} in {out}");
    }
    let (code, out) = connector_cli(&url, &["pause", "OrdersConnector_tutorial"]);
    assert_eq!((code, out.trim()), (0, "OrdersConnector_tutorial paused"));
    let (_, s) = get(&format!("{url}/connectors/OrdersConnector_tutorial/status"));
    assert_eq!(s["connector"]["state"], "PAUSED", "{s}");
    assert_eq!(
        connector_cli(&url, &["resume", "OrdersConnector_tutorial"]).0,
        0
    );
    assert_eq!(
        connector_cli(&url, &["restart", "OrdersConnector_tutorial"]).0,
        0
    );
    let (code, out) = connector_cli(&url, &["describe", "OrdersConnector_tutorial"]);
    assert_eq!(code, 0, "{out}");
    for expected in ["tutorial_topic", "quickstart", "orders", "TASK"] {
        assert!(out.contains(expected), "{expected} in {out}");
    }
    let (code, out) = connector_cli(&url, &["-o", "json", "list"]);
    let listed: Json = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{code}: {out}"));
    assert_eq!(
        listed["OrdersConnector_tutorial"]["info"]["config"]["quickstart"],
        "orders"
    );

    // From a .properties file, as Kafka's connect-file-source.properties is written.
    let input = dir.path().join("lines.txt");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let props = dir.path().join("file-source.properties");
    std::fs::write(
        &props,
        format!(
            "# a file source\nname=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile={}\ntopic=lines\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n",
            input.display()
        ),
    )
    .unwrap();
    let (code, out) = connector_cli(&url, &["create", props.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    eventually(30, || records(server.addr, "lines") >= 3);
    // From a name and settings.
    std::fs::write(dir.path().join("more.txt"), "four\n").unwrap();
    let more = dir.path().join("more.txt");
    let file_setting = format!("file={}", more.display());
    let (code, out) = connector_cli(
        &url,
        &[
            "create",
            "more-lines",
            "--set",
            "connector.class=FileStreamSource",
            "--set",
            &file_setting,
            "--set",
            "topic=lines",
        ],
    );
    assert_eq!(code, 0, "{out}");
    eventually(30, || records(server.addr, "lines") >= 4);
    assert_eq!(connector_cli(&url, &["delete", "more-lines"]).0, 0);
    let (code, out) = connector_cli(&url, &["plugins"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("io.confluent.connect.jdbc.JdbcSinkConnector"),
        "{out}"
    );
    // Errors: Kafka Connect's message and a non-zero exit.
    let (code, out) = connector_cli(&url, &["describe", "nope"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("Connector nope not found"), "{out}");
    let (code, out) = connector_cli(&url, &["delete", "OrdersConnector_tutorial"]);
    assert_eq!((code, out.trim()), (0, "OrdersConnector_tutorial deleted"));
    let (_, listed) = get(&format!("{url}/connectors"));
    assert_eq!(listed, json!(["local-file-source"]));
}
