//! `suppress` through the TopologyTestDriver: one final result per closed window (grace
//! honoured), and updates held back until a time limit.

use brook_streams::dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder, TimeWindows};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::windowed::{TimeWindowedSerde, Window, Windowed};

fn final_counts(windows: TimeWindows, timestamps: &[i64]) -> Vec<(Windowed<String>, i64)> {
    let builder = StreamsBuilder::new();
    builder
        .stream("events", Consumed::with(Serdes::string(), Serdes::string()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
        .windowed_by(windows)
        .count(Materialized::with(Serdes::string(), Serdes::i64()))
        .suppress_until_window_closes()
        .to_stream()
        .to(
            "final-counts",
            Produced::with(
                TimeWindowedSerde::new(Serdes::string(), windows.size_ms),
                Serdes::i64(),
            ),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("events", Serdes::string(), Serdes::string());
    for ts in timestamps {
        input.pipe_input("k", "v", *ts).unwrap();
    }
    driver
        .output_topic(
            "final-counts",
            TimeWindowedSerde::new(Serdes::string(), windows.size_ms),
            Serdes::i64(),
        )
        .read_key_values_to_list()
        .unwrap()
}

fn w(start: i64, count: i64) -> (Windowed<String>, i64) {
    (
        Windowed {
            key: "k".to_string(),
            window: Window::new(start, start + 10),
        },
        count,
    )
}

#[test]
fn each_window_emits_once_when_it_closes() {
    // [0,10) closes when the stream time reaches 10; [10,20) at 20; [20,30) is still open.
    let out = final_counts(
        TimeWindows::of_size_with_no_grace(10),
        &[1, 2, 5, 12, 15, 25],
    );
    assert_eq!(out, vec![w(0, 3), w(10, 2)]);
}

#[test]
fn the_grace_period_delays_the_final_result_and_admits_late_records() {
    // Grace 5: [0,10) closes at 15, so 3 (arriving at stream time 12) still counts.
    let out = final_counts(TimeWindows::of_size_and_grace(10, 5), &[1, 12, 3, 16]);
    assert_eq!(out, vec![w(0, 2)]);
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
