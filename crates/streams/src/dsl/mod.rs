//! The DSL, with Kafka Streams' names: [`StreamsBuilder`] → [`KStream`] operations →
//! [`StreamsBuilder::build`] → a [`Topology`].
//!
//! Closures given to operations must be `Send + Sync + 'static`: the topology they describe is
//! shared by every task, and each task builds its own processors from it.

mod cache;
mod fk_join;
mod global;
mod grouped;
mod grouped_table;
mod joins;
mod kstream;
mod ktable;
mod process;
mod retention;
mod sessions;
mod sliding;
mod stream_joins;
mod suppress;
mod table_joins;
mod windows;

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

pub use crate::topology::PunctuationType;
pub use global::GlobalKTable;
pub use grouped::{Grouped, KGroupedStream, Materialized};
pub use grouped_table::KGroupedTable;
pub use kstream::{BranchedKStream, KStream, Repartitioned};
pub use ktable::{Change, KTable};
pub use process::{FixedKeyProcessor, FixedKeyRecord, Processor, ProcessorInit, Punctuation};
pub use sessions::{SessionWindowedKStream, SessionWindows};
pub use sliding::{SlidingWindowedKStream, SlidingWindows};
pub use stream_joins::{JoinWindows, StreamJoined};
pub use windows::{TimeWindowedKStream, TimeWindows};

use crate::serdes::Serde;
use crate::topology::{ProcessorContext, RawRecord, RawWire, Record, StreamsError, Topology};

/// What to do with a record whose key or value cannot be deserialized (Kafka Streams'
/// `default.deserialization.exception.handler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeserializationHandler {
    /// Stop processing with the error (`LogAndFailExceptionHandler`, Kafka's default).
    #[default]
    LogAndFail,
    /// Log it, count it in `skipped_records`, and go on (`LogAndContinueExceptionHandler`).
    LogAndContinue,
}

/// Extracts a record's event time from its key, value and the timestamp it was stored with.
pub type TimestampExtractor<K, V> = Arc<dyn Fn(&K, &V, i64) -> i64 + Send + Sync>;

/// How a source topic is read (Kafka Streams' `Consumed`): key and value serdes, a timestamp
/// extractor, and the deserialization error handler.
pub struct Consumed<K, V> {
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
    timestamp: Option<TimestampExtractor<K, V>>,
    on_error: DeserializationHandler,
}

impl<K: 'static, V: 'static> Consumed<K, V> {
    /// Keys and values read with these (shared) serdes.
    pub(crate) fn from_shared(
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        Consumed {
            key_serde,
            value_serde,
            timestamp: None,
            on_error: DeserializationHandler::default(),
        }
    }

    /// Keys and values read with these serdes; event time is the record's timestamp.
    pub fn with(key_serde: impl Serde<K> + 'static, value_serde: impl Serde<V> + 'static) -> Self {
        Consumed {
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
            timestamp: None,
            on_error: DeserializationHandler::default(),
        }
    }

    /// Event time from the record itself, e.g. a ride's pickup time.
    pub fn with_timestamp_extractor(
        mut self,
        extractor: impl Fn(&K, &V, i64) -> i64 + Send + Sync + 'static,
    ) -> Self {
        self.timestamp = Some(Arc::new(extractor));
        self
    }

    /// What to do with records that cannot be deserialized.
    pub fn with_deserialization_handler(mut self, handler: DeserializationHandler) -> Self {
        self.on_error = handler;
        self
    }
}

/// How records are written to a topic (Kafka Streams' `Produced`): key and value serdes.
pub struct Produced<K, V> {
    pub(crate) key_serde: Arc<dyn Serde<K>>,
    pub(crate) value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> Produced<K, V> {
    /// Keys and values written with these serdes.
    pub fn with(key_serde: impl Serde<K> + 'static, value_serde: impl Serde<V> + 'static) -> Self {
        Produced {
            key_serde: Arc::new(key_serde),
            value_serde: Arc::new(value_serde),
        }
    }
}

impl<K, V> Clone for Produced<K, V> {
    fn clone(&self) -> Self {
        Produced {
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

/// Builds a topology (Kafka Streams' `StreamsBuilder`). Not `Send`: build on one thread, then
/// share the [`Topology`].
#[derive(Default)]
pub struct StreamsBuilder {
    pub(crate) topology: Rc<RefCell<Topology>>,
}

impl StreamsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream of `topic`'s records. Records whose key or value is null and whose serde has
    /// no value for null (see [`crate::serdes::Serdes::optional`]) are skipped.
    pub fn stream<K, V>(&self, topic: &str, consumed: Consumed<K, V>) -> KStream<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        add_source(&self.topology, topic, consumed)
    }

    /// A table of `topic`'s latest value per key, materialized in a store: a null value (a
    /// tombstone) deletes the key; records with a null key are skipped.
    pub fn table<K, V>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        let options = materialized.options;
        let consumed = Arc::new(consumed);
        let mut topology = self.topology.borrow_mut();
        let name = node_name(&topology, "KTABLE-SOURCE");
        let store = ktable::StoreRef {
            name: materialized.store_name(topic, &topology),
            key_serde: materialized.key_serde.clone(),
            value_serde: materialized.value_serde.clone(),
        };
        let store_ref = store.clone();
        let node = topology.add_node(
            name,
            Arc::new(move |wiring, node| {
                let children = wiring.children::<K, ktable::Change<V>>(node);
                let consumed = consumed.clone();
                let stream_time = wiring.stream_time();
                let table = crate::state::TypedStore::new(
                    wiring.store(&store_ref.name),
                    store_ref.key_serde.clone(),
                    store_ref.value_serde.clone(),
                );
                let wire: RawWire = Rc::new(move |ctx: &mut ProcessorContext, raw: &RawRecord| {
                    let Some((key, value, timestamp, headers)) = consumed.read_update(ctx, raw)
                    else {
                        return;
                    };
                    stream_time.set(stream_time.get().max(timestamp));
                    let written = table.get(&key).and_then(|old| {
                        match &value {
                            Some(v) => table.put(&key, v)?,
                            None => table.delete(&key)?,
                        }
                        Ok(old)
                    });
                    let old = match written {
                        Ok(old) => old,
                        Err(e) => {
                            ctx.fail(e);
                            return;
                        }
                    };
                    let change = ktable::Change { new: value, old };
                    if change.new.is_none() && change.old.is_none() {
                        return;
                    }
                    let record = Record {
                        key,
                        value: change,
                        timestamp,
                        headers,
                    };
                    crate::topology::forward(&children, ctx, record);
                });
                Box::new(wire)
            }),
        );
        topology.sources.push((topic.to_string(), node));
        topology.add_store(&store.name, options);
        KTable::at(self.topology.clone(), node, Some(store))
    }

    /// The finished description.
    pub fn build(self) -> Topology {
        match Rc::try_unwrap(self.topology) {
            Ok(cell) => cell.into_inner(),
            // Streams still alive hold the builder too; the description is the same.
            Err(shared) => std::mem::take(&mut *shared.borrow_mut()),
        }
    }
}

impl<K, V> Consumed<K, V> {
    /// A table update in `raw`: key, value (`None`: a tombstone), timestamp, headers; `None`
    /// when skipped (a null key, or a deserialization error as in [`Consumed::read`]).
    #[allow(clippy::type_complexity)]
    pub(crate) fn read_update(
        &self,
        ctx: &mut ProcessorContext,
        raw: &RawRecord,
    ) -> Option<(K, Option<V>, i64, Vec<(String, Option<Vec<u8>>)>)> {
        let decoded = self
            .key_serde
            .deserialize_nullable(&raw.topic, raw.key.as_deref())
            .and_then(|key| {
                let value = self
                    .value_serde
                    .deserialize_nullable(&raw.topic, raw.value.as_deref())?;
                Ok(key.map(|k| (k, value)))
            });
        let (key, value) = match decoded {
            Ok(Some(pair)) => pair,
            Ok(None) => return None,
            Err(e) => {
                self.handle(ctx, e);
                return None;
            }
        };
        let timestamp = match (&self.timestamp, &value) {
            (Some(extract), Some(v)) => extract(&key, v, raw.timestamp),
            _ => raw.timestamp,
        };
        Some((key, value, timestamp, raw.headers.clone()))
    }

    fn handle(&self, ctx: &mut ProcessorContext, error: crate::serdes::SerdeError) {
        match self.on_error {
            DeserializationHandler::LogAndContinue => {
                tracing::warn!(error = %error, "skipping a record that cannot be deserialized");
                ctx.skipped_records += 1;
            }
            DeserializationHandler::LogAndFail => {
                ctx.error.get_or_insert(StreamsError::Serde(error));
            }
        }
    }

    /// The typed record in `raw`, or `None` when it is skipped (null without a null value, or
    /// a deserialization error under log-and-continue; log-and-fail records the error).
    fn read(&self, ctx: &mut ProcessorContext, raw: &RawRecord) -> Option<Record<K, V>> {
        let (key, value, timestamp, headers) = self.read_update(ctx, raw)?;
        Some(Record {
            key,
            value: value?,
            timestamp,
            headers,
        })
    }
}

/// Adds a source node reading `topic` with `consumed`.
pub(crate) fn add_source<K, V>(
    topology: &Rc<RefCell<Topology>>,
    topic: &str,
    consumed: Consumed<K, V>,
) -> KStream<K, V>
where
    K: Clone + 'static,
    V: Clone + 'static,
{
    let consumed = Arc::new(consumed);
    let node = {
        let mut topology = topology.borrow_mut();
        let name = node_name(&topology, "KSTREAM-SOURCE");
        let node = topology.add_node(
            name,
            Arc::new(move |wiring, node| {
                let children = wiring.children::<K, V>(node);
                let consumed = consumed.clone();
                let stream_time = wiring.stream_time();
                let wire: RawWire = Rc::new(move |ctx: &mut ProcessorContext, raw: &RawRecord| {
                    let Some(record) = consumed.read(ctx, raw) else {
                        return;
                    };
                    stream_time.set(stream_time.get().max(record.timestamp));
                    crate::topology::forward(&children, ctx, record);
                });
                Box::new(wire)
            }),
        );
        topology.sources.push((topic.to_string(), node));
        node
    };
    KStream::at(topology.clone(), node)
}

/// Kafka Streams' generated node names: `KSTREAM-FILTER-0000000003`.
pub(crate) fn node_name(topology: &Topology, kind: &str) -> String {
    format!("{kind}-{:010}", topology.nodes.len())
}

/// Adds a node of kind `kind` under `parent` that takes `Record<KI, VI>` and forwards
/// `Record<KO, VO>`; `make` builds its wire for a task from its children's wires and the
/// task's wiring (for stores). Returns the new node.
pub(crate) fn add_child<KI, VI, KO, VO>(
    topology: &Rc<RefCell<Topology>>,
    parent: usize,
    kind: &str,
    make: impl Fn(
        Vec<crate::topology::Wire<KO, VO>>,
        &mut crate::topology::Wiring<'_>,
    ) -> crate::topology::Wire<KI, VI>
    + Send
    + Sync
    + 'static,
) -> usize
where
    KI: 'static,
    VI: 'static,
    KO: 'static,
    VO: 'static,
{
    let mut topology = topology.borrow_mut();
    let name = node_name(&topology, kind);
    let node = topology.add_node(
        name,
        Arc::new(move |wiring: &mut crate::topology::Wiring<'_>, node| {
            let children = wiring.children::<KO, VO>(node);
            wiring.building = node;
            Box::new(make(children, wiring))
        }),
    );
    topology.nodes[parent].children.push(node);
    node
}

/// Adds a pass-through node of kind `kind` fed by both `first` and `second` (a merge, or the
/// output of a two-sided join). Returns the new node.
pub(crate) fn merge_nodes<K: Clone + 'static, V: Clone + 'static>(
    topology: &Rc<RefCell<Topology>>,
    first: usize,
    second: usize,
    kind: &str,
) -> usize {
    let merged = add_child::<K, V, K, V>(topology, first, kind, |children, _| {
        Rc::new(move |ctx, record: Record<K, V>| crate::topology::forward(&children, ctx, record))
    });
    topology.borrow_mut().nodes[second].children.push(merged);
    merged
}

/// A typed handle on a node of the topology being built.
pub(crate) struct NodeRef<K, V> {
    pub topology: Rc<RefCell<Topology>>,
    pub node: usize,
    pub types: PhantomData<fn() -> (K, V)>,
    /// The key may differ from the one the records were partitioned by: grouping must
    /// repartition first.
    pub key_changed: bool,
}

impl<K, V> Clone for NodeRef<K, V> {
    fn clone(&self) -> Self {
        NodeRef {
            topology: self.topology.clone(),
            node: self.node,
            types: PhantomData,
            key_changed: self.key_changed,
        }
    }
}
