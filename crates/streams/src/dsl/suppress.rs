//! `suppress`: holding a table's updates back and emitting only the latest per key once a
//! condition holds (Kafka Streams' `KTable#suppress`):
//! - until the window closes: one final result per window, once the stream time passes the
//!   window's end plus its grace (plus the gap, for sessions);
//! - until a time limit: a key's latest update once the stream time is `limit` past its first
//!   buffered update.
//!
//! Stream time is the largest timestamp the suppression has seen; nothing is emitted without
//! new records (as in Kafka Streams). The buffer is unbounded. When the suppressed table has
//! serdes (a table an aggregation or a source materialized), the buffer is also kept in a
//! changelogged store, `KTABLE-SUPPRESS-STATE-STORE-<n>`, and reloaded after the task moves,
//! so that a window's final result is neither lost nor emitted twice across a failover.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::ktable::Change;
use super::{KTable, add_child};
use crate::serdes::{Serde, SerdeError};
use crate::state::{StoreHandle, StoreOptions, lock};
use crate::topology::{Record, forward};
use crate::windowed::Windowed;

/// Key → (deadline, the buffered update).
type Buffer<K, V> = BTreeMap<K, (i64, Record<K, Change<V>>)>;

impl<K: Ord + Clone + 'static, V: Clone + 'static> KTable<Windowed<K>, V> {
    /// Only each window's final result, once the window has closed
    /// (`Suppressed.untilWindowCloses`).
    ///
    /// # Panics
    /// When the table is not the result of a windowed aggregation.
    pub fn suppress_until_window_closes(&self) -> KTable<Windowed<K>, V> {
        let close_after = self
            .close_after_ms()
            .expect("suppress_until_window_closes needs a windowed aggregation's table");
        self.suppress_with("KTABLE-SUPPRESS", move |key: &Windowed<K>, _| {
            key.window.end_ms.saturating_add(close_after)
        })
    }
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Each key's latest update, `limit_ms` of stream time after its first buffered one
    /// (`Suppressed.untilTimeLimit`).
    pub fn suppress_until_time_limit(&self, limit_ms: i64) -> KTable<K, V> {
        self.suppress_with("KTABLE-SUPPRESS", move |_, first_ts| {
            first_ts.saturating_add(limit_ms)
        })
    }

    /// Buffers updates per key until `deadline(key, first update's timestamp)` is reached by
    /// the stream time.
    fn suppress_with(
        &self,
        kind: &str,
        deadline: impl Fn(&K, i64) -> i64 + Send + Sync + 'static,
    ) -> KTable<K, V> {
        let deadline = Arc::new(deadline);
        let topology = self.node().topology.clone();
        let kept = self.store().map(|store| {
            let name = format!(
                "KTABLE-SUPPRESS-STATE-STORE-{:010}",
                topology.borrow().nodes.len()
            );
            let options = StoreOptions {
                caching: false,
                ..StoreOptions::default()
            };
            topology.borrow_mut().add_store(&name, options);
            (name, store.key_serde.clone(), store.value_serde.clone())
        });
        let node = add_child::<K, Change<V>, K, Change<V>>(
            &topology,
            self.node().node,
            kind,
            move |children, wiring| {
                let deadline = deadline.clone();
                let stream_time = Cell::new(i64::MIN);
                let buffer: RefCell<Buffer<K, V>> = RefCell::new(BTreeMap::new());
                let kept = kept
                    .as_ref()
                    .map(|(name, key_serde, value_serde)| KeptBuffer {
                        name: name.clone(),
                        store: wiring.store(name),
                        key_serde: key_serde.clone(),
                        value_serde: value_serde.clone(),
                    });
                let loaded = Cell::new(kept.is_none());
                Rc::new(move |ctx, record: Record<K, Change<V>>| {
                    if !loaded.get() {
                        loaded.set(true);
                        let restored = kept.as_ref().map_or(Ok(Vec::new()), KeptBuffer::load);
                        match restored {
                            Ok(entries) => buffer.borrow_mut().extend(entries),
                            Err(e) => return ctx.fail(e),
                        }
                    }
                    stream_time.set(stream_time.get().max(record.timestamp));
                    let written = {
                        let mut buffer = buffer.borrow_mut();
                        let key = record.key.clone();
                        match buffer.get_mut(&record.key) {
                            Some((_, buffered)) => {
                                // Keep the oldest old value, take the newest new one.
                                buffered.value.new = record.value.new;
                                buffered.timestamp = record.timestamp;
                            }
                            None => {
                                let due = deadline(&record.key, record.timestamp);
                                buffer.insert(record.key.clone(), (due, record));
                            }
                        }
                        match (&kept, buffer.get(&key)) {
                            (Some(kept), Some((due, buffered))) => kept.write(*due, buffered),
                            _ => Ok(()),
                        }
                    };
                    if let Err(e) = written {
                        return ctx.fail(e);
                    }
                    let now = stream_time.get();
                    let mut due: Vec<(i64, Record<K, Change<V>>)> = Vec::new();
                    buffer.borrow_mut().retain(|_, (at, record)| {
                        if *at <= now {
                            due.push((*at, record.clone()));
                            false
                        } else {
                            true
                        }
                    });
                    due.sort_by_key(|(at, _)| *at);
                    for (_, record) in due {
                        if let Some(kept) = &kept
                            && let Err(e) = kept.remove(&record.key)
                        {
                            return ctx.fail(e);
                        }
                        forward(&children, ctx, record);
                    }
                })
            },
        );
        KTable::at(topology, node, None)
    }
}

/// A suppression's buffer kept in a store: key bytes → deadline | timestamp | new value |
/// old value (each a 4-byte length, `u32::MAX` for none, and the bytes).
struct KeptBuffer<K, V> {
    /// The store's name: the "topic" its serdes are called with.
    name: String,
    store: StoreHandle,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K: Clone, V> KeptBuffer<K, V> {
    fn write(&self, due: i64, record: &Record<K, Change<V>>) -> Result<(), SerdeError> {
        let name = &self.name;
        let key = self.key_serde.serialize(name, &record.key)?;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&due.to_be_bytes());
        bytes.extend_from_slice(&record.timestamp.to_be_bytes());
        for value in [&record.value.new, &record.value.old] {
            match value {
                Some(v) => {
                    let v = self.value_serde.serialize(name, v)?;
                    bytes.extend_from_slice(&(v.len() as u32).to_be_bytes());
                    bytes.extend_from_slice(&v);
                }
                None => bytes.extend_from_slice(&u32::MAX.to_be_bytes()),
            }
        }
        lock(&self.store).put(key, bytes);
        Ok(())
    }

    fn remove(&self, key: &K) -> Result<(), SerdeError> {
        let key = self.key_serde.serialize(&self.name, key)?;
        lock(&self.store).delete(&key);
        Ok(())
    }

    /// The buffered updates restored from the changelog.
    #[allow(clippy::type_complexity)]
    fn load(&self) -> Result<Vec<(K, (i64, Record<K, Change<V>>))>, SerdeError> {
        let name = &self.name;
        let broken = || SerdeError::deserialize(name, "suppress buffer", "a truncated entry");
        let store = lock(&self.store);
        let mut out = Vec::new();
        for (key, bytes) in store.all() {
            let long = |at: usize| -> Result<i64, SerdeError> {
                let b = bytes.get(at..at + 8).ok_or_else(broken)?;
                Ok(i64::from_be_bytes(b.try_into().expect("8 bytes")))
            };
            let (due, timestamp) = (long(0)?, long(8)?);
            let mut at = 16;
            let mut values = [None, None];
            for value in &mut values {
                let len = bytes.get(at..at + 4).ok_or_else(broken)?;
                let len = u32::from_be_bytes(len.try_into().expect("4 bytes"));
                at += 4;
                if len != u32::MAX {
                    let v = bytes.get(at..at + len as usize).ok_or_else(broken)?;
                    *value = Some(self.value_serde.deserialize(name, v)?);
                    at += len as usize;
                }
            }
            let [new, old] = values;
            let key = self.key_serde.deserialize(name, key)?;
            let record = Record {
                key: key.clone(),
                value: Change { new, old },
                timestamp,
                headers: Vec::new(),
            };
            out.push((key, (due, record)));
        }
        Ok(out)
    }
}
