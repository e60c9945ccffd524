//! kafka-python and confluent-kafka from PyPI against `brook serve`. The interpreter is the
//! venv that `./scripts/test` creates (`.venv` at the workspace root), or `BROOK_TEST_PYTHON`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Server;

fn python() -> PathBuf {
    if let Ok(path) = std::env::var("BROOK_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python venv with the Kafka clients at {}: run ./scripts/test, which creates it",
        venv.display()
    );
    venv
}

fn run_script(name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    let output = Command::new(python())
        .arg(&script)
        .arg(server.addr.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn kafka_python_round_trip() {
    run_script("kafka_python_roundtrip.py");
}

#[test]
fn confluent_kafka_round_trip() {
    run_script("confluent_kafka_roundtrip.py");
}

#[test]
fn confluent_kafka_consumer_groups_and_group_admin() {
    run_script("confluent_groups.py");
}

#[test]
fn confluent_kafka_consumer_protocol_group() {
    run_script("confluent_consumer_protocol.py");
}

#[test]
fn confluent_kafka_schema_registry_client_and_avro_serializers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(tmp.path());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/registry_avro.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(server.addr.to_string())
        .arg(format!("http://{}", server.registry.unwrap()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "registry_avro.py failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn confluent_kafka_json_schema_and_protobuf_serializers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(tmp.path());
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/registry_json_protobuf.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(server.addr.to_string())
        .arg(format!("http://{}", server.registry.unwrap()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "registry_json_protobuf.py failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("JSONSerializer round trip work"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ProtobufSerializer round trip work"),
        "{stdout}"
    );
}

#[test]
fn the_rides_pipeline_in_avro_through_the_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_registry(tmp.path());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/rides_avro.py"))
        .arg(server.addr.to_string())
        .arg(format!("http://{}", server.registry.unwrap()))
        .arg(root.join("tests/data/rides.csv"))
        .arg(root.join("examples/rides/ride.avsc"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rides_avro.py failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
