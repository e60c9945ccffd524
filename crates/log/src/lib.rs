//! Brook's partition log: every partition stored in Kafka's own on-disk format.
//!
//! A partition is a directory `<topic>-<partition>/` of segments. Each segment is a `.log` file
//! of RecordBatch v2 bytes exactly as produced (only the base offset and leader epoch patched,
//! and for LogAppendTime topics the max timestamp), a sparse `.index` (offset → position) and a
//! sparse `.timeindex` (timestamp → offset), named `{base_offset:020}` as Kafka names them.
//! `docs/log-format.md` has the byte diagrams.
//!
//! Layout of the crate:
//! - [`partition_log`]: [`PartitionLog`] — append, read, offset lookups, roll, retention,
//!   delete-records, flush, close;
//! - [`cleaner`]: compaction (`cleanup.policy=compact`);
//! - `validator`: keys on compacted topics and recompression to `compression.type`;
//! - [`producer_state`]: idempotent producers' sequence checks and duplicate detection;
//! - [`recovery`]: open — interrupted swaps and deletions, index checks, tail verification;
//! - `segment`, `index`: one segment file and its two indexes; [`txn_index`]: the entries of
//!   Kafka's aborted-transaction index (`.txnindex`);
//! - [`config`]: [`LogConfig`] with Kafka's property names;
//! - [`checkpoint`], [`naming`], [`clock`], [`error`].
//!
//! No networking: the broker owns sockets and calls into this crate.
//!
//! ```
//! use brook_log::{LogConfig, OffsetSpec, PartitionLog};
//! use brook_protocol::{Compression, RecordBatchBuilder};
//!
//! let dir = tempfile::tempdir()?;
//! let log = PartitionLog::open(dir.path().join("rides-0"), LogConfig::default())?;
//! let mut batch = RecordBatchBuilder::new(Compression::None);
//! batch.append(1_700_000_000_000, Some(b"2"), Some(b"2,2020-07-01 00:25:32,..."), &[]);
//! let info = log.append(&batch.build())?;
//! assert_eq!(info.base_offset, 0);
//!
//! let read = log.read(0, 1 << 20)?;
//! assert_eq!(read.high_watermark, 1);
//! let hit = log.lookup_offset(OffsetSpec::Timestamp(1_600_000_000_000))?.unwrap();
//! assert_eq!(hit.offset, 0);
//! log.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod cleaner;
pub mod clock;
pub mod config;
pub mod error;
mod group_commit;
mod index;
pub mod naming;
pub mod partition_log;
pub mod producer_state;
pub mod recovery;
mod segment;
pub mod txn_index;
mod validator;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{CleanupPolicy, ConfigError, LogConfig};
pub use error::{AppendError, MaintenanceError, OpenError, ReadError};
pub use naming::TopicPartition;
pub use partition_log::{
    AppendInfo, Isolation, OffsetSpec, PartitionLog, ReadResult, RetentionOutcome, SegmentInfo,
    TimestampAndOffset,
};
pub use recovery::{RecoveryReport, Truncation};
