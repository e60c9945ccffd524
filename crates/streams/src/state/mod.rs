//! State stores: the key-value store that aggregations, tables and joins keep their state in;
//! keys and values are stored as bytes (through the serdes the topology was given, as Kafka
//! Streams stores them), so that changelog topics and the local persistent copy
//! ([`local`]) hold the same bytes.
//!
//! Concurrency: a store belongs to one task and is written by its stream thread only; it sits
//! behind a mutex ([`StoreHandle`]) so that interactive queries can read it from other threads
//! (the lock is uncontended on the hot path).

pub mod local;
pub mod query;

use std::collections::BTreeMap;

// foldhash: std's SipHash costs more than the rest of a store update for short keys.
use hashbrown::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::serdes::{Serde, SerdeError};

/// A change written to a store's changelog: key bytes and value bytes (`None`: deleted).
pub type ChangelogEntry = (Vec<u8>, Option<Vec<u8>>);

/// How a store is kept (Kafka Streams' `Materialized` choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Kept on local disk too, so that a restart reads only the changelog's tail
    /// (`Stores.persistentKeyValueStore`); otherwise rebuilt from the whole changelog
    /// (`Stores.inMemoryKeyValueStore`).
    pub persistent: bool,
    /// Backed by a compacted changelog topic (`withLoggingEnabled`, the default).
    pub logging: bool,
    /// Updates of one key are compacted until the task commits, and only the latest is
    /// forwarded downstream (`withCachingEnabled`, the default).
    pub caching: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            persistent: true,
            logging: true,
            caching: true,
        }
    }
}

/// A store's entries: hashed (point lookups only: an aggregation's or a table's store) or
/// ordered (range and prefix scans on the hot path: session and sliding-window stores).
/// Listing a hashed store sorts its keys first, so both list in key-byte order.
#[derive(Debug)]
enum Entries {
    Hashed(HashMap<Vec<u8>, Vec<u8>>),
    Ordered(BTreeMap<Vec<u8>, Vec<u8>>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Hashed(HashMap::new())
    }
}

impl Entries {
    fn get(&self, key: &[u8]) -> Option<&Vec<u8>> {
        match self {
            Entries::Hashed(map) => map.get(key),
            Entries::Ordered(map) => map.get(key),
        }
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut Vec<u8>> {
        match self {
            Entries::Hashed(map) => map.get_mut(key),
            Entries::Ordered(map) => map.get_mut(key),
        }
    }

    fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) -> Option<Vec<u8>> {
        match self {
            Entries::Hashed(map) => map.insert(key, value),
            Entries::Ordered(map) => map.insert(key, value),
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        match self {
            Entries::Hashed(map) => map.remove(key),
            Entries::Ordered(map) => map.remove(key),
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Hashed(map) => map.len(),
            Entries::Ordered(map) => map.len(),
        }
    }

    /// Entries with keys in `[from, to]` (unbounded above without `to`), in key order.
    fn range<'s>(
        &'s self,
        from: &[u8],
        to: Option<&[u8]>,
    ) -> Box<dyn Iterator<Item = (&'s [u8], &'s [u8])> + 's> {
        let pair = |(k, v): (&'s Vec<u8>, &'s Vec<u8>)| (k.as_slice(), v.as_slice());
        match self {
            Entries::Ordered(map) => {
                let lower = std::ops::Bound::Included(from.to_vec());
                let upper = to.map_or(std::ops::Bound::Unbounded, |to| {
                    std::ops::Bound::Included(to.to_vec())
                });
                Box::new(map.range((lower, upper)).map(pair))
            }
            Entries::Hashed(map) => {
                let mut found: Vec<(&[u8], &[u8])> = map
                    .iter()
                    .filter(|(k, _)| k.as_slice() >= from && to.is_none_or(|to| k.as_slice() <= to))
                    .map(pair)
                    .collect();
                found.sort_unstable_by(|a, b| a.0.cmp(b.0));
                Box::new(found.into_iter())
            }
        }
    }
}

/// A key-value store of bytes, all in memory (listed in key-byte order). With logging on, the latest write of
/// each key since the last commit is kept until the runtime takes it
/// ([`KeyValueStore::take_changelog`]) and produces it to the store's changelog topic. With
/// persistence on, the keys written since the last save are remembered until the runtime
/// writes them to the local copy ([`KeyValueStore::take_unsaved`]).
#[derive(Debug, Default)]
pub struct KeyValueStore {
    name: String,
    entries: Entries,
    changelog: Option<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// Bytes of keys and values waiting in `changelog`.
    changelog_bytes: usize,
    unsaved: Option<HashSet<Vec<u8>>>,
}

impl KeyValueStore {
    /// An empty store called `name`.
    pub fn new(name: &str) -> Self {
        KeyValueStore {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// An empty store called `name` whose range and prefix scans are cheap (a session or
    /// sliding-window store).
    pub fn ordered(name: &str) -> Self {
        KeyValueStore {
            name: name.to_string(),
            entries: Entries::Ordered(BTreeMap::new()),
            ..Default::default()
        }
    }

    /// Makes range and prefix scans cheap from now on (keeps the entries).
    pub fn make_ordered(&mut self) {
        if let Entries::Hashed(map) = &mut self.entries {
            let entries = std::mem::take(map);
            self.entries = Entries::Ordered(entries.into_iter().collect());
        }
    }

    /// Keeps every later write as a changelog entry.
    pub fn enable_logging(&mut self) {
        self.changelog.get_or_insert_with(HashMap::new);
    }

    /// Remembers the keys of every later write until [`KeyValueStore::take_unsaved`].
    pub fn enable_saving(&mut self) {
        self.unsaved.get_or_insert_with(HashSet::new);
    }

    /// The latest change of each key written since the last call, in key order.
    pub fn take_changelog(&mut self) -> Vec<ChangelogEntry> {
        self.changelog_bytes = 0;
        let mut entries: Vec<ChangelogEntry> = self
            .changelog
            .as_mut()
            .map(|log| log.drain().collect())
            .unwrap_or_default();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// Bytes of the changelog entries waiting to be taken.
    pub fn changelog_bytes(&self) -> usize {
        self.changelog_bytes
    }

    /// The current value of each key written since the last call (`None`: deleted).
    pub fn take_unsaved(&mut self) -> Vec<ChangelogEntry> {
        let keys = self
            .unsaved
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        keys.into_iter()
            .map(|key| {
                let value = self.entries.get(&key).cloned();
                (key, value)
            })
            .collect()
    }

    /// Notes a write of `key` for the changelog and the local copy (reusing the buffers of a
    /// key written before: the hot path of an aggregation updates the same keys again and
    /// again).
    fn log(&mut self, key: &[u8], value: Option<&[u8]>) {
        Self::note(
            &mut self.changelog,
            &mut self.changelog_bytes,
            &mut self.unsaved,
            key,
            value,
        );
    }

    fn note(
        changelog: &mut Option<HashMap<Vec<u8>, Option<Vec<u8>>>>,
        changelog_bytes: &mut usize,
        unsaved: &mut Option<HashSet<Vec<u8>>>,
        key: &[u8],
        value: Option<&[u8]>,
    ) {
        if let Some(unsaved) = unsaved
            && !unsaved.contains(key)
        {
            unsaved.insert(key.to_vec());
        }
        if let Some(log) = changelog {
            let new_len = value.map_or(0, <[u8]>::len);
            match log.get_mut(key) {
                Some(slot) => {
                    let old_len = slot.as_ref().map_or(0, Vec::len);
                    match (slot.as_mut(), value) {
                        (Some(buffer), Some(value)) => {
                            buffer.clear();
                            buffer.extend_from_slice(value);
                        }
                        (_, value) => *slot = value.map(<[u8]>::to_vec),
                    }
                    *changelog_bytes = *changelog_bytes + new_len - old_len;
                }
                None => {
                    log.insert(key.to_vec(), value.map(<[u8]>::to_vec));
                    *changelog_bytes += key.len() + new_len;
                }
            }
        }
    }

    /// Forgets every entry (without logging: the local copy did not match the changelog).
    pub fn clear(&mut self) {
        self.entries = match self.entries {
            Entries::Hashed(_) => Entries::Hashed(HashMap::new()),
            Entries::Ordered(_) => Entries::Ordered(BTreeMap::new()),
        };
    }

    /// Applies a changelog entry without logging it (restoring from the changelog topic).
    /// With saving on, the key is remembered for the local copy: what a restore brings in
    /// must reach it before a later checkpoint says it has.
    pub fn restore(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if let Some(unsaved) = &mut self.unsaved
            && !unsaved.contains(&key)
        {
            unsaved.insert(key.clone());
        }
        match value {
            Some(value) => {
                self.entries.insert(key, value);
            }
            None => {
                self.entries.remove(&key);
            }
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Sets `key` to `value`; returns the previous value.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Option<Vec<u8>> {
        self.log(&key, Some(&value));
        self.entries.insert(key, value)
    }

    /// Sets `key` to the value `update` makes of its current one, with one lookup when the
    /// key exists (an aggregation's hot path); returns what `update` returned besides.
    pub fn update<R, E>(
        &mut self,
        key: Vec<u8>,
        update: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, R), E>,
    ) -> Result<R, E> {
        match self.entries.get_mut(&key) {
            Some(slot) => {
                let (value, result) = update(Some(slot))?;
                *slot = value;
                Self::note(
                    &mut self.changelog,
                    &mut self.changelog_bytes,
                    &mut self.unsaved,
                    &key,
                    Some(slot),
                );
                Ok(result)
            }
            None => {
                let (value, result) = update(None)?;
                self.log(&key, Some(&value));
                self.entries.insert(key, value);
                Ok(result)
            }
        }
    }

    /// Removes every key `expired` picks (logged like any delete); returns how many.
    pub fn delete_where(&mut self, expired: impl Fn(&[u8]) -> bool) -> usize {
        let keys: Vec<Vec<u8>> = match &self.entries {
            Entries::Hashed(map) => map.keys().filter(|k| expired(k)).cloned().collect(),
            Entries::Ordered(map) => map.keys().filter(|k| expired(k)).cloned().collect(),
        };
        for key in &keys {
            self.delete(key);
        }
        keys.len()
    }

    /// Removes `key`; returns its value.
    pub fn delete(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let old = self.entries.remove(key);
        if old.is_some() {
            self.log(key, None);
        }
        old
    }

    /// Every entry in key-byte order.
    pub fn all(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.range(&[], None)
    }

    /// Entries whose key bytes are in `[from, to]`, in key-byte order.
    pub fn range<'s>(
        &'s self,
        from: &[u8],
        to: &[u8],
    ) -> impl Iterator<Item = (&'s [u8], &'s [u8])> + use<'s> {
        self.entries.range(from, Some(to))
    }

    /// Entries whose key bytes start with `prefix`, in key-byte order.
    pub fn prefix_scan<'s>(
        &'s self,
        prefix: &'s [u8],
    ) -> impl Iterator<Item = (&'s [u8], &'s [u8])> {
        self.entries
            .range(prefix, None)
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }
}

/// A task's handle on a store, shared with interactive queries.
pub type StoreHandle = Arc<Mutex<KeyValueStore>>;

/// A new handle on `store`.
pub fn handle(store: KeyValueStore) -> StoreHandle {
    Arc::new(Mutex::new(store))
}

/// Locks a store (a panic while it was held does not make its contents unreadable: every
/// write is one whole map operation).
pub fn lock(store: &StoreHandle) -> MutexGuard<'_, KeyValueStore> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A store read and written as `K` → `V` through serdes.
pub struct TypedStore<K, V> {
    store: StoreHandle,
    /// The store's name: the "topic" its serdes are called with.
    name: Arc<str>,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> Clone for TypedStore<K, V> {
    fn clone(&self) -> Self {
        TypedStore {
            store: self.store.clone(),
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

impl<K, V> TypedStore<K, V> {
    /// `store` through these serdes.
    pub fn new(
        store: StoreHandle,
        key_serde: Arc<dyn Serde<K>>,
        value_serde: Arc<dyn Serde<V>>,
    ) -> Self {
        let name = Arc::from(lock(&store).name());
        TypedStore {
            store,
            name,
            key_serde,
            value_serde,
        }
    }

    fn topic(&self) -> &str {
        &self.name
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(topic, key)?;
        let store = lock(&self.store);
        store
            .get(&key)
            .map(|bytes| self.value_serde.deserialize(topic, bytes))
            .transpose()
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: &K, value: &V) -> Result<(), SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(topic, key)?;
        let value = self.value_serde.serialize(topic, value)?;
        lock(&self.store).put(key, value);
        Ok(())
    }

    /// Replaces `key`'s value with `update(current)`; returns the old and the new value.
    pub fn update(
        &self,
        key: &K,
        update: impl FnOnce(Option<&V>) -> V,
    ) -> Result<(Option<V>, V), SerdeError> {
        self.update_keyed(key, update)
            .map(|(_, old, new)| (old, new))
    }

    /// [`TypedStore::update`], also returning the key's bytes.
    pub fn update_keyed(
        &self,
        key: &K,
        update: impl FnOnce(Option<&V>) -> V,
    ) -> Result<(Vec<u8>, Option<V>, V), SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(topic, key)?;
        let mut store = lock(&self.store);
        let (old, new) = store.update(key.clone(), |current| {
            let old = current
                .map(|bytes| self.value_serde.deserialize(topic, bytes))
                .transpose()?;
            let new = update(old.as_ref());
            let value = self.value_serde.serialize(topic, &new)?;
            Ok::<_, SerdeError>((value, (old, new)))
        })?;
        Ok((key, old, new))
    }

    /// Removes `key`.
    pub fn delete(&self, key: &K) -> Result<(), SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(topic, key)?;
        lock(&self.store).delete(&key);
        Ok(())
    }

    /// Every entry, in key-byte order.
    pub fn all(&self) -> Result<Vec<(K, V)>, SerdeError> {
        let topic = self.topic();
        let store = lock(&self.store);
        store
            .all()
            .map(|(k, v)| {
                Ok((
                    self.key_serde.deserialize(topic, k)?,
                    self.value_serde.deserialize(topic, v)?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serdes::Serdes;

    #[test]
    fn a_hashed_store_lists_in_key_order_and_can_become_ordered() {
        let mut store = KeyValueStore::new("s");
        for key in [&b"b2"[..], b"a1", b"b1", b"c"] {
            store.put(key.to_vec(), key.to_vec());
        }
        let keys = |store: &KeyValueStore| -> Vec<Vec<u8>> {
            store.prefix_scan(b"b").map(|(k, _)| k.to_vec()).collect()
        };
        assert_eq!(keys(&store), [b"b1".to_vec(), b"b2".to_vec()]);
        store.make_ordered();
        assert_eq!(keys(&store), [b"b1".to_vec(), b"b2".to_vec()]);
        assert_eq!(store.range(b"a", b"b1").count(), 2);
        assert_eq!(store.len(), 4);
    }

    #[test]
    fn a_typed_store_keeps_bytes_in_key_order() {
        let store: StoreHandle = handle(KeyValueStore::new("counts"));
        let typed = TypedStore::new(
            store.clone(),
            Arc::new(Serdes::string()),
            Arc::new(Serdes::i64()),
        );
        typed.put(&"b".to_string(), &2).unwrap();
        typed.put(&"a".to_string(), &1).unwrap();
        assert_eq!(typed.get(&"a".to_string()).unwrap(), Some(1));
        assert_eq!(
            typed.all().unwrap(),
            vec![("a".to_string(), 1), ("b".to_string(), 2)]
        );
        assert_eq!(lock(&store).get(b"b"), Some(&2_i64.to_be_bytes()[..]));
        assert_eq!(lock(&store).range(b"a", b"a").count(), 1);
        typed.delete(&"a".to_string()).unwrap();
        assert_eq!(typed.get(&"a".to_string()).unwrap(), None);
        assert_eq!(lock(&store).len(), 1);
    }
}
