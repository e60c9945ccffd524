//! What a connector plugin is: its class, its configuration definition, how it splits into
//! task configurations, and its tasks. Source tasks return [`SourceRecord`]s; the worker
//! converts, writes and commits them.

use serde_json::Value as Json;

use crate::data::{Config, Schema, Value};

/// A connector's or task's failure, shown as its trace.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

impl ConnectError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError(message.into())
    }
}

/// Source or sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginKind {
    /// Writes records into Kafka.
    Source,
    /// Reads records from Kafka.
    Sink,
}

impl PluginKind {
    /// `source` / `sink`, as the REST API shows it.
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
        }
    }
}

/// One setting of a plugin's configuration (Kafka's `ConfigDef.ConfigKey`).
#[derive(Debug, Clone)]
pub struct ConfigKey {
    /// Its name.
    pub name: &'static str,
    /// `STRING`, `INT`, `LONG`, `DOUBLE`, `BOOLEAN`, `LIST`, `PASSWORD`, `CLASS`.
    pub kind: &'static str,
    /// The default (None: required).
    pub default: Option<&'static str>,
    /// `HIGH`, `MEDIUM`, `LOW`.
    pub importance: &'static str,
    /// What it does.
    pub documentation: &'static str,
    /// Allowed values, when it is a choice.
    pub recommended: &'static [&'static str],
}

/// A record a source task produced: where it came from (partition and offset, as JSON maps)
/// and what to write.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// The source partition (`{"filename": "rides.csv"}`).
    pub source_partition: Json,
    /// The position in it (`{"position": 1234}`).
    pub source_offset: Json,
    /// The topic to write to.
    pub topic: String,
    /// A partition, or None for the producer's partitioner.
    pub partition: Option<i32>,
    /// The key's schema.
    pub key_schema: Option<Schema>,
    /// The key.
    pub key: Value,
    /// The value's schema.
    pub value_schema: Option<Schema>,
    /// The value.
    pub value: Value,
    /// The timestamp (None: the producer's clock).
    pub timestamp: Option<i64>,
    /// Headers: name and raw value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The committed offsets a task starts from: source partition → offset.
pub trait OffsetReader {
    /// The last committed offset of `partition`.
    fn offset(&self, partition: &Json) -> Option<Json>;
}

/// A running source task (Kafka Connect's `SourceTask`).
pub trait SourceTask: Send {
    /// Starts, resuming from `offsets`.
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<(), ConnectError>;
    /// The next records; it may wait a little (at most a second or so) when it has none.
    /// An empty result means none yet; `Ok(None)` means the task has finished for good.
    fn poll(&mut self) -> Result<Option<Vec<SourceRecord>>, ConnectError>;
    /// Called after every record polled so far is written and its offsets committed (Kafka's
    /// `SourceTask.commit`): a task may now let go of what it read (move a finished file).
    fn commit(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

/// A connector plugin.
pub trait Plugin: Send + Sync {
    /// Its class name (`io.confluent.kafka.connect.datagen.DatagenConnector`).
    fn class(&self) -> &'static str;
    /// Source or sink.
    fn kind(&self) -> PluginKind;
    /// Its version.
    fn version(&self) -> &'static str;
    /// Its settings.
    fn config_def(&self) -> Vec<ConfigKey>;
    /// Errors of `config`, per setting (empty: valid). Required settings and choices are
    /// checked by the worker from [`Plugin::config_def`] first.
    fn validate(&self, config: &Config) -> Vec<(String, String)>;
    /// The configurations of at most `max_tasks` tasks.
    fn task_configs(&self, config: &Config, max_tasks: usize) -> Result<Vec<Config>, ConnectError>;
    /// A source task for `task_config`.
    fn source_task(&self, task_config: &Config) -> Result<Box<dyn SourceTask>, ConnectError> {
        let _ = task_config;
        Err(ConnectError::new(format!(
            "{} is not a source connector",
            self.class()
        )))
    }
    /// A sink task for `task_config`.
    fn sink_task(&self, task_config: &Config) -> Result<Box<dyn SinkTask>, ConnectError> {
        let _ = task_config;
        Err(ConnectError::new(format!(
            "{} is not a sink connector",
            self.class()
        )))
    }
}

/// A record a sink task receives: where it was read and what it holds, converted.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    /// Its topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The key's schema, when the converter has one.
    pub key_schema: Option<Schema>,
    /// The key.
    pub key: Value,
    /// The value's schema.
    pub value_schema: Option<Schema>,
    /// The value.
    pub value: Value,
    /// Its timestamp.
    pub timestamp: Option<i64>,
    /// Its headers: name and raw value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A running sink task (Kafka Connect's `SinkTask`): the worker hands it records and commits
/// their offsets only after `flush` has succeeded.
pub trait SinkTask: Send {
    /// Starts.
    fn start(&mut self) -> Result<(), ConnectError>;
    /// Takes records (in order per partition).
    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError>;
    /// Makes everything put so far durable.
    fn flush(&mut self) -> Result<(), ConnectError>;
}

/// The plugins built into Brook.
pub fn plugins() -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(crate::datagen::Datagen),
        Box::new(crate::file::FileStreamSource),
        Box::new(crate::file::FileStreamSink),
        Box::new(crate::csv_source::CsvSource),
        Box::new(crate::jdbc::source::JdbcSource),
        Box::new(crate::jdbc::sink::JdbcSink),
    ]
}

/// The plugin `class`: its full class name, or the short name (`DatagenConnector`, or
/// `Datagen`).
pub fn plugin(class: &str) -> Option<Box<dyn Plugin>> {
    plugins().into_iter().find(|p| {
        let full = p.class();
        let short = full.rsplit('.').next().unwrap_or(full);
        class == full
            || class == short
            || short.strip_suffix("Connector").is_some_and(|s| s == class)
    })
}

/// A setting's value, trimmed, or its default in `keys` (empty when it has none).
pub fn setting(config: &Config, keys: &[ConfigKey], key: &str) -> String {
    config
        .get(key)
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| {
            keys.iter()
                .find(|k| k.name == key)
                .and_then(|k| k.default)
                .unwrap_or_default()
                .to_string()
        })
}

/// A list setting's items (comma-separated, trimmed, empty ones left out).
pub fn list_setting(config: &Config, keys: &[ConfigKey], key: &str) -> Vec<String> {
    setting(config, keys, key)
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks `config` against `plugin`'s definition and its own validation: errors per setting.
pub fn validate(plugin: &dyn Plugin, config: &Config) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for key in plugin.config_def() {
        match config.get(key.name) {
            None if key.default.is_none() => {
                errors.push((
                    key.name.to_string(),
                    format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    ),
                ));
            }
            Some(v) => {
                let bad = match key.kind {
                    "INT" => v.trim().parse::<i32>().is_err(),
                    "LONG" => v.trim().parse::<i64>().is_err(),
                    "DOUBLE" => v.trim().parse::<f64>().is_err(),
                    "BOOLEAN" => {
                        !matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false")
                    }
                    _ => false,
                };
                if bad && !(v.is_empty() && key.default == Some("")) {
                    errors.push((
                        key.name.to_string(),
                        format!(
                            "Invalid value {v} for configuration {}: Not a number of type {}",
                            key.name, key.kind
                        ),
                    ));
                } else if !key.recommended.is_empty()
                    && !v.is_empty()
                    && !key.recommended.iter().any(|r| r.eq_ignore_ascii_case(v))
                {
                    errors.push((
                        key.name.to_string(),
                        format!(
                            "{} must be one out of {}",
                            key.name,
                            key.recommended.join(",")
                        ),
                    ));
                }
            }
            None => {}
        }
    }
    if errors.is_empty() {
        errors.extend(plugin.validate(config));
    }
    errors
}
