//! Per-partition log configuration, named and defaulted as Kafka's topic configs are.

use std::fmt;

use std::ops::RangeInclusive;

use brook_protocol::{Compression, TimestampType};

/// What happens to old data (`cleanup.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupPolicy {
    /// Delete whole old segments by time and size (`delete`).
    Delete,
    /// Keep the latest record per key (`compact`).
    Compact,
    /// Both (`compact,delete`).
    CompactDelete,
    /// Neither (an empty list, valid in Kafka 4.x): the log keeps everything.
    Keep,
}

impl CleanupPolicy {
    /// Retention by time and size applies.
    pub fn deletes(self) -> bool {
        matches!(self, CleanupPolicy::Delete | CleanupPolicy::CompactDelete)
    }
    /// The log cleaner applies.
    pub fn compacts(self) -> bool {
        matches!(self, CleanupPolicy::Compact | CleanupPolicy::CompactDelete)
    }
}

impl fmt::Display for CleanupPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CleanupPolicy::Delete => "delete",
            CleanupPolicy::Compact => "compact",
            CleanupPolicy::CompactDelete => "compact,delete",
            CleanupPolicy::Keep => "",
        })
    }
}

/// The codec the broker stores batches in (`compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicCompression {
    /// Batches are stored as produced (`producer`, the default).
    Producer,
    /// Batches in another codec are recompressed into this one on append (`uncompressed`,
    /// `gzip`, `snappy`, `lz4`, `zstd`).
    Codec(Compression),
}

impl fmt::Display for TopicCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicCompression::Producer => "producer",
            TopicCompression::Codec(Compression::None) => "uncompressed",
            TopicCompression::Codec(codec) => codec.name(),
        })
    }
}

/// How a stored batch is recompressed on append: the target codec and its level. `None` when
/// batches are stored as produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recompression {
    /// The codec stored batches must have.
    pub codec: Compression,
    /// The level for gzip and zstd (`compression.gzip.level`, `compression.zstd.level`);
    /// `None` for the codec's default.
    pub level: Option<i32>,
}

/// A config name or value the log does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The name is not a log config.
    #[error("unknown log config '{0}'")]
    UnknownName(String),
    /// The value does not parse or is out of range.
    #[error("invalid value '{value}' for log config '{name}': {reason}")]
    InvalidValue {
        /// Config name.
        name: String,
        /// Offending value.
        value: String,
        /// What is expected.
        reason: String,
    },
}

/// Kafka's type of a config, as DescribeConfigs reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// BOOLEAN (1).
    Boolean,
    /// STRING (2).
    String,
    /// INT (3).
    Int,
    /// SHORT (4).
    Short,
    /// LONG (5).
    Long,
    /// DOUBLE (6).
    Double,
    /// LIST (7).
    List,
    /// CLASS (8).
    Class,
}

impl ConfigKind {
    /// The id DescribeConfigs uses.
    pub fn id(self) -> i8 {
        match self {
            ConfigKind::Boolean => 1,
            ConfigKind::String => 2,
            ConfigKind::Int => 3,
            ConfigKind::Short => 4,
            ConfigKind::Long => 5,
            ConfigKind::Double => 6,
            ConfigKind::List => 7,
            ConfigKind::Class => 8,
        }
    }
}

/// Settings of one partition log. Field docs give the Kafka property name and default.
///
/// Plain data; the log takes a copy and can be handed a new one at runtime
/// ([`crate::PartitionLog::update_config`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    /// `segment.bytes` (1 GiB): roll when the active segment would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms` (7 days): roll a non-empty active segment older than this.
    pub segment_ms: i64,
    /// `segment.jitter.ms` (0): each segment rolls up to this much before `segment.ms`, so
    /// that partitions created together do not all roll at once.
    pub segment_jitter_ms: i64,
    /// `segment.index.bytes` (10 MiB): roll when the offset or time index is full.
    pub segment_index_bytes: u64,
    /// `index.interval.bytes` (4096): bytes of log between index entries.
    pub index_interval_bytes: u64,
    /// `retention.ms` (7 days, -1 = forever): delete closed segments older than this.
    pub retention_ms: i64,
    /// `retention.bytes` (-1 = unlimited): delete oldest closed segments beyond this size.
    pub retention_bytes: i64,
    /// `cleanup.policy` (delete).
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms` (1 day): how long the cleaner keeps tombstones.
    pub delete_retention_ms: i64,
    /// `min.compaction.lag.ms` (0): records younger than this are not compacted.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms` (i64::MAX): a record is compacted at the latest this long after
    /// it was written, whatever the dirty ratio; the active segment of a compacted log rolls
    /// this often too.
    pub max_compaction_lag_ms: i64,
    /// `min.cleanable.dirty.ratio` (0.5): the share of not-yet-compacted bytes that makes a
    /// compaction pass worth running.
    pub min_cleanable_dirty_ratio: f64,
    /// `flush.messages` (i64::MAX): fsync after this many messages; 1 = every append, with
    /// group commit, and the high watermark only covers fsynced data.
    pub flush_messages: i64,
    /// `flush.ms` (i64::MAX): fsync when the last flush is older than this.
    pub flush_ms: i64,
    /// `max.message.bytes` (1048588): largest batch accepted.
    pub max_message_bytes: u64,
    /// `message.timestamp.type` (CreateTime).
    pub message_timestamp_type: TimestampType,
    /// `message.timestamp.before.max.ms` (i64::MAX): how far in the past a CreateTime
    /// timestamp may be.
    pub message_timestamp_before_max_ms: i64,
    /// `message.timestamp.after.max.ms` (1 hour, Kafka 4.0's default): how far in the future a
    /// CreateTime timestamp may be.
    pub message_timestamp_after_max_ms: i64,
    /// `compression.type` (producer).
    pub compression_type: TopicCompression,
    /// `compression.gzip.level` (-1: the codec's default; 1–9).
    pub compression_gzip_level: i32,
    /// `compression.lz4.level` (9; 1–17). Stored and described; Brook's LZ4 encoder has one
    /// speed.
    pub compression_lz4_level: i32,
    /// `compression.zstd.level` (3; -131072–22).
    pub compression_zstd_level: i32,
    /// `min.insync.replicas` (1): with one replica, `acks=all` produces fail with
    /// NOT_ENOUGH_REPLICAS when this is above 1, as on a one-broker Kafka.
    pub min_insync_replicas: i32,
    /// Configs that are validated, stored and described as Kafka does, but change nothing on
    /// one node without tiered storage (see [`INERT_CONFIGS`]); only the ones set differently
    /// from Kafka's default are held.
    pub inert: Vec<(&'static str, String)>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            segment_jitter_ms: 0,
            segment_index_bytes: 10 * 1024 * 1024,
            index_interval_bytes: 4096,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            cleanup_policy: CleanupPolicy::Delete,
            delete_retention_ms: 24 * 3600 * 1000,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            min_cleanable_dirty_ratio: 0.5,
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            max_message_bytes: 1_048_588,
            message_timestamp_type: TimestampType::CreateTime,
            message_timestamp_before_max_ms: i64::MAX,
            message_timestamp_after_max_ms: 3_600_000,
            compression_type: TopicCompression::Producer,
            compression_gzip_level: -1,
            compression_lz4_level: 9,
            compression_zstd_level: 3,
            min_insync_replicas: 1,
            inert: Vec::new(),
        }
    }
}

/// How an inert config's value is checked.
#[derive(Debug, Clone, Copy)]
enum InertKind {
    Boolean,
    /// A long of at least this.
    Long(i64),
    /// `partition:broker,…`, `*` or empty (the replication throttles).
    ThrottledReplicas,
    /// A Kafka release or metadata version (`3.0`, `3.0-IV1`).
    Version,
}

/// Topic configs Kafka 4.x has that change nothing on a single node without tiered storage:
/// (name, Kafka's default, how it is checked). They are accepted, stored, described with
/// their source, and documented as such. `remote.storage.enable=true` is refused, as Kafka
/// refuses it while the broker has no remote storage.
const INERT_CONFIGS: &[(&str, &str, InertKind)] = &[
    ("file.delete.delay.ms", "60000", InertKind::Long(0)),
    (
        "follower.replication.throttled.replicas",
        "",
        InertKind::ThrottledReplicas,
    ),
    (
        "leader.replication.throttled.replicas",
        "",
        InertKind::ThrottledReplicas,
    ),
    ("local.retention.bytes", "-2", InertKind::Long(-2)),
    ("local.retention.ms", "-2", InertKind::Long(-2)),
    ("message.format.version", "3.0-IV1", InertKind::Version),
    ("preallocate", "false", InertKind::Boolean),
    ("remote.log.copy.disable", "false", InertKind::Boolean),
    ("remote.log.delete.on.disable", "false", InertKind::Boolean),
    ("remote.storage.enable", "false", InertKind::Boolean),
    (
        "unclean.leader.election.enable",
        "false",
        InertKind::Boolean,
    ),
];

/// Every property name [`LogConfig::set`] accepts: Kafka 4.x's topic configs, in Kafka's
/// (alphabetical) order.
pub const LOG_CONFIG_NAMES: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// Whether `name` is a config Brook accepts but that has no effect here (documented in
/// docs/status.md).
pub fn is_inert(name: &str) -> bool {
    INERT_CONFIGS.iter().any(|(n, _, _)| *n == name)
}

/// Kafka's type of the topic config `name`.
pub fn config_kind(name: &str) -> ConfigKind {
    match name {
        "segment.bytes"
        | "segment.index.bytes"
        | "index.interval.bytes"
        | "max.message.bytes"
        | "min.insync.replicas"
        | "compression.gzip.level"
        | "compression.lz4.level"
        | "compression.zstd.level" => ConfigKind::Int,
        "cleanup.policy"
        | "leader.replication.throttled.replicas"
        | "follower.replication.throttled.replicas" => ConfigKind::List,
        "message.timestamp.type" | "compression.type" | "message.format.version" => {
            ConfigKind::String
        }
        "min.cleanable.dirty.ratio" => ConfigKind::Double,
        "preallocate"
        | "unclean.leader.election.enable"
        | "remote.storage.enable"
        | "remote.log.copy.disable"
        | "remote.log.delete.on.disable" => ConfigKind::Boolean,
        _ => ConfigKind::Long,
    }
}

fn parse_i64(name: &str, value: &str, min: i64) -> Result<i64, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    };
    let parsed: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid("expected an integer".into()))?;
    if parsed < min {
        return Err(invalid(format!("must be at least {min}")));
    }
    Ok(parsed)
}

fn parse_i32_in(name: &str, value: &str, range: RangeInclusive<i32>) -> Result<i32, ConfigError> {
    let parsed = parse_i64(name, value, i64::from(*range.start()))?;
    i32::try_from(parsed)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| ConfigError::InvalidValue {
            name: name.to_string(),
            value: value.to_string(),
            reason: format!("must be between {} and {}", range.start(), range.end()),
        })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Java's `Double.toString` for the values a ratio takes: `0.5`, `1.0`.
fn format_double(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

impl LogConfig {
    /// A config built from Kafka-named properties over the defaults.
    pub fn from_properties<'a>(
        properties: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut config = LogConfig::default();
        for (name, value) in properties {
            config.set(name, value)?;
        }
        Ok(config)
    }

    /// Sets one property by its Kafka name, validating it as Kafka does.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidValue {
            name: name.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        match name {
            // Kafka caps segment.bytes at Int.MaxValue: index positions are 32-bit.
            "segment.bytes" => {
                self.segment_bytes = parse_i64(name, value, 14)? as u64;
                if self.segment_bytes > i32::MAX as u64 {
                    return Err(invalid("must be at most 2147483647"));
                }
            }
            "segment.ms" => self.segment_ms = parse_i64(name, value, 1)?,
            "segment.jitter.ms" => self.segment_jitter_ms = parse_i64(name, value, 0)?,
            "segment.index.bytes" => self.segment_index_bytes = parse_i64(name, value, 4)? as u64,
            "index.interval.bytes" => self.index_interval_bytes = parse_i64(name, value, 0)? as u64,
            "retention.ms" => self.retention_ms = parse_i64(name, value, -1)?,
            "retention.bytes" => self.retention_bytes = parse_i64(name, value, i64::MIN)?,
            "cleanup.policy" => {
                // A list; Kafka 4.x takes an empty one (nothing is ever deleted or compacted).
                let mut parts: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect();
                parts.sort_unstable();
                parts.dedup();
                self.cleanup_policy = match parts.as_slice() {
                    [] => CleanupPolicy::Keep,
                    ["delete"] => CleanupPolicy::Delete,
                    ["compact"] => CleanupPolicy::Compact,
                    ["compact", "delete"] => CleanupPolicy::CompactDelete,
                    _ => return Err(invalid("expected a list of delete and compact")),
                }
            }
            "delete.retention.ms" => self.delete_retention_ms = parse_i64(name, value, 0)?,
            "min.compaction.lag.ms" => self.min_compaction_lag_ms = parse_i64(name, value, 0)?,
            "max.compaction.lag.ms" => self.max_compaction_lag_ms = parse_i64(name, value, 1)?,
            "min.cleanable.dirty.ratio" => {
                self.min_cleanable_dirty_ratio = value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| invalid("expected a number between 0 and 1"))?
            }
            "flush.messages" => self.flush_messages = parse_i64(name, value, 1)?,
            "flush.ms" => self.flush_ms = parse_i64(name, value, 0)?,
            "max.message.bytes" => self.max_message_bytes = parse_i64(name, value, 0)? as u64,
            "message.timestamp.type" => {
                self.message_timestamp_type = match value.trim() {
                    "CreateTime" => TimestampType::CreateTime,
                    "LogAppendTime" => TimestampType::LogAppendTime,
                    _ => return Err(invalid("expected CreateTime or LogAppendTime")),
                }
            }
            "message.timestamp.before.max.ms" => {
                self.message_timestamp_before_max_ms = parse_i64(name, value, 0)?
            }
            "message.timestamp.after.max.ms" => {
                self.message_timestamp_after_max_ms = parse_i64(name, value, 0)?
            }
            "compression.type" => {
                self.compression_type = match value.trim().to_ascii_lowercase().as_str() {
                    "producer" => TopicCompression::Producer,
                    "uncompressed" => TopicCompression::Codec(Compression::None),
                    "gzip" => TopicCompression::Codec(Compression::Gzip),
                    "snappy" => TopicCompression::Codec(Compression::Snappy),
                    "lz4" => TopicCompression::Codec(Compression::Lz4),
                    "zstd" => TopicCompression::Codec(Compression::Zstd),
                    _ => {
                        return Err(invalid(
                            "expected one of uncompressed, zstd, lz4, snappy, gzip, producer",
                        ));
                    }
                }
            }
            "compression.gzip.level" => {
                let level = parse_i32_in(name, value, -1..=9)?;
                if level == 0 {
                    return Err(invalid("must be -1 or between 1 and 9"));
                }
                self.compression_gzip_level = level;
            }
            "compression.lz4.level" => {
                self.compression_lz4_level = parse_i32_in(name, value, 1..=17)?
            }
            "compression.zstd.level" => {
                self.compression_zstd_level = parse_i32_in(name, value, -131_072..=22)?
            }
            "min.insync.replicas" => {
                self.min_insync_replicas = parse_i32_in(name, value, 1..=i32::MAX)?
            }
            _ => return self.set_inert(name, value),
        }
        Ok(())
    }

    fn set_inert(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let Some(&(known, default, kind)) = INERT_CONFIGS.iter().find(|(n, _, _)| *n == name)
        else {
            return Err(ConfigError::UnknownName(name.to_string()));
        };
        let invalid = |reason: &str| ConfigError::InvalidValue {
            name: name.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        let value = value.trim();
        let canonical = match kind {
            InertKind::Boolean => parse_bool(value)
                .ok_or_else(|| invalid("expected true or false"))?
                .to_string(),
            InertKind::Long(min) => parse_i64(name, value, min)?.to_string(),
            InertKind::ThrottledReplicas => {
                let valid = value.is_empty()
                    || value == "*"
                    || value.split(',').all(|pair| {
                        pair.trim().split_once(':').is_some_and(|(p, b)| {
                            p.trim().parse::<u32>().is_ok() && b.trim().parse::<u32>().is_ok()
                        })
                    });
                if !valid {
                    return Err(invalid(
                        "expected [partitionId]:[brokerId],[partitionId]:[brokerId],... or *",
                    ));
                }
                value.to_string()
            }
            InertKind::Version => {
                let release = value.split('-').next().unwrap_or_default();
                let valid =
                    !release.is_empty() && release.split('.').all(|n| n.parse::<u32>().is_ok());
                if !valid {
                    return Err(invalid("expected a Kafka version such as 3.0-IV1"));
                }
                value.to_string()
            }
        };
        if name == "remote.storage.enable" && canonical == "true" {
            return Err(invalid(
                "Tiered Storage functionality is disabled in the broker. Topic cannot be \
                 configured with remote log storage.",
            ));
        }
        self.inert.retain(|(n, _)| *n != known);
        if canonical != default {
            self.inert.push((known, canonical));
        }
        Ok(())
    }

    /// The value of a property by its Kafka name, formatted as Kafka reports it.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "segment.bytes" => self.segment_bytes.to_string(),
            "segment.ms" => self.segment_ms.to_string(),
            "segment.jitter.ms" => self.segment_jitter_ms.to_string(),
            "segment.index.bytes" => self.segment_index_bytes.to_string(),
            "index.interval.bytes" => self.index_interval_bytes.to_string(),
            "retention.ms" => self.retention_ms.to_string(),
            "retention.bytes" => self.retention_bytes.to_string(),
            "cleanup.policy" => self.cleanup_policy.to_string(),
            "delete.retention.ms" => self.delete_retention_ms.to_string(),
            "min.compaction.lag.ms" => self.min_compaction_lag_ms.to_string(),
            "max.compaction.lag.ms" => self.max_compaction_lag_ms.to_string(),
            "min.cleanable.dirty.ratio" => format_double(self.min_cleanable_dirty_ratio),
            "flush.messages" => self.flush_messages.to_string(),
            "flush.ms" => self.flush_ms.to_string(),
            "max.message.bytes" => self.max_message_bytes.to_string(),
            "message.timestamp.type" => match self.message_timestamp_type {
                TimestampType::CreateTime => "CreateTime".to_string(),
                TimestampType::LogAppendTime => "LogAppendTime".to_string(),
            },
            "message.timestamp.before.max.ms" => self.message_timestamp_before_max_ms.to_string(),
            "message.timestamp.after.max.ms" => self.message_timestamp_after_max_ms.to_string(),
            "compression.type" => self.compression_type.to_string(),
            "compression.gzip.level" => self.compression_gzip_level.to_string(),
            "compression.lz4.level" => self.compression_lz4_level.to_string(),
            "compression.zstd.level" => self.compression_zstd_level.to_string(),
            "min.insync.replicas" => self.min_insync_replicas.to_string(),
            _ => {
                let (known, default, _) = INERT_CONFIGS.iter().find(|(n, _, _)| *n == name)?;
                self.inert
                    .iter()
                    .find(|(n, _)| n == known)
                    .map_or_else(|| default.to_string(), |(_, v)| v.clone())
            }
        })
    }

    /// Appends are fsynced before they are acknowledged (`flush.messages=1`).
    pub fn durable_appends(&self) -> bool {
        self.flush_messages == 1
    }

    /// How appended batches must be recompressed, if at all (`compression.type`).
    pub fn recompression(&self) -> Option<Recompression> {
        let TopicCompression::Codec(codec) = self.compression_type else {
            return None;
        };
        let level = match codec {
            Compression::Gzip if self.compression_gzip_level > 0 => {
                Some(self.compression_gzip_level)
            }
            Compression::Zstd => Some(self.compression_zstd_level),
            _ => None,
        };
        Some(Recompression { codec, level })
    }

    /// How long the active segment may stay open: `segment.ms`, or `max.compaction.lag.ms`
    /// when that is shorter and the log is compacted (Kafka's `maxSegmentMs`).
    pub fn max_segment_ms(&self) -> i64 {
        if self.cleanup_policy.compacts() {
            self.segment_ms.min(self.max_compaction_lag_ms)
        } else {
            self.segment_ms
        }
    }

    /// Entries an index may hold before the segment rolls.
    pub(crate) fn max_index_entries(&self, entry_size: u64) -> usize {
        (self.segment_index_bytes / entry_size).max(1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_set_and_get() {
        let defaults = LogConfig::default();
        for name in LOG_CONFIG_NAMES {
            let value = defaults.get(name).unwrap();
            let mut config = LogConfig::default();
            config.set(name, &value).unwrap();
            assert_eq!(config, defaults, "{name}");
        }
    }

    #[test]
    fn kafka_defaults() {
        let c = LogConfig::default();
        assert_eq!(c.get("segment.bytes").unwrap(), "1073741824");
        assert_eq!(c.get("retention.ms").unwrap(), "604800000");
        assert_eq!(c.get("max.message.bytes").unwrap(), "1048588");
        assert_eq!(c.get("flush.messages").unwrap(), "9223372036854775807");
        assert_eq!(c.get("cleanup.policy").unwrap(), "delete");
    }

    #[test]
    fn bad_values_name_the_property() {
        let err = LogConfig::from_properties([("cleanup.policy", "shred")]).unwrap_err();
        assert!(err.to_string().contains("cleanup.policy"), "{err}");
        assert!(LogConfig::from_properties([("segment.bytes", "abc")]).is_err());
        assert!(LogConfig::from_properties([("segment.bytes", "4294967296")]).is_err());
        assert!(LogConfig::from_properties([("flush.messages", "0")]).is_err());
        assert!(matches!(
            LogConfig::from_properties([("no.such", "1")]),
            Err(ConfigError::UnknownName(_))
        ));
        let both = LogConfig::from_properties([("cleanup.policy", "delete,compact")]).unwrap();
        assert_eq!(both.cleanup_policy, CleanupPolicy::CompactDelete);
    }
}
