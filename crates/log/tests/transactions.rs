//! Transactions in the partition log: the last stable offset, COMMIT / ABORT markers,
//! read_committed reads with their aborted transactions, the `.txnindex` files (Kafka's
//! format, rebuilt at open), ListOffsets at read_committed, and compaction of aborted data.

use std::sync::Arc;

use brook_log::txn_index::{AbortedTxn, read_file};
use brook_log::{Isolation, LogConfig, ManualClock, OffsetSpec, PartitionLog};
use brook_protocol::control::{ControlType, EndTransactionMarker};
use brook_protocol::{Batches, Compression, RecordBatchBuilder};
use bytes::Bytes;

/// A transactional batch of `keys` from `producer` (epoch 0) starting at `sequence`.
fn txn_batch(producer: i64, sequence: i32, keys: &[&str]) -> Bytes {
    let mut builder = RecordBatchBuilder::new(Compression::None)
        .producer(producer, 0, sequence)
        .transactional(true);
    for key in keys {
        builder.append(1_000, Some(key.as_bytes()), Some(b"v"), &[]);
    }
    builder.build()
}

fn marker(control_type: ControlType) -> EndTransactionMarker {
    EndTransactionMarker {
        control_type,
        coordinator_epoch: 0,
    }
}

fn offsets_of(records: &Bytes) -> Vec<(i64, i64, bool)> {
    Batches::new(records.clone())
        .map(|b| b.unwrap())
        .map(|b| {
            (
                b.base_offset(),
                b.last_offset(),
                b.attributes().is_control(),
            )
        })
        .collect()
}

fn open(dir: &std::path::Path, config: LogConfig) -> PartitionLog {
    PartitionLog::open_with_clock(dir, config, Arc::new(ManualClock::new(1_000))).unwrap()
}

#[test]
fn the_stable_offset_follows_open_transactions_and_aborts_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    // Producer 1: offsets 0-1; producer 2: 2-3; producer 1 again: 4.
    log.append(&txn_batch(1, 0, &["a", "b"])).unwrap();
    log.append(&txn_batch(2, 0, &["c", "d"])).unwrap();
    log.append(&txn_batch(1, 2, &["e"])).unwrap();
    assert_eq!(log.high_watermark(), 5);
    assert_eq!(log.last_stable_offset(), 0);
    assert!(log.has_open_transaction(1) && log.has_open_transaction(2));

    // Nothing is stable yet: read_committed returns nothing, read_uncommitted everything.
    let committed = log
        .read_isolated(0, 1 << 20, Isolation::ReadCommitted)
        .unwrap();
    assert!(committed.records.is_empty());
    assert_eq!(committed.last_stable_offset, 0);
    assert_eq!(committed.aborted_transactions, Some(Vec::new()));
    let all = log.read(0, 1 << 20).unwrap();
    assert_eq!(offsets_of(&all.records).len(), 3);
    assert_eq!(all.aborted_transactions, None);

    // Producer 1 aborts (marker at 5): producer 2's transaction still holds the LSO at 2.
    let at = log.append_marker(1, 0, marker(ControlType::Abort)).unwrap();
    assert_eq!(at, 5);
    assert_eq!(log.last_stable_offset(), 2);
    let committed = log
        .read_isolated(0, 1 << 20, Isolation::ReadCommitted)
        .unwrap();
    assert_eq!(offsets_of(&committed.records), vec![(0, 1, false)]);
    let aborted = AbortedTxn {
        producer_id: 1,
        first_offset: 0,
        last_offset: 5,
        last_stable_offset: 2,
    };
    assert_eq!(committed.aborted_transactions, Some(vec![aborted]));

    // Producer 2 commits (marker at 6): everything is stable.
    log.append_marker(2, 0, marker(ControlType::Commit))
        .unwrap();
    assert_eq!(log.last_stable_offset(), 7);
    let committed = log
        .read_isolated(0, 1 << 20, Isolation::ReadCommitted)
        .unwrap();
    assert_eq!(
        offsets_of(&committed.records),
        vec![
            (0, 1, false),
            (2, 3, false),
            (4, 4, false),
            (5, 5, true),
            (6, 6, true)
        ]
    );
    assert_eq!(committed.aborted_transactions, Some(vec![aborted]));
    // A read starting after the aborted transaction does not report it.
    let later = log
        .read_isolated(6, 1 << 20, Isolation::ReadCommitted)
        .unwrap();
    assert_eq!(later.aborted_transactions, Some(Vec::new()));

    // ListOffsets: Latest at read_committed is the LSO.
    log.append(&txn_batch(3, 0, &["f"])).unwrap();
    let latest = |isolation| {
        log.lookup_offset_isolated(OffsetSpec::Latest, isolation)
            .unwrap()
            .unwrap()
            .offset
    };
    assert_eq!(latest(Isolation::ReadUncommitted), 8);
    assert_eq!(latest(Isolation::ReadCommitted), 7);

    // The index file holds Kafka's 34-byte entry.
    let index = dir.path().join("00000000000000000000.txnindex");
    assert_eq!(std::fs::read(&index).unwrap(), aborted.encode());

    // Producers as DescribeProducers sees them.
    let producers = log.producers();
    assert_eq!(producers.len(), 3);
    assert_eq!(producers[2].producer_id, 3);
    assert_eq!(producers[2].open_txn_start_offset, 7);
    assert_eq!(producers[0].open_txn_start_offset, -1);
    assert_eq!(producers[0].last_sequence, 2);
}

#[test]
fn open_rebuilds_open_transactions_and_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::from_properties([("segment.bytes", "300")]).unwrap();
    {
        let log = open(dir.path(), config.clone());
        log.append(&txn_batch(1, 0, &["a", "b"])).unwrap();
        log.append(&txn_batch(2, 0, &["c"])).unwrap();
        log.append_marker(1, 0, marker(ControlType::Abort)).unwrap();
        log.append(&txn_batch(1, 2, &["d"])).unwrap();
        log.append_marker(1, 0, marker(ControlType::Abort)).unwrap();
        // Producer 2 stays open; no close(), as after a crash.
    }
    let indexes: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txnindex"))
        .collect();
    assert!(!indexes.is_empty());
    let before: Vec<AbortedTxn> = indexes.iter().flat_map(|p| read_file(p).unwrap()).collect();
    assert_eq!(before.len(), 2);
    // Lose the index files: open writes them again from the log.
    for path in &indexes {
        std::fs::remove_file(path).unwrap();
    }
    let log = open(dir.path(), config);
    let after: Vec<AbortedTxn> = indexes.iter().flat_map(|p| read_file(p).unwrap()).collect();
    assert_eq!(after, before);
    assert_eq!(log.last_stable_offset(), 2, "producer 2 is still open at 2");
    assert!(log.has_open_transaction(2) && !log.has_open_transaction(1));
    let committed = log
        .read_isolated(0, 1 << 20, Isolation::ReadCommitted)
        .unwrap();
    assert_eq!(offsets_of(&committed.records), vec![(0, 1, false)]);
    assert_eq!(
        committed.aborted_transactions.unwrap()[0],
        AbortedTxn {
            producer_id: 1,
            first_offset: 0,
            last_offset: 3,
            last_stable_offset: 2
        }
    );
    // A stale-epoch marker is refused; the coordinator's epoch bump is accepted.
    log.append_marker(2, 1, marker(ControlType::Commit))
        .unwrap();
    assert!(log.append_marker(2, 0, marker(ControlType::Abort)).is_err());
    assert_eq!(log.last_stable_offset(), log.high_watermark());
}

#[test]
fn clients_cannot_write_markers() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let bytes = brook_protocol::control::marker_batch(1, 0, marker(ControlType::Commit), 1);
    assert!(matches!(
        log.append(&bytes),
        Err(brook_log::AppendError::ControlBatch { .. })
    ));
}

#[test]
fn compaction_removes_aborted_data_and_spares_open_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig::from_properties([
        ("cleanup.policy", "compact"),
        ("segment.bytes", "200"),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("delete.retention.ms", "86400000"),
    ])
    .unwrap();
    let log = open(dir.path(), config);
    // Committed value for k at 0, aborted newer value for k at 2 (marker 3).
    log.append(&txn_batch(1, 0, &["k"])).unwrap();
    log.append_marker(1, 0, marker(ControlType::Commit))
        .unwrap();
    log.append(&txn_batch(1, 1, &["k"])).unwrap();
    log.append_marker(1, 0, marker(ControlType::Abort)).unwrap();
    // Producer 2 opens a transaction that stays open, then more segments roll past it.
    log.append(&txn_batch(2, 0, &["j"])).unwrap();
    for i in 0..6 {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(1_000, Some(format!("x{i}").as_bytes()), Some(b"v"), &[]);
        log.append(&builder.build()).unwrap();
    }
    assert!(log.segments().len() > 3);
    let outcome = log.compact().unwrap();
    assert!(outcome.records_removed >= 1, "{outcome:?}");
    let all = log.read(0, 1 << 20).unwrap();
    let mut values = Vec::new();
    let mut offset = 0;
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        if read.records.is_empty() {
            break;
        }
        for batch in Batches::new(read.records) {
            let batch = batch.unwrap();
            offset = batch.next_offset();
            if !batch.attributes().is_control() {
                for r in batch.records().unwrap() {
                    values.push((
                        String::from_utf8(r.key.unwrap().to_vec()).unwrap(),
                        r.offset,
                    ));
                }
            }
        }
    }
    drop(all);
    // The committed k survives (the aborted one neither replaced it nor stayed), and the open
    // transaction's j (offset 4) is untouched.
    assert!(values.contains(&("k".to_string(), 0)), "{values:?}");
    assert!(!values.contains(&("k".to_string(), 2)), "{values:?}");
    assert!(values.contains(&("j".to_string(), 4)), "{values:?}");
    assert_eq!(log.last_stable_offset(), 4);
}
