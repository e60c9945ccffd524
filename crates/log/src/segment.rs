//! One segment: a `.log` file of stored batches plus its two sparse indexes.

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use brook_protocol::record_batch::RECORD_BATCH_OVERHEAD;
use brook_protocol::{BatchHeader, RecordBatch};
use bytes::{Bytes, BytesMut};

use crate::index::SegmentIndex;
use crate::naming::{INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_path};

/// Where a batch sits in a segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchPosition {
    pub position: u64,
    pub header: BatchHeader,
}

/// What a full scan of a segment file found.
#[derive(Debug)]
pub(crate) struct ScanOutcome {
    /// Bytes of intact batches from the start of the file.
    pub valid_bytes: u64,
    /// The offset after the last intact batch, if any.
    pub next_offset: Option<i64>,
    /// Why the scan stopped before the end of the file.
    pub damage: Option<String>,
    /// Indexes rebuilt from the intact batches.
    pub index: SegmentIndex,
}

/// A segment of a partition log.
///
/// Concurrency: shared as `Arc<LogSegment>`. Only the log's writer (holding the log's state lock)
/// appends; readers call [`LogSegment::read_exact_at`] and the index lookups from any thread.
/// The file is append-only while active and immutable once rolled, except for the cleaner, which
/// replaces a rolled segment with a new `LogSegment` rather than changing this one.
#[derive(Debug)]
pub(crate) struct LogSegment {
    dir: PathBuf,
    base_offset: i64,
    file: File,
    size: AtomicU64,
    index: Mutex<SegmentIndex>,
    created_ms: i64,
}

impl LogSegment {
    /// Creates a new, empty segment; stale index files with the same base offset are truncated.
    pub fn create(dir: &Path, base_offset: i64, now_ms: i64) -> io::Result<Self> {
        let path = segment_path(dir, base_offset, LOG_SUFFIX);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        file.set_len(0)?;
        File::create(segment_path(dir, base_offset, INDEX_SUFFIX))?;
        File::create(segment_path(dir, base_offset, TIME_INDEX_SUFFIX))?;
        Ok(Self::from_parts(
            dir,
            base_offset,
            file,
            0,
            SegmentIndex::new(base_offset),
            now_ms,
        ))
    }

    /// Opens an existing `.log` file; the caller supplies the (loaded or rebuilt) index.
    pub fn open_file(dir: &Path, base_offset: i64) -> io::Result<(File, u64)> {
        let path = segment_path(dir, base_offset, LOG_SUFFIX);
        let file = OpenOptions::new().read(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok((file, size))
    }

    pub fn from_parts(
        dir: &Path,
        base_offset: i64,
        file: File,
        size: u64,
        mut index: SegmentIndex,
        created_ms: i64,
    ) -> Self {
        index.resume_after_load(size);
        LogSegment {
            dir: dir.to_path_buf(),
            base_offset,
            file,
            size: AtomicU64::new(size),
            index: Mutex::new(index),
            created_ms,
        }
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Acquire)
    }

    pub fn created_ms(&self) -> i64 {
        self.created_ms
    }

    pub fn log_path(&self) -> PathBuf {
        segment_path(&self.dir, self.base_offset, LOG_SUFFIX)
    }

    pub fn index_path(&self) -> PathBuf {
        segment_path(&self.dir, self.base_offset, INDEX_SUFFIX)
    }

    pub fn time_index_path(&self) -> PathBuf {
        segment_path(&self.dir, self.base_offset, TIME_INDEX_SUFFIX)
    }

    pub fn index(&self) -> MutexGuard<'_, SegmentIndex> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Largest batch max-timestamp in the segment (-1 when none), and the last offset of that batch.
    pub fn max_timestamp(&self) -> (i64, i64) {
        let index = self.index();
        (index.max_timestamp, index.offset_of_max_timestamp)
    }

    /// Appends already-patched batch bytes in one vectored write and updates the indexes.
    /// `batches` describes each batch: (last offset, max timestamp, size).
    pub fn append(
        &self,
        slices: &[IoSlice<'_>],
        batches: &[(i64, i64, u64)],
        index_interval: u64,
    ) -> io::Result<()> {
        let start = self.size();
        if let Err(e) = write_all_vectored(&self.file, slices) {
            // Leave no partial batch behind; if even that fails the caller takes the log offline.
            self.file.set_len(start)?;
            return Err(e);
        }
        let mut position = start;
        let mut index = self.index();
        for &(last_offset, max_timestamp, size) in batches {
            index.on_batch(last_offset, max_timestamp, position, size, index_interval);
            position += size;
        }
        drop(index);
        self.size.store(position, Ordering::Release);
        Ok(())
    }

    /// Reads `len` bytes at `position` into a fresh buffer.
    pub fn read_bytes(&self, position: u64, len: usize) -> io::Result<Bytes> {
        let mut buf = BytesMut::zeroed(len);
        self.file.read_exact_at(&mut buf, position)?;
        Ok(buf.freeze())
    }

    /// Reads the batch header at `position`; `None` at or beyond `limit`.
    pub fn header_at(&self, position: u64, limit: u64) -> io::Result<Option<BatchHeader>> {
        if position + RECORD_BATCH_OVERHEAD as u64 > limit {
            return Ok(None);
        }
        let mut buf = [0u8; RECORD_BATCH_OVERHEAD];
        self.file.read_exact_at(&mut buf, position)?;
        BatchHeader::parse(&buf)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The first batch below `limit` whose last offset is at least `target`, found from the
    /// offset index's floor entry.
    pub fn find_batch(&self, target: i64, limit: u64) -> io::Result<Option<BatchPosition>> {
        let mut position = self.index().position_for_offset(target);
        while let Some(header) = self.header_at(position, limit)? {
            if header.last_offset() >= target {
                return Ok(Some(BatchPosition { position, header }));
            }
            position += header.size() as u64;
        }
        Ok(None)
    }

    /// Iterates over whole batches from `position` to `limit`, reading each fully.
    pub fn batches_from(&self, position: u64, limit: u64) -> SegmentBatches<'_> {
        SegmentBatches {
            segment: self,
            position,
            limit,
        }
    }

    /// fsyncs the log file and writes and fsyncs pending index entries.
    pub fn flush(&self) -> io::Result<()> {
        self.file.sync_data()?;
        self.index()
            .persist(&self.index_path(), &self.time_index_path(), true)
    }

    /// fsyncs only the log file (the group-commit path; indexes are rebuilt after a crash).
    pub fn sync_log(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Called when the segment stops being active: the time index gets its final entry.
    pub fn on_become_inactive(&self) {
        self.index().maybe_append_time_entry();
    }

    /// Walks the file from the start verifying every batch (length, magic, CRC, increasing
    /// offsets) and rebuilding the indexes. Stops at the first damage.
    pub fn scan(&self, index_interval: u64, max_batch_size: usize) -> io::Result<ScanOutcome> {
        let file_len = self.file.metadata()?.len();
        let mut index = SegmentIndex::new(self.base_offset);
        let mut position = 0u64;
        let mut next_offset: Option<i64> = None;
        let mut buf = BytesMut::new();
        let damage = loop {
            if position == file_len {
                break None;
            }
            let remaining = file_len - position;
            if remaining < RECORD_BATCH_OVERHEAD as u64 {
                break Some(format!("torn batch header ({remaining} bytes at the end)"));
            }
            let mut header_buf = [0u8; RECORD_BATCH_OVERHEAD];
            self.file.read_exact_at(&mut header_buf, position)?;
            let size = match BatchHeader::parse(&header_buf) {
                Ok(header) => header.size(),
                Err(e) => break Some(e.to_string()),
            };
            if size > max_batch_size {
                break Some(format!(
                    "batch of {size} bytes exceeds the {max_batch_size}-byte limit"
                ));
            }
            if size as u64 > remaining {
                break Some(format!(
                    "torn batch: {size} bytes declared, {remaining} present"
                ));
            }
            buf.clear();
            buf.resize(size, 0);
            self.file.read_exact_at(&mut buf, position)?;
            let batch = match RecordBatch::new(buf.split().freeze()) {
                Ok(batch) => batch,
                Err(e) => break Some(e.to_string()),
            };
            if let Err(e) = batch.verify_crc() {
                break Some(e.to_string());
            }
            let min_offset = next_offset.unwrap_or(self.base_offset);
            if batch.base_offset() < min_offset {
                break Some(format!(
                    "batch base offset {} is below the expected {min_offset}",
                    batch.base_offset()
                ));
            }
            // Offsets relative to the segment base must fit the indexes' 32 bits.
            let relative = batch.base_offset() - self.base_offset;
            let delta = i64::from(batch.last_offset_delta());
            if delta < 0 || relative > i64::from(i32::MAX) - delta {
                break Some(format!(
                    "batch at base offset {} does not fit a segment based at {}",
                    batch.base_offset(),
                    self.base_offset
                ));
            }
            index.on_batch(
                batch.last_offset(),
                batch.max_timestamp(),
                position,
                size as u64,
                index_interval,
            );
            next_offset = Some(batch.next_offset());
            position += size as u64;
        };
        Ok(ScanOutcome {
            valid_bytes: position,
            next_offset,
            damage,
            index,
        })
    }

    /// Cuts the file to `len` bytes and installs a rebuilt index.
    pub fn truncate_and_reindex(&self, len: u64, index: SegmentIndex) -> io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_all()?;
        self.size.store(len, Ordering::Release);
        let mut guard = self.index();
        *guard = index;
        guard.resume_after_load(len);
        guard.rewrite(&self.index_path(), &self.time_index_path())
    }
}

/// Whole batches of a segment read one at a time; see [`LogSegment::batches_from`].
pub(crate) struct SegmentBatches<'a> {
    segment: &'a LogSegment,
    position: u64,
    limit: u64,
}

impl Iterator for SegmentBatches<'_> {
    type Item = io::Result<(u64, RecordBatch)>;

    fn next(&mut self) -> Option<Self::Item> {
        let header = match self.segment.header_at(self.position, self.limit) {
            Ok(Some(header)) => header,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        let position = self.position;
        self.position += header.size() as u64;
        if self.position > self.limit {
            return None;
        }
        let result = self
            .segment
            .read_bytes(position, header.size())
            .and_then(|bytes| {
                RecordBatch::new(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            });
        Some(result.map(|batch| (position, batch)))
    }
}

/// `write_all` for a vectored write: loops over short writes, at most `IOV_MAX` slices a call.
fn write_all_vectored(mut file: &File, slices: &[IoSlice<'_>]) -> io::Result<()> {
    const IOV_MAX: usize = 1024;
    let mut owned = slices.to_vec();
    let mut rest: &mut [IoSlice<'_>] = &mut owned;
    while !rest.is_empty() {
        match file.write_vectored(&rest[..rest.len().min(IOV_MAX)]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write batch",
                ));
            }
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
