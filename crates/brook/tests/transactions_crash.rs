//! Exactly-once under crashes, with `brook serve` as a real process:
//! - a transactional copier (confluent-kafka, `tests/python/txn_copier.py`) SIGKILLed at
//!   random three times while it copies 100,000 records: the output, read with
//!   read_committed, holds every input record exactly once, and the group's committed offsets
//!   equal the input's end;
//! - the broker SIGKILLed with one transaction open and another in PrepareCommit (held there
//!   by the `test.transaction.marker.delay.ms` fault injection): after the restart the
//!   prepared one is committed, the open one is aborted when it times out, read_committed
//!   readers never see a partial transaction, and `brook transactions list` shows none left
//!   hanging.

mod common;
#[path = "../../broker/tests/common/kafka.rs"]
mod kafka;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port, python};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

fn brook(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_brook"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "brook {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Every value of `topic` (all `partitions`), read_committed, from the beginning to the end.
fn read_committed(addr: &str, topic: &str, partitions: i32) -> Vec<String> {
    kafka::read_to_end(addr, topic, partitions, "read_committed")
        .into_iter()
        .map(|(_, value)| value)
        .collect()
}

/// A pseudo-random number in `[low, high)`, different each call.
fn random(low: u64, high: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    low + nanos % (high - low)
}

#[test]
fn a_copier_killed_three_times_copies_every_record_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let addr = server.addr.to_string();
    for topic in ["copy-in", "copy-out"] {
        brook(&["-b", &addr, "topic", "create", topic, "--partitions", "2"]);
    }
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &addr)
        .set("enable.idempotence", "true")
        .set("linger.ms", "20")
        .create()
        .unwrap();
    const RECORDS: usize = 100_000;
    for i in 0..RECORDS {
        let value = format!("in-{i}");
        loop {
            match producer.send(BaseRecord::to("copy-in").key(&value).payload(&value)) {
                Ok(()) => break,
                Err((_, _)) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    producer.flush(TIMEOUT).unwrap();

    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/txn_copier.py");
    // 100 records per transaction: a thousand transactions, so that each kill lands mid-copy.
    let copier = || {
        Command::new(python())
            .arg(&script)
            .args([&addr, "copy-in", "copy-out", "copiers", "copier-1", "100"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Each of the first three is SIGKILLed once it has copied a random 5,000–20,000 records,
    // a random few milliseconds later (mostly mid-transaction), so the fourth always has work.
    let mut progress = Vec::new();
    for _ in 0..3 {
        let mut child = copier();
        let threshold = random(5_000, 20_000) as usize;
        let lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        let reached = lines
            .map_while(Result::ok)
            .filter_map(|l| {
                l.strip_prefix("copied ")
                    .map(|n| n.parse::<usize>().unwrap())
            })
            .find(|&copied| copied >= threshold);
        assert!(
            reached.is_some(),
            "the copier finished before copying {threshold} records (runs so far: {progress:?})"
        );
        std::thread::sleep(Duration::from_millis(random(0, 30)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        progress.push(reached.unwrap());
    }
    let finished = copier().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&finished.stdout);
    assert!(
        finished.status.success(),
        "the last copier failed\n{stdout}"
    );
    let last_run: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("done after "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        last_run > 0,
        "killed after {progress:?}, the last run copied nothing"
    );

    let mut copied = read_committed(&addr, "copy-out", 2);
    assert_eq!(copied.len(), RECORDS, "every record once, no duplicate");
    copied.sort();
    let mut expected: Vec<String> = (0..RECORDS).map(|i| format!("in-{i}")).collect();
    expected.sort();
    assert_eq!(copied, expected);

    let group: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &addr)
        .set("group.id", "copiers")
        .create()
        .unwrap();
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition("copy-in", 0);
    wanted.add_partition("copy-in", 1);
    let committed = group.committed_offsets(wanted, TIMEOUT).unwrap();
    let mut total = 0;
    for p in 0..2 {
        let (_, end) = group.fetch_watermarks("copy-in", p, TIMEOUT).unwrap();
        let offset = committed.find_partition("copy-in", p).unwrap().offset();
        assert_eq!(offset, Offset::Offset(end), "partition {p}");
        total += end;
    }
    assert_eq!(total, RECORDS as i64);
    drop(server);
}

fn transactions_json(addr: &str) -> Vec<serde_json::Value> {
    let out = brook(&["-b", addr, "--output", "json", "transactions", "list"]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn a_broker_killed_mid_commit_completes_it_and_aborts_the_open_one() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let timeouts = [
        "--set",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms=500",
    ];
    let mut args = timeouts.to_vec();
    args.extend(["--set", "test.transaction.marker.delay.ms=5000"]);
    let server = Server::start_on_with_args(tmp.path(), port, &args);
    let addr = server.addr.to_string();
    brook(&["-b", &addr, "topic", "create", "crash", "--partitions", "1"]);

    let producer = |id: &str| -> ThreadedProducer<DefaultProducerContext> {
        ClientConfig::new()
            .set("bootstrap.servers", &addr)
            .set("transactional.id", id)
            .set("transaction.timeout.ms", "6000")
            .create()
            .unwrap()
    };
    // One transaction stays open.
    let open = producer("stays-open");
    open.init_transactions(TIMEOUT).unwrap();
    open.begin_transaction().unwrap();
    for i in 0..10 {
        open.send(
            BaseRecord::to("crash")
                .key("o")
                .payload(&format!("open-{i}")),
        )
        .unwrap();
    }
    open.flush(TIMEOUT).unwrap();
    // Another commits: PrepareCommit is written, then the markers wait 5 s.
    let committing = producer("commits");
    committing.init_transactions(TIMEOUT).unwrap();
    committing.begin_transaction().unwrap();
    for i in 0..10 {
        committing
            .send(
                BaseRecord::to("crash")
                    .key("c")
                    .payload(&format!("commit-{i}")),
            )
            .unwrap();
    }
    committing.flush(TIMEOUT).unwrap();
    let commit = std::thread::spawn(move || {
        let result = committing.commit_transaction(Duration::from_secs(60));
        (committing, result)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let states = transactions_json(&addr);
        if states
            .iter()
            .any(|t| t["transactional_id"] == "commits" && t["state"] == "PrepareCommit")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never saw PrepareCommit: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill();

    let server = Server::start_on_with_args(tmp.path(), port, &timeouts);
    let addr = server.addr.to_string();
    // The prepared commit was completed at start.
    let described: serde_json::Value = serde_json::from_str(&brook(&[
        "-b",
        &addr,
        "--output",
        "json",
        "transactions",
        "describe",
        "commits",
    ]))
    .unwrap();
    assert_eq!(described["state"], "CompleteCommit", "{described}");
    // The open one is aborted once it times out; nothing is left hanging.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let states = transactions_json(&addr);
        let hanging: Vec<_> = states
            .iter()
            .filter(|t| {
                let s = t["state"].as_str().unwrap();
                s == "Ongoing" || s.starts_with("Prepare")
            })
            .collect();
        if hanging.is_empty() {
            assert!(
                states
                    .iter()
                    .any(|t| t["transactional_id"] == "stays-open" && t["state"] == "CompleteAbort"),
                "{states:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "still hanging: {hanging:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let seen = read_committed(&addr, "crash", 1);
    let expected: Vec<String> = (0..10).map(|i| format!("commit-{i}")).collect();
    assert_eq!(
        seen, expected,
        "the committed transaction whole, the open one not at all"
    );
    // The topic shows no open transaction any more.
    let described = brook(&[
        "-b", &addr, "--output", "json", "topic", "describe", "crash",
    ]);
    let topic: serde_json::Value = serde_json::from_str(&described).unwrap();
    assert_eq!(topic["partitions"][0]["open_transactions"], 0, "{topic}");
    let (_committing, _result) = commit.join().unwrap();
    drop(open);
    drop(server);
}
