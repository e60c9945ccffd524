//! Connector and task statuses in the status topic (Kafka Connect's keys and values:
//! `status-connector-<name>` and `status-task-<name>-<n>` → `{"state", "trace", "worker_id",
//! "generation"}`): each worker writes the statuses of what it runs and reads everyone's, so
//! any worker's REST API shows the whole cluster.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use brook_client::Quiet;
use rdkafka::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value as Json, json};

use super::WorkerConfig;

/// A connector's or task's state, as the status endpoints show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `RUNNING`, `PAUSED`, `STOPPED`, `FAILED`, `UNASSIGNED`, `RESTARTING`.
    pub state: String,
    /// The failure, for FAILED.
    pub trace: Option<String>,
    /// The worker it runs on.
    pub worker_id: String,
}

impl Status {
    fn from_json(v: &Json) -> Option<Status> {
        Some(Status {
            state: v["state"].as_str()?.to_string(),
            trace: v["trace"].as_str().map(str::to_string),
            worker_id: v["worker_id"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// The key of a connector's status.
pub(crate) fn connector_key(name: &str) -> String {
    format!("status-connector-{name}")
}

/// The key of a task's status.
pub(crate) fn task_key(name: &str, task: usize) -> String {
    format!("status-task-{name}-{task}")
}

/// Writes statuses, in the background (a status is not worth waiting for).
#[derive(Clone)]
pub(crate) struct StatusWriter {
    producer: FutureProducer<Quiet>,
    topic: String,
}

impl StatusWriter {
    pub(crate) fn new(producer: FutureProducer<Quiet>, topic: &str) -> Self {
        StatusWriter {
            producer,
            topic: topic.to_string(),
        }
    }

    /// Writes `status` under `key`, or a tombstone.
    pub(crate) fn write(&self, key: &str, status: Option<&Status>) {
        let value = status.map(|s| {
            json!({
                "state": s.state,
                "trace": s.trace,
                "worker_id": s.worker_id,
                "generation": 0
            })
        });
        self.write_json(key, value.as_ref());
    }

    /// Writes any record (or a tombstone) to the status topic.
    pub(crate) fn write_json(&self, key: &str, value: Option<&Json>) {
        let value = value.map(Json::to_string);
        let mut record = FutureRecord::<str, str>::to(&self.topic).key(key);
        if let Some(v) = &value {
            record = record.payload(v);
        }
        if let Err((e, _)) = self.producer.send_result(record) {
            tracing::warn!(%e, "cannot write a status");
        }
    }
}

/// The key of a connector's active topic (KIP-558).
pub(crate) fn topic_key(topic: &str, connector: &str) -> String {
    format!("topic-{topic}-connector-{connector}")
}

/// The value of an active topic record.
pub(crate) fn topic_value(topic: &str, connector: &str, task: usize) -> Json {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    json!({"topic": {"name": topic, "connector": connector, "task": task, "discoverTimestamp": now}})
}

/// Everyone's statuses and connectors' active topics, kept up to date by a thread that
/// follows the status topic.
pub(crate) struct StatusReader {
    /// Every record's value, by key.
    records: Arc<Mutex<HashMap<String, Json>>>,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl StatusReader {
    /// Starts following the status topic from its beginning.
    pub(crate) fn start(worker: &WorkerConfig) -> Result<StatusReader, String> {
        let consumer: BaseConsumer<Quiet> = worker
            .cluster
            .create(
                &[
                    ("group.id", &format!("{}-status-reader", worker.group_id)),
                    ("enable.auto.commit", "false"),
                    ("enable.partition.eof", "false"),
                ],
                Quiet,
            )
            .map_err(|e| e.to_string())?;
        let metadata = worker
            .cluster
            .metadata(consumer.client(), Some(&worker.status_topic))
            .map_err(|e| e.to_string())?;
        let partitions = metadata
            .topics()
            .first()
            .map_or(0, |t| t.partitions().len()) as i32;
        let mut assignment = rdkafka::TopicPartitionList::new();
        for p in 0..partitions {
            assignment
                .add_partition_offset(&worker.status_topic, p, rdkafka::Offset::Beginning)
                .map_err(|e| e.to_string())?;
        }
        consumer.assign(&assignment).map_err(|e| e.to_string())?;
        let records = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (records, stop) = (records.clone(), stop.clone());
            std::thread::Builder::new()
                .name("connect-status".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) else {
                            continue;
                        };
                        let Some(key) = m.key().map(|k| String::from_utf8_lossy(k).into_owned())
                        else {
                            continue;
                        };
                        let value = m
                            .payload()
                            .and_then(|p| serde_json::from_slice::<Json>(p).ok());
                        let mut map = records.lock().unwrap_or_else(|p| p.into_inner());
                        match value {
                            Some(v) => map.insert(key, v),
                            None => map.remove(&key),
                        };
                    }
                })
                .map_err(|e| e.to_string())?
        };
        Ok(StatusReader {
            records,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The last status written under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Status> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .and_then(Status::from_json)
    }

    /// The topics a connector has used since its topics were last reset, in order.
    pub(crate) fn active_topics(&self, connector: &str) -> Vec<String> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let mut topics: Vec<String> = records
            .iter()
            .filter(|(k, v)| k.starts_with("topic-") && v["topic"]["connector"] == connector)
            .filter_map(|(_, v)| v["topic"]["name"].as_str().map(str::to_string))
            .collect();
        topics.sort();
        topics.dedup();
        topics
    }

    /// Stops following.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}
