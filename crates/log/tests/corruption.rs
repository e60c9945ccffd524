//! Damaged files on disk: the log opens, keeps every intact batch before the damage, and
//! reports what it dropped or rebuilt.

mod common;

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use brook_log::{LogConfig, OffsetSpec, PartitionLog};
use common::{as_stored, batch, batches};

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 4096,
        index_interval_bytes: 256,
        ..LogConfig::default()
    }
}

/// Appends 30 batches of 3 records (~4 segments) and returns them as produced.
fn fill(dir: &Path) -> Vec<bytes::Bytes> {
    let log = PartitionLog::open(dir, config()).unwrap();
    let produced: Vec<_> = (0..30).map(|i| batch(3, 1000 + i, i as u64, 200)).collect();
    for b in &produced {
        log.append(b).unwrap();
    }
    assert!(log.segments().len() >= 3);
    log.close().unwrap();
    produced
}

fn segment_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Reads the whole log and checks it is exactly the first `n` produced batches.
fn assert_holds_first(log: &PartitionLog, produced: &[bytes::Bytes], n: usize) {
    let mut offset = 0;
    let mut seen = 0;
    while offset < log.high_watermark() {
        let read = log.read(offset, 1 << 20).unwrap();
        for b in batches(&read.records) {
            assert_eq!(
                b.as_bytes(),
                &as_stored(&produced[seen], offset, 0),
                "batch {seen}"
            );
            offset = b.next_offset();
            seen += 1;
        }
    }
    assert_eq!(seen, n);
    assert_eq!(log.log_end_offset(), 3 * n as i64);
}

/// Flips one bit 50 bytes before the end of the last segment: inside its last batch.
fn flip_byte_in_last_batch(dir: &Path) {
    let last = segment_files(dir, "log").pop().unwrap();
    let mut bytes = fs::read(&last).unwrap();
    let at = bytes.len() - 50;
    bytes[at] ^= 0x10;
    fs::write(&last, &bytes).unwrap();
}

fn forget_clean_shutdown(dir: &Path) {
    fs::remove_file(dir.join(".brook-clean-shutdown")).unwrap();
}

#[test]
fn truncated_tail_is_cut_at_the_last_whole_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    forget_clean_shutdown(&dir);
    let last = segment_files(&dir, "log").pop().unwrap();
    let len = fs::metadata(&last).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 100)
        .unwrap();

    let log = PartitionLog::open(&dir, config()).unwrap();
    let report = log.recovery_report();
    assert_eq!(report.truncations.len(), 1, "{report:?}");
    let cut = &report.truncations[0];
    assert_eq!(cut.file, last);
    assert_eq!(cut.position + cut.bytes_dropped, len - 100);
    assert!(cut.reason.contains("torn"), "{}", cut.reason);
    assert_holds_first(&log, &produced, 29);
    // The log keeps working: the next append follows the last intact batch.
    assert_eq!(log.append(&produced[29]).unwrap().base_offset, 87);
}

#[test]
fn a_flipped_byte_in_the_last_batch_drops_only_that_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    forget_clean_shutdown(&dir);
    flip_byte_in_last_batch(&dir);

    let log = PartitionLog::open(&dir, config()).unwrap();
    let report = log.recovery_report();
    assert_eq!(report.truncations.len(), 1, "{report:?}");
    assert!(
        report.truncations[0].reason.contains("CRC"),
        "{:?}",
        report.truncations[0]
    );
    assert!(report.lost_data());
    assert_holds_first(&log, &produced, 29);
}

#[test]
fn a_flipped_byte_is_caught_even_after_a_clean_close() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    flip_byte_in_last_batch(&dir);

    let log = PartitionLog::open(&dir, config()).unwrap();
    assert!(log.recovery_report().clean_shutdown);
    assert_eq!(log.recovery_report().truncations.len(), 1);
    assert_holds_first(&log, &produced, 29);
}

#[test]
fn corruption_in_a_middle_segment_drops_it_from_there_and_all_later_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    forget_clean_shutdown(&dir);
    fs::remove_file(dir.join("brook.checkpoint")).unwrap(); // recovery point 0: verify everything
    let logs = segment_files(&dir, "log");
    let second = &logs[1];
    let mut bytes = fs::read(second).unwrap();
    bytes[100] ^= 0xff; // inside the first batch of the second segment
    fs::write(second, &bytes).unwrap();

    let log = PartitionLog::open(&dir, config()).unwrap();
    let report = log.recovery_report();
    assert_eq!(report.truncations[0].file, *second);
    assert_eq!(report.truncations[0].position, 0);
    assert_eq!(report.deleted_segments, logs[2..].to_vec());
    let first_segment_batches = batches(&fs::read(&logs[0]).unwrap().into()).len();
    assert_holds_first(&log, &produced, first_segment_batches);
}

#[test]
fn a_zeroed_index_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    let index = segment_files(&dir, "index")[0].clone();
    let time_index = segment_files(&dir, "timeindex")[0].clone();
    let original = fs::read(&index).unwrap();
    let original_time = fs::read(&time_index).unwrap();
    assert!(original.len() >= 16, "several entries");
    fs::write(&index, vec![0; original.len()]).unwrap();
    fs::write(&time_index, vec![0; original_time.len()]).unwrap();

    let log = PartitionLog::open(&dir, config()).unwrap();
    let report = log.recovery_report();
    assert!(report.clean_shutdown);
    assert!(report.rebuilt_indexes.contains(&index), "{report:?}");
    assert!(!report.lost_data());
    assert_eq!(
        fs::read(&index).unwrap(),
        original,
        "rebuilt byte-identical"
    );
    assert_eq!(fs::read(&time_index).unwrap(), original_time);
    assert_holds_first(&log, &produced, 30);
    assert_eq!(
        log.lookup_offset(OffsetSpec::Timestamp(1005))
            .unwrap()
            .unwrap()
            .offset,
        11
    );
}

#[test]
fn a_zeroed_time_index_alone_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    fill(&dir);
    let time_index = segment_files(&dir, "timeindex")[0].clone();
    let original_time = fs::read(&time_index).unwrap();
    fs::write(&time_index, vec![0; 12]).unwrap();
    let log = PartitionLog::open(&dir, config()).unwrap();
    assert!(!log.recovery_report().rebuilt_indexes.is_empty());
    assert_eq!(fs::read(&time_index).unwrap(), original_time);
    // A wrong max timestamp would have made this segment look ancient to retention.
    assert_eq!(
        log.segments()[0].max_timestamp,
        fs_max_timestamp(&original_time)
    );
}

fn fs_max_timestamp(time_index: &[u8]) -> i64 {
    i64::from_be_bytes(
        time_index[time_index.len() - 12..time_index.len() - 4]
            .try_into()
            .unwrap(),
    )
}

#[test]
fn missing_indexes_are_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    let mut originals = Vec::new();
    for path in segment_files(&dir, "index")
        .into_iter()
        .chain(segment_files(&dir, "timeindex"))
    {
        originals.push((path.clone(), fs::read(&path).unwrap()));
        fs::remove_file(&path).unwrap();
    }
    let log = PartitionLog::open(&dir, config()).unwrap();
    assert!(!log.recovery_report().lost_data());
    for (path, bytes) in originals {
        assert_eq!(fs::read(&path).unwrap(), bytes, "{}", path.display());
    }
    assert_holds_first(&log, &produced, 30);
}

#[test]
fn interrupted_cleaner_files_are_finished_or_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    let produced = fill(&dir);
    let logs = segment_files(&dir, "log");
    // A half-written cleaned file is discarded; a complete swap file replaces its segment.
    fs::write(format!("{}.cleaned", logs[0].display()), b"half written").unwrap();
    fs::copy(&logs[1], format!("{}.swap", logs[1].display())).unwrap();
    fs::write(&logs[1], b"stale pre-swap contents").unwrap();

    let log = PartitionLog::open(&dir, config()).unwrap();
    assert_eq!(log.recovery_report().completed_swaps, vec![logs[1].clone()]);
    assert!(!Path::new(&format!("{}.cleaned", logs[0].display())).exists());
    assert_holds_first(&log, &produced, 30);
}

#[test]
fn garbage_in_place_of_a_segment_is_dropped_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("t-0");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("00000000000000000000.log"), vec![0xab; 5000]).unwrap();
    let log = PartitionLog::open(&dir, config()).unwrap();
    assert_eq!(log.recovery_report().truncations[0].bytes_dropped, 5000);
    assert_eq!(log.log_end_offset(), 0);
    log.append(&batch(1, 0, 0, 10)).unwrap();
}
