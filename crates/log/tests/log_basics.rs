//! Behaviour of the partition log through its public API, on real files.

mod common;

use std::sync::Arc;

use brook_log::{
    AppendError, CleanupPolicy, LogConfig, MaintenanceError, ManualClock, OffsetSpec, PartitionLog,
    ReadError, TimestampAndOffset,
};
use brook_protocol::{Compression, TimestampType};
use common::{as_stored, batch, batch_with, batches};

fn open(dir: &std::path::Path, config: LogConfig) -> PartitionLog {
    PartitionLog::open(dir.join("rides-0"), config).unwrap()
}

#[test]
fn appends_get_contiguous_offsets_and_read_back_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let b1 = batch(3, 1000, 1, 10);
    let b2 = batch(5, 2000, 2, 10);
    assert_eq!(log.append(&b1).unwrap().base_offset, 0);
    let info = log.append(&b2).unwrap();
    assert_eq!((info.base_offset, info.last_offset), (3, 7));
    assert_eq!(
        (
            log.log_start_offset(),
            log.log_end_offset(),
            log.high_watermark()
        ),
        (0, 8, 8)
    );

    let read = log.read(0, 1 << 20).unwrap();
    let mut expected = as_stored(&b1, 0, 0).to_vec();
    expected.extend_from_slice(&as_stored(&b2, 3, 0));
    assert_eq!(&read.records[..], &expected[..]);
    // An offset inside the second batch returns that whole batch.
    let read = log.read(5, 1 << 20).unwrap();
    assert_eq!(batches(&read.records)[0].base_offset(), 3);
    // At the end: nothing, no error. Beyond: out of range.
    assert!(log.read(8, 100).unwrap().records.is_empty());
    assert!(matches!(
        log.read(9, 100),
        Err(ReadError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn read_returns_whole_batches_and_at_least_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let big = batch(1, 0, 1, 5000);
    let small = batch(1, 0, 2, 10);
    log.append(&big).unwrap();
    log.append(&small).unwrap();
    let one = log.read(0, 100).unwrap();
    assert_eq!(
        one.records.len(),
        big.len(),
        "first batch whole even though larger than max_bytes"
    );
    let cut = log.read(0, big.len() + 10).unwrap();
    assert_eq!(cut.records.len(), big.len(), "no partial trailing batch");
    let both = log.read(0, big.len() + small.len()).unwrap();
    assert_eq!(batches(&both.records).len(), 2);
}

#[test]
fn many_batches_in_one_append_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    let mut two = batch(2, 0, 1, 10).to_vec();
    two.extend_from_slice(&batch(4, 0, 2, 10));
    let info = log.append(&two.clone().into()).unwrap();
    assert_eq!((info.base_offset, info.last_offset), (0, 5));

    let mut bad = two.clone();
    let last = bad.len() - 3;
    bad[last] ^= 1;
    let err = log.append(&bad.into()).unwrap_err();
    assert!(matches!(err, AppendError::InvalidBatch { .. }), "{err}");
    assert!(err.to_string().contains("CRC"), "{err}");
    assert_eq!(log.log_end_offset(), 6);
}

#[test]
fn oversized_and_malformed_batches_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        max_message_bytes: 1000,
        ..LogConfig::default()
    };
    let log = open(dir.path(), config);
    let err = log.append(&batch(1, 0, 1, 2000)).unwrap_err();
    assert!(
        matches!(err, AppendError::MessageTooLarge { max: 1000, .. }),
        "{err}"
    );
    assert!(matches!(
        log.append(&bytes::Bytes::new()),
        Err(AppendError::Empty { .. })
    ));
    let mut v1 = batch(1, 0, 1, 10).to_vec();
    v1[16] = 1;
    let err = log.append(&v1.into()).unwrap_err();
    assert!(err.to_string().contains("v0/v1"), "{err}");
    let mut torn = batch(1, 0, 1, 10).to_vec();
    torn.truncate(40);
    assert!(matches!(
        log.append(&torn.into()),
        Err(AppendError::InvalidBatch { .. })
    ));
    let mut lying = batch(3, 0, 1, 10).to_vec();
    lying[23..27].copy_from_slice(&5_i32.to_be_bytes());
    brook_protocol::record_batch::patch::rewrite_crc(&mut lying);
    assert!(matches!(
        log.append(&lying.into()),
        Err(AppendError::InvalidRecord { .. })
    ));
    assert_eq!(log.log_end_offset(), 0);
}

#[test]
fn segments_roll_on_size_and_keep_kafka_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 2048,
        ..LogConfig::default()
    };
    let log = open(dir.path(), config.clone());
    for i in 0..10 {
        log.append(&batch(2, i, i as u64, 300)).unwrap();
    }
    let segments = log.segments();
    assert!(segments.len() > 2, "{segments:?}");
    assert!(segments.iter().all(|s| s.size <= 2048));
    let part = dir.path().join("rides-0");
    for s in &segments {
        for ext in ["log", "index", "timeindex"] {
            let name = format!("{:020}.{ext}", s.base_offset);
            assert!(part.join(&name).exists(), "{name}");
        }
    }
    // Every offset reads back after a clean reopen.
    log.close().unwrap();
    let log = open(dir.path(), config);
    assert!(log.recovery_report().clean_shutdown);
    assert_eq!(log.log_end_offset(), 20);
    let mut offset = 0;
    while offset < 20 {
        let read = log.read(offset, 1).unwrap();
        let b = &batches(&read.records)[0];
        assert_eq!(b.base_offset(), offset);
        offset = b.next_offset();
    }
}

#[test]
fn segment_ms_rolls_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = LogConfig {
        segment_ms: 1000,
        ..LogConfig::default()
    };
    let log = PartitionLog::open_with_clock(dir.path().join("t-0"), config, clock.clone()).unwrap();
    log.append(&batch(1, 0, 1, 10)).unwrap();
    log.append(&batch(1, 0, 2, 10)).unwrap();
    assert_eq!(log.segments().len(), 1);
    clock.advance(1000);
    log.append(&batch(1, 0, 3, 10)).unwrap();
    assert_eq!(
        log.segments()
            .iter()
            .map(|s| s.base_offset)
            .collect::<Vec<_>>(),
        [0, 2]
    );
}

#[test]
fn a_full_offset_index_rolls_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    // Two offset-index entries at most; an entry every batch (interval 0).
    let config = LogConfig {
        segment_index_bytes: 16,
        index_interval_bytes: 0,
        ..LogConfig::default()
    };
    let log = open(dir.path(), config);
    for i in 0..4 {
        log.append(&batch(1, i, i as u64, 10)).unwrap();
    }
    assert_eq!(log.segments().len(), 2);
}

#[test]
fn timestamp_lookups_follow_list_offsets_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 100,
        ..LogConfig::default()
    };
    let log = open(dir.path(), config);
    // Batch i: 5 records with timestamps 1000*i .. 1000*i+4, one out-of-order batch with a
    // maximum in the middle.
    for i in 0..20 {
        log.append(&batch(5, 1000 * i, i as u64, 40)).unwrap();
    }
    log.append(&batch(2, 500_000, 99, 40)).unwrap(); // offsets 100, 101
    log.append(&batch(2, 30_000, 98, 40)).unwrap(); // offsets 102, 103
    assert!(log.segments().len() > 3);
    let at = |t| log.lookup_offset(OffsetSpec::Timestamp(t)).unwrap();
    assert_eq!(
        at(0),
        Some(TimestampAndOffset {
            timestamp: 0,
            offset: 0
        })
    );
    assert_eq!(
        at(3002),
        Some(TimestampAndOffset {
            timestamp: 3002,
            offset: 17
        })
    );
    assert_eq!(
        at(3005),
        Some(TimestampAndOffset {
            timestamp: 4000,
            offset: 20
        })
    );
    assert_eq!(
        at(19_005),
        Some(TimestampAndOffset {
            timestamp: 500_000,
            offset: 100
        })
    );
    assert_eq!(at(500_002), None);
    assert_eq!(
        log.lookup_offset(OffsetSpec::MaxTimestamp).unwrap(),
        Some(TimestampAndOffset {
            timestamp: 500_001,
            offset: 101
        })
    );
    assert_eq!(
        log.lookup_offset(OffsetSpec::Earliest)
            .unwrap()
            .unwrap()
            .offset,
        0
    );
    assert_eq!(
        log.lookup_offset(OffsetSpec::Latest)
            .unwrap()
            .unwrap()
            .offset,
        104
    );
}

#[test]
fn log_append_time_stamps_broker_time_and_keeps_crc_valid() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_234_567));
    let config = LogConfig {
        message_timestamp_type: TimestampType::LogAppendTime,
        ..LogConfig::default()
    };
    let log = PartitionLog::open_with_clock(dir.path().join("t-0"), config, clock).unwrap();
    let info = log
        .append(&batch_with(Compression::Zstd, 3, 5, 1, 10, |i| {
            i.to_string()
        }))
        .unwrap();
    assert_eq!(info.log_append_time, Some(1_234_567));
    let read = log.read(0, 1 << 20).unwrap();
    let stored = &batches(&read.records)[0];
    assert_eq!(
        stored.attributes().timestamp_type(),
        TimestampType::LogAppendTime
    );
    assert_eq!(stored.max_timestamp(), 1_234_567);
    assert!(
        stored
            .records()
            .unwrap()
            .iter()
            .all(|r| r.timestamp == 1_234_567)
    );
    assert_eq!(
        log.lookup_offset(OffsetSpec::Timestamp(1_000_000))
            .unwrap()
            .unwrap(),
        TimestampAndOffset {
            timestamp: 1_234_567,
            offset: 0
        }
    );
}

#[test]
fn retention_by_time_and_size_deletes_whole_closed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(100_000));
    let config = LogConfig {
        segment_bytes: 1024,
        retention_ms: 10_000,
        ..LogConfig::default()
    };
    let log = PartitionLog::open_with_clock(dir.path().join("t-0"), config.clone(), clock.clone())
        .unwrap();
    for i in 0..12 {
        // Timestamps grow 1s per batch: 90s .. 101s.
        log.append(&batch(1, 90_000 + 1000 * i, i as u64, 300))
            .unwrap();
    }
    let before = log.segments();
    assert!(before.len() >= 4, "{before:?}");
    clock.set(106_000);
    let outcome = log.enforce_retention().unwrap();
    // Segments whose newest record is older than now - 10s go; the active one never does.
    let expected: Vec<i64> = before[..before.len() - 1]
        .iter()
        .filter(|s| 106_000 - s.max_timestamp > 10_000)
        .map(|s| s.base_offset)
        .collect();
    assert!(
        !expected.is_empty() && expected.len() < before.len() - 1,
        "{before:?}"
    );
    assert_eq!(outcome.deleted_segments, expected);
    assert_eq!(log.log_start_offset(), log.segments()[0].base_offset);
    assert!(matches!(
        log.read(0, 100),
        Err(ReadError::OffsetOutOfRange { .. })
    ));

    let size_config = LogConfig {
        retention_bytes: 1024,
        retention_ms: -1,
        ..config
    };
    log.update_config(size_config);
    log.enforce_retention().unwrap();
    let total: u64 = log.segments().iter().map(|s| s.size).sum();
    let active = log.segments().last().unwrap().size;
    assert!(
        total - active <= 1024 || log.segments().len() == 1,
        "{:?}",
        log.segments()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("t-0"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".deleted"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn delete_records_moves_log_start_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 1024,
        ..LogConfig::default()
    };
    let log = open(dir.path(), config.clone());
    for i in 0..10 {
        log.append(&batch(2, i, i as u64, 300)).unwrap();
    }
    assert!(matches!(
        log.delete_records(21),
        Err(MaintenanceError::OffsetOutOfRange { .. })
    ));
    assert_eq!(log.delete_records(7).unwrap(), 7);
    assert_eq!(log.log_start_offset(), 7);
    assert!(log.segments()[0].base_offset <= 7);
    assert!(matches!(
        log.read(6, 100),
        Err(ReadError::OffsetOutOfRange { .. })
    ));
    let read = log.read(7, 100).unwrap();
    assert_eq!(
        batches(&read.records)[0].base_offset(),
        6,
        "the batch holding offset 7"
    );
    assert_eq!(
        log.lookup_offset(OffsetSpec::Timestamp(0))
            .unwrap()
            .unwrap()
            .offset,
        7
    );
    drop(log); // no clean close
    let log = open(dir.path(), config);
    assert_eq!(log.log_start_offset(), 7);
    assert_eq!(log.log_end_offset(), 20);
}

#[test]
fn durable_appends_group_commit_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        flush_messages: 1,
        ..LogConfig::default()
    };
    let log = Arc::new(open(dir.path(), config.clone()));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let info = log.append(&batch(1, i, t * 1000 + i as u64, 100)).unwrap();
                    assert!(log.high_watermark() > info.last_offset);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(log.high_watermark(), 200);
    drop(log);
    let log = open(dir.path(), config);
    assert!(!log.recovery_report().clean_shutdown);
    assert_eq!(log.log_end_offset(), 200);
}

#[test]
fn closed_log_refuses_work() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    log.close().unwrap();
    let err = log.append(&batch(1, 0, 1, 10)).unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    assert!(dir.path().join("rides-0/.brook-clean-shutdown").exists());
    let _ = CleanupPolicy::Delete;
}

fn idempotent_batch(producer_id: i64, epoch: i16, first_seq: i32, count: usize) -> bytes::Bytes {
    let mut builder = brook_protocol::RecordBatchBuilder::new(Compression::None).producer(
        producer_id,
        epoch,
        first_seq,
    );
    for i in 0..count {
        builder.append(
            1_000 + i as i64,
            Some(b"k"),
            Some(format!("seq-{}", first_seq as usize + i).as_bytes()),
            &[],
        );
    }
    builder.build()
}

#[test]
fn idempotent_retries_get_their_original_offsets_even_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), LogConfig::default());
    log.append(&batch(2, 0, 1, 10)).unwrap(); // a non-idempotent batch first: offsets 0..1
    let first = log.append(&idempotent_batch(9, 0, 0, 3)).unwrap();
    let second = log.append(&idempotent_batch(9, 0, 3, 2)).unwrap();
    assert_eq!((first.base_offset, first.last_offset), (2, 4));
    assert_eq!((second.base_offset, second.last_offset), (5, 6));

    let retry = log.append(&idempotent_batch(9, 0, 0, 3)).unwrap();
    assert_eq!(
        (retry.base_offset, retry.last_offset),
        (2, 4),
        "a retry is not written again"
    );
    assert_eq!(log.log_end_offset(), 7);
    let gap = log.append(&idempotent_batch(9, 0, 9, 1)).unwrap_err();
    assert!(
        matches!(
            gap,
            AppendError::OutOfOrderSequence {
                expected: 5,
                got: 9,
                ..
            }
        ),
        "{gap}"
    );

    drop(log);
    let log = open(dir.path(), LogConfig::default());
    let retry = log.append(&idempotent_batch(9, 0, 3, 2)).unwrap();
    assert_eq!(
        (retry.base_offset, retry.last_offset),
        (5, 6),
        "state rebuilt from the log"
    );
    assert_eq!(
        log.append(&idempotent_batch(9, 0, 5, 1))
            .unwrap()
            .base_offset,
        7
    );
    let fenced = log
        .append(&idempotent_batch(9, 1, 0, 1))
        .map(|_| ())
        .and_then(|_| log.append(&idempotent_batch(9, 0, 6, 1)).map(|_| ()));
    assert!(
        matches!(
            fenced,
            Err(AppendError::InvalidProducerEpoch {
                epoch: 0,
                current: 1,
                ..
            })
        ),
        "{fenced:?}"
    );
}

#[test]
fn control_batches_from_appenders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = PartitionLog::open(dir.path().join("m-0"), LogConfig::default()).unwrap();
    let marker = brook_protocol::control::marker_batch(
        7,
        0,
        brook_protocol::control::EndTransactionMarker {
            control_type: brook_protocol::control::ControlType::Abort,
            coordinator_epoch: 0,
        },
        1,
    );
    assert!(matches!(
        log.append(&marker),
        Err(AppendError::ControlBatch { .. })
    ));
    assert_eq!(log.log_end_offset(), 0, "nothing written");
}
