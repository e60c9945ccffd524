//! Entries of the aborted-transaction index (`<base_offset>.txnindex`), in Kafka's format: one
//! fixed-size entry per transaction aborted in the segment, appended when its ABORT marker is
//! written, so that read_committed fetches can tell consumers which data to drop.
//!
//! ```text
//! version: i16 (0) | producer_id: i64 | first_offset: i64 | last_offset: i64 | last_stable_offset: i64
//! ```
//!
//! `first_offset` is the transaction's first record, `last_offset` its ABORT marker, and
//! `last_stable_offset` the partition's LSO once the abort completed (Kafka's `AbortedTxn`).

/// Bytes of one entry.
pub const ENTRY_SIZE: usize = 34;

/// The entry version Kafka writes.
pub const VERSION: i16 = 0;

/// One aborted transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    /// The producer whose transaction was aborted.
    pub producer_id: i64,
    /// Offset of the transaction's first record in this partition.
    pub first_offset: i64,
    /// Offset of the ABORT marker.
    pub last_offset: i64,
    /// The last stable offset after the abort.
    pub last_stable_offset: i64,
}

/// A `.txnindex` entry that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxnIndexError {
    /// Fewer than [`ENTRY_SIZE`] bytes.
    #[error("aborted-transaction index entry truncated at {0} of {ENTRY_SIZE} bytes")]
    Truncated(usize),
    /// A version this code does not know.
    #[error("aborted-transaction index entry has unknown version {0}")]
    UnknownVersion(i16),
}

impl AbortedTxn {
    /// The entry's bytes.
    pub fn encode(&self) -> [u8; ENTRY_SIZE] {
        let mut out = [0u8; ENTRY_SIZE];
        out[0..2].copy_from_slice(&VERSION.to_be_bytes());
        out[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        out[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        out[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        out[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        out
    }

    /// Reads the entry at the start of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, TxnIndexError> {
        let entry = bytes
            .get(..ENTRY_SIZE)
            .ok_or(TxnIndexError::Truncated(bytes.len()))?;
        let version = i16::from_be_bytes([entry[0], entry[1]]);
        if version != VERSION {
            return Err(TxnIndexError::UnknownVersion(version));
        }
        let long = |at: usize| i64::from_be_bytes(entry[at..at + 8].try_into().expect("8 bytes"));
        Ok(AbortedTxn {
            producer_id: long(2),
            first_offset: long(10),
            last_offset: long(18),
            last_stable_offset: long(26),
        })
    }
}

/// The entries of a `.txnindex` file, stopping at the first damaged one (the index is rebuilt
/// from the log at open anyway). A missing file holds none.
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<AbortedTxn>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(bytes
        .chunks(ENTRY_SIZE)
        .map_while(|chunk| AbortedTxn::decode(chunk).ok())
        .collect())
}

/// Appends one entry to a `.txnindex` file, creating it (Kafka creates the file lazily too).
pub(crate) fn append_entry(path: &std::path::Path, entry: &AbortedTxn) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(&entry.encode())
}

/// Makes a `.txnindex` file hold exactly `entries` (no file when there are none), writing only
/// when it differs.
pub(crate) fn rewrite_file(path: &std::path::Path, entries: &[AbortedTxn]) -> std::io::Result<()> {
    if read_file(path)? == entries && (path.exists() || entries.is_empty()) {
        return Ok(());
    }
    if entries.is_empty() {
        return crate::recovery::remove_if_exists(path);
    }
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.encode()).collect();
    let tmp = crate::naming::with_extra_suffix(path, ".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The aborted transactions that overlap the offsets `[start, upper)`: those whose ABORT marker
/// is at or after `start` and whose first record is before `upper` (Kafka's
/// `collectAbortedTxns`). `entries` is ordered by marker offset.
pub fn overlapping(entries: &[AbortedTxn], start: i64, upper: i64) -> Vec<AbortedTxn> {
    let from = entries.partition_point(|e| e.last_offset < start);
    entries[from..]
        .iter()
        .filter(|e| e.first_offset < upper)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_has_kafkas_bytes() {
        let entry = AbortedTxn {
            producer_id: 0x0102_0304_0506_0708,
            first_offset: 10,
            last_offset: 20,
            last_stable_offset: 21,
        };
        let bytes = entry.encode();
        let expected: [u8; ENTRY_SIZE] = [
            0, 0, // version 0
            1, 2, 3, 4, 5, 6, 7, 8, // producer id
            0, 0, 0, 0, 0, 0, 0, 10, // first offset
            0, 0, 0, 0, 0, 0, 0, 20, // last offset (the ABORT marker)
            0, 0, 0, 0, 0, 0, 0, 21, // last stable offset
        ];
        assert_eq!(bytes, expected);
        assert_eq!(AbortedTxn::decode(&bytes).unwrap(), entry);
    }

    #[test]
    fn files_round_trip_and_ranges_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.txnindex");
        assert!(read_file(&path).unwrap().is_empty());
        let a = AbortedTxn {
            producer_id: 1,
            first_offset: 0,
            last_offset: 5,
            last_stable_offset: 6,
        };
        let b = AbortedTxn {
            producer_id: 2,
            first_offset: 3,
            last_offset: 9,
            last_stable_offset: 10,
        };
        append_entry(&path, &a).unwrap();
        append_entry(&path, &b).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 * ENTRY_SIZE as u64
        );
        assert_eq!(read_file(&path).unwrap(), vec![a, b]);
        rewrite_file(&path, &[b]).unwrap();
        assert_eq!(read_file(&path).unwrap(), vec![b]);
        rewrite_file(&path, &[]).unwrap();
        assert!(!path.exists());
        let entries = [a, b];
        assert_eq!(overlapping(&entries, 0, 3), vec![a]);
        assert_eq!(overlapping(&entries, 6, 100), vec![b]);
        assert_eq!(overlapping(&entries, 4, 100), vec![a, b]);
        assert!(overlapping(&entries, 10, 100).is_empty());
    }

    #[test]
    fn short_or_unknown_entries_are_errors() {
        let bytes = AbortedTxn {
            producer_id: 1,
            first_offset: 0,
            last_offset: 1,
            last_stable_offset: 2,
        }
        .encode();
        assert_eq!(
            AbortedTxn::decode(&bytes[..33]),
            Err(TxnIndexError::Truncated(33))
        );
        let mut future = bytes;
        future[1] = 1;
        assert_eq!(
            AbortedTxn::decode(&future),
            Err(TxnIndexError::UnknownVersion(1))
        );
    }
}
