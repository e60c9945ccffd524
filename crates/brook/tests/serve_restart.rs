//! `brook serve` as a process: produce, stop (SIGTERM, then SIGKILL after the producer's
//! flush), start again, consume everything.

mod common;

use std::time::Duration;

use common::Server;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

fn produce(server: &Server, from: usize, count: usize) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", server.addr.to_string())
        .set("acks", "all")
        .create()
        .unwrap();
    for i in from..from + count {
        let value = format!("ride-{i}");
        loop {
            match producer.send(BaseRecord::to("rides").key("1").payload(&value)) {
                Ok(()) => break,
                Err((e, _)) => {
                    assert_eq!(
                        e.rdkafka_error_code(),
                        Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    );
                    producer.poll(Duration::from_millis(10));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(30)).unwrap();
}

fn consume(server: &Server, count: usize) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", server.addr.to_string())
        .set("group.id", "unused")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("rides", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut values = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while values.len() < count && std::time::Instant::now() < deadline {
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            values.push(String::from_utf8(m.unwrap().payload().unwrap().to_vec()).unwrap());
        }
    }
    values
}

fn expected(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("ride-{i}")).collect()
}

#[test]
fn data_survives_sigterm_and_sigkill_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let port = server.addr.port();
    produce(&server, 0, 10_000);
    assert!(server.terminate(), "brook serve exits 0 on SIGTERM");
    assert!(
        tmp.path().join("rides-0/.brook-clean-shutdown").exists(),
        "graceful shutdown closes logs"
    );

    let server = Server::start_on(tmp.path(), port);
    assert_eq!(consume(&server, 10_000), expected(10_000));
    produce(&server, 10_000, 10_000);
    server.kill();

    let server = Server::start_on(tmp.path(), port);
    assert_eq!(consume(&server, 20_000), expected(20_000));
}
