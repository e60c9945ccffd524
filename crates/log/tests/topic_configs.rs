//! The topic configs beyond retention and segments, with the effect Kafka gives them on one
//! node: `compression.type` recompresses appended batches, compacted topics refuse records
//! without keys, `min.cleanable.dirty.ratio` and `max.compaction.lag.ms` decide when the
//! cleaner runs, `segment.jitter.ms` rolls segments early; and the configs that change nothing
//! here are validated and stored as Kafka does.

mod common;

use std::sync::Arc;

use brook_log::config::{LOG_CONFIG_NAMES, TopicCompression, is_inert};
use brook_log::{AppendError, CleanupPolicy, ConfigError, LogConfig, ManualClock, PartitionLog};
use brook_protocol::{Compression, RecordBatchBuilder};
use bytes::Bytes;
use common::batches;

const DAY: i64 = 24 * 3600 * 1000;

fn config(properties: &[(&str, &str)]) -> LogConfig {
    LogConfig::from_properties(properties.iter().copied()).unwrap()
}

fn keyed_batch(codec: Compression, timestamp: i64, keys: &[&str]) -> Bytes {
    idempotent_batch(codec, timestamp, keys, None)
}

/// With `sequence`, from idempotent producer 77, epoch 3.
fn idempotent_batch(
    codec: Compression,
    timestamp: i64,
    keys: &[&str],
    sequence: Option<i32>,
) -> Bytes {
    let mut builder = RecordBatchBuilder::new(codec);
    if let Some(sequence) = sequence {
        builder = builder.producer(77, 3, sequence);
    }
    for key in keys {
        let value = format!("{key}-{}", "ride,".repeat(50));
        builder.append(
            timestamp,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &[(b"h", Some(b"v"))],
        );
    }
    builder.build()
}

#[test]
fn compression_type_recompresses_appended_batches_and_keeps_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let log = PartitionLog::open(
        dir.path().join("gz-0"),
        config(&[
            ("compression.type", "gzip"),
            ("compression.gzip.level", "9"),
        ]),
    )
    .unwrap();
    let produced = idempotent_batch(Compression::None, 1_000, &["a", "b", "c"], Some(0));
    let info = log.append(&produced).unwrap();
    assert_eq!((info.base_offset, info.last_offset), (0, 2));
    // A batch already in gzip is stored as it came.
    let already = idempotent_batch(Compression::Gzip, 2_000, &["d"], Some(3));
    log.append(&already).unwrap();

    let read = log.read(0, 1 << 20).unwrap();
    let stored = batches(&read.records);
    assert_eq!(stored.len(), 2);
    for batch in &stored {
        assert_eq!(batch.attributes().compression(), Ok(Compression::Gzip));
        assert_eq!((batch.producer_id(), batch.producer_epoch()), (77, 3));
    }
    assert!(stored[0].size() < produced.len(), "smaller once compressed");
    let original = brook_protocol::RecordBatch::new(produced).unwrap();
    let before = original.records().unwrap();
    let after = stored[0].records().unwrap();
    assert_eq!(after.len(), 3);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (&b.key, &b.value, b.timestamp),
            (&a.key, &a.value, a.timestamp)
        );
        assert_eq!(b.headers, a.headers);
    }
    assert_eq!(stored[1].as_bytes()[61..], already[61..], "payload kept");

    // "uncompressed" decompresses; "producer" (the default) keeps every codec.
    let plain = PartitionLog::open(
        dir.path().join("plain-0"),
        config(&[("compression.type", "uncompressed")]),
    )
    .unwrap();
    plain
        .append(&keyed_batch(Compression::Zstd, 1_000, &["a"]))
        .unwrap();
    let read = plain.read(0, 1 << 20).unwrap();
    let batch = batches(&read.records).remove(0);
    assert_eq!(batch.attributes().compression(), Ok(Compression::None));
}

#[test]
fn compacted_topics_refuse_records_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = PartitionLog::open(
        dir.path().join("c-0"),
        config(&[("cleanup.policy", "compact")]),
    )
    .unwrap();
    let mut builder = RecordBatchBuilder::new(Compression::Lz4);
    builder.append(1, Some(b"k"), Some(b"v"), &[]);
    builder.append(1, None, Some(b"no key"), &[]);
    builder.append(1, None, Some(b"no key either"), &[]);
    match log.append(&builder.build()) {
        Err(AppendError::KeylessRecords { record_indexes, .. }) => {
            assert_eq!(record_indexes, vec![1, 2])
        }
        other => panic!("expected KeylessRecords, got {other:?}"),
    }
    assert_eq!(log.log_end_offset(), 0, "nothing of the batch was written");
    log.append(&keyed_batch(Compression::None, 1, &["k"]))
        .unwrap();
}

/// An empty compacted log with small segments and `extra` configs.
fn filled(dir: &std::path::Path, clock: Arc<ManualClock>, extra: &[(&str, &str)]) -> PartitionLog {
    let mut properties = vec![("cleanup.policy", "compact"), ("segment.bytes", "20000")];
    properties.extend_from_slice(extra);
    PartitionLog::open_with_clock(dir.join("c-0"), config(&properties), clock).unwrap()
}

/// `rounds` batches of ten new keys each plus one key ("hot") that every batch rewrites, so
/// that a cleaner pass always has something to remove but keeps most bytes.
fn append_rounds(log: &PartitionLog, first_round: usize, rounds: usize, timestamp: i64) {
    for round in first_round..first_round + rounds {
        let mut keys: Vec<String> = (0..10).map(|k| format!("key-{round}-{k}")).collect();
        keys.push("hot".to_string());
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        log.append(&keyed_batch(Compression::None, timestamp, &keys))
            .unwrap();
    }
}

#[test]
fn the_dirty_ratio_and_the_max_compaction_lag_decide_when_the_cleaner_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(10 * DAY));
    let log = filled(
        dir.path(),
        clock.clone(),
        &[
            ("min.cleanable.dirty.ratio", "0.5"),
            ("max.compaction.lag.ms", "3600000"),
        ],
    );
    append_rounds(&log, 0, 60, 10 * DAY);
    let first = log.compact().unwrap();
    assert!(
        first.segments_cleaned > 0,
        "a log never cleaned is all dirty"
    );

    // A tenth more: under half of the cleanable bytes are dirty, so nothing runs...
    append_rounds(&log, 60, 8, 10 * DAY);
    log.roll().unwrap();
    assert_eq!(log.compact().unwrap().segments_cleaned, 0);
    // ...until the oldest dirty record waited max.compaction.lag.ms...
    clock.advance(3_600_000);
    assert!(log.compact().unwrap().segments_cleaned > 0);
    // ...or until the dirty bytes reach the ratio.
    append_rounds(&log, 68, 80, 10 * DAY);
    log.roll().unwrap();
    assert!(log.compact().unwrap().segments_cleaned > 0);

    // A ratio of 0 cleans whenever anything new rolled.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(10 * DAY));
    let log = filled(dir.path(), clock, &[("min.cleanable.dirty.ratio", "0")]);
    append_rounds(&log, 0, 60, 10 * DAY);
    log.compact().unwrap();
    append_rounds(&log, 60, 8, 10 * DAY);
    log.roll().unwrap();
    assert!(log.compact().unwrap().segments_cleaned > 0);
}

#[test]
fn segment_jitter_rolls_segments_early_but_never_after_segment_ms() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(10 * DAY));
    let mut rolled_early = 0;
    for p in 0..20 {
        let log = PartitionLog::open_with_clock(
            dir.path().join(format!("j-{p}")),
            config(&[("segment.ms", "100000"), ("segment.jitter.ms", "90000")]),
            clock.clone(),
        )
        .unwrap();
        log.append(&keyed_batch(Compression::None, 10 * DAY, &["a"]))
            .unwrap();
        // Half of segment.ms later, a segment with jitter above half rolls on the next append.
        let created = 10 * DAY;
        clock.set(created + 50_000);
        log.append(&keyed_batch(Compression::None, 10 * DAY, &["b"]))
            .unwrap();
        if log.segments().len() > 1 {
            rolled_early += 1;
        }
        clock.set(created + 100_000);
        log.append(&keyed_batch(Compression::None, 10 * DAY, &["c"]))
            .unwrap();
        assert!(
            log.segments().len() >= 2,
            "rolled by segment.ms at the latest"
        );
        clock.set(created);
    }
    assert!(
        (1..20).contains(&rolled_early),
        "jitter differs between partitions: {rolled_early} of 20 rolled early"
    );
}

#[test]
fn max_compaction_lag_caps_how_long_a_compacted_segment_stays_active() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(10 * DAY));
    let log = filled(
        dir.path(),
        clock.clone(),
        &[("max.compaction.lag.ms", "60000")],
    );
    log.append(&keyed_batch(Compression::None, 10 * DAY, &["a"]))
        .unwrap();
    clock.advance(60_000);
    log.append(&keyed_batch(Compression::None, 10 * DAY, &["b"]))
        .unwrap();
    assert_eq!(log.segments().len(), 2);
}

#[test]
fn every_kafka_topic_config_is_accepted_validated_and_described() {
    let defaults = LogConfig::default();
    for name in LOG_CONFIG_NAMES {
        let value = defaults
            .get(name)
            .unwrap_or_else(|| panic!("{name} described"));
        let mut config = LogConfig::default();
        config.set(name, &value).unwrap();
        assert_eq!(config, defaults, "{name}");
    }
    for (name, value) in [
        ("compression.type", "snappy"),
        ("compression.zstd.level", "-5"),
        ("min.cleanable.dirty.ratio", "0.25"),
        ("min.insync.replicas", "2"),
        ("preallocate", "true"),
        ("unclean.leader.election.enable", "true"),
        ("local.retention.ms", "-2"),
        ("local.retention.bytes", "1000"),
        ("leader.replication.throttled.replicas", "0:1,1:1"),
        ("follower.replication.throttled.replicas", "*"),
        ("message.format.version", "2.8-IV1"),
        ("file.delete.delay.ms", "0"),
        ("segment.jitter.ms", "1000"),
        ("max.compaction.lag.ms", "1"),
        ("remote.log.copy.disable", "true"),
    ] {
        let config = config(&[(name, value)]);
        assert_eq!(config.get(name).as_deref(), Some(value), "{name}");
    }
    assert_eq!(defaults.get("min.cleanable.dirty.ratio").unwrap(), "0.5");
    assert_eq!(
        config(&[("min.cleanable.dirty.ratio", "1")])
            .get("min.cleanable.dirty.ratio")
            .unwrap(),
        "1.0"
    );
    assert_eq!(defaults.get("compression.type").unwrap(), "producer");
    assert_eq!(
        config(&[("compression.type", "uncompressed")]).compression_type,
        TopicCompression::Codec(Compression::None)
    );
    assert!(is_inert("preallocate") && !is_inert("compression.type"));

    // An empty cleanup.policy list is valid (Kafka 4.x): neither delete nor compact.
    let keep = config(&[("cleanup.policy", "")]);
    assert_eq!(keep.cleanup_policy, CleanupPolicy::Keep);
    assert_eq!(keep.get("cleanup.policy").unwrap(), "");
    assert!(!keep.cleanup_policy.deletes() && !keep.cleanup_policy.compacts());

    for (name, value) in [
        ("compression.type", "brotli"),
        ("compression.gzip.level", "0"),
        ("compression.gzip.level", "10"),
        ("compression.lz4.level", "18"),
        ("compression.zstd.level", "23"),
        ("min.cleanable.dirty.ratio", "1.5"),
        ("min.insync.replicas", "0"),
        ("max.compaction.lag.ms", "0"),
        ("preallocate", "yes"),
        ("local.retention.ms", "-3"),
        ("leader.replication.throttled.replicas", "0-1"),
        ("message.format.version", "new"),
        ("cleanup.policy", "delete,shred"),
        // Kafka refuses it while the broker has no remote storage; so does Brook.
        ("remote.storage.enable", "true"),
    ] {
        match LogConfig::from_properties([(name, value)]) {
            Err(ConfigError::InvalidValue { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}={value} accepted: {other:?}"),
        }
    }
}
