//! Stream–table joins (`KStream::join` / `left_join` with a `KTable`): each stream record looks
//! up its key in the table's store as it is at that moment; table updates emit nothing, as in
//! Kafka Streams. The table must be materialized (a `builder.table(…)` or an aggregation).

use std::rc::Rc;
use std::sync::Arc;

use super::ktable::StoreRef;
use super::{KStream, KTable, add_child};
use crate::state::TypedStore;
use crate::topology::{Record, forward};

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Each record joined with the table's current value for its key; records whose key the
    /// table lacks are dropped (an inner join).
    ///
    /// # Panics
    /// When `table` is not materialized in a store.
    pub fn join<VT: Clone + 'static, VR: Clone + 'static>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.join_table(table, "KSTREAM-JOIN", move |v, t: Option<&VT>| {
            t.map(|t| joiner(v, t))
        })
    }

    /// Each record joined with the table's current value for its key, or `None` when the
    /// table lacks the key (a left join).
    ///
    /// # Panics
    /// When `table` is not materialized in a store.
    pub fn left_join<VT: Clone + 'static, VR: Clone + 'static>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        self.join_table(table, "KSTREAM-LEFTJOIN", move |v, t| Some(joiner(v, t)))
    }

    fn join_table<VT: Clone + 'static, VR: Clone + 'static>(
        &self,
        table: &KTable<K, VT>,
        kind: &str,
        joiner: impl Fn(&V, Option<&VT>) -> Option<VR> + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let store = table
            .store()
            .expect(
                "a stream-table join needs a materialized table (builder.table or an aggregation)",
            )
            .clone();
        self.lookup_join(store, kind, |key, _| key.clone(), joiner)
    }

    /// Each record joined with the value `store` holds for the key `key_of` picks (the
    /// stream–table and stream–GlobalKTable joins).
    pub(crate) fn lookup_join<LK: 'static, LV: 'static, VR: Clone + 'static>(
        &self,
        store: StoreRef<LK, LV>,
        kind: &str,
        key_of: impl Fn(&K, &V) -> LK + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&LV>) -> Option<VR> + Send + Sync + 'static,
    ) -> KStream<K, VR> {
        let (key_of, joiner) = (Arc::new(key_of), Arc::new(joiner));
        let global = self.node().topology.borrow().is_global_store(&store.name);
        if self.is_key_changed() && !global {
            self.node()
                .topology
                .borrow_mut()
                .unpartitioned_joins
                .push(format!("{kind} with table store '{}'", store.name));
        }
        let node = add_child::<K, V, K, VR>(
            &self.node().topology,
            self.node().node,
            kind,
            move |children, wiring| {
                let table = TypedStore::new(
                    wiring.store(&store.name),
                    store.key_serde.clone(),
                    store.value_serde.clone(),
                );
                let (key_of, joiner) = (key_of.clone(), joiner.clone());
                Rc::new(move |ctx, record: Record<K, V>| {
                    let current = match table.get(&key_of(&record.key, &record.value)) {
                        Ok(current) => current,
                        Err(e) => return ctx.fail(e),
                    };
                    if let Some(value) = joiner(&record.value, current.as_ref()) {
                        let out = Record {
                            key: record.key,
                            value,
                            timestamp: record.timestamp,
                            headers: record.headers,
                        };
                        forward(&children, ctx, out);
                    }
                })
            },
        );
        KStream::at(self.node().topology.clone(), node).key_changed(self.is_key_changed())
    }
}
