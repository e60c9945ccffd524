//! The broker's background schedule applies retention and compaction without being asked.

mod common;

use std::time::{Duration, Instant};

use brook_broker::{Broker, BrokerConfig};
use brook_protocol::{Compression, RecordBatchBuilder};

fn batch(key: &str, value: &str) -> bytes::Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut b = RecordBatchBuilder::new(Compression::None);
    b.append(now, Some(key.as_bytes()), Some(value.as_bytes()), &[]);
    b.build()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_and_compaction_run_on_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let broker = Broker::start(BrokerConfig {
        retention_check_interval: Duration::from_millis(300),
        cleaner_backoff: Duration::from_millis(300),
        ..common::test_config(tmp.path())
    })
    .await
    .unwrap();
    let topics = &broker.context().topics;
    let small = |extra: (&str, &str)| {
        [
            ("segment.bytes".to_string(), "1024".to_string()),
            (extra.0.to_string(), extra.1.to_string()),
        ]
        .into_iter()
        .collect()
    };
    let bounded = topics
        .create("bounded", 1, small(("retention.bytes", "2048")), false)
        .unwrap();
    let compacted = topics
        .create("compacted", 1, small(("cleanup.policy", "compact")), false)
        .unwrap();
    for i in 0..100 {
        bounded.partitions[0]
            .log
            .append(&batch("k", &format!("{i:0>200}")))
            .unwrap();
        compacted.partitions[0]
            .log
            .append(&batch(&format!("key-{}", i % 5), &format!("{i:0>200}")))
            .unwrap();
    }
    // Measured before the schedule can have run (its first pass comes after one interval).
    let compacted_log = &compacted.partitions[0].log;
    let before = compacted_log.size_bytes();
    let bounded_log = &bounded.partitions[0].log;
    eventually("retention.bytes to move the log start offset", || {
        bounded_log.log_start_offset() > 0
    })
    .await;
    // Kafka's rule: the oldest segment goes while the log would still hold retention.bytes
    // without it, so what remains exceeds the limit by less than its oldest segment.
    eventually("retention to reach its fixed point", || {
        let segments = bounded_log.segments();
        let total: u64 = segments.iter().map(|s| s.size).sum();
        segments.len() == 1 || total - segments[0].size < 2048
    })
    .await;

    eventually("the cleaner to shrink the compacted topic", || {
        compacted_log.size_bytes() < before / 2
    })
    .await;
    broker.shutdown().await;
}
