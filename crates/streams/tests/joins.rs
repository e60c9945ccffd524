//! Stream–table joins through the TopologyTestDriver: the course's rides enriched with a
//! pickup-location table keyed by location id (inner and left joins), tombstones removing
//! table rows, and table updates that emit nothing by themselves.

use brook_streams::dsl::{Consumed, Materialized, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    total_amount: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Enriched {
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    zone: Option<String>,
    total_amount: f64,
}

fn topology(left: bool) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let zones = builder.table(
        "zones",
        Consumed::with(Serdes::i64(), Serdes::string()),
        Materialized::with(Serdes::i64(), Serdes::string()).named("zones-store"),
    );
    let rides = builder
        .stream(
            "rides",
            Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>()),
        )
        .select_key(|_, ride| ride.pu_location_id);
    let enriched = if left {
        rides.left_join(&zones, |ride, zone| Enriched {
            pu_location_id: ride.pu_location_id,
            zone: zone.cloned(),
            total_amount: ride.total_amount,
        })
    } else {
        rides.join(&zones, |ride, zone| Enriched {
            pu_location_id: ride.pu_location_id,
            zone: Some(zone.clone()),
            total_amount: ride.total_amount,
        })
    };
    enriched.to(
        "enriched-rides",
        Produced::with(Serdes::i64(), Serdes::json::<Enriched>()),
    );
    TopologyTestDriver::new(builder.build())
}

fn ride(driver: &TopologyTestDriver, location: i64, amount: f64) {
    driver
        .input_topic(
            "rides",
            Serdes::optional(Serdes::string()),
            Serdes::json::<Ride>(),
        )
        .pipe_input(
            None,
            Ride {
                pu_location_id: location,
                total_amount: amount,
            },
            0,
        )
        .unwrap();
}

fn zone(driver: &TopologyTestDriver, location: i64, name: Option<&str>) {
    driver
        .input_topic("zones", Serdes::i64(), Serdes::optional(Serdes::string()))
        .pipe_input(location, name.map(str::to_string), 0)
        .unwrap();
}

fn enriched(driver: &TopologyTestDriver) -> Vec<(Option<String>, f64)> {
    driver
        .output_topic("enriched-rides", Serdes::i64(), Serdes::json::<Enriched>())
        .read_key_values_to_list()
        .unwrap()
        .into_iter()
        .map(|(key, e)| {
            assert_eq!(key, e.pu_location_id);
            (e.zone, e.total_amount)
        })
        .collect()
}

#[test]
fn an_inner_join_enriches_rides_whose_location_is_known() {
    let driver = topology(false);
    zone(&driver, 132, Some("JFK Airport"));
    ride(&driver, 132, 52.0);
    ride(&driver, 7, 9.0); // no such zone: dropped
    zone(&driver, 7, Some("Astoria")); // a table update emits nothing
    ride(&driver, 7, 11.0);
    zone(&driver, 132, None); // tombstone: JFK leaves the table
    ride(&driver, 132, 60.0);
    assert_eq!(
        enriched(&driver),
        vec![
            (Some("JFK Airport".to_string()), 52.0),
            (Some("Astoria".to_string()), 11.0)
        ]
    );
    let store = driver
        .key_value_store("zones-store", Serdes::i64(), Serdes::string())
        .unwrap();
    assert_eq!(store.get(&132).unwrap(), None);
    assert_eq!(store.get(&7).unwrap(), Some("Astoria".to_string()));
}

#[test]
fn a_left_join_keeps_rides_without_a_location() {
    let driver = topology(true);
    ride(&driver, 7, 9.0);
    zone(&driver, 7, Some("Astoria"));
    ride(&driver, 7, 11.0);
    assert_eq!(
        enriched(&driver),
        vec![(None, 9.0), (Some("Astoria".to_string()), 11.0)]
    );
}

#[test]
fn a_table_source_forwards_its_changes() {
    let builder = StreamsBuilder::new();
    builder
        .table(
            "zones",
            Consumed::with(Serdes::i64(), Serdes::string()),
            Materialized::with(Serdes::i64(), Serdes::string()),
        )
        .to_stream_with_tombstones()
        .to(
            "zone-changes",
            Produced::with(Serdes::i64(), Serdes::optional(Serdes::string())),
        );
    let driver = TopologyTestDriver::new(builder.build());
    zone(&driver, 1, Some("a"));
    zone(&driver, 1, Some("b"));
    zone(&driver, 1, None);
    zone(&driver, 2, None); // deleting an absent key says nothing
    let out = driver
        .output_topic(
            "zone-changes",
            Serdes::i64(),
            Serdes::optional(Serdes::string()),
        )
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(
        out,
        vec![
            (1, Some("a".to_string())),
            (1, Some("b".to_string())),
            (1, None)
        ]
    );
}
