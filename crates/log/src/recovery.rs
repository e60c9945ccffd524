//! Opening a partition directory: finishing or undoing interrupted cleaner swaps and deletions,
//! loading segments, and — after an unclean shutdown — verifying every batch from the recovery
//! point on, truncating a torn or corrupt tail and rebuilding indexes.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checkpoint::{CLEAN_SHUTDOWN_FILE, Checkpoint, sync_dir};
use crate::config::LogConfig;
use crate::error::OpenError;
use crate::index::SegmentIndex;
use crate::naming::{
    CLEANED_SUFFIX, DELETED_SUFFIX, INDEX_SUFFIX, INDEX_SUFFIXES, LOG_SUFFIX, SEGMENT_SUFFIXES,
    SWAP_SUFFIX, TIME_INDEX_SUFFIX, parse_segment_file_name, segment_path,
};
use crate::segment::LogSegment;

/// What opening a log found and repaired. Empty lists mean nothing was wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The previous close was clean (marker present), so only index sanity checks ran.
    pub clean_shutdown: bool,
    /// Segments whose every batch was verified.
    pub segments_recovered: usize,
    /// Tails cut off because they were torn or corrupt.
    pub truncations: Vec<Truncation>,
    /// Whole segments removed because they followed a truncation.
    pub deleted_segments: Vec<PathBuf>,
    /// Index files that were missing or damaged and were rebuilt from the log.
    pub rebuilt_indexes: Vec<PathBuf>,
    /// Cleaner swaps completed at open.
    pub completed_swaps: Vec<PathBuf>,
}

impl RecoveryReport {
    /// True when any data was dropped.
    pub fn lost_data(&self) -> bool {
        !self.truncations.is_empty() || !self.deleted_segments.is_empty()
    }
}

/// Bytes cut from the end of a segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub file: PathBuf,
    /// Byte position of the first dropped byte.
    pub position: u64,
    /// How many bytes were dropped.
    pub bytes_dropped: u64,
    /// What was wrong at `position`.
    pub reason: String,
}

pub(crate) struct Loaded {
    pub segments: BTreeMap<i64, Arc<LogSegment>>,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub report: RecoveryReport,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> OpenError + '_ {
    move |source| OpenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn load(dir: &Path, config: &LogConfig, now_ms: i64) -> Result<Loaded, OpenError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut report = RecoveryReport::default();
    let bases = tidy_directory(dir, &mut report)?;

    let checkpoint = Checkpoint::read(dir)
        .map_err(|reason| OpenError::BadCheckpoint {
            path: dir.join(crate::checkpoint::CHECKPOINT_FILE),
            reason,
        })?
        .unwrap_or_default();
    let marker = dir.join(CLEAN_SHUTDOWN_FILE);
    report.clean_shutdown = marker.exists();
    if report.clean_shutdown {
        // From here on a crash must look unclean, so the removal itself has to be durable.
        fs::remove_file(&marker).map_err(io_err(&marker))?;
        sync_dir(dir).map_err(io_err(dir))?;
    }
    let recover_from = if report.clean_shutdown {
        i64::MAX
    } else {
        bases
            .iter()
            .copied()
            .filter(|&b| b <= checkpoint.recovery_point)
            .max()
            .unwrap_or(i64::MIN)
    };

    let max_batch = usize::MAX;
    let interval = config.index_interval_bytes;
    let mut segments = BTreeMap::new();
    let mut next_offset = None;
    let mut iter = bases.iter().copied();
    while let Some(base) = iter.next() {
        let log_path = segment_path(dir, base, LOG_SUFFIX);
        let (file, size) = LogSegment::open_file(dir, base).map_err(io_err(&log_path))?;
        let loaded = if base >= recover_from {
            None
        } else {
            SegmentIndex::load(
                base,
                &segment_path(dir, base, INDEX_SUFFIX),
                &segment_path(dir, base, TIME_INDEX_SUFFIX),
                size,
            )
            .map_err(|(path, damage)| {
                tracing::warn!(path = %path.display(), %damage, "rebuilding damaged index");
                report.rebuilt_indexes.push(path);
            })
            .ok()
        };
        let trusted = loaded.is_some();
        let segment = LogSegment::from_parts(
            dir,
            base,
            file,
            size,
            loaded.unwrap_or_else(|| SegmentIndex::new(base)),
            now_ms,
        );
        let is_last = segments.len() + 1 == bases.len();
        let mut segment_next = None;
        let mut needs_scan = !trusted || !index_agrees_with_log(&segment, size);
        if trusted && needs_scan {
            report.rebuilt_indexes.push(segment.index_path());
        } else if trusted && is_last {
            // Even after a clean close, verify the batches after the last index entry: it is
            // cheap (at most index.interval.bytes) and catches a damaged tail.
            match verified_tail_end(&segment).map_err(io_err(&log_path))? {
                Some(next) => segment_next = next,
                None => needs_scan = true,
            }
        }
        if needs_scan {
            let outcome = segment
                .scan(interval, max_batch)
                .map_err(io_err(&log_path))?;
            if base >= recover_from {
                report.segments_recovered += 1;
            }
            segment_next = outcome.next_offset;
            let damaged = outcome.damage.clone();
            let valid = outcome.valid_bytes;
            segment
                .truncate_and_reindex(valid, outcome.index)
                .map_err(io_err(&log_path))?;
            if let Some(reason) = damaged {
                tracing::warn!(
                    file = %log_path.display(), position = valid, bytes_dropped = size - valid,
                    %reason, "truncating damaged segment tail"
                );
                report.truncations.push(Truncation {
                    file: log_path.clone(),
                    position: valid,
                    bytes_dropped: size - valid,
                    reason,
                });
                segments.insert(base, Arc::new(segment));
                next_offset = segment_next.or(next_offset).or(Some(base));
                // Data after a damaged batch cannot be trusted to follow it: drop later segments.
                for later in iter.by_ref() {
                    delete_segment_files(dir, later).map_err(io_err(dir))?;
                    let path = segment_path(dir, later, LOG_SUFFIX);
                    tracing::warn!(file = %path.display(), "deleting segment after truncated one");
                    report.deleted_segments.push(path);
                }
                break;
            }
        }
        next_offset = segment_next.or(next_offset.max(Some(base)));
        segments.insert(base, Arc::new(segment));
    }

    let mut log_start_offset = checkpoint.log_start_offset;
    if segments.is_empty() {
        let base = log_start_offset.max(0);
        let segment = LogSegment::create(dir, base, now_ms).map_err(io_err(dir))?;
        sync_dir(dir).map_err(io_err(dir))?;
        segments.insert(base, Arc::new(segment));
    }
    let first_base = *segments.keys().next().expect("at least one segment");
    let last = segments
        .values()
        .next_back()
        .expect("at least one segment")
        .clone();
    let log_end_offset = next_offset
        .unwrap_or(last.base_offset())
        .max(last.base_offset());
    log_start_offset = log_start_offset.max(first_base).min(log_end_offset);
    if !report.clean_shutdown {
        // Recovered data may still sit only in the page cache; make it the new recovery point.
        last.flush().map_err(io_err(&last.log_path()))?;
    }
    let current = Checkpoint {
        log_start_offset,
        recovery_point: log_end_offset,
    };
    // After a clean close the file already says this; rewriting it (with its fsyncs) for every
    // partition would only slow start-up.
    if current != checkpoint {
        current.write(dir).map_err(io_err(dir))?;
    }
    Ok(Loaded {
        segments,
        log_start_offset,
        log_end_offset,
        report,
    })
}

/// Removes leftovers of interrupted operations and returns the base offsets of the segments.
fn tidy_directory(dir: &Path, report: &mut RecoveryReport) -> Result<Vec<i64>, OpenError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
    }
    names.sort();
    let mut bases = Vec::new();
    let mut with_index = Vec::new();
    for name in &names {
        let path = dir.join(name);
        if name.ends_with(CLEANED_SUFFIX)
            || name.ends_with(DELETED_SUFFIX)
            || name.ends_with(".tmp")
        {
            fs::remove_file(&path).map_err(io_err(&path))?;
            continue;
        }
        let Some((base, suffix)) = parse_segment_file_name(name) else {
            continue;
        };
        if suffix == format!("{LOG_SUFFIX}{SWAP_SUFFIX}") {
            // The cleaner finished writing this segment: complete the swap. Its indexes are
            // rebuilt because the old ones describe the uncleaned file.
            for old in INDEX_SUFFIXES {
                let _ = fs::remove_file(segment_path(dir, base, old));
            }
            let target = segment_path(dir, base, LOG_SUFFIX);
            fs::rename(&path, &target).map_err(io_err(&path))?;
            report.completed_swaps.push(target);
            bases.push(base);
        } else if suffix == LOG_SUFFIX {
            bases.push(base);
        } else if suffix == INDEX_SUFFIX || suffix == TIME_INDEX_SUFFIX {
            with_index.push((base, path));
        } else if suffix.ends_with(SWAP_SUFFIX) {
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    bases.sort_unstable();
    bases.dedup();
    for (base, path) in with_index {
        if bases.binary_search(&base).is_err() {
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    if !report.completed_swaps.is_empty() {
        sync_dir(dir).map_err(io_err(dir))?;
    }
    Ok(bases)
}

/// Checks a loaded index against the log: its last offset entry must point at the start of the
/// batch it names, and its last time entry must match the max timestamp of the batch it names.
/// Catches zeroed or stale index files that are well-formed on their own.
fn index_agrees_with_log(segment: &LogSegment, size: u64) -> bool {
    let (last_offset_entry, last_time_entry, base) = {
        let index = segment.index();
        (
            index.offset_entries().last().copied(),
            index.time_entries().last().copied(),
            segment.base_offset(),
        )
    };
    if let Some((relative, position)) = last_offset_entry {
        match segment.header_at(u64::from(position), size) {
            Ok(Some(header)) if header.last_offset() == base + i64::from(relative) => {}
            _ => return false,
        }
    }
    match last_time_entry {
        Some((timestamp, relative)) => match segment.find_batch(base + i64::from(relative), size) {
            Ok(Some(found)) => {
                found.header.max_timestamp == timestamp
                    && found.header.last_offset() == base + i64::from(relative)
            }
            _ => false,
        },
        // No time entry is right only for an empty segment; otherwise the max timestamp is unknown.
        None => size == 0,
    }
}

/// Offset after the last batch of a trusted segment, walking and CRC-checking the batches from
/// the last index entry to the end. `Ok(None)` when a batch there is damaged; `Ok(Some(None))`
/// for an empty segment.
#[allow(clippy::option_option)]
fn verified_tail_end(segment: &LogSegment) -> io::Result<Option<Option<i64>>> {
    let size = segment.size();
    let start = segment
        .index()
        .offset_entries()
        .last()
        .map_or(0, |&(_, p)| u64::from(p));
    let mut next = None;
    let mut position = start;
    for item in segment.batches_from(start, size) {
        let Ok((at, batch)) = item else {
            return Ok(None);
        };
        if batch.verify_crc().is_err() {
            return Ok(None);
        }
        next = Some(batch.next_offset());
        position = at + batch.size() as u64;
    }
    Ok((position == size).then_some(next))
}

/// Removes a segment's files (used for segments after a truncation).
pub(crate) fn delete_segment_files(dir: &Path, base: i64) -> io::Result<()> {
    for suffix in SEGMENT_SUFFIXES {
        remove_if_exists(&segment_path(dir, base, suffix))?;
    }
    Ok(())
}

/// Removes a file; one that is already gone is not an error.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
