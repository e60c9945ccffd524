//! Windowed aggregations through the TopologyTestDriver: the course's count of rides per pickup
//! location in one-hour tumbling windows keyed on the pickup time, late records dropped after
//! the grace period, hopping windows, windowed keys written in Kafka Streams' format, and
//! `suppress` (one final result per closed window, grace honoured; updates held back until a
//! time limit).

use brook_streams::dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder, TimeWindows};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::windowed::{TimeWindowedSerde, Window, Windowed};

const HOUR: i64 = 3_600_000;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    tpep_pickup_datetime: i64,
}

#[test]
fn rides_per_pickup_location_per_hour_on_the_pickup_time() {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "rides",
            Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>())
                .with_timestamp_extractor(|_, ride, _| ride.tpep_pickup_datetime),
        )
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()),
        )
        .windowed_by(TimeWindows::of_size_with_no_grace(HOUR))
        .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("hourly"))
        .to_stream()
        .to(
            "rides-per-location-hourly",
            Produced::with(TimeWindowedSerde::new(Serdes::i64(), HOUR), Serdes::i64()),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic(
        "rides",
        Serdes::optional(Serdes::string()),
        Serdes::json::<Ride>(),
    );
    let rides = [
        (132, 10 * HOUR + 5),
        (132, 10 * HOUR + 50 * 60_000),
        (48, 10 * HOUR + 7),
        (132, 11 * HOUR + 1),
    ];
    for (location, pickup) in rides {
        // The stored timestamp (0) is not the event time: the pickup time is.
        input
            .pipe_input(
                None,
                Ride {
                    pu_location_id: location,
                    tpep_pickup_datetime: pickup,
                },
                0,
            )
            .unwrap();
    }
    let out = driver
        .output_topic(
            "rides-per-location-hourly",
            TimeWindowedSerde::new(Serdes::i64(), HOUR),
            Serdes::i64(),
        )
        .read_key_values_to_list()
        .unwrap();
    let at = |key, hour: i64, count| {
        (
            Windowed {
                key,
                window: Window::new(hour * HOUR, (hour + 1) * HOUR),
            },
            count,
        )
    };
    assert_eq!(
        out,
        vec![
            at(132, 10, 1),
            at(132, 10, 2),
            at(48, 10, 1),
            at(132, 11, 1)
        ]
    );
    assert_eq!(driver.dropped_records(), 0);
}

fn counts_with(windows: TimeWindows, records: &[i64]) -> (Vec<(Windowed<String>, i64)>, u64) {
    windowed_counts(windows, records, false)
}

/// Counts of key "k" per window for records at `records`; with `suppress`, only each window's
/// final count. Returns them and the records dropped as late.
fn windowed_counts(
    windows: TimeWindows,
    records: &[i64],
    suppress: bool,
) -> (Vec<(Windowed<String>, i64)>, u64) {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream("events", Consumed::with(Serdes::string(), Serdes::string()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
        .windowed_by(windows)
        .count(Materialized::with(Serdes::string(), Serdes::i64()));
    let counts = if suppress {
        counts.suppress_until_window_closes()
    } else {
        counts
    };
    counts.to_stream().to(
        "counts",
        Produced::with(
            TimeWindowedSerde::new(Serdes::string(), windows.size_ms),
            Serdes::i64(),
        ),
    );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("events", Serdes::string(), Serdes::string());
    for ts in records {
        input.pipe_input("k", "v", *ts).unwrap();
    }
    let out = driver
        .output_topic(
            "counts",
            TimeWindowedSerde::new(Serdes::string(), windows.size_ms),
            Serdes::i64(),
        )
        .read_key_values_to_list()
        .unwrap();
    (out, driver.dropped_records())
}

fn w(start: i64, end: i64, count: i64) -> (Windowed<String>, i64) {
    (
        Windowed {
            key: "k".to_string(),
            window: Window::new(start, end),
        },
        count,
    )
}

#[test]
fn late_records_are_dropped_once_the_grace_period_has_passed() {
    // Windows of 10 ms with 5 ms grace. At 3 the stream time is 14: window [0,10) closes at
    // 15, so 3 still counts. At 4 the stream time is 16: [0,10) has closed; 4 is dropped.
    let (out, dropped) = counts_with(TimeWindows::of_size_and_grace(10, 5), &[1, 14, 3, 16, 4]);
    assert_eq!(
        out,
        vec![w(0, 10, 1), w(10, 20, 1), w(0, 10, 2), w(10, 20, 2)]
    );
    assert_eq!(dropped, 1);
    // Without grace a record for an ended window is dropped at once.
    let (out, dropped) = counts_with(TimeWindows::of_size_with_no_grace(10), &[12, 9]);
    assert_eq!(out, vec![w(10, 20, 1)]);
    assert_eq!(dropped, 1);
}

#[test]
fn a_record_updates_every_hopping_window_it_falls_in() {
    let (out, dropped) = counts_with(
        TimeWindows::of_size_with_no_grace(10).advance_by(5),
        &[7, 12],
    );
    assert_eq!(
        out,
        vec![w(0, 10, 1), w(5, 15, 1), w(5, 15, 2), w(10, 20, 1)]
    );
    assert_eq!(dropped, 0);
}

// suppress

#[test]
fn each_window_emits_once_when_it_closes() {
    // [0,10) closes when the stream time reaches 10; [10,20) at 20; [20,30) is still open.
    let (out, _) = windowed_counts(
        TimeWindows::of_size_with_no_grace(10),
        &[1, 2, 5, 12, 15, 25],
        true,
    );
    assert_eq!(out, vec![w(0, 10, 3), w(10, 20, 2)]);
}

#[test]
fn the_grace_period_delays_the_final_result_and_admits_late_records() {
    // Grace 5: [0,10) closes at 15, so 3 (arriving at stream time 12) still counts.
    let (out, _) = windowed_counts(TimeWindows::of_size_and_grace(10, 5), &[1, 12, 3, 16], true);
    assert_eq!(out, vec![w(0, 10, 2)]);
}

#[test]
fn until_time_limit_emits_each_keys_latest_update_after_the_limit() {
    let builder = StreamsBuilder::new();
    builder
        .stream("prices", Consumed::with(Serdes::string(), Serdes::i64()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::i64()))
        .reduce(
            |_, latest| *latest,
            Materialized::with(Serdes::string(), Serdes::i64()),
        )
        .suppress_until_time_limit(10)
        .to_stream()
        .to("settled", Produced::with(Serdes::string(), Serdes::i64()));
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("prices", Serdes::string(), Serdes::i64());
    input.pipe_input("a", 1, 0).unwrap(); // a due at 10
    input.pipe_input("a", 2, 5).unwrap();
    input.pipe_input("b", 7, 8).unwrap(); // b due at 18
    input.pipe_input("c", 9, 11).unwrap(); // stream time 11: a is due
    let out = driver.output_topic("settled", Serdes::string(), Serdes::i64());
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![("a".to_string(), 2)]
    );
    input.pipe_input("a", 3, 30).unwrap(); // b and c are due; a is buffered again
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![("b".to_string(), 7), ("c".to_string(), 9)]
    );
}

#[test]
fn a_suppression_keeps_its_buffer_in_a_store_until_the_window_closes() {
    let builder = StreamsBuilder::new();
    builder
        .stream("events", Consumed::with(Serdes::string(), Serdes::string()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
        .windowed_by(TimeWindows::of_size_with_no_grace(10))
        .count(Materialized::with(Serdes::string(), Serdes::i64()))
        .suppress_until_window_closes()
        .to_stream()
        .to(
            "counts",
            Produced::with(TimeWindowedSerde::new(Serdes::string(), 10), Serdes::i64()),
        );
    let topology = builder.build();
    let store = topology
        .store_names()
        .into_iter()
        .find(|s| s.starts_with("KTABLE-SUPPRESS-STATE-STORE-"))
        .expect("a suppression store");
    let driver = TopologyTestDriver::new(topology);
    let input = driver.input_topic("events", Serdes::string(), Serdes::string());
    let buffered = || {
        driver
            .key_value_store(
                &store,
                TimeWindowedSerde::new(Serdes::string(), 10),
                Serdes::bytes(),
            )
            .unwrap()
            .all()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k.window.start_ms)
            .collect::<Vec<_>>()
    };
    input.pipe_input("k", "v", 1).unwrap();
    input.pipe_input("k", "v", 4).unwrap();
    assert_eq!(buffered(), [0], "one entry per window, updated in place");
    input.pipe_input("k", "v", 12).unwrap();
    assert_eq!(buffered(), [10], "window [0,10) emitted and forgotten");
    let out = driver
        .output_topic(
            "counts",
            TimeWindowedSerde::new(Serdes::string(), 10),
            Serdes::i64(),
        )
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(out, vec![w(0, 10, 2)]);
}

#[test]
fn windows_older_than_the_retention_leave_the_store() {
    let run = |materialized: Materialized<String, i64>| {
        let builder = StreamsBuilder::new();
        builder
            .stream("events", Consumed::with(Serdes::string(), Serdes::string()))
            .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
            .windowed_by(TimeWindows::of_size_with_no_grace(10))
            .count(materialized.named("counts"));
        let driver = TopologyTestDriver::new(builder.build());
        let input = driver.input_topic("events", Serdes::string(), Serdes::string());
        for ts in [1, 15, 40] {
            input.pipe_input("k", "v", ts).unwrap();
        }
        driver
            .key_value_store(
                "counts",
                TimeWindowedSerde::new(Serdes::string(), 10),
                Serdes::i64(),
            )
            .unwrap()
            .all()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k.window.start_ms)
            .collect::<Vec<_>>()
    };
    // By default a window is kept for its size plus its grace (10 ms) after its start.
    assert_eq!(
        run(Materialized::with(Serdes::string(), Serdes::i64())),
        [40]
    );
    let kept = Materialized::with(Serdes::string(), Serdes::i64())
        .with_retention(std::time::Duration::from_millis(100));
    assert_eq!(run(kept), [0, 10, 40]);
}
