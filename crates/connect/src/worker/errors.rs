//! What a task does with a record that a converter or a transform cannot handle (Kafka
//! Connect's error handling, KIP-298): with `errors.tolerance=none` (the default) the task
//! fails with the cause in its trace; with `all` the record is skipped — logged when
//! `errors.log.enable` is set (with the record's coordinates when
//! `errors.log.include.messages` is set too), and for sinks written as it was read to
//! `errors.deadletterqueue.topic.name`, with `__connect.errors.*` headers when
//! `errors.deadletterqueue.context.headers.enable` is set.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

use super::WorkerConfig;
use super::task::Deliveries;
use crate::data::Config;
use crate::plugin::ConnectError;

/// Where in a task's pipeline a record failed (Kafka's `Stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    KeyConverter,
    ValueConverter,
    Transformation,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
        }
    }
}

/// A failed record: where it failed, what failed, and the record as read (sinks).
pub(crate) struct Failure<'a> {
    pub stage: Stage,
    /// The converter's or transform's class.
    pub class: &'a str,
    pub message: String,
    /// For a sink: the consumed record's coordinates, key, value and headers.
    pub original: Option<Original<'a>>,
}

/// A consumed record, as it was read.
pub(crate) struct Original<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A task's error handling.
pub(crate) struct ErrorHandler {
    connector: String,
    task: usize,
    tolerate: bool,
    log: bool,
    log_messages: bool,
    dead_letters: Option<DeadLetterQueue>,
}

struct DeadLetterQueue {
    topic: String,
    context_headers: bool,
    producer: ThreadedProducer<Deliveries>,
    deliveries: Deliveries,
}

fn flag(config: &Config, key: &str) -> bool {
    config.get(key).is_some_and(|v| v.trim() == "true")
}

/// The error settings' checks, for validation: (setting, message).
pub(crate) fn validate(config: &Config, sink: bool) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    if let Some(t) = config.get("errors.tolerance") {
        if !matches!(t.trim(), "none" | "all") {
            errors.push((
                "errors.tolerance".to_string(),
                format!("Invalid value {t} for configuration errors.tolerance: String must be one of: none, all"),
            ));
        }
    }
    let dlq = config
        .get("errors.deadletterqueue.topic.name")
        .is_some_and(|t| !t.trim().is_empty());
    if dlq && !sink {
        errors.push((
            "errors.deadletterqueue.topic.name".to_string(),
            "Dead letter queues are for sink connectors: a source connector's failed records are skipped (errors.tolerance=all) and logged (errors.log.enable=true)".to_string(),
        ));
    }
    for key in [
        "errors.log.enable",
        "errors.log.include.messages",
        "errors.deadletterqueue.context.headers.enable",
    ] {
        if let Some(v) = config.get(key) {
            if !matches!(v.trim(), "true" | "false") {
                errors.push((
                    key.to_string(),
                    format!("Invalid value {v} for configuration {key}: Expected value to be either true or false"),
                ));
            }
        }
    }
    errors
}

impl ErrorHandler {
    /// The handling `config` asks for; the dead letter queue's topic is created when missing.
    pub(crate) fn new(
        worker: &WorkerConfig,
        connector: &str,
        task: usize,
        config: &Config,
    ) -> Result<ErrorHandler, ConnectError> {
        let tolerate = config
            .get("errors.tolerance")
            .is_some_and(|t| t.trim() == "all");
        let dead_letters = match config
            .get("errors.deadletterqueue.topic.name")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            Some(topic) if tolerate => {
                let replication = config
                    .get("errors.deadletterqueue.topic.replication.factor")
                    .and_then(|r| r.trim().parse::<i32>().ok())
                    .unwrap_or(3);
                super::ensure_topics(&worker.cluster, &[(topic, 1, None, replication)]).map_err(
                    |e| {
                        ConnectError::new(format!(
                            "cannot create the dead letter queue topic {topic}: {e}"
                        ))
                    },
                )?;
                let deliveries = Deliveries::default();
                Some(DeadLetterQueue {
                    topic: topic.to_string(),
                    context_headers: flag(config, "errors.deadletterqueue.context.headers.enable"),
                    producer: worker
                        .cluster
                        .create(
                            &[("enable.idempotence", "true"), ("linger.ms", "5")],
                            deliveries.clone(),
                        )
                        .map_err(|e| ConnectError::new(e.to_string()))?,
                    deliveries,
                })
            }
            _ => None,
        };
        Ok(ErrorHandler {
            connector: connector.to_string(),
            task,
            tolerate,
            log: flag(config, "errors.log.enable"),
            log_messages: flag(config, "errors.log.include.messages"),
            dead_letters,
        })
    }

    /// Handles a failed record: Ok to skip it, or the error that fails the task.
    pub(crate) fn failed(&self, failure: Failure<'_>) -> Result<(), ConnectError> {
        let cause = format!(
            "org.apache.kafka.connect.errors.DataException: {} failed in stage {} ({}): {}",
            match failure.stage {
                Stage::Transformation => "Transforming the record",
                _ => "Converting the record",
            },
            failure.stage.name(),
            failure.class,
            failure.message
        );
        let at = failure.original.as_ref().map(|o| {
            format!(
                " at topic '{}', partition {}, offset {}",
                o.topic, o.partition, o.offset
            )
        });
        if !self.tolerate {
            return Err(ConnectError::new(format!(
                "Tolerance exceeded in error handler{}\nCaused by: {cause}",
                at.unwrap_or_default()
            )));
        }
        if self.log {
            let context = if self.log_messages {
                at.unwrap_or_default()
            } else {
                String::new()
            };
            tracing::error!(
                connector = %self.connector,
                task = self.task,
                "Error encountered in task {}-{}{context}. {cause}",
                self.connector,
                self.task
            );
        }
        if let (Some(dlq), Some(o)) = (&self.dead_letters, failure.original) {
            let mut headers = OwnedHeaders::new();
            for (k, v) in &o.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: v.as_deref(),
                });
            }
            if dlq.context_headers {
                let (partition, offset) = (o.partition.to_string(), o.offset.to_string());
                let task = self.task.to_string();
                let exception = "org.apache.kafka.connect.errors.DataException";
                for (k, v) in [
                    ("__connect.errors.topic", o.topic),
                    ("__connect.errors.partition", &partition),
                    ("__connect.errors.offset", &offset),
                    ("__connect.errors.connector.name", &self.connector),
                    ("__connect.errors.task.id", &task),
                    ("__connect.errors.stage", failure.stage.name()),
                    ("__connect.errors.class.name", failure.class),
                    ("__connect.errors.exception.class.name", exception),
                    ("__connect.errors.exception.message", &failure.message),
                    ("__connect.errors.exception.stacktrace", &cause),
                ] {
                    headers = headers.insert(Header {
                        key: k,
                        value: Some(v.as_bytes()),
                    });
                }
            }
            let mut record: BaseRecord<'_, [u8], [u8]> =
                BaseRecord::to(&dlq.topic).headers(headers);
            if let Some(k) = o.key {
                record = record.key(k);
            }
            if let Some(v) = o.value {
                record = record.payload(v);
            }
            dlq.producer.send(record).map_err(|(e, _)| {
                ConnectError::new(format!(
                    "cannot write to the dead letter queue {}: {e}",
                    dlq.topic
                ))
            })?;
        }
        Ok(())
    }

    /// Waits until the dead letter queue has every record sent to it (before offsets that
    /// pass them are committed).
    pub(crate) fn flush(&self) -> Result<(), ConnectError> {
        if let Some(dlq) = &self.dead_letters {
            dlq.producer.flush(Duration::from_secs(30)).map_err(|e| {
                ConnectError::new(format!(
                    "cannot write to the dead letter queue {}: {e}",
                    dlq.topic
                ))
            })?;
            dlq.deliveries.check()?;
        }
        Ok(())
    }
}
