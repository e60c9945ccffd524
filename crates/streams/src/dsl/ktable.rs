//! [`KTable`]: a changelog stream — the latest value per key — as aggregations produce it.
//! Updates travel as [`Change`]s (new and old value, `None` for absent), as in Kafka Streams,
//! so that operations downstream know what a key had before.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use super::{KStream, NodeRef, add_child};
use crate::serdes::Serde;
use crate::topology::{Record, Topology, forward};

/// An update of one key of a table: its new value and its previous one (`None`: absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Change<V> {
    /// The value now; `None` is a deletion.
    pub new: Option<V>,
    /// The value before.
    pub old: Option<V>,
}

/// The store a table is materialized in, with the serdes its bytes are written with.
pub(crate) struct StoreRef<K, V> {
    pub name: String,
    pub key_serde: Arc<dyn Serde<K>>,
    pub value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> Clone for StoreRef<K, V> {
    fn clone(&self) -> Self {
        StoreRef {
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

/// A table: the latest value per key (Kafka Streams' `KTable<K, V>`).
pub struct KTable<K, V> {
    at: NodeRef<K, Change<V>>,
    store: Option<StoreRef<K, V>>,
    /// For windowed aggregations: how long after a window's end it can still change (its
    /// grace; for sessions the gap plus the grace).
    close_after_ms: Option<i64>,
}

impl<K, V> Clone for KTable<K, V> {
    fn clone(&self) -> Self {
        KTable {
            at: self.at.clone(),
            store: self.store.clone(),
            close_after_ms: self.close_after_ms,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    pub(crate) fn at(
        topology: Rc<RefCell<Topology>>,
        node: usize,
        store: Option<StoreRef<K, V>>,
    ) -> Self {
        KTable {
            at: NodeRef {
                topology,
                node,
                types: PhantomData,
                key_changed: false,
            },
            store,
            close_after_ms: None,
        }
    }

    /// Marks a windowed aggregation's table: windows close `ms` after they end.
    pub(crate) fn closing_after(mut self, ms: i64) -> Self {
        self.close_after_ms = Some(ms);
        self
    }

    pub(crate) fn close_after_ms(&self) -> Option<i64> {
        self.close_after_ms
    }

    pub(crate) fn node(&self) -> &NodeRef<K, Change<V>> {
        &self.at
    }

    /// The store holding this table, if it is materialized (Kafka's `queryableStoreName`).
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.store.as_ref().map(|s| s.name.as_str())
    }

    pub(crate) fn store(&self) -> Option<&StoreRef<K, V>> {
        self.store.as_ref()
    }

    /// Adds a node that maps each update with `f` (`None`: nothing forwarded).
    fn map_node<VO: Clone + 'static>(
        &self,
        kind: &str,
        f: impl Fn(&K, Change<V>) -> Option<VO> + Send + Sync + 'static,
    ) -> usize {
        let f = Arc::new(f);
        add_child::<K, Change<V>, K, VO>(
            &self.at.topology,
            self.at.node,
            kind,
            move |children, _| {
                let f = f.clone();
                Rc::new(move |ctx, record: Record<K, Change<V>>| {
                    let Record {
                        key,
                        value,
                        timestamp,
                        headers,
                    } = record;
                    if let Some(value) = f(&key, value) {
                        let out = Record {
                            key,
                            value,
                            timestamp,
                            headers,
                        };
                        forward(&children, ctx, out);
                    }
                })
            },
        )
    }

    fn child<V2: Clone + 'static>(
        &self,
        kind: &str,
        make: impl Fn(&K, Change<V>) -> Option<Change<V2>> + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        let node = self.map_node(kind, make);
        KTable::at(self.at.topology.clone(), node, None)
    }

    /// The rows for which `predicate` holds: a row that stops matching becomes a deletion.
    pub fn filter(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.child("KTABLE-FILTER", move |key, change| {
            let keep = |v: Option<V>| v.filter(|v| predicate(key, v));
            let change = Change {
                new: keep(change.new),
                old: keep(change.old),
            };
            // Nothing to say when the key was and stays outside the filter.
            (change.new.is_some() || change.old.is_some()).then_some(change)
        })
    }

    /// The rows for which `predicate` does not hold.
    pub fn filter_not(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.filter(move |k, v| !predicate(k, v))
    }

    /// Each row's value mapped.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        self.child("KTABLE-MAPVALUES", move |_, change| {
            Some(Change {
                new: change.new.as_ref().map(&mapper),
                old: change.old.as_ref().map(&mapper),
            })
        })
    }

    /// The same table, kept in a store so that joins and interactive queries can read it
    /// (Kafka's `filter`/`mapValues` overloads taking a `Materialized`).
    pub fn materialize(&self, materialized: super::Materialized<K, V>) -> KTable<K, V> {
        let topology = self.at.topology.clone();
        let store_name = materialized.store_name("KTABLE-MATERIALIZE", &topology.borrow());
        let store = StoreRef {
            name: store_name.clone(),
            key_serde: materialized.key_serde.clone(),
            value_serde: materialized.value_serde.clone(),
        };
        let writes = store.clone();
        let node = add_child::<K, Change<V>, K, Change<V>>(
            &topology,
            self.at.node,
            "KTABLE-MATERIALIZE",
            move |children, wiring| {
                let table = crate::state::TypedStore::new(
                    wiring.store(&writes.name),
                    writes.key_serde.clone(),
                    writes.value_serde.clone(),
                );
                Rc::new(move |ctx, record: Record<K, Change<V>>| {
                    let written = match &record.value.new {
                        Some(v) => table.put(&record.key, v),
                        None => table.delete(&record.key),
                    };
                    if let Err(e) = written {
                        ctx.fail(e);
                        return;
                    }
                    forward(&children, ctx, record);
                })
            },
        );
        topology
            .borrow_mut()
            .add_store(&store_name, materialized.options);
        KTable::at(self.at.topology.clone(), node, Some(store))
    }

    /// Each row's value mapped with its key (Kafka's `mapValues(ValueMapperWithKey)`).
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, &V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        self.child("KTABLE-MAPVALUES", move |key, change| {
            Some(Change {
                new: change.new.as_ref().map(|v| mapper(key, v)),
                old: change.old.as_ref().map(|v| mapper(key, v)),
            })
        })
    }

    /// The table's updates as a stream of new values; deletions are not forwarded (see
    /// [`KTable::to_stream_with_tombstones`]).
    pub fn to_stream(&self) -> KStream<K, V> {
        self.stream_of("KTABLE-TOSTREAM", |change: Change<V>| change.new)
    }

    /// The table's updates as a stream, deletions as `None` (Kafka's tombstones; write them
    /// with `Serdes::optional`).
    pub fn to_stream_with_tombstones(&self) -> KStream<K, Option<V>> {
        self.stream_of("KTABLE-TOSTREAM", |change: Change<V>| Some(change.new))
    }

    /// The table's updates as a stream of [`Change`]s (old and new value).
    pub(crate) fn to_changes(&self) -> KStream<K, Change<V>> {
        self.stream_of("KTABLE-SELECT", Some)
    }

    fn stream_of<V2: Clone + 'static>(
        &self,
        kind: &str,
        value: impl Fn(Change<V>) -> Option<V2> + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        let node = self.map_node(kind, move |_, change| value(change));
        KStream::at(self.at.topology.clone(), node)
    }
}
