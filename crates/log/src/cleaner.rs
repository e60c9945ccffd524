//! Compaction for `cleanup.policy=compact` (and `compact,delete`): keep the latest record per
//! key, at its original offset.
//!
//! One pass:
//! 1. Snapshot the closed segments (never the active one) that are older than
//!    `min.compaction.lag.ms`, and map every key to its latest offset among them.
//! 2. Rewrite each segment that has superseded records into `<base>.log.cleaned`: a batch whose
//!    records all survive is copied byte for byte; a batch with some survivors is rebuilt with
//!    the same base offset, last offset delta, codec and producer fields (Kafka's
//!    `MemoryRecords.filterTo`); a batch with none is dropped, except an idempotent producer's
//!    newest batch, which stays as an empty batch so that the producer's sequence state
//!    survives a rebuild from the log (Kafka keeps it too). Tombstones (null values) survive
//!    until `delete.retention.ms` after the newest timestamp of their segment.
//! 3. fsync, rename to `.log.swap`, then — holding the log lock only for the renames — swap it
//!    in for the original. Recovery completes a swap interrupted by a crash.
//!
//! Transactions: only segments wholly below the first unstable offset are cleaned (an open
//! transaction's outcome is not known yet). Batches of aborted transactions (found in the
//! aborted-transaction index) are removed and never count as a key's latest value. A COMMIT
//! or ABORT marker is removed once none of its transaction's batches remain before it and its
//! segment is older than `delete.retention.ms` — consumers that read past it by then have
//! seen it — as Kafka's cleaner removes markers in a later pass.
//!
//! Appends and reads continue throughout: only step 3 takes the log lock, and readers that
//! already hold the old segment keep reading its (unlinked) file.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use brook_protocol::{Record, RecordBatch, rebuild_batch};
use bytes::Bytes;

use crate::checkpoint::sync_dir;
use crate::error::MaintenanceError;
use crate::index::SegmentIndex;
use crate::naming::{
    CLEANED_SUFFIX, INDEX_SUFFIXES, LOG_SUFFIX, SWAP_SUFFIX, segment_path, with_extra_suffix,
};
use crate::partition_log::PartitionLog;
use crate::recovery::remove_if_exists;
use crate::segment::LogSegment;

/// Where the last compaction pass got to, so that a pass with nothing new to do is skipped.
#[derive(Debug, Default)]
pub(crate) struct CleanerMark {
    /// End (next segment's base offset) of the cleanable range last time.
    clean_through: Option<i64>,
    /// When that pass ran.
    at_ms: i64,
}

/// A pass over an unchanged cleanable range still runs this often, so that tombstones expire.
const RECHECK_MS: i64 = 3_600_000;

/// What a compaction pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionOutcome {
    /// Segments rewritten and swapped in.
    pub segments_cleaned: usize,
    /// Records removed (superseded values and expired tombstones).
    pub records_removed: u64,
    /// Size of the rewritten segments before.
    pub bytes_before: u64,
    /// Size of the rewritten segments after.
    pub bytes_after: u64,
}

impl PartitionLog {
    /// Runs one compaction pass if the cleanup policy includes `compact`. Safe to call from a
    /// background thread while appends and reads go on; passes on one log never overlap.
    pub fn compact(&self) -> Result<CompactionOutcome, MaintenanceError> {
        self.maintenance_check()?;
        let mut mark = self.cleaner.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now_ms();
        let (config, cleanable, clean_through, producer_tails, mut txns) = {
            let state = self.lock();
            let producer_tails = state.producers.last_batch_offsets();
            let lag = state.config.min_compaction_lag_ms;
            // Closed segments that end at or below the first unstable offset.
            let stable_end = state.producers.first_unstable_offset().unwrap_or(i64::MAX);
            let bases: Vec<i64> = state.segments.keys().copied().collect();
            let cleanable: Vec<Arc<LogSegment>> = bases
                .windows(2)
                .take_while(|pair| pair[1] <= stable_end)
                .map(|pair| state.segments[&pair[0]].clone())
                .take_while(|s| lag == 0 || s.max_timestamp().0 <= now - lag)
                .collect();
            let txns = TxnCleaning::new(&state.aborted);
            let clean_through = state
                .segments
                .range(cleanable.last().map_or(i64::MIN, |s| s.base_offset() + 1)..)
                .next()
                .map(|(base, _)| *base);
            (
                state.config.clone(),
                cleanable,
                clean_through,
                producer_tails,
                txns,
            )
        };
        let mut outcome = CompactionOutcome::default();
        if !config.cleanup_policy.compacts() || cleanable.is_empty() {
            return Ok(outcome);
        }
        // Nothing rolled since the last pass: only tombstone expiry could change anything.
        let recheck = config.delete_retention_ms.clamp(1, RECHECK_MS);
        let nothing_new = mark.clean_through == clean_through;
        if nothing_new && now - mark.at_ms < recheck {
            return Ok(outcome);
        }
        // New segments: worth a pass once they are `min.cleanable.dirty.ratio` of the
        // cleanable bytes, or once the oldest of them waited `max.compaction.lag.ms`.
        if !nothing_new && !self.dirty_enough(&cleanable, mark.clean_through, &config, now) {
            return Ok(outcome);
        }
        let io = |e| self.io_failure("compaction", e);

        let mut latest: HashMap<Bytes, i64> = HashMap::new();
        for segment in &cleanable {
            for item in segment.batches_from(0, segment.size()) {
                let (_, batch) = item.map_err(io)?;
                if batch.attributes().is_control() || txns.is_aborted(&batch) {
                    continue;
                }
                for record in decode(&batch).map_err(io)? {
                    if let Some(key) = record.key {
                        latest.insert(key, record.offset);
                    }
                }
            }
        }

        for segment in &cleanable {
            let (max_timestamp, _) = segment.max_timestamp();
            let tombstones_expire = max_timestamp >= 0
                && max_timestamp.saturating_add(config.delete_retention_ms) < now;
            let keep = |r: &Record| match &r.key {
                None => true,
                Some(key) => {
                    latest.get(key) == Some(&r.offset) && !(r.value.is_none() && tombstones_expire)
                }
            };
            txns.markers_expire = tombstones_expire;
            let Some(cleaned) = self
                .rewrite_segment(
                    segment,
                    &keep,
                    &producer_tails,
                    &mut txns,
                    config.index_interval_bytes,
                )
                .map_err(io)?
            else {
                continue;
            };
            let (size, removed, index) = cleaned;
            if self.swap_in(segment, size, index).map_err(io)? {
                outcome.segments_cleaned += 1;
                outcome.records_removed += removed;
                outcome.bytes_before += segment.size();
                outcome.bytes_after += size;
            }
        }
        *mark = CleanerMark {
            clean_through,
            at_ms: now,
        };
        tracing::debug!(log = %self.dir.display(), ?outcome, "compaction pass done");
        Ok(outcome)
    }

    /// Whether the segments after `cleaned_through` (the dirty ones) make a pass worthwhile,
    /// as Kafka's cleaner decides: their share of the cleanable bytes reaches
    /// `min.cleanable.dirty.ratio`, or the first of them holds a record older than
    /// `max.compaction.lag.ms`.
    fn dirty_enough(
        &self,
        cleanable: &[Arc<LogSegment>],
        cleaned_through: Option<i64>,
        config: &crate::LogConfig,
        now: i64,
    ) -> bool {
        let first_dirty = cleaned_through.unwrap_or(i64::MIN);
        let total: u64 = cleanable.iter().map(|s| s.size()).sum();
        let dirty: Vec<&Arc<LogSegment>> = cleanable
            .iter()
            .filter(|s| s.base_offset() >= first_dirty)
            .collect();
        let dirty_bytes: u64 = dirty.iter().map(|s| s.size()).sum();
        if total > 0 && dirty_bytes as f64 / total as f64 >= config.min_cleanable_dirty_ratio {
            return true;
        }
        let oldest = dirty.first().and_then(|segment| {
            segment
                .batches_from(0, segment.size())
                .next()
                .and_then(Result::ok)
                .map(|(_, batch)| batch.base_timestamp())
        });
        oldest.is_some_and(|t| t >= 0 && now.saturating_sub(t) >= config.max_compaction_lag_ms)
    }

    /// Writes the surviving records of `segment` to `<base>.log.cleaned`. `None` when nothing
    /// would be removed (the file is not kept).
    fn rewrite_segment(
        &self,
        segment: &LogSegment,
        keep: &dyn Fn(&Record) -> bool,
        producer_tails: &HashSet<i64>,
        txns: &mut TxnCleaning,
        index_interval: u64,
    ) -> io::Result<Option<(u64, u64, SegmentIndex)>> {
        let base = segment.base_offset();
        let path = cleaned_path(&self.dir, base, CLEANED_SUFFIX);
        let mut out = io::BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let mut index = SegmentIndex::new(base);
        let mut position = 0u64;
        let mut removed = 0u64;
        for item in segment.batches_from(0, segment.size()) {
            let (_, batch) = item?;
            let producer_id = batch.producer_id();
            let bytes = if batch.attributes().is_control() {
                let has_data = txns.with_data.remove(&producer_id);
                if txns.markers_expire && !has_data {
                    removed += 1;
                    continue;
                }
                batch.as_bytes().clone()
            } else {
                let records = decode(&batch)?;
                let total = records.len();
                let survivors: Vec<Record> = if txns.is_aborted(&batch) {
                    Vec::new()
                } else {
                    records.into_iter().filter(|r| keep(r)).collect()
                };
                removed += (total - survivors.len()) as u64;
                let kept = !survivors.is_empty()
                    || (producer_id >= 0 && producer_tails.contains(&batch.last_offset()));
                if kept && batch.attributes().is_transactional() {
                    // Its marker must stay, or a rebuild would think the transaction open.
                    txns.with_data.insert(producer_id);
                }
                if survivors.len() == total {
                    batch.as_bytes().clone()
                } else if !kept {
                    continue;
                } else {
                    // The original codec, at its default level.
                    let codec = batch
                        .attributes()
                        .compression()
                        .unwrap_or(brook_protocol::Compression::None);
                    rebuild_batch(&batch, &survivors, codec, None)
                }
            };
            let stored = RecordBatch::new(bytes.clone()).map_err(invalid_data)?;
            out.write_all(&bytes)?;
            index.on_batch(
                stored.last_offset(),
                stored.max_timestamp(),
                position,
                bytes.len() as u64,
                index_interval,
            );
            position += bytes.len() as u64;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if removed == 0 {
            drop(file);
            fs::remove_file(&path)?;
            return Ok(None);
        }
        file.sync_all()?;
        index.maybe_append_time_entry();
        Ok(Some((position, removed, index)))
    }

    /// Replaces `old` with its cleaned version if it is still part of the log. Returns whether
    /// the swap happened.
    fn swap_in(&self, old: &Arc<LogSegment>, size: u64, index: SegmentIndex) -> io::Result<bool> {
        let base = old.base_offset();
        let cleaned = cleaned_path(&self.dir, base, CLEANED_SUFFIX);
        let swap = cleaned_path(&self.dir, base, SWAP_SUFFIX);
        fs::rename(&cleaned, &swap)?;
        sync_dir(&self.dir)?;
        let mut state = self.lock();
        let still_there = state
            .segments
            .get(&base)
            .is_some_and(|current| Arc::ptr_eq(current, old));
        if !still_there {
            drop(state);
            fs::remove_file(&swap)?;
            return Ok(false);
        }
        // Stale indexes go first: if we crash before the new ones are written, open rebuilds them.
        for suffix in INDEX_SUFFIXES {
            remove_if_exists(&segment_path(&self.dir, base, suffix))?;
        }
        let log_path = segment_path(&self.dir, base, LOG_SUFFIX);
        fs::rename(&swap, &log_path)?;
        let file = OpenOptions::new().read(true).append(true).open(&log_path)?;
        let segment = LogSegment::from_parts(&self.dir, base, file, size, index, old.created_ms());
        segment
            .index()
            .rewrite(&segment.index_path(), &segment.time_index_path())?;
        sync_dir(&self.dir)?;
        state.segments.insert(base, Arc::new(segment));
        Ok(true)
    }
}

/// What the cleaner knows about transactions during a pass.
struct TxnCleaning {
    /// Aborted ranges (first offset, marker offset) per producer.
    aborted: HashMap<i64, Vec<(i64, i64)>>,
    /// Producers with a batch kept since their last marker.
    with_data: HashSet<i64>,
    /// Whether markers in the segment being cleaned are old enough to go.
    markers_expire: bool,
}

impl TxnCleaning {
    fn new(aborted: &[crate::txn_index::AbortedTxn]) -> Self {
        let mut by_producer: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for entry in aborted {
            by_producer
                .entry(entry.producer_id)
                .or_default()
                .push((entry.first_offset, entry.last_offset));
        }
        TxnCleaning {
            aborted: by_producer,
            with_data: HashSet::new(),
            markers_expire: false,
        }
    }

    /// Whether `batch` belongs to an aborted transaction.
    fn is_aborted(&self, batch: &RecordBatch) -> bool {
        batch.attributes().is_transactional()
            && self
                .aborted
                .get(&batch.producer_id())
                .is_some_and(|ranges| {
                    let base = batch.base_offset();
                    ranges
                        .iter()
                        .any(|&(first, marker)| first <= base && base < marker)
                })
    }
}

fn cleaned_path(dir: &std::path::Path, base: i64, extra: &str) -> PathBuf {
    with_extra_suffix(&segment_path(dir, base, LOG_SUFFIX), extra)
}

fn decode(batch: &RecordBatch) -> io::Result<Vec<Record>> {
    batch.records().map_err(invalid_data)
}

fn invalid_data(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}
