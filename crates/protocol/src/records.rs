//! The records inside a batch: decoding them (decompressing when needed) and building batches.
//!
//! Record layout (all varints zig-zag):
//!
//! ```text
//! length varint | attributes i8 | timestamp_delta varlong | offset_delta varint
//! key_length varint | key | value_length varint | value
//! header_count varint | [key_length varint | key | value_length varint | value] …
//! ```
//! A length of -1 means null.

use bytes::Bytes;

use crate::compression::Compression;
use crate::error::RecordError;
use crate::record_batch::{
    self, Attributes, LOG_OVERHEAD, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
    NO_SEQUENCE, RECORD_BATCH_OVERHEAD, RecordBatch, TimestampType,
};
use crate::varint::{read_varint, read_varlong, write_varint, write_varlong};

/// A record header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header key (UTF-8 in practice, kept as bytes).
    pub key: Bytes,
    /// Header value; `None` is null.
    pub value: Option<Bytes>,
}

/// One decoded record, with its absolute offset and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Absolute offset: batch base offset + offset delta.
    pub offset: i64,
    /// Absolute timestamp (the batch's max timestamp for LogAppendTime).
    pub timestamp: i64,
    /// Key; `None` is null.
    pub key: Option<Bytes>,
    /// Value; `None` is a tombstone on compacted topics.
    pub value: Option<Bytes>,
    /// Headers in order.
    pub headers: Vec<Header>,
}

impl RecordBatch {
    /// Decodes every record, decompressing the records section if needed.
    pub fn records(&self) -> Result<Vec<Record>, RecordError> {
        let base_offset = self.base_offset();
        let compression = self
            .attributes()
            .compression()
            .map_err(|id| crate::BatchError::UnknownCompression { id, base_offset })?;
        let section = self.records_section();
        let data = match compression {
            Compression::None => section,
            codec => Bytes::from(codec.decompress(&section).map_err(|message| {
                RecordError::Decompress {
                    codec: codec.name(),
                    message,
                }
            })?),
        };
        let log_append_time = (self.attributes().timestamp_type() == TimestampType::LogAppendTime)
            .then(|| self.max_timestamp());
        let count = usize::try_from(self.records_count()).unwrap_or(0);
        let mut records = Vec::with_capacity(count.min(data.len()));
        let mut rest: &[u8] = &data;
        for index in 0..count {
            let malformed = |reason| RecordError::Malformed {
                base_offset,
                index,
                reason,
            };
            let len = read_varint(&mut rest).ok_or(malformed("bad record length"))?;
            let len = usize::try_from(len).map_err(|_| malformed("negative record length"))?;
            if rest.len() < len {
                return Err(malformed("record extends past the batch"));
            }
            let body_start = data.len() - rest.len();
            let body = data.slice(body_start..body_start + len);
            rest = &rest[len..];
            records.push(
                decode_record(&body, base_offset, self.base_timestamp(), log_append_time)
                    .ok_or(malformed("record body is malformed"))?,
            );
        }
        if !rest.is_empty() {
            return Err(RecordError::Malformed {
                base_offset,
                index: count,
                reason: "bytes left after the last record",
            });
        }
        Ok(records)
    }
}

fn decode_record(
    body: &Bytes,
    base_offset: i64,
    base_timestamp: i64,
    log_append_time: Option<i64>,
) -> Option<Record> {
    let mut rest: &[u8] = body;
    let _attributes = *rest.first()?;
    rest = &rest[1..];
    let timestamp_delta = read_varlong(&mut rest)?;
    let offset_delta = read_varint(&mut rest)?;
    let key = read_nullable(body, &mut rest)?;
    let value = read_nullable(body, &mut rest)?;
    let header_count = usize::try_from(read_varint(&mut rest)?).ok()?;
    let mut headers = Vec::with_capacity(header_count.min(rest.len()));
    for _ in 0..header_count {
        let key = read_nullable(body, &mut rest)??;
        let value = read_nullable(body, &mut rest)?;
        headers.push(Header { key, value });
    }
    if !rest.is_empty() {
        return None;
    }
    Some(Record {
        offset: base_offset + i64::from(offset_delta),
        timestamp: log_append_time.unwrap_or(base_timestamp.wrapping_add(timestamp_delta)),
        key,
        value,
        headers,
    })
}

/// Reads a varint-length-prefixed nullable byte field as a zero-copy slice of `whole`.
/// Outer `None`: malformed. Inner `None`: null.
fn read_nullable(whole: &Bytes, rest: &mut &[u8]) -> Option<Option<Bytes>> {
    let len = read_varint(rest)?;
    if len < 0 {
        return (len == -1).then_some(None);
    }
    let len = len as usize;
    if rest.len() < len {
        return None;
    }
    let start = whole.len() - rest.len();
    *rest = &rest[len..];
    Some(Some(whole.slice(start..start + len)))
}

/// Builds a RecordBatch v2 with its CRC, compressing the records section.
///
/// Used by tests, benchmarks, the log cleaner and client-side tools; the broker itself stores
/// producers' batches as they arrive.
#[derive(Debug, Clone)]
pub struct RecordBatchBuilder {
    compression: Compression,
    compression_level: Option<i32>,
    timestamp_type: TimestampType,
    base_offset: i64,
    partition_leader_epoch: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    control: bool,
    base_timestamp: Option<i64>,
    max_timestamp: i64,
    last_offset_delta: Option<i32>,
    next_offset_delta: i32,
    count: i32,
    records: Vec<u8>,
    scratch: Vec<u8>,
}

impl RecordBatchBuilder {
    /// An empty builder: base offset 0, CreateTime, no producer id.
    pub fn new(compression: Compression) -> Self {
        RecordBatchBuilder {
            compression,
            compression_level: None,
            timestamp_type: TimestampType::CreateTime,
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            control: false,
            base_timestamp: None,
            max_timestamp: -1,
            last_offset_delta: None,
            next_offset_delta: 0,
            count: 0,
            records: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Sets the gzip or zstd level (`None`: the codec's default).
    pub fn compression_level(mut self, level: Option<i32>) -> Self {
        self.compression_level = level;
        self
    }

    /// Sets the base offset written in the header.
    pub fn base_offset(mut self, base_offset: i64) -> Self {
        self.base_offset = base_offset;
        self
    }

    /// Sets the timestamp type bit.
    pub fn timestamp_type(mut self, timestamp_type: TimestampType) -> Self {
        self.timestamp_type = timestamp_type;
        self
    }

    /// Sets idempotent-producer fields.
    pub fn producer(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Marks the batch transactional.
    pub fn transactional(mut self, transactional: bool) -> Self {
        self.transactional = transactional;
        self
    }

    /// Marks the batch a control batch (transaction markers).
    pub fn control(mut self, control: bool) -> Self {
        self.control = control;
        self
    }

    /// Keeps `last_offset_delta` at `delta` even if fewer records are appended (compaction).
    pub fn last_offset_delta(mut self, delta: i32) -> Self {
        self.last_offset_delta = Some(delta);
        self
    }

    /// Forces `max_timestamp` to at least `timestamp` (empty compacted batches keep theirs).
    pub fn min_max_timestamp(mut self, timestamp: i64) -> Self {
        self.max_timestamp = self.max_timestamp.max(timestamp);
        self
    }

    /// Number of records appended so far.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True before the first append.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends a record at the next offset delta.
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&[u8], Option<&[u8]>)],
    ) {
        let delta = self.next_offset_delta;
        self.append_with_offset_delta(delta, timestamp, key, value, headers);
    }

    /// Appends a record at `offset_delta`, which must exceed every earlier one.
    pub fn append_with_offset_delta(
        &mut self,
        offset_delta: i32,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&[u8], Option<&[u8]>)],
    ) {
        assert!(
            offset_delta >= self.next_offset_delta,
            "offset deltas must increase"
        );
        let base_timestamp = *self.base_timestamp.get_or_insert(timestamp);
        let body = &mut self.scratch;
        body.clear();
        body.push(0);
        write_varlong(body, timestamp.wrapping_sub(base_timestamp));
        write_varint(body, offset_delta);
        write_nullable(body, key);
        write_nullable(body, value);
        write_varint(body, headers.len() as i32);
        for (k, v) in headers {
            write_nullable(body, Some(k));
            write_nullable(body, *v);
        }
        write_varint(&mut self.records, body.len() as i32);
        self.records.extend_from_slice(body);
        self.max_timestamp = self.max_timestamp.max(timestamp);
        self.next_offset_delta = offset_delta + 1;
        self.count += 1;
    }

    /// Finishes the batch: header, compressed records, CRC.
    pub fn build(self) -> Bytes {
        let section = self
            .compression
            .compress_at(&self.records, self.compression_level);
        let mut out = Vec::with_capacity(RECORD_BATCH_OVERHEAD + section.len());
        let batch_length = (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD + section.len()) as i32;
        let attributes = Attributes::new(
            self.compression,
            self.timestamp_type,
            self.transactional,
            self.control,
        );
        let last_offset_delta = self
            .last_offset_delta
            .unwrap_or(self.next_offset_delta - 1)
            .max(0);
        out.extend_from_slice(&self.base_offset.to_be_bytes());
        out.extend_from_slice(&batch_length.to_be_bytes());
        out.extend_from_slice(&self.partition_leader_epoch.to_be_bytes());
        out.push(record_batch::MAGIC_V2 as u8);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&attributes.0.to_be_bytes());
        out.extend_from_slice(&last_offset_delta.to_be_bytes());
        out.extend_from_slice(
            &self
                .base_timestamp
                .unwrap_or(self.max_timestamp)
                .to_be_bytes(),
        );
        out.extend_from_slice(&self.max_timestamp.to_be_bytes());
        out.extend_from_slice(&self.producer_id.to_be_bytes());
        out.extend_from_slice(&self.producer_epoch.to_be_bytes());
        out.extend_from_slice(&self.base_sequence.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&section);
        record_batch::patch::rewrite_crc(&mut out);
        Bytes::from(out)
    }
}

/// A batch holding `records` (all or some of `original`'s), in `codec` at `level`, keeping the
/// original's base offset, last offset delta, timestamp type, producer fields, transactional
/// flag and partition leader epoch (Kafka's `MemoryRecords.filterTo` for the cleaner, and its
/// recompression of appended batches).
pub fn rebuild_batch(
    original: &RecordBatch,
    records: &[Record],
    codec: Compression,
    level: Option<i32>,
) -> Bytes {
    let attributes = original.attributes();
    let mut builder = RecordBatchBuilder::new(codec)
        .compression_level(level)
        .base_offset(original.base_offset())
        .timestamp_type(attributes.timestamp_type())
        .producer(
            original.producer_id(),
            original.producer_epoch(),
            original.base_sequence(),
        )
        .transactional(attributes.is_transactional())
        .last_offset_delta(original.last_offset_delta());
    if attributes.timestamp_type() == TimestampType::LogAppendTime || records.is_empty() {
        builder = builder.min_max_timestamp(original.max_timestamp());
    }
    for record in records {
        let headers: Vec<(&[u8], Option<&[u8]>)> = record
            .headers
            .iter()
            .map(|h| (&h.key[..], h.value.as_deref()))
            .collect();
        builder.append_with_offset_delta(
            (record.offset - original.base_offset()) as i32,
            record.timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
            &headers,
        );
    }
    let mut bytes = builder.build().to_vec();
    record_batch::patch::set_partition_leader_epoch(&mut bytes, original.partition_leader_epoch());
    Bytes::from(bytes)
}

fn write_nullable(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => write_varint(out, -1),
        Some(bytes) => {
            write_varint(out, bytes.len() as i32);
            out.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_batch::tests::hand_made_batch;

    #[test]
    fn decodes_the_hand_made_batch() {
        let mut bytes = hand_made_batch();
        bytes[22] = 0x10; // no compression, keep transactional
        record_batch::patch::rewrite_crc(&mut bytes);
        let batch = RecordBatch::new(Bytes::from(bytes)).unwrap();
        let records = batch.records().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].offset, batch.base_offset());
        assert_eq!(records[0].timestamp, 1_700_000_000_000);
        assert_eq!(records[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(records[0].value.as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn builder_output_matches_the_hand_made_layout() {
        let mut hand = hand_made_batch();
        // Same fields as the hand-made batch but uncompressed, not transactional, default producer.
        let mut builder =
            RecordBatchBuilder::new(Compression::None).base_offset(0x0102_0304_0506_0708);
        builder.append(1_700_000_000_000, Some(b"k"), Some(b"v"), &[]);
        let built = builder.build();
        hand[12..16].copy_from_slice(&(-1_i32).to_be_bytes());
        hand[21..23].copy_from_slice(&0_i16.to_be_bytes());
        hand[35..43].copy_from_slice(&1_700_000_000_000_i64.to_be_bytes());
        hand[43..51].copy_from_slice(&(-1_i64).to_be_bytes());
        hand[51..53].copy_from_slice(&(-1_i16).to_be_bytes());
        hand[53..57].copy_from_slice(&(-1_i32).to_be_bytes());
        record_batch::patch::rewrite_crc(&mut hand);
        assert_eq!(&built[..], &hand[..]);
    }

    #[test]
    fn every_codec_round_trips_records_with_headers_and_nulls() {
        for codec in Compression::ALL {
            let mut builder = RecordBatchBuilder::new(codec).base_offset(100);
            builder.append(
                10,
                Some(b"a"),
                Some(b"one"),
                &[(b"h1", Some(b"x")), (b"h2", None)],
            );
            builder.append(5, None, None, &[]);
            builder.append(30, Some(b"c"), Some(&[7u8; 3000]), &[]);
            let batch = RecordBatch::new(builder.build()).unwrap();
            batch.validate().unwrap();
            assert_eq!(batch.attributes().compression(), Ok(codec));
            assert_eq!(batch.last_offset(), 102);
            assert_eq!(batch.max_timestamp(), 30);
            let records = batch.records().unwrap();
            assert_eq!(
                records.iter().map(|r| r.offset).collect::<Vec<_>>(),
                [100, 101, 102]
            );
            assert_eq!(
                records.iter().map(|r| r.timestamp).collect::<Vec<_>>(),
                [10, 5, 30]
            );
            assert_eq!(records[0].headers.len(), 2);
            assert_eq!(records[0].headers[1].value, None);
            assert_eq!(records[1].key, None);
            assert_eq!(records[1].value, None);
            assert_eq!(records[2].value.as_ref().unwrap().len(), 3000);
        }
    }

    #[test]
    fn log_append_time_overrides_record_timestamps() {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(10, None, Some(b"x"), &[]);
        let mut bytes = builder.build().to_vec();
        record_batch::patch::set_log_append_time(&mut bytes, 999);
        let records = RecordBatch::new(Bytes::from(bytes))
            .unwrap()
            .records()
            .unwrap();
        assert_eq!(records[0].timestamp, 999);
    }

    #[test]
    fn a_lying_record_count_is_an_error() {
        let mut builder = RecordBatchBuilder::new(Compression::None);
        builder.append(10, None, Some(b"x"), &[]);
        let mut bytes = builder.build().to_vec();
        bytes[57..61].copy_from_slice(&2_i32.to_be_bytes());
        record_batch::patch::rewrite_crc(&mut bytes);
        let err = RecordBatch::new(Bytes::from(bytes))
            .unwrap()
            .records()
            .unwrap_err();
        assert!(
            matches!(err, RecordError::Malformed { index: 1, .. }),
            "{err}"
        );
    }
}
