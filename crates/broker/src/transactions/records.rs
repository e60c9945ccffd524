//! The `__transaction_state` record formats, byte for byte as Kafka writes them, so that the
//! topic is readable by Kafka's tools and a restarted coordinator can load it.
//!
//! ```text
//! key   = version: i16 (0) | transactional_id: string
//! value = version: i16 (0 or 1) | TransactionLogValue at that version
//!
//! TransactionLogValue v0:  producer_id i64 | producer_epoch i16 | transaction_timeout_ms i32
//!                          | transaction_status i8 | partitions: nullable array of
//!                            (topic string, partition_ids array of i32)
//!                          | last_update_timestamp_ms i64 | start_timestamp_ms i64
//! TransactionLogValue v1:  the same fields in the flexible encoding (compact strings and
//!                          arrays, a tagged-field section after each struct), with tags
//!                          0 previous_producer_id i64, 1 next_producer_id i64 (both -1 when
//!                          absent) and 2 client_transaction_version i16 (0 when absent)
//! ```
//! A tombstone (null value) removes the transactional id.

use crate::record_codec::{Reader, put_compact_string, put_string, put_uvarint};

/// Kafka's `TransactionState`, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// No transaction in progress (0).
    Empty,
    /// Partitions were added; the transaction is open (1).
    Ongoing,
    /// EndTxn(commit) received; markers being written (2).
    PrepareCommit,
    /// EndTxn(abort) or a timeout; markers being written (3).
    PrepareAbort,
    /// The commit markers are written (4).
    CompleteCommit,
    /// The abort markers are written (5).
    CompleteAbort,
    /// The transactional id expired (6).
    Dead,
    /// The epoch is being bumped to fence a producer (7).
    PrepareEpochFence,
}

impl TransactionState {
    /// Kafka's id.
    pub fn id(self) -> i8 {
        match self {
            TransactionState::Empty => 0,
            TransactionState::Ongoing => 1,
            TransactionState::PrepareCommit => 2,
            TransactionState::PrepareAbort => 3,
            TransactionState::CompleteCommit => 4,
            TransactionState::CompleteAbort => 5,
            TransactionState::Dead => 6,
            TransactionState::PrepareEpochFence => 7,
        }
    }

    /// The state with Kafka's id `id`.
    pub fn from_id(id: i8) -> Option<Self> {
        Some(match id {
            0 => TransactionState::Empty,
            1 => TransactionState::Ongoing,
            2 => TransactionState::PrepareCommit,
            3 => TransactionState::PrepareAbort,
            4 => TransactionState::CompleteCommit,
            5 => TransactionState::CompleteAbort,
            6 => TransactionState::Dead,
            7 => TransactionState::PrepareEpochFence,
            _ => return None,
        })
    }
}

/// A transactional id's metadata as stored (Kafka's `TransactionLogValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionLogValue {
    /// The producer id in use.
    pub producer_id: i64,
    /// The producer id of the last committed transaction (v1, -1 when absent).
    pub previous_producer_id: i64,
    /// The producer id most recently handed out (v1, -1 when absent).
    pub next_producer_id: i64,
    /// The producer epoch.
    pub producer_epoch: i16,
    /// `transaction.timeout.ms` of the producer.
    pub transaction_timeout_ms: i32,
    /// Where the transaction stands.
    pub state: TransactionState,
    /// The partitions of the open transaction, by topic (`None`: stored as null).
    pub partitions: Option<Vec<(String, Vec<i32>)>>,
    /// When the metadata last changed (ms).
    pub last_update_timestamp_ms: i64,
    /// When the transaction started (ms, -1 without one).
    pub start_timestamp_ms: i64,
    /// The transaction version the client uses (v1, KIP-890; 0 when absent).
    pub client_transaction_version: i16,
}

/// The version Brook writes: Kafka 4's flexible one.
pub const VALUE_VERSION: i16 = 1;

/// Encodes a `__transaction_state` key.
pub fn encode_key(transactional_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + transactional_id.len());
    out.extend_from_slice(&0_i16.to_be_bytes());
    put_string(&mut out, transactional_id);
    out
}

/// Decodes a `__transaction_state` key: the transactional id.
pub fn decode_key(bytes: &[u8]) -> Option<String> {
    let mut r = Reader(bytes);
    if r.i16()? != 0 {
        return None;
    }
    r.string()
}

/// Encodes a value at `version` (0 or 1); v0 cannot carry the v1 tagged fields.
pub fn encode_value(value: &TransactionLogValue, version: i16) -> Vec<u8> {
    let flexible = version >= 1;
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&value.producer_id.to_be_bytes());
    out.extend_from_slice(&value.producer_epoch.to_be_bytes());
    out.extend_from_slice(&value.transaction_timeout_ms.to_be_bytes());
    out.push(value.state.id() as u8);
    match &value.partitions {
        None if flexible => put_uvarint(&mut out, 0),
        None => out.extend_from_slice(&(-1_i32).to_be_bytes()),
        Some(topics) => {
            put_length(&mut out, topics.len(), flexible);
            for (topic, partitions) in topics {
                if flexible {
                    put_compact_string(&mut out, topic);
                } else {
                    put_string(&mut out, topic);
                }
                put_length(&mut out, partitions.len(), flexible);
                for p in partitions {
                    out.extend_from_slice(&p.to_be_bytes());
                }
                if flexible {
                    put_uvarint(&mut out, 0); // no tagged fields
                }
            }
        }
    }
    out.extend_from_slice(&value.last_update_timestamp_ms.to_be_bytes());
    out.extend_from_slice(&value.start_timestamp_ms.to_be_bytes());
    if flexible {
        let mut tagged: Vec<(u32, Vec<u8>)> = Vec::new();
        if value.previous_producer_id != -1 {
            tagged.push((0, value.previous_producer_id.to_be_bytes().to_vec()));
        }
        if value.next_producer_id != -1 {
            tagged.push((1, value.next_producer_id.to_be_bytes().to_vec()));
        }
        if value.client_transaction_version != 0 {
            tagged.push((2, value.client_transaction_version.to_be_bytes().to_vec()));
        }
        put_uvarint(&mut out, tagged.len() as u32);
        for (tag, data) in tagged {
            put_uvarint(&mut out, tag);
            put_uvarint(&mut out, data.len() as u32);
            out.extend_from_slice(&data);
        }
    }
    out
}

/// Decodes a value of version 0 or 1 (unknown tagged fields are skipped).
pub fn decode_value(bytes: &[u8]) -> Option<TransactionLogValue> {
    let mut r = Reader(bytes);
    let version = r.i16()?;
    if !(0..=1).contains(&version) {
        return None;
    }
    let flexible = version >= 1;
    let producer_id = r.i64()?;
    let producer_epoch = r.i16()?;
    let transaction_timeout_ms = r.i32()?;
    let state = TransactionState::from_id(r.i8()?)?;
    let partitions = match read_length(&mut r, flexible)? {
        None => None,
        Some(count) => {
            let mut topics = Vec::with_capacity(count.min(1024));
            for _ in 0..count {
                let topic = if flexible {
                    r.compact_string()?
                } else {
                    r.string()?
                };
                let n = read_length(&mut r, flexible)??;
                let mut ids = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    ids.push(r.i32()?);
                }
                if flexible {
                    r.tagged_fields(|_, _| Some(()))?;
                }
                topics.push((topic, ids));
            }
            Some(topics)
        }
    };
    let last_update_timestamp_ms = r.i64()?;
    let start_timestamp_ms = r.i64()?;
    let mut value = TransactionLogValue {
        producer_id,
        previous_producer_id: -1,
        next_producer_id: -1,
        producer_epoch,
        transaction_timeout_ms,
        state,
        partitions,
        last_update_timestamp_ms,
        start_timestamp_ms,
        client_transaction_version: 0,
    };
    if flexible {
        r.tagged_fields(|tag, data| {
            match tag {
                0 => value.previous_producer_id = i64::from_be_bytes(data.try_into().ok()?),
                1 => value.next_producer_id = i64::from_be_bytes(data.try_into().ok()?),
                2 => value.client_transaction_version = i16::from_be_bytes(data.try_into().ok()?),
                _ => {}
            }
            Some(())
        })?;
    }
    Some(value)
}

/// An array length: i32 (classic) or length + 1 as an unsigned varint (flexible).
fn put_length(out: &mut Vec<u8>, n: usize, flexible: bool) {
    if flexible {
        put_uvarint(out, n as u32 + 1);
    } else {
        out.extend_from_slice(&(n as i32).to_be_bytes());
    }
}

/// An array length; `Some(None)` for a null array.
fn read_length(r: &mut Reader<'_>, flexible: bool) -> Option<Option<usize>> {
    if flexible {
        Some(match r.uvarint()? {
            0 => None,
            n => Some(n as usize - 1),
        })
    } else {
        let n = r.i32()?;
        Some(usize::try_from(n).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ongoing() -> TransactionLogValue {
        TransactionLogValue {
            producer_id: 1000,
            previous_producer_id: -1,
            next_producer_id: -1,
            producer_epoch: 5,
            transaction_timeout_ms: 60_000,
            state: TransactionState::Ongoing,
            partitions: Some(vec![("rides".to_string(), vec![0, 2])]),
            last_update_timestamp_ms: 1_700_000_000_123,
            start_timestamp_ms: 1_700_000_000_000,
            client_transaction_version: 0,
        }
    }

    #[test]
    fn the_key_has_kafkas_bytes() {
        let key = encode_key("txn-1");
        assert_eq!(key, [0, 0, 0, 5, b't', b'x', b'n', b'-', b'1']);
        assert_eq!(decode_key(&key).as_deref(), Some("txn-1"));
    }

    #[test]
    fn a_version_0_value_has_kafkas_bytes() {
        let bytes = encode_value(&ongoing(), 0);
        let mut expected = vec![0, 0]; // version 0
        expected.extend_from_slice(&1000_i64.to_be_bytes()); // producer id
        expected.extend_from_slice(&5_i16.to_be_bytes()); // producer epoch
        expected.extend_from_slice(&60_000_i32.to_be_bytes()); // timeout
        expected.push(1); // Ongoing
        expected.extend_from_slice(&1_i32.to_be_bytes()); // one topic
        expected.extend_from_slice(&[0, 5, b'r', b'i', b'd', b'e', b's']);
        expected.extend_from_slice(&2_i32.to_be_bytes()); // two partitions
        expected.extend_from_slice(&0_i32.to_be_bytes());
        expected.extend_from_slice(&2_i32.to_be_bytes());
        expected.extend_from_slice(&1_700_000_000_123_i64.to_be_bytes());
        expected.extend_from_slice(&1_700_000_000_000_i64.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(decode_value(&bytes), Some(ongoing()));
    }

    #[test]
    fn a_version_1_value_has_kafkas_flexible_bytes_and_tagged_fields() {
        let value = TransactionLogValue {
            previous_producer_id: 999,
            client_transaction_version: 2,
            ..ongoing()
        };
        let bytes = encode_value(&value, 1);
        let mut expected = vec![0, 1]; // version 1
        expected.extend_from_slice(&1000_i64.to_be_bytes());
        expected.extend_from_slice(&5_i16.to_be_bytes());
        expected.extend_from_slice(&60_000_i32.to_be_bytes());
        expected.push(1); // Ongoing
        expected.push(2); // compact array: one topic
        expected.extend_from_slice(&[6, b'r', b'i', b'd', b'e', b's']); // compact string
        expected.push(3); // compact array: two partitions
        expected.extend_from_slice(&0_i32.to_be_bytes());
        expected.extend_from_slice(&2_i32.to_be_bytes());
        expected.push(0); // the topic's tagged fields
        expected.extend_from_slice(&1_700_000_000_123_i64.to_be_bytes());
        expected.extend_from_slice(&1_700_000_000_000_i64.to_be_bytes());
        expected.push(2); // two tagged fields
        expected.extend_from_slice(&[0, 8]); // tag 0 (previous producer id), 8 bytes
        expected.extend_from_slice(&999_i64.to_be_bytes());
        expected.extend_from_slice(&[2, 2]); // tag 2 (client transaction version), 2 bytes
        expected.extend_from_slice(&2_i16.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(decode_value(&bytes), Some(value));
    }

    #[test]
    fn empty_and_null_partitions_round_trip_and_garbage_is_refused() {
        for version in [0, 1] {
            let complete = TransactionLogValue {
                state: TransactionState::CompleteCommit,
                partitions: Some(Vec::new()),
                ..ongoing()
            };
            assert_eq!(
                decode_value(&encode_value(&complete, version)),
                Some(complete)
            );
            let null = TransactionLogValue {
                state: TransactionState::Empty,
                partitions: None,
                ..ongoing()
            };
            assert_eq!(decode_value(&encode_value(&null, version)), Some(null));
        }
        let bytes = encode_value(&ongoing(), 1);
        for cut in 0..bytes.len() {
            assert_eq!(decode_value(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode_value(&[0, 9, 0]), None, "unknown version");
    }

    #[test]
    fn damaged_bytes_never_panic() {
        // Every byte of valid encodings set to every value, then pseudo-random garbage: the
        // decoders answer Some or None, never panic or allocate without bound.
        for version in [0, 1] {
            let good = encode_value(&ongoing(), version);
            for at in 0..good.len() {
                for byte in 0..=255u8 {
                    let mut bad = good.clone();
                    bad[at] = byte;
                    let _ = decode_value(&bad);
                    let _ = decode_key(&bad);
                }
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            let mut bytes = vec![0u8; (state % 64) as usize];
            for b in &mut bytes {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let _ = decode_value(&bytes);
            let _ = decode_key(&bytes);
        }
    }
}
