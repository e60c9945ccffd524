//! Typed errors of the wire structures. Mapping them to Kafka error codes is the broker's job.

/// Why bytes are not a usable RecordBatch v2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The buffer ends before the batch does.
    #[error("truncated record batch: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the batch (or its header) needs.
        needed: usize,
        /// Bytes the buffer holds.
        available: usize,
    },
    /// A v0/v1 message set (pre-0.11 clients), which Brook does not store.
    #[error(
        "record batch at base offset {base_offset} has magic {magic}: message formats v0/v1 \
         (pre-Kafka-0.11) are not supported, only RecordBatch v2"
    )]
    UnsupportedMagic {
        /// The magic byte found.
        magic: i8,
        /// The base offset field, for locating the batch.
        base_offset: i64,
    },
    /// `batch_length` is smaller than a v2 header.
    #[error("record batch at base offset {base_offset} has invalid batch_length {batch_length}")]
    InvalidLength {
        /// The length field found.
        batch_length: i32,
        /// The base offset field.
        base_offset: i64,
    },
    /// Larger than the configured maximum.
    #[error("record batch at base offset {base_offset} is {size} bytes, over the limit of {max}")]
    TooLarge {
        /// Total batch size.
        size: usize,
        /// The limit.
        max: usize,
        /// The base offset field.
        base_offset: i64,
    },
    /// A single-batch buffer holds more bytes than the batch.
    #[error("buffer holds {available} bytes but the record batch is {size}")]
    TrailingBytes {
        /// Batch size from its header.
        size: usize,
        /// Buffer size.
        available: usize,
    },
    /// The stored CRC does not match the content.
    #[error(
        "record batch at base offset {base_offset} is corrupt: stored CRC {stored:#010x}, \
         computed {computed:#010x}"
    )]
    CrcMismatch {
        /// The base offset field.
        base_offset: i64,
        /// CRC in the header.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// Compression bits name no codec.
    #[error("record batch at base offset {base_offset} uses unknown compression codec id {id}")]
    UnknownCompression {
        /// The codec id found.
        id: u8,
        /// The base offset field.
        base_offset: i64,
    },
    /// A header field is out of range.
    #[error("record batch at base offset {base_offset} has an invalid header: {reason}")]
    InvalidHeader {
        /// The base offset field.
        base_offset: i64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why the records inside a batch could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The batch header itself is unusable.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// Decompression failed.
    #[error("cannot decompress {codec} records: {message}")]
    Decompress {
        /// Codec name.
        codec: &'static str,
        /// The codec's error.
        message: String,
    },
    /// A record is malformed.
    #[error("malformed record #{index} in batch at base offset {base_offset}: {reason}")]
    Malformed {
        /// Base offset of the batch.
        base_offset: i64,
        /// Position of the record within the batch.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
}
