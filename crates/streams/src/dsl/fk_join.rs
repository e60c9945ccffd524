//! Foreign-key table–table joins (`KTable#join(other, foreignKeyExtractor, joiner)`, KIP-213):
//! each row of this table names a row of the other table by a foreign key taken from its
//! value. A change on this side is joined with the other table's row for its (new) foreign
//! key; a change on the other side is joined anew into every row of this table that points
//! at it. A row that loses its partner (inner join) or disappears becomes a deletion.
//!
//! Each task keeps an index from foreign key to the rows pointing at it, in key bytes.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use super::ktable::{Change, StoreRef};
use super::{KTable, add_child, merge_nodes};
use crate::serdes::SerdeError;
use crate::state::TypedStore;
use crate::topology::{ProcessorContext, Record, Wire, forward};

/// The joiner of a foreign-key join: `None` when no row results.
type FkJoiner<V, VO, VR> = Arc<dyn Fn(&V, Option<&VO>) -> Option<VR> + Send + Sync>;

/// What both sides of one task's foreign-key join share.
struct FkState<VR> {
    /// Foreign key bytes → this table's key bytes pointing at it.
    index: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
    /// This table's key bytes → the joined value last forwarded.
    emitted: HashMap<Vec<u8>, VR>,
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Rows joined with the other table's row their foreign key names; rows whose foreign
    /// key the other table lacks have no result.
    ///
    /// # Panics
    /// When either table is not materialized in a store.
    pub fn join_on_foreign_key<KO: Clone + 'static, VO: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.fk_join(
            other,
            foreign_key,
            Arc::new(move |v, o| o.map(|o| joiner(v, o))),
        )
    }

    /// Every row, joined with the other table's row its foreign key names when there is one.
    ///
    /// # Panics
    /// When either table is not materialized in a store.
    pub fn left_join_on_foreign_key<
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    >(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR> {
        self.fk_join(other, foreign_key, Arc::new(move |v, o| Some(joiner(v, o))))
    }

    fn fk_join<KO: Clone + 'static, VO: Clone + 'static, VR: Clone + 'static>(
        &self,
        other: &KTable<KO, VO>,
        foreign_key: impl Fn(&V) -> KO + Send + Sync + 'static,
        joiner: FkJoiner<V, VO, VR>,
    ) -> KTable<K, VR> {
        let mine = self
            .store()
            .expect("a foreign-key join needs materialized tables")
            .clone();
        let theirs = other
            .store()
            .expect("a foreign-key join needs materialized tables")
            .clone();
        let topology = self.node().topology.clone();
        let state_name = format!("KTABLE-FK-JOIN-STATE-{:010}", topology.borrow().nodes.len());
        let foreign_key = Arc::new(foreign_key);
        let this_side = {
            let (mine, theirs, joiner, name) = (
                mine.clone(),
                theirs.clone(),
                joiner.clone(),
                state_name.clone(),
            );
            add_child::<K, Change<V>, K, Change<VR>>(
                &topology,
                self.node().node,
                "KTABLE-FK-JOIN-THIS",
                move |children, wiring| {
                    let state = wiring.shared(&name, new_state::<VR>);
                    let other = typed(wiring.store(&theirs.name), &theirs);
                    let (mine, theirs) = (mine.clone(), theirs.clone());
                    let (foreign_key, joiner) = (foreign_key.clone(), joiner.clone());
                    Rc::new(move |ctx, record: Record<K, Change<V>>| {
                        let result = (|| -> Result<(Vec<u8>, Option<VR>), SerdeError> {
                            let key_bytes = mine.key_serde.serialize(&mine.name, &record.key)?;
                            let fk_of =
                                |v: &V| theirs.key_serde.serialize(&theirs.name, &foreign_key(v));
                            let old_fk = record.value.old.as_ref().map(fk_of).transpose()?;
                            let new_fk = record.value.new.as_ref().map(fk_of).transpose()?;
                            let mut state = state.borrow_mut();
                            if let Some(old) = &old_fk
                                && let Some(rows) = state.index.get_mut(old)
                            {
                                rows.remove(&key_bytes);
                            }
                            if let Some(new) = &new_fk {
                                state
                                    .index
                                    .entry(new.clone())
                                    .or_default()
                                    .insert(key_bytes.clone());
                            }
                            let joined = match &record.value.new {
                                Some(v) => {
                                    let partner = other.get(&foreign_key(v))?;
                                    joiner(v, partner.as_ref())
                                }
                                None => None,
                            };
                            Ok((key_bytes, joined))
                        })();
                        match result {
                            Ok((key_bytes, joined)) => {
                                let key = record.key.clone();
                                emit(
                                    &state,
                                    ctx,
                                    &children,
                                    key,
                                    key_bytes,
                                    joined,
                                    record.timestamp,
                                );
                            }
                            Err(e) => {
                                ctx.fail(e);
                            }
                        }
                    })
                },
            )
        };
        let other_side = {
            let name = state_name;
            add_child::<KO, Change<VO>, K, Change<VR>>(
                &topology,
                other.node().node,
                "KTABLE-FK-JOIN-OTHER",
                move |children, wiring| {
                    let state = wiring.shared(&name, new_state::<VR>);
                    let this = typed(wiring.store(&mine.name), &mine);
                    let (mine, theirs, joiner) = (mine.clone(), theirs.clone(), joiner.clone());
                    Rc::new(move |ctx, record: Record<KO, Change<VO>>| {
                        let rows: Vec<Vec<u8>> = {
                            let fk = match theirs.key_serde.serialize(&theirs.name, &record.key) {
                                Ok(fk) => fk,
                                Err(e) => {
                                    ctx.fail(e);
                                    return;
                                }
                            };
                            state
                                .borrow()
                                .index
                                .get(&fk)
                                .map(|rows| rows.iter().cloned().collect())
                                .unwrap_or_default()
                        };
                        for key_bytes in rows {
                            let looked_up = mine
                                .key_serde
                                .deserialize(&mine.name, &key_bytes)
                                .and_then(|key| Ok((this.get(&key)?, key)));
                            match looked_up {
                                Ok((Some(v), key)) => {
                                    let joined = joiner(&v, record.value.new.as_ref());
                                    emit(
                                        &state,
                                        ctx,
                                        &children,
                                        key,
                                        key_bytes,
                                        joined,
                                        record.timestamp,
                                    );
                                }
                                Ok((None, _)) => {}
                                Err(e) => {
                                    ctx.fail(e);
                                    return;
                                }
                            }
                        }
                    })
                },
            )
        };
        let out = merge_nodes::<K, Change<VR>>(&topology, this_side, other_side, "KTABLE-MERGE");
        KTable::at(topology, out, None)
    }
}

fn new_state<VR>() -> Rc<RefCell<FkState<VR>>> {
    Rc::new(RefCell::new(FkState {
        index: BTreeMap::new(),
        emitted: HashMap::new(),
    }))
}

fn typed<K, V>(store: crate::state::StoreHandle, at: &StoreRef<K, V>) -> TypedStore<K, V> {
    TypedStore::new(store, at.key_serde.clone(), at.value_serde.clone())
}

/// Forwards the row's new joined value (or its deletion, if it had one before).
fn emit<K: Clone, VR: Clone>(
    state: &Rc<RefCell<FkState<VR>>>,
    ctx: &mut ProcessorContext,
    children: &[Wire<K, Change<VR>>],
    key: K,
    key_bytes: Vec<u8>,
    joined: Option<VR>,
    timestamp: i64,
) {
    let old = {
        let mut state = state.borrow_mut();
        match &joined {
            Some(v) => state.emitted.insert(key_bytes, v.clone()),
            None => state.emitted.remove(&key_bytes),
        }
    };
    if joined.is_none() && old.is_none() {
        return;
    }
    let record = Record {
        key,
        value: Change { new: joined, old },
        timestamp,
        headers: Vec::new(),
    };
    forward(children, ctx, record);
}
