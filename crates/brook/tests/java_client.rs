//! The Java client (kafka-clients 3.9.2, its jar from a PyPI wheel that bundles it) against
//! `brook serve`: tests/java/ConsumeModes.java is compiled with the machine's JDK and run the
//! way a user runs a Java application — from the beginning, the end, a committed offset and a
//! timestamp, an admin client describing the cluster and a topic, and a transactional producer
//! that commits, aborts and sends offsets to its transaction, read back with read_committed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, java_kafka_clients_jar};

/// slf4j-api, which kafka-clients needs at runtime (Debian's libslf4j-java).
const SLF4J: &str = "/usr/share/java/slf4j-api.jar";

fn classpath(parts: &[&Path]) -> String {
    parts
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn the_java_client_consumes_from_beginning_end_committed_offset_and_timestamp() {
    let jar = java_kafka_clients_jar();
    let slf4j = PathBuf::from(SLF4J);
    assert!(
        slf4j.exists(),
        "{SLF4J} missing: ./scripts/test installs libslf4j-java"
    );
    let tmp = tempfile::tempdir().unwrap();
    let classes = tmp.path().join("classes");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/java/ConsumeModes.java");
    let compiled = Command::new("javac")
        .arg("-cp")
        .arg(classpath(&[&jar, &slf4j]))
        .arg("-d")
        .arg(&classes)
        .arg(&source)
        .output()
        .expect("javac is installed (./scripts/test installs a JDK)");
    assert!(
        compiled.status.success(),
        "javac failed: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );

    let server = Server::start(&tmp.path().join("data"));
    let output = Command::new("java")
        .arg("-cp")
        .arg(classpath(&[&classes, &jar, &slf4j]))
        .arg("ConsumeModes")
        .arg(server.addr.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ConsumeModes failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "java kafka-clients 3.",
        "from the beginning: 1000 records",
        "from the end: 10 records",
        "from a timestamp: 400 records",
        "from a committed offset: 510 records",
        "read_committed after commit and abort: 10 records",
        "transactional offset 10",
        "all four ways in",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
}
