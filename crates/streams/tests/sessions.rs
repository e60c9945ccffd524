//! Session windows through the TopologyTestDriver: sessions per key split by the inactivity
//! gap, a record bridging two sessions merges them (the merged ones forwarded as deletions),
//! late records dropped after the grace period, keys in Kafka's session-windowed format.

use brook_streams::dsl::{
    Consumed, Grouped, Materialized, Produced, SessionWindows, StreamsBuilder,
};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::windowed::{SessionWindowedSerde, Window, Windowed};

/// A session's count as read back (`None`: the session was deleted).
type SessionCount = (Windowed<String>, Option<i64>);

fn sessions(
    windows: SessionWindows,
    records: &[(&str, i64)],
) -> (TopologyTestDriver, Vec<SessionCount>) {
    let builder = StreamsBuilder::new();
    builder
        .stream("clicks", Consumed::with(Serdes::string(), Serdes::string()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
        .windowed_by_sessions(windows)
        .count(Materialized::with(Serdes::string(), Serdes::i64()).named("sessions"))
        .to_stream_with_tombstones()
        .to(
            "session-counts",
            Produced::with(
                SessionWindowedSerde::new(Serdes::string()),
                Serdes::optional(Serdes::i64()),
            ),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("clicks", Serdes::string(), Serdes::string());
    for (key, ts) in records {
        input.pipe_input(*key, "click", *ts).unwrap();
    }
    let out = driver
        .output_topic(
            "session-counts",
            SessionWindowedSerde::new(Serdes::string()),
            Serdes::optional(Serdes::i64()),
        )
        .read_key_values_to_list()
        .unwrap();
    (driver, out)
}

fn s(key: &str, start: i64, end: i64, count: Option<i64>) -> SessionCount {
    (
        Windowed {
            key: key.to_string(),
            window: Window::new(start, end),
        },
        count,
    )
}

#[test]
fn a_record_between_two_sessions_merges_them() {
    // Gap 10: 0 and 5 form [0,5]; 20 starts [20,20]; 12 is within 10 of both → [0,20].
    let (driver, out) = sessions(
        SessionWindows::with_inactivity_gap_and_grace(10, 100),
        &[("u", 0), ("u", 5), ("u", 20), ("v", 21), ("u", 12)],
    );
    assert_eq!(
        out,
        vec![
            s("u", 0, 0, Some(1)),
            s("u", 0, 0, None), // [0,0] grows into [0,5]
            s("u", 0, 5, Some(2)),
            s("u", 20, 20, Some(1)),
            s("v", 21, 21, Some(1)),
            s("u", 0, 5, None),   // merged away
            s("u", 20, 20, None), // merged away
            s("u", 0, 20, Some(4)),
        ]
    );
    // The store holds the merged session only (plus v's).
    let store = driver
        .key_value_store(
            "sessions",
            SessionWindowedSerde::new(Serdes::string()),
            Serdes::i64(),
        )
        .unwrap();
    let all = store.all().unwrap();
    assert_eq!(
        all,
        vec![
            (
                Windowed {
                    key: "u".to_string(),
                    window: Window::new(0, 20)
                },
                4
            ),
            (
                Windowed {
                    key: "v".to_string(),
                    window: Window::new(21, 21)
                },
                1
            ),
        ]
    );
    assert_eq!(driver.dropped_records(), 0);
}

#[test]
fn a_record_for_a_closed_session_is_dropped() {
    // Gap 5, grace 2: at stream time 20 a record at 1 would form [1,1], which ended before
    // 20 - 2: dropped. One at 19 joins nothing earlier and is kept.
    let (driver, out) = sessions(
        SessionWindows::with_inactivity_gap_and_grace(5, 2),
        &[("u", 20), ("u", 1), ("u", 19)],
    );
    assert_eq!(
        out,
        vec![
            s("u", 20, 20, Some(1)),
            s("u", 20, 20, None),
            s("u", 19, 20, Some(2)),
        ]
    );
    assert_eq!(driver.dropped_records(), 1);
}

#[test]
fn reduce_combines_values_per_session_and_merges_sessions_with_the_reducer() {
    let builder = StreamsBuilder::new();
    builder
        .stream("clicks", Consumed::with(Serdes::string(), Serdes::string()))
        .group_by_key(Grouped::with(Serdes::string(), Serdes::string()))
        .windowed_by_sessions(SessionWindows::with_inactivity_gap_and_grace(10, 100))
        .reduce(
            |a, b| format!("{a}+{b}"),
            Materialized::with(Serdes::string(), Serdes::string()).named("pages"),
        )
        .to_stream_with_tombstones()
        .to(
            "session-pages",
            Produced::with(
                SessionWindowedSerde::new(Serdes::string()),
                Serdes::optional(Serdes::string()),
            ),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("clicks", Serdes::string(), Serdes::string());
    for (page, ts) in [("a", 0), ("b", 30), ("c", 5), ("d", 20)] {
        input.pipe_input("u", page, ts).unwrap();
    }
    let out = driver
        .output_topic(
            "session-pages",
            SessionWindowedSerde::new(Serdes::string()),
            Serdes::optional(Serdes::string()),
        )
        .read_key_values_to_list()
        .unwrap();
    let w = |start, end, value: Option<&str>| {
        (
            Windowed {
                key: "u".to_string(),
                window: Window::new(start, end),
            },
            value.map(str::to_string),
        )
    };
    assert_eq!(
        out,
        vec![
            w(0, 0, Some("a")),
            w(30, 30, Some("b")),
            w(0, 0, None),
            w(0, 5, Some("a+c")),
            // 20 is within 10 of [0,5]'s end? No (15 away); within 10 of 30: joins it.
            w(30, 30, None),
            w(20, 30, Some("b+d")),
        ]
    );
}

#[test]
fn sessions_older_than_the_gap_and_grace_leave_the_store() {
    let (driver, _) = sessions(
        SessionWindows::with_inactivity_gap_and_no_grace(10),
        &[("u", 0), ("u", 5), ("v", 3), ("u", 100)],
    );
    let store = driver
        .key_value_store(
            "sessions",
            SessionWindowedSerde::new(Serdes::string()),
            Serdes::i64(),
        )
        .unwrap();
    // At stream time 100 nothing can join a session that ended before 90.
    let latest = Windowed {
        key: "u".to_string(),
        window: Window::new(100, 100),
    };
    assert_eq!(store.all().unwrap(), vec![(latest, 1)]);
}
