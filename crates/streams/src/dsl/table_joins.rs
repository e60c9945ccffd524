//! Table–table joins (`KTable#join`, `leftJoin`, `outerJoin`): an update on either side is
//! joined with the other side's current value for the key, and the result table's change
//! (new and old joined values) is forwarded, as in Kafka Streams. Both tables must be
//! materialized (a `builder.table(…)` or an aggregation).

use std::rc::Rc;
use std::sync::Arc;

use super::ktable::{Change, StoreRef};
use super::{KTable, add_child, merge_nodes};
use crate::state::TypedStore;
use crate::topology::{Record, forward};

/// Joins possibly-absent values of the two sides; `None`: no row (e.g. an inner join with one
/// side missing).
type RowJoiner<V1, V2, VR> = Arc<dyn Fn(Option<&V1>, Option<&V2>) -> Option<VR> + Send + Sync>;

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Rows whose key both tables have, joined.
    ///
    /// # Panics
    /// When either table is not materialized in a store.
    pub fn join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(&V, &V2) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.table_join(
            other,
            Arc::new(move |a, b| Some(joiner(a?, b?))),
            "KTABLE-JOIN",
        )
    }

    /// Every row of this table, joined with the other's value when it has one.
    ///
    /// # Panics
    /// When either table is not materialized in a store.
    pub fn left_join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(&V, Option<&V2>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.table_join(
            other,
            Arc::new(move |a, b| Some(joiner(a?, b))),
            "KTABLE-LEFTJOIN",
        )
    }

    /// Every row of either table, joined with the other's value when it has one.
    ///
    /// # Panics
    /// When either table is not materialized in a store.
    pub fn outer_join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<K, V2>,
        joiner: impl Fn(Option<&V>, Option<&V2>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.table_join(
            other,
            Arc::new(move |a, b| (a.is_some() || b.is_some()).then(|| joiner(a, b))),
            "KTABLE-OUTERJOIN",
        )
    }

    fn table_join<V2: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<K, V2>,
        joiner: RowJoiner<V, V2, VR>,
        kind: &str,
    ) -> KTable<K, VR> {
        let this_store = materialized(self);
        let other_store = materialized(other);
        let topology = self.node().topology.clone();
        // This side's updates, joined with the other's current value.
        let this_side = {
            let joiner = joiner.clone();
            let store = other_store;
            add_child::<K, Change<V>, K, Change<VR>>(
                &topology,
                self.node().node,
                kind,
                move |children, wiring| {
                    let other = typed(wiring.store(&store.name), &store);
                    let joiner = joiner.clone();
                    Rc::new(move |ctx, record: Record<K, Change<V>>| {
                        let current = match other.get(&record.key) {
                            Ok(v) => v,
                            Err(e) => {
                                ctx.fail(e);
                                return;
                            }
                        };
                        let change = Change {
                            new: joiner(record.value.new.as_ref(), current.as_ref()),
                            old: joiner(record.value.old.as_ref(), current.as_ref()),
                        };
                        send(&children, ctx, record.key, change, record.timestamp);
                    })
                },
            )
        };
        // The other side's updates, joined with this one's current value.
        let other_side = {
            let store = this_store;
            add_child::<K, Change<V2>, K, Change<VR>>(
                &topology,
                other.node().node,
                kind,
                move |children, wiring| {
                    let this = typed(wiring.store(&store.name), &store);
                    let joiner = joiner.clone();
                    Rc::new(move |ctx, record: Record<K, Change<V2>>| {
                        let current = match this.get(&record.key) {
                            Ok(v) => v,
                            Err(e) => {
                                ctx.fail(e);
                                return;
                            }
                        };
                        let change = Change {
                            new: joiner(current.as_ref(), record.value.new.as_ref()),
                            old: joiner(current.as_ref(), record.value.old.as_ref()),
                        };
                        send(&children, ctx, record.key, change, record.timestamp);
                    })
                },
            )
        };
        let out = merge_nodes::<K, Change<VR>>(&topology, this_side, other_side, "KTABLE-MERGE");
        KTable::at(topology, out, None)
    }
}

fn materialized<K: Clone + 'static, V: Clone + 'static>(table: &KTable<K, V>) -> StoreRef<K, V> {
    table
        .store()
        .expect("a table-table join needs materialized tables (builder.table or an aggregation)")
        .clone()
}

fn typed<K, V>(store: crate::state::StoreHandle, at: &StoreRef<K, V>) -> TypedStore<K, V> {
    TypedStore::new(store, at.key_serde.clone(), at.value_serde.clone())
}

/// Forwards a joined change unless it says nothing (no row before or after).
fn send<K: Clone, VR: Clone>(
    children: &[crate::topology::Wire<K, Change<VR>>],
    ctx: &mut crate::topology::ProcessorContext,
    key: K,
    change: Change<VR>,
    timestamp: i64,
) {
    if change.new.is_none() && change.old.is_none() {
        return;
    }
    let record = Record {
        key,
        value: change,
        timestamp,
        headers: Vec::new(),
    };
    forward(children, ctx, record);
}
