//! A librdkafka (rdkafka crate) load generator for any Kafka-compatible broker, until
//! `brook bench` exists (issue 5). Prints MB/s, records/s and latency percentiles.
//!
//! ```text
//! cargo run --release -p brook --example kafka_bench -- produce 127.0.0.1:9092 bench 1000000 1024
//! cargo run --release -p brook --example kafka_bench -- consume 127.0.0.1:9092 bench 1000000
//! cargo run --release -p brook --example kafka_bench -- e2e     127.0.0.1:9092 bench-e2e 200000 1024 20000
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::producer::{DeliveryResult, ProducerContext};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

/// Counts failed deliveries so that a run that lost records is reported, not celebrated.
#[derive(Default)]
struct Deliveries(AtomicU64);

impl ClientContext for Deliveries {}
impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn producer(bootstrap: &str) -> BaseProducer<Deliveries> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "1")
        .set("linger.ms", "5")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("queue.buffering.max.messages", "1000000")
        .create_with_context(Deliveries::default())
        .expect("producer")
}

fn consumer(bootstrap: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "kafka-bench")
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .set("fetch.wait.max.ms", "10")
        .set("queued.max.messages.kbytes", "1048576")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    consumer
}

fn send<C: ProducerContext<DeliveryOpaque = ()>>(
    producer: &BaseProducer<C>,
    topic: &str,
    payload: &[u8],
) {
    loop {
        match producer.send(BaseRecord::<[u8], [u8]>::to(topic).payload(payload)) {
            Ok(()) => return,
            Err((_, _)) => {
                producer.poll(Duration::from_millis(1));
            }
        }
    }
}

fn report(what: &str, records: u64, bytes: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{what}: {records} records, {:.1} MB/s, {:.0} records/s, {:.2} s",
        bytes as f64 / secs / 1e6,
        records as f64 / secs,
        secs
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: kafka_bench produce|consume|e2e BOOTSTRAP TOPIC RECORDS [SIZE] [RATE]";
    let mode = args.get(1).expect(usage).as_str();
    let bootstrap = args.get(2).expect(usage);
    let topic = args.get(3).expect(usage);
    let records: u64 = args.get(4).expect(usage).parse().expect("RECORDS");
    let size: usize = args.get(5).map_or(1024, |s| s.parse().expect("SIZE"));
    let payload = vec![b'x'; size];
    match mode {
        "produce" => {
            let producer = producer(bootstrap);
            let start = Instant::now();
            for _ in 0..records {
                send(&producer, topic, &payload);
                producer.poll(Duration::ZERO);
            }
            producer.flush(Duration::from_secs(120)).unwrap();
            let elapsed = start.elapsed();
            let failed = producer.context().0.load(Ordering::Relaxed);
            assert_eq!(failed, 0, "{failed} records were not delivered");
            report("produce", records, records * size as u64, elapsed);
        }
        "consume" => {
            let consumer = consumer(bootstrap, topic);
            let (mut count, mut bytes) = (0u64, 0u64);
            let mut start = None;
            while count < records {
                if let Some(message) = consumer.poll(Duration::from_secs(10)) {
                    let message = message.unwrap();
                    start.get_or_insert_with(Instant::now);
                    bytes += message.payload_len() as u64;
                    count += 1;
                } else {
                    panic!("no data after {count} records");
                }
            }
            report("consume", count, bytes, start.unwrap().elapsed());
        }
        "e2e" => {
            let rate: u64 = args.get(6).map_or(20_000, |s| s.parse().expect("RATE"));
            let producer: BaseProducer = ClientConfig::new()
                .set("bootstrap.servers", bootstrap.as_str())
                .set("acks", "1")
                .set("linger.ms", "0")
                .create()
                .unwrap();
            // One warm-up record creates the topic (auto-creation) before the consumer starts.
            send(&producer, topic, &payload);
            producer.flush(Duration::from_secs(10)).unwrap();
            let consumer = consumer(bootstrap, topic);
            // Start from the end: only this run's records count.
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(topic, 0, Offset::End)
                .unwrap();
            consumer.assign(&assignment).unwrap();
            std::thread::sleep(Duration::from_secs(1));
            let origin = Instant::now();
            let mut latencies = Vec::with_capacity(records as usize);
            let mut sent = 0u64;
            while (latencies.len() as u64) < records {
                let due = origin + Duration::from_secs_f64(sent as f64 / rate as f64);
                if sent < records && Instant::now() >= due {
                    let mut body = (origin.elapsed().as_nanos() as u64).to_be_bytes().to_vec();
                    body.resize(size.max(8), b'x');
                    send(&producer, topic, &body);
                    sent += 1;
                }
                producer.poll(Duration::ZERO);
                if let Some(message) = consumer.poll(Duration::ZERO) {
                    let message = message.unwrap();
                    let sent_at =
                        u64::from_be_bytes(message.payload().unwrap()[..8].try_into().unwrap());
                    latencies.push(origin.elapsed().as_nanos() as u64 - sent_at);
                }
            }
            latencies.sort_unstable();
            let pct = |p: f64| {
                latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64
                    / 1e6
            };
            println!(
                "e2e at {rate} msg/s: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
                pct(0.50),
                pct(0.95),
                pct(0.99),
                pct(0.999),
                *latencies.last().unwrap() as f64 / 1e6
            );
        }
        _ => panic!("{usage}"),
    }
}
