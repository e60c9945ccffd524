//! State stores: the key-value store that aggregations, tables and joins keep their state in;
//! keys and values are stored as bytes (through the serdes the topology was given, as Kafka
//! Streams stores them), so that changelog topics and the local persistent copy
//! ([`local`]) hold the same bytes.
//!
//! Concurrency: a store belongs to one task (`Rc<RefCell<…>>`), like the task's processors.

pub mod local;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

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

/// An ordered key-value store of bytes, all in memory. With logging on, the latest write of
/// each key since the last commit is kept until the runtime takes it
/// ([`KeyValueStore::take_changelog`]) and produces it to the store's changelog topic. With
/// persistence on, the keys written since the last save are remembered until the runtime
/// writes them to the local copy ([`KeyValueStore::take_unsaved`]).
#[derive(Debug, Default)]
pub struct KeyValueStore {
    name: String,
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    changelog: Option<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    /// Bytes of keys and values waiting in `changelog`.
    changelog_bytes: usize,
    unsaved: Option<BTreeSet<Vec<u8>>>,
}

impl KeyValueStore {
    /// An empty store called `name`.
    pub fn new(name: &str) -> Self {
        KeyValueStore {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// Keeps every later write as a changelog entry.
    pub fn enable_logging(&mut self) {
        self.changelog.get_or_insert_with(BTreeMap::new);
    }

    /// Remembers the keys of every later write until [`KeyValueStore::take_unsaved`].
    pub fn enable_saving(&mut self) {
        self.unsaved.get_or_insert_with(BTreeSet::new);
    }

    /// The latest change of each key written since the last call, in key order.
    pub fn take_changelog(&mut self) -> Vec<ChangelogEntry> {
        self.changelog_bytes = 0;
        self.changelog
            .as_mut()
            .map(|log| std::mem::take(log).into_iter().collect())
            .unwrap_or_default()
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

    fn log(&mut self, key: &[u8], value: Option<&[u8]>) {
        if let Some(unsaved) = &mut self.unsaved {
            unsaved.insert(key.to_vec());
        }
        if let Some(log) = &mut self.changelog {
            let added = key.len() + value.map_or(0, <[u8]>::len);
            match log.insert(key.to_vec(), value.map(<[u8]>::to_vec)) {
                Some(old) => {
                    self.changelog_bytes = self.changelog_bytes + value.map_or(0, <[u8]>::len)
                        - old.map_or(0, |v| v.len());
                }
                None => self.changelog_bytes += added,
            }
        }
    }

    /// Applies a changelog entry without logging it (restoring from the changelog topic).
    pub fn restore(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
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
        self.entries
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// Entries whose key bytes are in `[from, to]`.
    pub fn range<'s>(
        &'s self,
        from: &[u8],
        to: &[u8],
    ) -> impl Iterator<Item = (&'s [u8], &'s [u8])> + use<'s> {
        self.entries
            .range(from.to_vec()..=to.to_vec())
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// Entries whose key bytes start with `prefix`, in key-byte order.
    pub fn prefix_scan<'s>(
        &'s self,
        prefix: &'s [u8],
    ) -> impl Iterator<Item = (&'s [u8], &'s [u8])> {
        self.entries
            .range(prefix.to_vec()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A task's handle on a store.
pub type StoreHandle = Rc<RefCell<KeyValueStore>>;

/// A store read and written as `K` → `V` through serdes.
pub struct TypedStore<K, V> {
    store: StoreHandle,
    key_serde: Arc<dyn Serde<K>>,
    value_serde: Arc<dyn Serde<V>>,
}

impl<K, V> Clone for TypedStore<K, V> {
    fn clone(&self) -> Self {
        TypedStore {
            store: self.store.clone(),
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
        TypedStore {
            store,
            key_serde,
            value_serde,
        }
    }

    fn topic(&self) -> String {
        self.store.borrow().name.clone()
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(&topic, key)?;
        let store = self.store.borrow();
        store
            .get(&key)
            .map(|bytes| self.value_serde.deserialize(&topic, bytes))
            .transpose()
    }

    /// Sets `key` to `value`.
    pub fn put(&self, key: &K, value: &V) -> Result<(), SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(&topic, key)?;
        let value = self.value_serde.serialize(&topic, value)?;
        self.store.borrow_mut().put(key, value);
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
        let key = self.key_serde.serialize(&topic, key)?;
        let mut store = self.store.borrow_mut();
        let old = store
            .get(&key)
            .map(|bytes| self.value_serde.deserialize(&topic, bytes))
            .transpose()?;
        let new = update(old.as_ref());
        let value = self.value_serde.serialize(&topic, &new)?;
        store.put(key.clone(), value);
        Ok((key, old, new))
    }

    /// Removes `key`.
    pub fn delete(&self, key: &K) -> Result<(), SerdeError> {
        let topic = self.topic();
        let key = self.key_serde.serialize(&topic, key)?;
        self.store.borrow_mut().delete(&key);
        Ok(())
    }

    /// Every entry, in key-byte order.
    pub fn all(&self) -> Result<Vec<(K, V)>, SerdeError> {
        let topic = self.topic();
        let store = self.store.borrow();
        store
            .all()
            .map(|(k, v)| {
                Ok((
                    self.key_serde.deserialize(&topic, k)?,
                    self.value_serde.deserialize(&topic, v)?,
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
    fn a_typed_store_keeps_bytes_in_key_order() {
        let store: StoreHandle = Rc::new(RefCell::new(KeyValueStore::new("counts")));
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
        assert_eq!(store.borrow().get(b"b"), Some(&2_i64.to_be_bytes()[..]));
        assert_eq!(store.borrow().range(b"a", b"a").count(), 1);
        typed.delete(&"a".to_string()).unwrap();
        assert_eq!(typed.get(&"a".to_string()).unwrap(), None);
        assert_eq!(store.borrow().len(), 1);
    }
}
