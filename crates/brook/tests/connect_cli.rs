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
    let child = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args([
            "-b",
            &bootstrap.to_string(),
            "connect",
            "--listen",
            &listen.to_string(),
        ])
        .args([
            "--group-id",
            "standalone",
            "--config-topic",
            "standalone-configs",
        ])
        .args([
            "--offset-topic",
            "standalone-offsets",
            "--status-topic",
            "standalone-status",
        ])
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
