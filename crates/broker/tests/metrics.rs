//! The Prometheus endpoint reflects produced and fetched traffic.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use brook_broker::{Broker, BrokerConfig};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_traffic_per_topic_and_api() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = Broker::start(BrokerConfig {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..common::test_config(tmp.path())
    })
    .await
    .unwrap();
    broker
        .context()
        .topics
        .create("metered", 1, Default::default(), false)
        .unwrap();
    let bootstrap = broker.local_addr().to_string();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("linger.ms", "0")
        .create()
        .unwrap();
    for i in 0..50 {
        producer
            .send(
                FutureRecord::to("metered")
                    .key("k")
                    .payload(&format!("value-{i}")),
                Duration::from_secs(5),
            )
            .await
            .unwrap();
    }
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "unused")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("metered", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut got = 0;
    while got < 50 {
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            m.unwrap();
            got += 1;
        }
    }
    let text = tokio::task::spawn_blocking({
        let addr = broker.metrics_addr().unwrap();
        move || scrape(addr)
    })
    .await
    .unwrap();
    assert_eq!(
        value(&text, "brook_records_in_total{topic=\"metered\"}"),
        50.0
    );
    assert_eq!(
        value(&text, "brook_records_out_total{topic=\"metered\"}"),
        50.0
    );
    let bytes_in = value(&text, "brook_bytes_in_total{topic=\"metered\"}");
    assert!(bytes_in > 50.0 * 70.0, "{bytes_in}");
    assert_eq!(
        value(&text, "brook_bytes_out_total{topic=\"metered\"}"),
        bytes_in
    );
    assert!(value(&text, "brook_requests_total{api=\"Produce\"}") >= 50.0);
    assert!(value(&text, "brook_request_duration_seconds_count{api=\"Fetch\"}") >= 1.0);
    assert!(value(&text, "brook_open_connections") >= 2.0);
    assert_eq!(
        value(
            &text,
            "brook_partition_size_bytes{topic=\"metered\",partition=\"0\"}"
        ),
        bytes_in
    );
    drop(consumer);
    drop(producer);
    broker.shutdown().await;
}
