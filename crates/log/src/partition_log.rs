//! [`PartitionLog`]: the log of one partition — append, read, offset lookups, rolling,
//! retention, delete-records, flushing and closing. Compaction lives in [`crate::cleaner`].

use std::collections::BTreeMap;
use std::io::IoSlice;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use brook_protocol::record_batch::{RECORD_BATCH_OVERHEAD, patch};
use brook_protocol::{Batches, RecordBatch, TimestampType};
use bytes::Bytes;

use crate::checkpoint::{CLEAN_SHUTDOWN_FILE, Checkpoint, sync_dir};
use crate::clock::{Clock, SystemClock};
use crate::config::LogConfig;
use crate::error::{AppendError, MaintenanceError, OpenError, ReadError};
use crate::group_commit::GroupCommit;
use crate::index::{OFFSET_ENTRY_SIZE, TIME_ENTRY_SIZE};
use crate::naming::{
    DELETED_SUFFIX, SEGMENT_SUFFIXES, TXN_INDEX_SUFFIX, segment_path, with_extra_suffix,
};
use crate::recovery::{self, RecoveryReport};
use crate::segment::LogSegment;
use crate::txn_index::AbortedTxn;

/// The outcome of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// The broker time stamped on the batches for LogAppendTime topics.
    pub log_append_time: Option<i64>,
    /// The log start offset after the append.
    pub log_start_offset: i64,
}

/// Whole stored batches returned by [`PartitionLog::read`], with the offsets a fetch response
/// reports.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// Concatenated batches, exactly as stored; empty when nothing is readable yet.
    pub records: Bytes,
    /// The high watermark when the read started.
    pub high_watermark: i64,
    /// The log start offset when the read started.
    pub log_start_offset: i64,
    /// The log end offset when the read started.
    pub log_end_offset: i64,
    /// The last stable offset when the read started: offsets below it belong to no open
    /// transaction.
    pub last_stable_offset: i64,
    /// For read_committed reads, the aborted transactions overlapping the returned batches
    /// (possibly none); `None` for read_uncommitted reads.
    pub aborted_transactions: Option<Vec<AbortedTxn>>,
}

/// Which records a read may return (Kafka's `isolation_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Everything below the high watermark.
    #[default]
    ReadUncommitted,
    /// Only below the last stable offset, with the aborted transactions to skip.
    ReadCommitted,
}

/// What a ListOffsets-style lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (Kafka timestamp -2).
    Earliest,
    /// The high watermark (Kafka timestamp -1).
    Latest,
    /// The record with the largest timestamp (Kafka timestamp -3, KIP-734).
    MaxTimestamp,
    /// The first record whose timestamp is at least this.
    Timestamp(i64),
}

/// A record's timestamp and offset (timestamp -1 where the spec has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampAndOffset {
    /// Record timestamp, or -1.
    pub timestamp: i64,
    /// Record offset.
    pub offset: i64,
}

/// One segment as seen from outside, for tools and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// First offset the segment can hold.
    pub base_offset: i64,
    /// Bytes in the `.log` file.
    pub size: u64,
    /// Largest batch timestamp in the segment, or -1.
    pub max_timestamp: i64,
}

/// What a retention pass removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Base offsets of the deleted segments.
    pub deleted_segments: Vec<i64>,
    /// Their total size.
    pub deleted_bytes: u64,
    /// The log start offset afterwards.
    pub log_start_offset: i64,
}

/// The high watermark with its place in the log, so reads can stop at it exactly.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HighWatermark {
    pub offset: i64,
    pub segment_base: i64,
    pub position: u64,
}

pub(crate) struct LogState {
    pub config: LogConfig,
    pub segments: BTreeMap<i64, Arc<LogSegment>>,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub high_watermark: HighWatermark,
    pub leader_epoch: i32,
    pub last_flush_ms: i64,
    pub producers: crate::producer_state::ProducerState,
    /// Aborted transactions of every segment, ordered by marker offset (the `.txnindex` files).
    pub aborted: Vec<AbortedTxn>,
}

impl LogState {
    pub fn active(&self) -> &Arc<LogSegment> {
        self.segments
            .values()
            .next_back()
            .expect("a log always has an active segment")
    }

    fn set_high_watermark(&mut self, hw: HighWatermark) {
        if hw.offset > self.high_watermark.offset
            || (hw.offset == self.high_watermark.offset
                && hw.segment_base > self.high_watermark.segment_base)
        {
            self.high_watermark = hw;
        }
    }

    /// The first offset a read_committed reader may not see yet: the oldest open transaction's
    /// first offset, or the high watermark.
    fn last_stable_offset(&self) -> i64 {
        self.producers
            .first_unstable_offset()
            .map_or(self.high_watermark.offset, |first| {
                first.min(self.high_watermark.offset)
            })
    }

    fn checkpoint(&self, recovery_point: i64) -> Checkpoint {
        Checkpoint {
            log_start_offset: self.log_start_offset,
            recovery_point,
        }
    }
}

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const OFFLINE: u8 = 2;

/// The log of one partition, stored in Kafka's segment format in its own directory.
///
/// Concurrency: `Send + Sync`; share it as `Arc<PartitionLog>`. Appends are serialized by an
/// internal lock held only while bytes are written (not while fsyncing: durable appends wait in
/// a group commit). Reads take the lock only to find their segment and then read with
/// positional I/O, so they run beside appends. Retention and compaction may run on other
/// threads; compaction holds the lock only to swap a finished segment in.
pub struct PartitionLog {
    pub(crate) dir: PathBuf,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: Mutex<LogState>,
    group_commit: GroupCommit,
    pub(crate) cleaner: Mutex<crate::cleaner::CleanerMark>,
    status: AtomicU8,
    report: RecoveryReport,
}

impl std::fmt::Debug for PartitionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionLog")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl PartitionLog {
    /// Opens (creating if needed) the log in `dir`, recovering it if it was not closed cleanly.
    pub fn open(dir: impl Into<PathBuf>, config: LogConfig) -> Result<Self, OpenError> {
        Self::open_with_clock(dir, config, Arc::new(SystemClock))
    }

    /// [`PartitionLog::open`] with an injected clock.
    pub fn open_with_clock(
        dir: impl Into<PathBuf>,
        config: LogConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OpenError> {
        let dir = dir.into();
        let now = clock.now_ms();
        let loaded = recovery::load(&dir, &config, now)?;
        let (producers, aborted) = transactions_from(&dir, &loaded.segments);
        let active = loaded
            .segments
            .values()
            .next_back()
            .expect("load creates a segment");
        let high_watermark = HighWatermark {
            offset: loaded.log_end_offset,
            segment_base: active.base_offset(),
            position: active.size(),
        };
        Ok(PartitionLog {
            dir,
            clock,
            group_commit: GroupCommit::new(loaded.log_end_offset),
            state: Mutex::new(LogState {
                config,
                segments: loaded.segments,
                log_start_offset: loaded.log_start_offset,
                log_end_offset: loaded.log_end_offset,
                high_watermark,
                leader_epoch: 0,
                last_flush_ms: now,
                producers,
                aborted,
            }),
            cleaner: Mutex::new(Default::default()),
            status: AtomicU8::new(OPEN),
            report: loaded.report,
        })
    }

    /// What opening found and repaired.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// First readable offset.
    pub fn log_start_offset(&self) -> i64 {
        self.lock().log_start_offset
    }

    /// Offset the next append gets.
    pub fn log_end_offset(&self) -> i64 {
        self.lock().log_end_offset
    }

    /// Offsets below this are visible to readers: everything appended, or with
    /// `flush.messages=1` everything fsynced.
    pub fn high_watermark(&self) -> i64 {
        self.lock().high_watermark.offset
    }

    /// Offsets below this belong to no open transaction (Kafka's LSO); read_committed readers
    /// stop here.
    pub fn last_stable_offset(&self) -> i64 {
        self.lock().last_stable_offset()
    }

    /// The producers this partition knows, for DescribeProducers.
    pub fn producers(&self) -> Vec<crate::producer_state::ProducerSnapshot> {
        self.lock().producers.snapshot()
    }

    /// Whether `producer_id` has a transaction open in this partition (it wrote transactional
    /// batches and no marker since).
    pub fn has_open_transaction(&self, producer_id: i64) -> bool {
        self.lock().producers.has_open_txn(producer_id)
    }

    /// The current configuration.
    pub fn config(&self) -> LogConfig {
        self.lock().config.clone()
    }

    /// Whether appends are fsynced before they are acknowledged (`flush.messages=1`), without
    /// copying the config.
    pub fn durable_appends(&self) -> bool {
        self.lock().config.durable_appends()
    }

    /// `min.insync.replicas`, without copying the config.
    pub fn min_insync_replicas(&self) -> i32 {
        self.lock().config.min_insync_replicas
    }

    /// Replaces the configuration; takes effect at the next append or maintenance pass.
    pub fn update_config(&self, config: LogConfig) {
        self.lock().config = config;
    }

    /// Sets the leader epoch stamped on appended batches.
    pub fn set_leader_epoch(&self, epoch: i32) {
        self.lock().leader_epoch = epoch;
    }

    /// The segments, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.lock()
            .segments
            .values()
            .map(|s| SegmentInfo {
                base_offset: s.base_offset(),
                size: s.size(),
                max_timestamp: s.max_timestamp().0,
            })
            .collect()
    }

    /// Total bytes in all segment files.
    pub fn size_bytes(&self) -> u64 {
        self.lock().segments.values().map(|s| s.size()).sum()
    }

    fn check_open(&self) -> Result<(), &'static str> {
        match self.status.load(Ordering::Acquire) {
            OPEN => Ok(()),
            CLOSED => Err("closed"),
            _ => Err("offline after an I/O error"),
        }
    }

    fn take_offline(&self, why: &std::io::Error) {
        tracing::error!(log = %self.dir.display(), error = %why, "taking partition log offline");
        self.status.store(OFFLINE, Ordering::Release);
    }

    /// Appends one or more record batches (the records of one produce partition), assigning
    /// offsets from the log end offset. All batches are checked (CRC, magic, size, counts)
    /// before any byte is written; either all become part of the log or none do.
    ///
    /// Returns when the batches are written — and, with `flush.messages=1`, fsynced.
    pub fn append(&self, records: &Bytes) -> Result<AppendInfo, AppendError> {
        self.check_open()
            .map_err(|state| AppendError::Unavailable {
                log: self.dir.clone(),
                state,
            })?;
        let mut batches = self.validate(records)?;
        for batch in &batches {
            if batch.attributes().is_control() {
                // Transaction markers are the transaction coordinator's to write (Kafka's
                // LogValidator refuses them from clients): see `append_marker`.
                return Err(AppendError::ControlBatch {
                    log: self.dir.clone(),
                });
            }
        }
        let mut state = self.lock();
        let compacted = state.config.cleanup_policy.compacts();
        let recompression = state.config.recompression();
        if compacted || recompression.is_some() {
            // Decoding records (Kafka's LogValidator work) happens without the lock.
            drop(state);
            if compacted {
                self.check_keys(&batches)?;
            }
            if let Some(target) = recompression
                && let Some(recompressed) = self.recompress(&batches, target)?
            {
                batches = self.validate(&recompressed)?;
            }
            state = self.lock();
        }
        let config = &state.config;
        if let Some(big) = batches
            .iter()
            .find(|b| b.size() as u64 > config.max_message_bytes)
        {
            return Err(AppendError::MessageTooLarge {
                log: self.dir.clone(),
                size: big.size(),
                max: config.max_message_bytes,
            });
        }
        let now = self.clock.now_ms();
        if config.message_timestamp_type == TimestampType::CreateTime {
            self.check_timestamps(&batches, config, now)?;
        }
        let log_append_time =
            (config.message_timestamp_type == TimestampType::LogAppendTime).then_some(now);
        let total_size: u64 = batches.iter().map(|b| b.size() as u64).sum();
        let offsets: i64 = batches
            .iter()
            .map(|b| i64::from(b.last_offset_delta()) + 1)
            .sum();
        if let Some((base, last)) = self.check_sequences(&state, &batches)? {
            // A retried batch that is already in the log: its original offsets, nothing written.
            let log_start_offset = state.log_start_offset;
            drop(state);
            self.sync_through(last + 1)
                .map_err(|source| AppendError::Io {
                    log: self.dir.clone(),
                    source,
                })?;
            return Ok(AppendInfo {
                base_offset: base,
                last_offset: last,
                log_append_time: None,
                log_start_offset,
            });
        }
        let base_offset = state.log_end_offset;
        let last_offset = base_offset + offsets - 1;
        if self.should_roll(&state, total_size, last_offset, now) {
            self.roll_locked(&mut state, now).map_err(|source| {
                self.take_offline(&source);
                AppendError::Io {
                    log: self.dir.clone(),
                    source,
                }
            })?;
        }

        // Patch copies of the headers (whole batches for LogAppendTime, whose CRC changes) and
        // write the produced payload bytes around them: the payload is never copied.
        let epoch = state.leader_epoch;
        let mut prepared = Vec::with_capacity(batches.len());
        let mut meta = Vec::with_capacity(batches.len());
        let mut next = base_offset;
        for batch in &batches {
            let mut patched = match log_append_time {
                Some(_) => batch.as_bytes().to_vec(),
                None => batch.as_bytes()[..RECORD_BATCH_OVERHEAD].to_vec(),
            };
            patch::set_base_offset(&mut patched, next);
            patch::set_partition_leader_epoch(&mut patched, epoch);
            if let Some(time) = log_append_time {
                patch::set_log_append_time(&mut patched, time);
            }
            prepared.push(patched);
            let last = next + i64::from(batch.last_offset_delta());
            let max_timestamp = log_append_time.unwrap_or(batch.max_timestamp());
            meta.push((last, max_timestamp, batch.size() as u64));
            next = last + 1;
        }
        let mut slices = Vec::with_capacity(batches.len() * 2);
        for (batch, patched) in batches.iter().zip(&prepared) {
            slices.push(IoSlice::new(patched));
            if patched.len() < batch.size() {
                slices.push(IoSlice::new(&batch.as_bytes()[patched.len()..]));
            }
        }
        let active = state.active().clone();
        let interval = state.config.index_interval_bytes;
        if let Err(source) = active.append(&slices, &meta, interval) {
            self.take_offline(&source);
            return Err(AppendError::Io {
                log: self.dir.clone(),
                source,
            });
        }
        state.log_end_offset = next;
        for (batch, &(last, max_timestamp, _)) in batches.iter().zip(&meta) {
            let base = last - i64::from(batch.last_offset_delta());
            if let Some((producer_id, epoch, first_seq, last_seq)) = idempotence(batch) {
                state
                    .producers
                    .update(producer_id, epoch, first_seq, last_seq, base, last);
            }
            // Transactional offset commits carry no sequence, but belong to the transaction.
            if batch.attributes().is_transactional() && batch.producer_id() >= 0 {
                state
                    .producers
                    .track_transactional(batch.producer_id(), base, max_timestamp);
            }
        }
        let log_start_offset = self.publish(state, &active, next, now)?;
        Ok(AppendInfo {
            base_offset,
            last_offset,
            log_append_time,
            log_start_offset,
        })
    }

    /// After a write that ends at `next`: moves the high watermark (unless appends are
    /// durable, when the group commit does it after the fsync), releases the lock and flushes
    /// if due. Returns the log start offset.
    fn publish(
        &self,
        mut state: MutexGuard<'_, LogState>,
        active: &LogSegment,
        next: i64,
        now: i64,
    ) -> Result<i64, AppendError> {
        let durable = state.config.durable_appends();
        if !durable {
            state.set_high_watermark(HighWatermark {
                offset: next,
                segment_base: active.base_offset(),
                position: active.size(),
            });
        }
        let flush_due = durable
            || next - self.group_commit.durable_end() >= state.config.flush_messages
            || now - state.last_flush_ms >= state.config.flush_ms;
        let log_start_offset = state.log_start_offset;
        drop(state);
        if flush_due {
            self.sync_through(next)
                .map_err(|source| self.failed_write(source))?;
        }
        Ok(log_start_offset)
    }

    /// Takes the log offline after a failed write and says why.
    fn failed_write(&self, source: std::io::Error) -> AppendError {
        self.take_offline(&source);
        AppendError::Io {
            log: self.dir.clone(),
            source,
        }
    }

    /// Appends a transaction marker (COMMIT or ABORT) for `producer_id`, as the transaction
    /// coordinator does in every partition of a transaction: a control batch in Kafka's
    /// format. It closes the producer's open transaction here (moving the last stable offset)
    /// and, for an abort, records the transaction in the segment's `.txnindex`. A marker from
    /// an epoch older than the producer's batches is refused (INVALID_PRODUCER_EPOCH).
    /// Returns the marker's offset.
    pub fn append_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        marker: brook_protocol::control::EndTransactionMarker,
    ) -> Result<i64, AppendError> {
        self.check_open()
            .map_err(|state| AppendError::Unavailable {
                log: self.dir.clone(),
                state,
            })?;
        let now = self.clock.now_ms();
        let mut bytes =
            brook_protocol::control::marker_batch(producer_id, producer_epoch, marker, now)
                .to_vec();
        let mut state = self.lock();
        if let Err(crate::producer_state::SequenceError::StaleEpoch { epoch, current }) =
            state.producers.check_marker(producer_id, producer_epoch)
        {
            return Err(AppendError::InvalidProducerEpoch {
                log: self.dir.clone(),
                producer_id,
                epoch,
                current,
            });
        }
        let offset = state.log_end_offset;
        if self.should_roll(&state, bytes.len() as u64, offset, now) {
            self.roll_locked(&mut state, now)
                .map_err(|source| self.failed_write(source))?;
        }
        patch::set_base_offset(&mut bytes, offset);
        patch::set_partition_leader_epoch(&mut bytes, state.leader_epoch);
        let active = state.active().clone();
        let interval = state.config.index_interval_bytes;
        active
            .append(
                &[IoSlice::new(&bytes)],
                &[(offset, now, bytes.len() as u64)],
                interval,
            )
            .map_err(|source| self.failed_write(source))?;
        state.log_end_offset = offset + 1;
        let closed = state
            .producers
            .complete_txn(producer_id, producer_epoch, offset, now);
        if let Some(closed) = closed
            && marker.control_type == brook_protocol::control::ControlType::Abort
        {
            let entry = AbortedTxn {
                producer_id,
                first_offset: closed.first_offset,
                last_offset: offset,
                last_stable_offset: closed.last_stable_offset,
            };
            let path = segment_path(&self.dir, active.base_offset(), TXN_INDEX_SUFFIX);
            crate::txn_index::append_entry(&path, &entry)
                .map_err(|source| self.failed_write(source))?;
            state.aborted.push(entry);
        }
        self.publish(state, &active, offset + 1, now)?;
        Ok(offset)
    }

    fn validate(&self, records: &Bytes) -> Result<Vec<RecordBatch>, AppendError> {
        let invalid = |source| AppendError::InvalidBatch {
            log: self.dir.clone(),
            source,
        };
        let mut batches = Vec::new();
        for batch in Batches::new(records.clone()) {
            let batch = batch.map_err(invalid)?;
            batch.validate().map_err(invalid)?;
            let count = i64::from(batch.records_count());
            if count <= 0 || count != i64::from(batch.last_offset_delta()) + 1 {
                return Err(AppendError::InvalidRecord {
                    log: self.dir.clone(),
                    reason: format!(
                        "batch holds {count} records but its offsets span {}",
                        i64::from(batch.last_offset_delta()) + 1
                    ),
                });
            }
            batches.push(batch);
        }
        if batches.is_empty() {
            return Err(AppendError::Empty {
                log: self.dir.clone(),
            });
        }
        Ok(batches)
    }

    /// Kafka's `message.timestamp.after.max.ms` / `before.max.ms` checks. The batch max
    /// timestamp settles "after"; "before" needs the smallest record timestamp, decoded only
    /// when that limit is set.
    fn check_timestamps(
        &self,
        batches: &[RecordBatch],
        config: &LogConfig,
        now: i64,
    ) -> Result<(), AppendError> {
        let refuse = |timestamp, limit_ms, direction| AppendError::InvalidTimestamp {
            log: self.dir.clone(),
            timestamp,
            now,
            limit_ms,
            direction,
        };
        for batch in batches {
            let max = batch.max_timestamp();
            if max.saturating_sub(now) > config.message_timestamp_after_max_ms {
                return Err(refuse(max, config.message_timestamp_after_max_ms, "after"));
            }
            if config.message_timestamp_before_max_ms < i64::MAX {
                let records = batch.records().map_err(|e| AppendError::InvalidRecord {
                    log: self.dir.clone(),
                    reason: e.to_string(),
                })?;
                if let Some(min) = records.iter().map(|r| r.timestamp).min()
                    && now.saturating_sub(min) > config.message_timestamp_before_max_ms
                {
                    return Err(refuse(
                        min,
                        config.message_timestamp_before_max_ms,
                        "before",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Sequence checks for idempotent batches. `Some((base, last))` when the request is a
    /// retry of a batch already written.
    fn check_sequences(
        &self,
        state: &LogState,
        batches: &[RecordBatch],
    ) -> Result<Option<(i64, i64)>, AppendError> {
        use crate::producer_state::{SequenceError, SequenceVerdict};
        for batch in batches {
            let Some((producer_id, epoch, first_seq, last_seq)) = idempotence(batch) else {
                continue;
            };
            match state
                .producers
                .check(producer_id, epoch, first_seq, last_seq)
            {
                Ok(SequenceVerdict::Append) => {}
                // Producers send one batch per partition per request; a retry is that batch again.
                Ok(SequenceVerdict::Duplicate {
                    base_offset,
                    last_offset,
                }) if batches.len() == 1 => {
                    return Ok(Some((base_offset, last_offset)));
                }
                Ok(SequenceVerdict::Duplicate { .. }) => {
                    return Err(AppendError::OutOfOrderSequence {
                        log: self.dir.clone(),
                        producer_id,
                        expected: -1,
                        got: first_seq,
                    });
                }
                Err(SequenceError::OutOfOrder { expected, got }) => {
                    return Err(AppendError::OutOfOrderSequence {
                        log: self.dir.clone(),
                        producer_id,
                        expected,
                        got,
                    });
                }
                Err(SequenceError::StaleEpoch { epoch, current }) => {
                    return Err(AppendError::InvalidProducerEpoch {
                        log: self.dir.clone(),
                        producer_id,
                        epoch,
                        current,
                    });
                }
            }
        }
        Ok(None)
    }

    fn should_roll(&self, state: &LogState, incoming: u64, last_offset: i64, now: i64) -> bool {
        let active = state.active();
        let size = active.size();
        if size == 0 {
            return false;
        }
        let config = &state.config;
        let index_full = active.index().is_full(
            config.max_index_entries(OFFSET_ENTRY_SIZE),
            config.max_index_entries(TIME_ENTRY_SIZE),
        );
        size + incoming > config.segment_bytes
            || size + incoming > u64::from(u32::MAX)
            || now - active.created_ms()
                >= config.max_segment_ms() - self.roll_jitter(config, active)
            || index_full
            || last_offset - active.base_offset() > i64::from(i32::MAX)
    }

    /// How much earlier than `segment.ms` this segment rolls: a share of `segment.jitter.ms`
    /// that is fixed per segment and differs between partitions (Kafka draws it at random when
    /// the segment is created).
    fn roll_jitter(&self, config: &LogConfig, segment: &LogSegment) -> i64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        static SEED: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();
        let bound = config.segment_jitter_ms.min(config.max_segment_ms());
        if bound <= 0 {
            return 0;
        }
        let mut hasher = SEED.get_or_init(std::hash::RandomState::new).build_hasher();
        self.dir.hash(&mut hasher);
        segment.base_offset().hash(&mut hasher);
        (hasher.finish() % bound as u64) as i64
    }

    /// Closes the active segment (final time index entry, fsync of log and indexes) and starts
    /// a new one at the log end offset. Everything before it is durable afterwards.
    fn roll_locked(&self, state: &mut LogState, now: i64) -> std::io::Result<()> {
        let old = state.active().clone();
        let base = state.log_end_offset;
        if old.base_offset() == base {
            return Ok(());
        }
        old.on_become_inactive();
        old.flush()?;
        let segment = Arc::new(LogSegment::create(&self.dir, base, now)?);
        sync_dir(&self.dir)?;
        state.segments.insert(base, segment);
        self.group_commit.mark_durable(base);
        state.set_high_watermark(HighWatermark {
            offset: base,
            segment_base: base,
            position: 0,
        });
        state.last_flush_ms = now;
        state.checkpoint(base).write(&self.dir)?;
        tracing::debug!(log = %self.dir.display(), base_offset = base, "rolled new segment");
        Ok(())
    }

    /// Starts a new segment now, unless the active one is empty.
    pub fn roll(&self) -> Result<(), MaintenanceError> {
        self.maintenance_check()?;
        let mut state = self.lock();
        let now = self.clock.now_ms();
        self.roll_locked(&mut state, now)
            .map_err(|e| self.io_failure("roll", e))
    }

    pub(crate) fn maintenance_check(&self) -> Result<(), MaintenanceError> {
        self.check_open()
            .map_err(|state| MaintenanceError::Unavailable {
                log: self.dir.clone(),
                state,
            })
    }

    pub(crate) fn io_failure(
        &self,
        operation: &'static str,
        source: std::io::Error,
    ) -> MaintenanceError {
        MaintenanceError::Io {
            operation,
            log: self.dir.clone(),
            source,
        }
    }

    /// Makes every offset below `end` durable, sharing fsyncs between concurrent callers.
    fn sync_through(&self, end: i64) -> std::io::Result<()> {
        self.group_commit.wait_durable(end, || {
            let (active, leo, position) = {
                let state = self.lock();
                let active = state.active().clone();
                let position = active.size();
                (active, state.log_end_offset, position)
            };
            active.sync_log()?;
            let mut state = self.lock();
            state.last_flush_ms = self.clock.now_ms();
            if state.config.durable_appends() {
                state.set_high_watermark(HighWatermark {
                    offset: leo,
                    segment_base: active.base_offset(),
                    position,
                });
            }
            Ok(leo)
        })
    }

    /// fsyncs everything appended so far, indexes included.
    pub fn flush(&self) -> Result<(), MaintenanceError> {
        self.maintenance_check()?;
        let (active, leo) = {
            let state = self.lock();
            (state.active().clone(), state.log_end_offset)
        };
        active.flush().map_err(|e| self.io_failure("flush", e))?;
        self.sync_through(leo)
            .map_err(|e| self.io_failure("flush", e))
    }

    /// Flushes if `flush.ms` has passed since the last flush and anything is unflushed; for a
    /// periodic scheduler.
    pub fn flush_if_due(&self) -> Result<bool, MaintenanceError> {
        let due = {
            let state = self.lock();
            state.log_end_offset > self.group_commit.durable_end()
                && self.clock.now_ms() - state.last_flush_ms >= state.config.flush_ms
        };
        if due {
            self.flush()?;
        }
        Ok(due)
    }

    /// Reads whole batches starting with the one that holds `fetch_offset`, up to `max_bytes`
    /// — but always at least one batch, however large, as Kafka does — from a single segment,
    /// never past the high watermark.
    pub fn read(&self, fetch_offset: i64, max_bytes: usize) -> Result<ReadResult, ReadError> {
        self.read_isolated(fetch_offset, max_bytes, Isolation::ReadUncommitted)
    }

    /// [`PartitionLog::read`] at an isolation level: read_committed stops at the last stable
    /// offset (whole batches below it; transactions never share a batch) and reports the
    /// aborted transactions that overlap what it returns.
    pub fn read_isolated(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        isolation: Isolation,
    ) -> Result<ReadResult, ReadError> {
        let mut result = self.read_uncommitted(fetch_offset, max_bytes)?;
        if isolation == Isolation::ReadUncommitted {
            return Ok(result);
        }
        let lso = result.last_stable_offset;
        // One walk over the headers: the stable batches' bytes and the offset after them.
        let (stable, upper) = Batches::new(result.records.clone())
            .map_while(Result::ok)
            .take_while(|b| b.last_offset() < lso)
            .fold((0usize, fetch_offset), |(size, _), b| {
                (size + b.size(), b.next_offset())
            });
        result.records = result.records.slice(..stable);
        result.aborted_transactions = Some(if upper > fetch_offset {
            crate::txn_index::overlapping(&self.lock().aborted, fetch_offset, upper)
        } else {
            Vec::new()
        });
        Ok(result)
    }

    fn read_uncommitted(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
    ) -> Result<ReadResult, ReadError> {
        let (hw, lso, log_start_offset, log_end_offset, mut segment) = {
            let state = self.lock();
            if fetch_offset < state.log_start_offset || fetch_offset > state.log_end_offset {
                return Err(ReadError::OffsetOutOfRange {
                    log: self.dir.clone(),
                    offset: fetch_offset,
                    log_start_offset: state.log_start_offset,
                    log_end_offset: state.log_end_offset,
                });
            }
            let segment = state
                .segments
                .range(..=fetch_offset)
                .next_back()
                .or_else(|| state.segments.iter().next())
                .map(|(_, s)| s.clone());
            (
                state.high_watermark,
                state.last_stable_offset(),
                state.log_start_offset,
                state.log_end_offset,
                segment,
            )
        };
        let mut result = ReadResult {
            records: Bytes::new(),
            high_watermark: hw.offset,
            log_start_offset,
            log_end_offset,
            last_stable_offset: lso,
            aborted_transactions: None,
        };
        if fetch_offset >= hw.offset {
            return Ok(result);
        }
        let io = |source| ReadError::Io {
            log: self.dir.clone(),
            source,
        };
        while let Some(seg) = segment {
            if seg.base_offset() > hw.segment_base {
                break;
            }
            let limit = if seg.base_offset() == hw.segment_base {
                hw.position
            } else {
                seg.size()
            };
            if let Some(found) = seg.find_batch(fetch_offset, limit).map_err(io)? {
                let available = limit - found.position;
                let wanted = (max_bytes as u64)
                    .max(found.header.size() as u64)
                    .min(available);
                let bytes = seg
                    .read_bytes(found.position, wanted as usize)
                    .map_err(io)?;
                let whole: usize = Batches::new(bytes.clone())
                    .map_while(Result::ok)
                    .map(|b| b.size())
                    .sum();
                result.records = bytes.slice(..whole);
                return Ok(result);
            }
            segment = self
                .lock()
                .segments
                .range(seg.base_offset() + 1..)
                .next()
                .map(|(_, s)| s.clone());
        }
        Ok(result)
    }

    /// Finds an offset by time, with Kafka's ListOffsets semantics. `None` when no record
    /// qualifies (Kafka answers -1).
    pub fn lookup_offset(&self, spec: OffsetSpec) -> Result<Option<TimestampAndOffset>, ReadError> {
        self.lookup_offset_isolated(spec, Isolation::ReadUncommitted)
    }

    /// [`PartitionLog::lookup_offset`] at an isolation level: read_committed answers Latest
    /// with the last stable offset and finds nothing at or past it, as Kafka does.
    pub fn lookup_offset_isolated(
        &self,
        spec: OffsetSpec,
        isolation: Isolation,
    ) -> Result<Option<TimestampAndOffset>, ReadError> {
        if isolation == Isolation::ReadUncommitted {
            return self.lookup_uncommitted(spec);
        }
        let lso = self.last_stable_offset();
        if spec == OffsetSpec::Latest {
            return Ok(Some(TimestampAndOffset {
                timestamp: -1,
                offset: lso,
            }));
        }
        Ok(self
            .lookup_uncommitted(spec)?
            .filter(|found| spec == OffsetSpec::Earliest || found.offset < lso))
    }

    fn lookup_uncommitted(
        &self,
        spec: OffsetSpec,
    ) -> Result<Option<TimestampAndOffset>, ReadError> {
        let (segments, hw, log_start) = {
            let state = self.lock();
            let segments: Vec<_> = state.segments.values().cloned().collect();
            (segments, state.high_watermark, state.log_start_offset)
        };
        let io = |source| ReadError::Io {
            log: self.dir.clone(),
            source,
        };
        let corrupt = |e: brook_protocol::RecordError| ReadError::Io {
            log: self.dir.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        };
        let (target, exact) = match spec {
            OffsetSpec::Earliest => {
                return Ok(Some(TimestampAndOffset {
                    timestamp: -1,
                    offset: log_start,
                }));
            }
            OffsetSpec::Latest => {
                return Ok(Some(TimestampAndOffset {
                    timestamp: -1,
                    offset: hw.offset,
                }));
            }
            OffsetSpec::Timestamp(t) => (t, false),
            OffsetSpec::MaxTimestamp => {
                let max = segments
                    .iter()
                    .map(|s| s.max_timestamp().0)
                    .max()
                    .unwrap_or(-1);
                if max < 0 {
                    return Ok(None);
                }
                (max, true)
            }
        };
        for seg in segments {
            if seg.base_offset() > hw.segment_base {
                break;
            }
            if seg.max_timestamp().0 < target {
                continue;
            }
            let limit = if seg.base_offset() == hw.segment_base {
                hw.position
            } else {
                seg.size()
            };
            let start_offset = seg.index().offset_for_timestamp(target).max(log_start);
            let position = seg.index().position_for_offset(start_offset);
            for item in seg.batches_from(position, limit) {
                let (_, batch) = item.map_err(io)?;
                if batch.max_timestamp() < target || batch.last_offset() < log_start {
                    continue;
                }
                let hit = batch.records().map_err(corrupt)?.into_iter().find(|r| {
                    r.offset >= log_start
                        && if exact {
                            r.timestamp == target
                        } else {
                            r.timestamp >= target
                        }
                });
                if let Some(r) = hit {
                    return Ok(Some(TimestampAndOffset {
                        timestamp: r.timestamp,
                        offset: r.offset,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// Moves the log start offset to `offset` (Kafka's DeleteRecords) and deletes segments that
    /// lie wholly below it. Returns the new log start offset.
    pub fn delete_records(&self, offset: i64) -> Result<i64, MaintenanceError> {
        self.maintenance_check()?;
        let mut state = self.lock();
        if offset > state.high_watermark.offset || offset < 0 {
            return Err(MaintenanceError::OffsetOutOfRange {
                log: self.dir.clone(),
                offset,
                high_watermark: state.high_watermark.offset,
            });
        }
        let previous_start = state.log_start_offset;
        // Segments wholly below the log start offset go even when it does not move: a roll
        // since the last call may have closed the segment that held it.
        state.log_start_offset = state.log_start_offset.max(offset);
        let removed = self.remove_below_log_start(&mut state);
        if offset > previous_start || !removed.is_empty() {
            self.retire(&state, &removed, "delete-records")?;
        }
        let start = state.log_start_offset;
        drop(state);
        self.unlink(removed);
        Ok(start)
    }

    /// Applies `retention.ms`, `retention.bytes` and the log start offset to closed segments
    /// when the cleanup policy includes `delete`.
    pub fn enforce_retention(&self) -> Result<RetentionOutcome, MaintenanceError> {
        self.maintenance_check()?;
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let mut doomed: Vec<i64> = Vec::new();
        if state.config.cleanup_policy.deletes() {
            let closed: Vec<Arc<LogSegment>> = state
                .segments
                .values()
                .rev()
                .skip(1)
                .rev()
                .cloned()
                .collect();
            let retention_ms = state.config.retention_ms;
            if retention_ms >= 0 {
                for seg in closed.iter() {
                    let largest = match seg.max_timestamp().0 {
                        ts if ts >= 0 => ts,
                        _ => file_mtime_ms(&seg.log_path()).unwrap_or(now),
                    };
                    if now - largest <= retention_ms {
                        break;
                    }
                    doomed.push(seg.base_offset());
                }
            }
            let retention_bytes = state.config.retention_bytes;
            if retention_bytes >= 0 {
                let total: u64 = state.segments.values().map(|s| s.size()).sum();
                let mut excess = total as i64 - retention_bytes;
                for seg in closed.iter() {
                    if excess - (seg.size() as i64) < 0 {
                        break;
                    }
                    excess -= seg.size() as i64;
                    if !doomed.contains(&seg.base_offset()) {
                        doomed.push(seg.base_offset());
                    }
                }
            }
        }
        let mut removed: Vec<Arc<LogSegment>> = doomed
            .iter()
            .filter_map(|base| state.segments.remove(base))
            .collect();
        let first = *state
            .segments
            .keys()
            .next()
            .expect("active segment remains");
        state.log_start_offset = state.log_start_offset.max(first);
        removed.extend(self.remove_below_log_start(&mut state));
        let deleted_bytes = removed.iter().map(|s| s.size()).sum();
        let deleted_segments: Vec<i64> = removed.iter().map(|s| s.base_offset()).collect();
        if !removed.is_empty() {
            self.retire(&state, &removed, "retention")?;
        }
        let log_start_offset = state.log_start_offset;
        drop(state);
        self.unlink(removed);
        Ok(RetentionOutcome {
            deleted_segments,
            deleted_bytes,
            log_start_offset,
        })
    }

    /// Takes out of the map the closed segments whose successor starts at or below the log
    /// start offset; the caller retires them.
    fn remove_below_log_start(&self, state: &mut LogState) -> Vec<Arc<LogSegment>> {
        let bases: Vec<i64> = state.segments.keys().copied().collect();
        let mut removed = Vec::new();
        for pair in bases.windows(2) {
            if pair[1] <= state.log_start_offset {
                removed.push(state.segments.remove(&pair[0]).expect("listed above"));
            }
        }
        if let Some(&first) = state.segments.keys().next() {
            // Their `.txnindex` files go with them.
            state.aborted.retain(|e| e.last_offset >= first);
        }
        removed
    }

    /// Renames the files of segments taken out of the log to `.deleted` and records the new
    /// log start offset in the checkpoint, under the lock; the caller unlinks them after
    /// releasing it. A crash in between leaves `.deleted` files that open removes.
    fn retire(
        &self,
        state: &LogState,
        removed: &[Arc<LogSegment>],
        operation: &'static str,
    ) -> Result<(), MaintenanceError> {
        self.rename_deleted(removed)
            .map_err(|e| self.io_failure(operation, e))?;
        let durable = self.group_commit.durable_end();
        state
            .checkpoint(durable)
            .write(&self.dir)
            .map_err(|e| self.io_failure(operation, e))
    }

    fn rename_deleted(&self, segments: &[Arc<LogSegment>]) -> std::io::Result<()> {
        for seg in segments {
            for suffix in SEGMENT_SUFFIXES {
                let path = segment_path(&self.dir, seg.base_offset(), suffix);
                match std::fs::rename(&path, with_extra_suffix(&path, DELETED_SUFFIX)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn unlink(&self, segments: Vec<Arc<LogSegment>>) {
        for seg in segments {
            for suffix in SEGMENT_SUFFIXES {
                let path = segment_path(&self.dir, seg.base_offset(), suffix);
                let _ = std::fs::remove_file(with_extra_suffix(&path, DELETED_SUFFIX));
            }
        }
    }

    /// Flushes everything, writes the checkpoint and the clean-shutdown marker. Later calls on
    /// this handle fail with "closed"; open the directory again to continue.
    pub fn close(&self) -> Result<(), MaintenanceError> {
        self.maintenance_check()?;
        let state = self.lock();
        let active = state.active().clone();
        active.on_become_inactive();
        active.flush().map_err(|e| self.io_failure("close", e))?;
        self.group_commit.mark_durable(state.log_end_offset);
        state
            .checkpoint(state.log_end_offset)
            .write(&self.dir)
            .map_err(|e| self.io_failure("close", e))?;
        std::fs::File::create(self.dir.join(CLEAN_SHUTDOWN_FILE))
            .and_then(|f| f.sync_all())
            .and_then(|_| sync_dir(&self.dir))
            .map_err(|e| self.io_failure("close", e))?;
        self.status.store(CLOSED, Ordering::Release);
        Ok(())
    }

    /// Deletes the log's directory and everything in it (DeleteTopics).
    pub fn delete(self) -> Result<(), MaintenanceError> {
        self.status.store(CLOSED, Ordering::Release);
        std::fs::remove_dir_all(&self.dir).map_err(|e| self.io_failure("delete", e))
    }
}

/// (producer id, epoch, first sequence, last sequence) of an idempotent batch.
fn idempotence(batch: &RecordBatch) -> Option<(i64, i16, i32, i32)> {
    let (producer_id, first_seq) = (batch.producer_id(), batch.base_sequence());
    (producer_id >= 0 && first_seq >= 0).then(|| {
        let last_seq = crate::producer_state::last_sequence(first_seq, batch.last_offset_delta());
        (producer_id, batch.producer_epoch(), first_seq, last_seq)
    })
}

/// Rebuilds producer state (sequences and open transactions) and the aborted-transaction
/// index from the batch headers of every segment, reading the one record of each control
/// batch. The `.txnindex` files are rewritten where they disagree, so a crash between a
/// marker and its index entry, a truncation or a lost file all heal here.
fn transactions_from(
    dir: &Path,
    segments: &BTreeMap<i64, Arc<LogSegment>>,
) -> (crate::producer_state::ProducerState, Vec<AbortedTxn>) {
    use brook_protocol::control::{ControlType, batch_marker};
    let mut state = crate::producer_state::ProducerState::default();
    let mut aborted = Vec::new();
    for segment in segments.values() {
        let size = segment.size();
        let mut position = 0;
        let mut here = Vec::new();
        while let Ok(Some(header)) = segment.header_at(position, size) {
            let attributes = header.attributes;
            if attributes.is_control() && header.producer_id >= 0 {
                let marker = segment
                    .read_bytes(position, header.size())
                    .ok()
                    .and_then(|bytes| RecordBatch::new(bytes).ok())
                    .and_then(|batch| batch_marker(&batch).ok().flatten());
                let closed = state.complete_txn(
                    header.producer_id,
                    header.producer_epoch,
                    header.base_offset,
                    header.max_timestamp,
                );
                if let (Some(closed), Some(marker)) = (closed, marker)
                    && marker.control_type == ControlType::Abort
                {
                    here.push(AbortedTxn {
                        producer_id: header.producer_id,
                        first_offset: closed.first_offset,
                        last_offset: header.base_offset,
                        last_stable_offset: closed.last_stable_offset,
                    });
                }
            } else if header.producer_id >= 0 {
                if header.base_sequence >= 0 {
                    let last_seq = crate::producer_state::last_sequence(
                        header.base_sequence,
                        header.last_offset_delta,
                    );
                    state.update(
                        header.producer_id,
                        header.producer_epoch,
                        header.base_sequence,
                        last_seq,
                        header.base_offset,
                        header.last_offset(),
                    );
                }
                if attributes.is_transactional() {
                    state.track_transactional(
                        header.producer_id,
                        header.base_offset,
                        header.max_timestamp,
                    );
                }
            }
            position += header.size() as u64;
        }
        let path = segment_path(dir, segment.base_offset(), TXN_INDEX_SUFFIX);
        if let Err(e) = crate::txn_index::rewrite_file(&path, &here) {
            tracing::warn!(path = %path.display(), error = %e, "cannot rewrite the aborted-transaction index");
        }
        aborted.extend(here);
    }
    (state, aborted)
}

fn file_mtime_ms(path: &Path) -> Option<i64> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(
        modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis() as i64,
    )
}
