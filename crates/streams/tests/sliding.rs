//! Sliding windows (KIP-450) through the TopologyTestDriver: the windows Kafka Streams defines
//! for each record (the left window ending at it, the right window starting after it once a
//! later record falls in it), out-of-order records updating earlier windows, late records
//! dropped after the grace period, and the final store equal to a brute-force computation
//! over every window.

use std::collections::BTreeMap;

use brook_streams::dsl::{
    Consumed, Grouped, Materialized, Produced, SlidingWindows, StreamsBuilder,
};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::windowed::{TimeWindowedSerde, Window, Windowed};

type Sum = (Windowed<String>, i64);

/// Sums values per key in sliding windows of time difference `d`; the output records and
/// the driver.
fn sums(d: i64, grace: i64, records: &[(&str, i64, i64)]) -> (TopologyTestDriver, Vec<Sum>) {
    let builder = StreamsBuilder::new();
    builder
        .stream("amounts", Consumed::with(Serdes::string(), Serdes::i64()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::i64()))
        .windowed_by_sliding(SlidingWindows::of_time_difference_and_grace(d, grace))
        .reduce(
            |a, b| a + b,
            Materialized::with(Serdes::string(), Serdes::i64()).named("sums"),
        )
        .to_stream()
        .to(
            "sums",
            Produced::with(TimeWindowedSerde::new(Serdes::string(), d), Serdes::i64()),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("amounts", Serdes::string(), Serdes::i64());
    for (key, amount, ts) in records {
        input.pipe_input(*key, *amount, *ts).unwrap();
    }
    let out = driver
        .output_topic(
            "sums",
            TimeWindowedSerde::new(Serdes::string(), d),
            Serdes::i64(),
        )
        .read_key_values_to_list()
        .unwrap();
    (driver, out)
}

fn w(key: &str, start: i64, end: i64, sum: i64) -> Sum {
    (
        Windowed {
            key: key.to_string(),
            window: Window::new(start, end),
        },
        sum,
    )
}

#[test]
fn each_record_has_a_left_window_and_a_right_window_once_a_later_record_is_in_it() {
    // d = 10. 100 → [90,100]. 105 → [95,105] (with 100), and 100's right window [101,111]
    // holds 105 alone. 120 → [110,120] holds 120 only (105 is 15 away); 105's right window
    // [106,116] would be empty: not created.
    let (_, out) = sums(10, 1_000, &[("k", 1, 100), ("k", 2, 105), ("k", 4, 120)]);
    assert_eq!(
        out,
        vec![
            w("k", 90, 100, 1),
            w("k", 95, 105, 3),
            w("k", 101, 111, 2),
            w("k", 110, 120, 4),
        ]
    );
}

#[test]
fn an_out_of_order_record_updates_the_windows_it_falls_in_and_creates_its_own() {
    // 100 and 110 first, then 104 arrives late (within grace): it joins [100,110] (110's left
    // window) and [101,111] (100's right window); its own left window [94,104] holds 100 and
    // 104; its right window [105,115] holds 110.
    let (_, out) = sums(10, 1_000, &[("k", 1, 100), ("k", 10, 110), ("k", 100, 104)]);
    assert_eq!(
        out,
        vec![
            w("k", 90, 100, 1),
            w("k", 100, 110, 11),
            w("k", 101, 111, 10),
            // 104 arrives:
            w("k", 94, 104, 101),
            w("k", 100, 110, 111),
            w("k", 101, 111, 110),
            w("k", 105, 115, 10),
        ]
    );
}

#[test]
fn a_record_older_than_the_grace_period_is_dropped() {
    let (driver, out) = sums(10, 5, &[("k", 1, 100), ("k", 1, 94), ("k", 1, 96)]);
    // Stream time 100, grace 5: 94's left window ends at 94 < 95 → dropped; 96 is kept.
    assert_eq!(driver.dropped_records(), 1);
    assert_eq!(
        out,
        vec![
            w("k", 90, 100, 1),
            w("k", 86, 96, 1),
            w("k", 90, 100, 2),
            w("k", 97, 107, 1),
        ]
    );
}

#[test]
fn the_store_holds_kafkas_windows_for_any_arrival_order() {
    // A deterministic shuffle of 60 records over two keys, all within a large grace.
    let d = 25;
    let mut records = Vec::new();
    let mut x: u64 = 7;
    for i in 0..60 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let ts = 1_000 + (x >> 33) as i64 % 300;
        let key = if i % 3 == 0 { "a" } else { "b" };
        records.push((key, (i + 1) as i64, ts));
    }
    let (driver, _) = sums(d, 1_000_000, &records);
    let store = driver
        .key_value_store(
            "sums",
            TimeWindowedSerde::new(Serdes::string(), d),
            Serdes::i64(),
        )
        .unwrap();
    let got: BTreeMap<(String, i64), i64> = store
        .all()
        .unwrap()
        .into_iter()
        .map(|(k, v)| ((k.key, k.window.start_ms), v))
        .collect();
    // Brute force: each record's left window, and each non-empty right window.
    let mut expected = BTreeMap::new();
    for (key, _, ts) in &records {
        let sum_in = |start: i64, end: i64| -> Option<i64> {
            let in_window: Vec<i64> = records
                .iter()
                .filter(|(k, _, t)| k == key && *t >= start && *t <= end)
                .map(|(_, v, _)| *v)
                .collect();
            (!in_window.is_empty()).then(|| in_window.iter().sum())
        };
        let left = (ts - d).max(0);
        expected.insert((key.to_string(), left), sum_in(left, left + d).unwrap());
        if let Some(sum) = sum_in(ts + 1, ts + 1 + d) {
            expected.insert((key.to_string(), ts + 1), sum);
        }
    }
    assert_eq!(got, expected);
}

#[test]
fn windows_that_can_no_longer_change_leave_the_store() {
    let (driver, _) = sums(10, 0, &[("k", 1, 100), ("k", 2, 200)]);
    let store = driver
        .key_value_store(
            "sums",
            TimeWindowedSerde::new(Serdes::string(), 10),
            Serdes::i64(),
        )
        .unwrap();
    // At stream time 200, window [90,100] closed long ago (10 + no grace).
    assert_eq!(store.all().unwrap(), vec![w("k", 190, 200, 2)]);
}
