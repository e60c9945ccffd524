//! Names on disk, as Kafka spells them: `<topic>-<partition>/` directories holding
//! `{base_offset:020}.log`, `.index` and `.timeindex` files.

use std::fmt;
use std::path::{Path, PathBuf};

/// Suffix of segment data files.
pub const LOG_SUFFIX: &str = "log";
/// Suffix of offset index files.
pub const INDEX_SUFFIX: &str = "index";
/// Suffix of time index files.
pub const TIME_INDEX_SUFFIX: &str = "timeindex";
/// Suffix of aborted-transaction index files (only present when the segment has aborts).
pub const TXN_INDEX_SUFFIX: &str = "txnindex";
/// Extra suffix of a compacted segment still being written; removed at open.
pub const CLEANED_SUFFIX: &str = ".cleaned";
/// Extra suffix of a compacted segment ready to replace the original; the swap is completed at open.
pub const SWAP_SUFFIX: &str = ".swap";
/// Extra suffix of a segment file scheduled for deletion; removed at open.
pub const DELETED_SUFFIX: &str = ".deleted";

/// Every file of a segment: data, offset index, time index, aborted-transaction index.
pub const SEGMENT_SUFFIXES: [&str; 4] = [
    LOG_SUFFIX,
    INDEX_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
];
/// A segment's index files.
pub const INDEX_SUFFIXES: [&str; 2] = [INDEX_SUFFIX, TIME_INDEX_SUFFIX];

/// `path` with `extra` appended to its file name (`….log` → `….log.swap`).
pub fn with_extra_suffix(path: &Path, extra: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(extra);
    PathBuf::from(name)
}

/// A topic name and partition number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }

    /// The directory name Kafka uses: `<topic>-<partition>`.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }

    /// Parses a directory name such as `rides-0` (topic names may contain `-`).
    pub fn from_dir_name(name: &str) -> Option<Self> {
        let (topic, partition) = name.rsplit_once('-')?;
        if topic.is_empty() || partition.starts_with('+') {
            return None;
        }
        Some(TopicPartition::new(
            topic,
            partition.parse().ok().filter(|p: &i32| *p >= 0)?,
        ))
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// `{base_offset:020}.{suffix}`.
pub fn segment_file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

/// Path of a segment file in `dir`.
pub fn segment_path(dir: &Path, base_offset: i64, suffix: &str) -> PathBuf {
    dir.join(segment_file_name(base_offset, suffix))
}

/// Splits `00000000000000000042.log` into `(42, "log")`; `None` for other names.
pub fn parse_segment_file_name(name: &str) -> Option<(i64, &str)> {
    let (digits, suffix) = name.split_once('.')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_twenty_digit_zero_padded() {
        assert_eq!(segment_file_name(0, LOG_SUFFIX), "00000000000000000000.log");
        assert_eq!(
            segment_file_name(368_769, INDEX_SUFFIX),
            "00000000000000368769.index"
        );
        assert_eq!(
            segment_file_name(i64::MAX, TIME_INDEX_SUFFIX),
            "09223372036854775807.timeindex"
        );
        assert_eq!(
            parse_segment_file_name("00000000000000368769.log"),
            Some((368_769, "log"))
        );
        assert_eq!(
            parse_segment_file_name("00000000000000000007.log.swap"),
            Some((7, "log.swap"))
        );
        assert_eq!(parse_segment_file_name("0000000000000000007.log"), None);
        assert_eq!(parse_segment_file_name("leader-epoch-checkpoint"), None);
        assert_eq!(
            with_extra_suffix(Path::new("/d/00000000000000000007.log"), SWAP_SUFFIX),
            Path::new("/d/00000000000000000007.log.swap")
        );
    }

    #[test]
    fn directory_names_split_at_the_last_dash() {
        let tp = TopicPartition::new("rides-json", 3);
        assert_eq!(tp.dir_name(), "rides-json-3");
        assert_eq!(TopicPartition::from_dir_name("rides-json-3"), Some(tp));
        assert_eq!(
            TopicPartition::from_dir_name("__consumer_offsets-49")
                .unwrap()
                .partition,
            49
        );
        assert_eq!(TopicPartition::from_dir_name("rides"), None);
        assert_eq!(TopicPartition::from_dir_name("-3"), None);
        assert_eq!(
            TopicPartition::from_dir_name("rides--1"),
            Some(TopicPartition::new("rides-", 1))
        );
        assert_eq!(TopicPartition::from_dir_name("rides-x"), None);
    }
}
