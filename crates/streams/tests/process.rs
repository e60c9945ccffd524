//! `process` with a user processor through the TopologyTestDriver: a de-duplicating
//! processor that remembers ride ids in a state store and forwards each ride once, with its
//! own output key and value types; punctuations on stream time and on the (mock) wall clock.

use std::time::Duration;

use brook_streams::dsl::{
    Consumed, Processor, ProcessorInit, Produced, Punctuation, PunctuationType, StreamsBuilder,
};
use brook_streams::serdes::{FixedSerde, Serdes, StringSerde};
use brook_streams::state::TypedStore;
use brook_streams::test_driver::{TestOutputTopic, TopologyTestDriver};
use brook_streams::topology::Record;

/// Forwards a ride the first time its id is seen, keyed by vendor, valued by its fare in
/// cents.
#[derive(Default)]
struct FirstSeen {
    seen: Option<TypedStore<String, i64>>,
}

impl Processor<String, String, String, i64> for FirstSeen {
    fn init(&mut self, context: &mut ProcessorInit) {
        self.seen = Some(context.key_value_store("seen-rides", Serdes::string(), Serdes::i64()));
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        forward: &mut dyn FnMut(Record<String, i64>),
    ) {
        let seen = self.seen.as_ref().unwrap();
        if seen.get(&record.key).unwrap().is_some() {
            return;
        }
        seen.put(&record.key, &record.timestamp).unwrap();
        let (vendor, fare) = record.value.split_once(',').unwrap();
        forward(Record {
            key: vendor.to_string(),
            value: (fare.parse::<f64>().unwrap() * 100.0).round() as i64,
            timestamp: record.timestamp,
            headers: record.headers,
        });
    }
}

#[test]
fn a_user_processor_with_a_store_forwards_each_ride_once() {
    let builder = StreamsBuilder::new();
    builder.add_state_store("seen-rides");
    builder
        .stream("rides", Consumed::with(Serdes::string(), Serdes::string()))
        .process(FirstSeen::default, &["seen-rides"])
        .to("fares", Produced::with(Serdes::string(), Serdes::i64()));
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    input.pipe_input("ride-1", "1,12.5", 10).unwrap();
    input.pipe_input("ride-2", "2,7.25", 11).unwrap();
    input.pipe_input("ride-1", "1,12.5", 12).unwrap(); // a redelivery
    let out = driver
        .output_topic("fares", Serdes::string(), Serdes::i64())
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(out, vec![("1".to_string(), 1250), ("2".to_string(), 725)]);
    let seen = driver
        .key_value_store("seen-rides", Serdes::string(), Serdes::i64())
        .unwrap();
    assert_eq!(seen.get(&"ride-1".to_string()).unwrap(), Some(10));
}

/// Counts records per key; on stream time every 10 s forwards every count, on wall-clock
/// time every minute forwards a tick with the time it fired at.
#[derive(Default)]
struct Reporter {
    counts: Option<TypedStore<String, i64>>,
}

impl Processor<String, String, String, i64> for Reporter {
    fn init(&mut self, context: &mut ProcessorInit) {
        self.counts = Some(context.key_value_store("counts", Serdes::string(), Serdes::i64()));
        assert_eq!(
            context.schedule(Duration::from_secs(10), PunctuationType::StreamTime),
            0
        );
        assert_eq!(
            context.schedule(Duration::from_secs(60), PunctuationType::WallClockTime),
            1
        );
    }

    fn process(&mut self, record: Record<String, String>, _: &mut dyn FnMut(Record<String, i64>)) {
        let counts = self.counts.as_ref().unwrap();
        counts
            .update(&record.key, |n| n.copied().unwrap_or(0) + 1)
            .unwrap();
    }

    fn punctuate(&mut self, p: Punctuation, forward: &mut dyn FnMut(Record<String, i64>)) {
        let record = |key: String, value| Record {
            key,
            value,
            timestamp: p.timestamp,
            headers: Vec::new(),
        };
        match p.kind {
            PunctuationType::StreamTime => {
                for (key, count) in self.counts.as_ref().unwrap().all().unwrap() {
                    forward(record(key, count));
                }
            }
            PunctuationType::WallClockTime => forward(record("tick".to_string(), p.timestamp)),
        }
    }
}

#[test]
fn punctuations_fire_on_stream_time_and_on_the_wall_clock() {
    let builder = StreamsBuilder::new();
    builder.add_state_store("counts");
    builder
        .stream("clicks", Consumed::with(Serdes::string(), Serdes::string()))
        .process(Reporter::default, &["counts"])
        .to("reports", Produced::with(Serdes::string(), Serdes::i64()));
    let driver = TopologyTestDriver::with_wall_clock(builder.build(), 1_000_000);
    let input = driver.input_topic("clicks", Serdes::string(), Serdes::string());
    let reports = driver.output_topic("reports", Serdes::string(), Serdes::i64());
    let report = |reports: &TestOutputTopic<'_, String, i64, StringSerde, FixedSerde<i64>>| {
        reports
            .read_records_to_list()
            .unwrap()
            .into_iter()
            .map(|r| (r.key, r.value, r.timestamp))
            .collect::<Vec<_>>()
    };
    // Stream time: aligned to 0, so the first record fires it (at stream time 0).
    input.pipe_input("a", "x", 0).unwrap();
    assert_eq!(report(&reports), [("a".to_string(), 1, 0)]);
    input.pipe_input("b", "x", 5_000).unwrap();
    assert!(report(&reports).is_empty(), "not due before 10 s");
    input.pipe_input("a", "x", 10_000).unwrap();
    assert_eq!(
        report(&reports),
        [("a".to_string(), 2, 10_000), ("b".to_string(), 1, 10_000)]
    );
    // A jump over several intervals fires once; the next is the following multiple (40 s).
    input.pipe_input("b", "x", 35_000).unwrap();
    assert_eq!(report(&reports).len(), 2);
    input.pipe_input("b", "x", 39_999).unwrap();
    assert!(report(&reports).is_empty());
    // An older record does not move stream time back, nor fire anything.
    input.pipe_input("b", "x", 1_000).unwrap();
    assert!(report(&reports).is_empty());
    input.pipe_input("a", "x", 40_000).unwrap();
    assert_eq!(
        report(&reports),
        [("a".to_string(), 3, 40_000), ("b".to_string(), 4, 40_000)]
    );

    // Wall clock: first a minute after the driver started (at 1,000,000 ms).
    driver
        .advance_wall_clock_time(Duration::from_secs(30))
        .unwrap();
    assert!(report(&reports).is_empty());
    driver
        .advance_wall_clock_time(Duration::from_secs(30))
        .unwrap();
    assert_eq!(
        report(&reports),
        [("tick".to_string(), 1_060_000, 1_060_000)]
    );
    // Two and a half minutes later: one tick, not three.
    driver
        .advance_wall_clock_time(Duration::from_secs(150))
        .unwrap();
    assert_eq!(
        report(&reports),
        [("tick".to_string(), 1_210_000, 1_210_000)]
    );
    driver
        .advance_wall_clock_time(Duration::from_secs(29))
        .unwrap();
    assert!(report(&reports).is_empty(), "next at 1,240,000");
    driver
        .advance_wall_clock_time(Duration::from_secs(1))
        .unwrap();
    assert_eq!(report(&reports).len(), 1);
}
