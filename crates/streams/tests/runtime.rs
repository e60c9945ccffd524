//! The streams runtime against a real broker (Brook's, in process): the course's count of rides
//! per pickup location over 10,000 JSON rides on a 3-partition topic, through a repartition
//! topic and a changelogged store, equal to a reference count — at_least_once and
//! exactly_once_v2 (where every count is emitted exactly once, in order) — and an application
//! stopped and started again that restores its store and continues without recounting.

#[path = "common/cluster.rs"]
mod cluster;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use cluster::{broker, create_topic};

use brook_client::ClusterSettings;
use brook_streams::dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder};
use brook_streams::runtime::{KafkaStreams, StreamsConfig, StreamsState, changelog_topic};
use brook_streams::serdes::Serdes;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    #[serde(rename = "VendorID")]
    vendor_id: i64,
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    total_amount: f64,
}

/// Ride `i` of a deterministic sequence over 40 pickup locations.
fn ride(i: u64) -> Ride {
    let x = i.wrapping_mul(2_654_435_761) % 1_000_003;
    Ride {
        vendor_id: (x % 2 + 1) as i64,
        pu_location_id: (x % 40) as i64 + 100,
        total_amount: (x % 5000) as f64 / 100.0,
    }
}

/// Produces rides `range` as JSON without keys, as the course's producers do.
fn produce_rides(bootstrap: &str, range: std::ops::Range<u64>) {
    produce(bootstrap, range.map(ride));
}

/// Produces `rides` as JSON without keys.
fn produce(bootstrap: &str, rides: impl Iterator<Item = Ride>) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    for ride in rides {
        let value = serde_json::to_vec(&ride).unwrap();
        loop {
            match producer.send(BaseRecord::<(), [u8]>::to("rides").payload(&value)) {
                Ok(()) => break,
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

fn reference(range: std::ops::Range<u64>) -> BTreeMap<i64, i64> {
    let mut counts = BTreeMap::new();
    for i in range {
        *counts.entry(ride(i).pu_location_id).or_insert(0) += 1;
    }
    counts
}

/// The count per location; `materialized` says how its store is kept.
fn topology_with(materialized: Materialized<i64, i64>) -> brook_streams::topology::Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "rides",
            Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
        )
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()).named("by-location"),
        )
        .count(materialized.named("rides-per-location"))
        .to_stream()
        .to(
            "rides-per-location",
            Produced::with(Serdes::i64(), Serdes::i64()),
        );
    builder.build()
}

fn topology() -> brook_streams::topology::Topology {
    topology_with(Materialized::with(Serdes::i64(), Serdes::i64()))
}

/// Every count the application emitted, per location in order, read with `isolation`; waits
/// until the latest per location equals `want`.
fn emitted(bootstrap: &str, isolation: &str, want: &BTreeMap<i64, i64>) -> HashMap<i64, Vec<i64>> {
    // A fresh group each time, reading everything from the beginning.
    static READS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let read = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("checker-{isolation}-{read}"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", isolation)
        .create()
        .unwrap();
    consumer.subscribe(&["rides-per-location"]).unwrap();
    let mut seen: HashMap<i64, Vec<i64>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let latest: BTreeMap<i64, i64> =
            seen.iter().map(|(k, v)| (*k, *v.last().unwrap())).collect();
        if &latest == want {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "counts never reached the reference: {latest:?} vs {want:?}"
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let key = i64::from_be_bytes(m.key().unwrap().try_into().unwrap());
            let count = i64::from_be_bytes(m.payload().unwrap().try_into().unwrap());
            seen.entry(key).or_default().push(count);
        }
    }
}

fn config(bootstrap: &str, app: &str, state: &std::path::Path) -> StreamsConfig {
    StreamsConfig::new(app, ClusterSettings::new(bootstrap))
        .with_commit_interval(Duration::from_millis(200))
        .with_state_dir(state)
}

/// The threads' metadata once `threads` threads run `tasks` tasks between them, evenly
/// (waits for the group to settle after the last thread joined).
fn settled(
    streams: &KafkaStreams,
    threads: usize,
    tasks: usize,
) -> Vec<brook_streams::runtime::ThreadMetadata> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let metadata = streams.local_threads_metadata();
        let counts: Vec<usize> = metadata.iter().map(|t| t.active_tasks.len()).collect();
        if counts.len() == threads
            && counts.iter().sum::<usize>() == tasks
            && counts.iter().max().unwrap_or(&0) - counts.iter().min().unwrap_or(&0) <= 1
        {
            return metadata;
        }
        assert!(Instant::now() < deadline, "{metadata:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `test` (blocking code) against a broker in process; `test` gets its address.
async fn with_broker(test: impl FnOnce(String) + Send + 'static) {
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let bootstrap = broker.local_addr().to_string();
    tokio::task::spawn_blocking(move || test(bootstrap))
        .await
        .unwrap();
    broker.shutdown().await;
}

/// Produces `records` (key, value, timestamp or the producer's) to `topic`.
fn produce_records<'a>(
    bootstrap: &str,
    topic: &str,
    records: impl IntoIterator<Item = (&'a [u8], &'a [u8], Option<i64>)>,
) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    for (key, value, timestamp) in records {
        let mut record = BaseRecord::to(topic).key(key).payload(value);
        if let Some(ts) = timestamp {
            record = record.timestamp(ts);
        }
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

/// Reads `topic` from its beginning (a fresh group) until `done` says the values decoded so
/// far are complete (60 s at the most); returns them.
fn read_values<T: std::fmt::Debug>(
    bootstrap: &str,
    topic: &str,
    decode: impl Fn(&[u8], &[u8]) -> T,
    done: impl Fn(&[T]) -> bool,
) -> Vec<T> {
    static READS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let read = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("reader-{topic}-{read}"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut values = Vec::new();
    while !done(&values) {
        assert!(Instant::now() < deadline, "{topic} so far: {values:?}");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            values.push(decode(
                m.key().unwrap_or_default(),
                m.payload().unwrap_or_default(),
            ));
        }
    }
    values
}

/// The body of `GET path` from a plain HTTP/1.1 server.
fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response.split_once("\r\n\r\n").unwrap().1.to_string()
}

/// Each location's counts only grow: nothing is counted twice or lost on the way.
fn assert_increasing(seen: &HashMap<i64, Vec<i64>>) {
    for (location, counts) in seen {
        assert!(
            counts.windows(2).all(|w| w[0] < w[1]),
            "location {location}: {counts:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_per_pickup_location_at_least_once_equal_the_reference() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        produce_rides(&bootstrap, 0..10_000);
        let state = tempfile::tempdir().unwrap();
        let metrics_addr: std::net::SocketAddr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap()
        };
        let mut streams = KafkaStreams::new(
            topology(),
            config(&bootstrap, "rides-counter", state.path()).with_metrics_listen(metrics_addr),
        );
        streams.start().unwrap();
        let seen = emitted(&bootstrap, "read_uncommitted", &reference(0..10_000));
        assert!(seen.len() == 40);
        // The record cache forwards the latest count per location at each commit, not
        // every one of the 10,000 updates.
        assert_increasing(&seen);
        let forwarded: usize = seen.values().map(Vec::len).sum();
        assert!(forwarded < 10_000, "{forwarded} counts forwarded");
        assert_eq!(streams.state(), StreamsState::Running);
        assert_eq!(
            streams.processed_records(),
            20_000,
            "each ride, then each repartitioned ride"
        );
        // The metrics, as Prometheus scrapes them.
        let metrics = http_get(metrics_addr, "/metrics");
        for line in [
            "brook_streams_records_processed_total{application_id=\"rides-counter\"} 20000",
            "brook_streams_records_dropped_total{application_id=\"rides-counter\"} 0",
        ] {
            assert!(metrics.contains(line), "{line} in {metrics}");
        }
        for series in [
            "brook_streams_commit_seconds_count",
            "brook_streams_process_seconds_bucket",
            "brook_streams_consumer_lag{application_id=\"rides-counter\",topic=\"rides\"",
        ] {
            assert!(metrics.contains(series), "{series} in {metrics}");
        }
        streams.close().unwrap();
        // The internal topics exist, prefixed with the application id.
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .unwrap();
        let names: Vec<&str> = metadata.topics().iter().map(|t| t.name()).collect();
        for topic in [
            "rides-counter-by-location-repartition".to_string(),
            changelog_topic("rides-counter", "rides-per-location"),
        ] {
            assert!(names.contains(&topic.as_str()), "{topic} in {names:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_once_emits_every_count_once_and_a_restart_continues_from_the_store() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        produce_rides(&bootstrap, 0..6_000);
        let app = "rides-counter-eos";
        let state = tempfile::tempdir().unwrap();
        // Without the record cache every update is forwarded, so exactly once is visible as
        // counts 1, 2, 3, … per location.
        let uncached = || {
            topology_with(Materialized::with(Serdes::i64(), Serdes::i64()).with_caching_disabled())
        };
        let mut streams = KafkaStreams::new(
            uncached(),
            config(&bootstrap, app, state.path()).exactly_once(),
        );
        streams.start().unwrap();
        let seen = emitted(&bootstrap, "read_committed", &reference(0..6_000));
        streams.close().unwrap();
        // Exactly once: each location's counts are 1, 2, 3, … with no repeat and no gap.
        for (location, counts) in &seen {
            let want: Vec<i64> = (1..=counts.len() as i64).collect();
            assert_eq!(counts, &want, "location {location}");
        }
        // A new instance of the application opens the persistent store's local copy, whose
        // checkpoint is the changelog's end: nothing is read back from the changelog, and it
        // counts on from there. Read from the beginning, every location's counts are still
        // 1, 2, 3, … with no repeat and no gap.
        produce_rides(&bootstrap, 6_000..10_000);
        let mut streams = KafkaStreams::new(
            uncached(),
            config(&bootstrap, app, state.path()).exactly_once(),
        );
        streams.start().unwrap();
        let seen = emitted(&bootstrap, "read_committed", &reference(0..10_000));
        assert_eq!(
            streams.restored_records(),
            0,
            "restored from the local copy"
        );
        streams.close().unwrap();
        for (location, counts) in &seen {
            let want: Vec<i64> = (1..=counts.len() as i64).collect();
            assert_eq!(counts, &want, "location {location} after the restart");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_in_memory_store_is_restored_from_its_changelog_on_restart() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        produce_rides(&bootstrap, 0..3_000);
        let app = "rides-counter-in-memory";
        let state = tempfile::tempdir().unwrap();
        let in_memory =
            || topology_with(Materialized::with(Serdes::i64(), Serdes::i64()).in_memory());
        let mut streams = KafkaStreams::new(in_memory(), config(&bootstrap, app, state.path()));
        streams.start().unwrap();
        emitted(&bootstrap, "read_uncommitted", &reference(0..3_000));
        streams.close().unwrap();
        produce_rides(&bootstrap, 3_000..5_000);
        let mut streams = KafkaStreams::new(in_memory(), config(&bootstrap, app, state.path()));
        streams.start().unwrap();
        let seen = emitted(&bootstrap, "read_uncommitted", &reference(0..5_000));
        // Every location's count was read back from the changelog (at least once each).
        assert!(
            streams.restored_records() >= 40,
            "{} restored",
            streams.restored_records()
        );
        assert_increasing(&seen);
        streams.close().unwrap();
        assert!(
            !state.path().join(app).exists(),
            "an in-memory store writes nothing locally"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_copy_takes_in_what_its_restore_read_from_the_changelog() {
    // Instance A saves its local copy; instance B (another state directory, as another
    // machine) counts more; A starts again and restores B's counts from the changelog's tail,
    // then counts one location only. When A starts a third time, its local copy must hold
    // B's counts for every location, not only the one it counted since.
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        let app = "rides-counter-handover";
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let run = |state: &std::path::Path, want: &BTreeMap<i64, i64>| {
            let mut streams = KafkaStreams::new(topology(), config(&bootstrap, app, state));
            streams.start().unwrap();
            emitted(&bootstrap, "read_uncommitted", want);
            streams.close().unwrap();
        };
        produce_rides(&bootstrap, 0..2_000);
        run(a.path(), &reference(0..2_000));
        produce_rides(&bootstrap, 2_000..4_000);
        run(b.path(), &reference(0..4_000));
        let one_location = || {
            (0..10).map(|_| Ride {
                pu_location_id: 100,
                ..ride(0)
            })
        };
        produce(&bootstrap, one_location());
        let mut want = reference(0..4_000);
        *want.get_mut(&100).unwrap() += 10;
        run(a.path(), &want);
        produce_rides(&bootstrap, 4_000..6_000);
        let mut want = reference(0..6_000);
        *want.get_mut(&100).unwrap() += 10;
        run(a.path(), &want);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stream_threads_share_the_tasks() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 4);
        produce_rides(&bootstrap, 0..4_000);
        let state = tempfile::tempdir().unwrap();
        let config =
            config(&bootstrap, "rides-counter-threads", state.path()).with_num_stream_threads(2);
        let mut streams = KafkaStreams::new(topology(), config);
        streams.start().unwrap();
        let seen = emitted(&bootstrap, "read_uncommitted", &reference(0..4_000));
        assert_increasing(&seen);
        // Once both threads have joined, each runs two of the four tasks.
        let threads = settled(&streams, 2, 4);
        let names: Vec<&str> = threads.iter().map(|t| t.thread_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "rides-counter-threads-StreamThread-1",
                "rides-counter-threads-StreamThread-2"
            ]
        );
        let mut tasks: Vec<String> = threads
            .iter()
            .flat_map(|t| t.active_tasks.clone())
            .collect();
        tasks.sort();
        assert_eq!(tasks, ["0_0", "0_1", "0_2", "0_3"], "{threads:?}");
        streams.close().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn interactive_queries_read_the_running_stores() {
    use brook_streams::dsl::TimeWindows;
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        produce_rides(&bootstrap, 0..3_000);
        let builder = StreamsBuilder::new();
        let grouped = builder
            .stream(
                "rides",
                Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
            )
            .group_by(
                |_, ride| ride.pu_location_id,
                Grouped::with(Serdes::i64(), Serdes::json::<Ride>()).named("by-location"),
            );
        grouped
            .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("rides-per-location"))
            .to_stream()
            .to(
                "rides-per-location",
                Produced::with(Serdes::i64(), Serdes::i64()),
            );
        // One window holds every ride: its size spans any record timestamp.
        let forever = 1 << 60;
        grouped
            .windowed_by(TimeWindows::of_size_with_no_grace(forever))
            .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("windowed-counts"));
        let state = tempfile::tempdir().unwrap();
        let mut streams = KafkaStreams::new(
            builder.build(),
            config(&bootstrap, "rides-queries", state.path()).with_num_stream_threads(2),
        );
        streams.start().unwrap();
        let want = reference(0..3_000);
        emitted(&bootstrap, "read_uncommitted", &want);
        settled(&streams, 2, 3);

        // A task that moved when the second thread joined is restored and catches up on
        // its new thread; its view then reads the same counts.
        let deadline = Instant::now() + Duration::from_secs(60);
        let counts = loop {
            let counts = streams
                .key_value_store("rides-per-location", Serdes::i64(), Serdes::i64())
                .unwrap();
            let all: BTreeMap<i64, i64> = counts.all().unwrap().into_iter().collect();
            if all == want {
                break counts;
            }
            assert!(
                Instant::now() < deadline,
                "read across both threads' tasks: {all:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(counts.get(&100).unwrap(), want.get(&100).copied());
        assert_eq!(counts.get(&7).unwrap(), None);
        assert_eq!(counts.approximate_num_entries(), 40);
        let some: Vec<i64> = counts
            .range(&110, &114)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(some, [110, 111, 112, 113, 114]);

        let windows = streams
            .window_store("windowed-counts", Serdes::i64(), Serdes::i64(), forever)
            .unwrap();
        let fetched = windows.fetch(&100, 0, i64::MAX).unwrap();
        assert_eq!(fetched.len(), 1);
        assert_eq!(fetched[0].0.start_ms, 0);
        assert_eq!(Some(fetched[0].1), want.get(&100).copied());
        assert_eq!(windows.all().unwrap().len(), 40);
        assert!(windows.fetch(&100, 1, i64::MAX).unwrap().is_empty());

        assert!(matches!(
            streams.key_value_store("nope", Serdes::i64(), Serdes::i64()),
            Err(brook_streams::runtime::RuntimeError::UnknownStore(_))
        ));
        streams.close().unwrap();
    })
    .await;
}

/// Forwards, every 100 ms of wall-clock time, how many records its task has processed.
#[derive(Default)]
struct Ticker {
    seen: i64,
}

impl brook_streams::dsl::Processor<Option<String>, Ride, String, i64> for Ticker {
    fn init(&mut self, context: &mut brook_streams::dsl::ProcessorInit) {
        context.schedule(
            Duration::from_millis(100),
            brook_streams::dsl::PunctuationType::WallClockTime,
        );
    }

    fn process(
        &mut self,
        _: brook_streams::topology::Record<Option<String>, Ride>,
        _: &mut dyn FnMut(brook_streams::topology::Record<String, i64>),
    ) {
        self.seen += 1;
    }

    fn punctuate(
        &mut self,
        p: brook_streams::dsl::Punctuation,
        forward: &mut dyn FnMut(brook_streams::topology::Record<String, i64>),
    ) {
        forward(brook_streams::topology::Record {
            key: "seen".to_string(),
            value: self.seen,
            timestamp: p.timestamp,
            headers: Vec::new(),
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wall_clock_punctuations_fire_in_the_running_application() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 1);
        create_topic(&bootstrap, "ticks", 1);
        produce_rides(&bootstrap, 0..1_000);
        let builder = StreamsBuilder::new();
        builder
            .stream(
                "rides",
                Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
            )
            .process(Ticker::default, &[])
            .to("ticks", Produced::with(Serdes::string(), Serdes::i64()));
        let state = tempfile::tempdir().unwrap();
        let mut streams = KafkaStreams::new(
            builder.build(),
            config(&bootstrap, "rides-ticker", state.path()),
        );
        streams.start().unwrap();
        let ticks = read_values(
            &bootstrap,
            "ticks",
            |_, v| i64::from_be_bytes(v.try_into().unwrap()),
            |ticks| ticks.last() == Some(&1_000),
        );
        assert!(ticks.windows(2).all(|w| w[0] <= w[1]), "{ticks:?}");
        streams.close().unwrap();
    })
    .await;
}

/// Produces `zones` (location → name) to the 1-partition `zones` topic.
fn produce_zones(bootstrap: &str, zones: &[(i64, String)]) {
    let keys: Vec<[u8; 8]> = zones.iter().map(|(l, _)| l.to_be_bytes()).collect();
    produce_records(
        bootstrap,
        "zones",
        keys.iter()
            .zip(zones)
            .map(|(key, (_, zone))| (&key[..], zone.as_bytes(), None)),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_global_table_is_read_whole_before_the_stream_and_followed_after() {
    with_broker(|bootstrap| {
        // Not co-partitioned, as a global table need not be: 3 partitions against 1.
        create_topic(&bootstrap, "rides", 3);
        create_topic(&bootstrap, "zones", 1);
        let zones: Vec<(i64, String)> = (100..140)
            .filter(|l| *l != 105)
            .map(|l| (l, format!("Zone {l}")))
            .collect();
        produce_zones(&bootstrap, &zones);
        produce_rides(&bootstrap, 0..2_000);

        let builder = StreamsBuilder::new();
        let zones_table = builder.global_table(
            "zones",
            Consumed::with(Serdes::i64(), Serdes::string()),
            Materialized::with(Serdes::i64(), Serdes::string()).named("zones"),
        );
        builder
            .stream(
                "rides",
                Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
            )
            .join_global(
                &zones_table,
                |_, ride| ride.pu_location_id,
                |ride, zone| format!("{}:{zone}", ride.pu_location_id),
            )
            .to(
                "rides-with-zones",
                Produced::with(Serdes::optional(Serdes::string()), Serdes::string()),
            );
        let state = tempfile::tempdir().unwrap();
        let mut streams = KafkaStreams::new(
            builder.build(),
            config(&bootstrap, "rides-zones", state.path()),
        );
        streams.start().unwrap();

        let read = |want: usize| -> Vec<String> {
            read_values(
                &bootstrap,
                "rides-with-zones",
                |_, v| String::from_utf8(v.to_vec()).unwrap(),
                |out| out.len() >= want,
            )
        };
        // Every ride but those at the zone-less location 105, each with its zone: the table
        // was complete before the first ride was joined.
        let expected = |range: std::ops::Range<u64>, renamed: bool| -> Vec<String> {
            let mut out: Vec<String> = range
                .map(ride)
                .filter(|r| r.pu_location_id != 105)
                .map(|r| {
                    let l = r.pu_location_id;
                    if renamed && l == 110 {
                        format!("{l}:New Zone {l}")
                    } else {
                        format!("{l}:Zone {l}")
                    }
                })
                .collect();
            out.sort();
            out
        };
        let mut first = read(expected(0..2_000, false).len());
        first.sort();
        assert_eq!(first, expected(0..2_000, false));

        // A zone renamed while running reaches later rides.
        produce_zones(&bootstrap, &[(110, "New Zone 110".to_string())]);
        let zones_store = streams
            .key_value_store("zones", Serdes::i64(), Serdes::string())
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while zones_store.get(&110).unwrap().as_deref() != Some("New Zone 110") {
            assert!(
                Instant::now() < deadline,
                "the global store never saw the rename"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(zones_store.approximate_num_entries(), 39);
        produce_rides(&bootstrap, 2_000..3_000);
        let total = expected(0..2_000, false).len() + expected(2_000..3_000, true).len();
        let all = read(total);
        // Output order across partitions is not fixed: compare the whole, and the renames.
        let mut everything = all.clone();
        everything.sort();
        let mut want_all = expected(0..2_000, false);
        want_all.extend(expected(2_000..3_000, true));
        want_all.sort();
        assert_eq!(everything, want_all);
        streams.close().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_on_the_kip_848_protocol_share_tasks_and_count_once() {
    use brook_streams::runtime::GroupProtocol;
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 4);
        produce_rides(&bootstrap, 0..3_000);
        let app = "rides-counter-kip848";
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let instance = |state: &std::path::Path| {
            let config =
                config(&bootstrap, app, state).with_group_protocol(GroupProtocol::Consumer);
            let mut streams = KafkaStreams::new(topology(), config);
            streams.start().unwrap();
            streams
        };
        let mut first = instance(a.path());
        emitted(&bootstrap, "read_uncommitted", &reference(0..3_000));
        assert_eq!(settled(&first, 1, 4)[0].active_tasks.len(), 4);
        // A second instance joins: two of the four tasks move to it, the others stay put.
        let mut second = instance(b.path());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let tasks = |s: &KafkaStreams| -> usize {
                s.local_threads_metadata()
                    .iter()
                    .map(|t| t.active_tasks.len())
                    .sum()
            };
            if tasks(&first) == 2 && tasks(&second) == 2 {
                break;
            }
            assert!(Instant::now() < deadline, "tasks never moved");
            std::thread::sleep(Duration::from_millis(100));
        }
        produce_rides(&bootstrap, 3_000..6_000);
        let seen = emitted(&bootstrap, "read_uncommitted", &reference(0..6_000));
        assert_increasing(&seen);
        first.close().unwrap();
        second.close().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_join_buffer_moves_with_its_task_through_its_changelog() {
    use brook_streams::dsl::{JoinWindows, StreamJoined};
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "pickups", 1);
        create_topic(&bootstrap, "payments", 1);
        let send = |topic: &str, prefix: &str| {
            let records: Vec<(String, String)> = (0..50)
                .map(|i| (format!("ride-{i}"), format!("{prefix}{i}")))
                .collect();
            produce_records(
                &bootstrap,
                topic,
                records
                    .iter()
                    .map(|(k, v)| (k.as_bytes(), v.as_bytes(), None)),
            );
        };
        let topology = || {
            let builder = StreamsBuilder::new();
            let pickups = builder.stream(
                "pickups",
                Consumed::with(Serdes::string(), Serdes::string()),
            );
            let payments = builder.stream(
                "payments",
                Consumed::with(Serdes::string(), Serdes::string()),
            );
            pickups
                .join_stream_with(
                    &payments,
                    |p, q| format!("{p}+{q}"),
                    JoinWindows::of_time_difference_with_no_grace(600_000),
                    StreamJoined::with(Serdes::string(), Serdes::string(), Serdes::string())
                        .with_store_name("trips"),
                )
                .to("trips", Produced::with(Serdes::string(), Serdes::string()));
            builder.build()
        };
        // The first instance buffers the pickups and stops.
        send("pickups", "pickup-");
        let first_state = tempfile::tempdir().unwrap();
        let mut first = KafkaStreams::new(
            topology(),
            config(&bootstrap, "rides-trips", first_state.path()),
        );
        first.start().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while first.processed_records() < 50 {
            assert!(Instant::now() < deadline, "pickups never processed");
            std::thread::sleep(Duration::from_millis(50));
        }
        first.close().unwrap();
        // Another instance (another machine: no local state) gets the task, restores the
        // buffer from the changelog, and joins the payments with pickups it never read.
        send("payments", "payment-");
        let second_state = tempfile::tempdir().unwrap();
        let mut second = KafkaStreams::new(
            topology(),
            config(&bootstrap, "rides-trips", second_state.path()),
        );
        second.start().unwrap();
        let mut trips = read_values(
            &bootstrap,
            "trips",
            |_, v| String::from_utf8(v.to_vec()).unwrap(),
            |trips| trips.len() >= 50,
        );
        trips.sort();
        let mut want: Vec<String> = (0..50).map(|i| format!("pickup-{i}+payment-{i}")).collect();
        want.sort();
        assert_eq!(trips, want);
        assert!(
            second.restored_records() >= 50,
            "{}",
            second.restored_records()
        );
        second.close().unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suppressed_window_is_emitted_once_by_the_instance_that_takes_its_task_over() {
    use brook_streams::dsl::TimeWindows;
    use brook_streams::windowed::TimeWindowedSerde;
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "events", 1);
        let send = |timestamps: &[i64]| {
            let records = timestamps
                .iter()
                .map(|ts| (&b"k"[..], &b"v"[..], Some(*ts)));
            produce_records(&bootstrap, "events", records);
        };
        let topology = || {
            let builder = StreamsBuilder::new();
            builder
                .stream("events", Consumed::with(Serdes::string(), Serdes::string()))
                .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
                .windowed_by(TimeWindows::of_size_with_no_grace(10_000))
                .count(Materialized::with(Serdes::string(), Serdes::i64()).named("counts"))
                .suppress_until_window_closes()
                .to_stream()
                .to(
                    "final-counts",
                    Produced::with(
                        TimeWindowedSerde::new(Serdes::string(), 10_000),
                        Serdes::i64(),
                    ),
                );
            builder.build()
        };
        let run = |until: u64| {
            // A new state directory each time: the task comes back through its changelogs.
            let state = tempfile::tempdir().unwrap();
            let mut streams =
                KafkaStreams::new(topology(), config(&bootstrap, "suppressed", state.path()));
            streams.start().unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while streams.processed_records() < until {
                assert!(Instant::now() < deadline, "never processed {until}");
                std::thread::sleep(Duration::from_millis(50));
            }
            streams.close().unwrap();
        };
        // Two records in window [0, 10 s); the first instance stops before it closes.
        send(&[1_000, 2_000]);
        run(2);
        // The next instance restores the buffer; a record at 25 s closes the window.
        send(&[25_000]);
        run(1);
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("group.id", "final-reader")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "true")
            .create()
            .unwrap();
        consumer.subscribe(&["final-counts"]).unwrap();
        let mut finals = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "{finals:?}");
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    let key = m.key().unwrap();
                    let start = i64::from_be_bytes(key[key.len() - 8..].try_into().unwrap());
                    let count = i64::from_be_bytes(m.payload().unwrap().try_into().unwrap());
                    finals.push((start, count));
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) if !finals.is_empty() => {
                    break;
                }
                _ => {}
            }
        }
        assert_eq!(finals, [(0, 2)], "window [0, 10 s) once, with both records");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_join_on_a_changed_key_without_a_repartition_is_refused_at_start() {
    with_broker(|bootstrap| {
        create_topic(&bootstrap, "rides", 3);
        create_topic(&bootstrap, "zones", 3);
        let builder = StreamsBuilder::new();
        let zones = builder.table(
            "zones",
            Consumed::with(Serdes::i64(), Serdes::string()),
            Materialized::with(Serdes::i64(), Serdes::string()).named("zones"),
        );
        builder
            .stream(
                "rides",
                Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
            )
            .select_key(|_, ride| ride.pu_location_id)
            .join(&zones, |ride, zone| {
                format!("{}:{zone}", ride.pu_location_id)
            })
            .to("out", Produced::with(Serdes::i64(), Serdes::string()));
        let state = tempfile::tempdir().unwrap();
        let mut streams = KafkaStreams::new(
            builder.build(),
            config(&bootstrap, "unpartitioned", state.path()),
        );
        let refused = streams.start().unwrap_err().to_string();
        assert!(
            refused.contains("table store 'zones'") && refused.contains("repartition("),
            "{refused}"
        );
    })
    .await;
}
