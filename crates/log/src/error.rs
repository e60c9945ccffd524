//! Typed errors, one enum per operation. Each names the partition directory and, where it
//! applies, the offset or file.

use std::io;
use std::path::PathBuf;

use brook_protocol::BatchError;

/// Opening (and recovering) a partition log failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A file or directory operation failed.
    #[error("cannot open partition log {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The checkpoint file is not in Brook's format.
    #[error("partition log checkpoint {path} is malformed: {reason}")]
    BadCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// An append was refused or failed; nothing of it is visible.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The request held no batches.
    #[error("append to {log} carried no record batches")]
    Empty {
        /// Partition directory.
        log: PathBuf,
    },
    /// A batch is malformed (Kafka: CORRUPT_MESSAGE or UNSUPPORTED_FOR_MESSAGE_FORMAT).
    #[error("append to {log} refused: {source}")]
    InvalidBatch {
        /// Partition directory.
        log: PathBuf,
        /// What is wrong with the batch.
        source: BatchError,
    },
    /// A batch's header contradicts itself (Kafka: INVALID_RECORD).
    #[error("append to {log} refused: {reason}")]
    InvalidRecord {
        /// Partition directory.
        log: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A control batch (transaction marker) among appended batches (Kafka: INVALID_RECORD).
    #[error("append to {log} refused: clients are not allowed to write control records")]
    ControlBatch {
        /// Partition directory.
        log: PathBuf,
    },
    /// Records without a key sent to a compacted topic (Kafka: INVALID_RECORD, with one
    /// record error each).
    #[error(
        "append to {log} refused: compacted topic cannot accept message without key ({} of the records)",
        record_indexes.len()
    )]
    KeylessRecords {
        /// Partition directory.
        log: PathBuf,
        /// Index of each keyless record among the appended records.
        record_indexes: Vec<i32>,
    },
    /// A CreateTime timestamp is outside `message.timestamp.before/after.max.ms`
    /// (Kafka: INVALID_TIMESTAMP).
    #[error(
        "append to {log} refused: timestamp {timestamp} is more than {limit_ms} ms {direction} \
         the broker's time {now}"
    )]
    InvalidTimestamp {
        /// Partition directory.
        log: PathBuf,
        /// The offending timestamp.
        timestamp: i64,
        /// The broker's time.
        now: i64,
        /// The configured limit.
        limit_ms: i64,
        /// "before" or "after".
        direction: &'static str,
    },
    /// An idempotent batch does not follow its producer's last sequence
    /// (Kafka: OUT_OF_ORDER_SEQUENCE_NUMBER).
    #[error(
        "append to {log} refused: producer {producer_id} sent sequence {got}, expected {expected}"
    )]
    OutOfOrderSequence {
        /// Partition directory.
        log: PathBuf,
        /// Producer id.
        producer_id: i64,
        /// Sequence expected next.
        expected: i32,
        /// First sequence of the batch.
        got: i32,
    },
    /// An idempotent batch carries an older producer epoch (Kafka: INVALID_PRODUCER_EPOCH).
    #[error(
        "append to {log} refused: producer {producer_id} epoch {epoch} is older than {current}"
    )]
    InvalidProducerEpoch {
        /// Partition directory.
        log: PathBuf,
        /// Producer id.
        producer_id: i64,
        /// The batch's epoch.
        epoch: i16,
        /// The producer's current epoch.
        current: i16,
    },
    /// A batch exceeds `max.message.bytes` (Kafka: MESSAGE_TOO_LARGE).
    #[error("append to {log} refused: batch of {size} bytes exceeds max.message.bytes={max}")]
    MessageTooLarge {
        /// Partition directory.
        log: PathBuf,
        /// Batch size.
        size: usize,
        /// The limit.
        max: u64,
    },
    /// Writing or syncing failed (Kafka: KAFKA_STORAGE_ERROR).
    #[error("append to {log} failed: {source}")]
    Io {
        /// Partition directory.
        log: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The log is closed or was taken offline by an earlier I/O error
    /// (Kafka: KAFKA_STORAGE_ERROR).
    #[error("partition log {log} is {state}")]
    Unavailable {
        /// Partition directory.
        log: PathBuf,
        /// Why: "closed" or "offline after an I/O error".
        state: &'static str,
    },
}

/// A read or offset lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The offset is outside `[log_start_offset, log_end_offset]` (Kafka: OFFSET_OUT_OF_RANGE).
    #[error(
        "offset {offset} is out of range for {log}: log start offset {log_start_offset}, \
         log end offset {log_end_offset}"
    )]
    OffsetOutOfRange {
        /// Partition directory.
        log: PathBuf,
        /// The requested offset.
        offset: i64,
        /// First readable offset.
        log_start_offset: i64,
        /// Next offset to be written.
        log_end_offset: i64,
    },
    /// Reading failed (Kafka: KAFKA_STORAGE_ERROR).
    #[error("read from {log} failed: {source}")]
    Io {
        /// Partition directory.
        log: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// Flushing, retention, delete-records, compaction or closing failed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// A file operation failed.
    #[error("{operation} on {log} failed: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// Partition directory.
        log: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// delete-records beyond the high watermark (Kafka: OFFSET_OUT_OF_RANGE).
    #[error(
        "cannot delete records of {log} before offset {offset}: high watermark is {high_watermark}"
    )]
    OffsetOutOfRange {
        /// Partition directory.
        log: PathBuf,
        /// The requested offset.
        offset: i64,
        /// Current high watermark.
        high_watermark: i64,
    },
    /// The log is closed or was taken offline by an earlier I/O error.
    #[error("partition log {log} is {state}")]
    Unavailable {
        /// Partition directory.
        log: PathBuf,
        /// Why: "closed" or "offline after an I/O error".
        state: &'static str,
    },
}
