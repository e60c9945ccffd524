//! `GlobalKTable`: a table every instance holds whole (all partitions of its topic), joined
//! from a stream by a key the stream record chooses (`KStream#join(GlobalKTable, KeyValueMapper,
//! ValueJoiner)`). Its store is filled from the topic as records arrive; the join looks the
//! chosen key up as the store is at that moment, and table updates emit nothing.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use super::ktable::StoreRef;
use super::{Consumed, KStream, Materialized, StreamsBuilder, node_name};
use crate::state::TypedStore;
use crate::topology::{ProcessorContext, RawRecord, RawWire};

/// A table replicated whole to every instance (Kafka Streams' `GlobalKTable<K, V>`).
pub struct GlobalKTable<K, V> {
    store: StoreRef<K, V>,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for GlobalKTable<K, V> {
    fn clone(&self) -> Self {
        GlobalKTable {
            store: self.store.clone(),
            types: PhantomData,
        }
    }
}

impl<K, V> GlobalKTable<K, V> {
    /// The store holding the table.
    pub fn queryable_store_name(&self) -> &str {
        &self.store.name
    }
}

impl StreamsBuilder {
    /// A global table of `topic` (every partition), materialized in a store; a tombstone
    /// deletes its key.
    pub fn global_table<K: Clone + 'static, V: Clone + 'static>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> GlobalKTable<K, V> {
        let consumed = Arc::new(consumed);
        let mut topology = self.topology.borrow_mut();
        let name = node_name(&topology, "KTABLE-SOURCE");
        let store = StoreRef {
            name: materialized
                .name
                .clone()
                .unwrap_or_else(|| format!("{topic}-GLOBAL-STORE-{:010}", topology.nodes.len())),
            key_serde: materialized.key_serde.clone(),
            value_serde: materialized.value_serde.clone(),
        };
        let store_ref = store.clone();
        let node = topology.add_node(
            name,
            Arc::new(move |wiring, _node| {
                let consumed = consumed.clone();
                let table = TypedStore::new(
                    wiring.store(&store_ref.name),
                    store_ref.key_serde.clone(),
                    store_ref.value_serde.clone(),
                );
                let wire: RawWire = Rc::new(move |ctx: &mut ProcessorContext, raw: &RawRecord| {
                    let Some((key, value, _, _)) = consumed.read_update(ctx, raw) else {
                        return;
                    };
                    let written = match &value {
                        Some(v) => table.put(&key, v),
                        None => table.delete(&key),
                    };
                    if let Err(e) = written {
                        ctx.fail(e);
                    }
                });
                Box::new(wire)
            }),
        );
        topology.sources.push((topic.to_string(), node));
        // The topic itself is the table's changelog: every instance restores it from there.
        let options = crate::state::StoreOptions {
            persistent: false,
            logging: false,
            caching: false,
        };
        topology.add_store(&store.name, options);
        topology.global_topics.push(topic.to_string());
        topology.global_stores.push(store.name.clone());
        GlobalKTable {
            store,
            types: PhantomData,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record joined with the global table's value for the key `key_selector` picks;
    /// records whose key the table lacks are dropped.
    pub fn join_global<GK: 'static, GV: 'static, VR: Clone + 'static>(
        &self,
        table: &GlobalKTable<GK, GV>,
        key_selector: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&V, &GV) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(table, key_selector, move |v, g: Option<&GV>| {
            g.map(|g| joiner(v, g))
        })
    }

    /// Each record joined with the global table's value for the key `key_selector` picks,
    /// or `None` when the table lacks it.
    pub fn left_join_global<GK: 'static, GV: 'static, VR: Clone + 'static>(
        &self,
        table: &GlobalKTable<GK, GV>,
        key_selector: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&GV>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.global_join(table, key_selector, move |v, g| Some(joiner(v, g)))
    }

    fn global_join<GK: 'static, GV: 'static, VR: Clone + 'static>(
        &self,
        table: &GlobalKTable<GK, GV>,
        key_selector: impl Fn(&K, &V) -> GK + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&GV>) -> Option<VR> + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.lookup_join(
            table.store.clone(),
            "KSTREAM-GLOBALJOIN",
            key_selector,
            joiner,
        )
    }
}
