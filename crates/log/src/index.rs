//! The sparse offset index and time index of a segment, byte-compatible with Kafka's.
//!
//! Offset index entry (8 bytes): `relative_offset: u32 BE | position: u32 BE` — the last offset
//! of a batch, relative to the segment's base offset, and the byte position where that batch
//! starts. Time index entry (12 bytes): `timestamp: i64 BE | relative_offset: u32 BE` — the
//! largest timestamp seen so far in the segment and the last offset of the batch holding it.
//!
//! Entries live in memory and are appended to their files when the segment is flushed, rolled
//! or closed. An index that was not flushed before a crash is rebuilt from the log at open, so
//! writing them lazily loses nothing.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes per offset index entry.
pub const OFFSET_ENTRY_SIZE: u64 = 8;
/// Bytes per time index entry.
pub const TIME_ENTRY_SIZE: u64 = 12;

/// Why an index file was not trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexDamage {
    Missing,
    BadLength(u64),
    NotIncreasing(usize),
    OutOfRange(usize),
}

impl std::fmt::Display for IndexDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexDamage::Missing => write!(f, "file is missing"),
            IndexDamage::BadLength(len) => {
                write!(f, "length {len} is not a whole number of entries")
            }
            IndexDamage::NotIncreasing(i) => write!(f, "entry #{i} does not increase"),
            IndexDamage::OutOfRange(i) => write!(f, "entry #{i} points outside the segment"),
        }
    }
}

/// The two sparse indexes of one segment plus the bookkeeping that decides when to add entries.
///
/// Owned by its segment behind a mutex: appends come from the log's single writer, lookups from
/// any reader.
#[derive(Debug)]
pub(crate) struct SegmentIndex {
    base_offset: i64,
    offset_entries: Vec<(u32, u32)>,
    time_entries: Vec<(i64, u32)>,
    offset_persisted: usize,
    time_persisted: usize,
    bytes_since_last_entry: u64,
    /// Largest batch max-timestamp in the segment, and the last offset of that batch.
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
}

impl SegmentIndex {
    pub fn new(base_offset: i64) -> Self {
        SegmentIndex {
            base_offset,
            offset_entries: Vec::new(),
            time_entries: Vec::new(),
            offset_persisted: 0,
            time_persisted: 0,
            bytes_since_last_entry: 0,
            max_timestamp: -1,
            offset_of_max_timestamp: -1,
        }
    }

    pub fn offset_entries(&self) -> &[(u32, u32)] {
        &self.offset_entries
    }

    pub fn time_entries(&self) -> &[(i64, u32)] {
        &self.time_entries
    }

    /// Records one batch appended at `position`, adding index entries as Kafka's
    /// `LogSegment.append` does: an entry once more than `interval` bytes went by since the last.
    pub fn on_batch(
        &mut self,
        last_offset: i64,
        max_timestamp: i64,
        position: u64,
        size: u64,
        interval: u64,
    ) {
        if max_timestamp > self.max_timestamp {
            self.max_timestamp = max_timestamp;
            self.offset_of_max_timestamp = last_offset;
        }
        if self.bytes_since_last_entry > interval {
            let relative = self.relative(last_offset);
            if self
                .offset_entries
                .last()
                .is_none_or(|&(r, _)| relative > r)
            {
                self.offset_entries.push((relative, position as u32));
            }
            self.maybe_append_time_entry();
            self.bytes_since_last_entry = 0;
        }
        self.bytes_since_last_entry += size;
    }

    /// Adds a time entry for the max timestamp so far if it is newer than the last entry; called
    /// at index points and when the segment stops being active, so that the last time entry
    /// always carries the segment's max timestamp after a roll or a clean close.
    pub fn maybe_append_time_entry(&mut self) {
        if self.max_timestamp < 0 {
            return;
        }
        if self
            .time_entries
            .last()
            .is_none_or(|&(ts, _)| self.max_timestamp > ts)
        {
            let relative = self.relative(self.offset_of_max_timestamp);
            self.time_entries.push((self.max_timestamp, relative));
        }
    }

    fn relative(&self, offset: i64) -> u32 {
        (offset - self.base_offset) as u32
    }

    pub fn is_full(&self, max_offset_entries: usize, max_time_entries: usize) -> bool {
        self.offset_entries.len() >= max_offset_entries
            || self.time_entries.len() >= max_time_entries
    }

    /// Position to start scanning for `target`: the largest entry at or below it, else 0.
    pub fn position_for_offset(&self, target: i64) -> u64 {
        if target < self.base_offset {
            return 0;
        }
        let relative = (target - self.base_offset).min(u32::MAX as i64) as u32;
        let idx = self.offset_entries.partition_point(|&(r, _)| r <= relative);
        if idx == 0 {
            0
        } else {
            u64::from(self.offset_entries[idx - 1].1)
        }
    }

    /// Offset to start a timestamp search from: the entry with the largest timestamp at or below
    /// `timestamp`, else the base offset.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> i64 {
        let idx = self
            .time_entries
            .partition_point(|&(ts, _)| ts <= timestamp);
        if idx == 0 {
            self.base_offset
        } else {
            self.base_offset + i64::from(self.time_entries[idx - 1].1)
        }
    }

    /// Writes entries not yet in the files and optionally fsyncs them.
    pub fn persist(&mut self, offset_path: &Path, time_path: &Path, sync: bool) -> io::Result<()> {
        let mut buf = Vec::new();
        for &(relative, position) in &self.offset_entries[self.offset_persisted..] {
            buf.extend_from_slice(&relative.to_be_bytes());
            buf.extend_from_slice(&position.to_be_bytes());
        }
        append_file(offset_path, &buf, sync)?;
        self.offset_persisted = self.offset_entries.len();
        buf.clear();
        for &(timestamp, relative) in &self.time_entries[self.time_persisted..] {
            buf.extend_from_slice(&timestamp.to_be_bytes());
            buf.extend_from_slice(&relative.to_be_bytes());
        }
        append_file(time_path, &buf, sync)?;
        self.time_persisted = self.time_entries.len();
        Ok(())
    }

    /// Rewrites both files from scratch (after a rebuild).
    pub fn rewrite(&mut self, offset_path: &Path, time_path: &Path) -> io::Result<()> {
        File::create(offset_path)?;
        File::create(time_path)?;
        self.offset_persisted = 0;
        self.time_persisted = 0;
        self.persist(offset_path, time_path, true)
    }

    /// Loads both files, checking their shape: whole entries, strictly increasing offsets and
    /// timestamps, positions inside a segment of `segment_size` bytes. Whether the last entries
    /// agree with the log is checked by the caller, which can read the log.
    pub fn load(
        base_offset: i64,
        offset_path: &Path,
        time_path: &Path,
        segment_size: u64,
    ) -> Result<Self, (PathBuf, IndexDamage)> {
        let mut index = SegmentIndex::new(base_offset);
        let offset_bytes = read_index_file(offset_path, OFFSET_ENTRY_SIZE)
            .map_err(|damage| (offset_path.to_path_buf(), damage))?;
        for (i, entry) in offset_bytes.chunks_exact(8).enumerate() {
            let relative = u32::from_be_bytes(entry[..4].try_into().expect("4 bytes"));
            let position = u32::from_be_bytes(entry[4..].try_into().expect("4 bytes"));
            if let Some(&(r, p)) = index.offset_entries.last()
                && (relative <= r || position <= p)
            {
                return Err((offset_path.to_path_buf(), IndexDamage::NotIncreasing(i)));
            }
            if u64::from(position) >= segment_size {
                return Err((offset_path.to_path_buf(), IndexDamage::OutOfRange(i)));
            }
            index.offset_entries.push((relative, position));
        }
        let time_bytes = read_index_file(time_path, TIME_ENTRY_SIZE)
            .map_err(|damage| (time_path.to_path_buf(), damage))?;
        for (i, entry) in time_bytes.chunks_exact(12).enumerate() {
            let timestamp = i64::from_be_bytes(entry[..8].try_into().expect("8 bytes"));
            let relative = u32::from_be_bytes(entry[8..].try_into().expect("4 bytes"));
            if let Some(&(t, r)) = index.time_entries.last()
                && (timestamp <= t || relative < r)
            {
                return Err((time_path.to_path_buf(), IndexDamage::NotIncreasing(i)));
            }
            index.time_entries.push((timestamp, relative));
        }
        index.offset_persisted = index.offset_entries.len();
        index.time_persisted = index.time_entries.len();
        if let Some(&(timestamp, relative)) = index.time_entries.last() {
            index.max_timestamp = timestamp;
            index.offset_of_max_timestamp = base_offset + i64::from(relative);
        }
        Ok(index)
    }

    /// Continues the interval bookkeeping after a load: bytes written since the last entry.
    pub fn resume_after_load(&mut self, segment_size: u64) {
        let last_position = self.offset_entries.last().map_or(0, |&(_, p)| u64::from(p));
        self.bytes_since_last_entry = segment_size.saturating_sub(last_position);
    }
}

fn read_index_file(path: &Path, entry_size: u64) -> Result<Vec<u8>, IndexDamage> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IndexDamage::Missing),
        Err(_) => return Err(IndexDamage::Missing),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|_| IndexDamage::Missing)?;
    if bytes.len() as u64 % entry_size != 0 {
        return Err(IndexDamage::BadLength(bytes.len() as u64));
    }
    Ok(bytes)
}

fn append_file(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    if !bytes.is_empty() {
        file.write_all(bytes)?;
    }
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_written_in_kafkas_byte_layout() {
        let dir = tempfile::tempdir().unwrap();
        let (op, tp) = (dir.path().join("x.index"), dir.path().join("x.timeindex"));
        let mut index = SegmentIndex::new(1000);
        // Three 3000-byte batches with interval 4096: the third crosses the interval.
        index.on_batch(1009, 50, 0, 3000, 4096);
        index.on_batch(1019, 40, 3000, 3000, 4096);
        index.on_batch(1029, 70, 6000, 3000, 4096);
        index.persist(&op, &tp, false).unwrap();
        assert_eq!(std::fs::read(&op).unwrap(), [0, 0, 0, 29, 0, 0, 0x17, 0x70]);
        assert_eq!(
            std::fs::read(&tp).unwrap(),
            [0, 0, 0, 0, 0, 0, 0, 70, 0, 0, 0, 29],
            "max timestamp so far (70) with the last offset of its batch"
        );
        let loaded = SegmentIndex::load(1000, &op, &tp, 9000).unwrap();
        assert_eq!(loaded.offset_entries(), &[(29, 6000)]);
        assert_eq!(loaded.max_timestamp, 70);
        assert_eq!(loaded.offset_of_max_timestamp, 1029);
    }

    #[test]
    fn lookups_take_the_floor_entry() {
        let mut index = SegmentIndex::new(100);
        index.offset_entries = vec![(10, 4000), (20, 8000)];
        index.time_entries = vec![(500, 10), (900, 20)];
        assert_eq!(index.position_for_offset(99), 0);
        assert_eq!(index.position_for_offset(105), 0);
        assert_eq!(index.position_for_offset(110), 4000);
        assert_eq!(index.position_for_offset(125), 8000);
        assert_eq!(index.offset_for_timestamp(100), 100);
        assert_eq!(index.offset_for_timestamp(700), 110);
        assert_eq!(index.offset_for_timestamp(5000), 120);
    }

    #[test]
    fn damaged_files_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let (op, tp) = (dir.path().join("x.index"), dir.path().join("x.timeindex"));
        std::fs::write(&tp, []).unwrap();
        assert_eq!(
            SegmentIndex::load(0, &op, &tp, 100).unwrap_err().1,
            IndexDamage::Missing
        );
        std::fs::write(&op, [0; 7]).unwrap();
        assert_eq!(
            SegmentIndex::load(0, &op, &tp, 100).unwrap_err().1,
            IndexDamage::BadLength(7)
        );
        std::fs::write(&op, [0; 16]).unwrap();
        assert_eq!(
            SegmentIndex::load(0, &op, &tp, 100).unwrap_err().1,
            IndexDamage::NotIncreasing(1)
        );
        std::fs::write(&op, [0, 0, 0, 1, 0, 0, 1, 0]).unwrap();
        assert_eq!(
            SegmentIndex::load(0, &op, &tp, 100).unwrap_err().1,
            IndexDamage::OutOfRange(0)
        );
    }
}
