//! Kafka's file connectors, with their class and setting names:
//! `org.apache.kafka.connect.file.FileStreamSourceConnector` (`file`, `topic`, `batch.size`)
//! reads a file's lines — and lines appended later — into a topic, one record per line, with
//! the byte position after each line as its source offset; and
//! `org.apache.kafka.connect.file.FileStreamSinkConnector` (`file`, `topics`) appends each
//! record's value to a file as a line.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::data::{Config, Schema, Type, Value};
use crate::plugin::{
    ConfigKey, ConnectError, OffsetReader, Plugin, PluginKind, SinkRecord, SinkTask, SourceRecord,
    SourceTask,
};

/// The file source plugin.
pub struct FileStreamSource;
/// The file sink plugin.
pub struct FileStreamSink;

fn single_task(config: &Config) -> Vec<Config> {
    vec![config.clone()]
}

impl Plugin for FileStreamSource {
    fn class(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Source
    }

    fn version(&self) -> &'static str {
        crate::rest::CONNECT_VERSION
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        vec![
            ConfigKey {
                name: "file",
                kind: "STRING",
                default: None,
                importance: "HIGH",
                documentation: "Source filename.",
                recommended: &[],
            },
            ConfigKey {
                name: "topic",
                kind: "LIST",
                default: None,
                importance: "HIGH",
                documentation: "The topic to publish data to",
                recommended: &[],
            },
            ConfigKey {
                name: "batch.size",
                kind: "INT",
                default: Some("2000"),
                importance: "LOW",
                documentation: "The maximum number of records the source task can read from the file each time it is polled",
                recommended: &[],
            },
        ]
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        match config.get("topic") {
            Some(t) if t.contains(',') => vec![(
                "topic".to_string(),
                "'topic' in FileStreamSourceConnector configuration requires definition of a single topic".to_string(),
            )],
            _ => Vec::new(),
        }
    }

    fn task_configs(&self, config: &Config, _: usize) -> Result<Vec<Config>, ConnectError> {
        // One file, one task, as Kafka's.
        Ok(single_task(config))
    }

    fn source_task(&self, config: &Config) -> Result<Box<dyn SourceTask>, ConnectError> {
        let get = |k: &str| {
            config
                .get(k)
                .cloned()
                .ok_or_else(|| ConnectError::new(format!("{k} is required")))
        };
        Ok(Box::new(FileSourceTask {
            path: get("file")?,
            topic: get("topic")?,
            batch_size: config
                .get("batch.size")
                .and_then(|b| b.trim().parse().ok())
                .unwrap_or(2000),
            reader: None,
            position: 0,
        }))
    }
}

struct FileSourceTask {
    path: String,
    topic: String,
    batch_size: usize,
    reader: Option<BufReader<File>>,
    position: u64,
}

impl FileSourceTask {
    fn partition(&self) -> Json {
        json!({ "filename": self.path })
    }
}

impl SourceTask for FileSourceTask {
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<(), ConnectError> {
        self.position = offsets
            .offset(&self.partition())
            .and_then(|o| o["position"].as_u64())
            .unwrap_or(0);
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<Vec<SourceRecord>>, ConnectError> {
        if self.reader.is_none() {
            match File::open(&self.path) {
                Ok(mut f) => {
                    f.seek(SeekFrom::Start(self.position)).map_err(|e| {
                        ConnectError::new(format!("cannot seek in {}: {e}", self.path))
                    })?;
                    self.reader = Some(BufReader::new(f));
                }
                Err(_) => {
                    // Not there yet: wait for it, as Kafka's does.
                    std::thread::sleep(Duration::from_secs(1));
                    return Ok(Some(Vec::new()));
                }
            }
        }
        let reader = self.reader.as_mut().expect("opened above");
        let mut records = Vec::new();
        let mut line = String::new();
        while records.len() < self.batch_size {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| ConnectError::new(format!("cannot read {}: {e}", self.path)))?;
            if n == 0 || !line.ends_with('\n') {
                // The end, or a line still being written: read it again next time.
                if n > 0 {
                    reader
                        .seek(SeekFrom::Start(self.position))
                        .map_err(|e| ConnectError::new(e.to_string()))?;
                }
                break;
            }
            self.position += n as u64;
            let text = line
                .trim_end_matches('\n')
                .trim_end_matches('\r')
                .to_string();
            records.push(SourceRecord {
                source_partition: json!({ "filename": self.path }),
                source_offset: json!({ "position": self.position }),
                topic: self.topic.clone(),
                partition: None,
                key_schema: None,
                key: Value::Null,
                value_schema: Some(Schema::of(Type::String)),
                value: Value::String(text),
                timestamp: None,
                headers: Vec::new(),
            });
        }
        if records.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Some(records))
    }
}

impl Plugin for FileStreamSink {
    fn class(&self) -> &'static str {
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Sink
    }

    fn version(&self) -> &'static str {
        crate::rest::CONNECT_VERSION
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        vec![ConfigKey {
            name: "file",
            kind: "STRING",
            default: None,
            importance: "HIGH",
            documentation: "Destination filename.",
            recommended: &[],
        }]
    }

    fn validate(&self, _: &Config) -> Vec<(String, String)> {
        Vec::new()
    }

    fn task_configs(&self, config: &Config, _: usize) -> Result<Vec<Config>, ConnectError> {
        Ok(single_task(config))
    }

    fn sink_task(&self, config: &Config) -> Result<Box<dyn SinkTask>, ConnectError> {
        Ok(Box::new(FileSinkTask {
            path: config
                .get("file")
                .cloned()
                .ok_or_else(|| ConnectError::new("file is required"))?,
            out: None,
        }))
    }
}

struct FileSinkTask {
    path: String,
    out: Option<std::io::BufWriter<File>>,
}

impl SinkTask for FileSinkTask {
    fn start(&mut self) -> Result<(), ConnectError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                ConnectError::new(format!(
                    "Couldn't find or create file '{}' for FileStreamSinkTask: {e}",
                    self.path
                ))
            })?;
        self.out = Some(std::io::BufWriter::new(file));
        Ok(())
    }

    fn put(&mut self, records: Vec<SinkRecord>) -> Result<(), ConnectError> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| ConnectError::new("the task was not started"))?;
        for r in records {
            let line = match &r.value {
                Value::String(s) => s.clone(),
                Value::Null => "null".to_string(),
                other => other.to_json().to_string(),
            };
            writeln!(out, "{line}")
                .map_err(|e| ConnectError::new(format!("cannot write {}: {e}", self.path)))?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ConnectError> {
        if let Some(out) = self.out.as_mut() {
            out.flush()
                .and_then(|()| out.get_ref().sync_data())
                .map_err(|e| ConnectError::new(format!("cannot flush {}: {e}", self.path)))?;
        }
        Ok(())
    }
}
