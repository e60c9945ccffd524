//! Table–table joins through the TopologyTestDriver: inner, left and outer joins of two
//! tables, updates and deletions on either side changing the joined row.

use brook_streams::dsl::{Consumed, Materialized, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;

#[derive(Clone, Copy)]
enum Kind {
    Inner,
    Left,
    Outer,
}

fn driver(kind: Kind) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let table = |topic: &str| {
        builder.table(
            topic,
            Consumed::with(Serdes::i64(), Serdes::string()),
            Materialized::with(Serdes::i64(), Serdes::string()),
        )
    };
    let zones = table("zones");
    let boroughs = table("boroughs");
    let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".to_string());
    let joined = match kind {
        Kind::Inner => zones.join(&boroughs, |z, b| format!("{z}/{b}")),
        Kind::Left => zones.left_join(&boroughs, move |z, b| format!("{z}/{}", show(b))),
        Kind::Outer => zones.outer_join(&boroughs, move |z, b| format!("{}/{}", show(z), show(b))),
    };
    joined.to_stream_with_tombstones().to(
        "locations",
        Produced::with(Serdes::i64(), Serdes::optional(Serdes::string())),
    );
    TopologyTestDriver::new(builder.build())
}

fn put(driver: &TopologyTestDriver, topic: &str, key: i64, value: Option<&str>) {
    driver
        .input_topic(topic, Serdes::i64(), Serdes::optional(Serdes::string()))
        .pipe_input(key, value.map(str::to_string), 0)
        .unwrap();
}

fn rows(driver: &TopologyTestDriver) -> Vec<(i64, Option<String>)> {
    driver
        .output_topic(
            "locations",
            Serdes::i64(),
            Serdes::optional(Serdes::string()),
        )
        .read_key_values_to_list()
        .unwrap()
}

fn row(key: i64, value: Option<&str>) -> (i64, Option<String>) {
    (key, value.map(str::to_string))
}

/// The same updates for each kind of join: zone 1, borough 1, zone 2, zone 1 renamed,
/// borough 1 deleted.
fn run(kind: Kind) -> Vec<(i64, Option<String>)> {
    let d = driver(kind);
    put(&d, "zones", 1, Some("JFK"));
    put(&d, "boroughs", 1, Some("Queens"));
    put(&d, "zones", 2, Some("Astoria"));
    put(&d, "zones", 1, Some("JFK Airport"));
    put(&d, "boroughs", 1, None);
    rows(&d)
}

#[test]
fn an_inner_join_has_rows_only_while_both_sides_do() {
    assert_eq!(
        run(Kind::Inner),
        vec![
            row(1, Some("JFK/Queens")),
            row(1, Some("JFK Airport/Queens")),
            row(1, None),
        ]
    );
}

#[test]
fn a_left_join_keeps_every_row_of_the_left_table() {
    assert_eq!(
        run(Kind::Left),
        vec![
            row(1, Some("JFK/-")),
            row(1, Some("JFK/Queens")),
            row(2, Some("Astoria/-")),
            row(1, Some("JFK Airport/Queens")),
            row(1, Some("JFK Airport/-")),
        ]
    );
}

#[test]
fn an_outer_join_keeps_rows_of_either_table() {
    let d = driver(Kind::Outer);
    put(&d, "boroughs", 3, Some("Bronx")); // only the right side
    put(&d, "zones", 3, Some("Fordham"));
    put(&d, "boroughs", 3, None);
    put(&d, "zones", 3, None); // both gone: the row is deleted
    assert_eq!(
        rows(&d),
        vec![
            row(3, Some("-/Bronx")),
            row(3, Some("Fordham/Bronx")),
            row(3, Some("Fordham/-")),
            row(3, None),
        ]
    );
}
