//! `process`: a user processor in the middle of a stream (Kafka Streams' Processor API,
//! `KStream#process(ProcessorSupplier, storeNames…)`). Each task gets its own processor from
//! the supplier; `init` hands it the state stores it named (added with
//! [`StreamsBuilder::add_state_store`]), and `process` may forward any number of records.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::{KStream, StreamsBuilder, add_child};
use crate::serdes::Serde;
use crate::state::{StoreHandle, TypedStore};
use crate::topology::{Record, forward};

/// A processor of records with keys `K` and values `V` that forwards records with keys `KO`
/// and values `VO` (Kafka Streams' `Processor<K, V, KO, VO>`).
pub trait Processor<K, V, KO, VO> {
    /// Called once per task before the first record, with the stores the processor named.
    fn init(&mut self, _context: &mut ProcessorInit) {}

    /// Handles one record; `forward` sends records downstream.
    fn process(&mut self, record: Record<K, V>, forward: &mut dyn FnMut(Record<KO, VO>));
}

/// What a processor gets at `init`: the stores it asked for.
pub struct ProcessorInit {
    stores: HashMap<String, StoreHandle>,
}

impl ProcessorInit {
    /// The key-value store `name` read and written through these serdes.
    ///
    /// # Panics
    /// When the processor did not name the store in `process`.
    pub fn key_value_store<K, V>(
        &self,
        name: &str,
        key_serde: impl Serde<K> + 'static,
        value_serde: impl Serde<V> + 'static,
    ) -> TypedStore<K, V> {
        let store = self
            .stores
            .get(name)
            .unwrap_or_else(|| panic!("the processor did not name store '{name}'"))
            .clone();
        TypedStore::new(store, Arc::new(key_serde), Arc::new(value_serde))
    }
}

impl StreamsBuilder {
    /// Registers a key-value store for processors (Kafka's `addStateStore`).
    pub fn add_state_store(&self, name: &str) {
        self.topology
            .borrow_mut()
            .add_store(name, crate::state::StoreOptions::default());
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Runs a processor from `supplier` (one per task) on each record, with access to
    /// `stores`.
    pub fn process<KO: Clone + 'static, VO: Clone + 'static, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<KO, VO>
    where
        P: Processor<K, V, KO, VO> + 'static,
    {
        let stores: Vec<String> = stores.iter().map(|s| s.to_string()).collect();
        let supplier = Arc::new(supplier);
        let node = add_child::<K, V, KO, VO>(
            &self.node().topology,
            self.node().node,
            "KSTREAM-PROCESSOR",
            move |children, wiring| {
                let mut init = ProcessorInit {
                    stores: stores
                        .iter()
                        .map(|s| (s.clone(), wiring.store(s)))
                        .collect(),
                };
                let mut processor = supplier();
                processor.init(&mut init);
                let processor = RefCell::new(processor);
                Rc::new(move |ctx, record: Record<K, V>| {
                    let mut out = Vec::new();
                    processor.borrow_mut().process(record, &mut |r| out.push(r));
                    for r in out {
                        forward(&children, ctx, r);
                    }
                })
            },
        );
        // A processor may forward any key: grouping after it repartitions.
        KStream::at(self.node().topology.clone(), node).key_changed(true)
    }
}
