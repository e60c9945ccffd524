//! The record cache in front of an aggregation's downstream (Kafka Streams' caching layer,
//! `statestore.cache.max.bytes`): updates of one key are compacted until the task commits
//! (or its caches grow past the limit), then the latest is forwarded with the old value from
//! before the first held-back update. With caching off, every update is forwarded at once.
//! The TopologyTestDriver flushes after every record, as Kafka's does, so tests see every
//! update either way.

use hashbrown::HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use super::ktable::Change;
use crate::topology::{ProcessorContext, Record, Wire, Wiring, forward};

/// Held-back updates in first-update order, one per key (by key bytes).
struct RecordCache<K, V> {
    slots: HashMap<Vec<u8>, usize>,
    records: Vec<Record<K, Change<V>>>,
}

/// Emits an aggregation's update: the key's bytes and the record.
pub(crate) type Emit<K, V> = Rc<dyn Fn(&mut ProcessorContext, Vec<u8>, Record<K, Change<V>>)>;

/// An emitter for the node being made: straight to `children`, or through a record cache
/// flushed when the task commits.
pub(crate) fn emitter<K: Clone + 'static, V: Clone + 'static>(
    wiring: &mut Wiring<'_>,
    caching: bool,
    children: Vec<Wire<K, Change<V>>>,
) -> Emit<K, V> {
    if !caching {
        return Rc::new(move |ctx, _, record| forward(&children, ctx, record));
    }
    let cache = Rc::new(RefCell::new(RecordCache {
        slots: HashMap::new(),
        records: Vec::new(),
    }));
    let held = cache.clone();
    wiring.on_flush(Rc::new(move |ctx| {
        let records = {
            let mut cache = held.borrow_mut();
            cache.slots.clear();
            std::mem::take(&mut cache.records)
        };
        for record in records {
            forward(&children, ctx, record);
        }
    }));
    Rc::new(move |_, key, record| {
        let mut cache = cache.borrow_mut();
        match cache.slots.get(&key) {
            Some(&i) => {
                let held = &mut cache.records[i];
                held.value.new = record.value.new;
                held.timestamp = record.timestamp;
                held.headers = record.headers;
            }
            None => {
                let at = cache.records.len();
                cache.slots.insert(key, at);
                cache.records.push(record);
            }
        }
    })
}
