//! The course's own kafka-python scripts (tests/course, copied unchanged) against `brook serve`
//! on its defaults — 127.0.0.1:9092, which the scripts reach as `localhost:9092` — with the
//! current kafka-python and with 2.0.2, the release of the course's era.

mod common;

use std::path::{Path, PathBuf};

use common::{kafka_python_2_0_2, python};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn course_dir(flavour: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/course")
        .join(flavour)
}

fn run(
    flavour: &str,
    script: &str,
    consume_seconds: Option<u64>,
    python_path: Option<&Path>,
) -> String {
    let mut command = Command::new(python());
    command
        .arg(script)
        .current_dir(course_dir(flavour))
        .env("PYTHONWARNINGS", "ignore");
    if let Some(path) = python_path {
        command.env("PYTHONPATH", path);
    }
    if let Some(seconds) = consume_seconds {
        command.env("CONSUME_SECONDS", seconds.to_string());
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        status.success(),
        "{flavour}/{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

/// `brook serve` with no arguments at all, in a fresh working directory.
struct DefaultServer(std::process::Child);

impl DefaultServer {
    fn start(cwd: &Path) -> Self {
        // The scripts would talk to whatever already listens there; refuse to test a stranger.
        drop(
            std::net::TcpListener::bind("127.0.0.1:9092")
                .expect("port 9092 must be free for this test"),
        );
        let child = Command::new(env!("CARGO_BIN_EXE_brook"))
            .arg("serve")
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect("127.0.0.1:9092").is_err() {
            assert!(
                Instant::now() < deadline,
                "brook serve did not listen on 127.0.0.1:9092 (is the port taken?)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        DefaultServer(child)
    }
}

impl Drop for DefaultServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn offsets(output: &str) -> Vec<i64> {
    output
        .lines()
        .filter_map(|line| line.split("produced at offset").nth(1))
        .map(|rest| rest.trim_start_matches(':').trim().parse().unwrap())
        .collect()
}

/// Both flavours, producer then consumer, then the consumer again (it must find nothing new).
fn run_the_course(python_path: Option<&Path>) {
    let tmp = tempfile::tempdir().unwrap();
    let _server = DefaultServer::start(tmp.path());
    let run = |flavour, script, seconds| run(flavour, script, seconds, python_path);

    // simple/: CSV strings to rides_csv.
    let produced = offsets(&run("simple", "producer.py", None));
    assert_eq!(produced.len(), 10_000, "10,000 rides produced");
    assert!(
        produced.iter().copied().eq(0..10_000),
        "offsets 0..9999 printed in order"
    );
    let consumed = run("simple", "consumer.py", Some(15));
    assert_eq!(
        consumed.lines().filter(|l| l.starts_with("Key: ")).count(),
        10_000
    );
    let again = run("simple", "consumer.py", Some(8));
    assert_eq!(
        again.lines().filter(|l| l.starts_with("Key: ")).count(),
        0,
        "offsets were committed"
    );

    // json/: Ride objects as JSON to rides_json.
    let produced = offsets(&run("json", "producer.py", None));
    assert_eq!(produced.len(), 10_000);
    assert_eq!(produced.iter().max(), Some(&9_999));
    let consumed = run("json", "consumer.py", Some(15));
    assert_eq!(
        consumed.lines().filter(|l| l.contains(" Ride: {")).count(),
        10_000
    );
    let again = run("json", "consumer.py", Some(8));
    assert_eq!(
        again.lines().filter(|l| l.contains(" Ride: {")).count(),
        0,
        "offsets were committed"
    );
}

// One test, so the two runs never want port 9092 at the same time.
#[test]
fn the_course_scripts_run_unchanged_with_kafka_python_3_and_2_0_2() {
    run_the_course(None);
    run_the_course(Some(&kafka_python_2_0_2()));
}
