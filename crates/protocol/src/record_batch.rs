//! A zero-copy view of a Kafka RecordBatch (message format v2) over [`Bytes`].
//!
//! The 61-byte header, big-endian, as Kafka lays it out (see `docs/log-format.md`):
//!
//! ```text
//! offset  size  field
//!      0     8  base_offset
//!      8     4  batch_length            bytes that follow this field
//!     12     4  partition_leader_epoch
//!     16     1  magic                   2
//!     17     4  crc                     CRC-32C of bytes 21..end
//!     21     2  attributes
//!     23     4  last_offset_delta
//!     27     8  base_timestamp
//!     35     8  max_timestamp
//!     43     8  producer_id
//!     51     2  producer_epoch
//!     53     4  base_sequence
//!     57     4  records_count
//!     61     …  records (compressed as a whole when attributes say so)
//! ```
//!
//! Fields outside the CRC (`base_offset`, `batch_length`, `partition_leader_epoch`) are the ones
//! a broker assigns; patching them never touches the CRC. Changing the timestamp type or the max
//! timestamp (LogAppendTime topics) does, and the CRC is recomputed as Kafka does.

use bytes::Bytes;

use crate::compression::Compression;
use crate::error::BatchError;

/// Byte position of `base_offset`.
pub const BASE_OFFSET_OFFSET: usize = 0;
/// Byte position of `batch_length`.
pub const BATCH_LENGTH_OFFSET: usize = 8;
/// Byte position of `partition_leader_epoch`.
pub const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
/// Byte position of `magic`.
pub const MAGIC_OFFSET: usize = 16;
/// Byte position of `crc`.
pub const CRC_OFFSET: usize = 17;
/// Byte position of `attributes`; the CRC covers everything from here to the end.
pub const ATTRIBUTES_OFFSET: usize = 21;
/// Byte position of `last_offset_delta`.
pub const LAST_OFFSET_DELTA_OFFSET: usize = 23;
/// Byte position of `base_timestamp`.
pub const BASE_TIMESTAMP_OFFSET: usize = 27;
/// Byte position of `max_timestamp`.
pub const MAX_TIMESTAMP_OFFSET: usize = 35;
/// Byte position of `producer_id`.
pub const PRODUCER_ID_OFFSET: usize = 43;
/// Byte position of `producer_epoch`.
pub const PRODUCER_EPOCH_OFFSET: usize = 51;
/// Byte position of `base_sequence`.
pub const BASE_SEQUENCE_OFFSET: usize = 53;
/// Byte position of `records_count`.
pub const RECORDS_COUNT_OFFSET: usize = 57;
/// Size of the batch header; the records start here.
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// `base_offset` + `batch_length`: the bytes not counted by `batch_length`.
pub const LOG_OVERHEAD: usize = 12;
/// The only message format Brook stores.
pub const MAGIC_V2: i8 = 2;
/// `producer_id` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producer_epoch` of a batch from a non-idempotent producer.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `base_sequence` of a batch from a non-idempotent producer.
pub const NO_SEQUENCE: i32 = -1;
/// `partition_leader_epoch` before a leader assigns one.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

const COMPRESSION_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;
const DELETE_HORIZON_BIT: i16 = 0x40;

/// How a batch's timestamps were assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// The producer's clock (`message.timestamp.type=CreateTime`).
    CreateTime,
    /// The broker's clock at append (`message.timestamp.type=LogAppendTime`).
    LogAppendTime,
}

/// The `attributes` field of a batch header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attributes(pub i16);

impl Attributes {
    /// The compression codec of the records section; `Err` carries an unknown codec id.
    pub fn compression(self) -> Result<Compression, u8> {
        Compression::from_id((self.0 & COMPRESSION_MASK) as u8)
    }

    /// CreateTime or LogAppendTime.
    pub fn timestamp_type(self) -> TimestampType {
        if self.0 & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Part of a transaction.
    pub fn is_transactional(self) -> bool {
        self.0 & TRANSACTIONAL_BIT != 0
    }

    /// A control batch (transaction markers), never handed to applications.
    pub fn is_control(self) -> bool {
        self.0 & CONTROL_BIT != 0
    }

    /// `base_timestamp` holds the delete horizon set by the log cleaner (KIP-534).
    pub fn has_delete_horizon(self) -> bool {
        self.0 & DELETE_HORIZON_BIT != 0
    }

    /// Builds attributes from their parts.
    pub fn new(
        compression: Compression,
        timestamp_type: TimestampType,
        transactional: bool,
        control: bool,
    ) -> Self {
        let mut bits = compression.id() as i16;
        if timestamp_type == TimestampType::LogAppendTime {
            bits |= TIMESTAMP_TYPE_BIT;
        }
        if transactional {
            bits |= TRANSACTIONAL_BIT;
        }
        if control {
            bits |= CONTROL_BIT;
        }
        Attributes(bits)
    }

    /// The same attributes with another timestamp type.
    pub fn with_timestamp_type(self, timestamp_type: TimestampType) -> Self {
        match timestamp_type {
            TimestampType::CreateTime => Attributes(self.0 & !TIMESTAMP_TYPE_BIT),
            TimestampType::LogAppendTime => Attributes(self.0 | TIMESTAMP_TYPE_BIT),
        }
    }
}

fn i16_at(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}
fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Looks at the start of `buf` and returns the total size of the batch there
/// (`batch_length + 12`), checking only what the first 17 bytes can tell:
/// that the length is plausible and that the magic byte is 2.
///
/// Returns [`BatchError::Truncated`] when `buf` is shorter than the header or the batch.
pub fn batch_size(buf: &[u8], max_batch_size: usize) -> Result<usize, BatchError> {
    if buf.len() < MAGIC_OFFSET + 1 {
        return Err(BatchError::Truncated {
            needed: MAGIC_OFFSET + 1,
            available: buf.len(),
        });
    }
    let base_offset = i64_at(buf, BASE_OFFSET_OFFSET);
    let batch_length = i32_at(buf, BATCH_LENGTH_OFFSET);
    let magic = buf[MAGIC_OFFSET] as i8;
    if magic != MAGIC_V2 {
        return Err(BatchError::UnsupportedMagic { magic, base_offset });
    }
    if batch_length < (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) as i32 {
        return Err(BatchError::InvalidLength {
            batch_length,
            base_offset,
        });
    }
    let size = batch_length as usize + LOG_OVERHEAD;
    if size > max_batch_size {
        return Err(BatchError::TooLarge {
            size,
            max: max_batch_size,
            base_offset,
        });
    }
    if buf.len() < size {
        return Err(BatchError::Truncated {
            needed: size,
            available: buf.len(),
        });
    }
    Ok(size)
}

/// The fixed fields of a batch header, parsed from its first 61 bytes without needing the rest
/// of the batch — what a log needs when it walks a segment file header by header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Bytes after the `batch_length` field.
    pub batch_length: i32,
    /// Epoch of the leader that appended the batch.
    pub partition_leader_epoch: i32,
    /// The stored CRC-32C.
    pub crc: u32,
    /// Compression, timestamp type and flags.
    pub attributes: Attributes,
    /// `last_offset - base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch.
    pub max_timestamp: i64,
    /// Idempotent producer id, or -1.
    pub producer_id: i64,
    /// Idempotent producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records.
    pub records_count: i32,
}

impl BatchHeader {
    /// Parses the header at the start of `buf` (at least 61 bytes), checking magic and length.
    pub fn parse(buf: &[u8]) -> Result<Self, BatchError> {
        batch_size(buf, usize::MAX).or_else(|e| match e {
            BatchError::Truncated { .. } if buf.len() >= RECORD_BATCH_OVERHEAD => Ok(0),
            other => Err(other),
        })?;
        if buf.len() < RECORD_BATCH_OVERHEAD {
            return Err(BatchError::Truncated {
                needed: RECORD_BATCH_OVERHEAD,
                available: buf.len(),
            });
        }
        Ok(BatchHeader {
            base_offset: i64_at(buf, BASE_OFFSET_OFFSET),
            batch_length: i32_at(buf, BATCH_LENGTH_OFFSET),
            partition_leader_epoch: i32_at(buf, PARTITION_LEADER_EPOCH_OFFSET),
            crc: i32_at(buf, CRC_OFFSET) as u32,
            attributes: Attributes(i16_at(buf, ATTRIBUTES_OFFSET)),
            last_offset_delta: i32_at(buf, LAST_OFFSET_DELTA_OFFSET),
            base_timestamp: i64_at(buf, BASE_TIMESTAMP_OFFSET),
            max_timestamp: i64_at(buf, MAX_TIMESTAMP_OFFSET),
            producer_id: i64_at(buf, PRODUCER_ID_OFFSET),
            producer_epoch: i16_at(buf, PRODUCER_EPOCH_OFFSET),
            base_sequence: i32_at(buf, BASE_SEQUENCE_OFFSET),
            records_count: i32_at(buf, RECORDS_COUNT_OFFSET),
        })
    }

    /// Total batch size, header included.
    pub fn size(&self) -> usize {
        self.batch_length as usize + LOG_OVERHEAD
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }
}

/// One RecordBatch v2, viewed in place over shared bytes. Cheap to clone.
///
/// Construction checks the header's shape (magic, length); [`RecordBatch::verify_crc`] checks
/// the content. Immutable, `Send + Sync`.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordBatch {
    bytes: Bytes,
}

impl std::fmt::Debug for RecordBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordBatch")
            .field("base_offset", &self.base_offset())
            .field("last_offset_delta", &self.last_offset_delta())
            .field("records_count", &self.records_count())
            .field("size", &self.size())
            .field("attributes", &self.attributes())
            .finish()
    }
}

impl RecordBatch {
    /// Views `bytes`, which must hold exactly one batch.
    pub fn new(bytes: Bytes) -> Result<Self, BatchError> {
        let size = batch_size(&bytes, usize::MAX)?;
        if size != bytes.len() {
            return Err(BatchError::TrailingBytes {
                size,
                available: bytes.len(),
            });
        }
        Ok(RecordBatch { bytes })
    }

    /// The batch's bytes, exactly as stored.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Consumes the view, returning its bytes.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Total size in bytes, header included.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The fixed header fields.
    pub fn header(&self) -> BatchHeader {
        BatchHeader::parse(&self.bytes).expect("checked at construction")
    }

    /// Offset of the first record.
    pub fn base_offset(&self) -> i64 {
        i64_at(&self.bytes, BASE_OFFSET_OFFSET)
    }
    /// Bytes after the `batch_length` field.
    pub fn batch_length(&self) -> i32 {
        i32_at(&self.bytes, BATCH_LENGTH_OFFSET)
    }
    /// Epoch of the leader that appended the batch.
    pub fn partition_leader_epoch(&self) -> i32 {
        i32_at(&self.bytes, PARTITION_LEADER_EPOCH_OFFSET)
    }
    /// Always 2 for a constructed view.
    pub fn magic(&self) -> i8 {
        self.bytes[MAGIC_OFFSET] as i8
    }
    /// The stored CRC-32C.
    pub fn crc(&self) -> u32 {
        i32_at(&self.bytes, CRC_OFFSET) as u32
    }
    /// Compression, timestamp type and flags.
    pub fn attributes(&self) -> Attributes {
        Attributes(i16_at(&self.bytes, ATTRIBUTES_OFFSET))
    }
    /// `last_offset - base_offset`; kept by compaction even when records are removed.
    pub fn last_offset_delta(&self) -> i32 {
        i32_at(&self.bytes, LAST_OFFSET_DELTA_OFFSET)
    }
    /// Timestamp of the first record (or the delete horizon, see [`Attributes::has_delete_horizon`]).
    pub fn base_timestamp(&self) -> i64 {
        i64_at(&self.bytes, BASE_TIMESTAMP_OFFSET)
    }
    /// Largest record timestamp, or the broker's time for LogAppendTime.
    pub fn max_timestamp(&self) -> i64 {
        i64_at(&self.bytes, MAX_TIMESTAMP_OFFSET)
    }
    /// Idempotent producer id, or -1.
    pub fn producer_id(&self) -> i64 {
        i64_at(&self.bytes, PRODUCER_ID_OFFSET)
    }
    /// Idempotent producer epoch, or -1.
    pub fn producer_epoch(&self) -> i16 {
        i16_at(&self.bytes, PRODUCER_EPOCH_OFFSET)
    }
    /// Sequence number of the first record, or -1.
    pub fn base_sequence(&self) -> i32 {
        i32_at(&self.bytes, BASE_SEQUENCE_OFFSET)
    }
    /// Number of records in the batch.
    pub fn records_count(&self) -> i32 {
        i32_at(&self.bytes, RECORDS_COUNT_OFFSET)
    }
    /// Offset of the last record: `base_offset + last_offset_delta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset() + i64::from(self.last_offset_delta())
    }
    /// The offset after this batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }
    /// The records section (possibly compressed).
    pub fn records_section(&self) -> Bytes {
        self.bytes.slice(RECORD_BATCH_OVERHEAD..)
    }

    /// The CRC-32C Kafka computes: over everything from `attributes` to the end.
    pub fn compute_crc(&self) -> u32 {
        crc32c::crc32c(&self.bytes[ATTRIBUTES_OFFSET..])
    }

    /// Checks the CRC and the header's internal consistency.
    pub fn verify_crc(&self) -> Result<(), BatchError> {
        let computed = self.compute_crc();
        if computed != self.crc() {
            return Err(BatchError::CrcMismatch {
                base_offset: self.base_offset(),
                stored: self.crc(),
                computed,
            });
        }
        Ok(())
    }

    /// Checks what a broker must check before storing a batch: CRC, a known compression codec,
    /// and sane counts.
    pub fn validate(&self) -> Result<(), BatchError> {
        self.verify_crc()?;
        if let Err(id) = self.attributes().compression() {
            return Err(BatchError::UnknownCompression {
                id,
                base_offset: self.base_offset(),
            });
        }
        if self.records_count() < 0 || self.last_offset_delta() < 0 {
            return Err(BatchError::InvalidHeader {
                base_offset: self.base_offset(),
                reason: "negative records_count or last_offset_delta",
            });
        }
        Ok(())
    }
}

/// Iterates over the batches in a buffer, front to back, without copying.
///
/// Yields `Err` once — at the first malformed or truncated batch — and then stops. CRCs are not
/// checked here; call [`RecordBatch::verify_crc`] on each batch when the bytes are untrusted.
pub struct Batches {
    rest: Bytes,
    max_batch_size: usize,
    failed: bool,
}

impl Batches {
    /// Batches in `bytes`, any size.
    pub fn new(bytes: Bytes) -> Self {
        Self::with_max_batch_size(bytes, usize::MAX)
    }

    /// Batches in `bytes`; a batch larger than `max_batch_size` is an error.
    pub fn with_max_batch_size(bytes: Bytes, max_batch_size: usize) -> Self {
        Batches {
            rest: bytes,
            max_batch_size,
            failed: false,
        }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match batch_size(&self.rest, self.max_batch_size) {
            Ok(size) => Some(Ok(RecordBatch {
                bytes: self.rest.split_to(size),
            })),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// In-place patches of a batch's header, for the broker's append path.
///
/// Each takes the whole batch (`batch.len() >= 61`); they panic on a shorter slice, which the
/// callers rule out by constructing a [`RecordBatch`] first.
pub mod patch {
    use super::*;

    /// Writes `base_offset` (outside the CRC).
    pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
        batch[BASE_OFFSET_OFFSET..BASE_OFFSET_OFFSET + 8]
            .copy_from_slice(&base_offset.to_be_bytes());
    }

    /// Writes `partition_leader_epoch` (outside the CRC).
    pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
        batch[PARTITION_LEADER_EPOCH_OFFSET..PARTITION_LEADER_EPOCH_OFFSET + 4]
            .copy_from_slice(&epoch.to_be_bytes());
    }

    /// Marks the batch LogAppendTime with `timestamp` as its max timestamp and recomputes the
    /// CRC, as Kafka's `DefaultRecordBatch.setMaxTimestamp` does. A no-op when both already match.
    pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) {
        let attributes = Attributes(i16_at(batch, ATTRIBUTES_OFFSET));
        if attributes.timestamp_type() == TimestampType::LogAppendTime
            && i64_at(batch, MAX_TIMESTAMP_OFFSET) == timestamp
        {
            return;
        }
        let attributes = attributes.with_timestamp_type(TimestampType::LogAppendTime);
        batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2]
            .copy_from_slice(&attributes.0.to_be_bytes());
        batch[MAX_TIMESTAMP_OFFSET..MAX_TIMESTAMP_OFFSET + 8]
            .copy_from_slice(&timestamp.to_be_bytes());
        rewrite_crc(batch);
    }

    /// Recomputes and stores the CRC over `attributes..end`.
    pub fn rewrite_crc(batch: &mut [u8]) {
        let crc = crc32c::crc32c(&batch[ATTRIBUTES_OFFSET..]);
        batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A batch with one uncompressed record (key "k", value "v", no headers), hand-assembled
    /// byte by byte so that the parser is checked against the spec, not against our builder.
    pub(crate) fn hand_made_batch() -> Vec<u8> {
        // record: attributes 0, timestampDelta 0, offsetDelta 0, key "k", value "v", 0 headers
        let record: Vec<u8> = vec![
            0x00, // attributes
            0x00, // timestampDelta (zigzag 0)
            0x00, // offsetDelta
            0x02, b'k', // keyLength 1 (zigzag 2), key
            0x02, b'v', // valueLength 1, value
            0x00, // headers count
        ];
        let mut records = vec![(record.len() as u8) << 1]; // record length, zigzag
        records.extend_from_slice(&record);

        let mut b = Vec::new();
        b.extend_from_slice(&0x0102_0304_0506_0708_i64.to_be_bytes()); // base_offset
        let batch_length = (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD + records.len()) as i32;
        b.extend_from_slice(&batch_length.to_be_bytes());
        b.extend_from_slice(&7_i32.to_be_bytes()); // partition_leader_epoch
        b.push(2); // magic
        b.extend_from_slice(&[0, 0, 0, 0]); // crc, filled below
        b.extend_from_slice(&0x0013_i16.to_be_bytes()); // attributes: lz4 bits + transactional
        b.extend_from_slice(&0_i32.to_be_bytes()); // last_offset_delta
        b.extend_from_slice(&1_700_000_000_000_i64.to_be_bytes()); // base_timestamp
        b.extend_from_slice(&1_700_000_000_123_i64.to_be_bytes()); // max_timestamp
        b.extend_from_slice(&42_i64.to_be_bytes()); // producer_id
        b.extend_from_slice(&3_i16.to_be_bytes()); // producer_epoch
        b.extend_from_slice(&9_i32.to_be_bytes()); // base_sequence
        b.extend_from_slice(&1_i32.to_be_bytes()); // records_count
        b.extend_from_slice(&records);
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn header_fields_are_read_from_their_byte_positions() {
        let batch = RecordBatch::new(Bytes::from(hand_made_batch())).unwrap();
        assert_eq!(batch.base_offset(), 0x0102_0304_0506_0708);
        assert_eq!(batch.batch_length() as usize, batch.size() - 12);
        assert_eq!(batch.partition_leader_epoch(), 7);
        assert_eq!(batch.magic(), 2);
        assert_eq!(batch.attributes().compression(), Ok(Compression::Lz4));
        assert!(batch.attributes().is_transactional());
        assert!(!batch.attributes().is_control());
        assert_eq!(
            batch.attributes().timestamp_type(),
            TimestampType::CreateTime
        );
        assert_eq!(batch.last_offset_delta(), 0);
        assert_eq!(batch.base_timestamp(), 1_700_000_000_000);
        assert_eq!(batch.max_timestamp(), 1_700_000_000_123);
        assert_eq!(batch.producer_id(), 42);
        assert_eq!(batch.producer_epoch(), 3);
        assert_eq!(batch.base_sequence(), 9);
        assert_eq!(batch.records_count(), 1);
        assert_eq!(batch.size(), 61 + 9);
        let header = BatchHeader::parse(&batch.as_bytes()[..61]).unwrap();
        assert_eq!(header, batch.header());
        assert_eq!(header.size(), batch.size());
        assert_eq!(header.last_offset(), batch.last_offset());
        assert_eq!(header.producer_epoch, 3);
        batch.verify_crc().unwrap();
    }

    #[test]
    fn patching_base_offset_and_epoch_keeps_the_crc_valid() {
        let mut bytes = hand_made_batch();
        let crc_before = bytes[17..21].to_vec();
        patch::set_base_offset(&mut bytes, 1000);
        patch::set_partition_leader_epoch(&mut bytes, 5);
        assert_eq!(&bytes[0..8], &[0, 0, 0, 0, 0, 0, 0x03, 0xe8]);
        assert_eq!(&bytes[12..16], &[0, 0, 0, 5]);
        assert_eq!(&bytes[17..21], &crc_before[..]);
        let batch = RecordBatch::new(Bytes::from(bytes)).unwrap();
        assert_eq!(batch.base_offset(), 1000);
        batch.verify_crc().unwrap();
    }

    #[test]
    fn log_append_time_sets_the_type_bit_and_max_timestamp_and_recomputes_the_crc() {
        let mut bytes = hand_made_batch();
        patch::set_log_append_time(&mut bytes, 0x0000_0190_0000_0001);
        assert_eq!(&bytes[21..23], &[0x00, 0x1b]); // 0x13 | timestamp-type bit 0x08
        assert_eq!(&bytes[35..43], &[0, 0, 0x01, 0x90, 0, 0, 0, 0x01]);
        let expected_crc = crc32c::crc32c(&bytes[21..]);
        assert_eq!(&bytes[17..21], &expected_crc.to_be_bytes());
        let batch = RecordBatch::new(Bytes::from(bytes)).unwrap();
        assert_eq!(
            batch.attributes().timestamp_type(),
            TimestampType::LogAppendTime
        );
        batch.verify_crc().unwrap();
    }

    #[test]
    fn a_flipped_byte_fails_the_crc() {
        let mut bytes = hand_made_batch();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x40;
        let batch = RecordBatch::new(Bytes::from(bytes)).unwrap();
        assert!(matches!(
            batch.verify_crc(),
            Err(BatchError::CrcMismatch { .. })
        ));
    }

    #[test]
    fn old_message_formats_are_refused_by_name() {
        for magic in [0u8, 1] {
            let mut bytes = hand_made_batch();
            bytes[16] = magic;
            let err = RecordBatch::new(Bytes::from(bytes)).unwrap_err();
            assert!(
                matches!(err, BatchError::UnsupportedMagic { magic: m, .. } if m == magic as i8)
            );
            assert!(err.to_string().contains("v0/v1"), "{err}");
        }
    }

    #[test]
    fn truncated_and_oversized_batches_are_errors() {
        let bytes = hand_made_batch();
        for cut in [0, 5, 16, 60, bytes.len() - 1] {
            let err = RecordBatch::new(Bytes::copy_from_slice(&bytes[..cut])).unwrap_err();
            assert!(
                matches!(err, BatchError::Truncated { .. }),
                "cut at {cut}: {err}"
            );
        }
        assert!(matches!(
            batch_size(&bytes, 69),
            Err(BatchError::TooLarge {
                size: 70,
                max: 69,
                ..
            })
        ));
        let mut short = bytes.clone();
        short[8..12].copy_from_slice(&10_i32.to_be_bytes());
        assert!(matches!(
            batch_size(&short, usize::MAX),
            Err(BatchError::InvalidLength { .. })
        ));
        let mut negative = bytes;
        negative[8..12].copy_from_slice(&(-1_i32).to_be_bytes());
        assert!(matches!(
            batch_size(&negative, usize::MAX),
            Err(BatchError::InvalidLength { .. })
        ));
    }

    #[test]
    fn iteration_yields_each_batch_then_stops_at_a_torn_tail() {
        let one = hand_made_batch();
        let mut buf = one.clone();
        buf.extend_from_slice(&one);
        buf.extend_from_slice(&one[..30]);
        let mut it = Batches::new(Bytes::from(buf));
        assert_eq!(it.next().unwrap().unwrap().size(), one.len());
        assert_eq!(it.next().unwrap().unwrap().size(), one.len());
        assert!(matches!(it.next(), Some(Err(BatchError::Truncated { .. }))));
        assert!(it.next().is_none());
    }
}
