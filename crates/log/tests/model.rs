//! Property test: random sequences of append / read / roll / close-reopen / retention /
//! delete-records / timestamp lookup agree with a simple in-memory model of Kafka's rules.

mod common;

use std::sync::Arc;

use brook_log::{LogConfig, ManualClock, OffsetSpec, PartitionLog, ReadError, TimestampAndOffset};
use bytes::Bytes;
use common::{as_stored, batch};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append {
        count: usize,
        timestamp: i64,
        value_len: usize,
    },
    Read {
        pick: u32,
        max_bytes: usize,
    },
    Roll,
    Reopen {
        clean: bool,
    },
    DeleteRecords {
        pick: u32,
    },
    RetainBytes {
        bytes: i64,
    },
    RetainMs {
        ms: i64,
    },
    Lookup {
        timestamp: i64,
    },
    MaxTimestamp,
    Advance {
        ms: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1..6usize, 0..50_000i64, 0..900usize)
            .prop_map(|(count, timestamp, value_len)| Op::Append { count, timestamp, value_len }),
        4 => (any::<u32>(), 1..6000usize).prop_map(|(pick, max_bytes)| Op::Read { pick, max_bytes }),
        1 => Just(Op::Roll),
        1 => any::<bool>().prop_map(|clean| Op::Reopen { clean }),
        1 => any::<u32>().prop_map(|pick| Op::DeleteRecords { pick }),
        1 => (0..20_000i64).prop_map(|bytes| Op::RetainBytes { bytes }),
        1 => (0..60_000i64).prop_map(|ms| Op::RetainMs { ms }),
        2 => (-10..55_000i64).prop_map(|timestamp| Op::Lookup { timestamp }),
        1 => Just(Op::MaxTimestamp),
        1 => (0..20_000i64).prop_map(|ms| Op::Advance { ms }),
    ]
}

struct ModelBatch {
    base: i64,
    bytes: Bytes,
    timestamps: Vec<i64>,
}

impl ModelBatch {
    fn next(&self) -> i64 {
        self.base + self.timestamps.len() as i64
    }
    fn max_timestamp(&self) -> i64 {
        *self.timestamps.iter().max().unwrap()
    }
}

struct ModelSegment {
    base: i64,
    batches: Vec<ModelBatch>,
}

impl ModelSegment {
    fn size(&self) -> u64 {
        self.batches.iter().map(|b| b.bytes.len() as u64).sum()
    }
    fn max_timestamp(&self) -> i64 {
        self.batches
            .iter()
            .map(ModelBatch::max_timestamp)
            .max()
            .unwrap_or(-1)
    }
}

/// Kafka's rules, written as plainly as possible.
struct Model {
    segment_bytes: u64,
    segments: Vec<ModelSegment>,
    log_start: i64,
    log_end: i64,
}

impl Model {
    fn append(&mut self, produced: &Bytes, timestamps: Vec<i64>) -> i64 {
        let active = self.segments.last().unwrap();
        if active.size() > 0 && active.size() + produced.len() as u64 > self.segment_bytes {
            self.roll();
        }
        let base = self.log_end;
        let bytes = as_stored(produced, base, 0);
        self.log_end += timestamps.len() as i64;
        self.segments.last_mut().unwrap().batches.push(ModelBatch {
            base,
            bytes,
            timestamps,
        });
        base
    }

    fn roll(&mut self) {
        if self.segments.last().unwrap().size() > 0 {
            self.segments.push(ModelSegment {
                base: self.log_end,
                batches: Vec::new(),
            });
        }
    }

    fn read(&self, offset: i64, max_bytes: usize) -> Result<Vec<u8>, ()> {
        if offset < self.log_start || offset > self.log_end {
            return Err(());
        }
        let start = self
            .segments
            .iter()
            .rposition(|s| s.base <= offset)
            .unwrap_or(0);
        for segment in &self.segments[start..] {
            if let Some(i) = segment.batches.iter().position(|b| b.next() > offset) {
                let mut out = segment.batches[i].bytes.to_vec();
                for b in &segment.batches[i + 1..] {
                    if out.len() + b.bytes.len() > max_bytes {
                        break;
                    }
                    out.extend_from_slice(&b.bytes);
                }
                return Ok(out);
            }
        }
        Ok(Vec::new())
    }

    fn drop_below_log_start(&mut self) {
        while self.segments.len() > 1 && self.segments[1].base <= self.log_start {
            self.segments.remove(0);
        }
    }

    fn delete_records(&mut self, offset: i64) -> Result<i64, ()> {
        if offset > self.log_end {
            return Err(());
        }
        self.log_start = self.log_start.max(offset);
        self.drop_below_log_start();
        Ok(self.log_start)
    }

    fn retain_bytes(&mut self, limit: i64) {
        let mut excess = self.segments.iter().map(|s| s.size() as i64).sum::<i64>() - limit;
        while self.segments.len() > 1 && excess - self.segments[0].size() as i64 >= 0 {
            excess -= self.segments[0].size() as i64;
            self.segments.remove(0);
        }
        self.after_retention();
    }

    fn retain_ms(&mut self, now: i64, ms: i64) {
        while self.segments.len() > 1 && now - self.segments[0].max_timestamp() > ms {
            self.segments.remove(0);
        }
        self.after_retention();
    }

    fn after_retention(&mut self) {
        self.log_start = self.log_start.max(self.segments[0].base);
        self.drop_below_log_start();
    }

    fn records(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.segments.iter().flat_map(|s| &s.batches).flat_map(|b| {
            b.timestamps
                .iter()
                .enumerate()
                .map(move |(i, ts)| (b.base + i as i64, *ts))
        })
    }

    fn lookup(&self, target: i64) -> Option<TimestampAndOffset> {
        self.records()
            .find(|&(offset, ts)| offset >= self.log_start && ts >= target)
            .map(|(offset, timestamp)| TimestampAndOffset { timestamp, offset })
    }

    /// KIP-734 as Kafka does it: the largest timestamp still stored (even below the log start
    /// offset), answered with the first record at or above the log start offset that has it.
    fn max_timestamp(&self) -> Option<TimestampAndOffset> {
        let max = self.records().map(|(_, ts)| ts).max()?;
        self.records()
            .find(|&(offset, ts)| offset >= self.log_start && ts == max)
            .map(|(offset, timestamp)| TimestampAndOffset { timestamp, offset })
    }
}

fn run(ops: Vec<Op>, segment_bytes: u64) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model-0");
    let clock = Arc::new(ManualClock::new(60_000));
    let base_config = LogConfig {
        segment_bytes,
        index_interval_bytes: 256,
        ..LogConfig::default()
    };
    let open = |config: &LogConfig| {
        PartitionLog::open_with_clock(&dir, config.clone(), clock.clone()).unwrap()
    };
    let mut log = open(&base_config);
    let mut model = Model {
        segment_bytes,
        segments: vec![ModelSegment {
            base: 0,
            batches: Vec::new(),
        }],
        log_start: 0,
        log_end: 0,
    };
    let mut seed = 0u64;
    for op in ops {
        match op {
            Op::Append {
                count,
                timestamp,
                value_len,
            } => {
                seed += 1;
                let produced = batch(count, timestamp, seed, value_len);
                let timestamps = (0..count as i64).map(|i| timestamp + i).collect();
                let expected = model.append(&produced, timestamps);
                prop_assert_eq!(log.append(&produced).unwrap().base_offset, expected);
            }
            Op::Read { pick, max_bytes } => {
                let offset = i64::from(pick) % (model.log_end + 2);
                match (model.read(offset, max_bytes), log.read(offset, max_bytes)) {
                    (Ok(expected), Ok(actual)) => {
                        prop_assert_eq!(&actual.records[..], &expected[..], "read {}", offset)
                    }
                    (Err(()), Err(ReadError::OffsetOutOfRange { .. })) => {}
                    (expected, actual) => prop_assert!(
                        false,
                        "read {}: model {:?}, log {:?}",
                        offset,
                        expected.map(|v| v.len()),
                        actual.map(|r| r.records.len())
                    ),
                }
            }
            Op::Roll => {
                model.roll();
                log.roll().unwrap();
            }
            Op::Reopen { clean } => {
                if clean {
                    log.close().unwrap();
                }
                drop(log);
                log = open(&base_config);
                prop_assert!(
                    !log.recovery_report().lost_data(),
                    "{:?}",
                    log.recovery_report()
                );
            }
            Op::DeleteRecords { pick } => {
                let offset = i64::from(pick) % (model.log_end + 2);
                match (model.delete_records(offset), log.delete_records(offset)) {
                    (Ok(expected), Ok(actual)) => prop_assert_eq!(actual, expected),
                    (Err(()), Err(_)) => {}
                    (expected, actual) => prop_assert!(
                        false,
                        "delete_records {}: {:?} vs {:?}",
                        offset,
                        expected,
                        actual
                    ),
                }
            }
            Op::RetainBytes { bytes } => {
                model.retain_bytes(bytes);
                log.update_config(LogConfig {
                    retention_bytes: bytes,
                    retention_ms: -1,
                    ..base_config.clone()
                });
                log.enforce_retention().unwrap();
                log.update_config(base_config.clone());
            }
            Op::RetainMs { ms } => {
                model.retain_ms(clock.now_ms_for_test(), ms);
                log.update_config(LogConfig {
                    retention_ms: ms,
                    ..base_config.clone()
                });
                log.enforce_retention().unwrap();
                log.update_config(base_config.clone());
            }
            Op::Lookup { timestamp } => {
                prop_assert_eq!(
                    log.lookup_offset(OffsetSpec::Timestamp(timestamp)).unwrap(),
                    model.lookup(timestamp),
                    "lookup {}",
                    timestamp
                );
            }
            Op::MaxTimestamp => {
                prop_assert_eq!(
                    log.lookup_offset(OffsetSpec::MaxTimestamp).unwrap(),
                    model.max_timestamp()
                );
            }
            Op::Advance { ms } => clock.advance(ms),
        }
        prop_assert_eq!(log.log_start_offset(), model.log_start);
        prop_assert_eq!(log.log_end_offset(), model.log_end);
        prop_assert_eq!(log.high_watermark(), model.log_end);
        let segments: Vec<(i64, u64)> = log
            .segments()
            .iter()
            .map(|s| (s.base_offset, s.size))
            .collect();
        let expected: Vec<(i64, u64)> = model.segments.iter().map(|s| (s.base, s.size())).collect();
        prop_assert_eq!(segments, expected);
    }
    Ok(())
}

trait NowForTest {
    fn now_ms_for_test(&self) -> i64;
}
impl NowForTest for ManualClock {
    fn now_ms_for_test(&self) -> i64 {
        brook_log::Clock::now_ms(self)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn log_agrees_with_model(ops in proptest::collection::vec(op(), 1..60), segment_bytes in 1500u64..6000) {
        run(ops, segment_bytes)?;
    }
}
