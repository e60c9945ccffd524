//! The global thread (Kafka Streams' `GlobalStreamThread`): reads every partition of the
//! global tables' topics into stores that all tasks of this instance share — first to the
//! end, before any task runs (so a stream–global-table join sees the whole table from its
//! first record), then as records arrive. It is not a group member: each instance reads the
//! whole topics, which are the tables' changelogs too.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use brook_client::Quiet;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{RuntimeError, Shared, StreamsConfig, StreamsState, kafka};
use crate::state::{KeyValueStore, handle};
use crate::topology::{ProcessorContext, RawRecord, Topology};

/// Creates the global stores, reads the global topics to their ends into them, and leaves a
/// thread reading on; returns once the stores are complete (or with why they cannot be).
pub(crate) fn start(
    topology: Arc<Topology>,
    config: StreamsConfig,
    shared: Arc<Shared>,
) -> Result<JoinHandle<Result<(), RuntimeError>>, RuntimeError> {
    let stores: HashMap<String, crate::state::StoreHandle> = topology
        .global_store_names()
        .into_iter()
        .map(|name| {
            let store = handle(KeyValueStore::new(&name));
            (name, store)
        })
        .collect();
    {
        let mut registered = shared.stores.lock().unwrap_or_else(|p| p.into_inner());
        for (name, store) in &stores {
            registered.insert((name.clone(), -1), (0, store.clone()));
        }
    }
    *shared
        .global_stores
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = stores.clone();
    let (bootstrapped, ready) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("{}-GlobalStreamThread", config.application_id))
        .spawn(move || {
            let result = run(&topology, &config, &shared, &stores, &bootstrapped);
            if let Err(e) = &result {
                tracing::error!(error = %e, "global thread stopped");
                // Before the tables were complete, `start` reports the error instead.
                if bootstrapped.send(Err(e.to_string())).is_err() {
                    *shared.state.lock().unwrap_or_else(|p| p.into_inner()) = StreamsState::Error;
                }
            }
            result
        })
        .expect("a thread starts");
    match ready.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(RuntimeError::Unsupported(format!(
                "cannot read the global tables: {e}"
            )))
        }
        Err(_) => Err(RuntimeError::Unsupported(
            "the global thread stopped".to_string(),
        )),
    }
}

fn run(
    topology: &Topology,
    config: &StreamsConfig,
    shared: &Shared,
    stores: &HashMap<String, crate::state::StoreHandle>,
    bootstrapped: &mpsc::Sender<Result<(), String>>,
) -> Result<(), RuntimeError> {
    let consumer: BaseConsumer<Quiet> = config.cluster.create(
        &[
            ("group.id", &format!("{}-global", config.application_id)),
            ("enable.auto.commit", "false"),
            ("enable.partition.eof", "true"),
            ("isolation.level", config.isolation_level()),
        ],
        Quiet,
    )?;
    let timeout = config.cluster.timeout;
    let mut assignment = TopicPartitionList::new();
    // Partition → the high watermark it must be read to before the tables are complete.
    let mut pending: HashMap<(String, i32), i64> = HashMap::new();
    for topic in topology.global_topics() {
        let metadata = config.cluster.metadata(consumer.client(), Some(&topic))?;
        let partitions = metadata
            .topics()
            .first()
            .filter(|t| t.error().is_none())
            .map(|t| t.partitions().len() as i32)
            .unwrap_or(0);
        if partitions == 0 {
            return Err(RuntimeError::Unsupported(format!(
                "global table topic '{topic}' does not exist"
            )));
        }
        for partition in 0..partitions {
            assignment
                .add_partition_offset(&topic, partition, Offset::Beginning)
                .map_err(kafka("cannot assign"))?;
            let (low, high) = consumer
                .fetch_watermarks(topic.as_str(), partition, timeout)
                .map_err(kafka(format!("cannot read the offsets of {topic}")))?;
            if high > low {
                pending.insert((topic.clone(), partition), high);
            }
        }
    }
    consumer
        .assign(&assignment)
        .map_err(kafka("cannot assign the global topics"))?;
    let wires = topology.instantiate_with(crate::now_ms(), stores);
    let mut context = ProcessorContext::default();
    let mut ready = pending.is_empty();
    if ready {
        let _ = bootstrapped.send(Ok(()));
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while !shared.stop.load(Ordering::Relaxed) {
        if !ready && Instant::now() > deadline {
            return Err(RuntimeError::Unsupported(
                "the global tables were not read to their ends within 10 minutes".to_string(),
            ));
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                // The end of a partition (of some global topic: the event names no topic);
                // a transaction marker or a compacted tail may sit where no record comes.
                if let Ok(positions) = consumer.position() {
                    for element in positions.elements() {
                        let key = (element.topic().to_string(), element.partition());
                        if element.partition() == partition
                            && let (Some(high), Offset::Offset(at)) =
                                (pending.get(&key), element.offset())
                            && at >= *high
                        {
                            pending.remove(&key);
                        }
                    }
                }
            }
            Some(Err(e)) => tracing::warn!(error = %e, "global consumer error"),
            Some(Ok(m)) => {
                let topic = m.topic().to_string();
                let key = (topic.clone(), m.partition());
                if pending
                    .get(&key)
                    .is_some_and(|high| m.offset() + 1 >= *high)
                {
                    pending.remove(&key);
                }
                let Some(wire) = wires.sources.get(&topic).cloned() else {
                    continue;
                };
                let raw = RawRecord {
                    topic,
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    timestamp: m.timestamp().to_millis().unwrap_or(0),
                    headers: Vec::new(),
                };
                wire(&mut context, &raw);
                if let Some(error) = context.error.take() {
                    return Err(error.into());
                }
                context.output.clear();
            }
        }
        if !ready && pending.is_empty() {
            ready = true;
            tracing::info!("global tables read to their ends");
            let _ = bootstrapped.send(Ok(()));
        }
    }
    Ok(())
}
