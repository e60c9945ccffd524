//! A broker for streams tests (Brook's, in process) and topic creation, shared by the
//! runtime tests here and the course examples' tests (`examples/rides`, included by path).
#![allow(dead_code)]

use std::time::Duration;

use brook_broker::{Broker, BrokerConfig};
use rdkafka::ClientConfig;

/// A broker on a free loopback port with its data in `dir`, groups forming at once.
pub async fn broker(dir: &std::path::Path) -> Broker {
    Broker::start(BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        group_initial_rebalance_delay: Duration::ZERO,
        ..BrokerConfig::default()
    })
    .await
    .unwrap()
}

/// Creates `name` with `partitions` partitions (from a blocking thread).
pub fn create_topic(bootstrap: &str, name: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime
        .block_on(admin.create_topics(
            &[NewTopic::new(name, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        ))
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
}
