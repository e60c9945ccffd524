//! The processor graph a [`crate::dsl::StreamsBuilder`] describes, and its instantiation for
//! one task.
//!
//! A [`Topology`] is a description: nodes with their children and, per node, a function that
//! builds the node's processing closure once its children's closures exist. It is
//! `Send + Sync`, shared by every task. [`Topology::instantiate`] builds one task's closures
//! ("wires"): typed `Rc<dyn Fn(&mut ProcessorContext, Record<K, V>)>` that call their children
//! directly — records move between processors as typed values, never boxed; the type erasure
//! happens once, when wires are built. A task's wires are not `Send`: a task lives on the thread
//! that built it, as Kafka Streams' tasks belong to one stream thread.

use std::any::Any;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::serdes::SerdeError;
use crate::state::{KeyValueStore, StoreHandle, StoreOptions};

/// A record flowing through a topology: typed key and value, timestamp, headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Event time, in milliseconds since the epoch.
    pub timestamp: i64,
    /// Headers, as produced.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A record as stored in a topic: bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The topic.
    pub topic: String,
    /// The partition (-1 when not known yet, for output records).
    pub partition: i32,
    /// The offset (-1 for output records).
    pub offset: i64,
    /// Key bytes, or null.
    pub key: Option<Vec<u8>>,
    /// Value bytes, or null.
    pub value: Option<Vec<u8>>,
    /// Timestamp in milliseconds.
    pub timestamp: i64,
    /// Headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Where a task's processors put their output, counts and failure. One per task.
#[derive(Debug, Default)]
pub struct ProcessorContext {
    /// Records written to sink topics, in order, waiting to be produced.
    pub output: Vec<RawRecord>,
    /// Records skipped because they could not be deserialized (the log-and-continue handler).
    pub skipped_records: u64,
    /// Records dropped because they arrived after their window closed (past the grace).
    pub dropped_records: u64,
    /// A failure that stops the task (serialization errors, the log-and-fail handler).
    pub error: Option<StreamsError>,
}

impl ProcessorContext {
    /// Records `error` as the one that stops the task (the first one wins).
    pub fn fail(&mut self, error: impl Into<StreamsError>) {
        self.error.get_or_insert(error.into());
    }
}

/// Why processing stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamsError {
    /// A record could not be serialized or deserialized.
    #[error(transparent)]
    Serde(#[from] SerdeError),
    /// A record arrived for a topic the topology does not read.
    #[error("the topology reads no topic '{0}'")]
    UnknownTopic(String),
}

/// One task's processing closure of a node that takes `Record<K, V>`.
pub type Wire<K, V> = Rc<dyn Fn(&mut ProcessorContext, Record<K, V>)>;

/// The entry of a source: raw records of its topic, lent (the runtime reuses their buffers).
pub type RawWire = Rc<dyn Fn(&mut ProcessorContext, &RawRecord)>;

/// Forwards what a node held back (its record cache) when the task commits.
pub type Flush = Rc<dyn Fn(&mut ProcessorContext)>;

/// What drives a punctuation (Kafka Streams' `PunctuationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PunctuationType {
    /// The task's stream time: the largest record timestamp it has processed.
    StreamTime,
    /// The system clock (or the test driver's mock clock).
    WallClockTime,
}

/// Fires a punctuation with the time it is due at.
pub(crate) type Fire = Rc<dyn Fn(&mut ProcessorContext, i64)>;

/// A punctuation scheduled by a processor: fired with the time whenever that time reaches
/// `next`, which then moves on by whole intervals (missed ones are skipped, as in Kafka).
pub(crate) struct Punctuator {
    pub kind: PunctuationType,
    pub interval_ms: i64,
    pub next: Cell<i64>,
    pub fire: Fire,
}

/// Builds a node's wire for one task, given the graph and the task's wiring.
pub(crate) type Build = Arc<dyn Fn(&mut Wiring<'_>, usize) -> Box<dyn Any> + Send + Sync>;

pub(crate) struct Node {
    pub name: String,
    pub children: Vec<usize>,
    pub build: Build,
}

/// The description of a processor graph, built by the DSL.
#[derive(Default)]
pub struct Topology {
    pub(crate) nodes: Vec<Node>,
    /// Source topic → its source node (whose wire is a [`RawWire`]).
    pub(crate) sources: Vec<(String, usize)>,
    /// Topics written by sinks with a fixed topic.
    pub(crate) sink_topics: Vec<String>,
    /// State stores, by name.
    pub(crate) stores: Vec<String>,
    /// How each store is kept (stores not listed: the defaults).
    pub(crate) store_options: HashMap<String, StoreOptions>,
    /// Internal topics (repartition topics), without the `<application.id>-` prefix.
    pub(crate) internal_topics: Vec<String>,
    /// Topics read whole by global tables.
    pub(crate) global_topics: Vec<String>,
    /// The stores of global tables (one per instance, shared by its tasks).
    pub(crate) global_stores: Vec<String>,
    /// Joins fed by a stream whose key changed since it was read, without a repartition: right
    /// in one task, wrong across partitions (the runtime refuses them then).
    pub(crate) unpartitioned_joins: Vec<String>,
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Topology {
    /// The topics the topology reads (internal ones included, unprefixed).
    pub fn source_topics(&self) -> Vec<String> {
        self.sources.iter().map(|(t, _)| t.clone()).collect()
    }

    /// The user topics the topology's tasks read (not its internal ones, nor global
    /// tables' topics).
    pub fn input_topics(&self) -> Vec<String> {
        self.task_source_topics()
            .into_iter()
            .filter(|t| !self.is_internal(t))
            .collect()
    }

    /// The topics the topology's tasks read, partition by partition (internal ones
    /// included, unprefixed; global tables' topics left out: each instance reads those whole).
    pub fn task_source_topics(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|(t, _)| t.clone())
            .filter(|t| !self.global_topics.contains(t))
            .collect()
    }

    /// The stores of global tables.
    pub fn global_store_names(&self) -> Vec<String> {
        self.global_stores.clone()
    }

    /// Whether `store` is a global table's.
    pub fn is_global_store(&self, store: &str) -> bool {
        self.global_stores.iter().any(|s| s == store)
    }

    /// The topics the topology writes to by name (topic extractors add others at run time).
    pub fn sink_topics(&self) -> Vec<String> {
        self.sink_topics.clone()
    }

    /// The internal topics it writes and reads back (`…-repartition`), without the
    /// `<application.id>-` prefix the runtime gives them.
    pub fn internal_topics(&self) -> Vec<String> {
        self.internal_topics.clone()
    }

    /// Topics global tables read.
    pub fn global_topics(&self) -> Vec<String> {
        self.global_topics.clone()
    }

    /// Whether `topic` (unprefixed) is one of its internal topics.
    pub fn is_internal(&self, topic: &str) -> bool {
        self.internal_topics.iter().any(|t| t == topic)
    }

    /// The state stores the topology keeps.
    pub fn store_names(&self) -> Vec<String> {
        self.stores.clone()
    }

    /// How the store `name` is kept.
    pub fn store_options(&self, name: &str) -> StoreOptions {
        self.store_options.get(name).copied().unwrap_or_default()
    }

    /// Registers a state store kept as `options` say.
    pub(crate) fn add_store(&mut self, name: &str, options: StoreOptions) {
        if !self.stores.iter().any(|s| s == name) {
            self.stores.push(name.to_string());
        }
        self.store_options.insert(name.to_string(), options);
    }

    /// A readable outline, like Kafka Streams' `Topology#describe()`: each node with the
    /// nodes it forwards to.
    pub fn describe(&self) -> String {
        let mut out = String::from("Topologies:\n");
        for node in &self.nodes {
            let children: Vec<&str> = node
                .children
                .iter()
                .map(|c| self.nodes[*c].name.as_str())
                .collect();
            out.push_str(&format!("  {} --> {}\n", node.name, children.join(", ")));
        }
        out
    }

    /// Builds one task: the entry of each source topic, and the task's state stores.
    pub fn instantiate(&self) -> TaskWires {
        self.instantiate_at(crate::now_ms())
    }

    /// Builds one task whose wall clock reads `now` (the test driver's mock clock).
    pub fn instantiate_at(&self, now: i64) -> TaskWires {
        self.instantiate_with(now, &HashMap::new())
    }

    /// Builds one task that uses `shared` stores (global tables', one per instance) instead
    /// of its own under those names.
    pub fn instantiate_with(&self, now: i64, shared: &HashMap<String, StoreHandle>) -> TaskWires {
        let mut wiring = Wiring {
            topology: self,
            built: HashMap::new(),
            stores: shared.clone(),
            shared: HashMap::new(),
            flushes: Vec::new(),
            building: 0,
            punctuators: Vec::new(),
            stream_time: Rc::new(Cell::new(i64::MIN)),
            now,
        };
        let sources = self
            .sources
            .iter()
            .map(|(topic, node)| (topic.clone(), wiring.wire::<RawWire>(*node)))
            .collect();
        let mut flushes = wiring.flushes;
        flushes.sort_by_key(|(node, _)| *node);
        TaskWires {
            sources,
            shared: shared.keys().cloned().collect(),
            stores: wiring.stores,
            flushes: flushes.into_iter().map(|(_, f)| f).collect(),
            punctuators: wiring.punctuators,
            stream_time: wiring.stream_time,
        }
    }

    pub(crate) fn add_node(&mut self, name: String, build: Build) -> usize {
        self.nodes.push(Node {
            name,
            children: Vec::new(),
            build,
        });
        self.nodes.len() - 1
    }
}

/// One task's processors and stores, built from a [`Topology`].
pub struct TaskWires {
    /// Source topic → the entry for its raw records.
    pub sources: HashMap<String, RawWire>,
    /// Store name → the task's store (or the instance's, for a global table's).
    pub stores: HashMap<String, StoreHandle>,
    /// The names of the stores shared with other tasks (global tables').
    shared: Vec<String>,
    /// The record caches' flushes, upstream nodes first (the DSL numbers parents before
    /// children, so one pass empties every cache).
    pub flushes: Vec<Flush>,
    punctuators: Vec<Punctuator>,
    /// The task's stream time (sources raise it with each record's timestamp).
    stream_time: Rc<Cell<i64>>,
}

impl TaskWires {
    /// The task's own stores (not the shared ones of global tables).
    pub fn own_stores(&self) -> impl Iterator<Item = (&String, &StoreHandle)> {
        self.stores
            .iter()
            .filter(|(name, _)| !self.shared.contains(name))
    }

    /// The task's stream time: the largest timestamp of the records it has read (`i64::MIN`
    /// before the first).
    pub fn stream_time(&self) -> i64 {
        self.stream_time.get()
    }

    /// Whether a punctuation of `kind` is due at `now`.
    pub fn is_due(&self, kind: PunctuationType, now: i64) -> bool {
        now != i64::MIN
            && self
                .punctuators
                .iter()
                .any(|p| p.kind == kind && now >= p.next.get())
    }

    /// Fires the task's punctuations of `kind` that are due at `now` (its stream time for
    /// [`PunctuationType::StreamTime`]); returns how many fired.
    pub fn punctuate(&self, ctx: &mut ProcessorContext, kind: PunctuationType, now: i64) -> usize {
        let mut fired = 0;
        for punctuator in self.punctuators.iter().filter(|p| p.kind == kind) {
            let due = punctuator.next.get();
            if now < due || now == i64::MIN {
                continue;
            }
            (punctuator.fire)(ctx, now);
            fired += 1;
            let missed = (now - due) / punctuator.interval_ms;
            punctuator
                .next
                .set(due.saturating_add((missed + 1).saturating_mul(punctuator.interval_ms)));
        }
        fired
    }

    /// Forwards everything the task's record caches hold (before a commit).
    pub fn flush(&self, ctx: &mut ProcessorContext) {
        for flush in &self.flushes {
            flush(ctx);
        }
    }
}

/// One task's wires as they are built: each node's once (a node with several parents — a
/// merge — is shared), and each named store once.
pub struct Wiring<'t> {
    topology: &'t Topology,
    built: HashMap<usize, Box<dyn Any>>,
    stores: HashMap<String, StoreHandle>,
    shared: HashMap<String, Box<dyn Any>>,
    flushes: Vec<(usize, Flush)>,
    /// The node whose processor is being made (set by the DSL's `add_child`).
    pub(crate) building: usize,
    punctuators: Vec<Punctuator>,
    stream_time: Rc<Cell<i64>>,
    /// The wall-clock time the task is built at.
    now: i64,
}

impl Wiring<'_> {
    /// The task's store called `name`, created empty on first use.
    pub(crate) fn store(&mut self, name: &str) -> StoreHandle {
        self.stores
            .entry(name.to_string())
            .or_insert_with(|| crate::state::handle(KeyValueStore::new(name)))
            .clone()
    }

    /// The task's store called `name`, with cheap range and prefix scans (made so even when
    /// a downstream processor, wired first, asked for it already).
    pub(crate) fn ordered_store(&mut self, name: &str) -> StoreHandle {
        let store = self
            .stores
            .entry(name.to_string())
            .or_insert_with(|| crate::state::handle(KeyValueStore::ordered(name)))
            .clone();
        crate::state::lock(&store).make_ordered();
        store
    }

    /// Calls `flush` when the task commits: the node being made forwards what its record
    /// cache holds.
    pub(crate) fn on_flush(&mut self, flush: Flush) {
        self.flushes.push((self.building, flush));
    }

    /// Schedules `fire` every `interval_ms` of `kind` time. Stream-time punctuations are
    /// aligned to 0 and fire with the first record; wall-clock ones fire `interval_ms` after
    /// `now` first (Kafka's alignment).
    pub(crate) fn schedule(&mut self, kind: PunctuationType, interval_ms: i64, fire: Fire) {
        let first = match kind {
            PunctuationType::StreamTime => 0,
            PunctuationType::WallClockTime => self.now.saturating_add(interval_ms),
        };
        self.punctuators.push(Punctuator {
            kind,
            interval_ms: interval_ms.max(1),
            next: Cell::new(first),
            fire,
        });
    }

    /// The task's stream time, which sources raise.
    pub(crate) fn stream_time(&self) -> Rc<Cell<i64>> {
        self.stream_time.clone()
    }

    /// The wire of `node`, of type `W` (a [`Wire`] or [`RawWire`]), built on first use.
    pub(crate) fn wire<W: Clone + 'static>(&mut self, node: usize) -> W {
        if let Some(built) = self.built.get(&node) {
            return built
                .downcast_ref::<W>()
                .expect("the DSL wires nodes of matching types")
                .clone();
        }
        let build = self.topology.nodes[node].build.clone();
        let built = build(self, node);
        let wire = built
            .downcast_ref::<W>()
            .expect("the DSL wires nodes of matching types")
            .clone();
        self.built.insert(node, built);
        wire
    }

    /// State that several processors of one task share (both sides of a join), made by
    /// `make` for the first of them.
    pub(crate) fn shared<T: Clone + 'static>(&mut self, name: &str, make: impl FnOnce() -> T) -> T {
        self.shared
            .entry(name.to_string())
            .or_insert_with(|| Box::new(make()))
            .downcast_ref::<T>()
            .expect("shared state of one name has one type")
            .clone()
    }

    /// The wires of `node`'s children, all taking `Record<K, V>`.
    pub(crate) fn children<K: 'static, V: 'static>(&mut self, node: usize) -> Vec<Wire<K, V>> {
        let children = self.topology.nodes[node].children.clone();
        children.into_iter().map(|c| self.wire(c)).collect()
    }
}

/// Sends `record` to every child (the last one gets it without a copy).
pub(crate) fn forward<K: Clone, V: Clone>(
    children: &[Wire<K, V>],
    ctx: &mut ProcessorContext,
    record: Record<K, V>,
) {
    if let Some((last, rest)) = children.split_last() {
        for child in rest {
            child(ctx, record.clone());
        }
        last(ctx, record);
    }
}
