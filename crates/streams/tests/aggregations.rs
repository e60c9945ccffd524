//! Grouping and aggregation through the TopologyTestDriver: count, reduce and aggregate into
//! stores, KTable filter / map_values / to_stream, with the course's JSON rides.

use brook_streams::dsl::{Consumed, Grouped, Materialized, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::{TestRecord, TopologyTestDriver};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    total_amount: f64,
}

fn ride(location: i64, amount: f64) -> Ride {
    Ride {
        pu_location_id: location,
        total_amount: amount,
    }
}

fn rides_consumed() -> Consumed<Option<String>, Ride> {
    Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>())
}

/// Pipes rides (location, amount) with timestamps 1, 2, 3, … and no key, as the course does.
fn pipe(driver: &TopologyTestDriver, rides: &[(i64, f64)]) {
    let input = driver.input_topic(
        "rides",
        Serdes::optional(Serdes::string()),
        Serdes::json::<Ride>(),
    );
    for (i, (location, amount)) in rides.iter().enumerate() {
        input
            .pipe_input(None, ride(*location, *amount), i as i64 + 1)
            .unwrap();
    }
}

#[test]
fn count_rides_per_pickup_location_emits_every_update_and_fills_the_store() {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream("rides", rides_consumed())
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()),
        )
        .count(Materialized::with(Serdes::i64(), Serdes::i64()).named("rides-per-location"));
    assert_eq!(counts.queryable_store_name(), Some("rides-per-location"));
    counts.to_stream().to(
        "rides-per-location",
        Produced::with(Serdes::i64(), Serdes::i64()),
    );
    let topology = builder.build();
    assert_eq!(topology.store_names(), vec!["rides-per-location"]);
    let driver = TopologyTestDriver::new(topology);
    pipe(&driver, &[(132, 10.0), (48, 7.5), (132, 30.0), (132, 9.0)]);

    let updates = driver
        .output_topic("rides-per-location", Serdes::i64(), Serdes::i64())
        .read_records_to_list()
        .unwrap();
    let expected = [(132, 1, 1), (48, 1, 2), (132, 2, 3), (132, 3, 4)]
        .map(|(key, value, timestamp)| TestRecord {
            key,
            value,
            timestamp,
        })
        .to_vec();
    assert_eq!(updates, expected);
    let store = driver
        .key_value_store("rides-per-location", Serdes::i64(), Serdes::i64())
        .unwrap();
    assert_eq!(store.get(&132).unwrap(), Some(3));
    assert_eq!(store.get(&7).unwrap(), None);
    let mut all = store.all().unwrap();
    all.sort();
    assert_eq!(all, vec![(48, 1), (132, 3)]);
}

#[test]
fn reduce_and_aggregate_keep_a_running_result_per_key() {
    let builder = StreamsBuilder::new();
    let by_location = builder
        .stream("rides", rides_consumed())
        .map(|_, ride| (ride.pu_location_id, ride.total_amount))
        .group_by_key(Grouped::with(Serdes::i64(), Serdes::f64()));
    by_location
        .reduce(
            |a, b| a.max(*b),
            Materialized::with(Serdes::i64(), Serdes::f64()).named("max-fare"),
        )
        .to_stream()
        .to("max-fare", Produced::with(Serdes::i64(), Serdes::f64()));
    by_location
        .aggregate(
            || (0_i64, 0.0_f64),
            |_, fare, (n, sum)| (n + 1, sum + fare),
            Materialized::with(Serdes::i64(), Serdes::json::<(i64, f64)>()),
        )
        .map_values(|(n, sum)| sum / *n as f64)
        .to_stream()
        .to("mean-fare", Produced::with(Serdes::i64(), Serdes::f64()));
    let driver = TopologyTestDriver::new(builder.build());
    pipe(&driver, &[(1, 10.0), (1, 30.0), (2, 4.0), (1, 20.0)]);
    let read = |topic: &str| {
        driver
            .output_topic(topic, Serdes::i64(), Serdes::f64())
            .read_key_values_to_list()
            .unwrap()
    };
    assert_eq!(
        read("max-fare"),
        vec![(1, 10.0), (1, 30.0), (2, 4.0), (1, 30.0)]
    );
    assert_eq!(
        read("mean-fare"),
        vec![(1, 10.0), (1, 20.0), (2, 4.0), (1, 20.0)]
    );
    // The generated store name follows Kafka Streams' pattern.
    let names = driver.topology().store_names();
    assert_eq!(names[0], "max-fare");
    assert!(
        names[1].starts_with("KSTREAM-AGGREGATE-STATE-STORE-"),
        "{names:?}"
    );
}

#[test]
fn a_filtered_table_deletes_rows_that_stop_matching() {
    let builder = StreamsBuilder::new();
    builder
        .stream("rides", rides_consumed())
        .map(|_, ride| (ride.pu_location_id, ride.total_amount))
        .group_by_key(Grouped::with(Serdes::i64(), Serdes::f64()))
        // The latest fare per location.
        .reduce(
            |_, latest| *latest,
            Materialized::with(Serdes::i64(), Serdes::f64()),
        )
        .filter(|_, fare| *fare >= 10.0)
        .to_stream_with_tombstones()
        .to(
            "expensive",
            Produced::with(Serdes::i64(), Serdes::optional(Serdes::f64())),
        );
    let driver = TopologyTestDriver::new(builder.build());
    // 1: 12 (in), 15 (update), 5 (leaves: deletion), 3 (still out: nothing); 2: 4 (never in).
    pipe(
        &driver,
        &[(1, 12.0), (1, 15.0), (2, 4.0), (1, 5.0), (1, 3.0)],
    );
    let out = driver
        .output_topic("expensive", Serdes::i64(), Serdes::optional(Serdes::f64()))
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(out, vec![(1, Some(12.0)), (1, Some(15.0)), (1, None)]);
}

#[test]
fn grouping_by_a_changed_key_goes_through_a_repartition_topic() {
    use brook_streams::dsl::Repartitioned;
    let builder = StreamsBuilder::new();
    let rides = builder.stream("rides", rides_consumed());
    // group_by changes the key: a repartition topic, named after Grouped.
    rides
        .group_by(
            |_, ride| ride.pu_location_id,
            Grouped::with(Serdes::i64(), Serdes::json::<Ride>()).named("by-location"),
        )
        .count(Materialized::with(Serdes::i64(), Serdes::i64()))
        .to_stream()
        .to("counts", Produced::with(Serdes::i64(), Serdes::i64()));
    // An explicit repartition, then grouping by the (unchanged since) key: no second topic.
    rides
        .select_key(|_, ride| ride.pu_location_id)
        .repartition(Repartitioned::with(Serdes::i64(), Serdes::json::<Ride>()).named("rekeyed"))
        .group_by_key(Grouped::with(Serdes::i64(), Serdes::json::<Ride>()))
        .count(Materialized::with(Serdes::i64(), Serdes::i64()))
        .to_stream()
        .to("counts-2", Produced::with(Serdes::i64(), Serdes::i64()));
    let topology = builder.build();
    assert_eq!(
        topology.internal_topics(),
        vec!["by-location-repartition", "rekeyed-repartition"]
    );
    assert_eq!(topology.input_topics(), vec!["rides"]);
    let driver = TopologyTestDriver::new(topology);
    pipe(&driver, &[(132, 1.0), (48, 2.0), (132, 3.0)]);
    for topic in ["counts", "counts-2"] {
        let out = driver
            .output_topic(topic, Serdes::i64(), Serdes::i64())
            .read_key_values_to_list()
            .unwrap();
        assert_eq!(out, vec![(132, 1), (48, 1), (132, 2)], "{topic}");
    }
    // Internal topics are not outputs.
    assert!(
        driver
            .output_topic(
                "by-location-repartition",
                Serdes::i64(),
                Serdes::json::<Ride>()
            )
            .is_empty()
    );
}

/// A table regrouped by a column: drivers (key) and the zone they serve (value). Moving a
/// driver takes them out of the old zone and adds them to the new; a deletion takes them
/// out. Counted with `count`, and summed with `aggregate` and `reduce` (adder, subtractor).
#[test]
fn a_regrouped_table_subtracts_old_rows_and_adds_new_ones() {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        "drivers",
        Consumed::with(Serdes::string(), Serdes::i64()),
        Materialized::with(Serdes::string(), Serdes::i64()),
    );
    let by_zone = zones.group_by(
        |_, zone| (*zone, 1i64),
        Grouped::with(Serdes::i64(), Serdes::i64()).named("drivers-by-zone"),
    );
    by_zone
        .count(
            Materialized::with(Serdes::i64(), Serdes::i64())
                .named("drivers-per-zone")
                .with_caching_disabled(),
        )
        .to_stream()
        .to(
            "drivers-per-zone",
            Produced::with(Serdes::i64(), Serdes::i64()),
        );
    by_zone
        .aggregate(
            || 0,
            |_, one, n| n + one,
            |_, one, n| n - one,
            Materialized::with(Serdes::i64(), Serdes::i64()).named("aggregated"),
        )
        .to_stream()
        .to("aggregated", Produced::with(Serdes::i64(), Serdes::i64()));
    by_zone
        .reduce(
            |a, b| a + b,
            |a, b| a - b,
            Materialized::with(Serdes::i64(), Serdes::i64()).named("reduced"),
        )
        .to_stream()
        .to("reduced", Produced::with(Serdes::i64(), Serdes::i64()));
    let topology = builder.build();
    assert_eq!(
        topology.internal_topics(),
        vec!["drivers-by-zone-repartition"]
    );
    let driver = TopologyTestDriver::new(topology);
    let input = driver.input_topic("drivers", Serdes::string(), Serdes::i64());
    input
        .pipe_key_values([
            ("ann".to_string(), 132, 1),
            ("bob".to_string(), 132, 2),
            ("ann".to_string(), 48, 3),
        ])
        .unwrap();
    input.pipe_bytes(Some(b"bob".to_vec()), None, 4).unwrap();
    input.pipe_input("cyd", 48, 5).unwrap();

    // Every update, in order: ann in 132; bob in 132; ann out of 132, into 48; bob out of
    // 132; cyd into 48.
    let updates = driver
        .output_topic("drivers-per-zone", Serdes::i64(), Serdes::i64())
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(
        updates,
        vec![(132, 1), (132, 2), (132, 1), (48, 1), (132, 0), (48, 2)]
    );
    for store in ["drivers-per-zone", "aggregated", "reduced"] {
        let store = driver
            .key_value_store(store, Serdes::i64(), Serdes::i64())
            .unwrap();
        let mut all = store.all().unwrap();
        all.sort();
        assert_eq!(all, vec![(48, 2), (132, 0)]);
    }
}
