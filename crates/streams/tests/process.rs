//! `process` with a user processor through the TopologyTestDriver: a de-duplicating
//! processor that remembers ride ids in a state store and forwards each ride once, with its
//! own output key and value types.

use brook_streams::dsl::{Consumed, Processor, ProcessorInit, Produced, StreamsBuilder};
use brook_streams::serdes::Serdes;
use brook_streams::state::TypedStore;
use brook_streams::test_driver::TopologyTestDriver;
use brook_streams::topology::Record;

/// Forwards a ride the first time its id is seen, keyed by vendor, valued by its fare in
/// cents.
#[derive(Default)]
struct FirstSeen {
    seen: Option<TypedStore<String, i64>>,
}

impl Processor<String, String, String, i64> for FirstSeen {
    fn init(&mut self, context: &mut ProcessorInit) {
        self.seen = Some(context.key_value_store("seen-rides", Serdes::string(), Serdes::i64()));
    }

    fn process(
        &mut self,
        record: Record<String, String>,
        forward: &mut dyn FnMut(Record<String, i64>),
    ) {
        let seen = self.seen.as_ref().unwrap();
        if seen.get(&record.key).unwrap().is_some() {
            return;
        }
        seen.put(&record.key, &record.timestamp).unwrap();
        let (vendor, fare) = record.value.split_once(',').unwrap();
        forward(Record {
            key: vendor.to_string(),
            value: (fare.parse::<f64>().unwrap() * 100.0).round() as i64,
            timestamp: record.timestamp,
            headers: record.headers,
        });
    }
}

#[test]
fn a_user_processor_with_a_store_forwards_each_ride_once() {
    let builder = StreamsBuilder::new();
    builder.add_state_store("seen-rides");
    builder
        .stream("rides", Consumed::with(Serdes::string(), Serdes::string()))
        .process(FirstSeen::default, &["seen-rides"])
        .to("fares", Produced::with(Serdes::string(), Serdes::i64()));
    let driver = TopologyTestDriver::new(builder.build());
    let input = driver.input_topic("rides", Serdes::string(), Serdes::string());
    input.pipe_input("ride-1", "1,12.5", 10).unwrap();
    input.pipe_input("ride-2", "2,7.25", 11).unwrap();
    input.pipe_input("ride-1", "1,12.5", 12).unwrap(); // a redelivery
    let out = driver
        .output_topic("fares", Serdes::string(), Serdes::i64())
        .read_key_values_to_list()
        .unwrap();
    assert_eq!(out, vec![("1".to_string(), 1250), ("2".to_string(), 725)]);
    let seen = driver
        .key_value_store("seen-rides", Serdes::string(), Serdes::i64())
        .unwrap();
    assert_eq!(seen.get(&"ride-1".to_string()).unwrap(), Some(10));
}
