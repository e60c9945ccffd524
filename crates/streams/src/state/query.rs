//! Interactive queries: read-only views of a running application's stores, from any thread of
//! the same process (Kafka Streams' `KafkaStreams#store` with `QueryableStoreTypes`).
//!
//! A view spans the store in every task this instance runs (one per partition), as Kafka's
//! composite stores do: a key is looked up in each, listings are merged in key-byte order. It
//! holds the tasks it was made over; after a rebalance, ask the application for a new view.
//! Reads lock one task's store at a time, briefly; they see every update the stream thread
//! has applied, including ones not committed yet (Kafka's default for interactive queries).

use std::sync::Arc;

use super::{StoreHandle, lock};
use crate::serdes::{Serde, SerdeError, SharedSerde};
use crate::windowed::{TimeWindowedSerde, Window, Windowed};

/// A key-value store of an application, read as `K` → `V`.
pub struct ReadOnlyKeyValueStore<K, V> {
    name: String,
    stores: Vec<StoreHandle>,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> ReadOnlyKeyValueStore<K, V> {
    pub(crate) fn new(
        name: &str,
        stores: Vec<StoreHandle>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        ReadOnlyKeyValueStore {
            name: name.to_string(),
            stores,
            key_serde,
            value_serde,
        }
    }

    /// The value of `key`, if this instance has it.
    pub fn get(&self, key: &K) -> Result<Option<V>, SerdeError> {
        let key = self.key_serde.serialize(&self.name, key)?;
        for store in &self.stores {
            if let Some(bytes) = lock(store).get(&key) {
                return self.value_serde.deserialize(&self.name, bytes).map(Some);
            }
        }
        Ok(None)
    }

    /// Entries whose key bytes are in `[from, to]` (Kafka orders keys by their bytes), in
    /// that order.
    pub fn range(&self, from: &K, to: &K) -> Result<Vec<(K, V)>, SerdeError> {
        let (from, to) = (
            self.key_serde.serialize(&self.name, from)?,
            self.key_serde.serialize(&self.name, to)?,
        );
        self.collect(|store, out| {
            out.extend(
                store
                    .range(&from, &to)
                    .map(|(k, v)| (k.to_vec(), v.to_vec())),
            );
        })
    }

    /// Every entry, in key-byte order.
    pub fn all(&self) -> Result<Vec<(K, V)>, SerdeError> {
        self.collect(|store, out| {
            out.extend(store.all().map(|(k, v)| (k.to_vec(), v.to_vec())));
        })
    }

    /// How many entries (exact here; Kafka calls it approximate).
    pub fn approximate_num_entries(&self) -> u64 {
        self.stores.iter().map(|s| lock(s).len() as u64).sum()
    }

    fn collect(
        &self,
        each: impl Fn(&super::KeyValueStore, &mut Vec<(Vec<u8>, Vec<u8>)>),
    ) -> Result<Vec<(K, V)>, SerdeError> {
        let mut raw = Vec::new();
        for store in &self.stores {
            each(&lock(store), &mut raw);
        }
        raw.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        raw.into_iter()
            .map(|(k, v)| {
                Ok((
                    self.key_serde.deserialize(&self.name, &k)?,
                    self.value_serde.deserialize(&self.name, &v)?,
                ))
            })
            .collect()
    }
}

/// A time-windowed store of an application (what `windowed_by(TimeWindows)` aggregations
/// keep), read as `K` and window → `V`.
pub struct ReadOnlyWindowStore<K, V> {
    name: String,
    stores: Vec<StoreHandle>,
    key_serde: Arc<dyn Serde<K>>,
    windowed: TimeWindowedSerde<SharedSerde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> ReadOnlyWindowStore<K, V> {
    pub(crate) fn new(
        name: &str,
        stores: Vec<StoreHandle>,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
        window_size_ms: i64,
    ) -> Self {
        ReadOnlyWindowStore {
            name: name.to_string(),
            stores,
            windowed: TimeWindowedSerde::new(SharedSerde(key_serde.clone()), window_size_ms),
            key_serde,
            value_serde,
        }
    }

    /// `key`'s windows that start in `[time_from, time_to]`, oldest first (Kafka's
    /// `WindowStore#fetch(key, timeFrom, timeTo)`).
    pub fn fetch(
        &self,
        key: &K,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Window, V)>, SerdeError> {
        let key = self.key_serde.serialize(&self.name, key)?;
        let found = self.scan(time_from, time_to, |k| {
            k.len() == key.len() + 8 && k.starts_with(&key)
        })?;
        Ok(found.into_iter().map(|(w, v)| (w.window, v)).collect())
    }

    /// Every key's windows that start in `[time_from, time_to]`, by key bytes then start.
    pub fn fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<Vec<(Windowed<K>, V)>, SerdeError> {
        self.scan(time_from, time_to, |_| true)
    }

    /// Every window.
    pub fn all(&self) -> Result<Vec<(Windowed<K>, V)>, SerdeError> {
        self.fetch_all(i64::MIN, i64::MAX)
    }

    fn scan(
        &self,
        time_from: i64,
        time_to: i64,
        wanted: impl Fn(&[u8]) -> bool,
    ) -> Result<Vec<(Windowed<K>, V)>, SerdeError> {
        let mut raw = Vec::new();
        for store in &self.stores {
            let store = lock(store);
            for (k, v) in store.all() {
                let Some(start) = k
                    .len()
                    .checked_sub(8)
                    .map(|at| i64::from_be_bytes(k[at..].try_into().expect("8 bytes")))
                else {
                    continue;
                };
                if start >= time_from && start <= time_to && wanted(k) {
                    raw.push((k.to_vec(), v.to_vec()));
                }
            }
        }
        raw.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        raw.into_iter()
            .map(|(k, v)| {
                Ok((
                    self.windowed.deserialize(&self.name, &k)?,
                    self.value_serde.deserialize(&self.name, &v)?,
                ))
            })
            .collect()
    }
}
