//! A stream thread: one consumer-group member with its tasks — polls, routes each record to
//! its task, produces what the task wrote, flushes caches and commits, restores stores from
//! their changelogs (and local copies), fires punctuations.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use brook_client::{Quiet, RebalanceFlag};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use super::topics::{changelog_topic, cluster_topic};
use super::{
    GroupProtocol, ProcessingGuarantee, RuntimeError, Shared, StreamsConfig, StreamsState, kafka,
};
use crate::state::KeyValueStore;
use crate::state::local::LocalStores;
use crate::topology::{
    ProcessorContext, PunctuationType, RawRecord, StreamsError, TaskWires, Topology,
};

/// One task: the topology's processors and stores for one partition number.
struct Task {
    partition: i32,
    wires: TaskWires,
    /// The local copy of its persistent stores (none when it has none, or could not open).
    local: Option<LocalStores>,
}

/// How often the local copies of persistent stores are brought up to date (after a commit).
const SAVE_INTERVAL: Duration = Duration::from_secs(10);

/// How often the consumer lag metrics are measured (at a commit).
const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// The stream thread's clients and tasks.
pub(crate) struct StreamThread<'a> {
    topology: &'a Topology,
    config: &'a StreamsConfig,
    shared: &'a Shared,
    consumer: BaseConsumer<RebalanceFlag>,
    rebalanced: RebalanceFlag,
    producer: ThreadedProducer<Quiet>,
    tasks: BTreeMap<i32, Task>,
    assigned: BTreeSet<(String, i32)>,
    /// Next offset to commit per (cluster topic, partition).
    positions: HashMap<String, HashMap<i32, i64>>,
    /// Cluster topic name → the topology's name for it.
    sources: HashMap<String, String>,
    context: ProcessorContext,
    /// Which stream thread this is (1, 2, …).
    index: usize,
    /// The cluster topic of the record being processed.
    polled_topic: String,
    /// The record being processed; its buffers are reused for the next one.
    record: RawRecord,
    eos: bool,
    in_transaction: bool,
    last_save: Instant,
    /// Next offset to process per input partition read (for the lag metrics).
    next_offsets: HashMap<(String, i32), i64>,
    last_lag: Instant,
}

impl<'a> StreamThread<'a> {
    pub(crate) fn new(
        topology: &'a Topology,
        config: &'a StreamsConfig,
        shared: &'a Shared,
        index: usize,
    ) -> Result<Self, RuntimeError> {
        let app = config.application_id.as_str();
        let eos = config.processing_guarantee == ProcessingGuarantee::ExactlyOnceV2;
        let rebalanced = RebalanceFlag::raised();
        let mut settings = vec![
            ("group.id", app),
            ("enable.auto.commit", "false"),
            ("auto.offset.reset", "earliest"),
            // librdkafka pauses fetching for fetch.queue.backoff.ms (1 s) whenever 100,000
            // records wait locally; a stream thread drains that in a fraction of a second,
            // so the default leaves it idle most of the time.
            ("fetch.queue.backoff.ms", "50"),
            ("isolation.level", config.isolation_level()),
        ];
        // Range assignment keeps partition p of every topic on one member: one task.
        match config.group_protocol {
            GroupProtocol::Classic => settings.push(("partition.assignment.strategy", "range")),
            GroupProtocol::Consumer => {
                settings.push(("group.protocol", "consumer"));
                settings.push(("group.remote.assignor", "range"));
            }
        }
        let consumer: BaseConsumer<RebalanceFlag> =
            config.cluster.create(&settings, rebalanced.clone())?;
        let sources: HashMap<String, String> = topology
            .task_source_topics()
            .into_iter()
            .map(|t| (cluster_topic(topology, app, &t), t))
            .collect();
        let subscribed: Vec<&str> = sources.keys().map(String::as_str).collect();
        consumer
            .subscribe(&subscribed)
            .map_err(kafka("cannot subscribe"))?;
        let transactional_id = format!(
            "{app}-{}-{index}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let mut settings = vec![
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("linger.ms", "5"),
            // Kafka's default partitioner for keyed records, as the Java client uses.
            ("partitioner", "murmur2_random"),
        ];
        if eos {
            settings.push(("transactional.id", transactional_id.as_str()));
            // Kafka Streams' default: a crashed instance's open transaction is aborted soon.
            settings.push(("transaction.timeout.ms", "10000"));
        }
        let producer: ThreadedProducer<Quiet> = config.cluster.create(&settings, Quiet)?;
        if eos {
            producer
                .init_transactions(config.cluster.timeout)
                .map_err(kafka("cannot initialize transactions"))?;
        }
        Ok(StreamThread {
            topology,
            config,
            shared,
            consumer,
            rebalanced,
            producer,
            tasks: BTreeMap::new(),
            assigned: BTreeSet::new(),
            positions: HashMap::new(),
            sources,
            context: ProcessorContext::default(),
            index,
            polled_topic: String::new(),
            record: RawRecord {
                topic: String::new(),
                partition: -1,
                offset: -1,
                key: None,
                value: None,
                timestamp: 0,
                headers: Vec::new(),
            },
            eos,
            in_transaction: false,
            last_save: Instant::now(),
            next_offsets: HashMap::new(),
            last_lag: Instant::now()
                .checked_sub(LAG_INTERVAL)
                .unwrap_or_else(Instant::now),
        })
    }

    pub(crate) fn run(&mut self) -> Result<(), RuntimeError> {
        let mut last_commit = Instant::now();
        let mut since_clock = 0u32;
        while !self.shared.stop.load(Ordering::Relaxed) {
            let polled = match self.consumer.poll(Duration::from_millis(100)) {
                None => false,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "consumer error");
                    false
                }
                Some(Ok(m)) => {
                    let Some(source) = self.sources.get(m.topic()) else {
                        continue;
                    };
                    let record = &mut self.record;
                    record.topic.clear();
                    record.topic.push_str(source);
                    record.partition = m.partition();
                    record.offset = m.offset();
                    record.timestamp = m.timestamp().to_millis().unwrap_or(0);
                    refill(&mut record.key, m.key());
                    refill(&mut record.value, m.payload());
                    record.headers.clear();
                    if let Some(headers) = m.headers() {
                        record.headers.extend(
                            headers
                                .iter()
                                .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))),
                        );
                    }
                    self.polled_topic.clear();
                    self.polled_topic.push_str(m.topic());
                    true
                }
            };
            // The assignment first: a rebalance may rebuild the tasks and their positions.
            self.reconcile_assignment()?;
            let idle = !polled;
            if polled {
                let (partition, next) = (self.record.partition, self.record.offset + 1);
                match self.positions.get_mut(&self.polled_topic) {
                    Some(positions) => {
                        positions.insert(partition, next);
                    }
                    None => {
                        self.positions.insert(
                            self.polled_topic.clone(),
                            HashMap::from([(partition, next)]),
                        );
                    }
                }
                self.process()?;
            }
            // Reading the clock costs more than a record's processing: look every 64 records.
            since_clock += 1;
            if idle || since_clock >= 64 {
                since_clock = 0;
                self.punctuate_wall_clock()?;
                if last_commit.elapsed() >= self.config.commit_interval {
                    self.commit()?;
                    last_commit = Instant::now();
                }
            }
        }
        self.commit()?;
        self.save_local_stores()
    }

    /// Rebuilds the tasks when the group changed the assignment.
    fn reconcile_assignment(&mut self) -> Result<(), RuntimeError> {
        if !self.rebalanced.take() {
            return Ok(());
        }
        let current: BTreeSet<(String, i32)> = self
            .consumer
            .assignment()
            .map_err(kafka("cannot read the assignment"))?
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        if current == self.assigned {
            return Ok(());
        }
        // What was processed for partitions that moved must not be committed by us any more.
        if self.eos && self.in_transaction {
            self.producer
                .abort_transaction(self.config.cluster.timeout)
                .map_err(kafka("cannot abort the transaction"))?;
            self.in_transaction = false;
        }
        let wanted: BTreeSet<i32> = current.iter().map(|(_, p)| *p).collect();
        self.tasks.retain(|p, _| wanted.contains(p));
        if self.eos {
            // Open tasks restart from their committed offsets too.
            self.tasks.clear();
            self.positions.clear();
        } else {
            // A task this thread keeps carries on where it was: its stores and caches hold
            // what it processed since the last commit, so its partitions go on from there
            // (an eager rebalance would restart them from their committed offsets), and
            // those offsets are still to be committed.
            for positions in self.positions.values_mut() {
                positions.retain(|p, _| wanted.contains(p));
            }
            for (topic, positions) in &self.positions {
                for (partition, next) in positions {
                    let sought = self.consumer.seek(
                        topic,
                        *partition,
                        Offset::Offset(*next),
                        self.config.cluster.timeout,
                    );
                    if let Err(e) = sought {
                        tracing::warn!(topic, partition, error = %e,
                            "cannot resume a kept task's partition; it restarts from its commit");
                    }
                }
            }
        }
        for partition in wanted {
            if !self.tasks.contains_key(&partition) {
                let task = self.create_task(partition)?;
                self.tasks.insert(partition, task);
            }
        }
        self.assigned = current;
        *self.shared.state.lock().unwrap_or_else(|p| p.into_inner()) = StreamsState::Running;
        tracing::info!(tasks = ?self.tasks.keys().collect::<Vec<_>>(), "tasks assigned");
        let name = std::thread::current()
            .name()
            .unwrap_or("stream-thread")
            .to_string();
        let tasks = self.tasks.keys().map(|p| format!("0_{p}")).collect();
        self.shared
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, tasks);
        // Interactive queries see this thread's current tasks' stores (and no longer the
        // ones it gave up; another thread may have registered those already).
        let mut stores = self.shared.stores.lock().unwrap_or_else(|p| p.into_inner());
        stores.retain(|_, (owner, _)| *owner != self.index);
        for task in self.tasks.values() {
            for (name, store) in task.wires.own_stores() {
                stores.insert((name.clone(), task.partition), (self.index, store.clone()));
            }
        }
        Ok(())
    }

    /// Builds task `partition`: loads its persistent stores' local copies and restores every
    /// store from its changelog (from the local copy's checkpoint, or from the beginning).
    fn create_task(&self, partition: i32) -> Result<Task, RuntimeError> {
        let global = self
            .shared
            .global_stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let wires = self.topology.instantiate_with(crate::now_ms(), &global);
        let app = &self.config.application_id;
        let persistent = wires
            .own_stores()
            .any(|(name, _)| self.topology.store_options(name).persistent);
        let local = if persistent {
            let dir = self
                .config
                .state_dir
                .join(app)
                .join(format!("0_{partition}"));
            LocalStores::open(&dir)
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "restoring from the changelogs instead");
                })
                .ok()
        } else {
            None
        };
        for (name, store) in wires.own_stores() {
            let options = self.topology.store_options(name);
            let mut store = crate::state::lock(store);
            let local = local.as_ref().filter(|_| options.persistent);
            let mut checkpoint = None;
            if let Some(local) = local {
                let saved = local
                    .load(name)
                    .map_err(|e| RuntimeError::Unsupported(e.to_string()))?;
                for (key, value) in saved.entries {
                    store.restore(key, Some(value));
                }
                checkpoint = saved.checkpoint;
                store.enable_saving();
            }
            if options.logging {
                let topic = changelog_topic(app, name);
                let restored = self.restore(&topic, partition, &mut store, checkpoint, local)?;
                tracing::debug!(store = %name, partition, restored, ?checkpoint, "restored a store");
                store.enable_logging();
            }
        }
        Ok(Task {
            partition,
            wires,
            local,
        })
    }

    /// Writes what persistent stores changed since the last save to their local copies, with
    /// their changelogs' end offsets as checkpoints. Called right after a commit, when the
    /// stores hold exactly what the changelogs do.
    fn save_local_stores(&mut self) -> Result<(), RuntimeError> {
        self.last_save = Instant::now();
        let app = &self.config.application_id;
        for task in self.tasks.values() {
            let Some(local) = &task.local else { continue };
            let mut saves = Vec::new();
            for (name, store) in task.wires.own_stores() {
                let options = self.topology.store_options(name);
                if !options.persistent {
                    continue;
                }
                let checkpoint = if options.logging {
                    let topic = changelog_topic(app, name);
                    self.consumer
                        .fetch_watermarks(&topic, task.partition, self.config.cluster.timeout)
                        .map_err(kafka(format!("cannot read the offsets of {topic}")))?
                        .1
                } else {
                    -1
                };
                saves.push((
                    name.clone(),
                    crate::state::lock(store).take_unsaved(),
                    checkpoint,
                ));
            }
            if let Err(e) = local.save(&saves) {
                tracing::warn!(error = %e, "cannot save the local state; a restart restores more");
            }
        }
        Ok(())
    }

    /// Reads `topic`'s partition from `checkpoint` (or its beginning) to its end into
    /// `store`; returns how many entries. A checkpoint the changelog no longer matches (the
    /// topic was recreated or truncated) is dropped with the local copy, and everything is
    /// read.
    fn restore(
        &self,
        topic: &str,
        partition: i32,
        store: &mut KeyValueStore,
        checkpoint: Option<i64>,
        local: Option<&LocalStores>,
    ) -> Result<u64, RuntimeError> {
        let restorer: BaseConsumer<Quiet> = self.config.cluster.create(
            &[
                (
                    "group.id",
                    &format!("{}-restore", self.config.application_id),
                ),
                ("enable.auto.commit", "false"),
                ("enable.partition.eof", "true"),
                ("isolation.level", self.config.isolation_level()),
            ],
            Quiet,
        )?;
        let (low, high) = restorer
            .fetch_watermarks(topic, partition, self.config.cluster.timeout)
            .map_err(kafka(format!("cannot read the offsets of {topic}")))?;
        let mut start = Offset::Beginning;
        if let Some(checkpoint) = checkpoint {
            if checkpoint > high || checkpoint < low {
                tracing::warn!(
                    topic,
                    partition,
                    checkpoint,
                    low,
                    high,
                    "the local state does not match the changelog; restoring all of it"
                );
                store.clear();
                if let Some(local) = local {
                    local
                        .wipe(store.name())
                        .map_err(|e| RuntimeError::Unsupported(e.to_string()))?;
                }
            } else {
                start = Offset::Offset(checkpoint);
                if checkpoint >= high {
                    return Ok(0);
                }
            }
        }
        if high <= low {
            return Ok(0);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, start)
            .map_err(kafka("cannot assign"))?;
        restorer.assign(&tpl).map_err(kafka("cannot assign"))?;
        let mut count = 0;
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if Instant::now() > deadline {
                return Err(RuntimeError::Unsupported(format!(
                    "restoring {topic}-{partition} did not finish"
                )));
            }
            match restorer.poll(Duration::from_millis(200)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(kafka(format!("cannot restore {topic}"))(e)),
                Some(Ok(m)) => {
                    if let Some(key) = m.key() {
                        store.restore(key.to_vec(), m.payload().map(<[u8]>::to_vec));
                        count += 1;
                        self.shared.metrics.records_restored.inc();
                    }
                    if m.offset() + 1 >= high {
                        break;
                    }
                }
            }
        }
        Ok(count)
    }

    /// Runs the polled record through its task and produces what it wrote.
    fn process(&mut self) -> Result<(), RuntimeError> {
        let partition = self.record.partition;
        let Some(task) = self.tasks.get(&partition) else {
            return Ok(());
        };
        let Some(wire) = task.wires.sources.get(&self.record.topic).cloned() else {
            return Err(StreamsError::UnknownTopic(self.record.topic.clone()).into());
        };
        if self.eos && !self.in_transaction {
            self.producer
                .begin_transaction()
                .map_err(kafka("cannot begin a transaction"))?;
            self.in_transaction = true;
        }
        let (dropped_before, skipped_before) =
            (self.context.dropped_records, self.context.skipped_records);
        // One record in 64 is timed: reading the clock costs about what a record does.
        let timed = (self.shared.metrics.records_processed.get() % 64 == 0).then(Instant::now);
        wire(&mut self.context, &self.record);
        let stream_time = task.wires.stream_time();
        let fired =
            task.wires
                .punctuate(&mut self.context, PunctuationType::StreamTime, stream_time);
        if fired > 0 {
            self.shared.metrics.punctuations.inc_by(fired as u64);
        }
        if let Some(error) = self.context.error.take() {
            return Err(error.into());
        }
        self.send_output()?;
        let task = &self.tasks[&partition];
        let pending: usize = task
            .wires
            .own_stores()
            .map(|(_, s)| crate::state::lock(s).changelog_bytes())
            .sum();
        let share = self.config.cache_max_bytes / self.config.num_stream_threads.max(1);
        if pending > share / self.tasks.len().max(1) {
            self.flush_task(partition)?;
        }
        let metrics = &self.shared.metrics;
        if let Some(started) = timed {
            metrics
                .process_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        metrics.records_processed.inc();
        metrics
            .records_dropped
            .inc_by(self.context.dropped_records - dropped_before);
        metrics
            .records_skipped
            .inc_by(self.context.skipped_records - skipped_before);
        Ok(())
    }

    /// Every [`LAG_INTERVAL`], sets the lag of each input partition this thread has read:
    /// its high watermark (asked of the broker) minus the next offset to process.
    fn record_lag(&mut self) {
        for (topic, positions) in &self.positions {
            for (partition, next) in positions {
                self.next_offsets.insert((topic.clone(), *partition), *next);
            }
        }
        if self.next_offsets.is_empty() || self.last_lag.elapsed() < LAG_INTERVAL {
            return;
        }
        self.last_lag = Instant::now();
        for ((topic, partition), next) in &self.next_offsets {
            if !self.assigned.contains(&(topic.clone(), *partition)) {
                continue;
            }
            let watermarks =
                self.consumer
                    .fetch_watermarks(topic.as_str(), *partition, Duration::from_secs(1));
            if let Ok((_, high)) = watermarks {
                let labels = crate::metrics::PartitionLabels {
                    topic: topic.clone(),
                    partition: *partition,
                };
                self.shared
                    .metrics
                    .consumer_lag
                    .get_or_create(&labels)
                    .set((high - next).max(0));
            }
        }
    }

    /// Fires the wall-clock punctuations that are due and produces what they wrote.
    fn punctuate_wall_clock(&mut self) -> Result<(), RuntimeError> {
        let now = crate::now_ms();
        let kind = PunctuationType::WallClockTime;
        if !self.tasks.values().any(|t| t.wires.is_due(kind, now)) {
            return Ok(());
        }
        if self.eos && !self.in_transaction {
            // What a punctuation writes belongs in the transaction like any output.
            self.producer
                .begin_transaction()
                .map_err(kafka("cannot begin a transaction"))?;
            self.in_transaction = true;
        }
        let mut fired = 0;
        for task in self.tasks.values() {
            fired += task.wires.punctuate(&mut self.context, kind, now);
        }
        self.shared.metrics.punctuations.inc_by(fired as u64);
        if fired > 0 {
            if let Some(error) = self.context.error.take() {
                return Err(error.into());
            }
            self.send_output()?;
        }
        Ok(())
    }

    /// Produces what the processors wrote to sink topics.
    fn send_output(&mut self) -> Result<(), RuntimeError> {
        let output = std::mem::take(&mut self.context.output);
        let app = &self.config.application_id;
        for record in output {
            let topic = cluster_topic(self.topology, app, &record.topic);
            self.send(
                &topic,
                None,
                record.key.as_deref(),
                record.value.as_deref(),
                record.timestamp,
                &record.headers,
            )?;
        }
        Ok(())
    }

    /// Forwards what task `partition`'s record caches hold and produces its stores'
    /// pending changelog entries.
    fn flush_task(&mut self, partition: i32) -> Result<(), RuntimeError> {
        let Some(task) = self.tasks.get(&partition) else {
            return Ok(());
        };
        task.wires.flush(&mut self.context);
        if let Some(error) = self.context.error.take() {
            return Err(error.into());
        }
        self.send_output()?;
        let task = &self.tasks[&partition];
        let app = &self.config.application_id;
        for (name, store) in task.wires.own_stores() {
            let entries = crate::state::lock(store).take_changelog();
            if entries.is_empty() {
                continue;
            }
            let topic = changelog_topic(app, name);
            for (key, value) in entries {
                self.send(
                    &topic,
                    Some(partition),
                    Some(&key),
                    value.as_deref(),
                    0,
                    &[],
                )?;
            }
        }
        Ok(())
    }

    fn send(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
        headers: &[(String, Option<Vec<u8>>)],
    ) -> Result<(), RuntimeError> {
        let mut owned = OwnedHeaders::new();
        for (name, value) in headers {
            owned = owned.insert(Header {
                key: name,
                value: value.as_deref(),
            });
        }
        let mut record = BaseRecord::<[u8], [u8]>::to(topic).headers(owned);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(value) = value {
            record = record.payload(value);
        }
        if let Some(p) = partition {
            record = record.partition(p);
        }
        if timestamp > 0 {
            record = record.timestamp(timestamp);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((e, back))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                    record = back;
                }
                Err((e, _)) => return Err(kafka(format!("cannot produce to {topic}"))(e)),
            }
        }
    }

    /// Commits: the produced records and the consumed offsets, together (exactly once) or
    /// one after the other (at least once).
    fn commit(&mut self) -> Result<(), RuntimeError> {
        let started = Instant::now();
        self.record_lag();
        let partitions: Vec<i32> = self.tasks.keys().copied().collect();
        for partition in partitions {
            self.flush_task(partition)?;
        }
        let mut offsets = TopicPartitionList::new();
        for (topic, positions) in &self.positions {
            for (partition, offset) in positions {
                offsets
                    .add_partition_offset(topic, *partition, Offset::Offset(*offset))
                    .map_err(kafka("cannot build the offsets to commit"))?;
            }
        }
        let timeout = self.config.cluster.timeout;
        if self.eos {
            if !self.in_transaction {
                return Ok(());
            }
            let metadata = self
                .consumer
                .group_metadata()
                .ok_or_else(|| RuntimeError::Unsupported("no consumer group metadata".into()))?;
            if offsets.count() > 0 {
                self.producer
                    .send_offsets_to_transaction(&offsets, &metadata, timeout)
                    .map_err(kafka("cannot add offsets to the transaction"))?;
            }
            self.producer
                .commit_transaction(timeout)
                .map_err(kafka("cannot commit the transaction"))?;
            self.in_transaction = false;
        } else {
            self.producer
                .flush(timeout)
                .map_err(kafka("cannot flush the producer"))?;
            if offsets.count() > 0 {
                self.consumer
                    .commit(&offsets, CommitMode::Sync)
                    .map_err(kafka("cannot commit offsets"))?;
            }
        }
        self.positions.clear();
        self.shared
            .metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if self.last_save.elapsed() >= SAVE_INTERVAL {
            self.save_local_stores()?;
        }
        Ok(())
    }
}

/// Copies `data` into `slot`, reusing its buffer.
fn refill(slot: &mut Option<Vec<u8>>, data: Option<&[u8]>) {
    match data {
        Some(data) => {
            let buffer = slot.get_or_insert_with(Vec::new);
            buffer.clear();
            buffer.extend_from_slice(data);
        }
        None => *slot = None,
    }
}
