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
