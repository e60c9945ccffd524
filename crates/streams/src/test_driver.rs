//! [`TopologyTestDriver`]: runs a topology with no broker, as Kafka Streams' test driver does —
//! pipe records into input topics, read what the topology wrote to output topics.
//!
//! ```
//! use brook_streams::dsl::{Consumed, Produced, StreamsBuilder};
//! use brook_streams::serdes::Serdes;
//! use brook_streams::test_driver::TopologyTestDriver;
//!
//! let builder = StreamsBuilder::new();
//! builder
//!     .stream("rides", Consumed::with(Serdes::string(), Serdes::i64()))
//!     .filter(|_, fare| *fare > 10)
//!     .to("big-fares", Produced::with(Serdes::string(), Serdes::i64()));
//! let driver = TopologyTestDriver::new(builder.build());
//! let rides = driver.input_topic("rides", Serdes::string(), Serdes::i64());
//! rides.pipe_input("1", 25, 1_000).unwrap();
//! rides.pipe_input("2", 5, 2_000).unwrap();
//! let out = driver.output_topic("big-fares", Serdes::string(), Serdes::i64());
//! assert_eq!(out.read_key_values_to_list().unwrap(), vec![("1".to_string(), 25)]);
//! ```

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use crate::serdes::Serde;
use crate::state::TypedStore;
use crate::topology::{
    ProcessorContext, PunctuationType, RawRecord, StreamsError, TaskWires, Topology,
};

/// A topology run in process, one record at a time. Not `Send`.
pub struct TopologyTestDriver {
    topology: Topology,
    task: TaskWires,
    state: RefCell<DriverState>,
}

#[derive(Default)]
struct DriverState {
    context: ProcessorContext,
    /// Records written per output topic, oldest first.
    outputs: HashMap<String, VecDeque<RawRecord>>,
    /// The mock wall clock, in milliseconds.
    wall_clock: i64,
    offsets: HashMap<String, i64>,
}

impl TopologyTestDriver {
    /// A driver for `topology` (one task over every source topic).
    pub fn new(topology: Topology) -> Self {
        Self::with_wall_clock(topology, crate::now_ms())
    }

    /// A driver whose mock wall clock starts at `wall_clock_ms` (Kafka's
    /// `initialWallClockTime`).
    pub fn with_wall_clock(topology: Topology, wall_clock_ms: i64) -> Self {
        let task = topology.instantiate_at(wall_clock_ms);
        TopologyTestDriver {
            topology,
            task,
            state: RefCell::new(DriverState {
                wall_clock: wall_clock_ms,
                ..DriverState::default()
            }),
        }
    }

    /// Moves the mock wall clock on by `by` and fires the wall-clock punctuations due
    /// (Kafka's `advanceWallClockTime`); what they write is processed as piped records' is.
    pub fn advance_wall_clock_time(&self, by: std::time::Duration) -> Result<(), StreamsError> {
        let internal = {
            let mut state = self.state.borrow_mut();
            state.wall_clock = state
                .wall_clock
                .saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
            let now = state.wall_clock;
            self.task
                .punctuate(&mut state.context, PunctuationType::WallClockTime, now);
            self.collect(&mut state)?
        };
        for record in internal {
            self.pipe_raw(record)?;
        }
        Ok(())
    }

    /// The topology being run.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Processes one stored record of `topic` through the topology; records the topology
    /// writes to its internal (repartition) topics are processed right after, as Kafka
    /// Streams' driver does.
    pub fn pipe_raw(&self, record: RawRecord) -> Result<(), StreamsError> {
        let mut pending = std::collections::VecDeque::from([record]);
        while let Some(record) = pending.pop_front() {
            for internal in self.pipe_one(record)? {
                pending.push_back(internal);
            }
        }
        Ok(())
    }

    /// Processes one record; returns what it wrote to internal topics.
    fn pipe_one(&self, mut record: RawRecord) -> Result<Vec<RawRecord>, StreamsError> {
        let wire = self
            .task
            .sources
            .get(&record.topic)
            .ok_or_else(|| StreamsError::UnknownTopic(record.topic.clone()))?
            .clone();
        let mut state = self.state.borrow_mut();
        let offset = state.offsets.entry(record.topic.clone()).or_insert(0);
        record.offset = *offset;
        *offset += 1;
        record.partition = 0;
        wire(&mut state.context, &record);
        let stream_time = self.task.stream_time();
        self.task
            .punctuate(&mut state.context, PunctuationType::StreamTime, stream_time);
        self.collect(&mut state)
    }

    /// Flushes the record caches (Kafka's driver commits after every record) and files what
    /// the task wrote: sink records by topic; internal records are returned.
    fn collect(&self, state: &mut DriverState) -> Result<Vec<RawRecord>, StreamsError> {
        let context = &mut state.context;
        self.task.flush(context);
        let written = std::mem::take(&mut context.output);
        let error = context.error.take();
        let mut internal = Vec::new();
        for out in written {
            if self.topology.is_internal(&out.topic) {
                internal.push(out);
                continue;
            }
            state
                .outputs
                .entry(out.topic.clone())
                .or_default()
                .push_back(out);
        }
        error.map_or(Ok(internal), Err)
    }

    /// The key-value store called `name`, read through these serdes (Kafka's
    /// `getKeyValueStore`), or `None` when the topology has no such store.
    pub fn key_value_store<K, V>(
        &self,
        name: &str,
        key_serde: impl Serde<K> + 'static,
        value_serde: impl Serde<V> + 'static,
    ) -> Option<TypedStore<K, V>> {
        let store = self.task.stores.get(name)?.clone();
        Some(TypedStore::new(
            store,
            std::sync::Arc::new(key_serde),
            std::sync::Arc::new(value_serde),
        ))
    }

    /// Records dropped as late (after their window's grace period) so far.
    pub fn dropped_records(&self) -> u64 {
        self.state.borrow().context.dropped_records
    }

    /// Records skipped by a log-and-continue deserialization handler so far.
    pub fn skipped_records(&self) -> u64 {
        self.state.borrow().context.skipped_records
    }

    /// A typed handle to pipe records into `topic`.
    pub fn input_topic<K, V, KS: Serde<K>, VS: Serde<V>>(
        &self,
        topic: &str,
        key_serde: KS,
        value_serde: VS,
    ) -> TestInputTopic<'_, K, V, KS, VS> {
        TestInputTopic {
            driver: self,
            topic: topic.to_string(),
            key_serde,
            value_serde,
            types: std::marker::PhantomData,
        }
    }

    /// A typed handle to read what the topology wrote to `topic`.
    pub fn output_topic<K, V, KS: Serde<K>, VS: Serde<V>>(
        &self,
        topic: &str,
        key_serde: KS,
        value_serde: VS,
    ) -> TestOutputTopic<'_, K, V, KS, VS> {
        TestOutputTopic {
            driver: self,
            topic: topic.to_string(),
            key_serde,
            value_serde,
            types: std::marker::PhantomData,
        }
    }

    fn take_output(&self, topic: &str) -> Option<RawRecord> {
        self.state
            .borrow_mut()
            .outputs
            .get_mut(topic)
            .and_then(VecDeque::pop_front)
    }

    fn output_len(&self, topic: &str) -> usize {
        self.state
            .borrow()
            .outputs
            .get(topic)
            .map_or(0, VecDeque::len)
    }
}

/// Pipes typed records into one input topic (Kafka Streams' `TestInputTopic`).
pub struct TestInputTopic<'d, K, V, KS, VS> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_serde: KS,
    value_serde: VS,
    types: std::marker::PhantomData<fn(K, V)>,
}

impl<K, V, KS: Serde<K>, VS: Serde<V>> TestInputTopic<'_, K, V, KS, VS> {
    /// One record with this key, value and timestamp.
    pub fn pipe_input(
        &self,
        key: impl Into<K>,
        value: impl Into<V>,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        let key = self
            .key_serde
            .serialize_nullable(&self.topic, &key.into())?;
        let value = self
            .value_serde
            .serialize_nullable(&self.topic, &value.into())?;
        self.pipe_bytes(key, value, timestamp)
    }

    /// One record of raw (possibly null or malformed) key and value bytes.
    pub fn pipe_bytes(
        &self,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.driver.pipe_raw(RawRecord {
            topic: self.topic.clone(),
            partition: 0,
            offset: -1,
            key,
            value,
            timestamp,
            headers: Vec::new(),
        })
    }

    /// Several records, in order.
    pub fn pipe_key_values(
        &self,
        records: impl IntoIterator<Item = (K, V, i64)>,
    ) -> Result<(), StreamsError> {
        for (key, value, timestamp) in records {
            self.pipe_input(key, value, timestamp)?;
        }
        Ok(())
    }
}

/// A record read back from an output topic.
#[derive(Debug, Clone, PartialEq)]
pub struct TestRecord<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Its timestamp.
    pub timestamp: i64,
}

/// Reads typed records from one output topic (Kafka Streams' `TestOutputTopic`).
pub struct TestOutputTopic<'d, K, V, KS, VS> {
    driver: &'d TopologyTestDriver,
    topic: String,
    key_serde: KS,
    value_serde: VS,
    types: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V, KS: Serde<K>, VS: Serde<V>> TestOutputTopic<'_, K, V, KS, VS> {
    /// The oldest unread record, or `None`.
    pub fn read_record(&self) -> Result<Option<TestRecord<K, V>>, StreamsError> {
        let Some(raw) = self.driver.take_output(&self.topic) else {
            return Ok(None);
        };
        let missing = |what: &str| {
            crate::serdes::SerdeError::deserialize(
                &self.topic,
                "TestOutputTopic",
                format!("a null {what} needs Serdes::optional"),
            )
        };
        let key = self
            .key_serde
            .deserialize_nullable(&self.topic, raw.key.as_deref())?
            .ok_or_else(|| missing("key"))?;
        let value = self
            .value_serde
            .deserialize_nullable(&self.topic, raw.value.as_deref())?
            .ok_or_else(|| missing("value"))?;
        Ok(Some(TestRecord {
            key,
            value,
            timestamp: raw.timestamp,
        }))
    }

    /// Every unread record as (key, value).
    pub fn read_key_values_to_list(&self) -> Result<Vec<(K, V)>, StreamsError> {
        let mut out = Vec::new();
        while let Some(r) = self.read_record()? {
            out.push((r.key, r.value));
        }
        Ok(out)
    }

    /// Every unread record.
    pub fn read_records_to_list(&self) -> Result<Vec<TestRecord<K, V>>, StreamsError> {
        let mut out = Vec::new();
        while let Some(r) = self.read_record()? {
            out.push(r);
        }
        Ok(out)
    }

    /// Whether every record was read.
    pub fn is_empty(&self) -> bool {
        self.queue_size() == 0
    }

    /// Unread records.
    pub fn queue_size(&self) -> usize {
        self.driver.output_len(&self.topic)
    }
}
