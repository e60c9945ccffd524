//! Stream–stream windowed joins through the TopologyTestDriver: inner, left and outer joins
//! with `JoinWindows`, results timestamped with the later record, unpartnered records of a
//! left or outer join emitted only once their window closes, late records dropped.

use brook_streams::dsl::{Consumed, JoinWindows, Produced, StreamJoined, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::{TestRecord, TopologyTestDriver};

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
    /// The outer join with its buffers in stores (`StreamJoined`).
    OuterStored,
}

fn driver(kind: Kind, windows: JoinWindows) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let pickups = builder.stream(
        "pickups",
        Consumed::with(Serdes::string(), Serdes::string()),
    );
    let payments = builder.stream(
        "payments",
        Consumed::with(Serdes::string(), Serdes::string()),
    );
    let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".to_string());
    let joined = match kind {
        Kind::Inner => pickups.join_stream(&payments, |p, q| format!("{p}+{q}"), windows),
        Kind::Left => {
            pickups.left_join_stream(&payments, move |p, q| format!("{p}+{}", show(q)), windows)
        }
        Kind::Outer => pickups.outer_join_stream(
            &payments,
            move |p, q| format!("{}+{}", show(p), show(q)),
            windows,
        ),
        Kind::OuterStored => pickups.outer_join_stream_with(
            &payments,
            move |p, q| format!("{}+{}", show(p), show(q)),
            windows,
            StreamJoined::with(Serdes::string(), Serdes::string(), Serdes::string())
                .with_store_name("trips"),
        ),
    };
    joined.to("trips", Produced::with(Serdes::string(), Serdes::string()));
    TopologyTestDriver::new(builder.build())
}

fn pipe(driver: &TopologyTestDriver, topic: &str, key: &str, value: &str, ts: i64) {
    driver
        .input_topic(topic, Serdes::string(), Serdes::string())
        .pipe_input(key, value, ts)
        .unwrap();
}

fn trips(driver: &TopologyTestDriver) -> Vec<(String, String, i64)> {
    driver
        .output_topic("trips", Serdes::string(), Serdes::string())
        .read_records_to_list()
        .unwrap()
        .into_iter()
        .map(
            |TestRecord {
                 key,
                 value,
                 timestamp,
             }| (key, value, timestamp),
        )
        .collect()
}

fn t(key: &str, value: &str, ts: i64) -> (String, String, i64) {
    (key.to_string(), value.to_string(), ts)
}

#[test]
fn an_inner_join_pairs_records_within_the_time_difference() {
    let d = driver(
        Kind::Inner,
        JoinWindows::of_time_difference_with_no_grace(10),
    );
    pipe(&d, "pickups", "r1", "p1", 100);
    pipe(&d, "payments", "r1", "pay1", 105); // within 10: joined at 105
    pipe(&d, "payments", "r2", "pay2", 106); // other key: nothing
    pipe(&d, "payments", "r1", "pay1b", 111); // 11 apart from p1: nothing
    pipe(&d, "pickups", "r1", "p1b", 108); // joins pay1 (105) and pay1b (111)
    assert_eq!(
        trips(&d),
        vec![
            t("r1", "p1+pay1", 105),
            t("r1", "p1b+pay1", 108),
            t("r1", "p1b+pay1b", 111)
        ]
    );
}

#[test]
fn a_left_join_emits_the_unpartnered_only_after_the_window_closes() {
    let d = driver(Kind::Left, JoinWindows::of_time_difference_and_grace(10, 5));
    pipe(&d, "pickups", "r1", "p1", 100);
    pipe(&d, "pickups", "r2", "p2", 101);
    pipe(&d, "payments", "r2", "pay2", 104); // p2 partnered
    pipe(&d, "payments", "x", "tick", 115); // stream time 115: p1's window closes at 115
    assert_eq!(trips(&d), vec![t("r2", "p2+pay2", 104)]);
    pipe(&d, "payments", "x", "tick", 116); // now past it: p1 alone, once
    assert_eq!(trips(&d), vec![t("r1", "p1+-", 100)]);
    // A record whose window has closed is dropped.
    pipe(&d, "pickups", "r3", "late", 100);
    assert_eq!(d.dropped_records(), 1);
    assert!(trips(&d).is_empty());
}

#[test]
fn an_outer_join_emits_both_sides_unpartnered() {
    for kind in [Kind::Outer, Kind::OuterStored] {
        outer_join(kind);
    }
}

fn outer_join(kind: Kind) {
    let d = driver(kind, JoinWindows::of_time_difference_with_no_grace(10));
    pipe(&d, "pickups", "r1", "p1", 100);
    pipe(&d, "payments", "r2", "pay2", 100);
    pipe(&d, "payments", "r3", "pay3", 105);
    pipe(&d, "pickups", "r3", "p3", 106);
    pipe(&d, "pickups", "x", "tick", 200);
    let mut out = trips(&d);
    out.sort();
    assert_eq!(
        out,
        vec![
            t("r1", "p1+-", 100),
            t("r2", "-+pay2", 100),
            t("r3", "p3+pay3", 106),
        ]
    );
}

#[test]
fn stored_buffers_hold_each_side_until_its_window_closes() {
    let d = driver(
        Kind::OuterStored,
        JoinWindows::of_time_difference_with_no_grace(10),
    );
    let side = |name: &str| {
        d.key_value_store(name, Serdes::bytes(), Serdes::bytes())
            .unwrap()
            .all()
            .unwrap()
    };
    pipe(&d, "pickups", "r1", "p1", 100);
    pipe(&d, "payments", "r1", "pay1", 104);
    let this = side("trips-this-join-store");
    let other = side("trips-other-join-store");
    assert_eq!((this.len(), other.len()), (1, 1));
    // key | timestamp (sign-flipped) | sequence → partnered flag | value.
    let (key, value) = &this[0];
    assert_eq!(&key[..2], b"r1");
    assert_eq!(&key[2..10], &((100_u64) ^ (1 << 63)).to_be_bytes());
    assert_eq!(
        value,
        &[&[1u8][..], b"p1"].concat(),
        "partnered once pay1 came"
    );
    assert_eq!(other[0].1, [&[1u8][..], b"pay1"].concat());
    // Past both windows: expired, and gone from the stores.
    pipe(&d, "pickups", "x", "tick", 200);
    assert_eq!(
        side("trips-this-join-store").len(),
        1,
        "only the tick is kept"
    );
    assert!(side("trips-other-join-store").is_empty());
}
