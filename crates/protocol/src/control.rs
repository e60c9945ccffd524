//! Control batches: the COMMIT and ABORT markers a transaction coordinator writes into every
//! partition of a transaction. A control batch has the transactional and control attribute
//! bits set, the producer's id and epoch, no sequence (-1), and one record whose
//!
//! ```text
//! key   = version: i16 (0) | type: i16 (0 = ABORT, 1 = COMMIT)
//! value = version: i16 (0) | coordinator_epoch: i32          (Kafka's EndTxnMarker)
//! ```
//!
//! as Kafka's `ControlRecordType` and `EndTransactionMarker` write them.

use bytes::Bytes;

use crate::compression::Compression;
use crate::error::RecordError;
use crate::record_batch::{RecordBatch, TimestampType};
use crate::records::{Record, RecordBatchBuilder};

/// What a control record marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    /// The transaction was aborted (type 0).
    Abort,
    /// The transaction was committed (type 1).
    Commit,
}

impl ControlType {
    /// Kafka's id.
    pub fn id(self) -> i16 {
        match self {
            ControlType::Abort => 0,
            ControlType::Commit => 1,
        }
    }
}

/// A transaction marker as read back from a control batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndTransactionMarker {
    /// COMMIT or ABORT.
    pub control_type: ControlType,
    /// The coordinator epoch that wrote it.
    pub coordinator_epoch: i32,
}

/// A control batch holding one marker, at base offset 0 (the log assigns the real one).
pub fn marker_batch(
    producer_id: i64,
    producer_epoch: i16,
    marker: EndTransactionMarker,
    timestamp: i64,
) -> Bytes {
    let mut key = Vec::with_capacity(4);
    key.extend_from_slice(&0_i16.to_be_bytes());
    key.extend_from_slice(&marker.control_type.id().to_be_bytes());
    let mut value = Vec::with_capacity(6);
    value.extend_from_slice(&0_i16.to_be_bytes());
    value.extend_from_slice(&marker.coordinator_epoch.to_be_bytes());
    let mut builder = RecordBatchBuilder::new(Compression::None)
        .timestamp_type(TimestampType::CreateTime)
        .producer(producer_id, producer_epoch, -1)
        .transactional(true)
        .control(true);
    builder.append(timestamp, Some(&key), Some(&value), &[]);
    builder.build()
}

/// The marker in a control batch's record; `None` for a record that is not a marker (Kafka
/// skips unknown control types too).
pub fn read_marker(record: &Record) -> Option<EndTransactionMarker> {
    let key = record.key.as_deref()?;
    let value = record.value.as_deref()?;
    if key.len() < 4 || value.len() < 6 {
        return None;
    }
    let control_type = match i16::from_be_bytes([key[2], key[3]]) {
        0 => ControlType::Abort,
        1 => ControlType::Commit,
        _ => return None,
    };
    let coordinator_epoch = i32::from_be_bytes([value[2], value[3], value[4], value[5]]);
    Some(EndTransactionMarker {
        control_type,
        coordinator_epoch,
    })
}

/// The marker of a control batch; `Ok(None)` when the batch is not a control batch.
pub fn batch_marker(batch: &RecordBatch) -> Result<Option<EndTransactionMarker>, RecordError> {
    if !batch.attributes().is_control() {
        return Ok(None);
    }
    Ok(batch.records()?.first().and_then(read_marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_marker_has_kafkas_bytes() {
        let bytes = marker_batch(
            4242,
            7,
            EndTransactionMarker {
                control_type: ControlType::Commit,
                coordinator_epoch: 3,
            },
            1_700_000_000_000,
        );
        let record: &[u8] = &[
            0x20, // record length 16 (zig-zag)
            0x00, // attributes
            0x00, // timestamp delta 0
            0x00, // offset delta 0
            0x08, // key length 4
            0x00, 0x00, 0x00, 0x01, // key: version 0, type 1 (COMMIT)
            0x0c, // value length 6
            0x00, 0x00, 0x00, 0x00, 0x00, 0x03, // value: version 0, coordinator epoch 3
            0x00, // no headers
        ];
        let mut expected = Vec::new();
        expected.extend_from_slice(&0_i64.to_be_bytes()); // base offset
        expected.extend_from_slice(&((49 + record.len()) as i32).to_be_bytes()); // batch length
        expected.extend_from_slice(&(-1_i32).to_be_bytes()); // partition leader epoch
        expected.push(2); // magic
        expected.extend_from_slice(&[0; 4]); // crc, checked below
        expected.extend_from_slice(&0x0030_i16.to_be_bytes()); // transactional | control
        expected.extend_from_slice(&0_i32.to_be_bytes()); // last offset delta
        expected.extend_from_slice(&1_700_000_000_000_i64.to_be_bytes()); // base timestamp
        expected.extend_from_slice(&1_700_000_000_000_i64.to_be_bytes()); // max timestamp
        expected.extend_from_slice(&4242_i64.to_be_bytes()); // producer id
        expected.extend_from_slice(&7_i16.to_be_bytes()); // producer epoch
        expected.extend_from_slice(&(-1_i32).to_be_bytes()); // base sequence
        expected.extend_from_slice(&1_i32.to_be_bytes()); // records count
        expected.extend_from_slice(record);
        assert_eq!(bytes[..17], expected[..17]);
        assert_eq!(bytes[21..], expected[21..]);

        let batch = RecordBatch::new(bytes).unwrap();
        batch.validate().unwrap();
        assert!(batch.attributes().is_control() && batch.attributes().is_transactional());
        assert_eq!(
            batch_marker(&batch).unwrap(),
            Some(EndTransactionMarker {
                control_type: ControlType::Commit,
                coordinator_epoch: 3
            })
        );
    }

    #[test]
    fn an_abort_marker_reads_back_and_data_batches_are_not_markers() {
        let abort = EndTransactionMarker {
            control_type: ControlType::Abort,
            coordinator_epoch: 0,
        };
        let batch = RecordBatch::new(marker_batch(1, 0, abort, 5)).unwrap();
        assert_eq!(batch_marker(&batch).unwrap(), Some(abort));
        let mut data = RecordBatchBuilder::new(Compression::None).transactional(true);
        data.append(5, Some(b"\0\0\0\0"), Some(b"\0\0\0\0\0\0"), &[]);
        let data = RecordBatch::new(data.build()).unwrap();
        assert_eq!(batch_marker(&data).unwrap(), None);
    }
}
