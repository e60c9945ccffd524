//! Compaction: latest value per key, original offsets, tombstone expiry, concurrent appends.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use brook_log::{CleanupPolicy, LogConfig, ManualClock, PartitionLog};
use brook_protocol::{Compression, RecordBatchBuilder};
use bytes::Bytes;
use common::batches;

const DAY: i64 = 24 * 3600 * 1000;

fn compacted_config() -> LogConfig {
    LogConfig {
        cleanup_policy: CleanupPolicy::Compact,
        segment_bytes: 4096,
        ..LogConfig::default()
    }
}

/// One batch of (key, value) records; `None` value = tombstone.
fn kv_batch(codec: Compression, timestamp: i64, records: &[(String, Option<String>)]) -> Bytes {
    let mut builder = RecordBatchBuilder::new(codec);
    for (key, value) in records {
        builder.append(
            timestamp,
            Some(key.as_bytes()),
            value.as_deref().map(str::as_bytes),
            &[],
        );
    }
    builder.build()
}

/// Every record in the log: offset → (key, value).
fn contents(log: &PartitionLog) -> BTreeMap<i64, (String, Option<String>)> {
    let mut out = BTreeMap::new();
    let mut offset = log.log_start_offset();
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        if read.records.is_empty() {
            break;
        }
        for batch in batches(&read.records) {
            for r in batch.records().unwrap() {
                let text = |b: Option<Bytes>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
                out.insert(r.offset, (text(r.key).unwrap(), text(r.value)));
            }
            offset = batch.next_offset();
        }
    }
    out
}

#[test]
fn keeps_the_latest_value_per_key_at_its_original_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(10 * DAY));
    let log =
        PartitionLog::open_with_clock(dir.path().join("c-0"), compacted_config(), clock).unwrap();
    let mut expected_latest: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut offset = 0;
    for round in 0..40 {
        let codec = Compression::ALL[round % 5];
        let records: Vec<_> = (0..10)
            .map(|i| {
                (
                    format!("key-{}", (round * 3 + i) % 13),
                    Some(format!("value-{round}-{i}-{}", "x".repeat(40))),
                )
            })
            .collect();
        log.append(&kv_batch(codec, 10 * DAY, &records)).unwrap();
        for (key, value) in records {
            expected_latest.insert(key, (offset, value.unwrap()));
            offset += 1;
        }
    }
    let before = contents(&log);
    let active_base = log.segments().last().unwrap().base_offset;
    let outcome = log.compact().unwrap();
    assert!(
        outcome.segments_cleaned > 0 && outcome.records_removed > 0,
        "{outcome:?}"
    );
    assert!(outcome.bytes_after < outcome.bytes_before);
    let after = contents(&log);

    // Closed segments hold only records that are the latest of their key among closed segments;
    // the active segment is untouched; every surviving record keeps its offset and value.
    let mut latest_closed: BTreeMap<&str, i64> = BTreeMap::new();
    for (off, (key, _)) in before.range(..active_base) {
        latest_closed.insert(key, *off);
    }
    let expected: BTreeMap<i64, (String, Option<String>)> = before
        .iter()
        .filter(|(off, (key, _))| **off >= active_base || latest_closed[key.as_str()] == **off)
        .map(|(o, kv)| (*o, kv.clone()))
        .collect();
    assert_eq!(after, expected);
    for (key, (off, value)) in &expected_latest {
        assert_eq!(
            after.get(off),
            Some(&(key.clone(), Some(value.clone()))),
            "{key}"
        );
    }

    // A reopened log sees the same (indexes were rewritten for the swapped segments).
    log.close().unwrap();
    drop(log);
    let log = PartitionLog::open(dir.path().join("c-0"), compacted_config()).unwrap();
    assert!(
        log.recovery_report().rebuilt_indexes.is_empty(),
        "{:?}",
        log.recovery_report()
    );
    assert_eq!(contents(&log), expected);
    assert_eq!(log.log_end_offset(), 400);
}

#[test]
fn tombstones_survive_delete_retention_then_go() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(100 * DAY));
    let log =
        PartitionLog::open_with_clock(dir.path().join("c-0"), compacted_config(), clock.clone())
            .unwrap();
    let t = 100 * DAY;
    let rec = |k: &str, v: Option<&str>| (k.to_string(), v.map(str::to_string));
    log.append(&kv_batch(
        Compression::None,
        t,
        &[rec("a", Some("1")), rec("b", Some("1"))],
    ))
    .unwrap();
    log.append(&kv_batch(
        Compression::Gzip,
        t,
        &[rec("a", None), rec("b", Some("2"))],
    ))
    .unwrap();
    log.roll().unwrap();
    log.append(&kv_batch(Compression::None, t, &[rec("c", Some("1"))]))
        .unwrap();

    log.compact().unwrap();
    let first = contents(&log);
    assert_eq!(
        first.get(&2),
        Some(&rec("a", None)),
        "tombstone kept within delete.retention.ms"
    );
    assert!(!first.contains_key(&0) && !first.contains_key(&1));
    assert_eq!(first.get(&3), Some(&rec("b", Some("2"))));

    clock.advance(DAY + 1);
    log.compact().unwrap();
    let second = contents(&log);
    assert!(
        !second.contains_key(&2),
        "tombstone removed after delete.retention.ms: {second:?}"
    );
    assert_eq!(second.keys().copied().collect::<Vec<_>>(), [3, 4]);
    assert_eq!(log.log_end_offset(), 5);
}

#[test]
fn delete_policy_logs_are_not_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 4096,
        ..LogConfig::default()
    };
    let log = PartitionLog::open(dir.path().join("d-0"), config).unwrap();
    for _ in 0..3 {
        log.append(&kv_batch(
            Compression::None,
            0,
            &[("k".into(), Some("v".into()))],
        ))
        .unwrap();
    }
    log.roll().unwrap();
    assert_eq!(log.compact().unwrap().segments_cleaned, 0);
    assert_eq!(contents(&log).len(), 3);
}

#[test]
fn appends_and_reads_continue_while_compaction_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 64 * 1024,
        ..compacted_config()
    };
    let log = Arc::new(PartitionLog::open(dir.path().join("c-0"), config).unwrap());
    for round in 0..400 {
        let records: Vec<_> = (0..50)
            .map(|i| {
                (
                    format!("key-{}", i % 100),
                    Some(format!("{round}-{i}-{}", "y".repeat(60))),
                )
            })
            .collect();
        log.append(&kv_batch(Compression::Lz4, 0, &records))
            .unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let cleaner = {
        let (log, done) = (log.clone(), done.clone());
        std::thread::spawn(move || {
            let outcome = log.compact().unwrap();
            done.store(true, Ordering::SeqCst);
            outcome
        })
    };
    let mut appended = 0;
    while !done.load(Ordering::SeqCst) {
        log.append(&kv_batch(
            Compression::None,
            0,
            &[("live".into(), Some(appended.to_string()))],
        ))
        .unwrap();
        log.read(0, 1 << 16).unwrap();
        appended += 1;
        during.fetch_add(1, Ordering::SeqCst);
    }
    let outcome = cleaner.join().unwrap();
    assert!(outcome.segments_cleaned > 0, "{outcome:?}");
    assert!(
        during.load(Ordering::SeqCst) > 0,
        "no append completed while the cleaner ran"
    );
    // Every live append is still there with contiguous offsets after the cleaned data.
    let all = contents(&log);
    let live: Vec<_> = all
        .values()
        .filter(|(k, _)| k == "live")
        .map(|(_, v)| v.clone().unwrap())
        .collect();
    assert_eq!(live.len(), appended);
    assert_eq!(log.log_end_offset(), 400 * 50 + appended as i64);
}

#[test]
fn an_idempotent_producers_newest_batch_survives_as_an_empty_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p-0");
    let log = PartitionLog::open(&path, compacted_config()).unwrap();
    let producer_batch = |first_seq: i32| {
        let mut builder = RecordBatchBuilder::new(Compression::None).producer(77, 0, first_seq);
        for key in ["a", "b"] {
            builder.append(1_000, Some(key.as_bytes()), Some(b"from-producer"), &[]);
        }
        builder.build()
    };
    log.append(&producer_batch(0)).unwrap();
    let newest = log.append(&producer_batch(2)).unwrap();
    // Plain batches supersede both keys until the producer's batches sit in closed segments.
    let filler: Vec<_> = ["a", "b"]
        .iter()
        .map(|k| (k.to_string(), Some("y".repeat(300))))
        .collect();
    while log.segments().len() < 3 {
        log.append(&kv_batch(Compression::None, 2_000, &filler))
            .unwrap();
    }
    let outcome = log.compact().unwrap();
    assert!(outcome.records_removed >= 4, "{outcome:?}");

    let producer_batches = |log: &PartitionLog| {
        let read = log.read(log.log_start_offset(), 1 << 20).unwrap();
        batches(&read.records)
            .into_iter()
            .filter(|b| b.producer_id() == 77)
            .map(|b| (b.base_offset(), b.last_offset(), b.records_count()))
            .collect::<Vec<_>>()
    };
    // The first batch is gone; the newest stays, with no records but its offsets.
    assert_eq!(
        producer_batches(&log),
        vec![(newest.base_offset, newest.last_offset, 0)]
    );
    assert!(
        !contents(&log)
            .values()
            .any(|(_, v)| v.as_deref() == Some("from-producer"))
    );

    // Rebuilt from the log after a reopen, the producer state still knows that batch: a retry
    // of it is answered with its original offsets, and the next sequence is accepted.
    log.close().unwrap();
    drop(log);
    let log = PartitionLog::open(&path, compacted_config()).unwrap();
    let retry = log.append(&producer_batch(2)).unwrap();
    assert_eq!(
        (retry.base_offset, retry.last_offset),
        (newest.base_offset, newest.last_offset)
    );
    assert!(log.append(&producer_batch(4)).is_ok());
}
