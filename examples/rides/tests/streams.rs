//! The course's three Kafka Streams examples, run by `rides-streams` (Brook Streams) against a
//! real broker (Brook's, in process) over the course's 10,000 rides as JSON on `rides_json`,
//! each compared with a straightforward reference computation done here:
//! - rides per pickup location;
//! - rides enriched with a pickup-zone table;
//! - rides per pickup location per hour of pickup;
//!
//! and the scale-out case: two instances of the hourly count (exactly once) on a 6-partition
//! input, one SIGKILLed mid-stream; the survivor restores the state from the changelog and the
//! final windowed counts equal the reference, every count emitted exactly once.

#[path = "../../../crates/streams/tests/common/cluster.rs"]
mod cluster;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cluster::{broker, create_topic};

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

/// Runs `rides-streams EXAMPLE` as a process.
fn rides_streams(bootstrap: &str, example: &str, app: &str, exactly_once: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rides-streams"));
    command
        .args([
            example,
            "--bootstrap-servers",
            bootstrap,
            "--application-id",
            app,
        ])
        .args(["-X", "session.timeout.ms=6000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
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

#[tokio::test(flavor = "multi_thread")]
async fn the_three_course_examples_equal_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let bootstrap = broker.local_addr().to_string();
    tokio::task::spawn_blocking(move || {
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

        let count = rides_streams(&bootstrap, "count", "rides-count", false);
        let hourly = rides_streams(&bootstrap, "hourly", "rides-hourly", false);
        let enrich = rides_streams(&bootstrap, "enrich", "rides-enrich", false);
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
    })
    .await
    .unwrap();
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_one_killed_mid_stream_count_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let bootstrap = broker.local_addr().to_string();
    tokio::task::spawn_blocking(move || {
        let rides = rides();
        create_topic(&bootstrap, streams::RIDES, 6);
        let app = "rides-hourly-eos";
        let first = rides_streams(&bootstrap, "hourly", app, true);
        let mut second = rides_streams(&bootstrap, "hourly", app, true);
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
        // Exactly once: each window's counts are 1, 2, 3, … with no repeat and no gap, although
        // the killed instance's tasks moved to the survivor.
        for (key, counts) in by_key(&out).1 {
            let expected: Vec<i64> = (1..=counts.len() as i64).collect();
            assert_eq!(counts, expected, "window key {key:?}");
        }
        let mut first = first;
        first.kill().unwrap();
        first.wait().unwrap();
    })
    .await
    .unwrap();
    broker.shutdown().await;
}
