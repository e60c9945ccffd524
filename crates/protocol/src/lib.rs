//! Sans-I/O Kafka wire structures for Brook.
//!
//! Nothing here touches a socket or a file. Today the crate holds what the partition log needs:
//!
//! - [`record_batch`]: a zero-copy view of a RecordBatch v2 over [`bytes::Bytes`] — the 61-byte
//!   header, CRC-32C validation, in-place patches of base offset, leader epoch and
//!   LogAppendTime, and iteration over the batches in a buffer;
//! - [`records`]: decoding the records inside a batch and building batches;
//! - [`compression`]: Kafka's gzip, Snappy (xerial), LZ4-frame and Zstandard formats;
//! - [`control`]: transaction markers (COMMIT / ABORT control batches);
//! - [`varint`]: the zig-zag varints of the record format;
//! - [`error`]: typed errors; the broker maps them to Kafka error codes in one place.
//!
//! Request framing and API dispatch over the `kafka-protocol` crate join with the broker.
//!
//! ```
//! use brook_protocol::{Batches, Compression, RecordBatchBuilder};
//!
//! let mut builder = RecordBatchBuilder::new(Compression::Lz4).base_offset(41);
//! builder.append(1_700_000_000_000, Some(b"vendor-1"), Some(b"1,2020-07-01,..."), &[]);
//! let bytes = builder.build();
//!
//! for batch in Batches::new(bytes) {
//!     let batch = batch?;
//!     batch.validate()?;
//!     assert_eq!(batch.base_offset(), 41);
//!     assert_eq!(batch.records()?[0].key.as_deref(), Some(&b"vendor-1"[..]));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compression;
pub mod control;
pub mod error;
pub mod record_batch;
pub mod records;
pub mod varint;

pub use compression::Compression;
pub use error::{BatchError, RecordError};
pub use record_batch::{Attributes, BatchHeader, Batches, RecordBatch, TimestampType};
pub use records::{Header, Record, RecordBatchBuilder, rebuild_batch};
