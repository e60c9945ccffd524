//! `process`: a user processor in the middle of a stream (Kafka Streams' Processor API,
//! `KStream#process(ProcessorSupplier, storeNames…)`). Each task gets its own processor from
//! the supplier; `init` hands it the state stores it named (added with
//! [`StreamsBuilder::add_state_store`]) and lets it schedule punctuations on stream time or
//! wall-clock time; `process` and `punctuate` may forward any number of records.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::{KStream, StreamsBuilder, add_child};
use crate::serdes::Serde;
use crate::state::{StoreHandle, TypedStore};
use crate::topology::{ProcessorContext, PunctuationType, Record, forward};

/// A processor of records with keys `K` and values `V` that forwards records with keys `KO`
/// and values `VO` (Kafka Streams' `Processor<K, V, KO, VO>`).
pub trait Processor<K, V, KO, VO> {
    /// Called once per task before the first record, with the stores the processor named.
    fn init(&mut self, _context: &mut ProcessorInit) {}

    /// Handles one record; `forward` sends records downstream.
    fn process(&mut self, record: Record<K, V>, forward: &mut dyn FnMut(Record<KO, VO>));

    /// A punctuation the processor scheduled at `init` is due (Kafka's `Punctuator`);
    /// `forward` sends records downstream.
    fn punctuate(&mut self, _punctuation: Punctuation, _forward: &mut dyn FnMut(Record<KO, VO>)) {}
}

/// A due punctuation: which schedule ([`ProcessorInit::schedule`]'s answer), its type, and
/// the time it fired at (the stream time, or the wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Punctuation {
    /// The schedule's number, in the order the processor scheduled them (0, 1, …).
    pub schedule: usize,
    /// What drives it.
    pub kind: PunctuationType,
    /// The time it fired at, in milliseconds.
    pub timestamp: i64,
}

/// What a processor gets at `init`: the stores it asked for, and punctuation scheduling.
pub struct ProcessorInit {
    stores: HashMap<String, StoreHandle>,
    schedules: Vec<(PunctuationType, i64)>,
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

    /// Calls the processor's `punctuate` every `interval` of `kind` time (Kafka's
    /// `ProcessorContext#schedule`): on stream time, aligned to multiples of the interval and
    /// first with the first record; on wall-clock time, first `interval` from now. Returns
    /// the schedule's number.
    pub fn schedule(&mut self, interval: std::time::Duration, kind: PunctuationType) -> usize {
        let ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        self.schedules.push((kind, ms));
        self.schedules.len() - 1
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
                    schedules: Vec::new(),
                };
                let mut processor = supplier();
                processor.init(&mut init);
                let processor = Rc::new(RefCell::new(processor));
                let children = Rc::new(children);
                for (schedule, (kind, interval)) in init.schedules.into_iter().enumerate() {
                    let (processor, children) = (processor.clone(), children.clone());
                    let fire = move |ctx: &mut ProcessorContext, timestamp: i64| {
                        let mut out = Vec::new();
                        let punctuation = Punctuation {
                            schedule,
                            kind,
                            timestamp,
                        };
                        processor
                            .borrow_mut()
                            .punctuate(punctuation, &mut |r| out.push(r));
                        for r in out {
                            forward(&children, ctx, r);
                        }
                    };
                    wiring.schedule(kind, interval, Rc::new(fire));
                }
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

/// A record whose key a [`FixedKeyProcessor`] cannot change (Kafka's `FixedKeyRecord`,
/// KIP-820): only its value, timestamp and headers.
pub struct FixedKeyRecord<K, V> {
    key: K,
    /// The value.
    pub value: V,
    /// Event time, in milliseconds since the epoch.
    pub timestamp: i64,
    /// Headers.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl<K, V> FixedKeyRecord<K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> FixedKeyRecord<K, V2> {
        FixedKeyRecord {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }
}

/// A processor that maps values and keeps keys (Kafka's `FixedKeyProcessor`): grouping
/// after it needs no repartition.
pub trait FixedKeyProcessor<K, V, VO> {
    /// Handles one record; `forward` sends records (with its key) downstream.
    fn process(
        &mut self,
        record: FixedKeyRecord<K, V>,
        forward: &mut dyn FnMut(FixedKeyRecord<K, VO>),
    );
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Runs a processor from `supplier` (one per task) that sees each record's timestamp and
    /// headers and forwards values under the record's own key (Kafka's `processValues`).
    pub fn process_values<VO: Clone + 'static, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
    ) -> KStream<K, VO>
    where
        P: FixedKeyProcessor<K, V, VO> + 'static,
    {
        let supplier = Arc::new(supplier);
        let node = add_child::<K, V, K, VO>(
            &self.node().topology,
            self.node().node,
            "KSTREAM-PROCESSVALUES",
            move |children, _| {
                let processor = RefCell::new(supplier());
                Rc::new(move |ctx, record: Record<K, V>| {
                    let Record {
                        key,
                        value,
                        timestamp,
                        headers,
                    } = record;
                    let fixed = FixedKeyRecord {
                        key,
                        value,
                        timestamp,
                        headers,
                    };
                    let mut out = Vec::new();
                    processor.borrow_mut().process(fixed, &mut |r| out.push(r));
                    for r in out {
                        let record = Record {
                            key: r.key,
                            value: r.value,
                            timestamp: r.timestamp,
                            headers: r.headers,
                        };
                        forward(&children, ctx, record);
                    }
                })
            },
        );
        KStream::at(self.node().topology.clone(), node).key_changed(self.is_key_changed())
    }
}
