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
            .to_string()
        });
        let mut record = FutureRecord::<str, str>::to(&self.topic).key(key);
        if let Some(v) = &value {
            record = record.payload(v);
        }
        if let Err((e, _)) = self.producer.send_result(record) {
            tracing::warn!(%e, "cannot write a status");
        }
    }
}

/// Everyone's statuses, kept up to date by a thread that follows the status topic.
pub(crate) struct StatusReader {
    statuses: Arc<Mutex<HashMap<String, Status>>>,
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
        let statuses = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (statuses, stop) = (statuses.clone(), stop.clone());
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
                        let status = m
                            .payload()
                            .and_then(|p| serde_json::from_slice::<Json>(p).ok())
                            .and_then(|v| Status::from_json(&v));
                        let mut map = statuses.lock().unwrap_or_else(|p| p.into_inner());
                        match status {
                            Some(s) => map.insert(key, s),
                            None => map.remove(&key),
                        };
                    }
                })
                .map_err(|e| e.to_string())?
        };
        Ok(StatusReader {
            statuses,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The last status written under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<Status> {
        self.statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Stops following.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}
