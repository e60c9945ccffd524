//! The course's three Kafka Streams examples, run by `rides-streams` (Brook Streams) against
//! `brook serve` (the binary, as the README runs it) over the course's 10,000 rides as JSON on
//! `rides_json`, each compared with a straightforward reference computation done here:
//! - rides per pickup location;
//! - rides enriched with a pickup-zone table;
//! - rides per pickup location per hour of pickup;
//!
//! the scale-out case: two instances of the hourly count (exactly once) on a 6-partition
//! input, one SIGKILLed mid-stream; the survivor restores the state from the changelog and the
//! final windowed counts equal the reference, no count emitted twice;
//!
//! and a restart: the count stopped (SIGTERM) and started again opens its persistent store's
//! local copy, reads nothing back from the changelog, and counts on to the reference.

#[path = "common/brook_serve.rs"]
mod brook_serve;
#[path = "../../../crates/streams/tests/common/cluster.rs"]
mod cluster;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use brook_serve::BrookServe;
use cluster::create_topic;

use brook_rides_example::Ride;
use brook_rides_example::streams::{self, HOUR, pickup_millis};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

fn rides() -> Vec<Ride> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/rides.csv");
    brook_rides_example::read_rides(&path).unwrap()
}

/// A producer that partitions by key as the Java client does (murmur2), so that a table's
/// records land in the partitions the streams runtime expects (co-partitioning).
fn producer(bootstrap: &str) -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap()
}

fn send(
    producer: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    key: &[u8],
    value: &[u8],
) {
    let mut record = BaseRecord::to(topic).key(key).payload(value);
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                record = back;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// The course's JSON producer: each ride keyed by its pickup location.
fn produce_rides(bootstrap: &str, rides: &[Ride]) {
    let p = producer(bootstrap);
    for ride in rides {
        send(
            &p,
            streams::RIDES,
            ride.pu_location_id.to_string().as_bytes(),
            &serde_json::to_vec(ride).unwrap(),
        );
    }
    p.flush(Duration::from_secs(30)).unwrap();
}

/// Runs `rides-streams EXAMPLE` as a process, its stores' local copies under `state`, its
/// log in `state/<app>.log`.
fn rides_streams(
    bootstrap: &str,
    example: &str,
    app: &str,
    exactly_once: bool,
    state: &Path,
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(state.join(format!("{app}.log")))
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rides-streams"));
    command
        .args([
            example,
            "--bootstrap-servers",
            bootstrap,
            "--application-id",
            app,
        ])
        .args([
            "-X",
            "session.timeout.ms=6000",
            "--commit-interval-ms",
            "1000",
        ])
        .arg("--state-dir")
        .arg(state)
        .stdout(Stdio::null())
        .stderr(log);
    if exactly_once {
        command.arg("--exactly-once");
    }
    command.spawn().unwrap()
}

/// Reads `topic` from the beginning (a fresh group) until `done` says the records so far are
/// complete; returns them as (key, value) bytes.
fn read_until(
    bootstrap: &str,
    topic: &str,
    isolation: &str,
    done: impl Fn(&[(Vec<u8>, Vec<u8>)]) -> bool,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    static READS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let read = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("checker-{topic}-{read}"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", isolation)
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(150);
    while !done(&records) {
        assert!(
            Instant::now() < deadline,
            "{topic}: never complete ({} records)",
            records.len()
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            records.push((
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    records
}

fn long(bytes: &[u8]) -> i64 {
    i64::from_be_bytes(bytes.try_into().unwrap())
}

/// Every value per key, in order.
type History = HashMap<Vec<u8>, Vec<i64>>;

/// Latest value per key, and every value per key in order.
fn by_key(records: &[(Vec<u8>, Vec<u8>)]) -> (BTreeMap<Vec<u8>, i64>, History) {
    let mut latest = BTreeMap::new();
    let mut all: History = HashMap::new();
    for (k, v) in records {
        latest.insert(k.clone(), long(v));
        all.entry(k.clone()).or_default().push(long(v));
    }
    (latest, all)
}

#[test]
fn the_three_course_examples_equal_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let brook = BrookServe::start(dir.path());
    let bootstrap = brook.bootstrap.clone();
    {
        let rides = rides();
        assert_eq!(rides.len(), 10_000);
        create_topic(&bootstrap, streams::RIDES, 3);
        create_topic(&bootstrap, streams::LOCATIONS, 3);
        // The zone table first: every location but those divisible by 5.
        let zones = producer(&bootstrap);
        let mut zone_of = BTreeMap::new();
        for ride in &rides {
            let id = ride.pu_location_id;
            if id % 5 != 0 && !zone_of.contains_key(&id) {
                zone_of.insert(id, format!("Zone {id}"));
                send(
                    &zones,
                    streams::LOCATIONS,
                    &id.to_be_bytes(),
                    format!("Zone {id}").as_bytes(),
                );
            }
        }
        zones.flush(Duration::from_secs(30)).unwrap();

        let count = rides_streams(&bootstrap, "count", "rides-count", false, state.path());
        let hourly = rides_streams(&bootstrap, "hourly", "rides-hourly", false, state.path());
        let enrich = rides_streams(&bootstrap, "enrich", "rides-enrich", false, state.path());
        // The enricher reads the zones before the rides arrive (records are processed as they
        // come, not by timestamp).
        std::thread::sleep(Duration::from_secs(4));
        produce_rides(&bootstrap, &rides);

        // (a) rides per pickup location.
        let mut want = BTreeMap::new();
        for ride in &rides {
            *want
                .entry(ride.pu_location_id.to_be_bytes().to_vec())
                .or_insert(0) += 1;
        }
        let out = read_until(
            &bootstrap,
            streams::RIDES_PER_LOCATION,
            "read_uncommitted",
            |r| by_key(r).0 == want,
        );
        assert_eq!(by_key(&out).0.len(), 265);

        // (c) rides per pickup location per hour of pickup.
        let mut want = BTreeMap::new();
        for ride in &rides {
            let start = pickup_millis(&ride.tpep_pickup_datetime).unwrap() / HOUR * HOUR;
            let mut key = ride.pu_location_id.to_be_bytes().to_vec();
            key.extend_from_slice(&start.to_be_bytes());
            *want.entry(key).or_insert(0) += 1;
        }
        read_until(
            &bootstrap,
            streams::RIDES_PER_LOCATION_HOURLY,
            "read_uncommitted",
            |r| by_key(r).0 == want,
        );

        // (b) rides with their zone; rides of unknown zones are dropped.
        let mut want: Vec<(i64, String, String)> = rides
            .iter()
            .filter_map(|r| {
                zone_of
                    .get(&r.pu_location_id)
                    .map(|z| (r.pu_location_id, z.clone(), r.total_amount.clone()))
            })
            .collect();
        want.sort();
        let out = read_until(
            &bootstrap,
            streams::RIDES_ENRICHED,
            "read_uncommitted",
            |r| r.len() >= want.len(),
        );
        let mut got: Vec<(i64, String, String)> = out
            .iter()
            .map(|(k, v)| {
                let e: streams::EnrichedRide = serde_json::from_slice(v).unwrap();
                assert_eq!(long(k), e.pu_location_id);
                (e.pu_location_id, e.zone, e.total_amount)
            })
            .collect();
        got.sort();
        assert_eq!(got, want);

        for mut child in [count, hourly, enrich] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

#[test]
fn two_instances_one_killed_mid_stream_count_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let brook = BrookServe::start(dir.path());
    let bootstrap = brook.bootstrap.clone();
    // Each instance has its own state directory, as two machines would.
    let (state_1, state_2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    {
        let rides = rides();
        create_topic(&bootstrap, streams::RIDES, 6);
        let app = "rides-hourly-eos";
        let first = rides_streams(&bootstrap, "hourly", app, true, state_1.path());
        let mut second = rides_streams(&bootstrap, "hourly", app, true, state_2.path());
        std::thread::sleep(Duration::from_secs(3));
        // Half the rides, then the second instance dies mid-stream, then the rest.
        produce_rides(&bootstrap, &rides[..5_000]);
        read_until(
            &bootstrap,
            streams::RIDES_PER_LOCATION_HOURLY,
            "read_committed",
            |r| r.len() >= 1_000,
        );
        second.kill().unwrap(); // SIGKILL
        second.wait().unwrap();
        produce_rides(&bootstrap, &rides[5_000..]);

        let mut want = BTreeMap::new();
        for ride in &rides {
            let start = pickup_millis(&ride.tpep_pickup_datetime).unwrap() / HOUR * HOUR;
            let mut key = ride.pu_location_id.to_be_bytes().to_vec();
            key.extend_from_slice(&start.to_be_bytes());
            *want.entry(key).or_insert(0) += 1;
        }
        let out = read_until(
            &bootstrap,
            streams::RIDES_PER_LOCATION_HOURLY,
            "read_committed",
            |r| by_key(r).0 == want,
        );
        // Exactly once: the final counts equal the reference (checked above) and each
        // window's counts only grow — none was counted twice or emitted again, although the
        // killed instance's tasks moved to the survivor. (The record cache forwards the
        // latest count per window at each commit, so counts may skip.)
        for (key, counts) in by_key(&out).1 {
            assert!(
                counts.windows(2).all(|w| w[0] < w[1]),
                "window key {key:?}: {counts:?}"
            );
        }
        let mut first = first;
        first.kill().unwrap();
        first.wait().unwrap();
    }
}

/// Sends SIGTERM to `child` and waits for it to exit successfully.
fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        child.wait().unwrap().success(),
        "rides-streams exits cleanly"
    );
}

#[test]
fn a_stopped_and_restarted_count_continues_from_its_persistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let brook = BrookServe::start(dir.path());
    let bootstrap = brook.bootstrap.clone();
    let state = tempfile::tempdir().unwrap();
    let rides = rides();
    create_topic(&bootstrap, streams::RIDES, 3);
    let reference = |rides: &[Ride]| {
        let mut want = BTreeMap::new();
        for ride in rides {
            *want
                .entry(ride.pu_location_id.to_be_bytes().to_vec())
                .or_insert(0) += 1;
        }
        want
    };
    let app = "rides-count-restart";
    let count = rides_streams(&bootstrap, "count", app, false, state.path());
    produce_rides(&bootstrap, &rides[..6_000]);
    let first = reference(&rides[..6_000]);
    read_until(
        &bootstrap,
        streams::RIDES_PER_LOCATION,
        "read_uncommitted",
        |r| by_key(r).0 == first,
    );
    terminate(count);

    let count = rides_streams(&bootstrap, "count", app, false, state.path());
    produce_rides(&bootstrap, &rides[6_000..]);
    let all = reference(&rides);
    let out = read_until(
        &bootstrap,
        streams::RIDES_PER_LOCATION,
        "read_uncommitted",
        |r| by_key(r).0 == all,
    );
    terminate(count);
    // Not recounted: every location's counts only grow across the restart.
    for (key, counts) in by_key(&out).1 {
        assert!(
            counts.windows(2).all(|w| w[0] < w[1]),
            "{key:?}: {counts:?}"
        );
    }
    // The second run read nothing back from the changelogs: its persistent stores opened
    // their local copies, whose checkpoints were the changelogs' ends.
    let log = std::fs::read_to_string(state.path().join(format!("{app}.log"))).unwrap();
    let runs: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("processed "))
        .collect();
    assert_eq!(runs.len(), 2, "{log}");
    assert!(runs[1].ends_with("restored 0 changelog records"), "{log}");
}
