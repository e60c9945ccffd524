//! Brook Connect in the binary: `brook serve --connect-listen` serves Kafka Connect's REST
//! API beside the broker, and `brook connect` runs a worker alone against a cluster (here as
//! a second Connect cluster with its own group and topics). Each runs the Datagen orders
//! connector, and a restarted `brook connect` runs its connector again.

mod common;

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
