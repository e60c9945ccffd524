//! The rides pipeline end to end against a Brook broker and schema registry started by the
//! test: all 10,000 rides go out as CSV strings, JSON objects and Avro records (through the
//! registry), come back in the course's consumer groups, and a second consumer run receives
//! nothing new because its offsets were committed.

use std::path::Path;
use std::time::Duration;

use brook_rides_example::{
    Format, RegistryClient, consume, consumer, produce, producer, read_rides,
};

#[test]
fn every_ride_goes_out_and_comes_back_once_in_every_format() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let broker = runtime
        .block_on(brook_broker::Broker::start(brook_broker::BrokerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: tmp.path().to_path_buf(),
            group_initial_rebalance_delay: Duration::from_millis(100),
            ..Default::default()
        }))
        .unwrap();
    let bootstrap = broker.local_addr().to_string();
    let registry = runtime
        .block_on(brook_registry::RegistryServer::start(
            brook_registry::RegistryConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                cluster: brook_client::ClusterSettings::new(bootstrap.clone()),
                topic: "_schemas".into(),
                advertised_url: None,
            },
        ))
        .unwrap();
    let client = RegistryClient::new(&format!("http://{}", registry.local_addr()));
    let rides =
        read_rides(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/rides.csv"))
            .unwrap();
    assert_eq!(rides.len(), 10_000);

    for format in [Format::Csv, Format::Json, Format::Avro] {
        let sent = produce(
            &producer(&bootstrap).unwrap(),
            format,
            &rides,
            Some(&client),
        )
        .unwrap();
        assert_eq!(sent, 10_000);

        let mut received = Vec::new();
        let first = consumer(&bootstrap, format).unwrap();
        let count = consume(
            &first,
            format,
            Some(&client),
            Duration::from_secs(60),
            10_000,
            |k, v| received.push((k.to_string(), v.to_string())),
        )
        .unwrap();
        drop(first);
        assert_eq!(count, 10_000, "{format:?}");
        match format {
            Format::Csv => {
                let mut lines: Vec<&str> = received.iter().map(|(_, v)| v.as_str()).collect();
                let mut expected: Vec<&str> = rides.iter().map(|r| r.line.as_str()).collect();
                lines.sort_unstable();
                expected.sort_unstable();
                assert_eq!(lines, expected);
                assert!(received.iter().all(|(k, v)| v.starts_with(k.as_str())));
            }
            Format::Json => {
                let keys: std::collections::BTreeSet<&str> =
                    received.iter().map(|(k, _)| k.as_str()).collect();
                let expected: std::collections::BTreeSet<String> =
                    rides.iter().map(|r| r.pu_location_id.to_string()).collect();
                assert_eq!(keys.len(), expected.len());
            }
            Format::Avro => {
                // Every ride decodes back to exactly what was sent.
                let mut got: Vec<serde_json::Value> = received
                    .iter()
                    .map(|(_, v)| serde_json::from_str(v).unwrap())
                    .collect();
                let mut sent: Vec<serde_json::Value> =
                    rides.iter().map(|r| r.avro_value()).collect();
                let order = |v: &serde_json::Value| v.to_string();
                got.sort_by_key(order);
                sent.sort_by_key(order);
                assert_eq!(got, sent);
            }
        }

        let second = consumer(&bootstrap, format).unwrap();
        let again = consume(
            &second,
            format,
            Some(&client),
            Duration::from_secs(5),
            usize::MAX,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(
            again, 0,
            "{format:?}: offsets were committed, nothing is new"
        );
    }
    runtime.block_on(registry.shutdown());
    runtime.block_on(broker.shutdown());
}
