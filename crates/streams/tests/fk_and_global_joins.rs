//! Foreign-key table–table joins and GlobalKTable joins through the TopologyTestDriver: trips
//! keyed by trip id point at a location by id; updating a location re-joins every trip that
//! points at it, a trip that changes its location is re-joined, and one whose location
//! disappears is deleted (inner) or kept alone (left).

use brook_streams::dsl::{Consumed, Materialized, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::TopologyTestDriver;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Trip {
    location: i64,
    fare: f64,
}

fn fk_driver(left: bool) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let trips = builder.table(
        "trips",
        Consumed::with(Serdes::string(), Serdes::json::<Trip>()),
        Materialized::with(Serdes::string(), Serdes::json::<Trip>()),
    );
    let locations = builder.table(
        "locations",
        Consumed::with(Serdes::i64(), Serdes::string()),
        Materialized::with(Serdes::i64(), Serdes::string()),
    );
    let joined = if left {
        trips.left_join_on_foreign_key(
            &locations,
            |trip| trip.location,
            |trip, zone| format!("{} {}", trip.fare, zone.map_or("?", String::as_str)),
        )
    } else {
        trips.join_on_foreign_key(
            &locations,
            |trip| trip.location,
            |trip, zone| format!("{} {zone}", trip.fare),
        )
    };
    joined.to_stream_with_tombstones().to(
        "trips-with-zones",
        Produced::with(Serdes::string(), Serdes::optional(Serdes::string())),
    );
    TopologyTestDriver::new(builder.build())
}

fn trip(d: &TopologyTestDriver, id: &str, trip: Option<Trip>) {
    d.input_topic(
        "trips",
        Serdes::string(),
        Serdes::optional(Serdes::json::<Trip>()),
    )
    .pipe_input(id, trip, 0)
    .unwrap();
}

fn location(d: &TopologyTestDriver, id: i64, zone: Option<&str>) {
    d.input_topic(
        "locations",
        Serdes::i64(),
        Serdes::optional(Serdes::string()),
    )
    .pipe_input(id, zone.map(str::to_string), 0)
    .unwrap();
}

fn out(d: &TopologyTestDriver) -> Vec<(String, Option<String>)> {
    d.output_topic(
        "trips-with-zones",
        Serdes::string(),
        Serdes::optional(Serdes::string()),
    )
    .read_key_values_to_list()
    .unwrap()
}

fn r(key: &str, value: Option<&str>) -> (String, Option<String>) {
    (key.to_string(), value.map(str::to_string))
}

#[test]
fn a_foreign_key_join_follows_updates_on_both_sides() {
    let d = fk_driver(false);
    location(&d, 132, Some("JFK"));
    trip(
        &d,
        "t1",
        Some(Trip {
            location: 132,
            fare: 52.0,
        }),
    );
    trip(
        &d,
        "t2",
        Some(Trip {
            location: 132,
            fare: 70.0,
        }),
    );
    trip(
        &d,
        "t3",
        Some(Trip {
            location: 7,
            fare: 9.0,
        }),
    ); // no location 7 yet
    assert_eq!(
        out(&d),
        vec![r("t1", Some("52 JFK")), r("t2", Some("70 JFK"))]
    );
    // Renaming the location re-joins every trip pointing at it.
    location(&d, 132, Some("JFK Airport"));
    assert_eq!(
        out(&d),
        vec![
            r("t1", Some("52 JFK Airport")),
            r("t2", Some("70 JFK Airport"))
        ]
    );
    // Location 7 appears: t3 joins; t1 moves to 7.
    location(&d, 7, Some("Astoria"));
    trip(
        &d,
        "t1",
        Some(Trip {
            location: 7,
            fare: 52.0,
        }),
    );
    assert_eq!(
        out(&d),
        vec![r("t3", Some("9 Astoria")), r("t1", Some("52 Astoria"))]
    );
    // 132 disappears: only t2 pointed at it any more, and loses its row.
    location(&d, 132, None);
    assert_eq!(out(&d), vec![r("t2", None)]);
    // A deleted trip is deleted from the result.
    trip(&d, "t3", None);
    assert_eq!(out(&d), vec![r("t3", None)]);
}

#[test]
fn a_left_foreign_key_join_keeps_trips_without_a_location() {
    let d = fk_driver(true);
    trip(
        &d,
        "t1",
        Some(Trip {
            location: 7,
            fare: 9.0,
        }),
    );
    location(&d, 7, Some("Astoria"));
    location(&d, 7, None);
    assert_eq!(
        out(&d),
        vec![
            r("t1", Some("9 ?")),
            r("t1", Some("9 Astoria")),
            r("t1", Some("9 ?"))
        ]
    );
}

#[test]
fn a_stream_joins_a_global_table_by_a_key_it_chooses() {
    let builder = StreamsBuilder::new();
    let zones = builder.global_table(
        "zones",
        Consumed::with(Serdes::i64(), Serdes::string()),
        Materialized::with(Serdes::i64(), Serdes::string()).named("zones"),
    );
    assert_eq!(zones.queryable_store_name(), "zones");
    let rides = builder.stream(
        "rides",
        Consumed::with(Serdes::string(), Serdes::json::<Trip>()),
    );
    rides
        .join_global(
            &zones,
            |_, trip| trip.location,
            |trip, zone| format!("{} {zone}", trip.fare),
        )
        .to("inner", Produced::with(Serdes::string(), Serdes::string()));
    rides
        .left_join_global(
            &zones,
            |_, trip| trip.location,
            |trip, zone| format!("{} {}", trip.fare, zone.map_or("?", String::as_str)),
        )
        .to("left", Produced::with(Serdes::string(), Serdes::string()));
    let d = TopologyTestDriver::new(builder.build());
    location_on(&d, "zones", 132, "JFK");
    let input = d.input_topic("rides", Serdes::string(), Serdes::json::<Trip>());
    input
        .pipe_input(
            "a",
            Trip {
                location: 132,
                fare: 52.0,
            },
            0,
        )
        .unwrap();
    input
        .pipe_input(
            "b",
            Trip {
                location: 7,
                fare: 9.0,
            },
            0,
        )
        .unwrap();
    let read = |topic: &str| {
        d.output_topic(topic, Serdes::string(), Serdes::string())
            .read_key_values_to_list()
            .unwrap()
    };
    assert_eq!(read("inner"), vec![("a".to_string(), "52 JFK".to_string())]);
    assert_eq!(
        read("left"),
        vec![
            ("a".to_string(), "52 JFK".to_string()),
            ("b".to_string(), "9 ?".to_string())
        ]
    );
}

fn location_on(d: &TopologyTestDriver, topic: &str, id: i64, zone: &str) {
    d.input_topic(topic, Serdes::i64(), Serdes::string())
        .pipe_input(id, zone, 0)
        .unwrap();
}
