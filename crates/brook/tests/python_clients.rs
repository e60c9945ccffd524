//! kafka-python (2.0.2 and 3.x), aiokafka and confluent-kafka from PyPI against `brook
//! serve`. The interpreter is the venv that `./scripts/test` creates (`.venv` at the workspace
//! root), or `BROOK_TEST_PYTHON`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Server, kafka_python_2_0_2, python};

/// Runs `tests/python/{name}` against a fresh `brook serve` (with its schema registry when
/// `registry`), passing the bootstrap address, then the registry URL, then `extra`; returns
/// its stdout, and fails the test with both outputs if the script fails.
fn run_python(name: &str, registry: bool, extra: &[PathBuf]) -> String {
    run_python_with(name, registry, extra, None)
}

/// [`run_python`] with `python_path` first on PYTHONPATH (an older client release).
fn run_python_with(
    name: &str,
    registry: bool,
    extra: &[PathBuf],
    python_path: Option<PathBuf>,
) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let server = if registry {
        Server::start_with_registry(tmp.path())
    } else {
        Server::start(tmp.path())
    };
    run_against(&server, name, extra, python_path)
}

/// Runs `tests/python/{name}` against `server` (see [`run_python`]).
fn run_against(
    server: &Server,
    name: &str,
    extra: &[PathBuf],
    python_path: Option<PathBuf>,
) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name);
    let mut command = Command::new(python());
    command.arg(&script).arg(server.addr.to_string());
    if let Some(url) = server.registry {
        command.arg(format!("http://{url}"));
    }
    if let Some(path) = python_path {
        command.env("PYTHONPATH", path);
    }
    let output = command.args(extra).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{name} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs consume_modes.py for `client`: from the beginning, the end, a committed offset and a
/// timestamp.
fn consume_modes(client: &str, python_path: Option<PathBuf>) -> String {
    let script = "consume_modes.py";
    let stdout = run_python_with(script, false, &[PathBuf::from(client)], python_path);
    for mode in [
        "from the beginning: 1000 records",
        "from the end: 10 records",
        "from a timestamp: 400 records",
        "from a committed offset: 510 records",
    ] {
        assert!(stdout.contains(mode), "{client}: {mode}\n{stdout}");
    }
    stdout
}

fn run_script(name: &str) {
    run_python(name, false, &[]);
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
    run_python("registry_avro.py", true, &[]);
}

#[test]
fn confluent_kafka_json_schema_and_protobuf_serializers() {
    let stdout = run_python("registry_json_protobuf.py", true, &[]);
    for part in [
        "JSONSerializer round trip work",
        "ProtobufSerializer round trip work",
        "referenced import and a well-known type",
        "google/type imports are built in",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
}

#[test]
fn the_rides_pipeline_in_avro_through_the_registry() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    run_python(
        "rides_avro.py",
        true,
        &[
            root.join("tests/data/rides.csv"),
            root.join("examples/rides/ride.avsc"),
        ],
    );
}

#[test]
fn kafka_python_2_0_2_consumes_from_beginning_end_committed_offset_and_timestamp() {
    let stdout = consume_modes("kafka-python", Some(kafka_python_2_0_2()));
    assert!(stdout.contains("kafka-python 2.0.2"), "{stdout}");
}

#[test]
fn kafka_python_3_consumes_from_beginning_end_committed_offset_and_timestamp() {
    let stdout = consume_modes("kafka-python", None);
    assert!(stdout.contains("kafka-python 3."), "{stdout}");
}

#[test]
fn aiokafka_consumes_from_beginning_end_committed_offset_and_timestamp() {
    consume_modes("aiokafka", None);
}

#[test]
fn confluent_kafka_consumes_from_beginning_end_committed_offset_and_timestamp() {
    consume_modes("confluent-kafka", None);
}

#[test]
fn share_groups_acls_and_scram_are_refused_within_five_seconds() {
    let stdout = run_python("fast_failures.py", false, &[]);
    assert!(stdout.contains("all refused fast"), "{stdout}");
}

#[test]
fn confluent_kafka_and_kafka_python_transactions() {
    let stdout = run_python("transactions.py", false, &[]);
    for line in [
        "confluent-kafka: 50 committed of 100 sent",
        "confluent-kafka: copier committed offset 100",
        "confluent-kafka: fenced",
        "kafka-python: 30 committed of 60 sent",
        "kafka-python: copier committed offset 30",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
}

#[test]
fn consumer_protocol_groups_take_assign_only_commits_and_refuse_the_online_upgrade() {
    let stdout = run_python("consumer_protocol_commits.py", false, &[]);
    assert!(
        stdout.contains("all consumer-protocol offset cases pass"),
        "{stdout}"
    );
}

#[test]
fn confluent_kafka_admin_tour_of_topic_configs_and_broker_side_compression() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let stdout = run_against(&server, "admin_tour.py", &[], None);
    assert!(
        stdout.contains("500 records produced uncompressed"),
        "{stdout}"
    );
    // The stored batches are gzip, as compression.type=gzip asks, whatever the producer sent.
    let segment = server.data_dir.join("tour-0/00000000000000000000.log");
    let dump = Command::new(env!("CARGO_BIN_EXE_brook"))
        .arg("dump-log")
        .arg(&segment)
        .output()
        .unwrap();
    let dump = String::from_utf8(dump.stdout).unwrap();
    let batches: Vec<&str> = dump
        .lines()
        .filter(|l| l.starts_with("baseOffset:"))
        .collect();
    assert!(!batches.is_empty(), "{dump}");
    assert!(
        batches.iter().all(|b| b.contains("compresscodec: gzip")),
        "{dump}"
    );
    let records: i64 = batches
        .iter()
        .map(|b| {
            b.split("count: ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        })
        .sum();
    assert_eq!(records, 500);
}

#[test]
fn kafka_python_and_confluent_kafka_admin_gaps_answer_as_a_one_node_kafka() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with_args(
        tmp.path(),
        &[
            "--set",
            "group.min.session.timeout.ms=1000",
            "--set",
            "group.max.session.timeout.ms=120000",
        ],
    );
    let stdout = run_against(&server, "admin_gaps.py", &[], None);
    assert!(stdout.contains("all admin gaps answered"), "{stdout}");
}
