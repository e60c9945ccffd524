//! Every stateless KStream operation through the TopologyTestDriver: records piped in with
//! timestamps, output topics read back, as Kafka Streams' own tests do.

use std::sync::{Arc, Mutex};

use brook_streams::dsl::{Consumed, DeserializationHandler, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::test_driver::{TestRecord, TopologyTestDriver};
use brook_streams::topology::StreamsError;

fn strings() -> (Consumed<String, String>, Produced<String, String>) {
    (
        Consumed::with(Serdes::string(), Serdes::string()),
        Produced::with(Serdes::string(), Serdes::string()),
    )
}

fn read(driver: &TopologyTestDriver, topic: &str) -> Vec<(String, String)> {
    driver
        .output_topic(topic, Serdes::string(), Serdes::string())
        .read_key_values_to_list()
        .unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn filter_and_filter_not_split_a_stream() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let rides = builder.stream("rides", consumed);
    rides
        .filter(|_, v| v.starts_with('2'))
        .to("vendor-2", produced.clone());
    rides
        .filter_not(|_, v| v.starts_with('2'))
        .to("others", produced);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    for (k, v) in [("a", "1,9.5"), ("b", "2,12.0"), ("c", "2,7.0")] {
        input.pipe_input(k, v, 0).unwrap();
    }
    assert_eq!(
        read(&driver, "vendor-2"),
        pairs(&[("b", "2,12.0"), ("c", "2,7.0")])
    );
    assert_eq!(read(&driver, "others"), pairs(&[("a", "1,9.5")]));
}

#[test]
fn map_map_values_and_select_key_rewrite_records_keeping_time() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let rides = builder.stream("rides", consumed);
    rides
        .map(|k, v| (v.clone(), k.clone()))
        .to("swapped", produced.clone());
    rides
        .map_values(|v| v.to_uppercase())
        .to("upper", produced.clone());
    rides
        .map_values_with_key(|k, v| format!("{k}:{v}"))
        .to("joined", produced.clone());
    rides
        .select_key(|_, v| v.split(',').next().unwrap().to_string())
        .to("by-vendor", produced);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    input.pipe_input("r1", "2,x", 1_000).unwrap();
    assert_eq!(read(&driver, "swapped"), pairs(&[("2,x", "r1")]));
    assert_eq!(read(&driver, "upper"), pairs(&[("r1", "2,X")]));
    assert_eq!(read(&driver, "joined"), pairs(&[("r1", "r1:2,x")]));
    let by_vendor = driver
        .output_topic("by-vendor", Serdes::string(), Serdes::string())
        .read_records_to_list()
        .unwrap();
    assert_eq!(
        by_vendor,
        vec![TestRecord {
            key: "2".to_string(),
            value: "2,x".to_string(),
            timestamp: 1_000
        }]
    );
}

#[test]
fn flat_map_and_flat_map_values_emit_zero_or_more() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let rides = builder.stream("words", consumed);
    rides
        .flat_map_values(|v| v.split(' ').map(str::to_string).collect())
        .to("words-out", produced.clone());
    rides
        .flat_map(|k, v| {
            v.split(' ')
                .filter(|w| !w.is_empty())
                .map(|w| (w.to_string(), k.clone()))
                .collect()
        })
        .to("inverted", produced);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("words", Serdes::string(), Serdes::string());
    input.pipe_input("s1", "taxi ride", 0).unwrap();
    input.pipe_input("s2", "", 0).unwrap();
    assert_eq!(
        read(&driver, "words-out"),
        pairs(&[("s1", "taxi"), ("s1", "ride"), ("s2", "")])
    );
    assert_eq!(
        read(&driver, "inverted"),
        pairs(&[("taxi", "s1"), ("ride", "s1")])
    );
}

#[test]
fn peek_and_foreach_see_every_record_in_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let counted = Arc::new(Mutex::new(0));
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let (s, c) = (seen.clone(), counted.clone());
    let rides = builder.stream("rides", consumed);
    rides
        .peek(move |k, _| s.lock().unwrap().push(k.clone()))
        .to("copy", produced);
    rides.foreach(move |_, _| *c.lock().unwrap() += 1);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    for k in ["a", "b", "c"] {
        input.pipe_input(k, "v", 0).unwrap();
    }
    assert_eq!(*seen.lock().unwrap(), vec!["a", "b", "c"]);
    assert_eq!(*counted.lock().unwrap(), 3);
    assert_eq!(read(&driver, "copy").len(), 3);
}

#[test]
fn merge_interleaves_two_streams_in_processing_order() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let yellow = builder.stream("yellow", consumed);
    let green = builder.stream("green", Consumed::with(Serdes::string(), Serdes::string()));
    yellow
        .map_values(|v| format!("yellow {v}"))
        .merge(&green.map_values(|v| format!("green {v}")))
        .to("all-rides", produced);
    let driver = TopologyTestDriver::new(builder.build());
    let y = driver.input_topic("yellow", Serdes::string(), Serdes::string());
    let g = driver.input_topic("green", Serdes::string(), Serdes::string());
    y.pipe_input("1", "a", 0).unwrap();
    g.pipe_input("2", "b", 1).unwrap();
    y.pipe_input("3", "c", 2).unwrap();
    assert_eq!(
        read(&driver, "all-rides"),
        pairs(&[("1", "yellow a"), ("2", "green b"), ("3", "yellow c")])
    );
    let mut sources = driver.topology().source_topics();
    sources.sort();
    assert_eq!(sources, vec!["green", "yellow"]);
}

#[test]
fn split_sends_each_record_to_the_first_matching_branch() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let branches = builder
        .stream("fares", consumed)
        .split("fare-")
        .branch("high", |_, v| v.parse::<f64>().unwrap() >= 50.0)
        .branch("mid", |_, v| v.parse::<f64>().unwrap() >= 10.0)
        .default_branch("low");
    assert_eq!(
        branches.keys().collect::<Vec<_>>(),
        vec!["fare-high", "fare-low", "fare-mid"]
    );
    for (name, stream) in &branches {
        stream.to(name, produced.clone());
    }
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("fares", Serdes::string(), Serdes::string());
    for (k, v) in [("a", "75"), ("b", "12.5"), ("c", "3"), ("d", "50")] {
        input.pipe_input(k, v, 0).unwrap();
    }
    assert_eq!(
        read(&driver, "fare-high"),
        pairs(&[("a", "75"), ("d", "50")])
    );
    assert_eq!(read(&driver, "fare-mid"), pairs(&[("b", "12.5")]));
    assert_eq!(read(&driver, "fare-low"), pairs(&[("c", "3")]));

    // Without a default branch, unmatched records are dropped.
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    let branches = builder
        .stream("fares", consumed)
        .split("")
        .branch("free", |_, v| v == "0")
        .no_default_branch();
    branches["free"].to("free", produced);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("fares", Serdes::string(), Serdes::string());
    input.pipe_input("a", "0", 0).unwrap();
    input.pipe_input("b", "9", 0).unwrap();
    assert_eq!(read(&driver, "free"), pairs(&[("a", "0")]));
}

#[test]
fn a_topic_extractor_routes_each_record() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    builder
        .stream("rides", consumed)
        .to_extracted(|k, _| format!("rides-vendor-{k}"), produced);
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    input.pipe_input("1", "x", 0).unwrap();
    input.pipe_input("2", "y", 0).unwrap();
    assert_eq!(read(&driver, "rides-vendor-1"), pairs(&[("1", "x")]));
    assert_eq!(read(&driver, "rides-vendor-2"), pairs(&[("2", "y")]));
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ride {
    #[serde(rename = "PULocationID")]
    pu_location_id: i64,
    tpep_pickup_datetime: i64,
    total_amount: f64,
}

#[test]
fn json_rides_keyed_by_pickup_location_with_event_time_from_the_ride() {
    let builder = StreamsBuilder::new();
    builder
        .stream(
            "rides",
            Consumed::with(Serdes::optional(Serdes::string()), Serdes::json::<Ride>())
                .with_timestamp_extractor(|_, ride, _| ride.tpep_pickup_datetime),
        )
        .select_key(|_, ride| ride.pu_location_id)
        .map_values(|ride| ride.total_amount)
        .to(
            "fares-by-location",
            Produced::with(Serdes::i64(), Serdes::f64()),
        );
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic(
        "rides",
        Serdes::optional(Serdes::string()),
        Serdes::json::<Ride>(),
    );
    let ride = Ride {
        pu_location_id: 132,
        tpep_pickup_datetime: 1_600_000_000_000,
        total_amount: 52.3,
    };
    // The course's producers send rides without keys: a null key is kept with an optional serde.
    input.pipe_input(None, ride, 5).unwrap();
    let out = driver
        .output_topic("fares-by-location", Serdes::i64(), Serdes::f64())
        .read_records_to_list()
        .unwrap();
    assert_eq!(
        out,
        vec![TestRecord {
            key: 132,
            value: 52.3,
            timestamp: 1_600_000_000_000
        }]
    );
}

#[test]
fn bad_records_fail_or_are_skipped_as_the_handler_says_and_nulls_need_optional() {
    let topology = |handler| {
        let builder = StreamsBuilder::new();
        builder
            .stream(
                "counts",
                Consumed::with(Serdes::string(), Serdes::i64())
                    .with_deserialization_handler(handler),
            )
            .to("out", Produced::with(Serdes::string(), Serdes::i64()));
        TopologyTestDriver::new(builder.build())
    };
    let driver = topology(DeserializationHandler::LogAndContinue);
    let input = driver.input_topic("counts", Serdes::string(), Serdes::i64());
    input
        .pipe_bytes(Some(b"k".to_vec()), Some(vec![1, 2, 3]), 0)
        .unwrap();
    input.pipe_input("k", 7, 0).unwrap();
    // A null value with a plain serde: skipped, not an error (Kafka skips such records too).
    input.pipe_bytes(Some(b"k".to_vec()), None, 0).unwrap();
    assert_eq!(driver.skipped_records(), 1);
    let out = driver.output_topic("out", Serdes::string(), Serdes::i64());
    assert_eq!(
        out.read_key_values_to_list().unwrap(),
        vec![("k".to_string(), 7)]
    );

    let driver = topology(DeserializationHandler::LogAndFail);
    let input = driver.input_topic("counts", Serdes::string(), Serdes::i64());
    let error = input
        .pipe_bytes(Some(b"k".to_vec()), Some(vec![1, 2, 3]), 0)
        .unwrap_err();
    assert!(
        matches!(&error, StreamsError::Serde(e) if e.topic == "counts"),
        "{error}"
    );
    assert!(matches!(
        driver.pipe_raw(brook_streams::topology::RawRecord {
            topic: "nowhere".into(),
            partition: 0,
            offset: 0,
            key: None,
            value: None,
            timestamp: 0,
            headers: vec![],
        }),
        Err(StreamsError::UnknownTopic(_))
    ));
}

#[test]
fn the_topology_describes_itself_with_kafka_streams_node_names() {
    let builder = StreamsBuilder::new();
    let (consumed, produced) = strings();
    builder
        .stream("rides", consumed)
        .filter(|_, _| true)
        .to("out", produced);
    let topology = builder.build();
    let text = topology.describe();
    assert!(
        text.contains("KSTREAM-SOURCE-0000000000 --> KSTREAM-FILTER-0000000001"),
        "{text}"
    );
    assert!(
        text.contains("KSTREAM-FILTER-0000000001 --> KSTREAM-SINK-0000000002"),
        "{text}"
    );
    assert_eq!(topology.sink_topics(), vec!["out"]);
}
