//! Per-partition log configuration, named and defaulted as Kafka's topic configs are.

use std::fmt;

use brook_protocol::TimestampType;

/// What happens to old data (`cleanup.policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupPolicy {
    /// Delete whole old segments by time and size (`delete`).
    Delete,
    /// Keep the latest record per key (`compact`).
    Compact,
    /// Both (`compact,delete`).
    CompactDelete,
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
        })
    }
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

/// Settings of one partition log. Field docs give the Kafka property name and default.
///
/// Plain data; the log takes a copy and can be handed a new one at runtime
/// ([`crate::PartitionLog::update_config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes` (1 GiB): roll when the active segment would grow past this.
    pub segment_bytes: u64,
    /// `segment.ms` (7 days): roll a non-empty active segment older than this.
    pub segment_ms: i64,
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
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            segment_index_bytes: 10 * 1024 * 1024,
            index_interval_bytes: 4096,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            cleanup_policy: CleanupPolicy::Delete,
            delete_retention_ms: 24 * 3600 * 1000,
            min_compaction_lag_ms: 0,
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            max_message_bytes: 1_048_588,
            message_timestamp_type: TimestampType::CreateTime,
            message_timestamp_before_max_ms: i64::MAX,
            message_timestamp_after_max_ms: 3_600_000,
        }
    }
}

/// Every property name [`LogConfig::set`] accepts.
pub const LOG_CONFIG_NAMES: &[&str] = &[
    "segment.bytes",
    "segment.ms",
    "segment.index.bytes",
    "index.interval.bytes",
    "retention.ms",
    "retention.bytes",
    "cleanup.policy",
    "delete.retention.ms",
    "min.compaction.lag.ms",
    "flush.messages",
    "flush.ms",
    "max.message.bytes",
    "message.timestamp.type",
    "message.timestamp.before.max.ms",
    "message.timestamp.after.max.ms",
];

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
            "segment.index.bytes" => self.segment_index_bytes = parse_i64(name, value, 4)? as u64,
            "index.interval.bytes" => self.index_interval_bytes = parse_i64(name, value, 0)? as u64,
            "retention.ms" => self.retention_ms = parse_i64(name, value, -1)?,
            "retention.bytes" => self.retention_bytes = parse_i64(name, value, i64::MIN)?,
            "cleanup.policy" => {
                let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
                parts.sort_unstable();
                parts.dedup();
                self.cleanup_policy = match parts.as_slice() {
                    ["delete"] => CleanupPolicy::Delete,
                    ["compact"] => CleanupPolicy::Compact,
                    ["compact", "delete"] => CleanupPolicy::CompactDelete,
                    _ => return Err(invalid("expected delete, compact or compact,delete")),
                }
            }
            "delete.retention.ms" => self.delete_retention_ms = parse_i64(name, value, 0)?,
            "min.compaction.lag.ms" => self.min_compaction_lag_ms = parse_i64(name, value, 0)?,
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
            _ => return Err(ConfigError::UnknownName(name.to_string())),
        }
        Ok(())
    }

    /// The value of a property by its Kafka name, formatted as Kafka reports it.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "segment.bytes" => self.segment_bytes.to_string(),
            "segment.ms" => self.segment_ms.to_string(),
            "segment.index.bytes" => self.segment_index_bytes.to_string(),
            "index.interval.bytes" => self.index_interval_bytes.to_string(),
            "retention.ms" => self.retention_ms.to_string(),
            "retention.bytes" => self.retention_bytes.to_string(),
            "cleanup.policy" => self.cleanup_policy.to_string(),
            "delete.retention.ms" => self.delete_retention_ms.to_string(),
            "min.compaction.lag.ms" => self.min_compaction_lag_ms.to_string(),
            "flush.messages" => self.flush_messages.to_string(),
            "flush.ms" => self.flush_ms.to_string(),
            "max.message.bytes" => self.max_message_bytes.to_string(),
            "message.timestamp.type" => match self.message_timestamp_type {
                TimestampType::CreateTime => "CreateTime".to_string(),
                TimestampType::LogAppendTime => "LogAppendTime".to_string(),
            },
            "message.timestamp.before.max.ms" => self.message_timestamp_before_max_ms.to_string(),
            "message.timestamp.after.max.ms" => self.message_timestamp_after_max_ms.to_string(),
            _ => return None,
        })
    }

    /// Appends are fsynced before they are acknowledged (`flush.messages=1`).
    pub fn durable_appends(&self) -> bool {
        self.flush_messages == 1
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
