//! The `_schemas` topic as the registry's storage, through any Kafka-compatible cluster.
//!
//! A reader thread consumes the single partition from the beginning for as long as the
//! registry runs and applies every record to the [`State`]. A write produces a record
//! (acks=all) and then waits until the reader has applied it, so the state is only ever
//! changed by what the topic holds, and every instance on the same topic converges on it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use brook_client::ClusterSettings;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use tokio::sync::watch;

use crate::error::RegistryError;
use crate::state::{Key, State};

/// How long a write waits to be acknowledged and read back.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `_schemas` topic and the state read from it. `Sync`: the state is behind a lock that
/// only the reader thread writes.
pub struct Store {
    producer: FutureProducer,
    topic: String,
    state: Arc<RwLock<State>>,
    applied: watch::Receiver<i64>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("topic", &self.topic).finish()
    }
}

fn store_error(what: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Store(format!("{what}: {e}"))
}

impl Store {
    /// Creates `topic` (one partition, compacted) when missing, reads it to its end, and keeps
    /// reading it in the background.
    pub async fn open(cluster: &ClusterSettings, topic: &str) -> Result<Store, RegistryError> {
        let config = cluster.config();
        let admin: AdminClient<DefaultClientContext> = config
            .create()
            .map_err(|e| store_error("cannot create an admin client", e))?;
        let new =
            NewTopic::new(topic, 1, TopicReplication::Fixed(-1)).set("cleanup.policy", "compact");
        let options = AdminOptions::new().request_timeout(Some(WRITE_TIMEOUT));
        match admin.create_topics(&[new], &options).await {
            Ok(results) => {
                for r in results {
                    if let Err((name, code)) = r
                        && code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists
                    {
                        return Err(store_error(&format!("cannot create {name}"), code));
                    }
                }
            }
            Err(e) => return Err(store_error(&format!("cannot create {topic}"), e)),
        }
        drop(admin);

        let producer: FutureProducer = config
            .clone()
            .set("acks", "all")
            .set("linger.ms", "0")
            .create()
            .map_err(|e| store_error("cannot create a producer", e))?;
        let consumer: BaseConsumer = config
            .clone()
            .set("group.id", "brook-registry")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "50")
            .create()
            .map_err(|e| store_error("cannot create a consumer", e))?;
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, 0, Offset::Beginning)
            .map_err(|e| store_error("cannot assign", e))?;
        consumer
            .assign(&assignment)
            .map_err(|e| store_error("cannot assign", e))?;

        let state = Arc::new(RwLock::new(State::default()));
        let (sender, applied) = watch::channel(-1i64);
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::Builder::new()
                .name("registry-reader".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match consumer.poll(Duration::from_millis(100)) {
                            Some(Ok(m)) => {
                                if let Some(key) = m.key() {
                                    state
                                        .write()
                                        .unwrap_or_else(|p| p.into_inner())
                                        .apply(key, m.payload());
                                }
                                let _ = sender.send(m.offset());
                            }
                            Some(Err(e)) => tracing::warn!(error = %e, "reading _schemas"),
                            None => {}
                        }
                    }
                })
                .map_err(|e| store_error("cannot start the reader", e))?
        };
        let store = Store {
            producer,
            topic: topic.to_string(),
            state,
            applied,
            stop,
            reader: Some(reader),
        };
        // Read everything already there before serving.
        store.write(&Key::Noop { magic: 0 }, None::<&()>).await?;
        Ok(store)
    }

    /// The state as of the last record read.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one record and returns once the reader has applied it.
    pub async fn write<V: Serialize>(
        &self,
        key: &Key,
        value: Option<&V>,
    ) -> Result<(), RegistryError> {
        let key = serde_json::to_vec(key).expect("keys serialize");
        let value = value.map(|v| serde_json::to_vec(v).expect("values serialize"));
        let mut record = FutureRecord::to(&self.topic).key(&key).partition(0);
        if let Some(value) = &value {
            record = record.payload(value);
        }
        let delivered = self
            .producer
            .send(record, WRITE_TIMEOUT)
            .await
            .map_err(|(e, _)| store_error("cannot write to _schemas", e))?;
        let offset = delivered.offset;
        let mut applied = self.applied.clone();
        tokio::time::timeout(WRITE_TIMEOUT, applied.wait_for(|a| *a >= offset))
            .await
            .map_err(|_| RegistryError::Timeout("the write was not read back".into()))?
            .map_err(|e| store_error("the reader stopped", e))?;
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
