//! The one place where Brook's typed errors become Kafka error codes.

use brook_log::{AppendError, MaintenanceError, ReadError};
use brook_protocol::BatchError;
use kafka_protocol::ResponseError;

use crate::topics::TopicError;

/// Kafka's "no error".
pub const NONE: i16 = 0;

/// Error code for a failed append.
pub fn append_error_code(e: &AppendError) -> i16 {
    match e {
        AppendError::Empty { .. } => ResponseError::CorruptMessage.code(),
        AppendError::InvalidBatch {
            source: BatchError::UnsupportedMagic { .. },
            ..
        } => ResponseError::UnsupportedForMessageFormat.code(),
        AppendError::InvalidBatch {
            source: BatchError::TooLarge { .. },
            ..
        } => ResponseError::MessageTooLarge.code(),
        AppendError::InvalidBatch { .. } => ResponseError::CorruptMessage.code(),
        AppendError::InvalidRecord { .. }
        | AppendError::KeylessRecords { .. }
        | AppendError::ControlBatch { .. } => ResponseError::InvalidRecord.code(),
        AppendError::MessageTooLarge { .. } => ResponseError::MessageTooLarge.code(),
        AppendError::InvalidTimestamp { .. } => ResponseError::InvalidTimestamp.code(),
        AppendError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber.code(),
        AppendError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch.code(),
        AppendError::Io { .. } | AppendError::Unavailable { .. } => {
            ResponseError::KafkaStorageError.code()
        }
    }
}

/// Error code for a failed read or lookup.
pub fn read_error_code(e: &ReadError) -> i16 {
    match e {
        ReadError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange.code(),
        ReadError::Io { .. } => ResponseError::KafkaStorageError.code(),
    }
}

/// Error code for a failed maintenance operation (delete-records, …).
pub fn maintenance_error_code(e: &MaintenanceError) -> i16 {
    match e {
        MaintenanceError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange.code(),
        MaintenanceError::Io { .. } | MaintenanceError::Unavailable { .. } => {
            ResponseError::KafkaStorageError.code()
        }
    }
}

/// Error code for a failed topic change.
pub fn topic_error_code(e: &TopicError) -> i16 {
    match e {
        TopicError::InvalidName { .. } => ResponseError::InvalidTopicException.code(),
        TopicError::AlreadyExists(_) => ResponseError::TopicAlreadyExists.code(),
        TopicError::Unknown(_) => ResponseError::UnknownTopicOrPartition.code(),
        TopicError::InvalidPartitions(_) | TopicError::PartitionCount { .. } => {
            ResponseError::InvalidPartitions.code()
        }
        TopicError::InvalidConfig(_) => ResponseError::InvalidConfig.code(),
        TopicError::Storage { .. } => ResponseError::KafkaStorageError.code(),
    }
}
